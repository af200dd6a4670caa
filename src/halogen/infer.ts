/**
 * HALOgen inference on a periodic box of any size (LODI paper, Sec. 2.1.1): a crop^3 window slides
 * with a fixed stride (16) along each axis, wrapping periodically; overlapping predictions of
 * log10 ρ_h are averaged; finally voxels with averaged log10 ρ_h < floorLog (9.5) are set to ρ_h = 0.
 *
 * Window origins along an axis of N voxels are 0, s, 2s, ... < N; with crop ≥ stride every voxel is
 * covered (N need not be a multiple of the stride, nor of the crop; N < crop also works since the
 * windows wrap around the box).
 */
import { F, Tensor, noGrad, tidy } from '@lodi/torch';
import { logDm } from './dataset.js';
import type { HalogenMeta } from './checkpoint.js';
import { forwardIn, type Precision } from '../nets/precision.js';
import type { HalogenNet } from './model.js';

/** Maps a batch of standardised input windows [B,1,c,c,c] to predictions [B,C,c,c,c]. */
export type Predictor = (x: Tensor) => Tensor;

export function windowOrigins(n: number, stride: number): number[] {
  if (!(stride >= 1) || !Number.isInteger(stride)) throw new Error(`stride must be a positive integer, got ${stride}`);
  const out: number[] = [];
  for (let o = 0; o < n; o += stride) out.push(o);
  return out;
}

export interface SlidingOptions {
  crop: number;
  stride: number;
  /** Windows per predictor call. */
  batch: number;
  /** Output channels of the predictor. */
  channels: number;
  onProgress?: (done: number, total: number) => void;
}

/** Fills `out` [count][N][N] with the input's x-planes [x0, x0 + count) (x0 + count ≤ N). */
export type PlaneReader = (x0: number, count: number, out: Float32Array) => void;
/** Receives the finished output x-plane `x` as [C][N][N] (each plane once, in no fixed order). */
export type PlaneWriter = (x: number, plane: Float32Array) => void;

/**
 * Applies `predict` to every periodic window of the [N,N,N] `input` and averages the overlapping
 * outputs; returns [C,N,N,N] (float32, accumulated in float64 so identical overlaps average exactly).
 * In memory: `slidingWindowPlanes` over the array.
 */
export function slidingWindow(input: Float32Array, n: number, predict: Predictor, o: SlidingOptions): Float32Array {
  if (input.length !== n ** 3) throw new Error(`slidingWindow: input has ${input.length} values, expected ${n}^3`);
  const n2 = n * n;
  const n3 = n2 * n;
  const out = new Float32Array(o.channels * n3);
  slidingWindowPlanes(
    n,
    (x0, count, dst) => dst.set(input.subarray(x0 * n2, (x0 + count) * n2)),
    (x, plane) => {
      for (let ch = 0; ch < o.channels; ch++) out.set(plane.subarray(ch * n2, (ch + 1) * n2), ch * n3 + x * n2);
    },
    predict,
    o,
  );
  return out;
}

/**
 * The sliding window over a box streamed by x-planes: input is read one window's slab ([crop][N][N],
 * wrapped) at a time, and each output plane is written as soon as the last window covering it is done.
 * Memory: the slabs of one batch plus the float64 sums of the planes still open, below 3·crop
 * planes (the first planes wait for the windows that wrap around to them, the current origin's
 * crop is open, and a batch may reach into the next origin): O(crop N²), whatever the box size.
 * The windows, batches and order of the sums are those of a box held in memory, so the result is
 * the same to the bit.
 */
