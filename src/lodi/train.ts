/**
 * LODI training (LODI paper Sec. 2.3.2; VDM training of Kingma et al. 2021): AdamW with linear
 * warm-up and cosine decay by step, gradient-norm clipping, EMA weights (used for validation and
 * sampling), the best-validation checkpoint, and exact resume after a kill.
 *
 * Run directory:
 *   checkpoint.safetensors  live weights + EMA + optimiser + RNG states + metadata (every evalEvery steps,
 *                           atomically, and on SIGINT); `resume` continues from it on the same trajectory
 *   best.safetensors        EMA weights with the lowest validation loss so far (+ metadata)
 *   history.csv             train/validation loss terms and γ(0), γ(1) per evaluation
 *   split.json              the seeded 75/25 block split;  train.log  progress lines
 *
 * With `group` the run is data-parallel over processes (src/train/data-parallel.ts); rank 0 writes it.
 */
import { join, resolve } from 'node:path';
import { AdamW, EMA, F, Generator, clipGradNorm, keep, noGrad, tidy, type ProcessGroup, type ProcessGroupOptions, type Tensor } from '@lodi/torch';
import { BEST_FILE, CHECKPOINT_FILE, disposeGroups, readCheckpoint, resolveModelFile, writeCheckpoint } from '../train/checkpoint.js';
import { sha256Stream } from '../io/npy-file.js';
import { agreeToStart, averageGradients, rankRows, rankStepSeed, receiveStart, receiveStartTensors, runDataParallel, sendStart, type StartTensors } from '../train/data-parallel.js';
import { writeCsv } from '../train/log.js';
import { runTraining, type TrainTask } from '../train/loop.js';
import { RunDir } from '../train/run-dir.js';
import { warmupCosine } from '../train/schedule.js';
import { writeFileAtomic } from '../util/atomic.js';
import { interruptRequested } from '../util/interrupt.js';
import { Progress } from '../util/progress.js';
import { LODI_KIND, lodiTrainedWorlds, type LodiEvalRecord, type LodiMeta } from './checkpoint.js';
import { validateLodiConfig, type LodiConfig } from './config.js';
import { LodiDataset, Rng, loadPair, splitBlocks, type Batch, type LodiPair } from './dataset.js';
import { LodiModel, type LossTerms } from './vdm.js';

export interface LodiTrainOptions {
  /** World directories holding tb.npy and halos.npy (or loaded pairs). */
  worlds: (string | LodiPair)[];
  config: LodiConfig;
  out: string;
  seed: number;
  resume?: boolean;
  force?: boolean;
  /**
   * File of every world's halo channels instead of halos.npy (relative to the world directory), e.g.
   * HALOgen's prediction of it, so that LODI trains on the conditioning it is given at generation.
   */
  halosFile?: string;
  /**
   * A trained LODI (run directory or .safetensors) to start from instead of random weights
   * (fine-tuning): its EMA weights, data normalisation and, on the same worlds, its split are taken;
   * `config.net` and `config.schedule` must equal its own. Fresh optimiser and step count.
   */
  init?: string;
  /**
   * Where the network trains: 'cpu' (default), 'cuda' or 'cuda:N' (a resolved device). The weights are
   * initialised on the CPU and moved, data batches and diffusion noise come from the host (same seed,
   * same draws on every device), and dropout draws on the device from a generator reseeded every step
   * from (seed, step), so that a run resumes on any device.
   */
  device?: string;
  /** Stop (as if killed, after saving) once this many steps are done in total; for resume tests. */
  stopAfterStep?: number;
  quiet?: boolean;
  command?: string;
  /** Called after every evaluation (e.g. to redraw the loss plot). */
  onEval?: (meta: LodiMeta) => void;
  /**
   * Data-parallel training (src/train/data-parallel.ts): this process is rank `distributed.rank` of
   * `distributed.worldSize`, meeting the others at `distributed.rendezvous`. Rank 0 owns the run
   * directory and sends its starting state to the others; each rank trains on its slice of every
   * batch (the batch must be a multiple of the world size). Plain data, so that it reaches the
   * training worker thread.
   */
  distributed?: ProcessGroupOptions;
  /** Called on every rank with the final live weights before they are freed (checks that ranks agree). */
  onDone?: (params: Tensor[]) => void;
}

