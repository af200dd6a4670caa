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
import { extractSubvolume } from '../field/ops.js';
import { logDm } from './dataset.js';
import type { HalogenMeta } from './checkpoint.js';
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

/**
 * Applies `predict` to every periodic window of the [N,N,N] `input` and averages the overlapping
 * outputs; returns [C,N,N,N] (float32, accumulated in float64 so identical overlaps average exactly).
 */
export function slidingWindow(input: Float32Array, n: number, predict: Predictor, o: SlidingOptions): Float32Array {
  if (input.length !== n ** 3) throw new Error(`slidingWindow: input has ${input.length} values, expected ${n}^3`);
  if (o.crop < o.stride) throw new Error(`slidingWindow: stride ${o.stride} larger than the window ${o.crop} leaves gaps`);
  const c = o.crop;
  const C = o.channels;
  const n3 = n ** 3;
  const c3 = c ** 3;
  const acc = new Float64Array(C * n3);
  const count = new Uint32Array(n3);
  const origins = windowOrigins(n, o.stride);
  const windows: [number, number, number][] = [];
  for (const x of origins) for (const y of origins) for (const z of origins) windows.push([x, y, z]);
  const wrap = (v: number): number => ((v % n) + n) % n;
  const idx = (a: number): Int32Array => Int32Array.from({ length: c }, (_, i) => wrap(a + i));
  for (let start = 0; start < windows.length; start += o.batch) {
    const group = windows.slice(start, start + o.batch);
    const xb = new Float32Array(group.length * c3);
    group.forEach((w, b) => xb.set(extractSubvolume(input, n, w, c), b * c3));
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
        const base = ch * n3;
        for (let i = 0; i < c; i++) {
          const bi = xs[i]! * n;
          for (let j = 0; j < c; j++) {
            const bj = (bi + ys[j]!) * n;
            for (let k = 0; k < c; k++) {
              const t = bj + zs[k]!;
              acc[base + t] += yb[s++]!;
              if (ch === 0) count[t]!++;
            }
          }
        }
      }
    });
    o.onProgress?.(Math.min(windows.length, start + o.batch), windows.length);
  }
  const out = new Float32Array(C * n3);
  for (let ch = 0; ch < C; ch++) for (let t = 0; t < n3; t++) out[ch * n3 + t] = acc[ch * n3 + t]! / count[t]!;
  return out;
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
  onProgress?: (done: number, total: number) => void;
}

/** Predicts the halo channels of a DM box: log10 ρ_h averaged over windows, and the floored ρ_h. */
export function predictHalos(model: HalogenNet, meta: HalogenMeta, dm: Float32Array, n: number, o: PredictOptions = {}): { log: Float32Array; density: Float32Array } {
  const cfg = meta.config;
  const norm = meta.normalisation;
  const x = logDm(dm, cfg.data);
  for (let i = 0; i < x.length; i++) x[i] = (x[i]! - norm.dmMean) / norm.dmStd;
  model.eval();
  const log = slidingWindow(x, n, (t) => model.forward(t), {
    crop: cfg.data.crop,
    stride: o.stride ?? cfg.infer.stride,
    batch: o.batch ?? cfg.infer.batch,
    channels: cfg.model.outChannels,
    onProgress: o.onProgress,
  });
  return { log, density: toHaloDensity(log, cfg.data.haloOffset, o.floorLog ?? cfg.infer.floorLog) };
}
