/**
 * Sharded LODI generation: the bookkeeping that lets the stages of `planStages` run as separate
 * processes (one job array per stage on a cluster scheduler) on one work file.
 *
 * Next to the output `tb.npy` lives the work directory `tb.work/`:
 * - `plan.json`: what is generated (size, crop, overlap, periodic, method, seed, steps, resample,
 *   fresh known noise), from what (model and halo files with their sha256) and the stages with
 *   their box ids (`ShardPlanFile`);
 * - `y.npy`: the standardised values, float32 [X, Y, Z], zeros until written;
 * - `done/`: one record `<box id>.json` per finished box, created only after the box's values were
 *   synced to disk, so a box with a record is on disk and a box without one is generated again.
 *
 * A stage may start only when every box of the earlier stages has a record; within a stage, box k
 * (position in the stage) belongs to shard k mod N. Boxes of one stage never overlap and read only
 * what earlier stages wrote, so shards run concurrently and their order does not matter.
 */
import type { Precision } from '../nets/precision.js';
import type { NoiseSource } from './generate.js';
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plan } from './planner.js';

export const PLAN_FORMAT = 'lodi-generate-plan';
/**
 * Version 2: the halo file's quick-check stat, and box noise seeds mixed modulo 2^32 (`boxSeed`), which changed the
 * streams of seeds above ~3e6: a version-1 plan resumed now would mix two sets of streams, so it is refused.
 */
export const PLAN_VERSION = 2;

/** Methods whose boxes write disjoint voxels stage by stage (`average` sums over every covering box). */
export const SHARDED_METHODS = ['overlap', 'tiling'] as const;
export type ShardedMethod = (typeof SHARDED_METHODS)[number];

/** What a command must agree on with the plan; each field is compared by name. */
export interface ShardPlanFields {
  /** Voxels along x, y, z (the halo grid's). */
  size: [number, number, number];
  /** Sub-volume edge in voxels (the model's training crop). */
  crop: number;
  overlap: number;
  periodic: boolean;
  method: ShardedMethod;
  seed: number;
  /** Sampling steps, resolved (the model's T when not given). */
  steps: number;
  resample: number;
  freshKnownNoise: boolean;
  /**
   * The denoiser's precision and where the sampler's noise is drawn, resolved on the planning
   * process's device (src/nets/precision.ts, `resolveNoise`): every stage of a map must run the same
   * way, so a stage or finish whose own resolution differs is refused (name them, e.g. `--precision
   * bfloat16`, when planning on another kind of machine than the stages). Plans written before these
   * fields existed read as float32 and host noise, what those versions did.
   */
  precision: Precision;
  noise: NoiseSource;
  modelSha256: string;
  halosSha256: string;
}

export interface ShardPlanFile extends ShardPlanFields {
  format: typeof PLAN_FORMAT;
  version: typeof PLAN_VERSION;
  /** Paths at planning (absolute), for the record: the sha256 decides whether a file is the same. */
  model: string;
  halos: string;
  /**
   * The halo file's size, modification and change times and inode, taken before it was hashed at planning. A
   * stage or finish that finds the same four takes `halosSha256` from the plan instead of reading the whole file
   * again (at 512^3 the four channels are 2 GB, and every shard task of every stage would hash them); on any
   * difference it hashes the file (the quick check of make and rsync, with the change time added).
   */
  halosStat: FileStat;
  /** Box ids of each stage, in plan order. */
  stages: number[][];
  /** Command line of the planning command (recorded in the output's sidecar). */
  command?: string;
  created: string;
}

/** The work directory of output `out` (`tb.npy` → `tb.work/`) and its members. */
export function workPaths(out: string): { dir: string; plan: string; values: string; done: string } {
  const dir = out.replace(/\.npy$/i, '') + '.work';
  return { dir, plan: join(dir, 'plan.json'), values: join(dir, 'y.npy'), done: join(dir, 'done') };
}

/**
 * What the quick check compares (see `ShardPlanFile.halosStat`), exact to the nanosecond and for 64-bit inodes
 * (decimal strings). The change time is the one a writer cannot set back (`cp -p`, `rsync -t` and `touch -d` set the
 * modification time only), so an in-place rewrite of a same-shaped grid is caught.
 */
export interface FileStat {
  size: string;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
}

/** The {@link FileStat} of a file. */
export function fileStat(file: string): FileStat {
  const st = statSync(file, { bigint: true });
  return { size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs), ino: String(st.ino) };
}

/** Whether the quick check finds the file unchanged since `recorded`. */
export function sameFileStat(recorded: FileStat | undefined, now: FileStat): boolean {
  return recorded !== undefined && (['size', 'mtimeNs', 'ctimeNs', 'ino'] as const).every((k) => recorded[k] === now[k]);
}

/** The box ids of each stage of `plan`. */
export function stageIds(plan: Plan): number[][] {
  return plan.stages.map((s) => s.map((b) => b.id));
}

const FIELDS: (keyof ShardPlanFields)[] = [
  'size',
  'crop',
  'overlap',
  'periodic',
  'method',
  'seed',
  'steps',
  'resample',
  'freshKnownNoise',
  'precision',
  'noise',
  'modelSha256',
  'halosSha256',
];

/**
 * Reads and checks a plan file.
 *
 * @throws one line naming the file and the first missing or malformed field.
 */