export interface LodiTrainResult {
  meta: LodiMeta;
  stopped: boolean;
  out: string;
}

type Terms = { total: number; diffusion: number; prior: number; reconstruction: number };

function toTensors(b: Batch, crop: number, channels: number, device = 'cpu'): { x: Tensor; cond: Tensor } {
  return { x: F.tensor(b.x, [b.size, 1, crop, crop, crop], { device }), cond: F.tensor(b.cond, [b.size, channels, crop, crop, crop], { device }) };
}

/** Validation loss terms with the current weights, fixed crops and fixed noise (seed `valSeed`). */
export function validationLoss(model: LodiModel, ds: LodiDataset, batchSize: number, maxBatches: number, valSeed: number): Terms {
  const wasTraining = model.training;
  model.eval();
  const gen = new Generator(valSeed);
  const acc: Terms = { total: 0, diffusion: 0, prior: 0, reconstruction: 0 };
  let n = 0;
  noGrad(() => {
    for (const b of ds.valBatches(batchSize, maxBatches)) {
      tidy(() => {
        const { x, cond } = toTensors(b, ds.cfg.crop, ds.pairs[0]!.channels, model.device);
        const t = model.loss(x, cond, model.drawNoise(x, gen));
        acc.total += t.total.item() * b.size;
        acc.diffusion += t.diffusion * b.size;
        acc.prior += t.prior * b.size;
        acc.reconstruction += t.reconstruction * b.size;
        n += b.size;
      });
    }
  });
  model.train(wasTraining);
  for (const k of Object.keys(acc) as (keyof Terms)[]) acc[k] /= Math.max(n, 1);
  return acc;
}

function historyRows(h: LodiEvalRecord[]): Record<string, number>[] {
  return h.map((r) => ({
    step: r.step,
    lr: r.lr,
    train_total: r.train.total,
    train_diffusion: r.train.diffusion,
    train_prior: r.train.prior,
    train_reconstruction: r.train.reconstruction,
    val_total: r.val.total,
    val_diffusion: r.val.diffusion,
    val_prior: r.val.prior,
    val_reconstruction: r.val.reconstruction,
    gamma0: r.gamma0,
    gamma1: r.gamma1,
    seconds: r.seconds,
  }));
}

function contractOf(pairs: LodiPair[]): LodiMeta['contract'] {
  const p = pairs[0]!;
  for (const q of pairs) {
    if (q.smoothingR !== p.smoothingR) throw new Error(`${q.name}: smoothing radius ${q.smoothingR} Mpc/h differs from ${p.name} (${p.smoothingR} Mpc/h)`);
    if (JSON.stringify(q.massBins) !== JSON.stringify(p.massBins)) throw new Error(`${q.name}: halo mass bins differ from those of ${p.name}`);
  }
  const massBins = p.massBins ? { edges: p.massBins.edges.map((e) => (Number.isFinite(e) ? e : null)), unit: p.massBins.unit } : null;
  return { voxel: p.boxSize / p.n, smoothingR: p.smoothingR, massBins, haloUnit: p.haloUnit, tbUnit: p.tbUnit, channels: p.channels, redshift: p.redshift };
}

/**
 * The first field of a recorded data contract (a run from an older version may record fewer) that the contract of
 * `pairs` does not match, both sides as JSON; null when they agree.
 */
function contractDifference(pairs: LodiPair[], recorded: LodiMeta['contract']): { key: string; mine: string; recorded: string } | null {
  const c = contractOf(pairs) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(recorded)) if (JSON.stringify(c[k]) !== JSON.stringify(v)) return { key: k, mine: JSON.stringify(c[k]), recorded: JSON.stringify(v) };
  return null;
}

/** Files of a run besides the checkpoints (removed when --force starts it over). */
const RUN_FILES = ['train.log', 'history.csv', 'split.json', 'loss.png'];

