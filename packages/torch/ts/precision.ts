/**
 * Mixed precision and math modes: autocast regions (PyTorch's `torch.autocast`), the TF32 and cuDNN
 * switches of `torch.backends`, and the CUDA caching allocator's statistics. Generic: nothing here
 * knows about a model.
 */
import { native } from './native.js';

export type AutocastDeviceType = 'cpu' | 'cuda';
export type AutocastDType = 'bfloat16' | 'float16';

/** Autocast state of the calling thread for one device type. */
export function autocastState(deviceType: AutocastDeviceType): { enabled: boolean; dtype: string } {
  return native.autocastState(deviceType);
}

/**
 * Runs `fn` with autocast on for `deviceType` (as `with torch.autocast(device_type, dtype)`):
 * ops on tensors of that device type that autocast lists as safe in lower precision (convolutions,
 * matrix products, linear layers) run in `dtype` and return it; the rest keep their precision
 * (reductions, norms, softmax run in float32). The previous state is restored when `fn` returns
 * or throws; the cache of lower-precision weight copies is freed on leaving the outermost region.
 * Synchronous only: the state belongs to the thread, so `fn` must not be async.
 *
 * @throws TypeError for another device type or dtype; whatever `fn` throws
 */
export function withAutocast<T>(deviceType: AutocastDeviceType, dtype: AutocastDType, fn: () => T): T {
  const prev = native.autocastState(deviceType);
  native.setAutocast(deviceType, true, dtype);
  native.autocastNesting(1);
  try {
    const r = fn();
    if (r instanceof Promise) throw new TypeError('withAutocast: fn must be synchronous (autocast is a per-thread state)');
    return r;
  } finally {
    native.autocastNesting(-1);
    native.setAutocast(deviceType, prev.enabled, prev.dtype === 'float16' ? 'float16' : 'bfloat16');
  }
}

/**
 * Runs `fn` with autocast off for `deviceType` inside an autocast region (as `with
 * torch.autocast(device_type, enabled=False)`): the parts of a network that must stay in float32
 * (e.g. a diffusion model's time embedding) run in the precision of their inputs and weights; their
 * inputs may need `.float()`, since values made inside the region may be lower precision. Outside
 * a region it simply runs `fn`. The state is restored when `fn` returns or throws.
 *
 * @throws TypeError for another device type; whatever `fn` throws
 */
export function withoutAutocast<T>(deviceType: AutocastDeviceType, fn: () => T): T {
  const prev = native.autocastState(deviceType);
  if (!prev.enabled) return fn();
  const dtype = prev.dtype === 'float16' ? 'float16' : 'bfloat16';
  native.setAutocast(deviceType, false, dtype);
  try {
    const r = fn();
    if (r instanceof Promise) throw new TypeError('withoutAutocast: fn must be synchronous (autocast is a per-thread state)');
    return r;
  } finally {
    native.setAutocast(deviceType, true, dtype);
  }
}

/**
 * Process-wide math switches of the CUDA backends (PyTorch's `torch.backends.cuda.matmul.
 * allow_tf32`, `torch.backends.cudnn.allow_tf32`, `torch.backends.cudnn.benchmark`): TF32 tensor
 * cores for float32 matrix products and convolutions (10-bit mantissa in the products, float32
 * accumulation), and cuDNN's autotuning of convolution algorithms for fixed shapes. They have no
 * effect on CPU tensors.
 */
export interface MathMode {
  allowTF32CuBLAS: boolean;
  allowTF32CuDNN: boolean;
  benchmarkCuDNN: boolean;
}
export function mathMode(): MathMode {
  return native.mathMode();
}
/** Sets the given switches; returns the previous mode (to restore it). */
export function setMathMode(m: Partial<MathMode>): MathMode {
  const prev = native.mathMode();
  native.setMathMode(m);
  return prev;
}

/**
 * Bytes of the CUDA caching allocator on device `index` (as `torch.cuda.memory_allocated`,
 * `max_memory_allocated`, `memory_reserved`, `max_memory_reserved`), or null on an engine built
 * without CUDA or a machine without a GPU.
 */
export interface CudaMemoryStats {
  allocated: number;
  allocatedPeak: number;
  reserved: number;
  reservedPeak: number;
}
export function cudaMemoryStats(index = 0): CudaMemoryStats | null {
  return native.cudaMemoryStats(index);
}
/** Restarts the peaks of `cudaMemoryStats` (as `torch.cuda.reset_peak_memory_stats`). */
export function cudaResetPeak(index = 0): void {
  native.cudaResetPeak(index);
}
