/**
 * LODI generation over a box of any size (LODI paper Sec. 2.4, Algorithm 1): the box is covered by
 * crop^3 sub-volumes (src/lodi/planner.ts) generated stage by stage, each stage in batches, each
 * sub-volume by T ancestral steps conditioned on its halo channels.
 *
 * Methods:
 * - `overlap` (latent overlap): for a sub-volume whose region K was already written by an earlier
 *   stage, draw ε_known once (or fresh each step with `freshKnownNoise`) and at every step t set
 *   z_t[K] = α_t x_known + σ_t ε_known before the denoiser call (the overlap takes the noised
 *   already-generated values; the rest keeps the box's own latent). After the last step only the
 *   voxels not yet written are stored: no voxel of an earlier box ever changes. With `resample`
 *   J > 1 each step is repeated J times RePaint-style (Lugmayr et al. 2022): z_t is re-noised from
 *   z_s with q(z_t | z_s) = N(α_{t|s} z_s, σ_t² − α_{t|s}² σ_s²), α_{t|s} = α_t/α_s.
 * - `tiling`: independent sub-volumes; the first writer of a voxel wins.
 * - `average`: independent sub-volumes; overlapping voxels averaged (in the standardised space).
 * - `single`: the whole (periodic) box in one pass of the fully convolutional denoiser, no stitching:
 *   the reference for the stitching diagnostics (memory grows with the box; for small boxes).
 *
 * Randomness: every sub-volume has its own Generator seeded from (seed, box id) (`boxSeed`; realisation
 * r of a run has the seed seed + r), so the output depends on the seed only, not on the batch size or on
 * which boxes or realisations share a batch (up to the last bits of batched convolutions).
 *
 * Storage: `generateBoxes` generates any subset of one stage's boxes against a `StandardisedStore`
 * (where y lives) and a `CondSource` (where the conditioning comes from); `generateJobs` does the same
 * for the boxes of several maps (realisations: own seeds and stores, same conditioning) in shared
 * batches. `generateStandardised` (`generateStandardisedMany`) runs every stage on in-memory arrays; sharded and file-backed runs (src/pipeline/generate-shards.ts) run
 * the same function on work files (src/lodi/generate-file.ts), one stage share per process.
 */
import { F, Generator, noGrad, tidy, type Tensor } from '@lodi/torch';
import { boxAxisCoords, coverageCount, knownMask, planStages, writeMask, type Plan, type PlannedBox } from './planner.js';
import { haloForward, tbInverse, type LodiNormalisation } from './transform.js';
import type { LodiModel } from './vdm.js';
import { forwardIn, type Precision } from '../nets/precision.js';

/** The denoiser `ancestralStep` calls: the model's own in float32, else the U-Net in `precision`. */
function denoiserIn(model: LodiModel, precision: Precision | undefined): ((z: Tensor, gamma: Tensor, cond: Tensor) => Tensor) | undefined {
  if (!precision || precision === 'float32') return undefined;
  const device = model.device;
  return (z, gamma, cond) => forwardIn(precision, device, () => model.epsHat(z, gamma, cond));
}

export type GenerationMethod = 'overlap' | 'tiling' | 'average' | 'single';
export type NoiseSource = 'host' | 'device';

/**
 * The noise source a run uses: 'auto' is the device's own generators on CUDA; on the CPU every
 * choice is the host's generators (the device is the host), and is recorded as such.
 */
export function resolveNoise(choice: NoiseSource | 'auto', device: string): NoiseSource {
  if (!device.startsWith('cuda')) return 'host';
  return choice === 'auto' ? 'device' : choice;
}

/**
 * Per-sub-volume generators of the sampler, seeded with the boxes' stream seeds (`boxSeed`): on the model's
 * device for noise 'device', else on the CPU.
 */
function boxGenerators(streams: readonly number[], device: string, noise: NoiseSource | undefined): { gens: Generator[]; copy: boolean } {
  const onDevice = noise === 'device' && device !== 'cpu';
  return { gens: streams.map((s) => new Generator(s, onDevice ? device : 'cpu')), copy: !onDevice && device !== 'cpu' };
}

