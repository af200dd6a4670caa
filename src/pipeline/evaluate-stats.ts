/**
 * The numbers of `lodi evaluate` that are not plain field statistics: the normalised map T̂_b, the
 * P(k) residual of several fields × realisations with a seeded hierarchical bootstrap, interpolation
 * in log k, and the per-channel halo metrics of the HALOgen accuracy target. Pure functions (no I/O).
 */
import { meanForDivision } from '../field/ops.js';
import { quantileSorted } from '../field/stats.js';
import { Rng } from '../util/rng.js';

/**
 * T̂_b = T_b / ⟨T_b⟩ (dimensionless; the LODI paper's Eq. 15). Throws a one-line error naming `what`
 * when the mean cannot normalise the map (field/ops.ts `meanForDivision`: an all-zero map, or a mean ~0
 * relative to the rms with values of both signs, i.e. a mean-subtracted or standardised field).
 */
export function tbHat(tb: Float32Array, what: string): Float32Array {
  const mean = meanForDivision(tb, what, { symbol: 'T_b', unit: 'mK', advice: 'T̂_b = T_b/<T_b> (paper Eq. 15) needs a brightness-temperature map, not a mean-subtracted one' });
  const out = new Float32Array(tb.length);
  const inv = 1 / mean;
  for (let i = 0; i < tb.length; i++) out[i] = tb[i]! * inv;
  return out;
}

/** The mean of equally long curves, bin by bin (e.g. r(k) of several maps); null for none. */
export function meanCurve(curves: readonly ArrayLike<number>[]): Float64Array | null {
  if (!curves.length) return null;
  const m = new Float64Array(curves[0]!.length);
  for (const c of curves) for (let i = 0; i < m.length; i++) m[i]! += c[i]! / curves.length;
  return m;
}

/** y(k0) by linear interpolation in log k over increasing k; NaN outside [k_0, k_last] or at a NaN neighbour. */
export function interpLogK(k: ArrayLike<number>, y: ArrayLike<number>, k0: number): number {
  const n = k.length;
  if (n === 0 || !(k0 >= k[0]!) || !(k0 <= k[n - 1]!)) return NaN;
  let j = 1;
  while (j < n && k[j]! < k0) j++;
  if (j >= n) return y[n - 1]!;
  if (k[j]! === k0) return y[j]!;
  const f = (Math.log(k0) - Math.log(k[j - 1]!)) / (Math.log(k[j]!) - Math.log(k[j - 1]!));
  return y[j - 1]! + f * (y[j]! - y[j - 1]!);
}

export interface ResidualStats {
  /** Mean over fields of ⟨P_gen⟩_realisations / P_true − 1, per k bin. */
  mean: Float64Array;
  /** Per field: ⟨P_gen⟩ / P_true − 1 and the standard deviation over realisations of P_gen / P_true. */
  perField: { mean: Float64Array; std: Float64Array }[];
  /** Bootstrap standard deviation of `mean` and its 16th / 84th percentiles. */
  bootStd: Float64Array;
  boot16: Float64Array;
  boot84: Float64Array;
  samples: number;
  seed: number;
}

/**
 * The residual P_gen/P_true − 1 of F fields with R_f realisations each (realisations averaged first,
 * then fields) and its uncertainty from a seeded hierarchical bootstrap: each sample draws F fields
 * with replacement and, within each drawn field, R_f realisations with replacement, and recomputes
 * the residual. With one field and one realisation the bootstrap spread is 0.
 *
 * @param pTrue  per field, P_true(k) (all fields on the same k bins)
 * @param pGen   per field, per realisation, P_gen(k)
 */
export function residualBootstrap(pTrue: Float64Array[], pGen: Float64Array[][], opts: { samples?: number; seed?: number } = {}): ResidualStats {
  const F = pTrue.length;
  if (F === 0 || pGen.length !== F) throw new Error(`residualBootstrap: ${F} truth spectra for ${pGen.length} fields`);
  const nk = pTrue[0]!.length;
  for (let f = 0; f < F; f++) {
    if (pTrue[f]!.length !== nk || pGen[f]!.length === 0 || pGen[f]!.some((p) => p.length !== nk)) throw new Error(`residualBootstrap: field ${f} has no realisations or different k bins`);
  }
  const samples = opts.samples ?? 1000;
  const seed = opts.seed ?? 0;
  // ratios[f][r][k] = P_gen / P_true
  const ratios = pGen.map((rs, f) => rs.map((p) => p.map((v, i) => v / pTrue[f]![i]!)));
  const perField = ratios.map((rs) => {
    const m = new Float64Array(nk);
    const s = new Float64Array(nk);
    for (const r of rs) for (let i = 0; i < nk; i++) m[i]! += r[i]! / rs.length;
    for (const r of rs) for (let i = 0; i < nk; i++) s[i]! += (r[i]! - m[i]!) ** 2;
    for (let i = 0; i < nk; i++) s[i] = rs.length > 1 ? Math.sqrt(s[i]! / (rs.length - 1)) : 0;
    return { mean: m.map((v) => v - 1), std: s };
  });
  const mean = new Float64Array(nk);
  for (const pf of perField) for (let i = 0; i < nk; i++) mean[i]! += pf.mean[i]! / F;
  const rng = new Rng(seed);
  const boot = Array.from({ length: nk }, () => new Float64Array(samples));
  const acc = new Float64Array(nk);
  for (let b = 0; b < samples; b++) {
    acc.fill(0);
    for (let j = 0; j < F; j++) {
      const rs = ratios[rng.int(F)]!;
      const R = rs.length;
      for (let q = 0; q < R; q++) {
        const r = rs[rng.int(R)]!;
        for (let i = 0; i < nk; i++) acc[i]! += r[i]! / (R * F);
      }
    }
    for (let i = 0; i < nk; i++) boot[i]![b] = acc[i]! - 1;
  }
  const bootStd = new Float64Array(nk);
  const boot16 = new Float64Array(nk);
  const boot84 = new Float64Array(nk);
  for (let i = 0; i < nk; i++) {
    const v = boot[i]!;
    let m = 0;
    for (const x of v) m += x / samples;
    let s = 0;
    for (const x of v) s += (x - m) ** 2;
    bootStd[i] = samples > 1 ? Math.sqrt(s / (samples - 1)) : 0;
    const sorted = Float64Array.from(v).sort();
    boot16[i] = quantileSorted(sorted, 0.16);
    boot84[i] = quantileSorted(sorted, 0.84);
  }
  return { mean, perField, bootStd, boot16, boot84, samples, seed };
}

