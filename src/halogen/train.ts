/**
 * HALOgen training (LODI paper, Sec. 2.3.1): RMSprop, constant LR for the first epochs, then
 * cosine annealing with warm restarts; keeps the checkpoint with the lowest validation loss.
 * Built on src/train: checkpoint files, the run-directory policy, LR schedules and CSV logs.
 *
 * Files in the run directory:
 *   checkpoint.safetensors  last epoch: model + optimizer state + data RNG state + JSON metadata
 *                           (written atomically after every epoch; `resume` continues from it exactly);
 *                           on Ctrl-C also inside an epoch, with the generator state of the epoch's start and
 *                           `meta.partial` (steps done, running sums), so that the resume draws the same epoch
 *                           and skips its steps done
 *   best.safetensors        model with the lowest validation loss so far (+ the same metadata)
 *   train.log               progress lines;  history.csv  per-epoch losses
 *   (loss.png, the loss curves, is drawn by pipeline/train-halogen.ts through the onEpoch hook)
 * Nothing is written before the worlds have loaded; a run that fails before its first checkpoint
 * removes the directory it created.
 *
 * The validation loss is the data part of Eq. 5 (without the λ_w Σ|θ| term, which does not depend on
 * the data); the training loss reported is the full Eq. 5 averaged over the epoch's batches.
 */
import { resolve, join } from 'node:path';
import { Generator, RMSprop, Tensor, noGrad, tidy, type ProcessGroup, type ProcessGroupOptions } from '@lodi/torch';
import { agreeToStart, averageGradients, receiveStart, receiveStartTensors, runDataParallel, sendStart, type StartTensors } from '../train/data-parallel.js';
import { interruptRequested } from '../util/interrupt.js';
import { disposeGroups, writeCheckpoint, type ReadCheckpoint } from '../train/checkpoint.js';
import { writeCsv, type Row } from '../train/log.js';
import { runTraining, type TrainTask } from '../train/loop.js';
import { RunDir } from '../train/run-dir.js';
import { constantLr, cosineWarmRestarts, sequentialLr, type LrSchedule } from '../train/schedule.js';
import { Progress, formatDuration } from '../util/progress.js';
import { WORLD_MEMBERS, type WorldGrids } from '../io/world.js';
import { HALOGEN_KIND, modelWeights, type EpochRecord, type HalogenMeta } from './checkpoint.js';
import { validateConfig, type HalogenConfig } from './config.js';
import { HalogenDataset, chunks, loadHalogenWorld, splitSubVolumes, type Sample, type Split } from './dataset.js';
import { channelThresholds, halogenLoss, weightedMask } from './loss.js';
import { HalogenNet } from './model.js';
import { halogenTrainedWorlds, inheritSplit, readHalogenInit, type HalogenInit } from './init.js';

export { BEST, CHECKPOINT, loadHalogen, readHalogenCheckpoint, type EpochRecord, type HalogenMeta } from './checkpoint.js';

/** Files of a run besides the checkpoints (removed when --force starts it over). */
const RUN_FILES = ['train.log', 'history.csv', 'loss.png'];

/** The learning-rate schedule of a config, by epoch: lrInitial for warmEpochs, then SGDR lrMax → lrMin. */
export function lrSchedule(c: HalogenConfig): LrSchedule {
  const t = c.train;
  const cosine = cosineWarmRestarts(t.lrMax, t.cycle, t.lrMin);
  // no warm-up (a run continuing a trained model, --init): the cosine from the first epoch
  return t.warmEpochs > 0 ? sequentialLr(constantLr(t.lrInitial), t.warmEpochs, cosine) : cosine;
}

