/**
 * HALOgen training (LODI paper, Sec. 2.3.1): RMSprop, constant LR for the first epochs, then
 * cosine annealing with warm restarts; keeps the checkpoint with the lowest validation loss.
 *
 * Files in the run directory:
 *   checkpoint.safetensors  last epoch: model + optimizer state + data RNG state + JSON metadata
 *                           (written atomically after every epoch; `resume` continues from it exactly)
 *   best.safetensors        model with the lowest validation loss so far (+ the same metadata)
 *   train.log               progress lines;  history.csv  per-epoch losses
 *   (loss.png, the loss curves, is drawn by pipeline/train-halogen.ts through the onEpoch hook)
 *
 * The validation loss is the data part of Eq. 5 (without the λ_w Σ|θ| term, which does not depend on
 * the data); the training loss reported is the full Eq. 5 averaged over the epoch's batches.
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ConstantWarmup,
  CosineAnnealingWarmRestarts,
  Generator,
  RMSprop,
  SequentialSchedule,
  Tensor,
  loadSafetensors,
  noGrad,
  saveSafetensors,
  tidy,
  type LrSchedule,
} from '@lodi/torch';
import { writeFileAtomic } from '../util/atomic.js';
import { Progress, formatDuration } from '../util/progress.js';
import { validateConfig, type HalogenConfig } from './config.js';
import { HalogenDataset, chunks, loadHalogenWorld, splitSubVolumes, type Normalisation, type Split } from './dataset.js';
import { WORLD_MEMBERS, type WorldGrids } from '../io/world.js';
import { channelThresholds, halogenLoss, weightedMask } from './loss.js';
import { HalogenNet } from './model.js';

export const CHECKPOINT = 'checkpoint.safetensors';
export const BEST = 'best.safetensors';

export interface EpochRecord {
  epoch: number;
  lr: number;
  trainLoss: number;
  valLoss: number;
  /** Per-channel validation masked MSE and pinball terms. */
  valMse: number[];
  valPinball: number[];
  seconds: number;
}

export interface HalogenMeta {
  format: 'lodi-halogen';
  version: 1;
  config: HalogenConfig;
  seeds: { base: number; model: number; split: number; data: number };
  worlds: { dir: string; n: number; boxSize: number; seed?: number; haloUnit?: string; dmUnit?: string; channels?: string[] }[];
  split: Split;
  normalisation: Normalisation;
  epochsDone: number;
  optimizer: { step: number; lr: number };
  bestVal: number | null;
  bestEpoch: number | null;
  history: EpochRecord[];
  description: { parameters: number; flopsPerCrop: number; crop: number };
  command?: string;
}

/** The learning-rate schedule of a config: lrInitial for warmEpochs, then SGDR lrMax → lrMin. */
export function lrSchedule(c: HalogenConfig): LrSchedule {
  const t = c.train;
  return new SequentialSchedule(new ConstantWarmup(t.lrInitial), t.warmEpochs, new CosineAnnealingWarmRestarts(t.lrMax, t.cycle, t.lrMin));
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
  quiet?: boolean;
  command?: string;
  /** Called (and awaited) after every epoch, e.g. to plot the loss curve (pipeline/train-halogen.ts). */
  onEpoch?: (r: EpochRecord, meta: HalogenMeta) => void | Promise<void>;
}

export interface TrainResult {
  meta: HalogenMeta;
  stopped: boolean;
  out: string;
}

function worldSeed(w: WorldGrids): number | undefined {
  const s = w.provenance.seed;
  return typeof s === 'number' ? s : undefined;
}

/** Saves the model (and optionally the optimizer and RNG state) with JSON metadata, atomically. */
export function saveCheckpoint(path: string, model: HalogenNet, meta: HalogenMeta, extra?: { opt: RMSprop; dataGen: Generator }): void {
  tidy(() => {
    const tensors = new Map<string, Tensor>();
    for (const [k, t] of model.stateDict()) tensors.set(`model.${k}`, t);
    if (extra) {
      const st = extra.opt.stateTensors();
      for (const [k, t] of st.tensors) tensors.set(`optim.${k}`, t);
      tensors.set('rng.data', extra.dataGen.getState());
    }
    saveSafetensors(path, tensors, { halogen: JSON.stringify(meta) });
  });
}

export interface LoadedCheckpoint {
  meta: HalogenMeta;
  model: Map<string, Tensor>;
  optim: Map<string, Tensor>;
  rng: Tensor | null;
}

