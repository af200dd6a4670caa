/**
 * `lodi generate` beyond one process: plan, stages, shards, finish (bookkeeping in src/lodi/shards.ts,
 * positional I/O in src/lodi/generate-file.ts).
 *
 * - `planSharded` (`--plan-only`): checks the inputs (halo grid finite, data contract), allocates the
 *   work directory `<out>.work/` (plan.json, y.npy of zeros, done/) under a temporary name and renames
 *   it into place.
 * - `runShard` (`--stage S --shard I/N`): generates the boxes of stage S that belong to shard I of N
 *   and are not yet recorded, reading the conditioning and the known overlap from disk and writing
 *   only each box's write-mask voxels; each batch is synced before its boxes are recorded, so a killed
 *   shard loses at most the batch it was working on. Refuses a stage whose earlier stages are not all
 *   recorded, and a model, halo grid or option that differs from the plan.
 * - `finishSharded` (`--finish`): once every box is recorded, converts y to T_b (`tbInverse`) chunk by
 *   chunk into the output `.npy` and its sidecar (the fields of `generateRun`'s), both through
 *   temporary names, and removes the work directory.
 * - `generateFileBacked`: all of it in one process (`lodi generate --file-backed`): memory bounded by a
 *   batch of boxes, whatever the size of the map, and a killed run continues with `--resume`;
 *   `generateFileBackedMany` for several realisations at once (one work directory each, the same stage
 *   of each in shared batches).
 *
 * Memory of every step is O(batch × C × crop^3) plus the model; the grids stay on disk.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolveDevice } from '@lodi/torch';
import { basename, dirname, join, resolve } from 'node:path';
import { gridSidecarText, sidecarPath } from '../io/grid.js';
import { contractProblems, loadLodi, type LoadedLodi } from '../lodi/checkpoint.js';
import {
  createZeroNpyF32,
  mapNpyF32,
  NpyVolume,
  readNpyLayout,
  scanNpy,
  sha256Stream,
  type NpyLayout,
} from '../io/npy-file.js';
import { fileCond, fileStore } from '../lodi/generate-file.js';
import { generateJobs, resolveNoise, type GenerationMethod, type NoiseSource } from '../lodi/generate.js';
import { planStages, type Plan } from '../lodi/planner.js';
import {
  describeMissing,
  fileStat,
  type FileStat,
  finishedBoxes,
  missingBefore,
  PLAN_FORMAT,
  PLAN_VERSION,
  planMismatch,
  readPlanFile,
  recordFinished,
  sameFileStat,
  shardBoxes,
  SHARDED_METHODS,
  stageIds,
  stagesMismatch,
  syncDir,
  workPaths,
  type Shard,
  type ShardedMethod,
  type ShardPlanFields,
  type ShardPlanFile,
} from '../lodi/shards.js';
import { tbInverse } from '../lodi/transform.js';
import { assertWritable, tempSibling } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { resolvePrecision, type PrecisionChoice } from '../nets/precision.js';
import { tbGridMeta } from './generate-meta.js';
import { OutputGuard } from './outputs.js';

export interface ShardedRunOptions {
  halos: string;
  model: string | LoadedLodi;
  /** Output T_b grid `tb.npy`; the work directory is `tb.work/` beside it. */
  out: string;
  method?: GenerationMethod;
  seed: number;
  batch?: number;
  periodic?: boolean;
  overlap?: number;
  steps?: number;
  resample?: number;
  freshKnownNoise?: boolean;
  /** Plan even if the halo grid breaks the model's data contract. */
  ignoreContract?: boolean;
  /** Plan: replace an existing work directory; finish: overwrite an existing output. */
  force?: boolean;
  /** Plan: keep an existing work directory whose plan matches (its finished boxes are kept). */
  resume?: boolean;
  quiet?: boolean;
  logFile?: string;
  command?: string;
  /** Where the denoiser runs: 'cpu' (default), 'cuda', 'cuda:N' or 'auto' (engine's `resolveDevice`); a loaded `model` stays where it is. */
  device?: string;
  /** The denoiser's precision (default float32; 'auto': bfloat16 on CUDA, float32 on the CPU; src/nets/precision.ts). */
  precision?: PrecisionChoice;
  /** Where the sampler draws its noise (default 'auto': the device's generators on CUDA, the host's on the CPU; src/lodi/generate.ts). */
  noise?: NoiseSource | 'auto';
  /** Realisation number recorded in the sidecar (default 0). */
  realization?: number;
}