export interface GenerateOptions {
  method?: GenerationMethod;
  /** Treat the box as periodic (default true: simulation boxes are periodic). */
  periodic?: boolean;
  /** Overlap between sub-volumes in voxels (default 4). */
  overlap?: number;
  seed: number;
  /** Sub-volumes per denoiser call (default 8). */
  batch?: number;
  /** Draw ε_known afresh at every step instead of once per sub-volume. */
  freshKnownNoise?: boolean;
  /** Sampling steps (default: T of training, 50); more steps reduce the discrete-sampler variance deficit. */
  steps?: number;
  /** RePaint resampling: repeat each step J times (default 1 = no resampling). */
  resample?: number;
  /**
   * Precision of the denoiser (src/nets/precision.ts; default float32): with bfloat16 the U-Net runs
   * under autocast and ε̂ comes back as float32, so the schedule, the latent update and the overlap
   * replacement stay float32.
   */
  precision?: Precision;
  /**
   * Where the sampler draws its noise (default 'host'): 'host', from each sub-volume's seeded CPU
   * generator, copied to the model's device (a seed gives the same map on every device, to float
   * tolerance); 'device', from per-sub-volume generators on the model's device (no host work or copies
   * inside the sampling loop: what a GPU wants; a seed then gives one map per kind of device, since
   * CUDA's generator is another algorithm than the CPU's). The same on the CPU.
   */
  noise?: NoiseSource;
  /** Called after each batch: sub-volumes done, total, stage index. */
  onProgress?: (done: number, total: number, stage: number) => void;
}

/**
 * Deterministic 31-bit seed of a sub-volume (splitmix-style mixing of seed and box id). The products are taken
 * modulo 2^32 with Math.imul: a float64 product of a seed above ~3e6 with the 32-bit constant would pass 2^53 and
 * round its low bits, so that distinct large seeds could share box streams (below that the two agree exactly).
 */
export function boxSeed(seed: number, box: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) + Math.imul(box, 0x85ebca77) + 0x165667b1) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) & 0x7fffffff;
}

/** Flat indices into an [X, Y, Z] grid of a box's voxels given by per-axis coordinates, in box order (x, y, z). */
function boxOffsets(coords: readonly Int32Array[], size: readonly number[]): Int32Array {
  const [, Y, Z] = size as [number, number, number];
  const [cx, cy, cz] = coords as [Int32Array, Int32Array, Int32Array];
  const out = new Int32Array(cx.length * cy.length * cz.length);
  let k = 0;
  for (let i = 0; i < cx.length; i++)
    for (let j = 0; j < cy.length; j++) {
      const base = (cx[i]! * Y + cy[j]!) * Z;
      for (let l = 0; l < cz.length; l++) out[k++] = base + cz[l]!;
    }
  return out;
}

function gather(src: Float32Array, channels: number, size: readonly number[], coords: readonly Int32Array[], out: Float32Array): void {
  const per = size[0]! * size[1]! * size[2]!;
  const idx = boxOffsets(coords, size);
  let k = 0;
  for (let ch = 0; ch < channels; ch++) for (let v = 0; v < idx.length; v++) out[k++] = src[ch * per + idx[v]!]!;
}

/**
 * Where the standardised values y of a box being generated live: an in-memory array
 * (`generateStandardised`) or a work file shared by several processes (src/lodi/generate-file.ts).
 * Coordinates are the box's global voxel coordinates per axis (`boxAxisCoords`, wrapped).
 */
export interface StandardisedStore {
  /** The values at the box's voxels, box-local C order [x][y][z], into `out` (crop^3). */
  read(coords: readonly Int32Array[], out: Float32Array): void;
  /** Stores `vals` (box-local, crop^3) at the box-local voxels where `mask` is 1 (the box's `writeMask`). */
  write(coords: readonly Int32Array[], vals: Float32Array, mask: Uint8Array): void;
}

/** The standardised halo channels of a box, [C][crop][crop][crop], into `out` (C * crop^3). */
export type CondSource = (coords: readonly Int32Array[], out: Float32Array<ArrayBuffer>) => void;

/** `CondSource` over in-memory standardised channels [C, X, Y, Z]. */
export function memoryCond(cond: Float32Array, channels: number, size: readonly number[]): CondSource {
  return (coords, out) => gather(cond, channels, size, coords, out);
}