/** What training changes: weights, EMA, optimiser and the random streams. */
interface LodiState {
  model: LodiModel;
  params: Tensor[];
  names: string[];
  opt: AdamW;
  ema: EMA;
  noiseGen: Generator;
  dropoutGen: Generator;
  rng: Rng;
}

function buildState(cfg: LodiConfig, seeds: LodiMeta['seeds'], device = 'cpu'): LodiState {
  // initialised on the CPU from the seed, so that the initial weights are those of every device
  const model = new LodiModel(cfg, new Generator(seeds.model));
  if (device !== 'cpu') model.to(device);
  const params = model.parameters();
  const s: LodiState = {
    model,
    params,
    names: model.namedParameters().map(([n]) => n),
    opt: new AdamW(params, { lr: cfg.train.lr, weightDecay: cfg.train.weightDecay }),
    ema: new EMA(params, cfg.train.emaDecay),
    noiseGen: new Generator(seeds.noise),
    dropoutGen: new Generator(seeds.dropout, device),
    rng: new Rng(seeds.data),
  };
  model.net.dropoutGen = s.dropoutGen;
  return s;
}

/** Restores weights, EMA, optimiser and random streams from a resumed checkpoint's tensors. */
function restoreState(s: LodiState, groups: Map<string, Map<string, Tensor>>, meta: LodiMeta, cfg: LodiConfig): void {
  s.model.loadStateDict(groups.get('model')!);
  const emaW = groups.get('ema')!;
  noGrad(() => s.names.forEach((n, i) => s.ema.shadow[i]!.copy_(emaW.get(n)!)));
  s.opt.loadStateTensors(groups.get('optim') ?? new Map(), { step: meta.step, lr: cfg.train.lr });
  s.noiseGen.setState(groups.get('rng')!.get('noise')!);
  // a run on another device reseeds dropout every step; a CPU generator takes the state it saved
  const dropout = groups.get('rng')!.get('dropout')!;
  if (s.dropoutGen.device === 'cpu' && dropout.numel === tidy(() => s.dropoutGen.getState().numel)) s.dropoutGen.setState(dropout);
  s.rng.state = meta.dataRng;
}

/** Writes the EMA weights (`best`, for sampling) or everything resume needs (`checkpoint`), atomically. */
function saveLodi(path: string, s: LodiState, meta: LodiMeta, withState: boolean): void {
  tidy(() => {
    const groups: Record<string, Map<string, Tensor>> = {};
    if (withState) {
      groups.model = s.model.stateDict();
      groups.ema = new Map(s.names.map((n, i) => [n, s.ema.shadow[i]!]));
      groups.optim = s.opt.stateTensors().tensors;
      groups.rng = new Map([
        ['noise', s.noiseGen.getState()],
        ['dropout', s.dropoutGen.getState()],
      ]);
    } else {
      groups.model = new Map(s.names.map((n, i) => [n, s.ema.shadow[i]!]));
    }
    writeCheckpoint(path, LODI_KIND, groups, meta);
  });
}

/** Checks that every pair has the channels and voxel size of the first. */
function checkPairs(pairs: LodiPair[]): void {
  const p0 = pairs[0]!;
  const v0 = p0.boxSize / p0.n;
  for (const p of pairs) {
    if (p.channels !== p0.channels) throw new Error(`${p.name}: ${p.channels} halo channels, but ${p0.name} has ${p0.channels}`);
    const v = p.boxSize / p.n;
    if (Math.abs(v - v0) > 1e-6 * v0) throw new Error(`${p.name}: voxel ${v.toFixed(4)} Mpc/h differs from ${p0.name} (${v0.toFixed(4)} Mpc/h); LODI trains at one resolution`);
  }
}

/** A trained LODI that a run starts from (`init`). `groups` are freed once the weights are loaded. */
interface InitModel {
  file: string;
  sha256: string;
  meta: LodiMeta;
  weights: Map<string, Tensor>;
  groups: Map<string, Map<string, Tensor>>;
  /** Its split when the worlds are the same (same grids, boxes, redshifts, seeds), else null. */
  split: LodiMeta['split'] | null;
}

