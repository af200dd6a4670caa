/**
 * `lodi run`: the main job. A dark-matter density grid → HALOgen (four halo-mass channels) → LODI
 * (T_b realisations stitched with latent overlap) → a run directory:
 *
 *   halos.npy (+ .json)                     HALOgen prediction [4,N,N,N]
 *   tb_0.npy … tb_{R−1}.npy (+ .json)       T_b [mK], one per realisation (seeds seed, seed+1, …)
 *   tb_tiling_0.npy, tb_average_0.npy       stitching baselines of realisation 0 (with `baselines`)
 *   run.json                                inputs, models (file, sha256, training worlds and split),
 *                                           seeds, method, timings, command
 *   run.log                                 progress lines
 *
 * With `snapshot` instead of `dm`, the DM grid is made first, as `lodi prepare` makes it (world/ in the run
 * directory: CIC, the LODI model's voxel and smoothing radius), so the main job starts from a simulation output.
 *
 * The realisations are generated together, the same stage of each in shared batches (each map keeps its
 * own seeded noise streams, so batching changes no more than the last bits of the convolutions).
 *
 * HALOgen streams the DM grid from its file and writes halos.npy plane by plane (predictHalosFile), and LODI writes the
 * latent-overlap and tiling maps sub-volume by sub-volume, so memory grows only as N^2 (HALOgen's open x-planes), not
 * N^3. The DM grid must be a little-endian C-order float32/float64 .npy (what lodi and NumPy write by default).
 *
 * A killed run resumes with `resume`: the halo prediction, every finished realisation and, within the maps it
 * was writing (latent overlap or tiling), every finished sub-volume are kept (checked against the model
 * checksums, seeds and the stage plan). A run that fails before
 * writing anything leaves no directory behind.
 */
