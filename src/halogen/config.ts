/**
 * HALOgen hyper-parameters (LODI paper, Sec. 2.1 and 2.3.1). Every number used by the model, the
 * loss, the data pipeline, training and inference lives here, so a run is fully described by its
 * config (which is stored in every checkpoint).
 *
 * Input transform (documented choice; the paper does not give one):
 *   x = (log10(ρ_DM / <ρ_DM>_box + dmOffset) − mean) / std
 * where <ρ_DM>_box is the mean of the whole periodic DM grid (so the transform does not depend on
 * the density unit), `dmOffset` keeps empty CIC cells finite, and mean/std are measured over the
 * training sub-volumes and stored with the model. With `dmNormalise: 'none'` the box mean is not
 * divided out (then `dmOffset` is in the grid's own unit).
 *
 * Target transform: y = log10(ρ_h + haloOffset) per channel, ρ_h in the halo grid's unit
 * ((Msun/h)/(Mpc/h)^3 for worlds from `lodi simulate`). `haloOffset` only keeps empty voxels finite;
 * its log lies below `floorLog` so predictions there are floored to 0 at inference.
 */

import type { MassUnit } from '../io/units.js';
import type { Activation } from '../nets/activation.js';

export interface HalogenModelConfig {
  /** Input channels (1: the DM density). */
  inChannels: number;
  /** Output channels (one per halo-mass bin). */
  outChannels: number;
  /** Independent channel streams: every conv/norm/attention is grouped by this (paper: 4). */
  groups: number;
  /** Feature channels at 64^3, 32^3, 16^3 and the 8^3 bottleneck (each divisible by `groups`). */
  channels: [number, number, number, number];
  /** ResNet blocks per encoder/decoder stage. */
  blocksPerStage: number;
  /** GroupNorm groups per stream (total norm groups = groups * normGroupsPerStream). */
  normGroupsPerStream: number;
  /** Convolution kernel size (odd). */
  kernel: number;
  /** Attention heads per stream at the bottleneck. */
  headsPerStream: number;
  /** Nonlinearity of the ResNet blocks and the head (src/nets/activation.ts). */
  activation: Activation;
  /**
   * Run a grouped conv as one dense conv with a block-diagonal weight when its input channels per
   * group reach this number (same result; faster on CPU libtorch for wider groups). 0 = always,
   * a huge number = never.
   */
  blockDiagonalMin: number;
}

export interface HalogenLossConfig {
  /** Weight of the masked MSE term against the quantile term (paper: 0.6). */
  alpha: number;
  /** Quantile of the pinball loss (paper: 0.7). */
  q: number;
  /** Per-channel weights β^j (paper: [1, 2, 5, 8]). */
  beta: number[];
  /** L1 weight regularisation λ_w (paper: 1e-6). */
  lambdaW: number;
  /** Percentile of each channel's training-set log-density used as threshold T_c (paper: 95). */
  thresholdPercentile: number;
}

export interface HalogenDataConfig {
  /**
   * Halo-mass bin edges in `massBinsUnit`; the last entry 'max' means the largest halo. The paper's
   * edges (3e10, 1e11, 5e11, 1e12 Msun) are in Msun, as `lodi prepare` and `lodi simulate` use them.
   */
  massBins: (number | 'max')[];
  /** Unit of `massBins` (the paper's: Msun, no h; worlds record theirs in world.json). */
  massBinsUnit: MassUnit;
  /** Sub-volume side in voxels (paper: 64). */
  crop: number;
  /** Gaussian smoothing radius of the maps in Mpc/h (applied when the worlds are built; recorded). */
  smoothingR: number;
  /** Fraction of sub-volumes used for training (paper: 0.75); the rest validate. */
  trainFraction: number;
  /** Batch size (paper: 16). */
  batchSize: number;
  /** Symmetric copies of each training crop per epoch: 1 = one random of the 48, 48 = all of them. */
  symmetriesPerEpoch: number;
  /**
   * Random periodic jitter (voxels, per axis) of training crop origins, redrawn each epoch; 0 = the
   * fixed sub-volume grid. With jitter > 0 a training crop may reach up to `jitter` voxels into a
   * neighbouring (possibly validation) sub-volume.
   */
  jitter: number;
  dmNormalise: 'box-mean' | 'none';
  /** Added before log10 of the (normalised) DM density. */
  dmOffset: number;
  /** Added before log10 of the halo density (grid unit). */
  haloOffset: number;
}

