/**
 * Precision of a network's forward pass at inference. `float32`: everything in float32 (the
 * reference). `bfloat16`: the network inside an autocast region, as `torch.autocast` runs it:
 * convolutions and matrix products take bfloat16 operands (float32 accumulation) and return
 * bfloat16, so the activations between them are bfloat16; normalisations and the attention softmax
 * run in float32. The output comes back as float32, so that what the caller does with it (the
 * diffusion schedule and latent update, window averaging) runs in float32. Fast on GPUs with bfloat16 tensor
 * cores and on CPUs with AVX512-BF16/AMX; elsewhere the CPU emulates it and it is slower. Not the
 * default: rounding the weights to bfloat16 shifts the bundled LODI's ε̂ by a systematic ~1e-4–1e-3
 * (not only noise), which 50 ancestral steps carry into ⟨T_b⟩ low (BENCHMARKS.md, precision). The parts
 * of LODI's U-Net that carry most of that shift for almost none of the work (the time embedding and its
 * projections, the first and the last convolution) run in float32 inside the region (`inFloat32`).
 */
import { autocastState, tidy, withAutocast, withoutAutocast, type Tensor } from '@lodi/torch';

export type Precision = 'float32' | 'bfloat16';
/** What a user chooses: a precision, or 'auto' (resolved per device by `resolvePrecision`). */
export type PrecisionChoice = Precision | 'auto';
export const PRECISIONS: readonly Precision[] = ['float32', 'bfloat16'];

/** 'auto': bfloat16 on CUDA, float32 on the CPU (where its speed depends on the processor). */
export function resolvePrecision(choice: PrecisionChoice, device: string): Precision {
  if (choice === 'auto') return device.startsWith('cuda') ? 'bfloat16' : 'float32';
  return choice;
}

/**
 * Runs `forward` in `precision` on `device` ('cpu', 'cuda', 'cuda:N'): unchanged for float32; for
 * bfloat16, inside an autocast region of the device's type, with the output converted to float32.
 */
export function forwardIn(precision: Precision, device: string, forward: () => Tensor): Tensor {
  if (precision === 'float32') return forward();
  const out = withAutocast(device.startsWith('cuda') ? 'cuda' : 'cpu', 'bfloat16', forward);
  if (out.dtype === 'float32') return out;
  const f = out.float();
  out.dispose();
  return f;
}

/**
 * `fn(x)` in float32 even inside an autocast region (autocast off for x's device type, x converted to
 * float32 when it is not; as `with torch.autocast(device_type, enabled=False)`): for the small parts of
 * a network whose rounding to bfloat16 would bias its output. Outside a region simply `fn(x)`, so a
 * float32 forward pass is unchanged bit for bit.
 */
export function inFloat32(x: Tensor, fn: (x: Tensor) => Tensor): Tensor {
  const type = x.device.startsWith('cuda') ? 'cuda' : 'cpu';
  if (!autocastState(type).enabled) return fn(x);
  return withoutAutocast(type, () => tidy(() => fn(x.dtype === 'float32' ? x : x.float())));
}
