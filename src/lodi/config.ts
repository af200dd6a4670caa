/**
 * LODI hyper-parameters (LODI paper, Sec. 2.2 and 2.3.2; VDM of Kingma et al. 2021). Every number
 * used by the denoiser, the schedule, the data pipeline and training lives here, and the whole
 * config is stored in every checkpoint, so a run is fully described by it.
 *
 * Data transforms (documented choices; the paper gives none):
 *   T_b:  y = (log10(T_b + f) − μ_T) / s_T,  f = tbFloorFraction × ⟨T_b⟩_train [mK]
 *         inverse T_b = max(10^(y s_T + μ_T) − f, 0), with values below f·1e-6 snapped to exactly 0,
 *         so voxels of exactly zero round-trip.
 *   halo channels: c_j = (log10(ρ_h,j + 10^haloFloorLog) − μ_j) / s_j, ρ_h in the grid's unit.
 * μ and s are measured on the training crops and stored in the checkpoint.
 */

export interface LodiNetConfig {
  /** Channel widths of the U-Net levels, from full resolution down (paper: E × (1, 2, 4, 8), E = 48). */
  widths: number[];
  /** Conditioning channels (the four halo-mass channels). */
  condChannels: number;
  /** Residual blocks per level on each side of the U-Net. */
  blocksPerLevel: number;
  /** 3^3 convolutions per residual block (paper: 3, one more than VDM). */
  convsPerBlock: number;
  /** GroupNorm groups (paper: 8). */
  normGroups: number;
  dropout: number;
  /** Heads of the bottleneck self-attention. */
  attentionHeads: number;
}

export interface LodiScheduleConfig {
  /** Initial γ(0) and γ(1) of the learned linear schedule (CAMELS VDM: −13.3, 13.3). */
  gammaMin: number;
  gammaMax: number;
  /** Learn b and w of γ(t) = b + |w| t (VDM) or keep them fixed. */
  learned: boolean;
  /** Number of discrete steps T (paper: 50). */
  steps: number;
}

export interface LodiDataConfig {
  /** Crop side in voxels (paper: 32). */
  crop: number;
  /** f = tbFloorFraction × mean training T_b is added before log10. */
  tbFloorFraction: number;
  /** log10 of the floor added to ρ_h before log10 (grid unit; (Msun/h)/(Mpc/h)^3 for lodi worlds). */
  haloFloorLog: number;
  /** Crops whose channel 2 or 3 reaches log10 ρ_h ≥ importanceLog are "important" (paper: 10). */
  importanceLog: number;
  /** Share of each batch centred on voxels of the low-mass channels 0–1 (paper: 50%). */
  lowMassShare: number;
  /** Fraction of crop positions used for training (paper: 0.75); the rest validate. */
  trainFraction: number;
  batchSize: number;
}

export interface LodiTrainConfig {
  /** Total optimiser steps (`--steps` with `--resume` is a total, not an extension). */
  steps: number;
  lr: number;
  weightDecay: number;
  /** Linear warm-up steps, then cosine decay to lr × lrMinFactor. */
  warmupSteps: number;
  lrMinFactor: number;
  /** Gradient-norm clipping (0 disables). */
  clipNorm: number;
  emaDecay: number;
  /** Validation (with EMA weights) and checkpoint every this many steps. */
  evalEvery: number;
  /** Validation batches per evaluation (fixed crops, fixed noise: comparable across evaluations). */
  valBatches: number;
}

export interface LodiConfig {
  preset: string;
  net: LodiNetConfig;
  schedule: LodiScheduleConfig;
  data: LodiDataConfig;
  train: LodiTrainConfig;
}

const SCHEDULE: LodiScheduleConfig = { gammaMin: -13.3, gammaMax: 13.3, learned: true, steps: 50 };
const DATA: LodiDataConfig = {
  crop: 32,
  tbFloorFraction: 1e-3,
  haloFloorLog: 8,
  importanceLog: 10,
  lowMassShare: 0.5,
  trainFraction: 0.75,
  batchSize: 16,
};