/** `StandardisedStore` over an in-memory y [X*Y*Z] (C order). */
export function memoryStore(y: Float32Array, size: readonly number[]): StandardisedStore {
  return {
    read: (coords, out) => gather(y, 1, size, coords, out),
    write: (coords, vals, mask) => scatterMasked(coords, vals, mask, y, size),
  };
}

/**
 * Samples B sub-volumes in one batched denoiser call sequence (T ancestral steps, latent overlap
 * on the known region when given) and returns x̂ [B * crop^3], standardised.
 *
 * @param boxIds plan ids of the boxes: box i draws all its noise from `Generator(boxSeed(seed, id))`.
 * @param cond standardised halo channels [B, C, crop, crop, crop].
 * @param known already generated values [B, crop^3] and their mask (1 = known), or null (no box
 *   of the batch has a known region, or the method ignores it).
 */
export function sampleBoxes(model: LodiModel, boxIds: readonly number[], cond: Float32Array, known: { values: Float32Array; mask: Float32Array } | null, o: GenerateOptions): Float32Array {
  return sampleStreams(
    model,
    boxIds.map((id) => boxSeed(o.seed, id)),
    cond,
    known,
    o,
  );
}

/**
 * `sampleBoxes` for boxes that need not share a seed (e.g. the same stage of several realisations in one
 * batch): box i draws all its noise from `Generator(streams[i])`, where streams[i] = boxSeed(its seed, its id).
 */
export function sampleStreams(model: LodiModel, streams: readonly number[], cond: Float32Array, known: { values: Float32Array; mask: Float32Array } | null, o: Omit<GenerateOptions, 'seed'>): Float32Array {
  const crop = model.cfg.data.crop;
  const C = model.cfg.net.condChannels;
  const B = streams.length;
  const T = o.steps ?? model.cfg.schedule.steps;
  const J = Math.max(1, o.resample ?? 1);
  // the model's device; each box's noise comes from its own seeded Generator, on the host and copied over
  // (noise 'host': a seed gives the same map on every device, to float tolerance) or on the device
  // (noise 'device'); only finished boxes come back
  const device = model.device;
  const { gens, copy } = boxGenerators(streams, device, o.noise);
  const denoiser = denoiserIn(model, o.precision);
  const randnBatch = (): Tensor =>
    tidy(() => {
      const e = F.cat(gens.map((g) => F.randn([1, 1, crop, crop, crop], g)), 0);
      return copy ? e.to(device) : e;
    });
  return noGrad(() =>
    tidy(() => {
      const condT = F.tensor(cond, [B, C, crop, crop, crop], { device });
      let z = randnBatch();
      const mask = known ? F.tensor(known.mask, [B, 1, crop, crop, crop], { device }) : null;
      const knownT = known ? F.tensor(known.values, [B, 1, crop, crop, crop], { device }) : null;
      // drawn for every box and method (used only by latent overlap), so each box's noise stream
      // is the same whichever boxes share its batch and whichever method runs
      let epsKnown: Tensor = randnBatch();
      // α_t, σ_t of every step read once, before any device work is queued (each read of the schedule's
      // parameters is a host-device sync on a GPU)
      const schedule = Array.from({ length: T + 1 }, (_, i) => model.alphaSigma(i, T));
      const replace = (zt: Tensor, i: number): Tensor => {
        if (o.freshKnownNoise) epsKnown = randnBatch();
        if (!mask || !knownT) return zt;
        const { alpha, sigma } = schedule[i]!;
        const noised = knownT.mul(alpha).add(epsKnown.mul(sigma));
        return zt.add(noised.sub(zt).mul(mask));
      };
      for (let i = T; i >= 1; i--) {
        for (let j = 0; j < J; j++) {
          const zs = tidy(() => model.ancestralStep(replace(z, i), condT, i, randnBatch(), denoiser, T));
          if (j < J - 1) {
            // RePaint: back from s to t with q(z_t | z_s)
            const t = schedule[i]!;
            const s = schedule[i - 1]!;
            const ats = t.alpha / s.alpha;
            const v = Math.max(t.sigma ** 2 - ats ** 2 * s.sigma ** 2, 0);
            const prev = z;
            z = tidy(() => zs.mul(ats).add(randnBatch().mul(Math.sqrt(v))));
            zs.dispose();
            prev.dispose();
          } else {
            z.dispose();
            z = zs;
          }
        }
      }
      return model.finalEstimate(z).toFloat32Array();
    }),
  );
}

