export { native } from './native.js';
export { Tensor, op, opMulti, type DType, type Device, type TypedArray, type TensorLike } from './tensor.js';
export { tidy, keep, dispose } from './scope.js';
export { noGrad, enableGrad, isGradEnabled } from './autograd.js';
export * as F from './functional.js';
export {
  tensor,
  scalar,
  zeros,
  ones,
  full,
  empty,
  arange,
  linspace,
  randn,
  rand,
  randint,
  randperm,
  cat,
  stack,
  where,
  Generator,
} from './functional.js';
export * as nn from './nn.js';
export { Optimizer, Adam, AdamW, RMSprop, SGD, clipGradNorm, EMA } from './optim.js';
export { ConstantWarmup, CosineAnnealingWarmRestarts, SequentialSchedule, type LrSchedule } from './sched.js';
export { saveSafetensors, loadSafetensors, loadSafetensorsMetadata, type SafetensorsFile } from './safetensors.js';
export { ProcessGroup, distributedAvailable, type ProcessGroupOptions } from './distributed.js';
export {
  withAutocast,
  withoutAutocast,
  autocastState,
  mathMode,
  setMathMode,
  cudaMemoryStats,
  cudaResetPeak,
  type AutocastDeviceType,
  type AutocastDType,
  type MathMode,
  type CudaMemoryStats,
} from './precision.js';
import { native } from './native.js';

/** Intra-op threads used by libtorch (set from LODI_NUM_THREADS at load; default all cores). */
export function setNumThreads(n: number): void {
  native.setNumThreads(n);
}
export function getNumThreads(): number {
  return native.getNumThreads();
}
/** Number of tensors currently alive in the addon (for leak tests). */
export function liveTensors(): number {
  return native.liveTensors();
}
/**
 * Large CPU tensors (at least 128 KiB) are served by the addon from a cache of idle blocks, so a
 * loop that allocates the same sizes at every step neither faults pages in again nor grows.
 * `inUse`: bytes of large blocks held by live tensors; `cached`: idle bytes kept for reuse (at
 * most `limit`: twice the high-water mark `peak` of `inUse`, or LODI_CPU_CACHE_MB); `hits` /
 * `misses`: requests served from the cache / by mapping new memory. A loop whose memory does not
 * depend on its length stops adding misses after its first step. Null when LODI_MALLOC=system
 * (libtorch's own allocator and glibc's defaults).
 */
export interface MemoryStats {
  inUse: number;
  cached: number;
  peak: number;
  limit: number;
  hits: number;
  misses: number;
}
export function memoryStats(): MemoryStats | null {
  return native.memoryStats();
}
/** Returns the cached idle blocks to the system (e.g. after inference, before other large work). */
export function emptyCache(): void {
  native.emptyCache();
}
export const cuda = {
  isAvailable: (): boolean => native.cudaAvailable(),
  deviceCount: (): number => native.cudaDeviceCount(),
  synchronize: (): void => native.cudaSynchronize(),
};
/**
 * The device a user's choice names: 'auto' → 'cuda' when a CUDA device is visible, else 'cpu';
 * 'cpu'; 'cuda' or 'cuda:N' when that device is visible.
 *
 * @throws Error (one line) for any other name, or for CUDA on an engine or machine without it
 */
export function resolveDevice(choice: string): string {
  const n = cuda.isAvailable() ? cuda.deviceCount() : 0;
  if (choice === 'auto') return n > 0 ? 'cuda' : 'cpu';
  if (choice === 'cpu') return 'cpu';
  const m = /^cuda(?::(\d+))?$/.exec(choice);
  if (!m) throw new Error(`device '${choice}': expected cpu, cuda, cuda:N or auto`);
  if (n === 0)
    throw new Error(`device '${choice}': no CUDA device (libtorch ${native.version()} of this build ${native.cudaAvailable() ? 'sees none' : 'has no CUDA, or sees no device'}); use cpu, or build the addon against a CUDA libtorch (README)`);
  const i = m[1] === undefined ? 0 : Number(m[1]);
  if (i >= n) throw new Error(`device '${choice}': only ${n} CUDA device(s) visible (cuda:0 to cuda:${n - 1})`);
  return choice;
}
export function libtorchVersion(): string {
  return native.version();
}
