/**
 * Reading what `lodi evaluate` compares: a run directory (written by `lodi run` / `lodi generate`)
 * and the truth world it is compared with, plus the data-split check (no world that trained or
 * validated a model may be used as a test world unless the caller allows it).
 *
 * Run directory:
 *   run.json          { format: 'lodi-run', version: 1, grid, boxSize, redshift, realizations, method,
 *                       seeds, dm: { path, seed? }, box, overlap, periodic, models: { halogen?, lodi },
 *                       timings, command }
 *   halos.npy/.json   HALOgen prediction ρ_h [C,N,N,N] in (Msun/h)/(Mpc/h)^3 (optional)
 *   tb_<r>.npy/.json  T_b [N,N,N] in mK, r = 0 .. realizations−1
 *   tb_tiling_0, tb_average_0, tb_single_0 (.npy/.json)   optional baselines of realisation 0
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LodiIOError, fmtShape } from '../io/errors.js';
import { loadGrid, type Grid } from '../io/grid.js';
import { readWorld, WORLD_MEMBERS, type WorldGrids } from '../io/world.js';

export const RUN_FORMAT = 'lodi-run';
export const RUN_JSON = 'run.json';

/** A world that trained or validated a model, as recorded in run.json. */
export interface RunWorldRef {
  dir: string;
  seed?: number;
}

export interface RunModelRef {
  file?: string;
  sha256?: string;
  preset?: string;
  trainWorlds?: RunWorldRef[];
  valWorlds?: RunWorldRef[];
  split?: unknown;
  [key: string]: unknown;
}

/** run.json of a run directory (fields evaluate relies on; others are kept as they are). */
export interface RunJson {
  format: typeof RUN_FORMAT;
  version: number;
  grid: number;
  boxSize: number;
  redshift: number;
  realizations: number;
  method: 'overlap' | 'tiling' | 'average';
  seeds?: number[];
  dm?: { path?: string; seed?: number };
  /** Sub-volume edge and overlap in voxels, and whether the box grid wraps. */
  box?: number;
  overlap?: number;
  periodic?: boolean;
  /** Gaussian smoothing radius [Mpc/h] of the maps LODI was trained on, when the writer knows it. */
  smoothingR?: number;
  models?: { halogen?: RunModelRef; lodi?: RunModelRef };
  timings?: Record<string, number>;
  command?: string;
  [key: string]: unknown;
}

/** A run directory loaded for evaluation. */
export interface LoadedRun {
  dir: string;
  json: RunJson;
  /** HALOgen prediction [C,N,N,N] (absent when the run has no halos.npy). */
  halos?: Grid;
  /** T_b realisations [N,N,N] in mK. */
  tb: Grid[];
  /** Baselines of realisation 0, when present. */
  tiling?: Grid;
  average?: Grid;
  single?: Grid;
}

function fail(path: string, field: string, detail: string): never {
  throw new LodiIOError(path, detail, field);
}