export function readCheckpoint(path: string): LoadedCheckpoint {
  const f = loadSafetensors(path);
  const raw = f.metadata.halogen;
  if (!raw) throw new Error(`${path}: not a HALOgen checkpoint (no 'halogen' metadata)`);
  const meta = JSON.parse(raw) as HalogenMeta;
  const model = new Map<string, Tensor>();
  const optim = new Map<string, Tensor>();
  let rng: Tensor | null = null;
  for (const [k, t] of f.tensors) {
    if (k.startsWith('model.')) model.set(k.slice(6), t);
    else if (k.startsWith('optim.')) optim.set(k.slice(6), t);
    else if (k === 'rng.data') rng = t;
    else t.dispose();
  }
  return { meta, model, optim, rng };
}

/** Loads a trained model from a run directory (best.safetensors, else checkpoint) or a file. */
export function loadHalogen(path: string): { model: HalogenNet; meta: HalogenMeta; file: string } {
  let file = path;
  if (existsSync(path) && statSync(path).isDirectory()) {
    file = [join(path, BEST), join(path, CHECKPOINT)].find((p) => existsSync(p)) ?? '';
    if (!file) throw new Error(`${path}: no ${BEST} or ${CHECKPOINT} in this directory`);
  } else if (!existsSync(path)) throw new Error(`${path}: model not found`);
  const ck = readCheckpoint(file);
  const model = new HalogenNet(ck.meta.config.model, ck.meta.seeds.model);
  model.loadStateDict(ck.model);
  for (const t of [...ck.model.values(), ...ck.optim.values()]) t.dispose();
  ck.rng?.dispose();
  model.eval();
  return { model, meta: ck.meta, file };
}

