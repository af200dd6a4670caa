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
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AdamW, EMA, F, Generator, clipGradNorm, keep, noGrad, tidy, type Tensor } from '@lodi/torch';
import { BEST_FILE, CHECKPOINT_FILE, disposeGroups, readCheckpoint, writeCheckpoint } from '../train/checkpoint.js';
import { writeCsv } from '../train/log.js';
import { warmupCosine } from '../train/schedule.js';
import { writeFileAtomic } from '../util/atomic.js';
import { interruptRequested } from '../util/interrupt.js';
import { Progress } from '../util/progress.js';
import { LODI_KIND, type LodiEvalRecord, type LodiMeta } from './checkpoint.js';
import { validateLodiConfig, type LodiConfig } from './config.js';
import { LodiDataset, Rng, loadPair, splitBlocks, type Batch, type LodiPair } from './dataset.js';
import { LodiModel } from './vdm.js';

export interface LodiTrainOptions {
  /** World directories holding tb.npy and halos.npy (or loaded pairs). */
  worlds: (string | LodiPair)[];
  config: LodiConfig;
  out: string;
  seed: number;
  resume?: boolean;
  force?: boolean;
  /** Stop (as if killed, after saving) once this many steps are done in total; for resume tests. */
  stopAfterStep?: number;
  quiet?: boolean;
  command?: string;
  /** Called after every evaluation (e.g. to redraw the loss plot). */
  onEval?: (meta: LodiMeta) => void;
}

export interface LodiTrainResult {
  meta: LodiMeta;
  stopped: boolean;
  out: string;
}

type Terms = { total: number; diffusion: number; prior: number; reconstruction: number };