/**
 * One sub-volume to generate: a box of the plan, the seed of the map it belongs to (its noise stream is
 * `boxSeed(seed, box.id)`) and the store of that map.
 */
export interface BoxJob {
  box: PlannedBox;
  seed: number;
  store: StandardisedStore;
}

/**
 * Generates `boxes` (all of one stage, or a share of one stage) of one map in batches of `o.batch`
 * (`generateJobs` with the seed `o.seed` and the store `store` for every box). `afterBatch` runs after
 * the batch's values were written (e.g. to make them durable and record the boxes as finished).
 */
export async function generateBoxes(
  model: LodiModel,
  plan: Plan,
  boxes: readonly PlannedBox[],
  cond: CondSource,
  store: StandardisedStore,
  o: GenerateOptions & { afterBatch?: (boxes: readonly PlannedBox[]) => void },
): Promise<void> {
  const after = o.afterBatch;
  await generateJobs(
    model,
    plan,
    boxes.map((box) => ({ box, seed: o.seed, store })),
    cond,
    { ...o, afterBatch: after && ((jobs) => after(jobs.map((j) => j.box))) },
  );
}

/**
 * Generates `jobs` (boxes of one stage, of one or several maps with the same conditioning) in batches
 * of `o.batch`: gathers each box's conditioning from `cond` and, for latent overlap, its known region
 * (`knownMask`) from its job's store; samples (each box from its own noise stream, `sampleStreams`);
 * writes each box's `writeMask` voxels into its job's store. `afterBatch` runs after the batch's values
 * were written (e.g. to make them durable and record the boxes as finished).
 *
 * The same stage of several realisations can so share a batch: a small box has few sub-volumes per
 * stage (a periodic 64^3 box: 27 stages of one 32^3 sub-volume) and a batch of one runs the CPU's
 * convolutions several times slower per sub-volume than a batch of several.
 *
 * Every box of a stage reads only voxels written by earlier stages, so the boxes of one stage may be
 * split among processes or batches in any way and the result depends on the seed only (up to the last
 * bits of batched convolutions).
 */
export async function generateJobs<J extends BoxJob>(
  model: LodiModel,
  plan: Plan,
  jobs: readonly J[],
  cond: CondSource,
  o: Omit<GenerateOptions, 'seed'> & { afterBatch?: (jobs: readonly J[]) => void },
): Promise<void> {
  const crop = model.cfg.data.crop;
  if (plan.box !== crop) throw new Error(`generateBoxes: plan box ${plan.box}, expected the model's crop ${crop}`);
  const C = model.cfg.net.condChannels;
  const method = o.method ?? 'overlap';
  if (method === 'single') throw new Error('generateBoxes: method single has no sub-volumes');
  // latent overlap reads what earlier stages wrote: one stage per call
  if (method === 'overlap' && jobs.some((j) => j.box.stage !== jobs[0]!.box.stage))
    throw new Error(`generateBoxes: latent overlap needs the boxes of one stage per call, got stages ${[...new Set(jobs.map((j) => j.box.stage))].join(', ')}`);
  const batchSize = Math.max(1, o.batch ?? 8);
  const c3 = crop ** 3;
  model.eval();
  for (let start = 0; start < jobs.length; start += batchSize) {
    const batch = jobs.slice(start, start + batchSize);
    const B = batch.length;
    const coords = batch.map((j) => boxAxisCoords(plan, j.box));
    const condArr = new Float32Array(B * C * c3);
    // realisations of one box share its conditioning: read once per box
    const first = new Map<number, number>();
    batch.forEach((j, i) => {
      const dst = condArr.subarray(i * C * c3, (i + 1) * C * c3);
      const k = first.get(j.box.id);
      if (k === undefined) {
        cond(coords[i]!, dst);
        first.set(j.box.id, i);
      } else dst.set(condArr.subarray(k * C * c3, (k + 1) * C * c3));
    });
    const masks = batch.map((j) => (method === 'overlap' ? knownMask(plan, j.box) : null));
    let known: { values: Float32Array; mask: Float32Array } | null = null;
    if (masks.some((m) => m?.some((v) => v === 1))) {
      known = { values: new Float32Array(B * c3), mask: new Float32Array(B * c3) };
      batch.forEach((j, i) => j.store.read(coords[i]!, known!.values.subarray(i * c3, (i + 1) * c3)));
      masks.forEach((m, i) => m && known!.mask.set(m, i * c3));
    }
    const xhat = sampleStreams(
      model,
      batch.map((j) => boxSeed(j.seed, j.box.id)),
      condArr,
      known,
      o,
    );
    batch.forEach((j, i) => j.store.write(coords[i]!, xhat.subarray(i * c3, (i + 1) * c3), writeMask(plan, j.box)));
    o.afterBatch?.(batch);
    o.onProgress?.(start + B, jobs.length, batch[0]!.box.stage);
    // let N-API finalizers of dead tensor handles run (they only run between event-loop turns)
    await new Promise<void>((r) => setImmediate(r));
  }
}