export interface HalogenTrainConfig {
  epochs: number;
  optimizer: 'rmsprop';
  /** RMSprop smoothing constant and epsilon (PyTorch defaults). */
  rmspropAlpha: number;
  rmspropEps: number;
  /** Constant learning rate for the first `warmEpochs` epochs (paper: 2e-4 for 10 epochs). */
  lrInitial: number;
  warmEpochs: number;
  /** CosineAnnealingWarmRestarts afterwards: lrMax → lrMin over `cycle` epochs (paper: 1e-4, 3e-5, 50). */
  lrMax: number;
  lrMin: number;
  cycle: number;
}

export interface HalogenInferConfig {
  /** Window stride in voxels (paper: 16). */
  stride: number;
  /** Predicted log10 ρ_h below this is set to ρ_h = 0 (paper: 9.5). */
  floorLog: number;
  /** Windows per forward pass. */
  batch: number;
}

export interface HalogenConfig {
  preset: string;
  model: HalogenModelConfig;
  loss: HalogenLossConfig;
  data: HalogenDataConfig;
  train: HalogenTrainConfig;
  infer: HalogenInferConfig;
}

const PAPER_LOSS: HalogenLossConfig = { alpha: 0.6, q: 0.7, beta: [1, 2, 5, 8], lambdaW: 1e-6, thresholdPercentile: 95 };

const PAPER_DATA: HalogenDataConfig = {
  massBins: [3e10, 1e11, 5e11, 1e12, 'max'],
  massBinsUnit: 'Msun',
  crop: 64,
  smoothingR: 0.2,
  trainFraction: 0.75,
  batchSize: 16,
  symmetriesPerEpoch: 48,
  jitter: 0,
  dmNormalise: 'box-mean',
  dmOffset: 1e-3,
  haloOffset: 1e8,
};

const PAPER_TRAIN: HalogenTrainConfig = {
  epochs: 260,
  optimizer: 'rmsprop',
  rmspropAlpha: 0.99,
  rmspropEps: 1e-8,
  lrInitial: 2e-4,
  warmEpochs: 10,
  lrMax: 1e-4,
  lrMin: 3e-5,
  cycle: 50,
};

/** log10 ρ_h [(Msun/h)/(Mpc/h)^3] below which predictions are set to 0 (and target voxels count as empty in evaluations). */
export const DEFAULT_FLOOR_LOG = 9.5;

const PAPER_INFER: HalogenInferConfig = { stride: 16, floorLog: DEFAULT_FLOOR_LOG, batch: 8 };

/**
 * `paper`: widths are not given in the paper; these are the usual attention-ResUNet widths
 * (64→512, two blocks per stage) whose cost per step is consistent with the quoted ~21 h on one
 * A100 for 260 epochs of 48 x 48 augmented sub-volumes.
 * `cpu`: same topology, narrow (4 channels per stream at 64^3 and 32^3, then 8 and 16), one block per
 * stage, one random symmetry per crop per epoch, batch 4, learning rate 1e-3 for 5 epochs then cosine
 * cycles 5e-4 → 5e-5 of 29 epochs, loss thresholds at the 99th percentile; the bundled model
 * (models/halogen-cpu, MODELS.md) trained on five 128^3 worlds (30 crops) on one core.
 * Why 4 channels per stream at full resolution: with 2 (widths [8, 16, 32, 64]) one of the four
 * independent streams often never leaves the constant mean prediction (seed 0: channel 3, seed 1:
 * channel 4; its validation MSE stays within 5% of its initial value), whichever the learning rate
 * or output scaling; with 4 every stream of both seeds learns from the first epoch, at 1.3x the cost.
 */