/**
 * Named presets.
 * - `paper`: E = 48, four levels, batch 16 (Sec. 2.3.2): for a GPU.
 * - `cpu`: E = 16, three levels, batch 8: trainable on 2 CPU cores in a few hours.
 * - `tiny`: for tests (seconds).
 */
export function lodiPreset(name: string): LodiConfig {
  switch (name) {
    case 'paper':
      return {
        preset: 'paper',
        net: { widths: [48, 96, 192, 384], condChannels: 4, blocksPerLevel: 2, convsPerBlock: 3, normGroups: 8, dropout: 0.1, attentionHeads: 4 },
        schedule: { ...SCHEDULE },
        data: { ...DATA },
        train: { steps: 200000, lr: 1e-4, weightDecay: 1e-4, warmupSteps: 1000, lrMinFactor: 0.1, clipNorm: 1, emaDecay: 0.9999, evalEvery: 2000, valBatches: 8 },
      };
    case 'cpu':
      return {
        preset: 'cpu',
        net: { widths: [16, 32, 64], condChannels: 4, blocksPerLevel: 1, convsPerBlock: 3, normGroups: 8, dropout: 0.1, attentionHeads: 2 },
        schedule: { ...SCHEDULE },
        data: { ...DATA, batchSize: 8 },
        train: { steps: 6000, lr: 5e-4, weightDecay: 1e-4, warmupSteps: 200, lrMinFactor: 0.1, clipNorm: 1, emaDecay: 0.999, evalEvery: 250, valBatches: 4 },
      };
    case 'tiny':
      return {
        preset: 'tiny',
        net: { widths: [8, 16], condChannels: 4, blocksPerLevel: 1, convsPerBlock: 3, normGroups: 4, dropout: 0.1, attentionHeads: 1 },
        schedule: { ...SCHEDULE },
        data: { ...DATA, crop: 16, batchSize: 4 },
        train: { steps: 30, lr: 2e-3, weightDecay: 0, warmupSteps: 2, lrMinFactor: 0.1, clipNorm: 1, emaDecay: 0.9, evalEvery: 10, valBatches: 1 },
      };
    default:
      throw new Error(`unknown LODI preset '${name}' (expected paper, cpu or tiny)`);
  }
}

/** Throws a one-line error naming the first inconsistent field. */
export function validateLodiConfig(c: LodiConfig): void {
  const n = c.net;
  if (!n.widths.length) throw new Error('LODI config: net.widths must list at least one level width');
  for (const w of n.widths) {
    if (!Number.isInteger(w) || w <= 0) throw new Error(`LODI config: net.widths must be positive integers, got [${n.widths}]`);
    if (w % Math.min(n.normGroups, w)) throw new Error(`LODI config: width ${w} not divisible into ${n.normGroups} GroupNorm groups`);
  }
  const last = n.widths[n.widths.length - 1]!;
  if (last % n.attentionHeads) throw new Error(`LODI config: bottleneck width ${last} not divisible into ${n.attentionHeads} heads`);
  const factor = 2 ** (n.widths.length - 1);
  if (c.data.crop % factor) throw new Error(`LODI config: crop ${c.data.crop} must be a multiple of ${factor} for ${n.widths.length} levels`);
  if (!(c.schedule.gammaMax > c.schedule.gammaMin)) throw new Error('LODI config: schedule.gammaMax must exceed gammaMin');
  if (!Number.isInteger(c.schedule.steps) || c.schedule.steps < 1) throw new Error('LODI config: schedule.steps must be a positive integer');
  if (!(c.data.trainFraction > 0 && c.data.trainFraction < 1)) throw new Error('LODI config: data.trainFraction must be in (0, 1)');
  if (!(c.data.lowMassShare >= 0 && c.data.lowMassShare <= 1)) throw new Error('LODI config: data.lowMassShare must be in [0, 1]');
}