/**
 * Generates standardised T_b (the model's space) for halo channels `halos` [C, X, Y, Z]
 * (already transformed) and returns y [X*Y*Z].
 */
export async function generateStandardised(model: LodiModel, cond: Float32Array, size: [number, number, number], o: GenerateOptions): Promise<{ y: Float32Array; plan: Plan }> {
  const { ys, plan } = await generateStandardisedMany(model, cond, size, [o.seed], o);
  return { y: ys[0]!, plan };
}

/**
 * How many realisations to generate together (`generateStandardisedMany`, `generateJobs`): enough that
 * a stage of latent overlap (on average plan.boxes / plan.stages sub-volumes; all the boxes for tiling
 * and averaging) fills a batch of `batch`, and no more: more maps in flight only hold more memory and
 * lose more finished work when a run is killed. 1 for `single`.
 */
export function realisationsPerPass(plan: Plan, method: GenerationMethod, batch: number): number {
  if (method === 'single') return 1;
  const perGroup = method === 'overlap' ? plan.boxes.length / plan.stages.length : plan.boxes.length;
  return Math.max(1, Math.ceil(Math.max(1, batch) / perGroup));
}

/**
 * `generateStandardised` for several seeds (realisations) on the same conditioning: the same stage of
 * every realisation is generated in shared batches (`generateJobs`); map r equals
 * `generateStandardised` with seed `seeds[r]` (up to the last bits of batched convolutions). Returns
 * one y [X*Y*Z] per seed. `o.seed` is not used; `onProgress` counts the sub-volumes of all maps.
 */
export async function generateStandardisedMany(
  model: LodiModel,
  cond: Float32Array,
  size: [number, number, number],
  seeds: readonly number[],
  o: Omit<GenerateOptions, 'seed'>,
): Promise<{ ys: Float32Array[]; plan: Plan }> {
  const crop = model.cfg.data.crop;
  const C = model.cfg.net.condChannels;
  const method = o.method ?? 'overlap';
  if (method === 'single') {
    const ys: Float32Array[] = [];
    let plan: Plan | undefined;
    for (const [r, seed] of seeds.entries()) {
      const one = await singlePass(model, cond, size, { ...o, seed, onProgress: () => o.onProgress?.(r + 1, seeds.length, 0) });
      ys.push(one.y);
      plan = one.plan;
    }
    return { ys, plan: plan ?? planStages({ size, box: size[0], overlap: 0, periodic: false }) };
  }
  const plan = planStages({ size, box: crop, overlap: o.overlap ?? 4, periodic: o.periodic ?? true });
  const [X, Y, Z] = size;
  const total = X * Y * Z;
  const ys = seeds.map(() => new Float32Array(total));
  // average: every box adds all its values (the mask is ignored); divided by the coverage at the end
  const sums = method === 'average' ? seeds.map(() => new Float64Array(total)) : null;
  const stores: StandardisedStore[] = seeds.map((_, r) =>
    sums ? { read: () => undefined, write: (coords, vals) => accumulate(coords, vals, sums[r]!, size) } : memoryStore(ys[r]!, size),
  );
  let done = 0;
  const all = plan.boxes.length * seeds.length;
  // latent overlap reads what earlier stages wrote: stage by stage; the boxes of tiling and averaging are
  // independent (tiling's write masks come from the plan), so all of them go through the batches together
  const groups = method === 'overlap' ? plan.stages : [plan.stages.flat()];
  for (const group of groups) {
    const jobs = group.flatMap((box) => seeds.map((seed, r) => ({ box, seed, store: stores[r]! })));
    await generateJobs(model, plan, jobs, memoryCond(cond, C, size), {
      ...o,
      onProgress: (d, _n, si) => o.onProgress?.(done + d, all, si),
    });
    done += jobs.length;
  }
  if (sums) {
    const cov = coverageCount(plan);
    sums.forEach((acc, r) => {
      const y = ys[r]!;
      for (let v = 0; v < total; v++) y[v] = acc[v]! / cov[v]!;
    });
  }
  return { ys, plan };
}