function toTensors(b: Batch, crop: number, channels: number): { x: Tensor; cond: Tensor } {
  return { x: F.tensor(b.x, [b.size, 1, crop, crop, crop]), cond: F.tensor(b.cond, [b.size, channels, crop, crop, crop]) };
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
        const { x, cond } = toTensors(b, ds.cfg.crop, ds.pairs[0]!.channels);
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

/** Trains LODI (or resumes a run); returns the final metadata. */
export async function trainLodi(o: LodiTrainOptions): Promise<LodiTrainResult> {
  const out = resolve(o.out);
  const ckPath = join(out, CHECKPOINT_FILE);
  const logFile = join(out, 'train.log');
  const dirs = o.worlds.map((w) => (typeof w === 'string' ? resolve(w) : w.name));
  const pairs = o.worlds.map((w) => (typeof w === 'string' ? loadPair(w) : w));
  const C = pairs[0]!.channels;
  for (const p of pairs) {
    if (p.channels !== C) throw new Error(`${p.name}: ${p.channels} halo channels, but ${pairs[0]!.name} has ${C}`);
    const v = p.boxSize / p.n;
    const v0 = pairs[0]!.boxSize / pairs[0]!.n;
    if (Math.abs(v - v0) > 1e-6 * v0) throw new Error(`${p.name}: voxel ${v.toFixed(4)} Mpc/h differs from ${pairs[0]!.name} (${v0.toFixed(4)} Mpc/h); LODI trains at one resolution`);
  }

  let resumed: ReturnType<typeof readCheckpoint<LodiMeta>> | null = null;
  const created = !existsSync(out);
  if (o.resume) {
    if (!existsSync(ckPath)) throw new Error(`${ckPath}: nothing to resume (no checkpoint in ${out})`);
    resumed = readCheckpoint<LodiMeta>(ckPath, LODI_KIND);
  } else if (existsSync(ckPath) && !o.force) {
    throw new Error(`${out} already holds a LODI run; pass --resume to continue it or --force to start over`);
  }
  // a resumed run takes the given total of steps, or keeps its own when given 0
  const steps = resumed ? o.config.train.steps || resumed.meta.config.train.steps : o.config.train.steps;
  const cfg: LodiConfig = resumed ? { ...resumed.meta.config, train: { ...resumed.meta.config.train, steps } } : o.config;
  validateLodiConfig(cfg);
  const base = o.seed;
  const seeds = resumed?.meta.seeds ?? { base, model: base, split: base + 1, data: base + 2, noise: base + 3, dropout: base + 4, val: base + 5 };
  const split = resumed?.meta.split ?? splitBlocks(pairs.map((p) => p.n), cfg.data.crop, cfg.data.trainFraction, seeds.split);
  const norm = resumed?.meta.normalisation ?? LodiDataset.normalisation(pairs, cfg.data, split);
  const ds = new LodiDataset(pairs, cfg.data, split, norm);

  try {
    mkdirSync(out, { recursive: true });
    const model = new LodiModel(cfg, new Generator(seeds.model));
    const params = model.parameters();
    const opt = new AdamW(params, { lr: cfg.train.lr, weightDecay: cfg.train.weightDecay });
    const ema = new EMA(params, cfg.train.emaDecay);
    const noiseGen = new Generator(seeds.noise);
    const dropoutGen = new Generator(seeds.dropout);
    model.net.dropoutGen = dropoutGen;
    const rng = new Rng(seeds.data);
    const names = model.namedParameters().map(([n]) => n);
    let meta: LodiMeta;
    if (resumed) {
      meta = resumed.meta;
      meta.config = cfg;
      const g = resumed.groups;
      model.loadStateDict(g.get('model')!);
      const emaW = g.get('ema')!;
      noGrad(() => names.forEach((n, i) => ema.shadow[i]!.copy_(emaW.get(n)!)));
      opt.loadStateTensors(g.get('optim') ?? new Map(), { step: meta.step, lr: cfg.train.lr });
      noiseGen.setState(g.get('rng')!.get('noise')!);
      dropoutGen.setState(g.get('rng')!.get('dropout')!);
      rng.state = meta.dataRng;
      disposeGroups(g);
      resumed = null;
    } else {
      meta = {
        format: LODI_KIND,
        version: 1,
        config: cfg,
        seeds,
        worlds: pairs.map((p, i) => ({ dir: dirs[i]!, n: p.n, boxSize: p.boxSize, redshift: p.redshift, seed: p.seed })),
        split,
        normalisation: norm,
        contract: contractOf(pairs),
        step: 0,
        dataRng: rng.state,
        bestVal: null,
        bestStep: null,
        history: [],
        description: { parameters: model.numParameters(), flopsPerCrop: model.net.flopsPerCrop(cfg.data.crop), crop: cfg.data.crop },
        command: o.command,
      };
      writeFileAtomic(join(out, 'split.json'), JSON.stringify({ seed: split.seed, trainFraction: cfg.data.trainFraction, worlds: meta.worlds, train: split.train, val: split.val }, null, 1) + '\n', { force: true });
    }

    const save = (path: string, withState: boolean): void => {
      tidy(() => {
        const groups: Record<string, Map<string, Tensor>> = {};
        if (withState) {
          groups.model = model.stateDict();
          groups.ema = new Map(names.map((n, i) => [n, ema.shadow[i]!]));
          groups.optim = opt.stateTensors().tensors;
          groups.rng = new Map([
            ['noise', noiseGen.getState()],
            ['dropout', dropoutGen.getState()],
          ]);
        } else {
          groups.model = new Map(names.map((n, i) => [n, ema.shadow[i]!]));
        }
        writeCheckpoint(path, LODI_KIND, groups, meta);
      });
    };

    const progress = new Progress('lodi train', cfg.train.steps, { logFile, quiet: o.quiet, startAt: meta.step });
    progress.log(
      `LODI ${cfg.preset}: ${meta.description.parameters} parameters, ${(meta.description.flopsPerCrop / 1e9).toFixed(2)} GFLOP per ${cfg.data.crop}^3 crop; ` +
        `${pairs.length} world(s), ${split.train.length} training / ${split.val.length} validation blocks; step ${meta.step} of ${cfg.train.steps}`,
    );
    const acc: Terms = { total: 0, diffusion: 0, prior: 0, reconstruction: 0 };
    let accN = 0;
    let t0 = Date.now();
    let stopped = false;
    try {
      model.train();
      while (meta.step < cfg.train.steps) {
        const lr = warmupCosine(meta.step, cfg.train.lr, cfg.train.warmupSteps, cfg.train.steps, cfg.train.lrMinFactor);
        opt.lr = lr;
        const batch = ds.trainBatch(rng);
        tidy(() => {
          const { x, cond } = toTensors(batch, cfg.data.crop, C);
          const t = model.loss(x, cond, model.drawNoise(x, noiseGen));
          t.total.backward();
          const v = t.total.item();
          if (!Number.isFinite(v)) throw new Error(`LODI training diverged at step ${meta.step} (loss ${v}); lower the learning rate (config train.lr)`);
          acc.total += v;
          acc.diffusion += t.diffusion;
          acc.prior += t.prior;
          acc.reconstruction += t.reconstruction;
          accN++;
        });
        if (cfg.train.clipNorm > 0) clipGradNorm(params, cfg.train.clipNorm);
        opt.step();
        model.zeroGrad();
        // EMA warm-up (as in common diffusion codebases): decay_t = min(decay, (1 + t)/(10 + t)), so a
        // short run's EMA weights are not dominated by the initialisation
        ema.update(Math.min(cfg.train.emaDecay, (1 + meta.step) / (10 + meta.step)));
        meta.step++;
        meta.dataRng = rng.state;
        // Yield to the event loop: N-API finalizers of dead tensor handles only run between turns,
        // and a loop that never yields keeps their small allocations alive (and the heap growing).
        await new Promise<void>((r) => setImmediate(r));
        progress.update(meta.step, `loss ${(acc.total / accN).toFixed(4)}`);
        const atEval = meta.step % cfg.train.evalEvery === 0 || meta.step === cfg.train.steps;
        const interrupted = interruptRequested();
        const stopNow = interrupted || (o.stopAfterStep !== undefined && meta.step >= o.stopAfterStep);
        if (atEval) {
          // validate with the EMA weights (the ones used for sampling), then restore the live weights
          const live = noGrad(() => params.map((p) => keep(tidy(() => p.detach().clone()))));
          ema.copyTo();
          const val = validationLoss(model, ds, cfg.data.batchSize, cfg.train.valBatches, seeds.val);
          noGrad(() => params.forEach((p, i) => p.copy_(live[i]!)));
          for (const t of live) t.dispose();
          const rec: LodiEvalRecord = {
            step: meta.step,
            lr,
            train: { total: acc.total / accN, diffusion: acc.diffusion / accN, prior: acc.prior / accN, reconstruction: acc.reconstruction / accN },
            val,
            gamma0: model.gamma.at(0),
            gamma1: model.gamma.at(1),
            seconds: (Date.now() - t0) / 1000,
          };
          meta.history.push(rec);
          acc.total = acc.diffusion = acc.prior = acc.reconstruction = 0;
          accN = 0;
          t0 = Date.now();
          const best = meta.bestVal === null || val.total < meta.bestVal;
          if (best) {
            meta.bestVal = val.total;
            meta.bestStep = meta.step;
          }
          progress.log(
            `step ${meta.step}: train ${rec.train.total.toFixed(4)} (diff ${rec.train.diffusion.toFixed(4)}), val ${val.total.toFixed(4)} (diff ${val.diffusion.toFixed(4)})` +
              `${best ? ' best' : ''}; γ(0) ${rec.gamma0.toFixed(2)}, γ(1) ${rec.gamma1.toFixed(2)}, lr ${lr.toExponential(2)}`,
          );
          if (best) save(join(out, BEST_FILE), false);
          save(ckPath, true);
          writeCsv(join(out, 'history.csv'), historyRows(meta.history));
          o.onEval?.(meta);
        } else if (stopNow) {
          save(ckPath, true);
        }
        if (stopNow) {
          stopped = true;
          if (interrupted) progress.log(`interrupted at step ${meta.step}; continue with the same command and --resume`);
          break;
        }
      }
    } finally {
      model.dispose();
      ema.dispose();
      opt.dispose();
    }
    return { meta, stopped, out };
  } catch (err) {
    // a run that failed before its first checkpoint leaves nothing behind
    if (created && !existsSync(ckPath)) rmSync(out, { recursive: true, force: true });
    throw err;
  }
}
