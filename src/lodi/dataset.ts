/**
 * LODI training data (LODI paper Sec. 2.3.2): crops of side `crop` (32) of T_b and the four
 * matching halo channels, from one or more worlds.
 *
 * Split: each world is divided into blocks of crop^3 voxels; a seeded 75/25 split of all blocks
 * decides which are for training and which validate. Validation crops are the validation blocks
 * themselves; a training crop may sit at any (periodic) origin as long as every block it touches
 * is a training block, so no training crop sees a validation voxel.
 *
 * Importance sub-sampling: a share `lowMassShare` of each batch is centred (with a random offset
 * inside the crop) on a voxel where the low-mass channels 0–1 reach log10 ρ_h ≥ importanceLog; the
 * rest are random crops that contain such a voxel in the high-mass channels 2–3 (rejection,
 * falling back to any training crop when a world has none). Each crop gets one of the 48 cube
 * symmetries at random. Every draw comes from one seeded Generator-like stream (`Rng`).
 */
import { applySymmetry } from '../field/symmetry.js';
import { WORLD_MEMBERS, haloChannels, readWorld } from '../io/world.js';
import type { LodiDataConfig } from './config.js';
import { haloForward, logStats, tbForward, type LodiNormalisation } from './transform.js';

/** The grids LODI trains on: T_b [N^3] (mK) and the halo channels [C,N^3]. */
export interface LodiPair {
  name: string;
  n: number;
  boxSize: number;
  redshift: number;
  tb: Float32Array;
  halos: Float32Array;
  channels: number;
  tbUnit: string;
  haloUnit: string;
  seed?: number;
  /** Gaussian smoothing radius of the maps [Mpc/h] when the world records it. */
  smoothingR: number | null;
  /** Halo-mass bin edges with their unit (Infinity for an open last bin). */
  massBins: { edges: number[]; unit: string } | null;
}

/**
 * Reads `tb.npy` and the halo channels of a world directory through the world format (errors name
 * the file and the field). `halosFile` (relative to `dir`, or absolute) replaces `halos.npy`, e.g.
 * HALOgen's prediction of the world's halos (`lodi predict-halos`), so that LODI learns from the
 * conditioning it will be given at generation; it is checked against world.json as halos.npy is.
 */
export function loadPair(dir: string, halosFile?: string): LodiPair {
  const w = readWorld(dir, { members: ['tb', 'halos'], ...(halosFile === undefined ? {} : { files: { halos: halosFile } }) });
  const seed = w.provenance.seed;
  return {
    name: dir,
    n: w.grid,
    boxSize: w.boxSize,
    redshift: w.redshift,
    tb: w.tb!,
    halos: w.halos!,
    channels: haloChannels(w),
    tbUnit: WORLD_MEMBERS.tb.unit,
    haloUnit: WORLD_MEMBERS.halos.unit,
    seed: typeof seed === 'number' ? seed : undefined,
    smoothingR: w.smoothingR ?? null,
    massBins: w.massBins ? { edges: [...w.massBins.edges], unit: w.massBins.unit } : null,
  };
}

/** Small seeded PRNG (mulberry32 over a 32-bit state) for data draws; the state is checkpointed. */
export class Rng {
  constructor(public state: number) {
    this.state = state >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.next() * n));
  }
}

export interface Block {
  world: number;
  /** Block index along x, y, z. */
  b: [number, number, number];
}

export interface LodiSplit {
  seed: number;
  blocksPerAxis: number[];
  train: Block[];
  val: Block[];
}