export interface TrainOptions {
  /** World directories (dm.npy + halos.npy) or already loaded worlds. */
  worlds: (string | WorldGrids)[];
  config: HalogenConfig;
  out: string;
  seed: number;
  resume?: boolean;
  force?: boolean;
  /** Stop (as if killed) after this many completed epochs; for resume tests. */
  stopAfterEpoch?: number;
  /** Stop as if interrupted (a checkpoint inside the epoch) after this many optimiser steps; for resume tests. */
  stopAfterStep?: number;
  quiet?: boolean;
  command?: string;
  /**
   * Where the network trains: 'cpu' (default), 'cuda' or 'cuda:N' (a resolved device). Weights are
   * initialised (and restored) on the CPU and moved; batches and augmentations come from the host.
   */
  device?: string;
  /**
   * Start from this trained model (run directory or .safetensors; src/halogen/init.ts): its weights,
   * normalisation, loss thresholds and the split of the worlds it shares with this run; a fresh
   * optimiser and schedule. Ignored on resume (the run's checkpoint holds all of it).
   */
  init?: string;
  /**
   * Data-parallel training (src/train/data-parallel.ts): this process is rank `distributed.rank` of
   * `distributed.worldSize`. Rank 0 owns the run directory and sends its starting state to the others;
   * every rank draws the same epoch and batches and computes the loss of its share of each batch's
   * samples, weighted so that the averaged gradient is the whole batch's; every rank validates, rank 0 alone saves.
   */
  distributed?: ProcessGroupOptions;
  /** Called on every rank with the final live parameters, before they are freed (tests compare ranks). */
  onDone?: (params: Tensor[]) => void;
  /** Called (and awaited) after every epoch, e.g. to plot the loss curve (pipeline/train-halogen.ts). */
  onEpoch?: (r: EpochRecord, meta: HalogenMeta) => void | Promise<void>;
}

export interface TrainResult {
  meta: HalogenMeta;
  stopped: boolean;
  out: string;
}

type Seeds = HalogenMeta['seeds'];
type Resumed = ReadCheckpoint<HalogenMeta> | null;

/** The config of a run: the given one, or the resumed run's with the given epoch count (--epochs extends a run). */
function runConfig(given: HalogenConfig, resumed: Resumed): HalogenConfig {
  if (!resumed) return given;
  const cfg = resumed.meta.config;
  cfg.train.epochs = Math.max(given.train.epochs, 0) || cfg.train.epochs;
  return cfg;
}

/** Seeds derived from the run seed: weights, split, augmentation (a resumed run keeps its own). */
function runSeeds(seed: number, resumed: Resumed): Seeds {
  return resumed?.meta.seeds ?? { base: seed, model: seed, split: seed + 1, data: seed + 2 };
}

interface RunData {
  worlds: WorldGrids[];
  split: Split;
  ds: HalogenDataset;
}

/**
 * Loads the worlds, splits their sub-volumes (or takes the resumed split) and sets the
 * normalisation (computed from the training sub-volumes, or the resumed one). Throws when there are
 * fewer than 2 sub-volumes or a resumed run was trained on other worlds.
 */
function loadData(worlds: WorldGrids[], cfg: HalogenConfig, seeds: Seeds, resumed: Resumed, init: HalogenInit | null): RunData {
  const count = (n: number): number => Math.floor(n / cfg.data.crop) ** 3;
  const nSub = worlds.reduce((a, w) => a + count(w.grid), 0);
  const split =
    resumed?.meta.split ??
    (init
      ? inheritSplit(init.meta.split, init.meta.worlds.map((w) => count(w.n)), worlds.map((w) => count(w.grid)), init.match, cfg.data.trainFraction, seeds.split)
      : splitSubVolumes(nSub, cfg.data.trainFraction, seeds.split));
  if (split.val.length === 0) throw new Error(`only ${nSub} sub-volume(s) of ${cfg.data.crop}^3: need at least 2 for a train/validation split`);
  const ds = new HalogenDataset(worlds, cfg.data, split);
  if (ds.subs.length !== nSub) throw new Error('internal: sub-volume count mismatch');
  if (resumed) {
    const dirs = resumed.meta.worlds.map((w) => resolve(w.dir)).join('|');
    const now = worlds.map((w) => resolve(w.dir ?? '')).join('|');
    if (dirs !== now) throw new Error(`--resume: the checkpoint was trained on [${resumed.meta.worlds.map((w) => w.dir).join(', ')}], not these worlds`);
    ds.norm = resumed.meta.normalisation;
  } else if (init) ds.norm = structuredClone(init.meta.normalisation);
  else ds.computeNormalisation(cfg.loss.thresholdPercentile, channelThresholds);
  return { worlds, split, ds };
}