/** The halo grid's sidecar fields generation uses. */
interface HaloSidecar {
  boxSize: number;
  redshift?: number;
  unit: string;
}

interface Inputs {
  loaded: LoadedLodi;
  /** Whether this call loaded the model (and disposes it). */
  own: boolean;
  halos: NpyLayout;
  halosMeta: HaloSidecar;
  /** The halo file's stat, taken before it was hashed. */
  halosStat: FileStat;
  fields: ShardPlanFields;
  paths: ReturnType<typeof workPaths>;
}

function readHaloSidecar(file: string, shape: readonly number[]): HaloSidecar {
  const side = sidecarPath(file);
  if (!existsSync(side))
    throw new Error(`${side}: not found; expected the sidecar of ${basename(file)} giving boxSize (Mpc/h) and unit`);
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(readFileSync(side, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${side}: invalid JSON (${(err as Error).message}); expected a JSON object with boxSize`);
  }
  if (typeof j?.boxSize !== 'number' || !(j.boxSize > 0))
    throw new Error(`${side}: boxSize: ${JSON.stringify(j?.boxSize)}, expected a positive number of Mpc/h`);
  if (Array.isArray(j.shape) && JSON.stringify(j.shape) !== JSON.stringify(shape))
    throw new Error(`${side}: shape: [${j.shape.join(', ')}], expected the .npy's [${shape.join(', ')}]`);
  return {
    boxSize: j.boxSize,
    redshift: typeof j.redshift === 'number' ? j.redshift : undefined,
    unit: typeof j.unit === 'string' ? j.unit : 'unknown',
  };
}

/**
 * The halo file's sha256 as recorded in the existing plan of `out` when the quick check finds the file unchanged
 * since planning (`ShardPlanFile.halosStat`), else null (no plan, an older plan, or a changed file: then it is hashed).
 */
function plannedHalosSha256(out: string, halos: string, now: FileStat): string | null {
  try {
    const plan = readPlanFile(workPaths(out).plan);
    return resolve(halos) === plan.halos && sameFileStat(plan.halosStat, now) ? plan.halosSha256 : null;
  } catch {
    return null;
  }
}

/**
 * Opens the model and the halo grid (header, sidecar, sha256; `checkFinite` also scans for NaN/Inf)
 * and resolves the options into the fields a plan records. Without `checkFinite` (a stage or finish
 * of an existing plan) the sha256 comes from the plan when the halo file passes the quick check.
 */
function openInputs(o: ShardedRunOptions, checkFinite: boolean): Inputs {
  const method = o.method ?? 'overlap';
  if (!(SHARDED_METHODS as readonly string[]).includes(method))
    throw new Error(
      `--method: ${method}, expected ${SHARDED_METHODS.join(' or ')} for file-backed or sharded generation (average sums every box covering a voxel; single has no sub-volumes)`,
    );
  if (!existsSync(o.halos))
    throw new Error(`${o.halos}: not found; expected halo channels [C,N,N,N] (.npy with sidecar)`);
  const halos = readNpyLayout(o.halos);
  const s = halos.shape;
  if (s.length !== 4 || s[1] !== s[2] || s[2] !== s[3] || s.some((n) => n < 1))
    throw new Error(`${o.halos}: shape: [${s.join(', ')}], expected halo channels [C, N, N, N]`);
  const halosMeta = readHaloSidecar(o.halos, s);
  const loaded = typeof o.model === 'string' ? loadLodi(o.model, resolveDevice(o.device ?? 'cpu')) : o.model;
  try {
    // the stat is taken before the hash, so a write during hashing leaves the plan's stat stale (hashed next time)
    const halosStat = fileStat(o.halos);
    const known = checkFinite ? null : plannedHalosSha256(o.out, o.halos, halosStat);
    const scan = known ? { sha256: known, firstNonFinite: -1 } : scanNpy(halos, checkFinite);
    if (scan.firstNonFinite >= 0)
      throw new Error(
        `${o.halos}: data: non-finite value at flat index ${scan.firstNonFinite}, expected finite halo channels`,
      );
    const C = loaded.model.cfg.net.condChannels;
    if (s[0] !== C) throw new Error(`${o.halos}: channels: ${s[0]} halo channels, expected the model's ${C}`);
    const fields: ShardPlanFields = {
      size: [s[1]!, s[2]!, s[3]!],
      crop: loaded.model.cfg.data.crop,
      overlap: o.overlap ?? 4,
      periodic: o.periodic ?? true,
      method: method as ShardedMethod,
      seed: o.seed,
      steps: o.steps ?? loaded.model.cfg.schedule.steps,
      resample: o.resample ?? 1,
      freshKnownNoise: o.freshKnownNoise === true,
      precision: resolvePrecision(o.precision ?? 'float32', loaded.model.device),
      noise: resolveNoise(o.noise ?? 'auto', loaded.model.device),
      modelSha256: sha256Stream(loaded.file),
      halosSha256: scan.sha256,
    };
    return { loaded, own: typeof o.model === 'string', halos, halosMeta, halosStat, fields, paths: workPaths(o.out) };
  } catch (err) {
    if (typeof o.model === 'string') loaded.model.dispose();
    throw err;
  }
}

function close(inp: Inputs): void {
  if (inp.own) inp.loaded.model.dispose();
}

function layoutPlan(f: ShardPlanFields): Plan {
  return planStages({ size: f.size, box: f.crop, overlap: f.overlap, periodic: f.periodic });
}

/**
 * Reads the plan of `inp` and checks it against the command's model, halos and options. `finish`:
 * the precision and noise source are the plan's (writing the map runs no network, so the finishing
 * machine's own resolution of them does not matter).
 */
function matchingPlan(inp: Inputs, finish = false): { file: ShardPlanFile; plan: Plan } {
  const file = readPlanFile(inp.paths.plan);
  const why = planMismatch(file, finish ? { ...inp.fields, precision: file.precision, noise: file.noise } : inp.fields);
  if (why)
    throw new Error(
      `${inp.paths.plan}: ${why}; expected the model, halos and options of --plan-only (or a new plan: --plan-only --force)`,
    );
  const plan = layoutPlan(inp.fields);
  const stages = stagesMismatch(file, plan);
  if (stages)
    throw new Error(
      `${inp.paths.plan}: ${stages}; expected a plan of this version of lodi (make a new one: --plan-only --force)`,
    );
  return { file, plan };
}

export interface PlanResult {
  workDir: string;
  planFile: ShardPlanFile;
  /** Boxes already recorded as finished (a kept plan, `resume`). */
  finished: number;
  /** Whether an existing matching plan was kept. */
  kept: boolean;
}

function planOpen(inp: Inputs, o: ShardedRunOptions): PlanResult {
  const { paths, fields, loaded } = inp;
  const problems = contractProblems(loaded.meta, {
    file: o.halos,
    boxSize: inp.halosMeta.boxSize,
    n: fields.size[0],
    channels: inp.halos.shape[0]!,
    unit: inp.halosMeta.unit,
  });
  if (problems.length && !o.ignoreContract)
    throw new Error(`${problems[0]} (pass --ignore-contract to generate anyway)`);
  assertWritable(o.out, o.force === true);
  assertWritable(sidecarPath(o.out), o.force === true);
  if (existsSync(paths.dir)) {
    if (o.resume) {
      const { file } = matchingPlan(inp);
      const finished = finishedBoxes(paths.done).size;
      return { workDir: paths.dir, planFile: file, finished, kept: true };
    }
    if (!o.force) {
      let state = '';
      try {
        state = ` (a plan with ${finishedBoxes(paths.done).size} of ${readPlanFile(paths.plan).stages.flat().length} boxes finished)`;
      } catch {
        /* an unreadable work directory: say only that it exists */
      }
      throw new Error(`${paths.dir}: exists${state}; pass --resume to continue it or --force to start afresh`);
    }
  }
  const plan = layoutPlan(fields);
  const planFile: ShardPlanFile = {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    ...fields,
    model: resolve(loaded.file),
    halos: resolve(o.halos),
    halosStat: inp.halosStat,
    stages: stageIds(plan),
    command: o.command,
    created: new Date().toISOString(),
  };
  // folders made on the way to the output are removed again if planning fails (an existing folder is
  // left alone: other runs may be writing into it)
  const guard = existsSync(dirname(paths.dir)) ? null : new OutputGuard([dirname(paths.dir)]);
  mkdirSync(dirname(paths.dir), { recursive: true });
  const tmp = tempSibling(paths.dir);
  try {
    mkdirSync(tmp);
    createZeroNpyF32(join(tmp, basename(paths.values)), fields.size);
    mkdirSync(join(tmp, basename(paths.done)));
    writeFileSync(join(tmp, basename(paths.plan)), JSON.stringify(planFile, null, 2) + '\n');
    syncDir(tmp);
    if (existsSync(paths.dir)) rmSync(paths.dir, { recursive: true, force: true }); // --force
    renameSync(tmp, paths.dir);
    syncDir(dirname(paths.dir));
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    guard?.rollback();
    throw err;
  }
  return { workDir: paths.dir, planFile, finished: 0, kept: false };
}

/**
 * `--plan-only`: allocates the work directory of `o.out` (see the module comment).
 *
 * @throws one line when the halo grid is unreadable or not finite, breaks the model's data contract
 *   (unless `ignoreContract`), the output exists (unless `force`), or a work directory exists
 *   (unless `resume` with a matching plan, or `force`).
 */
export function planSharded(o: ShardedRunOptions): PlanResult {
  const inp = openInputs(o, true);
  try {
    return planOpen(inp, o);
  } finally {
    close(inp);
  }
}

export interface ShardResult {
  stage: number;
  shard: Shard;
  /** Box ids generated by this call. */
  generated: number[];
  /** Box ids of this shard already recorded as finished (kept). */
  skipped: number[];
  seconds: number;
}

/** One map of a file-backed generation: its inputs, its plan file and the plan's layout. */
interface Part {
  inp: Inputs;
  file: ShardPlanFile;
  plan: Plan;
}

async function stageOpen(
  inp: Inputs,
  file: ShardPlanFile,
  plan: Plan,
  stage: number,
  shard: Shard,
  o: ShardedRunOptions,
  progress?: (done: number, total: number) => void,
): Promise<ShardResult> {
  return (await stagesOpen([{ inp, file, plan }], [stage], shard, o, progress))[0]!;
}

/**
 * The layout of a map's work file (the standardised values), checked against the plan: float32 of
 * the planned size (another run's or a truncated file is refused with one line).
 */
function plannedWorkLayout(inp: Inputs): NpyLayout {
  const { paths, fields } = inp;
  const layout = readNpyLayout(paths.values);
  if (JSON.stringify(layout.shape) !== JSON.stringify(fields.size) || layout.itemSize !== 4)
    throw new Error(`${paths.values}: shape: [${layout.shape}], expected float32 [${fields.size}] as planned`);
  return layout;
}

/**
 * The unfinished boxes of the stages `stages` (consecutive) in shard `shard` of every map of `parts` (maps
 * of the same halos, model and options but their own seeds): the same box of several maps goes into one
 * batch (`generateJobs`), each map's values into its own work file. Several stages at once only for
 * methods whose boxes read nothing earlier boxes wrote (tiling). One result per part; its stage is the first.
 */
async function stagesOpen(
  parts: readonly Part[],
  stages: readonly number[],
  shard: Shard,
  o: ShardedRunOptions,
  progress?: (done: number, total: number) => void,
): Promise<ShardResult[]> {
  const t0 = Date.now();
  const first = parts[0]!;
  const stage = stages[0]!;
  const todos = parts.map(({ inp, file }) => {
    const { paths } = inp;
    for (const st of stages)
      if (!Number.isInteger(st) || st < 0 || st >= file.stages.length)
        throw new Error(
          `--stage: ${st}, expected 0 to ${file.stages.length - 1} (the plan ${paths.plan} has ${file.stages.length} stages)`,
        );
    const finished = finishedBoxes(paths.done);
    const missing = missingBefore(file, stage, finished);
    if (missing.length)
      throw new Error(
        `${paths.done}: stages: stage ${stage} cannot start: ${describeMissing(file, missing)}; expected every box of the earlier stages finished: run those stages first`,
      );
    const mine = stages.flatMap((st) => shardBoxes(file.stages[st]!, shard));
    return { skipped: mine.filter((id) => finished.has(id)), todo: mine.filter((id) => !finished.has(id)) };
  });
  const total = todos.reduce((n, t) => n + t.todo.length, 0);
  if (total) {
    const works: (NpyVolume | null)[] = parts.map(() => null);
    const halos = new NpyVolume(first.inp.halos, 'r');
    const host = hostname();
    let done = 0;
    try {
      parts.forEach(({ inp }, p) => {
        if (!todos[p]!.todo.length) return;
        works[p] = new NpyVolume(plannedWorkLayout(inp), 'r+');
      });
      // box-major: the maps' copies of a box sit side by side and share its conditioning
      // in the plan's order, as the in-memory generation goes (so that both batch alike)
      const pending = new Set(todos.flatMap((t) => t.todo));
      const ids = stages.flatMap((st) => first.file.stages[st]!).filter((id) => pending.has(id));
      // a box records the stage it belongs to
      const stageOf = new Map(stages.flatMap((st) => first.file.stages[st]!.map((id) => [id, st] as const)));
      const todoSets = todos.map((t) => new Set(t.todo));
      const jobs = ids.flatMap((id) =>
        parts.flatMap((part, p) =>
          todoSets[p]!.has(id)
            ? [{ box: first.plan.boxes[id]!, seed: part.inp.fields.seed, store: fileStore(works[p]!), part: p }]
            : [],
        ),
      );
      const fields = first.inp.fields;
      await generateJobs(first.inp.loaded.model, first.plan, jobs, fileCond(halos, first.inp.loaded.meta.normalisation), {
        method: fields.method,
        steps: fields.steps,
        resample: fields.resample,
        freshKnownNoise: fields.freshKnownNoise,
        precision: fields.precision,
        noise: fields.noise,
        batch: o.batch,
        afterBatch: (batch) => {
          // the values first, then the records: a record always means the values are on disk
          for (const p of new Set(batch.map((j) => j.part))) works[p]!.sync();
          for (const j of batch)
            recordFinished(parts[j.part]!.inp.paths.done, j.box.id, {
              stage: stageOf.get(j.box.id) ?? stage,
              shard: `${shard.index}/${shard.count}`,
              host,
              pid: process.pid,
              time: new Date().toISOString(),
            });
          done += batch.length;
          progress?.(done, total);
        },
      });
    } finally {
      for (const w of works) w?.close();
      halos.close();
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  return todos.map((t) => ({ stage, shard, generated: t.todo, skipped: t.skipped, seconds }));
}

/**
 * `--stage S --shard I/N`: generates the unfinished boxes of stage S that belong to shard I of N.
 *
 * `onProgress` is called after each batch is recorded, with the boxes generated so far and the
 * number this call generates.
 *
 * @throws one line when the plan is missing or differs from the command (naming the field), the
 *   stage is out of range, or an earlier stage has boxes without a record (naming them).
 */
export async function runShard(
  o: ShardedRunOptions & { stage: number; shard: Shard; onProgress?: (done: number, total: number) => void },
): Promise<ShardResult> {
  const inp = openInputs(o, false);
  try {
    const { file, plan } = matchingPlan(inp);
    let bar: Progress | undefined;
    return await stageOpen(inp, file, plan, o.stage, o.shard, o, (d, total) => {
      bar ??= new Progress(`generate stage ${o.stage} shard ${o.shard.index}/${o.shard.count} sub-volumes`, total, {
        quiet: o.quiet,
        logFile: o.logFile,
      });
      bar.update(d);
      o.onProgress?.(d, total);
    });
  } finally {
    close(inp);
  }
}

export interface FinishResult {
  file: string;
  seconds: number;
}

function finishOpen(inp: Inputs, o: ShardedRunOptions & { keepWork?: boolean }): FinishResult {
  const t0 = Date.now();
  const { paths, fields, loaded } = inp;
  const { file } = matchingPlan(inp, true);
  const missing = missingBefore(file, file.stages.length, finishedBoxes(paths.done));
  if (missing.length)
    throw new Error(`${paths.done}: cannot finish: ${describeMissing(file, missing)}; run those stages first`);
  const side = sidecarPath(o.out);
  assertWritable(o.out, o.force === true);
  assertWritable(side, o.force === true);
  const layout = plannedWorkLayout(inp);
  const meta = tbGridMeta(inp.halosMeta, loaded, {
    command: file.command ?? o.command,
    halos: o.halos,
    seed: fields.seed,
    realization: o.realization ?? 0,
    method: fields.method,
    overlap: fields.overlap,
    periodic: fields.periodic,
    steps: fields.steps,
    resample: fields.resample,
    precision: file.precision,
    noise: file.noise,
    modelSha256: fields.modelSha256,
  });
  const norm = loaded.meta.normalisation;
  const tmpGrid = tempSibling(o.out);
  const tmpSide = tempSibling(side);
  try {
    mapNpyF32(layout, tmpGrid, (y, tb) => tbInverse(y, norm, tb));
    writeFileSync(tmpSide, gridSidecarText(fields.size, meta));
    renameSync(tmpGrid, o.out);
    renameSync(tmpSide, side);
  } catch (err) {
    rmSync(tmpGrid, { force: true });
    rmSync(tmpSide, { force: true });
    throw err;
  }
  if (!o.keepWork) rmSync(paths.dir, { recursive: true, force: true });
  return { file: o.out, seconds: (Date.now() - t0) / 1000 };
}

/**
 * `--finish`: writes the T_b map [mK] `o.out` and its sidecar from the work file once every box is
 * recorded, then removes the work directory (kept with `keepWork`).
 *
 * @throws one line naming unfinished stages and boxes, a plan that differs from the command, or an
 *   existing output (unless `force`).
 */
export function finishSharded(o: ShardedRunOptions & { keepWork?: boolean }): FinishResult {
  const inp = openInputs(o, false);
  try {
    return finishOpen(inp, o);
  } finally {
    close(inp);
  }
}

/**
 * One process, file-backed: plan (or, with `resume`, continue a matching plan), every stage as the
 * only shard, finish. Memory is bounded by a batch of boxes; the map itself stays on disk.
 */
export async function generateFileBacked(
  o: ShardedRunOptions,
): Promise<FinishResult & { generated: number; skipped: number }> {
  return (await generateFileBackedMany(o, [{ out: o.out, seed: o.seed, realization: o.realization ?? 0 }]))[0]!;
}

/** One map of `generateFileBackedMany`: its output, seed and realisation number. */
export interface FileBackedMap {
  out: string;
  seed: number;
  realization: number;
}

/**
 * `generateFileBacked` for several maps of the same halos, model and options with their own seeds
 * (the realisations of a run): each map has its own work directory (a killed run resumes each), and
 * the same stage of every map is generated in shared batches, so that a box with few sub-volumes per
 * stage still fills a batch. Map r equals its own `generateFileBacked` up to the last bits of batched
 * convolutions. The model is loaded once (when `o.model` is a path). One result per map.
 */
export async function generateFileBackedMany(
  o: ShardedRunOptions,
  maps: readonly FileBackedMap[],
): Promise<(FinishResult & { generated: number; skipped: number })[]> {
  const t0 = Date.now();
  const loaded = typeof o.model === 'string' ? loadLodi(o.model, resolveDevice(o.device ?? 'cpu')) : o.model;
  const parts: (Part & { o: ShardedRunOptions })[] = [];
  try {
    // every output is checked before any work directory is made
    for (const m of maps) {
      assertWritable(m.out, o.force === true);
      assertWritable(sidecarPath(m.out), o.force === true);
    }
    let started = 0;
    const made: string[] = [];
    try {
      for (const m of maps) {
        const om: ShardedRunOptions = { ...o, model: loaded, out: m.out, seed: m.seed, realization: m.realization };
        const inp = openInputs(om, true);
        const plan = planOpen(inp, om);
        if (!plan.kept) made.push(plan.workDir);
        started += plan.finished;
        parts.push({ inp, ...matchingPlan(inp), o: om });
      }
    } catch (err) {
      // a map that cannot start leaves none of the others' new work directories behind
      for (const d of made) rmSync(d, { recursive: true, force: true });
      throw err;
    }
    const first = parts[0];
    if (!first) return [];
    const total = first.plan.boxes.length * parts.length;
    const bar = new Progress(
      `generate ${first.inp.fields.method} sub-volumes (file-backed${parts.length > 1 ? `, ${parts.length} maps together` : ''})`,
      total,
      { quiet: o.quiet, logFile: o.logFile, startAt: started },
    );
    if (started > 0) bar.log(`kept ${started} of ${total} finished sub-volumes of an interrupted run (${parts.map((p) => p.o.out).join(', ')})`);
    const counts = parts.map(() => ({ generated: 0, skipped: 0 }));
    let before = started;
    // latent overlap reads what earlier stages wrote: stage by stage; tiling's boxes are independent (their write
    // masks come from the plan), so all of them go through the batches together: a small box has few boxes per stage
    const all = first.file.stages.map((_, s) => s);
    const groups = first.inp.fields.method === 'overlap' ? all.map((s) => [s]) : [all];
    for (const g of groups) {
      const label = g.length > 1 ? 'all stages' : `stage ${g[0]}`;
      const rs = await stagesOpen(parts, g, { index: 0, count: 1 }, o, (d) => bar.update(before + d, label));
      rs.forEach((r, p) => {
        counts[p]!.generated += r.generated.length;
        counts[p]!.skipped += r.skipped.length;
        before += r.generated.length;
      });
    }
    return parts.map((p, i) => ({ ...finishOpen(p.inp, p.o), ...counts[i]!, seconds: (Date.now() - t0) / 1000 }));
  } finally {
    if (typeof o.model === 'string') loaded.model.dispose();
  }
}