/**
 * Reads the model a fine-tuning run starts from and checks that it fits: same network and schedule
 * as `cfg` (the weights must load), and the data contract of `pairs`.
 *
 * @throws Error (one line, naming the file and the field) when it does not fit
 */
function readInit(path: string, cfg: LodiConfig, pairs: LodiPair[]): InitModel {
  const file = resolveModelFile(path);
  const ck = readCheckpoint<LodiMeta>(file, LODI_KIND);
  try {
    const m = ck.meta;
    for (const k of ['net', 'schedule'] as const)
      if (JSON.stringify(m.config[k]) !== JSON.stringify(cfg[k]))
        throw new Error(`--init ${file}: config.${k} ${JSON.stringify(m.config[k])} differs from this run's ${JSON.stringify(cfg[k])}; fine-tune with the model's own preset`);
    if (m.config.data.crop !== cfg.data.crop) throw new Error(`--init ${file}: config.data.crop ${m.config.data.crop}, this run's ${cfg.data.crop}`);
    const d = contractDifference(pairs, m.contract);
    if (d) throw new Error(`--init ${file}: data contract ${d.key}: the worlds give ${d.mine}, the model was trained on ${d.recorded}`);
    const weights = ck.groups.get('ema') ?? ck.groups.get('model');
    if (!weights) throw new Error(`--init ${file}: holds no model weights`);
    const same = sameWorldsProblem(pairs, m) === null;
    return { file, sha256: sha256Stream(file), meta: m, weights, groups: ck.groups, split: same ? m.split : null };
  } catch (err) {
    disposeGroups(ck.groups);
    throw err;
  }
}

/**
 * Trains LODI (or resumes a run) with the shared loop (src/train/loop.ts): one period per
 * `evalEvery` steps. Returns the final metadata. Throws (one line) on a bad config, an existing run
 * without `resume`/`force`, `resume` without a checkpoint, unreadable worlds or a diverging loss; a
 * run that fails before its first checkpoint leaves no directory behind that it created. With
 * `distributed`, every rank calls this; the group is opened here and closed on return, and a rank
 * 0 that fails before training sends its error to the others, which throw it too.
 */
export async function trainLodi(o: LodiTrainOptions): Promise<LodiTrainResult> {
  return runDataParallel(
    o.distributed,
    (dp, onSent) => leadLodi(o, dp, onSent),
    (dp) => followLodi(o, dp),
  );
}

