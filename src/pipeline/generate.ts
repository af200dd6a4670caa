/**
 * `lodi generate`: T_b maps [mK] from halo channels with a trained LODI, one file per realisation,
 * each with a sidecar (units, box, redshift, seed, method, model checksum, command line). Written
 * to a temporary name and renamed; with `resume`, realisations already written by the same model
 * and seed are kept.
 */
import { createHash } from 'node:crypto';
import { resolveDevice } from '@lodi/torch';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadGrid, saveGrid, sidecarPath } from '../io/grid.js';
import { contractProblems, loadLodi } from '../lodi/checkpoint.js';
import { generateTbMany, realisationsPerPass, resolveNoise, type NoiseSource } from '../lodi/generate.js';
import { readNpyLayout } from '../io/npy-file.js';
import { planStages } from '../lodi/planner.js';
import { workPaths } from '../lodi/shards.js';
import { assertWritable, removeStaleTemps } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { resolvePrecision, type Precision } from '../nets/precision.js';
import { tbGridMeta } from './generate-meta.js';
import { generateFileBackedMany, type FileBackedMap, type ShardedRunOptions } from './generate-shards.js';

/** The options of one generation (src/pipeline/generate-shards.ts), for one or several realisations. */
export interface GenerateRunOptions extends Omit<ShardedRunOptions, 'out' | 'realization'> {
  /** Output path `tb.npy`; with several realisations `tb_0.npy`, `tb_1.npy`, ... */
  out: string;
  realizations?: number;
  /** The realisations' output paths instead of the names derived from `out` (one per realisation). */
  files?: readonly string[];
  /**
   * Keep the map in a work file beside the output instead of memory (src/pipeline/generate-shards.ts):
   * memory bounded by a batch of sub-volumes for boxes of any size; a killed run continues with
   * `resume`. Methods overlap and tiling.
   */
  fileBacked?: boolean;
}