function worldSeed(w: WorldGrids): number | undefined {
  const s = w.provenance.seed;
  return typeof s === 'number' ? s : undefined;
}

/** Metadata of a new run (no epoch done yet). */
function newMeta(cfg: HalogenConfig, seeds: Seeds, data: RunData, model: HalogenNet, command: string | undefined, init: HalogenInit | null): HalogenMeta {
  const desc = model.describe(cfg.data.crop);
  return {
    format: 'lodi-halogen',
    version: 1,
    config: cfg,
    seeds,
    worlds: data.worlds.map((w) => ({
      dir: w.dir ?? '',
      n: w.grid,
      boxSize: w.boxSize,
      seed: worldSeed(w),
      dmUnit: WORLD_MEMBERS.dm.unit,
      haloUnit: WORLD_MEMBERS.halos.unit,
      channels: w.channels,
    })),
    split: data.split,
    normalisation: data.ds.norm!,
    epochsDone: 0,
    optimizer: { step: 0, lr: cfg.train.lrInitial },
    bestVal: null,
    bestEpoch: null,
    history: [],
    description: { parameters: desc.parameters, flopsPerCrop: desc.flopsPerCrop, crop: desc.crop },
    command,
    ...(init ? { init: { file: init.file, sha256: init.sha256, epochsDone: init.meta.epochsDone, bestEpoch: init.meta.bestEpoch, sharedWorlds: init.match.filter((i) => i !== null).length, worlds: halogenTrainedWorlds(init.meta) } } : {}),
  };
}

/** What training changes: weights, optimiser state and the augmentation generator. */
interface TrainState {
  model: HalogenNet;
  opt: RMSprop;
  dataGen: Generator;
}

/**
 * Builds the model, optimiser and augmentation generator: fresh (output affine map from the
 * training targets) or restored from the resumed checkpoint, whose tensors it then releases.
 */
function buildState(cfg: HalogenConfig, seeds: Seeds, data: RunData, run: RunDir<HalogenMeta>, device: string, init: HalogenInit | null): TrainState {
  const model = new HalogenNet(cfg.model, seeds.model);
  let opt: RMSprop | null = null;
  const dataGen = new Generator(seeds.data);
  const resumed = run.resumed;
  try {
    // weights set on the CPU, then moved; the optimiser is built on the moved parameters
    if (resumed) model.loadStateDict(modelWeights(resumed, run.checkpoint));
    else if (init) model.loadStateDict(init.weights);
    else model.setOutputStats(data.ds.norm!.haloMean, data.ds.norm!.haloStd);
    if (device !== 'cpu') model.to(device);
    opt = new RMSprop(model.parameters(), { lr: cfg.train.lrInitial, alpha: cfg.train.rmspropAlpha, eps: cfg.train.rmspropEps });
    if (resumed) {
      opt.loadStateTensors(resumed.groups.get('optim') ?? new Map(), resumed.meta.optimizer);
      const rng = resumed.groups.get('rng')?.get('data');
      if (rng) dataGen.setState(rng);
    }
  } catch (err) {
    opt?.dispose();
    model.dispose();
    throw err;
  } finally {
    run.disposeResumed();
  }
  return { model, opt: opt!, dataGen };
}

/**
 * Writes the weights (and with `withState` the optimiser and generator states) and `meta`,
 * atomically. `rng` replaces the generator's current state (the epoch's start, inside an epoch).
 */