/** A single-process run, or rank 0 of a data-parallel one (`onSent` once the others have its metadata). */
async function leadLodi(o: LodiTrainOptions, dp: ProcessGroup | null, onSent: () => void): Promise<LodiTrainResult> {
  const run = new RunDir<LodiMeta>(o.out, LODI_KIND, { resume: o.resume, force: o.force, missingCheckpoint: 'error', files: RUN_FILES });
  let s: LodiState | null = null;
  let init: InitModel | null = null;
  try {
    const dirs = o.worlds.map((w) => (typeof w === 'string' ? resolve(w) : w.name));
    const pairs = o.worlds.map((w) => (typeof w === 'string' ? loadPair(w, o.halosFile) : w));
    checkPairs(pairs);
    const resumed = run.resumed;
    if (!resumed && o.init !== undefined) init = readInit(o.init, o.config, pairs);
    // a resumed run takes the given total of steps, or keeps its own when given 0
    const steps = resumed ? o.config.train.steps || resumed.meta.config.train.steps : o.config.train.steps;
    const cfg: LodiConfig = resumed ? { ...resumed.meta.config, train: { ...resumed.meta.config.train, steps } } : o.config;
    validateLodiConfig(cfg);
    const base = o.seed;
    const seeds = resumed?.meta.seeds ?? { base, model: base, split: base + 1, data: base + 2, noise: base + 3, dropout: base + 4, val: base + 5 };
    const split = resumed?.meta.split ?? init?.split ?? splitBlocks(pairs.map((p) => p.n), cfg.data.crop, cfg.data.trainFraction, seeds.split);
    const norm = resumed?.meta.normalisation ?? init?.meta.normalisation ?? LodiDataset.normalisation(pairs, cfg.data, split);
    const ds = new LodiDataset(pairs, cfg.data, split, norm);
    run.create();
    s = buildState(cfg, seeds, o.device);
    if (init) {
      const st = s;
      st.model.loadStateDict(init.weights);
      noGrad(() => st.params.forEach((p, i) => st.ema.shadow[i]!.copy_(p)));
    }
    let meta: LodiMeta;
    if (resumed) {
      meta = resumed.meta;
      meta.config = cfg;
      try {
        restoreState(s, resumed.groups, meta, cfg);
      } finally {
        run.disposeResumed();
      }
    } else {
      meta = {
        format: LODI_KIND,
        version: 1,
        config: cfg,
        seeds,
        worlds: pairs.map((p, i) => ({ dir: dirs[i]!, n: p.n, boxSize: p.boxSize, redshift: p.redshift, seed: p.seed, ...(o.halosFile === undefined ? {} : { halosFile: o.halosFile }) })),
        split,
        normalisation: norm,
        contract: contractOf(pairs),
        step: 0,
        dataRng: s.rng.state,
        bestVal: null,
        bestStep: null,
        history: [],
        description: { parameters: s.model.numParameters(), flopsPerCrop: s.model.net.flopsPerCrop(cfg.data.crop), crop: cfg.data.crop },
        command: o.command,
        ...(init ? { init: { file: init.file, sha256: init.sha256, step: init.meta.step, worlds: lodiTrainedWorlds(init.meta) } } : {}),
      };
      writeFileAtomic(join(run.out, 'split.json'), JSON.stringify({ seed: split.seed, trainFraction: cfg.data.trainFraction, worlds: meta.worlds, train: split.train, val: split.val }, null, 1) + '\n', { force: true });
    }
    const progress = new Progress('lodi train', cfg.train.steps, { logFile: join(run.out, 'train.log'), quiet: o.quiet, startAt: meta.step });
    if (run.notice) progress.log(run.notice);
    if (init) progress.log(`starting from ${init.file} (step ${init.meta.step}): its weights and normalisation${init.split ? ' and split' : '; new split (other worlds)'}`);
    if (o.halosFile !== undefined) progress.log(`halo channels from ${o.halosFile} in each world (not halos.npy)`);
    progress.log(
      `LODI ${cfg.preset}: ${meta.description.parameters} parameters, ${(meta.description.flopsPerCrop / 1e9).toFixed(2)} GFLOP per ${cfg.data.crop}^3 crop; ` +
        `${pairs.length} world(s), ${split.train.length} training / ${split.val.length} validation blocks; step ${meta.step} of ${cfg.train.steps}`,
    );
    if (dp) {
      rankRows(dp, cfg.data.batchSize);
      const st = s;
      tidy(() => sendStart(dp, meta, st.opt.stateTensors().tensors, st.noiseGen.getState(), startTensors(st), onSent));
      progress.log(`data-parallel: ${dp.worldSize} ranks, ${cfg.data.batchSize / dp.worldSize} of the batch of ${cfg.data.batchSize} per rank`);
    }
    s.model.train();
    const r = await runTraining(lodiTask(o, cfg, ds, s, meta, run.out, dp), progress, meta.step);
    o.onDone?.(s.params);
    return { meta, stopped: r.stopped, out: run.out };
  } catch (err) {
    run.abandon();
    throw err;
  } finally {
    if (init) disposeGroups(init.groups);
    s?.model.dispose();
    s?.ema.dispose();
    s?.opt.dispose();
  }
}

/** The tensors every rank must hold alike at the start: weights and buffers, EMA, optimiser moments, the noise stream. */
function startTensors(s: LodiState): StartTensors {
  return (optim, noise) => [...s.model.stateDict().values(), ...s.ema.shadow, ...optim.values(), noise];
}

