/**
 * HALOgen model files: metadata (config, seeds, worlds, split, normalisation, history) and loading a
 * trained model for inference. Files are src/train checkpoints of kind `halogen` (the safetensors
 * metadata key holding the JSON below): `model.*` the weights (the state-dict names of HalogenNet,
 * unchanged since the first files), and in checkpoint.safetensors also `optim.*` (RMSprop state by
 * parameter index) and `rng.data` (the augmentation generator). Files written before HALOgen moved
 * onto src/train have the same tensors and key and lack only the `format` entry; they load as they are.
 */
import type { PeriodState } from '../train/loop.js';
import type { Tensor } from '@lodi/torch';
import { BEST_FILE, CHECKPOINT_FILE, disposeGroups, readCheckpoint, resolveModelFile, type ReadCheckpoint } from '../train/checkpoint.js';
import type { HalogenConfig } from './config.js';
import type { HalogenInitRecord } from './init.js';
import type { Normalisation, Split } from './dataset.js';
import { HalogenNet } from './model.js';

/** Checkpoint kind: the safetensors metadata key of the JSON metadata. */
export const HALOGEN_KIND = 'halogen';
export const CHECKPOINT = CHECKPOINT_FILE;
export const BEST = BEST_FILE;

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
  /**
   * Set in a checkpoint written inside epoch `epochsDone` (Ctrl-C): its steps done and running
   * sums. The checkpoint's `rng.data` is then the generator state at that epoch's start, so a
   * resume draws the same epoch again and skips the steps done.
   */
  partial?: PeriodState;
  /** The model a run started from (`--init`), when it did. */
  init?: HalogenInitRecord;
}

/** Reads a HALOgen checkpoint (groups `model`, `optim`, `rng`; the caller disposes them). Throws naming the file otherwise. */
export function readHalogenCheckpoint(path: string): ReadCheckpoint<HalogenMeta> {
  return readCheckpoint<HalogenMeta>(path, HALOGEN_KIND);
}

/** The weights of a checkpoint; throws naming the file when it holds none. */
export function modelWeights(ck: ReadCheckpoint<HalogenMeta>, file: string): Map<string, Tensor> {
  const w = ck.groups.get('model');
  if (!w) throw new Error(`${file}: holds no model weights (no 'model.*' tensors)`);
  return w;
}

/**
 * Loads a trained model (run directory: best.safetensors, else checkpoint.safetensors; or a file)
 * in eval mode, with strict name and shape checks, on `device` ('cpu' default; 'cuda', 'cuda:N':
 * see `resolveDevice` of the engine). Throws one line naming the file on failure.
 */
export function loadHalogen(path: string, device = 'cpu'): { model: HalogenNet; meta: HalogenMeta; file: string } {
  const file = resolveModelFile(path);
  const ck = readHalogenCheckpoint(file);
  try {
    const model = new HalogenNet(ck.meta.config.model, ck.meta.seeds.model);
    try {
      model.loadStateDict(modelWeights(ck, file));
    } catch (err) {
      model.dispose();
      throw new Error(`${file}: ${(err as Error).message}`);
    }
    model.eval();
    if (device !== 'cpu') model.to(device);
    return { model, meta: ck.meta, file };
  } finally {
    disposeGroups(ck.groups);
  }
}

export interface HalogenContractInput {
  /** Path of the DM grid (for messages). */
  file: string;
  /** Box side [Mpc/h] and cells per side of the DM grid. */
  boxSize: number;
  n: number;
  /** Unit of the DM grid's sidecar, when it has one ('unknown' for a grid without a sidecar: not checked). */
  unit?: string;
}

/**
 * Checks that a DM density grid satisfies the data contract of a HALOgen model: the voxel size of
 * its training worlds (within 1e-3; the network has no notion of physical scale, so another voxel
 * maps other structures onto its filters) and the DM unit. Returns the one-line problems (empty when
 * the contract holds); the caller refuses unless told to ignore them. Models without a recorded
 * training world (none so far) have nothing to check.
 */
export function halogenContractProblems(meta: HalogenMeta, g: HalogenContractInput): string[] {
  const w = meta.worlds[0];
  if (!w) return [];
  const out: string[] = [];
  const want = w.boxSize / w.n;
  const voxel = g.boxSize / g.n;
  if (Math.abs(voxel - want) > 1e-3 * want)
    out.push(`${g.file}: voxel: ${voxel.toFixed(4)} Mpc/h (box ${g.boxSize} Mpc/h / ${g.n}), expected ${want.toFixed(4)} Mpc/h, the voxel HALOgen was trained at`);
  if (g.unit !== undefined && g.unit !== 'unknown' && w.dmUnit !== undefined && g.unit !== w.dmUnit)
    out.push(`${g.file}: unit: DM density unit '${g.unit}', expected '${w.dmUnit}', the unit HALOgen was trained on`);
  return out;
}