function saveHalogen(path: string, s: TrainState, meta: HalogenMeta, withState: boolean, rng?: Tensor): void {
  tidy(() => {
    const groups: Record<string, Map<string, Tensor>> = { model: s.model.stateDict() };
    if (withState) {
      groups.optim = s.opt.stateTensors().tensors;
      groups.rng = new Map([['data', rng ?? s.dataGen.getState()]]);
    }
    writeCheckpoint(path, HALOGEN_KIND, groups, meta);
  });
}

/** A host-built batch on the model's device (the host copies are released by the caller's tidy). */
function onDevice(b: { x: Tensor; y: Tensor }, device: string): { x: Tensor; y: Tensor } {
  return device === 'cpu' ? b : { x: b.x.to(device), y: b.y.to(device) };
}

/**
 * One optimiser step on the samples `b` (Eq. 5 with the L1 term); returns the loss. Throws when the
 * loss is not finite.
 */
function trainStep(s: TrainState, ds: HalogenDataset, cfg: HalogenConfig, b: Sample[], epoch: number, dp: ProcessGroup | null): { loss: number; interrupted: boolean } {
  const norm = ds.norm!;
  let interrupted = false;
  const v = tidy(() => {
    s.opt.zeroGrad();
    let loss = 0;
    // data-parallel: this rank's share of the batch's samples; its loss (a mean over its samples, plus
    // the L1 term) is weighted by W·(its samples)/(batch), so that the average over the ranks is the
    // whole batch's loss and gradient (Eq. 5 is a mean over samples)
    const mine = dp ? rankShare(b, dp) : b;
    if (mine.length > 0) {
      const { x, y } = onDevice(ds.batch(mine), s.model.device);
      const mask = weightedMask(y, norm.thresholds);
      const pred = s.model.forward(x);
      const terms = halogenLoss(pred, y, mask, cfg.loss, s.model.l1());
      const total = dp ? terms.total.mul((dp.worldSize * mine.length) / b.length) : terms.total;
      total.backward();
      loss = total.item();
    }
    if (dp) {
      const [mean, flag] = averageGradients(dp, s.model.parameters(), [loss, interruptRequested() ? 1 : 0]);
      loss = mean!;
      interrupted = flag! > 0;
    }
    s.opt.step();
    return loss;
  });
  if (!Number.isFinite(v)) throw new Error(`epoch ${epoch + 1}: loss became ${v}; lower the learning rate`);
  return { loss: v, interrupted };
}

/** Rank r's samples of a batch: a contiguous share, as even as the batch allows (the last batch of an epoch may be short). */
function rankShare<T>(b: T[], dp: ProcessGroup): T[] {
  const W = dp.worldSize;
  const start = Math.floor((dp.rank * b.length) / W);
  const end = Math.floor(((dp.rank + 1) * b.length) / W);
  return b.slice(start, end);
}

/** Evaluates the data loss over the validation sub-volumes (no gradient). */
export function evaluate(model: HalogenNet, ds: HalogenDataset, cfg: HalogenConfig): { loss: number; mse: number[]; pinball: number[] } {
  model.eval();
  const samples = ds.valSamples();
  const C = ds.channels;
  let loss = 0;
  const mse = new Array<number>(C).fill(0);
  const pin = new Array<number>(C).fill(0);
  noGrad(() => {
    for (const b of chunks(samples, cfg.data.batchSize)) {
      tidy(() => {
        const { x, y } = onDevice(ds.batch(b), model.device);
        const mask = weightedMask(y, ds.norm!.thresholds);
        const t = halogenLoss(model.forward(x), y, mask, cfg.loss, null);
        const f = b.length / samples.length;
        loss += t.total.item() * f;
        t.mse.forEach((v, i) => (mse[i] += v * f));
        t.pinball.forEach((v, i) => (pin[i] += v * f));
      });
    }
  });
  model.train();
  return { loss, mse, pinball: pin };
}

