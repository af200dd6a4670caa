/**
 * LODI model files: metadata (config, normalisation, data contract, split, history) and loading a
 * trained model for generation. Generation uses the EMA weights (`ema.*` in checkpoint files;
 * best.safetensors stores the EMA weights as `model.*`).
 */
import type { PeriodState } from '../train/loop.js';
import { Generator, type Tensor } from '@lodi/torch';
import { disposeGroups, readCheckpoint, resolveModelFile } from '../train/checkpoint.js';
import { trainedWorlds } from '../train/lineage.js';
import type { LodiConfig } from './config.js';
import type { LodiSplit } from './dataset.js';
import type { LodiNormalisation } from './transform.js';
import { LodiModel } from './vdm.js';

export const LODI_KIND = 'lodi-vdm';

/** What the grids given to a model must satisfy (checked before generation). */
export interface LodiDataContract {
  /** Voxel side [Mpc/h] of the training grids. */
  voxel: number;
  /** Gaussian smoothing radius [Mpc/h] of the training maps (null when unknown). */
  smoothingR: number | null;
  /** Halo-mass bin edges and their unit, as recorded by the training worlds (null when unknown). */
  massBins: { edges: (number | null)[]; unit: string } | null;
  haloUnit: string;
  tbUnit: string;
  channels: number;
  redshift: number;
}

export interface LodiEvalRecord {
  step: number;
  lr: number;
  train: { total: number; diffusion: number; prior: number; reconstruction: number };
  val: { total: number; diffusion: number; prior: number; reconstruction: number };
  gamma0: number;
  gamma1: number;
  seconds: number;
}

export interface LodiMeta {
  format: typeof LODI_KIND;
  version: 1;
  config: LodiConfig;
  seeds: { base: number; model: number; split: number; data: number; noise: number; dropout: number; val: number };
  /** Training worlds; `halosFile` names the halo channels trained on when they were not the world's halos.npy. */
  worlds: { dir: string; n: number; boxSize: number; redshift: number; seed?: number; halosFile?: string }[];
  split: LodiSplit;
  normalisation: LodiNormalisation;
  contract: LodiDataContract;
  step: number;
  /** State of the data Rng after `step` steps. */
  dataRng: number;
  bestVal: number | null;
  bestStep: number | null;
  history: LodiEvalRecord[];
  description: { parameters: number; flopsPerCrop: number; crop: number };
  command?: string;
  /**
   * The trained LODI this run started from (`init`: fine-tuning), with its step count when saved and
   * `worlds`: every world that model's weights had trained on (its own worlds and those of the model it
   * started from, and so on), so that a fine-tuned model still counts them as training data.
   */
  init?: { file: string; sha256: string; step: number; worlds?: LodiMeta['worlds'] };
  /** Set in a checkpoint written inside an evaluation period (Ctrl-C): the period's running sums. */
  partial?: PeriodState;
}

export interface LoadedLodi {
  model: LodiModel;
  meta: LodiMeta;
  file: string;
}

/** Loads a trained LODI (run directory or file) with its EMA weights, in eval mode, on `device` ('cpu' default; 'cuda', 'cuda:N'). */
export function loadLodi(path: string, device = 'cpu'): LoadedLodi {
  const file = resolveModelFile(path);
  const ck = readCheckpoint<LodiMeta>(file, LODI_KIND);
  try {
    const model = new LodiModel(ck.meta.config, new Generator(ck.meta.seeds.model));
    const weights: Map<string, Tensor> | undefined = ck.groups.get('ema') ?? ck.groups.get('model');
    if (!weights) throw new Error(`${file}: holds no model weights`);
    model.loadStateDict(weights);
    model.eval();
    if (device !== 'cpu') model.to(device);
    return { model, meta: ck.meta, file };
  } finally {
    disposeGroups(ck.groups);
  }
}

export interface ContractCheckInput {
  /** Path of the halo grid (for messages). */
  file: string;
  boxSize: number;
  n: number;
  channels: number;
  unit: string;
}

/**
 * Checks that halo channels given to a model satisfy its data contract (voxel size, channel count,
 * unit). Returns the one-line problems (empty when it holds): the caller refuses unless told to
 * ignore them.
 */
export function contractProblems(meta: LodiMeta, g: ContractCheckInput): string[] {
  const c = meta.contract;
  const out: string[] = [];
  const voxel = g.boxSize / g.n;
  if (Math.abs(voxel - c.voxel) > 1e-3 * c.voxel)
    out.push(`${g.file}: voxel: voxel ${voxel.toFixed(4)} Mpc/h (box ${g.boxSize} Mpc/h / ${g.n}), expected ${c.voxel.toFixed(4)} Mpc/h, the voxel the model was trained at`);
  if (g.channels !== c.channels) out.push(`${g.file}: channels: ${g.channels} halo channels, expected the model's ${c.channels}`);
  if (g.unit !== c.haloUnit) out.push(`${g.file}: unit: halo density unit '${g.unit}', expected '${c.haloUnit}', the unit the model was trained on`);
  return out;
}

/**
 * Every world a LODI's weights have trained on: its own `worlds` and, for a fine-tuned model, those of
 * the model it started from (`init.worlds`), without repeats (same directory and seed: a world trained on
 * with another halo-channel file is listed once, as this model's own entry).
 */
export function lodiTrainedWorlds(meta: Pick<LodiMeta, 'worlds' | 'init'>): LodiMeta['worlds'] {
  return trainedWorlds(meta.worlds, meta.init?.worlds);
}