function historyCsv(h: EpochRecord[]): string {
  const rows = h.map((r) => [r.epoch, r.lr, r.trainLoss, r.valLoss, ...r.valMse, ...r.valPinball, r.seconds.toFixed(2)].join(','));
  const C = h[0]?.valMse.length ?? 4;
  const head = ['epoch', 'lr', 'train_loss', 'val_loss', ...Array.from({ length: C }, (_, i) => `val_mse${i + 1}`), ...Array.from({ length: C }, (_, i) => `val_pinball${i + 1}`), 'seconds'];
  return [head.join(','), ...rows].join('\n') + '\n';
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
        const { x, y } = ds.batch(b);
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

/** Trains (or resumes) a HALOgen model; returns the final metadata. */
export async function trainHalogen(o: TrainOptions): Promise<TrainResult> {
  const out = resolve(o.out);
  const ckPath = join(out, CHECKPOINT);
  const bestPath = join(out, BEST);
  const logFile = join(out, 'train.log');
  let cfg = o.config;
  validateConfig(cfg);
  let resumed: LoadedCheckpoint | null = null;
  if (existsSync(ckPath)) {
    if (o.resume) {
      resumed = readCheckpoint(ckPath);
      const want = cfg.train.epochs;
      cfg = resumed.meta.config;
      cfg.train.epochs = Math.max(want, 0) || cfg.train.epochs; // --epochs may extend a run
    } else if (o.force) {
      for (const f of [CHECKPOINT, BEST, 'train.log', 'history.csv', 'loss.png']) rmSync(join(out, f), { force: true });
    } else throw new Error(`${ckPath} exists; pass --resume to continue or --force to start over`);
  } else if (o.resume && !o.quiet) process.stderr.write(`no checkpoint in ${out}; starting a new run\n`);
  mkdirSync(out, { recursive: true });

  const worlds = o.worlds.map((w) => (typeof w === 'string' ? loadHalogenWorld(w) : w));
  const seeds = resumed?.meta.seeds ?? { base: o.seed, model: o.seed, split: o.seed + 1, data: o.seed + 2 };
  const nSub = worlds.reduce((a, w) => a + Math.floor(w.grid / cfg.data.crop) ** 3, 0);
  const split = resumed?.meta.split ?? splitSubVolumes(nSub, cfg.data.trainFraction, seeds.split);
  if (split.val.length === 0) throw new Error(`only ${nSub} sub-volume(s) of ${cfg.data.crop}^3: need at least 2 for a train/validation split`);
  const ds = new HalogenDataset(worlds, cfg.data, split);
  if (ds.subs.length !== nSub) throw new Error('internal: sub-volume count mismatch');
  if (resumed) {
    const dirs = resumed.meta.worlds.map((w) => resolve(w.dir)).join('|');
    const now = worlds.map((w) => resolve(w.dir ?? '')).join('|');
    if (dirs !== now) throw new Error(`--resume: the checkpoint was trained on [${resumed.meta.worlds.map((w) => w.dir).join(', ')}], not these worlds`);
    ds.norm = resumed.meta.normalisation;
  } else ds.computeNormalisation(cfg.loss.thresholdPercentile, channelThresholds);
  const norm = ds.norm!;

  const model = new HalogenNet(cfg.model, seeds.model);
  const opt = new RMSprop(model.parameters(), { lr: cfg.train.lrInitial, alpha: cfg.train.rmspropAlpha, eps: cfg.train.rmspropEps });
  const dataGen = new Generator(seeds.data);
  const desc = model.describe(cfg.data.crop);
  let meta: HalogenMeta;
  if (resumed) {
    model.loadStateDict(resumed.model);
    opt.loadStateTensors(resumed.optim, resumed.meta.optimizer);
    if (resumed.rng) dataGen.setState(resumed.rng);
    for (const t of [...resumed.model.values(), ...resumed.optim.values()]) t.dispose();
    resumed.rng?.dispose();
    meta = { ...resumed.meta, config: cfg };
  } else {
    model.setOutputStats(norm.haloMean, norm.haloStd);
    meta = {
      format: 'lodi-halogen',
      version: 1,
      config: cfg,
      seeds,
      worlds: worlds.map((w) => ({
        dir: w.dir ?? '',
        n: w.grid,
        boxSize: w.boxSize,
        seed: worldSeed(w),
        dmUnit: WORLD_MEMBERS.dm.unit,
        haloUnit: WORLD_MEMBERS.halos.unit,
        channels: w.channels,
      })),
      split,
      normalisation: norm,
      epochsDone: 0,
      optimizer: { step: 0, lr: cfg.train.lrInitial },
      bestVal: null,
      bestEpoch: null,
      history: [],
      description: { parameters: desc.parameters, flopsPerCrop: desc.flopsPerCrop, crop: desc.crop },
      command: o.command,
    };
  }
  const sched = lrSchedule(cfg);
  const E = cfg.train.epochs;
  const start = meta.epochsDone;
  const stepsPerEpoch = Math.ceil((split.train.length * cfg.data.symmetriesPerEpoch) / cfg.data.batchSize);
  const progress = new Progress('halogen', Math.max(1, (E - start) * stepsPerEpoch), { logFile, quiet: o.quiet });
  progress.log(
    `${resumed ? `resuming at epoch ${start + 1}` : 'training'}: ${desc.text}; ${worlds.length} world(s), ` +
      `${split.train.length} train / ${split.val.length} validation sub-volumes of ${cfg.data.crop}^3, ${stepsPerEpoch} steps/epoch, ${E} epochs; ${sched.describe()}`,
  );
  let stopped = false;
  let step = 0;
  model.train();
  try {
    for (let epoch = start; epoch < E; epoch++) {
      const t0 = Date.now();
      opt.lr = sched.lrAt(epoch);
      const samples = ds.epochSamples(dataGen);
      let sum = 0;
      let count = 0;
      for (const b of chunks(samples, cfg.data.batchSize)) {
        const v = tidy(() => {
          const { x, y } = ds.batch(b);
          const mask = weightedMask(y, norm.thresholds);
          const pred = model.forward(x);
          const terms = halogenLoss(pred, y, mask, cfg.loss, model.l1());
          opt.zeroGrad();
          terms.total.backward();
          opt.step();
          return terms.total.item();
        });
        if (!Number.isFinite(v)) throw new Error(`epoch ${epoch + 1}: loss became ${v}; lower the learning rate`);
        sum += v * b.length;
        count += b.length;
        step++;
        progress.update(step, `epoch ${epoch + 1}/${E} loss ${(sum / count).toPrecision(4)} lr ${opt.lr.toExponential(2)}`);
      }
      const val = evaluate(model, ds, cfg);
      const rec: EpochRecord = {
        epoch,
        lr: opt.lr,
        trainLoss: sum / count,
        valLoss: val.loss,
        valMse: val.mse,
        valPinball: val.pinball,
        seconds: (Date.now() - t0) / 1000,
      };
      meta.history.push(rec);
      meta.epochsDone = epoch + 1;
      meta.optimizer = { step: opt.step_, lr: opt.lr };
      const improved = meta.bestVal === null || val.loss < meta.bestVal;
      if (improved) {
        meta.bestVal = val.loss;
        meta.bestEpoch = epoch;
      }
      if (improved) saveCheckpoint(bestPath, model, meta);
      saveCheckpoint(ckPath, model, meta, { opt, dataGen });
      writeFileAtomic(join(out, 'history.csv'), historyCsv(meta.history));
      progress.log(
        `epoch ${epoch + 1}/${E}: loss ${rec.trainLoss.toPrecision(5)} val ${rec.valLoss.toPrecision(5)}${improved ? ' (best)' : ''} ` +
          `lr ${rec.lr.toExponential(2)} ${formatDuration(rec.seconds)}`,
      );
      await o.onEpoch?.(rec, meta);
      if (o.stopAfterEpoch !== undefined && epoch + 1 >= o.stopAfterEpoch && epoch + 1 < E) {
        stopped = true;
        break;
      }
    }
  } finally {
    opt.dispose();
    model.dispose();
  }
  return { meta, stopped, out };
}