/** history.csv rows: epoch, lr, losses, per-channel validation terms, seconds. */
export function historyRows(h: EpochRecord[]): Row[] {
  return h.map((r) => {
    const row: Row = { epoch: r.epoch, lr: r.lr, train_loss: r.trainLoss, val_loss: r.valLoss };
    r.valMse.forEach((v, i) => (row[`val_mse${i + 1}`] = v));
    r.valPinball.forEach((v, i) => (row[`val_pinball${i + 1}`] = v));
    row.seconds = r.seconds;
    return row;
  });
}

/**
 * Trains (or resumes) a HALOgen model; returns the final metadata. Throws (one line) on a bad
 * config, an existing run without `resume`/`force`, unreadable worlds or a diverging loss; a run
 * that fails before its first checkpoint leaves no directory behind that it created.
 */
export async function trainHalogen(o: TrainOptions): Promise<TrainResult> {
  return runDataParallel(
    o.distributed,
    (dp, onSent) => leadHalogen(o, dp, onSent),
    (dp) => followHalogen(o, dp),
  );
}

/** The tensors every rank must hold alike at the start: weights and buffers, RMSprop state, the augmentation generator. */
function startTensors(s: TrainState): StartTensors {
  return (optim, rng) => [...s.model.stateDict().values(), ...optim.values(), rng];
}

/** A single-process run, or rank 0 of a data-parallel one (`onSent` once the others have its metadata). */
async function leadHalogen(o: TrainOptions, dp: ProcessGroup | null, onSent: () => void): Promise<TrainResult> {
  validateConfig(o.config);
  const run = new RunDir<HalogenMeta>(o.out, HALOGEN_KIND, { resume: o.resume, force: o.force, missingCheckpoint: 'start', files: RUN_FILES });
  let s: TrainState | null = null;
  let init: HalogenInit | null = null;
  try {
    const resumed = run.resumed;
    const cfg = runConfig(o.config, resumed);
    const seeds = runSeeds(o.seed, resumed);
    const worlds = o.worlds.map((w) => (typeof w === 'string' ? loadHalogenWorld(w) : w));
    if (!resumed && o.init !== undefined) init = readHalogenInit(o.init, cfg, worlds);
    const data = loadData(worlds, cfg, seeds, resumed, init);
    const resumedMeta: HalogenMeta | null = resumed ? { ...resumed.meta, config: cfg } : null;
    run.create();
    s = buildState(cfg, seeds, data, run, o.device ?? 'cpu', init);
    const meta = resumedMeta ?? newMeta(cfg, seeds, data, s.model, o.command, init);
    if (init) {
      disposeGroups(init.groups);
      init = null;
    }
    if (dp) {
      const st = s;
      tidy(() => sendStart(dp, meta, st.opt.stateTensors().tensors, st.dataGen.getState(), startTensors(st), onSent));
    }
    return await epochLoop(o, cfg, data, s, meta, run, dp);
  } catch (err) {
    run.abandon();
    throw err;
  } finally {
    if (init) disposeGroups(init.groups);
    s?.opt.dispose();
    s?.model.dispose();
  }
}

/** A follower's worlds must be rank 0's (same grids, boxes and IC seeds, in order). */
function sameWorldsProblem(worlds: WorldGrids[], meta: HalogenMeta): string | null {
  if (worlds.length !== meta.worlds.length) return `--worlds: ${worlds.length} world(s), expected rank 0's ${meta.worlds.length}`;
  for (let i = 0; i < worlds.length; i++) {
    const w = worlds[i]!;
    const m = meta.worlds[i]!;
    const mine = { n: w.grid, boxSize: w.boxSize, seed: worldSeed(w) };
    for (const k of ['n', 'boxSize', 'seed'] as const)
      if (mine[k] !== m[k]) return `${w.dir ?? `world ${i}`}: ${k}: ${mine[k]}, expected ${m[k]} as in rank 0's world ${i} (${m.dir})`;
  }
  return null;
}