/** Seeded split of the crop^3 blocks of all worlds into training and validation blocks. */
export function splitBlocks(sides: number[], crop: number, trainFraction: number, seed: number): LodiSplit {
  const all: Block[] = [];
  const per = sides.map((n, w) => {
    const k = Math.floor(n / crop);
    if (k < 1) throw new Error(`world ${w}: side ${n} is smaller than the crop ${crop}`);
    for (let x = 0; x < k; x++) for (let y = 0; y < k; y++) for (let z = 0; z < k; z++) all.push({ world: w, b: [x, y, z] });
    return k;
  });
  const rng = new Rng(seed);
  for (let i = all.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  const nTrain = Math.max(1, Math.min(all.length - 1, Math.round(trainFraction * all.length)));
  if (all.length < 2) {
    throw new Error(
      `LODI needs at least two ${crop}^3 crop-sized blocks (one to train, one to validate); the world sides [${sides.join(', ')}] give ${all.length}: ` +
        'give more or larger worlds, or a preset with a smaller crop',
    );
  }
  return { seed, blocksPerAxis: per, train: all.slice(0, nTrain), val: all.slice(nTrain) };
}

/** Copies a periodic crop of side c at `origin` from a [C,N,N,N] array (C = channels) into `out`. */
export function cropPeriodic(src: Float32Array, channels: number, n: number, origin: readonly number[], c: number, out = new Float32Array(channels * c ** 3)): Float32Array {
  const n3 = n ** 3;
  const ix = Int32Array.from({ length: c }, (_, i) => (((origin[0]! + i) % n) + n) % n);
  const iy = Int32Array.from({ length: c }, (_, i) => (((origin[1]! + i) % n) + n) % n);
  const iz = Int32Array.from({ length: c }, (_, i) => (((origin[2]! + i) % n) + n) % n);
  let k = 0;
  for (let ch = 0; ch < channels; ch++)
    for (let x = 0; x < c; x++)
      for (let y = 0; y < c; y++) {
        const base = ch * n3 + (ix[x]! * n + iy[y]!) * n;
        for (let z = 0; z < c; z++) out[k++] = src[base + iz[z]!]!;
      }
  return out;
}

export interface Batch {
  /** Standardised T_b [B,1,c,c,c] and halo channels [B,C,c,c,c] (C order). */
  x: Float32Array;
  cond: Float32Array;
  size: number;
}

export class LodiDataset {
  readonly trainMask: Uint8Array[];
  /** Flat voxel indices of "important" voxels per world: low-mass (channels 0–1) and high-mass (2–3). */
  readonly lowIdx: Uint32Array[];
  readonly highIdx: Uint32Array[];
  constructor(
    readonly pairs: LodiPair[],
    readonly cfg: LodiDataConfig,
    readonly split: LodiSplit,
    readonly norm: LodiNormalisation,
  ) {
    this.trainMask = pairs.map((_p, w) => {
      const k = split.blocksPerAxis[w]!;
      const m = new Uint8Array(k ** 3);
      for (const b of split.train) if (b.world === w) m[(b.b[0] * k + b.b[1]) * k + b.b[2]] = 1;
      return m;
    });
    const thr = 10 ** cfg.importanceLog;
    const collect = (p: LodiPair, chans: number[]): Uint32Array => {
      const n3 = p.n ** 3;
      const out: number[] = [];
      for (let i = 0; i < n3; i++) if (chans.some((ch) => ch < p.channels && p.halos[ch * n3 + i]! >= thr)) out.push(i);
      return Uint32Array.from(out);
    };
    this.lowIdx = pairs.map((p) => collect(p, [0, 1]));
    this.highIdx = pairs.map((p) => collect(p, [2, 3]));
  }

  /** Measures the normalisation on the training blocks of the pairs (config floors applied). */
  static normalisation(pairs: LodiPair[], cfg: LodiDataConfig, split: LodiSplit): LodiNormalisation {
    const c = cfg.crop;
    const channels = pairs[0]!.channels;
    const tbVals: Float32Array[] = [];
    const haloVals: Float32Array[][] = Array.from({ length: channels }, () => []);
    for (const b of split.train) {
      const p = pairs[b.world]!;
      const o = b.b.map((v) => v * c);
      tbVals.push(cropPeriodic(p.tb, 1, p.n, o, c));
      const h = cropPeriodic(p.halos, channels, p.n, o, c);
      for (let ch = 0; ch < channels; ch++) haloVals[ch]!.push(h.subarray(ch * c ** 3, (ch + 1) * c ** 3));
    }
    let sum = 0;
    let k = 0;
    for (const a of tbVals)
      for (const v of a) {
        sum += Math.max(v, 0);
        k++;
      }
    const meanTb = sum / k;
    if (!(meanTb > 0)) throw new Error('LODI training data: the mean T_b of the training crops is not positive (all-zero T_b?)');
    const tbFloor = cfg.tbFloorFraction * meanTb;
    const flat = function* (arrs: Float32Array[]): Generator<number> {
      for (const a of arrs) yield* a;
    };
    const ts = logStats(flat(tbVals), tbFloor);
    const haloFloor = 10 ** cfg.haloFloorLog;
    const hs = haloVals.map((arrs) => logStats(flat(arrs), haloFloor));
    return {
      tbFloor,
      tbMean: ts.mean,
      tbStd: ts.std,
      haloFloor,
      haloMean: hs.map((s) => s.mean),
      haloStd: hs.map((s) => s.std),
      tbUnit: pairs[0]!.tbUnit,
      haloUnit: pairs[0]!.haloUnit,
    };
  }

  /** True when every block a crop at `origin` touches in world w is a training block. */
  private inTrain(w: number, origin: number[]): boolean {
    const c = this.cfg.crop;
    const p = this.pairs[w]!;
    const k = this.split.blocksPerAxis[w]!;
    const span = k * c;
    const axisBlocks = (o: number): number[] | null => {
      const a = ((o % p.n) + p.n) % p.n;
      const first = a;
      const last = a + c - 1;
      // crops wrapping past k*c (when N is not a multiple of c) would touch voxels of no block
      if (last >= span && p.n !== span) return null;
      const b0 = Math.floor(first / c) % k;
      const b1 = Math.floor((last % span) / c) % k;
      return b0 === b1 ? [b0] : [b0, b1];
    };
    const bx = axisBlocks(origin[0]!);
    const by = axisBlocks(origin[1]!);
    const bz = axisBlocks(origin[2]!);
    if (!bx || !by || !bz) return false;
    const m = this.trainMask[w]!;
    for (const x of bx) for (const y of by) for (const z of bz) if (!m[(x * k + y) * k + z]) return false;
    return true;
  }

  /** A training crop origin centred (random offset) on one of the given voxels, or null after tries. */
  private originAround(w: number, idx: Uint32Array, rng: Rng, tries = 32): number[] | null {
    if (!idx.length) return null;
    const p = this.pairs[w]!;
    const c = this.cfg.crop;
    for (let t = 0; t < tries; t++) {
      const v = idx[rng.int(idx.length)]!;
      const pos = [Math.floor(v / (p.n * p.n)), Math.floor(v / p.n) % p.n, v % p.n];
      const o = pos.map((q) => q - rng.int(c));
      if (this.inTrain(w, o)) return o;
    }
    return null;
  }

  /** Any training crop origin (uniform over positions inside training blocks). */
  private anyOrigin(w: number, rng: Rng): number[] {
    const c = this.cfg.crop;
    const train = this.split.train.filter((b) => b.world === w);
    const blocks = train.length ? train : this.split.train;
    for (let t = 0; t < 64; t++) {
      const b = blocks[rng.int(blocks.length)]!;
      const o = b.b.map((q) => q * c + rng.int(c) - Math.floor(c / 2));
      if (this.inTrain(b.world === w ? w : b.world, o) && b.world === w) return o;
    }
    const b = blocks[rng.int(blocks.length)]!;
    return b.b.map((q) => q * c);
  }

  /** One training batch drawn from `rng` (importance sub-sampling + a random symmetry per crop). */
  trainBatch(rng: Rng, size = this.cfg.batchSize): Batch {
    const out: { w: number; o: number[] }[] = [];
    const worldsWithTrain = [...new Set(this.split.train.map((b) => b.world))];
    for (let i = 0; i < size; i++) {
      const w = worldsWithTrain[rng.int(worldsWithTrain.length)]!;
      const low = rng.next() < this.cfg.lowMassShare;
      let o: number[] | null = null;
      if (low) o = this.originAround(w, this.lowIdx[w]!, rng);
      else {
        // random training crops until one contains a high-mass voxel (at most 32 tries)
        o = this.originAround(w, this.highIdx[w]!, rng);
      }
      out.push({ w, o: o ?? this.anyOrigin(w, rng) });
    }
    return this.assemble(out, () => rng.int(48));
  }

  /** The validation crops (the validation blocks), in batches, identity symmetry. */
  valBatches(batch: number, maxBatches = Infinity): Batch[] {
    const c = this.cfg.crop;
    const all = this.split.val.map((b) => ({ w: b.world, o: b.b.map((q) => q * c) }));
    const out: Batch[] = [];
    for (let i = 0; i < all.length && out.length < maxBatches; i += batch) out.push(this.assemble(all.slice(i, i + batch), () => 0));
    return out;
  }

  private assemble(items: { w: number; o: number[] }[], sym: () => number): Batch {
    const c = this.cfg.crop;
    const c3 = c ** 3;
    const C = this.pairs[0]!.channels;
    const x = new Float32Array(items.length * c3);
    const cond = new Float32Array(items.length * C * c3);
    items.forEach(({ w, o }, i) => {
      const p = this.pairs[w]!;
      const s = sym();
      const tb = applySymmetry(cropPeriodic(p.tb, 1, p.n, o, c), [c, c, c], s);
      const h = applySymmetry(cropPeriodic(p.halos, C, p.n, o, c), [C, c, c, c], s);
      tbForward(tb, this.norm, x.subarray(i * c3, (i + 1) * c3));
      haloForward(h, C, this.norm, cond.subarray(i * C * c3, (i + 1) * C * c3));
    });
    return { x, cond, size: items.length };
  }
}