export const PRESETS: Record<string, HalogenConfig> = {
  paper: {
    preset: 'paper',
    model: {
      inChannels: 1,
      outChannels: 4,
      groups: 4,
      channels: [64, 128, 256, 512],
      blocksPerStage: 2,
      normGroupsPerStream: 2,
      kernel: 3,
      headsPerStream: 1,
      activation: 'silu',
      blockDiagonalMin: 4,
    },
    loss: PAPER_LOSS,
    data: PAPER_DATA,
    train: PAPER_TRAIN,
    infer: PAPER_INFER,
  },
  cpu: {
    preset: 'cpu',
    model: {
      inChannels: 1,
      outChannels: 4,
      groups: 4,
      channels: [16, 16, 32, 64],
      blocksPerStage: 1,
      normGroupsPerStream: 1,
      kernel: 3,
      headsPerStream: 1,
      activation: 'silu',
      blockDiagonalMin: 4,
    },
    // Loss thresholds at the 99th percentile: on 128^3 grids of a 25 Mpc/h box the heavy channels
    // occupy (log10 ρ_h ≥ 9.5) only 1–2% of the voxels, so the paper's 95th percentile falls into the
    // smoothing tails (≈ empty), the mask stops emphasising halos and channel 3 stays empty.
    loss: { ...PAPER_LOSS, thresholdPercentile: 99 },
    // batch 4 and a 5x higher learning rate than the paper's: with ~30 training crops per epoch
    // this gives ~250 optimiser steps in under an hour on one core (the bundled model, MODELS.md).
    data: { ...PAPER_DATA, batchSize: 4, symmetriesPerEpoch: 1, jitter: 0 },
    train: { ...PAPER_TRAIN, epochs: 34, warmEpochs: 5, cycle: 29, lrInitial: 1e-3, lrMax: 5e-4, lrMin: 5e-5 },
    infer: { ...PAPER_INFER, batch: 4 },
  },
  /** For tests: 16^3 crops, 1-2 channels per stream. */
  tiny: {
    preset: 'tiny',
    model: {
      inChannels: 1,
      outChannels: 4,
      groups: 4,
      channels: [4, 8, 8, 8],
      blocksPerStage: 1,
      normGroupsPerStream: 1,
      kernel: 3,
      headsPerStream: 1,
      activation: 'silu',
      blockDiagonalMin: 4,
    },
    loss: PAPER_LOSS,
    data: { ...PAPER_DATA, crop: 16, batchSize: 4, symmetriesPerEpoch: 1 },
    train: { ...PAPER_TRAIN, epochs: 4, warmEpochs: 2, cycle: 2, lrInitial: 2e-3, lrMax: 1e-3, lrMin: 3e-4 },
    infer: { ...PAPER_INFER, stride: 8, batch: 4 },
  },
};

/** A deep copy of a preset (throws on an unknown name). */
export function preset(name: string): HalogenConfig {
  const p = PRESETS[name];
  if (!p) throw new Error(`unknown HALOgen preset '${name}' (use ${Object.keys(PRESETS).join(', ')})`);
  return structuredClone(p);
}

/** Checks divisibility and ranges; throws with a one-line reason. */
export function validateConfig(c: HalogenConfig): void {
  const m = c.model;
  const fail = (why: string): never => {
    throw new Error(`HALOgen config: ${why}`);
  };
  if (m.outChannels % m.groups) fail(`outChannels ${m.outChannels} not divisible by groups ${m.groups}`);
  for (const ch of m.channels) {
    if (ch % m.groups) fail(`channel width ${ch} not divisible by groups ${m.groups}`);
    if ((ch / m.groups) % m.normGroupsPerStream) fail(`channel width ${ch} not divisible into ${m.groups}x${m.normGroupsPerStream} norm groups`);
    if ((ch / m.groups) % m.headsPerStream) fail(`channel width ${ch} not divisible into ${m.groups}x${m.headsPerStream} heads`);
  }
  if (m.kernel % 2 !== 1) fail(`kernel must be odd, got ${m.kernel}`);
  if (c.loss.beta.length !== m.outChannels) fail(`beta has ${c.loss.beta.length} entries for ${m.outChannels} channels`);
  if (!(c.loss.q > 0 && c.loss.q < 1)) fail(`q must be in (0,1), got ${c.loss.q}`);
  if (c.data.crop % 8) fail(`crop ${c.data.crop} must be a multiple of 8 (three 2x2x2 poolings)`);
  if (!(c.data.trainFraction > 0 && c.data.trainFraction < 1)) fail(`trainFraction must be in (0,1)`);
  if (c.data.symmetriesPerEpoch < 1 || c.data.symmetriesPerEpoch > 48) fail(`symmetriesPerEpoch must be 1..48`);
  if (c.infer.stride < 1) fail(`stride must be ≥ 1`);
  if (c.data.massBins.length !== m.outChannels + 1) fail(`massBins must have ${m.outChannels + 1} edges`);
}