/** A follower's worlds must be rank 0's: same grids, boxes, redshifts, seeds and data contract. */
function sameWorldsProblem(pairs: LodiPair[], meta: LodiMeta): string | null {
  if (pairs.length !== meta.worlds.length) return `--worlds: ${pairs.length} world(s), expected rank 0's ${meta.worlds.length}`;
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i]!;
    const w = meta.worlds[i]!;
    for (const k of ['n', 'boxSize', 'redshift', 'seed'] as const)
      if (p[k] !== w[k]) return `${p.name}: ${k}: ${p[k]}, expected ${w[k]} as in rank 0's world ${i} (${w.dir})`;
  }
  const d = contractDifference(pairs, meta.contract);
  return d ? `--worlds: data contract ${d.key}: ${d.mine}, expected rank 0's ${d.recorded}` : null;
}

/**
 * Ranks 1..W−1: receive rank 0's metadata and state, load the same worlds, and train in step with
 * rank 0 without touching the run directory.
 */
async function followLodi(o: LodiTrainOptions, dp: ProcessGroup): Promise<LodiTrainResult> {
  const msg = receiveStart<LodiMeta>(dp);
  const meta = msg.meta;
  const cfg = meta.config;
  let ds: LodiDataset | null = null;
  let problem: string | null = null;
  try {
    const pairs = o.worlds.map((w) => (typeof w === 'string' ? loadPair(w, o.halosFile) : w));
    checkPairs(pairs);
    problem = sameWorldsProblem(pairs, meta);
    ds = new LodiDataset(pairs, cfg.data, meta.split, meta.normalisation);
  } catch (err) {
    problem = (err as Error).message;
  }
  agreeToStart(dp, problem);
  const s = buildState(cfg, meta.seeds, o.device);
  try {
    tidy(() => {
      const { optim, generator } = receiveStartTensors(dp, msg, startTensors(s));
      s.opt.loadStateTensors(optim, { step: meta.step, lr: cfg.train.lr });
      s.noiseGen.setState(generator);
    });
    s.rng.state = meta.dataRng;
    s.model.train();
    const progress = new Progress('lodi train', cfg.train.steps, { quiet: true, startAt: meta.step });
    const r = await runTraining(lodiTask(o, cfg, ds!, s, meta, '', dp), progress, meta.step);
    o.onDone?.(s.params);
    return { meta, stopped: r.stopped, out: o.out };
  } finally {
    s.model.dispose();
    s.ema.dispose();
    s.opt.dispose();
  }
}

/**
 * LODI as a task of the shared loop: a period is `evalEvery` steps (the last one shorter); the
 * validation uses the EMA weights (those used for sampling), then the live weights are restored.
 */
