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
export { saveSafetensors, loadSafetensors, type SafetensorsFile } from './safetensors.js';
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
export const cuda = {
  isAvailable: (): boolean => native.cudaAvailable(),
  deviceCount: (): number => native.cudaDeviceCount(),
  synchronize: (): void => native.cudaSynchronize(),
};
export function libtorchVersion(): string {
  return native.version();
}