export function slidingWindowPlanes(n: number, read: PlaneReader, write: PlaneWriter, predict: Predictor, o: SlidingOptions): void {
  if (o.crop < o.stride) throw new Error(`slidingWindow: stride ${o.stride} larger than the window ${o.crop} leaves gaps`);
  const c = o.crop;
  const C = o.channels;
  const n2 = n * n;
  const c3 = c ** 3;
  const origins = windowOrigins(n, o.stride);
  const wrap = (v: number): number => ((v % n) + n) % n;
  const idx = (a: number): Int32Array => Int32Array.from({ length: c }, (_, i) => wrap(a + i));
  // windows covering each voxel = product of the per-axis coverages (a crop > N covers a plane twice)
  const cover = new Uint32Array(n);
  const lastOrigin = new Int32Array(n).fill(-1);
  origins.forEach((a, k) => {
    for (let i = 0; i < c; i++) {
      cover[wrap(a + i)]!++;
      lastOrigin[wrap(a + i)] = k;
    }
  });
  const windows: [number, number, number][] = [];
  for (const x of origins) for (const y of origins) for (const z of origins) windows.push([x, y, z]);
  const perOrigin = origins.length ** 2;
  const slabs = new Map<number, Float32Array>();
  const slab = (a: number): Float32Array => {
    let s = slabs.get(a);
    if (!s) {
      s = new Float32Array(c * n2);
      for (let i = 0; i < c; ) {
        const x = wrap(a + i);
        const run = Math.min(c - i, n - x);
        read(x, run, s.subarray(i * n2, (i + run) * n2));
        i += run;
      }
      slabs.set(a, s);
    }
    return s;
  };
  const open = new Map<number, Float64Array>();
  for (let start = 0; start < windows.length; start += o.batch) {
    const group = windows.slice(start, start + o.batch);
    const xb = new Float32Array(group.length * c3);
    group.forEach(([a, b0, c0], b) => {
      const s = slab(a);
      const ys = idx(b0);
      const zs = idx(c0);
      let t = b * c3;
      for (let i = 0; i < c; i++)
        for (let j = 0; j < c; j++) {
          const row = i * n2 + ys[j]! * n;
          for (let k = 0; k < c; k++) xb[t++] = s[row + zs[k]!]!;
        }
    });
    const yb = noGrad(() =>
      tidy(() => {
        const y = predict(F.tensor(xb, [group.length, 1, c, c, c]));
        if (y.shape.join(',') !== [group.length, C, c, c, c].join(',')) throw new Error(`predictor returned [${y.shape}], expected [${[group.length, C, c, c, c]}]`);
        return y.toFloat32Array();
      }),
    );
    group.forEach((w, b) => {
      const xs = idx(w[0]);
      const ys = idx(w[1]);
      const zs = idx(w[2]);
      for (let ch = 0; ch < C; ch++) {
        let s = (b * C + ch) * c3;
        for (let i = 0; i < c; i++) {
          let acc = open.get(xs[i]!);
          if (!acc) open.set(xs[i]!, (acc = new Float64Array(C * n2)));
          const base = ch * n2;
          for (let j = 0; j < c; j++) {
            const bj = base + ys[j]! * n;
            for (let k = 0; k < c; k++) acc[bj + zs[k]!] += yb[s++]!;
          }
        }
      }
    });
    // every window of the origins before `next` is done: write the planes no later window touches
    const done = start + group.length;
    const next = done === windows.length ? origins.length : Math.floor(done / perOrigin);
    for (const a of [...slabs.keys()]) if (done === windows.length || a !== origins[next]) slabs.delete(a);
    for (const x of [...open.keys()].sort((p, q) => p - q)) {
      if (lastOrigin[x]! >= next) continue;
      const acc = open.get(x)!;
      const plane = new Float32Array(C * n2);
      for (let ch = 0; ch < C; ch++)
        for (let y = 0; y < n; y++)
          for (let z = 0; z < n; z++) plane[ch * n2 + y * n + z] = acc[ch * n2 + y * n + z]! / (cover[x]! * cover[y]! * cover[z]!);
      open.delete(x);
      write(x, plane);
    }
    o.onProgress?.(Math.min(windows.length, done), windows.length);
  }
}

/** ρ_h = 10^y − offset where y ≥ floorLog, else 0 (never negative). */
export function toHaloDensity(logRho: Float32Array, offset: number, floorLog: number): Float32Array {
  const out = new Float32Array(logRho.length);
  for (let i = 0; i < logRho.length; i++) {
    const y = logRho[i]!;
    out[i] = y < floorLog ? 0 : Math.max(0, 10 ** y - offset);
  }
  return out;
}

export interface PredictOptions {
  stride?: number;
  batch?: number;
  floorLog?: number;
  /** Precision of the network (default float32; src/nets/precision.ts). */
  precision?: Precision;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The network as a predictor of host-built batches of windows: each is copied to the model's device
 * and its prediction (float32, also in bfloat16 `precision`: src/nets/precision.ts) read back by the caller.
 */
export function devicePredictor(model: HalogenNet, precision: Precision = 'float32'): (x: Tensor) => Tensor {
  const device = model.device;
  const run = (x: Tensor): Tensor => forwardIn(precision, device, () => model.forward(x));
  return device === 'cpu' ? run : (x) => tidy(() => run(x.to(device)));
}

/** The network's input: (log10 DM − dmMean) / dmStd per voxel, in place (after `logDm`/`logDmInto`). */
export function standardiseDm(x: Float32Array, norm: HalogenMeta['normalisation']): Float32Array {
  for (let i = 0; i < x.length; i++) x[i] = (x[i]! - norm.dmMean) / norm.dmStd;
  return x;
}

/** The window options of a model and the caller's overrides. */
export function slidingOptions(meta: HalogenMeta, o: PredictOptions): SlidingOptions {
  const cfg = meta.config;
  return {
    crop: cfg.data.crop,
    stride: o.stride ?? cfg.infer.stride,
    batch: o.batch ?? cfg.infer.batch,
    channels: cfg.model.outChannels,
    onProgress: o.onProgress,
  };
}

/** Predicts the halo channels of a DM box: log10 ρ_h averaged over windows, and the floored ρ_h. */
export function predictHalos(model: HalogenNet, meta: HalogenMeta, dm: Float32Array, n: number, o: PredictOptions = {}): { log: Float32Array; density: Float32Array } {
  const cfg = meta.config;
  const x = standardiseDm(logDm(dm, cfg.data), meta.normalisation);
  model.eval();
  const log = slidingWindow(x, n, devicePredictor(model, o.precision), slidingOptions(meta, o));
  return { log, density: toHaloDensity(log, cfg.data.haloOffset, o.floorLog ?? cfg.infer.floorLog) };
}
