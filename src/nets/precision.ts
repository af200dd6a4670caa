/**
 * Precision of a network's forward pass at inference. `float32`: everything in float32 (the
 * reference). `bfloat16`: the network inside an autocast region, as `torch.autocast` runs it:
 * convolutions and matrix products take bfloat16 operands (float32 accumulation) and return
 * bfloat16, so the activations between them are bfloat16; normalisations and the attention softmax
 * run in float32. The output comes back as float32, so that what the caller does with it (the
 * diffusion schedule and latent update, window averaging) runs in float32. Fast on GPUs with bfloat16 tensor
 * cores and on CPUs with AVX512-BF16/AMX; elsewhere the CPU emulates it and it is slower. Not the
 * default: rounding the weights to bfloat16 shifts the bundled LODI's ε̂ by a systematic ~1e-4–1e-3
 * (not only noise), which 50 ancestral steps carry into ⟨T_b⟩ about 13% low (BENCHMARKS.md, precision).
 */
import { withAutocast, type Tensor } from '@lodi/torch';

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