/** Mean and maximum of |y| over the bins with k ≤ kMax (NaN when there is none). */
export function absStats(k: ArrayLike<number>, y: ArrayLike<number>, kMax: number): { mean: number; max: number; bins: number } {
  let s = 0;
  let m = 0;
  let c = 0;
  for (let i = 0; i < k.length; i++) {
    if (!(k[i]! <= kMax) || !Number.isFinite(y[i]!)) continue;
    s += Math.abs(y[i]!);
    m = Math.max(m, Math.abs(y[i]!));
    c++;
  }
  return { mean: c ? s / c : NaN, max: c ? m : NaN, bins: c };
}

export interface HaloChannelMetrics {
  /** Voxels where the target reaches the occupancy floor (pooled over fields). */
  occupied: number;
  /** The occupancy floor: log10 ρ_h a target voxel must reach to count as occupied. */
  floorLog: number;
  /** log10 ρ_h of the target over its occupied voxels: median, 16th and 84th percentiles. */
  target: { median: number; p16: number; p84: number };
  /** log10 ρ_h of the prediction over the same voxels (−Infinity where the prediction is 0). */
  predicted: { median: number; p16: number; p84: number; emptyFraction: number };
  /** The HALOgen accuracy target: predicted median inside the target's 16–84 % band. */
  medianInBand: boolean;
}

/**
 * Per-channel distribution metrics of a halo-mass-density prediction over the voxels the target
 * occupies (log10 ρ_h ≥ `floorLog`; HALOgen's inference floor, 9.5, below which its predictions are
 * set to 0, so that the smoothing tails of the target, ρ_h down to ~1e3, do not count as occupied),
 * pooled over the given (target, prediction) pairs of one channel. Densities in (Msun/h)/(Mpc/h)^3;
 * the statistics are of log10 ρ_h. A channel the target never occupies gives NaN quantiles and
 * medianInBand = false. `floorLog` −Infinity counts every voxel with ρ_h > 0.
 */
export function haloChannelMetrics(pairs: { target: ArrayLike<number>; pred: ArrayLike<number> }[], floorLog = -Infinity): HaloChannelMetrics {
  const minTarget = 10 ** floorLog;
  const t: number[] = [];
  const p: number[] = [];
  let empty = 0;
  for (const { target, pred } of pairs) {
    if (target.length !== pred.length) throw new Error(`haloChannelMetrics: target has ${target.length} voxels, prediction ${pred.length}`);
    for (let i = 0; i < target.length; i++) {
      if (!(target[i]! > 0 && target[i]! >= minTarget)) continue;
      t.push(Math.log10(target[i]!));
      const v = pred[i]!;
      if (v > 0) p.push(Math.log10(v));
      else {
        p.push(-Infinity);
        empty++;
      }
    }
  }
  const ts = Float64Array.from(t).sort();
  const ps = Float64Array.from(p).sort();
  // −Infinity (empty prediction) sorts first; quantileSorted would turn −∞ − (−∞) into NaN
  const q = (a: Float64Array, f: number): number => {
    if (!a.length) return NaN;
    const pos = f * (a.length - 1);
    const lo = Math.floor(pos);
    if (a[lo] === -Infinity) return -Infinity;
    return quantileSorted(a, f);
  };
  const target = { median: q(ts, 0.5), p16: q(ts, 0.16), p84: q(ts, 0.84) };
  const predicted = { median: q(ps, 0.5), p16: q(ps, 0.16), p84: q(ps, 0.84), emptyFraction: t.length ? empty / t.length : NaN };
  return { occupied: t.length, floorLog, target, predicted, medianInBand: predicted.median >= target.p16 && predicted.median <= target.p84 };
}