function lodiTask(o: LodiTrainOptions, cfg: LodiConfig, ds: LodiDataset, s: LodiState, meta: LodiMeta, out: string, dp: ProcessGroup | null): TrainTask {
  const C = ds.pairs[0]!.channels;
  const tc = cfg.train;
  const device = s.model.device;
  let lr = tc.lr;
  // rank 0 (or a single process) writes the run; in data-parallel runs a Ctrl-C on any rank stops all of them at the same step
  const lead = !dp || dp.rank === 0;
  let interrupted = false;
  const periodStart = (): number => Math.floor(meta.step / tc.evalEvery) * tc.evalEvery;
  return {
    finished: () => meta.step >= tc.steps,
    beginPeriod: () => Math.min(tc.steps, periodStart() + tc.evalEvery) - periodStart(),
    resumePeriod() {
      // the sums are those of this period when their step count agrees; otherwise (a checkpoint of an older run, or
      // a finished run whose short last period is extended with --steps) the period's mean covers the steps after
      // the resume
      const p = meta.partial;
      delete meta.partial;
      const done = meta.step - periodStart();
      if (done === 0) return null;
      return p && p.done === done ? p : { done, sum: {}, count: 0, seconds: 0 };
    },
    step() {
      lr = warmupCosine(meta.step, tc.lr, tc.warmupSteps, tc.steps, tc.lrMinFactor);
      s.opt.lr = lr;
      const batch = ds.trainBatch(s.rng);
      const terms = tidy(() => {
        const { x, cond } = toTensors(batch, cfg.data.crop, C, device);
        const noise = s.model.drawNoise(x, s.noiseGen);
        let t: LossTerms;
        if (!dp && device !== 'cpu') s.dropoutGen.manualSeed(rankStepSeed(meta.seeds.dropout, meta.step, 0));
        if (dp) {
          // every rank drew the global batch and its noise; each keeps its rows, with dropout of its own
          const rows = rankRows(dp, x.shape[0]!);
          const mine = (v: Tensor): Tensor => v.narrow(0, rows.start, rows.count);
          s.dropoutGen.manualSeed(rankStepSeed(meta.seeds.dropout, meta.step, dp.rank));
          t = s.model.loss(mine(x), mine(cond), { u0: noise.u0, eps: mine(noise.eps), eps0: mine(noise.eps0), rows: { start: rows.start, total: x.shape[0]! } });
        } else t = s.model.loss(x, cond, noise);
        t.total.backward();
        let v = [t.total.item(), t.diffusion, t.prior, t.reconstruction];
        if (dp) {
          const mean = averageGradients(dp, s.params, [...v, interruptRequested() ? 1 : 0]);
          interrupted = mean[4]! > 0;
          v = mean.slice(0, 4);
        }
        if (!Number.isFinite(v[0]!)) throw new Error(`LODI training diverged at step ${meta.step} (loss ${v[0]}); lower the learning rate (config train.lr)`);
        return { total: v[0]!, diffusion: v[1]!, prior: v[2]!, reconstruction: v[3]! };
      });
      if (tc.clipNorm > 0) clipGradNorm(s.params, tc.clipNorm);
      s.opt.step();
      s.model.zeroGrad();
      // EMA warm-up (as in common diffusion codebases): decay_t = min(decay, (1 + t)/(10 + t)), so a
      // short run's EMA weights are not dominated by the initialisation
      s.ema.update(Math.min(tc.emaDecay, (1 + meta.step) / (10 + meta.step)));
      meta.step++;
      meta.dataRng = s.rng.state;
      return { terms, samples: batch.size };
    },
    status: (m) => `loss ${m.total.toFixed(4)}`,
    endPeriod(train, seconds) {
      const live = noGrad(() => s.params.map((p) => keep(tidy(() => p.detach().clone()))));
      s.ema.copyTo();
      const val = validationLoss(s.model, ds, cfg.data.batchSize, tc.valBatches, meta.seeds.val);
      noGrad(() => s.params.forEach((p, i) => p.copy_(live[i]!)));
      for (const t of live) t.dispose();
      const rec: LodiEvalRecord = {
        step: meta.step,
        lr,
        train: { total: train.total, diffusion: train.diffusion!, prior: train.prior!, reconstruction: train.reconstruction! },
        val,
        gamma0: s.model.gamma.at(0),
        gamma1: s.model.gamma.at(1),
        seconds,
      };
      meta.history.push(rec);
      return {
        valTotal: val.total,
        line: (best) =>
          `step ${meta.step}: train ${rec.train.total.toFixed(4)} (diff ${rec.train.diffusion.toFixed(4)}), val ${val.total.toFixed(4)} (diff ${val.diffusion.toFixed(4)})` +
          `${best ? ' best' : ''}; γ(0) ${rec.gamma0.toFixed(2)}, γ(1) ${rec.gamma1.toFixed(2)}, lr ${lr.toExponential(2)}`,
      };
    },
    bestVal: () => meta.bestVal,
    markBest(v) {
      meta.bestVal = v;
      meta.bestStep = meta.step;
    },
    save(which) {
      if (lead) saveLodi(join(out, which === 'best' ? BEST_FILE : CHECKPOINT_FILE), s, meta, which === 'checkpoint');
    },
    saveMidPeriod(p) {
      if (!lead) return;
      meta.partial = p;
      saveLodi(join(out, CHECKPOINT_FILE), s, meta, true);
      delete meta.partial;
    },
    afterPeriod() {
      if (!lead) return;
      writeCsv(join(out, 'history.csv'), historyRows(meta.history));
      o.onEval?.(meta);
    },
    stopRequested: () => o.stopAfterStep !== undefined && meta.step >= o.stopAfterStep,
    ...(dp ? { interrupted: () => interrupted } : {}),
  };
}
