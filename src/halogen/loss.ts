/**
 * HALOgen loss (LODI paper, Eq. 2–7).
 *
 * Thresholds T_c^(j): the `thresholdPercentile` (95th) percentile of channel j's log-density over the
 * training set (Eq. 3).
 * Weights (Eq. 2), per training crop of V voxels:
 *   w^i = V / Σ_{j=max(1,i−1)}^{min(4,i+1)} #{k : y^(j,k) > T_c^(j)}    (a count of 0 is taken as 1)
 * Mask (Eq. 4): m^(i,k) = w^i where y^(i,k) > T_c^(i), else 1; then divided by its mean over the
 * 4 x V entries, so every crop's mask averages to 1 (the paper's normalisation).
 * Loss (Eq. 5–7), averaged over the batch:
 *   L = Σ_j [ α β^j mean_k(m^(j,k) (ŷ − y)^2) + (1 − α) mean_k max(q d, (q − 1) d) ] + λ_w Σ|θ|,
 *   d = y − ŷ.
 */
import { F, Tensor, noGrad, tidy } from '@lodi/torch';
import type { HalogenLossConfig } from './config.js';

/** Linear-interpolated percentile (NumPy's default 'linear' method) of the finite values. */
export function percentile(values: ArrayLike<number>, p: number): number {
  const a = Float64Array.from(values as ArrayLike<number>).filter((v) => Number.isFinite(v));
  if (a.length === 0) throw new Error('percentile: no finite values');
  a.sort();
  const pos = ((a.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.min(a.length - 1, lo + 1);
  return a[lo]! + (a[hi]! - a[lo]!) * (pos - lo);
}

/**
 * Per-channel thresholds from target crops: `targets` is a list of [C, ...] Float32Arrays (log10 ρ_h),
 * all channels of equal length per crop.
 */
export function channelThresholds(targets: Float32Array[], channels: number, pct: number): number[] {
  const out: number[] = [];
  for (let c = 0; c < channels; c++) {
    let total = 0;
    for (const t of targets) total += t.length / channels;
    const all = new Float32Array(total);
    let off = 0;
    for (const t of targets) {
      const n = t.length / channels;
      all.set(t.subarray(c * n, (c + 1) * n), off);
      off += n;
    }
    out.push(percentile(all, pct));
  }
  return out;
}

/**
 * Weighted mask of Eq. 2 and 4 for targets [B,C,...] (log10 ρ_h) and thresholds T [C]; each sample's
 * mask is normalised to mean 1. No gradient.
 */
export function weightedMask(target: Tensor, thresholds: number[]): Tensor {
  return noGrad(() =>
    tidy(() => {
      const [B, C] = target.shape as [number, number];
      const V = target.numel / (B * C);
      const T = F.tensor(Float32Array.from(thresholds), [1, C, ...target.shape.slice(2).map(() => 1)], { device: target.device });
      const above = target.gt(T).to('float32'); // [B,C,...]
      const counts = above.sum(target.shape.slice(2).map((_, i) => i + 2)); // [B,C]
      // neighbour sum over channels i-1, i, i+1 (clipped at the ends)
      const parts: Tensor[] = [];
      for (let i = 0; i < C; i++) {
        const lo = Math.max(0, i - 1);
        const hi = Math.min(C - 1, i + 1);
        parts.push(counts.narrow(1, lo, hi - lo + 1).sum(1));
      }
      const nb = F.stack(parts, 1).clamp(1, null); // [B,C]
      const w = nb.pow(-1).mul(V); // [B,C]
      const wB = w.reshape([B, C, ...target.shape.slice(2).map(() => 1)]);
      const m = F.where(above.gt(0.5), wB.expand(target.shape), 1);
      const mean = m.mean(target.shape.slice(1).map((_, i) => i + 1), true);
      return m.div(mean);
    }),
  );
}

export interface LossTerms {
  /** Total loss (a scalar tensor with gradient). */
  total: Tensor;
  /** Per-channel masked MSE (before α β^j), per-channel pinball loss, and the L1 term (numbers). */
  mse: number[];
  pinball: number[];
  l1: number;
}

/**
 * Eq. 5 for predictions/targets [B,C,...] (log10 ρ_h) with a precomputed mask (`weightedMask`).
 * `l1` is Σ|θ| (pass null to skip the regulariser, e.g. for validation-only numbers).
 */
export function halogenLoss(pred: Tensor, target: Tensor, mask: Tensor, cfg: HalogenLossConfig, l1: Tensor | null): LossTerms {
  return tidy(() => {
    const C = pred.shape[1]!;
    const dims = [0, ...pred.shape.slice(2).map((_, i) => i + 2)];
    const diff = target.sub(pred);
    const mse = diff.square().mul(mask).mean(dims); // [C]
    const pin = diff.mul(cfg.q).maximum(diff.mul(cfg.q - 1)).mean(dims); // [C]
    const beta = F.tensor(Float32Array.from(cfg.beta.slice(0, C)), undefined, { device: pred.device });
    let total = mse.mul(beta).mul(cfg.alpha).add(pin.mul(1 - cfg.alpha)).sum();
    let l1v = 0;
    if (l1) {
      total = total.add(l1.mul(cfg.lambdaW));
      l1v = l1.item();
    }
    return {
      total,
      mse: Array.from(mse.detach().toFloat32Array()),
      pinball: Array.from(pin.detach().toFloat32Array()),
      l1: l1v,
    };
  });
}