/** The whole box as one periodic sub-volume (method `single`); the plan has one box. */
async function singlePass(model: LodiModel, cond: Float32Array, size: [number, number, number], o: GenerateOptions): Promise<{ y: Float32Array; plan: Plan }> {
  const [X, Y, Z] = size;
  const factor = 2 ** (model.cfg.net.widths.length - 1);
  if (X !== Y || Y !== Z || X % factor) throw new Error(`single-pass generation needs a cube whose side is a multiple of ${factor}, got [${size.join(', ')}]`);
  const C = model.cfg.net.condChannels;
  const T = o.steps ?? model.cfg.schedule.steps;
  const plan = planStages({ size, box: X, overlap: 0, periodic: false });
  const device = model.device;
  const { gens, copy } = boxGenerators([boxSeed(o.seed, 0)], device, o.noise);
  const gen = gens[0]!;
  const denoiser = denoiserIn(model, o.precision);
  model.eval();
  const y = noGrad(() =>
    tidy(() => {
      const noise = (): Tensor => tidy(() => (copy ? F.randn([1, 1, X, Y, Z], gen).to(device) : F.randn([1, 1, X, Y, Z], gen)));
      const condT = F.tensor(cond, [1, C, X, Y, Z], { device });
      let z = noise();
      for (let i = T; i >= 1; i--) {
        const prev = z;
        z = model.ancestralStep(z, condT, i, noise(), denoiser, T);
        prev.dispose();
      }
      return model.finalEstimate(z).toFloat32Array();
    }),
  );
  o.onProgress?.(1, 1, 0);
  await new Promise<void>((r) => setImmediate(r));
  return { y, plan };
}

function scatterMasked(coords: readonly Int32Array[], vals: Float32Array, mask: Uint8Array, y: Float32Array, size: readonly number[]): void {
  const idx = boxOffsets(coords, size);
  for (let k = 0; k < idx.length; k++) if (mask[k]) y[idx[k]!] = vals[k]!;
}

function accumulate(coords: readonly Int32Array[], vals: Float32Array, acc: Float64Array, size: readonly number[]): void {
  const idx = boxOffsets(coords, size);
  for (let k = 0; k < idx.length; k++) acc[idx[k]!]! += vals[k]!;
}

/**
 * T_b [mK] of shape [X*Y*Z] from halo channels ρ_h [C, X, Y, Z] (the grid's unit, as in training):
 * transforms the conditioning, generates, and inverts the T_b transform.
 *
 * @throws when `halos` does not hold C·X·Y·Z values.
 */
export async function generateTb(model: LodiModel, norm: LodiNormalisation, halos: Float32Array, size: [number, number, number], o: GenerateOptions): Promise<Float32Array> {
  return (await generateTbMany(model, norm, halos, size, [o.seed], o))[0]!;
}

/**
 * `generateTb` for several seeds (realisations) at once, their same stages in shared batches
 * (`generateStandardisedMany`): one T_b [mK] map [X*Y*Z] per seed.
 */
export async function generateTbMany(
  model: LodiModel,
  norm: LodiNormalisation,
  halos: Float32Array,
  size: [number, number, number],
  seeds: readonly number[],
  o: Omit<GenerateOptions, 'seed'>,
): Promise<Float32Array[]> {
  const C = model.cfg.net.condChannels;
  if (halos.length !== C * size[0] * size[1] * size[2])
    throw new Error(`generateTb: halo channels hold ${halos.length} values, expected [${C}, ${size.join(', ')}]`);
  const cond = haloForward(halos, C, norm);
  const { ys } = await generateStandardisedMany(model, cond, size, seeds, o);
  return ys.map((y) => tbInverse(y, norm));
}