export function readPlanFile(file: string): ShardPlanFile {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new Error(`${file}: file: not found; expected the plan written by lodi generate --plan-only with the same --out`);
    throw new Error(
      `${file}: invalid JSON (${(err as Error).message}); expected the plan written by lodi generate --plan-only`,
    );
  }
  if (j?.format !== PLAN_FORMAT || j.version !== PLAN_VERSION)
    throw new Error(
      `${file}: format: ${JSON.stringify(j?.format)} version ${JSON.stringify(j?.version)}, expected '${PLAN_FORMAT}' version ${PLAN_VERSION}` +
        (j?.format === PLAN_FORMAT ? ' (a plan of an older lodi: make a new one with --plan-only --force)' : ''),
    );
  j.precision ??= 'float32';
  j.noise ??= 'host';
  for (const f of FIELDS)
    if (!(f in j)) throw new Error(`${file}: ${f}: missing, expected the field written by lodi generate --plan-only`);
  const stages = j.stages;
  if (
    !Array.isArray(stages) ||
    !stages.every((s) => Array.isArray(s) && s.every((id) => Number.isInteger(id) && id >= 0))
  )
    throw new Error(`${file}: stages: expected a list of lists of box ids`);
  return j as unknown as ShardPlanFile;
}

/**
 * The first field in which `given` differs from the plan, as one line (`seed: the plan has 5, this
 * command gives 6`), or null when all agree.
 */
export function planMismatch(plan: ShardPlanFields, given: ShardPlanFields): string | null {
  for (const f of FIELDS) {
    const a = JSON.stringify(plan[f]);
    const b = JSON.stringify(given[f]);
    if (a !== b) return `${f}: the plan has ${a}, this command gives ${b}`;
  }
  return null;
}

/** The first stage whose box ids differ from what the planner lays out now, as one line, or null. */
export function stagesMismatch(file: ShardPlanFile, plan: Plan): string | null {
  const now = stageIds(plan);
  if (now.length !== file.stages.length)
    return `stages: the plan has ${file.stages.length} stages, the planner lays out ${now.length}`;
  for (let s = 0; s < now.length; s++)
    if (JSON.stringify(now[s]) !== JSON.stringify(file.stages[s]))
      return `stages: stage ${s} holds boxes [${brief(file.stages[s]!)}], the planner lays out [${brief(now[s]!)}]`;
  return null;
}

/** Box ids as a short list: the first 8 and a count. */
export function brief(ids: readonly number[]): string {
  return ids.length <= 8 ? ids.join(', ') : `${ids.slice(0, 8).join(', ')}, ... (${ids.length} boxes)`;
}

/** A shard: the `index`-th of `count` processes sharing each stage. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * Parses `I/N` (0 <= I < N, e.g. `3/8`, the form `--shard $SLURM_ARRAY_TASK_ID/8` gives).
 *
 * @throws one line naming the value and what was expected.
 */
export function parseShard(value: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(count) || count < 1 || index >= count)
    throw new Error(`expected I/N with integers 0 <= I < N (e.g. 0/4), got ${JSON.stringify(value)}`);
  return { index, count };
}

/** The boxes of a stage (ids in stage order) that shard I of N generates: positions k with k mod N = I. */
export function shardBoxes(stage: readonly number[], shard: Shard): number[] {
  return stage.filter((_, k) => k % shard.count === shard.index);
}

/** Ids of the boxes recorded as finished in `doneDir` (records `<id>.json`; temporaries ignored). */
export function finishedBoxes(doneDir: string): Set<number> {
  const out = new Set<number>();
  for (const n of readdirSync(doneDir)) {
    const m = /^(\d+)\.json$/.exec(n);
    if (m) out.add(Number(m[1]));
  }
  return out;
}

/**
 * Records box `id` as finished: the record is written under a temporary name, renamed into place,
 * and the directory synced. Call only after the box's values are synced to disk.
 */
export function recordFinished(doneDir: string, id: number, info: Record<string, unknown>): void {
  const file = join(doneDir, `${id}.json`);
  const tmp = join(doneDir, `.${id}.json.tmp-${process.pid}`);
  writeFileSync(tmp, JSON.stringify({ box: id, ...info }) + '\n');
  renameSync(tmp, file);
  syncDir(doneDir);
}

/** Syncs a directory's entries (a rename is durable once its directory is synced). */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch (err) {
    // some file systems refuse fsync on directories; the rename is still atomic there
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL' && (err as NodeJS.ErrnoException).code !== 'EISDIR') throw err;
  } finally {
    closeSync(fd);
  }
}

/** For every stage before `stage`, the ids of its boxes without a record (stages with none missing left out). */
export function missingBefore(
  file: ShardPlanFile,
  stage: number,
  finished: ReadonlySet<number>,
): { stage: number; missing: number[] }[] {
  const out: { stage: number; missing: number[] }[] = [];
  for (let s = 0; s < stage; s++) {
    const missing = file.stages[s]!.filter((id) => !finished.has(id));
    if (missing.length) out.push({ stage: s, missing });
  }
  return out;
}

/** One line describing unfinished stages, e.g. `stage 0 lacks boxes 3, 7 (2 of 8); stage 1 lacks ...`. */
export function describeMissing(file: ShardPlanFile, missing: { stage: number; missing: number[] }[]): string {
  return missing
    .map(
      (m) =>
        `stage ${m.stage} lacks boxes ${brief(m.missing)} (${m.missing.length} of ${file.stages[m.stage]!.length})`,
    )
    .join('; ');
}
