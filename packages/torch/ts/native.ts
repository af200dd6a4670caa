import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';

/** Raw handle of an `at::Tensor` owned by the addon. */
export interface NativeTensor {
  dispose(): void;
  isDisposed(): boolean;
  shape(): number[];
  dtype(): string;
  device(): string;
  numel(): number;
  nbytes(): number;
  requiresGrad(): boolean;
  setRequiresGrad(on: boolean): void;
  grad(): NativeTensor | null;
  setGrad(g: NativeTensor | null): void;
  backward(grad?: NativeTensor | null, retainGraph?: boolean): void;
  retainGrad(): void;
  isLeaf(): boolean;
  toTypedArray(): Float32Array | Float64Array | Int32Array | BigInt64Array | Int16Array | Int8Array | Uint8Array;
  view(): Float32Array | Float64Array | Int32Array | BigInt64Array | Int16Array | Int8Array | Uint8Array;
  item(): number | boolean;
  sameStorage(other: NativeTensor): boolean;
  copyFrom(data: ArrayBufferView): void;
}

export interface NativeGenerator {
  seed(seed: number): void;
  getState(): NativeTensor;
  setState(state: NativeTensor): void;
}

/** Counters of the addon's cache of large CPU blocks, in bytes (see `memoryStats()`). */
export interface NativeMemoryStats {
  inUse: number;
  cached: number;
  peak: number;
  limit: number;
  hits: number;
  misses: number;
}

/** c10d process group with the Gloo backend (present when the addon was built with Gloo). */
export interface NativeProcessGroup {
  allreduceSum(tensors: unknown[]): void;
  broadcast(tensors: unknown[], root: number): void;
  barrier(): void;
  close(): void;
}

export interface NativeProcessGroupOptions {
  rank: number;
  worldSize: number;
  /** Rendezvous file on a file system every rank sees (c10d FileStore) ... */
  file?: string;
  /** ... or the TCP store served by rank 0. */
  host?: string;
  port?: number;
  timeoutMs: number;
  /** Address Gloo binds to, or the network interface (default: the one the hostname resolves to). */
  deviceHost?: string;
  deviceInterface?: string;
}

export interface NativeAddon {
  TensorHandle: new (...args: never[]) => NativeTensor;
  ProcessGroupHandle?: new (o: NativeProcessGroupOptions) => NativeProcessGroup;
  GeneratorHandle: new (seed: number, device?: string) => NativeGenerator;
  call(op: string, args: unknown[], kwargs?: Record<string, unknown>): unknown;
  schema(op: string): string;
  fromTypedArray(data: ArrayBufferView, shape: number[], dtype?: string): NativeTensor;
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  manualSeed(seed: number): void;
  liveTensors(): number;
  memoryStats(): NativeMemoryStats | null;
  emptyCache(): void;
  cudaAvailable(): boolean;
  cudaDeviceCount(): number;
  cudaSynchronize(): void;
  autocastState(deviceType: string): { enabled: boolean; dtype: string };
  setAutocast(deviceType: string, enabled: boolean, dtype: string): void;
  autocastNesting(delta: 1 | -1): number;
  mathMode(): { allowTF32CuBLAS: boolean; allowTF32CuDNN: boolean; benchmarkCuDNN: boolean };
  setMathMode(m: { allowTF32CuBLAS?: boolean; allowTF32CuDNN?: boolean; benchmarkCuDNN?: boolean }): void;
  cudaMemoryStats(index: number): { allocated: number; allocatedPeak: number; reserved: number; reservedPeak: number } | null;
  cudaResetPeak(index: number): void;
  configInfo(): string;
  version(): string;
}

function locate(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'build', 'Release', 'lodi_torch.node'), join(here, '..', 'build', 'Debug', 'lodi_torch.node')];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new Error(
    `lodi_torch native addon not found (looked in ${candidates.join(', ')}). ` +
      `Build it with 'npm rebuild @lodi/torch' after installing libtorch (sudo apt-get install libtorch-dev libopenblas0-openmp), ` +
      `or set LIBTORCH=/path/to/libtorch for a CUDA build.`,
  );
}

// libtorch's OpenMP threads spin while waiting by default. When the cores are shared (other
// processes, worker threads, a busy CI machine) the spinning threads starve each other: a HALOgen
// forward pass measured 10x slower. Passive waiting costs little on an idle machine. It must be set
// before the addon (and with it libgomp) is loaded; a user's own setting wins.
process.env.OMP_WAIT_POLICY ??= 'PASSIVE';

const require = createRequire(import.meta.url);
export const native: NativeAddon = require(locate()) as NativeAddon;

function initThreads(): void {
  const env = process.env.LODI_NUM_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`LODI_NUM_THREADS must be a positive integer, got '${env}'`);
    native.setNumThreads(n);
  } else {
    native.setNumThreads(Math.max(1, availableCores()));
  }
}

/** Cores this process may use; respects CPU affinity (containers), unlike cpus().length. */
function availableCores(): number {
  return availableParallelism();
}

initThreads();
