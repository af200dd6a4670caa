/**
 * HALOgen training data: worlds (dm.npy [N,N,N] + halos.npy [4,N,N,N]) cut into crop^3 sub-volumes
 * (64 per 256^3 box; floor(N/crop)^3 for other sizes), split 75/25 into training and validation by
 * sub-volume (seeded, recorded), augmented with the 48 cube symmetries, batched.
 */
import { F, Generator, Tensor, noGrad, tidy } from '@lodi/torch';
import { haloChannels, readWorld, type WorldGrids } from '../io/world.js';
import { applySymmetry, NUM_SYMMETRIES } from '../field/symmetry.js';
import { extractSubvolume } from '../field/ops.js';
import { Rng } from '../util/rng.js';
import type { HalogenDataConfig } from './config.js';

/** Reads the DM and halo grids of a world directory (io/world.ts checks that they agree). */
export function loadHalogenWorld(dir: string): WorldGrids {
  return readWorld(dir, { members: ['dm', 'halos'] });
}

/** log10(ρ_DM / <ρ_DM> + offset) (or without the mean division), not yet standardised. */
export function logDm(dm: Float32Array, cfg: Pick<HalogenDataConfig, 'dmNormalise' | 'dmOffset'>): Float32Array {
  const mean = cfg.dmNormalise === 'box-mean' ? boxMean(sumF32(dm, 0), dm.length) : 1;
  return logDmInto(dm, mean, cfg.dmOffset, new Float32Array(dm.length));
}

/** Float64 running sum of `values` added to `start`, in index order (so a box summed slab by slab gives the same sum). */
export function sumF32(values: Float32Array, start: number): number {
  let s = start;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s;
}

/** The box mean of a DM grid from its sum; throws when it is not positive (no density to normalise by). */
export function boxMean(sum: number, count: number): number {
  const mean = sum / count;
  if (!(mean > 0)) throw new Error('DM density has a non-positive mean');
  return mean;
}

/** out = log10(max(0, dm) / mean + offset) per voxel; `out` may be `dm` itself. */
export function logDmInto(dm: Float32Array, mean: number, offset: number, out: Float32Array): Float32Array {
  for (let i = 0; i < dm.length; i++) out[i] = Math.log10(Math.max(0, dm[i]!) / mean + offset);
  return out;
}

/** log10(ρ_h + offset) per voxel. */
export function logHalo(h: Float32Array, offset: number): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = Math.log10(Math.max(0, h[i]!) + offset);
  return out;
}

export interface SubVolume {
  world: number;
  /** Origin in voxels along x, y, z. */
  origin: [number, number, number];
}

/** floor(N/crop)^3 non-overlapping sub-volumes of each world, in x-major order. */
export function subVolumes(worldSizes: number[], crop: number): SubVolume[] {
  const out: SubVolume[] = [];
  worldSizes.forEach((n, w) => {
    const m = Math.floor(n / crop);
    if (m < 1) throw new Error(`world ${w}: ${n}^3 is smaller than one ${crop}^3 sub-volume`);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) for (let k = 0; k < m; k++) out.push({ world: w, origin: [i * crop, j * crop, k * crop] });
  });
  return out;
}

export interface Split {
  seed: number;
  trainFraction: number;
  /** Indices into `subVolumes(...)`. */
  train: number[];
  val: number[];
}

/** Seeded shuffle of the sub-volumes, first round(f·n) train (at least one of each when n ≥ 2). */
export function splitSubVolumes(count: number, trainFraction: number, seed: number): Split {
  const idx = new Rng(seed).shuffle(Array.from({ length: count }, (_, i) => i));
  let nTrain = Math.round(trainFraction * count);
  if (count >= 2) nTrain = Math.min(count - 1, Math.max(1, nTrain));
  const train = idx.slice(0, nTrain).sort((a, b) => a - b);
  const val = idx.slice(nTrain).sort((a, b) => a - b);
  return { seed, trainFraction, train, val };
}

export interface Normalisation {
  /** Mean and std of log10(ρ_DM/<ρ>+offset) over the training sub-volumes. */
  dmMean: number;
  dmStd: number;
  /** Per-channel mean and std of log10(ρ_h + offset) over the training sub-volumes (output affine map). */
  haloMean: number[];
  haloStd: number[];
  /** Per-channel loss thresholds T_c (log10 ρ_h percentile). */
  thresholds: number[];
}

export interface Sample {
  /** Sub-volume index, symmetry (0..47) and jitter offsets in voxels. */
  sv: number;
  sym: number;
  shift: [number, number, number];
}

/** Prepared worlds (log-transformed) + sub-volumes + split: produces batches as tensors. */
export class HalogenDataset {
  readonly subs: SubVolume[];
  private readonly x: Float32Array[] = [];
  private readonly y: Float32Array[] = [];
  readonly channels: number;
  readonly sizes: number[];