/** Reads and checks run.json. */
export function readRunJson(dir: string): RunJson {
  const path = join(dir, RUN_JSON);
  if (!existsSync(dir)) throw new LodiIOError(dir, 'missing: expected a run directory (written by lodi run)');
  if (!existsSync(path)) throw new LodiIOError(path, 'missing: expected run.json written by lodi run');
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new LodiIOError(path, `invalid JSON: ${(err as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) fail(path, 'format', 'expected a JSON object');
  const o = j as RunJson;
  if (o.format !== RUN_FORMAT) fail(path, 'format', `expected '${RUN_FORMAT}', got ${JSON.stringify(o.format)}`);
  if (o.version !== 1) fail(path, 'version', `expected 1, got ${JSON.stringify(o.version)} (written by a newer lodi?)`);
  for (const k of ['grid', 'boxSize', 'realizations'] as const) {
    if (!(typeof o[k] === 'number' && o[k] > 0 && Number.isFinite(o[k]))) fail(path, k, `expected a positive number, got ${JSON.stringify(o[k])}`);
  }
  if (!Number.isInteger(o.grid) || !Number.isInteger(o.realizations)) fail(path, 'realizations', 'expected integers for grid and realizations');
  if (typeof o.redshift !== 'number') fail(path, 'redshift', `expected a number, got ${JSON.stringify(o.redshift)}`);
  return o;
}

/** Loads one [N,N,N] T_b grid of a run and checks it against run.json. */
function loadTb(path: string, j: RunJson): Grid {
  const g = loadGrid(path, { expectN: j.grid });
  if (g.shape.length !== 3) fail(path, 'shape', `expected [N,N,N], got ${fmtShape(g.shape)}`);
  if (Math.abs(g.meta.boxSize - j.boxSize) > 1e-6 * j.boxSize) fail(path, 'boxSize', `expected ${j.boxSize} Mpc/h (as run.json), got ${g.meta.boxSize} Mpc/h`);
  if (g.meta.unit !== WORLD_MEMBERS.tb.unit) fail(path, 'unit', `expected '${WORLD_MEMBERS.tb.unit}', got '${g.meta.unit}'`);
  return g;
}

/** Reads a run directory: run.json, every T_b realisation, the halo prediction and the baselines present. */
export function readRun(dir: string): LoadedRun {
  const json = readRunJson(dir);
  const tb: Grid[] = [];
  for (let r = 0; r < json.realizations; r++) {
    const p = join(dir, `tb_${r}.npy`);
    if (!existsSync(p)) fail(p, 'realizations', `missing: run.json lists ${json.realizations} realisations`);
    tb.push(loadTb(p, json));
  }
  const opt = (name: string): Grid | undefined => {
    const p = join(dir, `${name}.npy`);
    return existsSync(p) ? loadTb(p, json) : undefined;
  };
  let halos: Grid | undefined;
  const hp = join(dir, WORLD_MEMBERS.halos.file);
  if (existsSync(hp)) {
    halos = loadGrid(hp, { expectN: json.grid });
    if (halos.shape.length !== 4) fail(hp, 'shape', `expected [C,N,N,N], got ${fmtShape(halos.shape)}`);
    if (halos.meta.unit !== WORLD_MEMBERS.halos.unit) fail(hp, 'unit', `expected '${WORLD_MEMBERS.halos.unit}', got '${halos.meta.unit}'`);
  }
  return { dir, json, halos, tb, tiling: opt('tb_tiling_0'), average: opt('tb_average_0'), single: opt('tb_single_0') };
}

/** Reads the truth world of a run (T_b required; halos and DM when present) and checks it matches. */
export function readTruth(dir: string, run: LoadedRun): WorldGrids {
  const members = (['tb', 'halos'] as const).filter((m) => m === 'tb' || existsSync(join(dir, WORLD_MEMBERS[m].file)));
  const w = readWorld(dir, { members });
  const rj = join(run.dir, RUN_JSON);
  if (w.grid !== run.json.grid) fail(rj, 'grid', `run has N = ${run.json.grid}, its truth ${dir} has N = ${w.grid}`);
  if (Math.abs(w.boxSize - run.json.boxSize) > 1e-6 * w.boxSize) fail(rj, 'boxSize', `run has a ${run.json.boxSize} Mpc/h box, its truth ${dir} ${w.boxSize} Mpc/h`);
  if (Math.abs(w.redshift - run.json.redshift) > 1e-6 * (1 + w.redshift)) fail(rj, 'redshift', `run is at z = ${run.json.redshift}, its truth ${dir} at z = ${w.redshift}`);
  const dmSeed = run.json.dm?.seed;
  const seed = w.provenance.seed;
  if (typeof dmSeed === 'number' && typeof seed === 'number' && dmSeed !== seed) {
    fail(rj, 'dm.seed', `the run was made from the DM of seed ${dmSeed}, but its truth ${dir} has seed ${seed}: pair each --run with its own --truth`);
  }
  if (run.halos && w.halos && run.halos.shape[0] !== w.halos.length / w.grid ** 3) {
    fail(join(run.dir, 'halos.npy'), 'channels', `run has ${run.halos.shape[0]} halo channels, its truth ${w.halos.length / w.grid ** 3}`);
  }
  return w;
}

/** Canonical form of a directory for comparisons (realpath when it exists). */
export function canonicalDir(dir: string, base = '.'): string {
  const p = resolve(base, dir);
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** One row of the data split: a world a model saw, or a test world. */
export interface SplitRow {
  model: string;
  role: 'train' | 'validation' | 'test';
  dir: string;
  seed?: number;
}

/** A model as the data split names it: "halogen (cpu) be3ad755aef0" (run.json key, preset, checksum prefix). */
function modelLabel(name: string, m: RunModelRef): string {
  return `${name}${m.preset ? ` (${m.preset})` : ''}${m.sha256 ? ` ${String(m.sha256).slice(0, 12)}` : ''}`;
}

/**
 * How each model's training worlds were divided (from run.json `split`): both trainers split by sub-volume
 * *within* their worlds (seeded), so the listed worlds hold the validation crops as well as the training ones.
 * One line per distinct model, e.g. "halogen (cpu) be3ad755aef0: 126 training / 42 validation sub-volumes, split seed 1".
 */
export function splitSummary(runs: LoadedRun[]): string[] {
  const lines: string[] = [];
  const count = (v: unknown): number | undefined => (Array.isArray(v) ? v.length : typeof v === 'number' ? v : undefined);
  for (const run of runs) {
    for (const [name, m] of Object.entries(run.json.models ?? {})) {
      if (!m || typeof m.split !== 'object' || m.split === null) continue;
      const sp = m.split as { seed?: unknown; train?: unknown; val?: unknown };
      const train = count(sp.train);
      const val = count(sp.val);
      if (train === undefined || val === undefined) continue;
      const line = `${modelLabel(name, m)}: ${train} training / ${val} validation sub-volumes${typeof sp.seed === 'number' ? `, split seed ${sp.seed}` : ''}`;
      if (!lines.includes(line)) lines.push(line);
    }
  }
  return lines;
}

/** Result of the data-split check. */
export interface SplitCheck {
  rows: SplitRow[];
  /** Human-readable descriptions of test worlds that a model saw (empty when clean). */
  leaks: string[];
}

/**
 * The data split of the runs (train and validation worlds of each model, from run.json) and the
 * test worlds (the truths). A test world leaks when its directory or its IC seed is among a model's
 * train or validation worlds. Relative world paths in run.json are resolved against the run
 * directory's parent as well as the current directory.
 */
export function checkSplit(runs: LoadedRun[], truths: WorldGrids[]): SplitCheck {
  const rows: SplitRow[] = [];
  const seen: { model: string; role: 'train' | 'validation'; dirs: string[]; seed?: number; dir: string }[] = [];
  runs.forEach((run) => {
    for (const [name, m] of Object.entries(run.json.models ?? {})) {
      if (!m) continue;
      const label = modelLabel(name, m);
      for (const [role, list] of [['train', m.trainWorlds], ['validation', m.valWorlds]] as const) {
        for (const ref of Array.isArray(list) ? list : []) {
          if (!ref || typeof ref.dir !== 'string') continue;
          const seed = typeof ref.seed === 'number' ? ref.seed : undefined;
          if (!rows.some((r) => r.model === label && r.role === role && r.dir === ref.dir && r.seed === seed)) rows.push({ model: label, role, dir: ref.dir, seed });
          seen.push({ model: label, role, dir: ref.dir, seed, dirs: [canonicalDir(ref.dir), canonicalDir(ref.dir, join(run.dir, '..')), canonicalDir(ref.dir, run.dir)] });
        }
      }
    }
  });
  const leaks: string[] = [];
  truths.forEach((w) => {
    const dir = canonicalDir(w.dir ?? '.');
    const seed = w.provenance.seed;
    rows.push({ model: 'evaluation', role: 'test', dir: w.dir ?? '.', seed });
    for (const s of seen) {
      const byDir = s.dirs.includes(dir);
      const bySeed = seed !== undefined && s.seed !== undefined && s.seed === seed;
      if (byDir || bySeed) {
        leaks.push(`${w.dir} (seed ${seed ?? '?'}) ${s.role === 'train' ? 'trained' : 'validated'} ${s.model} (${byDir ? 'same directory' : `same seed as ${s.dir}`})`);
      }
    }
  });
  return { rows, leaks: [...new Set(leaks)] };
}