/**
 * Ranks 1..W−1: receive rank 0's metadata and state, load the same worlds, and train in step with
 * rank 0 without touching the run directory.
 */
async function followHalogen(o: TrainOptions, dp: ProcessGroup): Promise<TrainResult> {
  const msg = receiveStart<HalogenMeta>(dp);
  const meta = msg.meta;
  const cfg = meta.config;
  let data: RunData | null = null;
  let problem: string | null = null;
  let s: TrainState | null = null;
  try {
    const worlds = o.worlds.map((w) => (typeof w === 'string' ? loadHalogenWorld(w) : w));
    problem = sameWorldsProblem(worlds, meta);
    if (!problem) {
      const ds = new HalogenDataset(worlds, cfg.data, meta.split);
      ds.norm = meta.normalisation;
      data = { worlds, split: meta.split, ds };
      // the model and optimiser before the ranks agree to start: a failure here (no device, no memory)
      // stops every rank instead of leaving rank 0 waiting in the first broadcast
      const model = new HalogenNet(cfg.model, meta.seeds.model);
      s = { model, opt: null as unknown as RMSprop, dataGen: new Generator(meta.seeds.data) };
      if (o.device && o.device !== 'cpu') model.to(o.device);
      s.opt = new RMSprop(model.parameters(), { lr: cfg.train.lrInitial, alpha: cfg.train.rmspropAlpha, eps: cfg.train.rmspropEps });
    }
  } catch (err) {
    problem = (err as Error).message;
  }
  try {
    agreeToStart(dp, problem);
  } catch (err) {
    s?.opt?.dispose();
    s?.model.dispose();
    throw err;
  }
  const st = s!;
  try {
    tidy(() => {
      const { optim, generator } = receiveStartTensors(dp, msg, startTensors(st));
      st.opt.loadStateTensors(optim, meta.optimizer);
      st.dataGen.setState(generator);
    });
    return await epochLoop({ ...o, quiet: true }, cfg, data!, st, meta, null, dp);
  } finally {
    st.opt.dispose();
    st.model.dispose();
  }
}

/**
 * The epochs from `meta.epochsDone` to the configured count as a task of the shared loop
 * (src/train/loop.ts): one period per epoch, saving after each, and inside one on Ctrl-C.
 */