  constructor(
    worlds: WorldGrids[],
    readonly cfg: HalogenDataConfig,
    readonly split: Split,
    public norm?: Normalisation,
  ) {
    this.channels = haloChannels(worlds[0]!);
    for (const w of worlds) {
      if (!w.dm || !w.halos) throw new Error(`world ${w.dir ?? '(in memory)'}: HALOgen needs the dm and halos grids`);
      if (haloChannels(w) !== this.channels) throw new Error(`world ${w.dir}: ${haloChannels(w)} channels, expected ${this.channels}`);
      this.x.push(logDm(w.dm, cfg));
      this.y.push(logHalo(w.halos, cfg.haloOffset));
    }
    this.sizes = worlds.map((w) => w.grid);
    this.subs = subVolumes(this.sizes, cfg.crop);
  }

  /** Raw (unstandardised, unaugmented) crop of sub-volume `sv`. */
  cropOf(sv: number, shift: readonly number[] = [0, 0, 0]): { x: Float32Array; y: Float32Array } {
    const s = this.subs[sv]!;
    const n = this.sizes[s.world]!;
    const o = s.origin.map((v, d) => v + shift[d]!);
    return {
      x: extractSubvolume(this.x[s.world]!, n, o, this.cfg.crop),
      y: extractSubvolume(this.y[s.world]!, [this.channels, n, n, n], o, this.cfg.crop),
    };
  }

  /** Normalisation statistics and loss thresholds from the training sub-volumes. */
  computeNormalisation(percentile: number, thresholdsOf: (ys: Float32Array[], c: number, p: number) => number[]): Normalisation {
    let s = 0;
    let s2 = 0;
    let cnt = 0;
    const hs = new Array<number>(this.channels).fill(0);
    const hs2 = new Array<number>(this.channels).fill(0);
    const ys: Float32Array[] = [];
    for (const sv of this.split.train) {
      const { x, y } = this.cropOf(sv);
      for (let i = 0; i < x.length; i++) {
        s += x[i]!;
        s2 += x[i]! * x[i]!;
      }
      cnt += x.length;
      const v = y.length / this.channels;
      for (let c = 0; c < this.channels; c++)
        for (let i = c * v; i < (c + 1) * v; i++) {
          hs[c] += y[i]!;
          hs2[c] += y[i]! * y[i]!;
        }
      ys.push(y);
    }
    const dmMean = s / cnt;
    const dmStd = Math.sqrt(Math.max(1e-12, s2 / cnt - dmMean * dmMean));
    const haloMean = hs.map((a) => a / cnt);
    const haloStd = hs2.map((a, c) => Math.sqrt(Math.max(1e-6, a / cnt - haloMean[c]! ** 2)));
    const thresholds = thresholdsOf(ys, this.channels, percentile);
    this.norm = { dmMean, dmStd, haloMean, haloStd, thresholds };
    return this.norm;
  }

  /**
   * The shuffled sample list of one epoch, drawn from `gen` (whose state is checkpointed): every
   * training sub-volume `symmetriesPerEpoch` times with distinct random symmetries (all 48 when 48),
   * plus random jitter when configured.
   */
  epochSamples(gen: Generator): Sample[] {
    const k = this.cfg.symmetriesPerEpoch;
    const out: Sample[] = [];
    tidy(() => {
      for (const sv of this.split.train) {
        const syms = k >= NUM_SYMMETRIES ? Array.from({ length: NUM_SYMMETRIES }, (_, i) => i) : Array.from(F.randperm(NUM_SYMMETRIES, gen).toArray() as BigInt64Array, Number).slice(0, k);
        for (const sym of syms) {
          let shift: [number, number, number] = [0, 0, 0];
          if (this.cfg.jitter > 0) {
            const j = this.cfg.jitter;
            shift = Array.from(F.randint(-j, j + 1, [3], gen).toArray() as BigInt64Array, Number) as [number, number, number];
          }
          out.push({ sv, sym, shift });
        }
      }
    });
    const perm = tidy(() => Array.from(F.randperm(out.length, gen).toArray() as BigInt64Array, Number));
    return perm.map((i) => out[i]!);
  }

  /** Validation samples: every validation sub-volume once, untransformed. */
  valSamples(): Sample[] {
    return this.split.val.map((sv) => ({ sv, sym: 0, shift: [0, 0, 0] as [number, number, number] }));
  }

  /** Batch tensors: x [B,1,c,c,c] standardised, y [B,C,c,c,c] log10 ρ_h. */
  batch(samples: Sample[]): { x: Tensor; y: Tensor } {
    const norm = this.norm;
    if (!norm) throw new Error('HalogenDataset: normalisation not set');
    const c = this.cfg.crop;
    const v = c ** 3;
    const xb = new Float32Array(samples.length * v);
    const yb = new Float32Array(samples.length * this.channels * v);
    samples.forEach((s, b) => {
      const { x, y } = this.cropOf(s.sv, s.shift);
      const xs = s.sym ? applySymmetry(x, [c, c, c], s.sym) : x;
      const ys = s.sym ? applySymmetry(y, [this.channels, c, c, c], s.sym) : y;
      for (let i = 0; i < v; i++) xb[b * v + i] = (xs[i]! - norm.dmMean) / norm.dmStd;
      yb.set(ys, b * this.channels * v);
    });
    return noGrad(() => ({
      x: F.tensor(xb, [samples.length, 1, c, c, c]),
      y: F.tensor(yb, [samples.length, this.channels, c, c, c]),
    }));
  }
}

/** Splits a list into consecutive chunks of `size` (the last may be shorter). */
export function chunks<T>(xs: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}