import { resolvePrecision, type Precision, type PrecisionChoice } from '../nets/precision.js';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { resolveDevice } from '@lodi/torch';
import { HALOGEN_KIND, halogenContractProblems, loadHalogen, type HalogenMeta } from '../halogen/checkpoint.js';
import { halogenTrainedWorlds } from '../halogen/init.js';
import { cubicSide, predictHalosFile } from '../halogen/infer-file.js';
import { loadGrid, loadGridMeta, saveGrid, saveGridStreamed, sidecarPath, type GridMeta } from '../io/grid.js';
import { readNpyLayout } from '../io/npy-file.js';
import { WORLD_MEMBERS } from '../io/world.js';
import { LODI_KIND, loadLodi, lodiTrainedWorlds, type LodiMeta } from '../lodi/checkpoint.js';
import { readCheckpointMeta, resolveModelFile } from '../train/checkpoint.js';
import { openSnapshot } from '../io/snapshot.js';
import type { LengthUnit } from '../io/units.js';
import { runPrepare } from './prepare.js';
import { resolveNoise, type GenerationMethod, type NoiseSource } from '../lodi/generate.js';
import { removeStaleTemps, writeFileAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { generateRun, realisationSeed, sha256File } from './generate.js';
import { modelPath } from './models.js';

export const RUN_FORMAT = 'lodi-run';

export interface RunOptions {
  /** DM density grid [N,N,N] with its sidecar (e.g. a world's dm.npy); or give `snapshot`. */
  dm?: string;
  /**
   * A simulation snapshot (any format `lodi prepare` reads) to grid into <out>/world/dm.npy first, at the LODI
   * model's voxel (box / voxel cells per side) and smoothing radius; instead of `dm`.
   */
  snapshot?: string;
  /** For `snapshot`: length unit of files without UnitLength_in_cm, and the box [Mpc/h] of headers without one. */
  lengthUnit?: LengthUnit;
  box?: number;
  /**
   * Halo channels [4,N,N,N] to condition on instead of running HALOgen (e.g. a world's true
   * halos.npy, to validate LODI alone); the DM grid then only supplies box and provenance.
   */
  halos?: string;
  /** Model paths (default: the bundled models). */
  halogen?: string;
  lodi?: string;
  /** Where the networks run: 'cpu' (default), 'cuda', 'cuda:N' or 'auto' (engine's `resolveDevice`); recorded in run.json. */
  device?: string;
  /** Precision of both networks (default float32; 'auto': bfloat16 on CUDA, float32 on the CPU; src/nets/precision.ts); recorded in run.json. */
  precision?: PrecisionChoice;
  /** Where LODI's sampler draws its noise (default 'auto'; src/lodi/generate.ts); recorded in the maps' sidecars. */
  noise?: NoiseSource | 'auto';
  out: string;
  realizations?: number;
  seed?: number;
  method?: GenerationMethod;
  batch?: number;
  steps?: number;
  /** Also generate realisation 0 by tiling, by averaging and (N ≤ 128) in one pass (stitching diagnostics). */
  baselines?: boolean;
  /** Which baselines (default: tiling, average, and single when N ≤ 128). */
  baselineMethods?: ('tiling' | 'average' | 'single')[];
  /** Run even when the DM grid breaks a model's data contract (voxel size, unit); refused otherwise. */
  ignoreContract?: boolean;
  resume?: boolean;
  force?: boolean;
  quiet?: boolean;
  command?: string;
}

export interface RunJson {
  format: typeof RUN_FORMAT;
  version: 1;
  grid: number;
  boxSize: number;
  redshift: number;
  realizations: number;
  method: GenerationMethod;
  seeds: number[];
  box: number;
  overlap: number;
  periodic: boolean;
  steps: number;
  dm: { path: string; seed?: number };
  models: {
    /** Absent when the halo channels were given (`halos`). */
    halogen?: {
      file: string;
      sha256: string;
      preset: string;
      trainWorlds: { dir: string; seed?: number }[];
      split: unknown;
    };
    lodi: {
      file: string;
      sha256: string;
      preset: string;
      /** `halosFile`: the halo channels LODI trained on when not the world's halos.npy (e.g. HALOgen's prediction). */
      trainWorlds: { dir: string; seed?: number; halosFile?: string }[];
      split: unknown;
    };
  };
  files: { halos: string; tb: string[]; baselines: Record<string, string> };
  timings: Record<string, number>;
  /** Where the networks ran ('cpu', 'cuda', 'cuda:N'), and in which precision (absent: float32). */
  device?: string;
  precision?: Precision;
  /** Where LODI's sampler drew its noise (absent: the host). */
  noise?: NoiseSource;
  command?: string;
}

export async function runPipeline(opts: RunOptions): Promise<RunJson> {
  const out = resolve(opts.out);
  if ((opts.dm === undefined) === (opts.snapshot === undefined)) throw new Error('lodi run: give the DM grid (--dm) or a snapshot to grid (--snapshot), not both or neither');
  if (opts.dm !== undefined && !existsSync(opts.dm))
    throw new Error(`${opts.dm}: not found (expected a DM density grid [N,N,N] .npy with its .json sidecar)`);
  if (existsSync(join(out, 'run.json')) && !opts.resume && !opts.force)
    throw new Error(`${out} already holds a run; pass --resume to continue it or --force to overwrite it`);
  // temporaries of a killed earlier run (e.g. halos.npy's, 4 N^3 floats) go whether or not this one resumes
  if (existsSync(out)) removeStaleTemps(out);
  const createdBySnapshot = !existsSync(out);
  let dmPath: string;
  try {
    dmPath = opts.dm ?? (await gridSnapshot(opts, out));
  } catch (err) {
    if (createdBySnapshot) rmSync(out, { recursive: true, force: true });
    throw err;
  }
  const o = { ...opts, dm: dmPath };
  const R = o.realizations ?? 5;
  const seed = o.seed ?? 1;
  const method = o.method ?? 'overlap';
  // only the header and sidecar: HALOgen streams the grid by x-planes (predictHalosFile), so the run's memory grows
  // as N^2, not N^3
  const dmShape = readNpyLayout(o.dm).shape;
  const n = cubicSide(o.dm, dmShape);
  const dm = { meta: loadGridMeta(o.dm, dmShape) };
  if (!(dm.meta.boxSize > 0) || !Number.isFinite(dm.meta.boxSize))
    throw new Error(`${o.dm}: boxSize: ${dm.meta.boxSize}, expected a positive box size in Mpc/h in its sidecar`);
  const halogenFile = o.halos ? null : modelPath('halogen', o.halogen);
  const lodiFile = modelPath('lodi', o.lodi);
  const device = resolveDevice(o.device ?? 'cpu');
  const precision = resolvePrecision(o.precision ?? 'float32', device);
  const noise = resolveNoise(o.noise ?? 'auto', device);
  if (!o.ignoreContract) checkContracts(o.dm, dm.meta.boxSize, n, dm.meta.unit, halogenFile, lodiFile);
  // (before gridSnapshot made <out>/world, if it did)
  const created = createdBySnapshot;
  const timings: Record<string, number> = {};
  const logFile = join(out, 'run.log');
  try {
    mkdirSync(out, { recursive: true });
    const log = new Progress('lodi run', 3, { logFile, quiet: o.quiet });
    // ---- HALOgen (or the given halo channels) ----
    const halosPath = join(out, 'halos.npy');
    let t0 = Date.now();
    let halogenRef: RunJson['models']['halogen'] | null = null;
    if (o.halos) {
      const given = loadGrid(o.halos);
      if (given.shape.length !== 4 || given.shape[1] !== n)
        throw new Error(`${o.halos}: expected halo channels [4,${n},${n},${n}] matching ${o.dm}, got [${given.shape}]`);
      saveGrid(
        halosPath,
        {
          ...given,
          meta: {
            ...given.meta,
            provenance: {
              ...given.meta.provenance,
              generator: 'lodi run (given halo channels)',
              inputs: [resolve(o.halos)],
            },
          },
        },
        { force: true },
      );
      log.log(`halo channels: ${o.halos} (HALOgen not run)`);
    } else {
      const hg = loadHalogen(halogenFile!, device);
      const hgSha = sha256File(hg.file);
      const haveHalos =
        o.resume &&
        existsSync(halosPath) &&
        existsSync(sidecarPath(halosPath)) &&
        ((p) => p?.modelSha256 === hgSha && (p?.precision ?? 'float32') === precision)(
          (JSON.parse(readFileSync(sidecarPath(halosPath), 'utf8')) as { provenance?: { modelSha256?: string; precision?: string } }).provenance,
        );
      if (!haveHalos) {
        log.log(`HALOgen: ${hg.file} on ${o.dm} (${n}^3)`);
        let bar: Progress | null = null;
        const cfg = hg.meta.config;
        const meta: GridMeta = {
          boxSize: dm.meta.boxSize,
          redshift: dm.meta.redshift,
          quantity: WORLD_MEMBERS.halos.quantity,
          unit: hg.meta.worlds[0]?.haloUnit ?? WORLD_MEMBERS.halos.unit,
          channels: hg.meta.worlds[0]?.channels,
          provenance: {
            generator: 'lodi run (HALOgen)',
            command: o.command,
            inputs: [o.dm, hg.file],
            model: hg.file,
            modelSha256: hgSha,
            precision,
            floorLog: cfg.infer.floorLog,
          },
        };
        // streamed from and to disk (the same values as in memory, to the bit): memory O(crop N^2) at any N
        await saveGridStreamed(
          halosPath,
          [cfg.model.outChannels, n, n, n],
          meta,
          (tmp) =>
            predictHalosFile(hg.model, hg.meta, o.dm!, tmp, {
              precision,
              onProgress: (d, t) => {
                bar ??= new Progress('HALOgen windows', t, { quiet: o.quiet, logFile });
                bar.update(d);
              },
            }),
          { force: true },
        );
      } else log.log(`HALOgen: keeping ${halosPath} (same model and precision)`);
      hg.model.dispose();
      halogenRef = {
        file: hg.file,
        sha256: hgSha,
        preset: hg.meta.config.preset ?? 'unknown',
        trainWorlds: halogenTrainedWorlds(hg.meta).map((w) => ({ dir: w.dir, seed: w.seed })),
        split: hg.meta.split,
      };
    }
    timings.halogen = (Date.now() - t0) / 1000;
    log.update(1, 'halos done');
    // ---- LODI ----
    const lodi = loadLodi(lodiFile, device);
    const lodiSha = sha256File(lodi.file);
    const seeds = Array.from({ length: R }, (_, r) => realisationSeed(seed, r));
    const tbFiles = seeds.map((_, r) => join(out, `tb_${r}.npy`));
    t0 = Date.now();
    // every map of the run: same halos, model, batch, steps and log; the maps with sub-volumes written in place go
    // through a work file (byte for byte the in-memory result); with `resume` finished maps are kept and a killed
    // run also keeps the finished sub-volumes of the maps it was writing (the rest of their stage is then batched
    // differently, so that map equals an uninterrupted one to float rounding); without it (a new run, or --force)
    // every map is made afresh, whatever an earlier run left in the folder
    const generate = (files: string[], m: GenerationMethod): Promise<unknown> =>
      generateRun({
        halos: halosPath,
        model: lodi,
        out: files[0]!,
        files,
        realizations: files.length,
        seed,
        method: m,
        fileBacked: m === 'overlap' || m === 'tiling',
        batch: o.batch,
        steps: o.steps,
        precision,
        noise,
        resume: o.resume === true,
        force: true,
        ignoreContract: o.ignoreContract,
        quiet: o.quiet,
        logFile,
        command: o.command,
      }).catch((err: unknown) => {
        if (o.resume && err instanceof Error && /\.work[/\\]plan\.json/.test(err.message)) {
          throw new Error(`${err.message} (here: a work file of the maps the interrupted run was writing; rerun with --force instead of --resume to start it afresh)`);
        }
        throw err;
      });
    try {
      // the realisations together: the same stage of each in shared batches (a 64^3 box has one sub-volume per stage)
      log.log(`LODI (${method}): ${R > 1 ? `${R} realisations, seeds ${seeds.join(', ')}` : `seed ${seeds[0]}`}`);
      await generate(tbFiles, method);
      timings.lodi = (Date.now() - t0) / 1000;
      log.update(2, 'T_b done');
      const baselines: Record<string, string> = {};
      if (o.baselines) {
        t0 = Date.now();
        // a single-pass generation of the whole box is the stitching reference when it fits in memory
        const methods =
          o.baselineMethods ??
          (n <= 128 ? (['tiling', 'average', 'single'] as const) : (['tiling', 'average'] as const));
        for (const m of methods) {
          const f = join(out, `tb_${m}_0.npy`);
          log.log(`LODI (${m} baseline): realisation 1, seed ${seeds[0]}`);
          await generate([f], m);
          baselines[m] = f;
        }
        timings.baselines = (Date.now() - t0) / 1000;
      }
      log.update(3, 'done');
      const dmSeed = dm.meta.provenance?.seed;
      const run: RunJson = {
        format: RUN_FORMAT,
        version: 1,
        grid: n,
        boxSize: dm.meta.boxSize,
        redshift: dm.meta.redshift ?? 0,
        realizations: R,
        method,
        seeds,
        box: lodi.model.cfg.data.crop,
        overlap: 4,
        periodic: true,
        steps: o.steps ?? lodi.model.cfg.schedule.steps,
        dm: { path: resolve(o.dm), seed: typeof dmSeed === 'number' ? dmSeed : undefined },
        models: {
          halogen: halogenRef ?? undefined,
          lodi: {
            file: lodi.file,
            sha256: lodiSha,
            preset: lodi.meta.config.preset,
            trainWorlds: lodiTrainedWorlds(lodi.meta).map((w) => ({ dir: w.dir, seed: w.seed, ...(w.halosFile === undefined ? {} : { halosFile: w.halosFile }) })),
            split: { seed: lodi.meta.split.seed, train: lodi.meta.split.train.length, val: lodi.meta.split.val.length },
          },
        },
        files: {
          halos: 'halos.npy',
          tb: tbFiles.map((f) => f.slice(out.length + 1)),
          baselines: Object.fromEntries(Object.entries(baselines).map(([k, f]) => [k, f.slice(out.length + 1)])),
        },
        timings,
        device,
        precision,
        noise,
        command: o.command,
      };
      writeFileAtomic(join(out, 'run.json'), JSON.stringify(run, null, 1) + '\n', { force: true });
      return run;
    } finally {
      lodi.model.dispose();
    }
  } catch (err) {
    if (created && !o.resume) rmSync(out, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Refuses, before any model runs, a DM grid whose voxel (or unit) differs from what the models were
 * trained on: HALOgen's training worlds and LODI's contract (LODI sees HALOgen's output on the same
 * grid, so its voxel must match too). Reads only the checkpoints' headers: a file whose weights are
 * truncated passes here and is refused when the model loads.
 *
 * @throws Error naming the grid, the field, its value and the model's, with the way to override.
 */
function checkContracts(dmFile: string, boxSize: number, n: number, unit: string, halogenFile: string | null, lodiFile: string): void {
  const problems: string[] = [];
  if (halogenFile) {
    const meta = readCheckpointMeta<HalogenMeta>(resolveModelFile(halogenFile), HALOGEN_KIND);
    problems.push(...halogenContractProblems(meta, { file: dmFile, boxSize, n, unit }));
  }
  const want = readCheckpointMeta<LodiMeta>(resolveModelFile(lodiFile), LODI_KIND).contract.voxel;
  const voxel = boxSize / n;
  if (Math.abs(voxel - want) > 1e-3 * want && !problems.some((p) => p.includes(': voxel:')))
    problems.push(`${dmFile}: voxel: ${voxel.toFixed(4)} Mpc/h (box ${boxSize} Mpc/h / ${n}), expected ${want.toFixed(4)} Mpc/h, the voxel LODI was trained at`);
  if (problems.length) throw new Error(`${problems[0]} (regrid it, e.g. lodi prepare --grid ${Math.max(1, Math.round(boxSize / want))}, or pass --ignore-contract)`);
}

/**
 * Grids `o.snapshot` into <out>/world/ as `lodi prepare` does (DM only), at the LODI model's voxel and smoothing
 * radius; returns the dm.npy path. With `resume` an existing grid is kept.
 *
 * @throws Error naming the snapshot when its box is not a whole number of the model's voxels (within 1e-3).
 */
async function gridSnapshot(o: RunOptions, out: string): Promise<string> {
  const world = join(out, 'world');
  const dm = join(world, 'dm.npy');
  if (o.resume && existsSync(dm) && existsSync(sidecarPath(dm))) return dm;
  const lodiFile = modelPath('lodi', o.lodi);
  const { voxel, smoothingR } = readCheckpointMeta<LodiMeta>(resolveModelFile(lodiFile), LODI_KIND).contract;
  const snap = await openSnapshot(o.snapshot!, { ...(o.lengthUnit ? { lengthUnit: o.lengthUnit } : {}), ...(o.box !== undefined ? { boxSize: o.box } : {}) });
  const box = snap.info.boxSize;
  const grid = Math.round(box / voxel);
  if (grid < 2 || Math.abs(box / grid - voxel) > 1e-3 * voxel)
    throw new Error(`${o.snapshot}: box ${box} Mpc/h is not a whole number of the LODI model's ${voxel.toFixed(4)} Mpc/h voxels (expected a box of N × ${voxel.toFixed(4)} Mpc/h)`);
  await runPrepare({
    snapshot: o.snapshot!,
    grid,
    out: world,
    smoothing: smoothingR ?? 0.2,
    massUnit: 'Msun',
    massDefinition: 'fof',
    halos: 'groups',
    chunk: 1 << 20,
    plots: false,
    force: true,
    quiet: o.quiet,
    ...(o.lengthUnit ? { lengthUnit: o.lengthUnit } : {}),
    ...(o.box !== undefined ? { box: o.box } : {}),
    command: o.command,
  });
  return dm;
}