export interface GenerateRunResult {
  files: string[];
  seeds: number[];
  modelFile: string;
  modelSha256: string;
  seconds: number;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Output file of realisation r: the --out path itself for one realisation, else stem_r.npy. */
export function realisationPath(out: string, r: number, total: number): string {
  if (total === 1) return out;
  return out.replace(/\.npy$/i, '') + `_${r}.npy`;
}

/**
 * Seed of realisation r (recorded in its sidecar): seed + r, wrapped into [0, 2^32) like every seed
 * the CLI accepts, so that a first seed near 2^32 − 1 still gives valid seeds for later realisations.
 */
export const realisationSeed = (seed: number, r: number): number => (seed + r) % 2 ** 32;

export async function generateRun(o: GenerateRunOptions): Promise<GenerateRunResult> {
  if (!existsSync(o.halos)) throw new Error(`${o.halos}: not found`);
  const R = o.realizations ?? 1;
  if (!Number.isInteger(R) || R < 1) throw new Error(`--realizations must be a positive integer, got ${R}`);
  if (o.files && o.files.length !== R) throw new Error(`generateRun: ${o.files.length} output paths for ${R} realisations`);
  const files = o.files ? [...o.files] : Array.from({ length: R }, (_, r) => realisationPath(o.out, r, R));
  const method = o.method ?? 'overlap';
  const seeds = files.map((_, r) => realisationSeed(o.seed, r));
  // a killed run may have left half-written realisations behind
  if (o.resume) for (const d of new Set(files.map((f) => dirname(f)))) removeStaleTemps(d);
  // a map counts as finished when made by the same model, seed, method, precision and noise source (maps
  // made before those were recorded were float32 with host noise)
  const finishedBy = (sha: string, precision: Precision, noise: NoiseSource) => (f: string, r: number): boolean => {
    if (!o.resume || !existsSync(f) || !existsSync(sidecarPath(f))) return false;
    const p = (JSON.parse(readFileSync(sidecarPath(f), 'utf8')) as { provenance?: { seed?: number; modelSha256?: string; method?: string; precision?: string; noise?: string } }).provenance;
    return p?.seed === seeds[r] && p?.modelSha256 === sha && p?.method === method && (p?.precision ?? 'float32') === precision && (p?.noise ?? 'host') === noise;
  };
  if (o.fileBacked) return fileBackedRun(o, files, seeds, finishedBy);
  const halos = loadGrid(o.halos);
  if (halos.shape.length !== 4) throw new Error(`${o.halos}: expected halo channels [C,N,N,N], got [${halos.shape}]`);
  const [C, X, Y, Z] = halos.shape as [number, number, number, number];
  if (X !== Y || Y !== Z) throw new Error(`${o.halos}: expected a cubic grid, got [${halos.shape}]`);
  const loaded = typeof o.model === 'string' ? loadLodi(o.model, resolveDevice(o.device ?? 'cpu')) : o.model;
  const modelSha256 = sha256File(loaded.file);
  const precision = resolvePrecision(o.precision ?? 'float32', loaded.model.device);
  const noise = resolveNoise(o.noise ?? 'auto', loaded.model.device);
  const done = finishedBy(modelSha256, precision, noise);
  try {
    const problems = contractProblems(loaded.meta, { file: o.halos, boxSize: halos.meta.boxSize, n: X, channels: C, unit: halos.meta.unit });
    if (problems.length && !o.ignoreContract) throw new Error(`${problems[0]} (pass --ignore-contract to generate anyway)`);
    files.forEach((f, r) => {
      if (!done(f, r)) assertWritable(f, o.force === true || o.resume === true);
    });
    const t0 = Date.now();
    const crop = loaded.model.cfg.data.crop;
    // the unfinished realisations a few at a time (`realisationsPerPass`: as many as fill the batches), the same
    // stage of each in shared batches; each pass is saved before the next starts
    const todo = files.map((_, r) => r).filter((r) => !done(files[r]!, r));
    const { perPass, boxes } = passSize(o, [X, Y, Z], crop);
    for (let p = 0; p < todo.length; p += perPass) {
      const pass = todo.slice(p, p + perPass);
      const what = pass.length > 1 ? `realisations ${pass.map((r) => r + 1).join(', ')} of ${R} together, ` : R > 1 ? `realisation ${pass[0]! + 1}/${R} ` : '';
      const progress = new Progress(`generate ${method} ${what}sub-volumes`, boxes * pass.length, { quiet: o.quiet, logFile: o.logFile });
      const tbs = await generateTbMany(
        loaded.model,
        loaded.meta.normalisation,
        halos.data,
        [X, Y, Z],
        pass.map((r) => seeds[r]!),
        {
          method,
          batch: o.batch,
          periodic: o.periodic,
          overlap: o.overlap,
          steps: o.steps,
          resample: o.resample,
          freshKnownNoise: o.freshKnownNoise,
          precision,
          noise,
          onProgress: (d, _t, stage) => progress.update(d, `stage ${stage + 1}`),
        },
      );
      pass.forEach((r, i) =>
        saveGrid(
          files[r]!,
          {
            data: tbs[i]!,
            shape: [X, Y, Z],
            meta: tbGridMeta(halos.meta, loaded, {
              command: o.command,
              halos: o.halos,
              seed: seeds[r]!,
              realization: r,
              method,
              overlap: o.overlap ?? 4,
              periodic: o.periodic ?? true,
              steps: o.steps ?? loaded.model.cfg.schedule.steps,
              resample: o.resample ?? 1,
              precision,
              noise,
              modelSha256,
            }),
          },
          { force: true },
        ),
      );
    }
    return { files, seeds, modelFile: loaded.file, modelSha256, seconds: (Date.now() - t0) / 1000 };
  } finally {
    if (typeof o.model === 'string') loaded.model.dispose();
  }
}

/**
 * How many realisations of a map of `size` voxels one pass generates together (`realisationsPerPass`:
 * as many as fill a batch, with the boxes of an average stage for latent overlap and of the whole map
 * for tiling and averaging), and the sub-volumes per realisation. One place for
 * both the in-memory and the file-backed run, so that they batch alike (and give the same bytes).
 */
function passSize(o: GenerateRunOptions, size: [number, number, number], crop: number): { perPass: number; boxes: number } {
  const method = o.method ?? 'overlap';
  if (method === 'single') return { perPass: 1, boxes: 1 };
  const plan = planStages({ size, box: crop, overlap: o.overlap ?? 4, periodic: o.periodic ?? true });
  return { perPass: realisationsPerPass(plan, method, o.batch ?? 8), boxes: plan.boxes.length };
}

/** `generateRun` with `fileBacked`: the unfinished realisations through one `generateFileBackedMany`. */
async function fileBackedRun(
  o: GenerateRunOptions,
  files: string[],
  seeds: number[],
  finishedBy: (sha: string, precision: Precision, noise: NoiseSource) => (f: string, r: number) => boolean,
): Promise<GenerateRunResult> {
  const loaded = typeof o.model === 'string' ? loadLodi(o.model, resolveDevice(o.device ?? 'cpu')) : o.model;
  try {
    const modelSha256 = sha256File(loaded.file);
    const done = finishedBy(modelSha256, resolvePrecision(o.precision ?? 'float32', loaded.model.device), resolveNoise(o.noise ?? 'auto', loaded.model.device));
    const t0 = Date.now();
    const todo: FileBackedMap[] = [];
    for (let r = 0; r < files.length; r++) {
      if (done(files[r]!, r)) {
        // a run killed after renaming a finished map into place but before removing its work file leaves that
        // work file behind: the map is complete (checked by `done`), so the work file is residue
        rmSync(workPaths(files[r]!).dir, { recursive: true, force: true });
        continue;
      }
      todo.push({ out: files[r]!, seed: seeds[r]!, realization: r });
    }
    // the unfinished realisations a few at a time, as in memory (so that both batch alike)
    if (todo.length) {
      let perPass = todo.length;
      try {
        perPass = passSize(o, readNpyLayout(o.halos).shape.slice(1) as [number, number, number], loaded.model.cfg.data.crop).perPass;
      } catch {
        /* a malformed halo grid: generateFileBackedMany refuses it with its own one-line message */
      }
      for (let p = 0; p < todo.length; p += perPass) await generateFileBackedMany({ ...o, model: loaded }, todo.slice(p, p + perPass));
    }
    return { files, seeds, modelFile: loaded.file, modelSha256, seconds: (Date.now() - t0) / 1000 };
  } finally {
    if (typeof o.model === 'string') loaded.model.dispose();
  }
}