async function epochLoop(
  o: TrainOptions,
  cfg: HalogenConfig,
  data: RunData,
  s: TrainState,
  meta: HalogenMeta,
  run: RunDir<HalogenMeta> | null,
  dp: ProcessGroup | null = null,
): Promise<TrainResult> {
  const { ds, split, worlds } = data;
  // rank 0 (or the only process) owns the run directory (run non-null); the other ranks only train
  let interrupted = false;
  const sched = lrSchedule(cfg);
  const E = cfg.train.epochs;
  const start = meta.epochsDone;
  const stepsPerEpoch = Math.ceil((split.train.length * cfg.data.symmetriesPerEpoch) / cfg.data.batchSize);
  const progress = new Progress('halogen', Math.max(1, (E - start) * stepsPerEpoch), { ...(run ? { logFile: join(run.out, 'train.log') } : {}), quiet: o.quiet, startAt: meta.partial?.done ?? 0 });
  if (run?.notice) progress.log(run.notice);
  const ini = meta.init;
  if (ini && start === 0 && !meta.partial)
    progress.log(
      `starting from ${ini.file} (best epoch ${(ini.bestEpoch ?? ini.epochsDone - 1) + 1} of ${ini.epochsDone}): its weights and normalisation; ` +
        (ini.sharedWorlds > 0 ? `the split of its ${ini.sharedWorlds} world(s) shared with this run` : 'a new split (other worlds)'),
    );
  progress.log(
    `${meta.partial ? `resuming inside epoch ${start + 1} after step ${meta.partial.done}` : start > 0 ? `resuming at epoch ${start + 1}` : 'training'}: ${s.model.describe(cfg.data.crop).text}; ${worlds.length} world(s), ` +
      `${split.train.length} train / ${split.val.length} validation sub-volumes of ${cfg.data.crop}^3, ${stepsPerEpoch} steps/epoch, ${E} epochs; ${sched.describe()}`,
  );
  if (dp) progress.log(`data-parallel: ${dp.worldSize} ranks share the samples of every batch of ${cfg.data.batchSize}; rank 0 saves`);
  s.model.train();
  let batches: Sample[][] = [];
  let lastRecord: EpochRecord | null = null;
  // the generator state before the current epoch's draw: what a checkpoint inside the epoch saves
  let epochStart: Tensor | null = null;
  const task: TrainTask = {
    finished: () => meta.epochsDone >= E,
    beginPeriod() {
      s.opt.lr = sched.lrAt(meta.epochsDone);
      epochStart?.dispose();
      epochStart = s.dataGen.getState();
      batches = [...chunks(ds.epochSamples(s.dataGen), cfg.data.batchSize)];
      return batches.length;
    },
    resumePeriod() {
      const p = meta.partial ?? null;
      delete meta.partial;
      return p;
    },
    saveMidPeriod(p) {
      if (!run) return;
      meta.partial = p;
      meta.optimizer = { step: s.opt.step_, lr: s.opt.lr };
      saveHalogen(run.checkpoint, s, meta, true, epochStart!);
      delete meta.partial;
    },
    step: (i) => {
      const r = trainStep(s, ds, cfg, batches[i]!, meta.epochsDone, dp);
      interrupted ||= r.interrupted;
      return { terms: { total: r.loss }, samples: batches[i]!.length };
    },
    status: (m) => `epoch ${meta.epochsDone + 1}/${E} loss ${m.total.toPrecision(4)} lr ${s.opt.lr.toExponential(2)}`,
    endPeriod(train, seconds) {
      const epoch = meta.epochsDone;
      // every rank validates (the same numbers): the others would otherwise wait in the next step's
      // all-reduce while rank 0 validates and saves, and report no best loss
      const val = evaluate(s.model, ds, cfg);
      const rec: EpochRecord = { epoch, lr: s.opt.lr, trainLoss: train.total, valLoss: val.loss, valMse: val.mse, valPinball: val.pinball, seconds };
      lastRecord = rec;
      meta.history.push(rec);
      meta.epochsDone = epoch + 1;
      meta.optimizer = { step: s.opt.step_, lr: s.opt.lr };
      return {
        valTotal: val.loss,
        line: (best) =>
          `epoch ${epoch + 1}/${E}: loss ${rec.trainLoss.toPrecision(5)} val ${rec.valLoss.toPrecision(5)}${best ? ' (best)' : ''} ` +
          `lr ${rec.lr.toExponential(2)} ${formatDuration(rec.seconds)}`,
      };
    },
    bestVal: () => meta.bestVal,
    markBest(v) {
      meta.bestVal = v;
      meta.bestEpoch = meta.epochsDone - 1;
    },
    save: (which) => {
      if (run) saveHalogen(which === 'best' ? run.best : run.checkpoint, s, meta, which === 'checkpoint');
    },
    async afterPeriod() {
      if (!run) return;
      writeCsv(join(run.out, 'history.csv'), historyRows(meta.history));
      await o.onEpoch?.(lastRecord!, meta);
    },
    ...(dp ? { interrupted: () => interrupted } : {}),
    stopRequested: (periodEnded) =>
      periodEnded ? o.stopAfterEpoch !== undefined && meta.epochsDone >= o.stopAfterEpoch : o.stopAfterStep !== undefined && s.opt.step_ >= o.stopAfterStep,
  };
  try {
    const r = await runTraining(task, progress, meta.partial?.done ?? 0);
    o.onDone?.(s.model.parameters());
    return { meta, stopped: r.stopped, out: run?.out ?? o.out };
  } finally {
    (epochStart as Tensor | null)?.dispose();
  }
}
