/**
 * Auto and cross power spectra of 21 cm and [CII] boxes (Davies et al. 2025, Sec. 7, Eq. 28–30):
 *   Δ²_21(k)     = k³/(2π² V) ⟨|δT_b(k) − ⟨δT_b⟩|²⟩_k              [mK²]
 *   Δ²_CII(k)    = k³/(2π² V) ⟨|δ_CII(k)|²⟩_k                         [dimensionless]
 *   Δ²_CII×21(k) = k³/(2π² V) ⟨δ_CII(k) (δT_b(k) − ⟨δT_b⟩)*⟩_k      [mK]
 * with δ_CII = B_CII/⟨B_CII⟩ − 1 and the cross-correlation coefficient r(k) = P_CII×21/sqrt(P_CII P_21).
 * (1/V)⟨|X(k)|²⟩ is P(k) of src/field/power.ts (Pylians conventions, Re of the cross term), so
 * Δ² = k³ P(k)/(2π²); k in h/Mpc and P in (Mpc/h)³ make Δ² independent of h. Means are box means
 * (coeval boxes); the fields are per cell, so no mass-assignment window is deconvolved by default.
 */
import { crossPowerSpectrum, dimensionless, type MasCorrection } from '../../field/power.js';

/** δ_CII = B/⟨B⟩ − 1 (float64 mean), Float32Array of the input length. @throws Error when ⟨B⟩ <= 0 or not finite. */
export function ciiContrast(bCII: ArrayLike<number>): Float32Array {
  let s = 0;
  for (let i = 0; i < bCII.length; i++) s += bCII[i]!;
  const mean = s / bCII.length;
  if (!(Number.isFinite(mean) && mean > 0)) throw new Error(`ciiContrast: mean B_CII must be finite and > 0 to define δ_CII = B/⟨B⟩ − 1, got ${mean}`);
  return Float32Array.from(bCII, (b) => b / mean - 1);
}

/** δT_b − ⟨δT_b⟩ (float64 mean), Float32Array. @throws Error when the mean is not finite. */
export function meanSubtracted(field: ArrayLike<number>): Float32Array {
  let s = 0;
  for (let i = 0; i < field.length; i++) s += field[i]!;
  const mean = s / field.length;
  if (!Number.isFinite(mean)) throw new Error(`meanSubtracted: the field's mean is ${mean}, expected a finite number`);
  return Float32Array.from(field, (v) => v - mean);
}

/** Auto and cross spectra of δT_b and B_CII, per k bin. */
export interface LimSpectra {
  /** Mean |k| per bin [h/Mpc]. */
  k: Float64Array;
  /** P of δT_b − ⟨δT_b⟩ [mK² (Mpc/h)³], of δ_CII [(Mpc/h)³], and their cross spectrum [mK (Mpc/h)³]. */
  p21: Float64Array;
  pCII: Float64Array;
  pCross: Float64Array;
  /** Δ²_21 [mK²] (Eq. 28), Δ²_CII (Eq. 29), Δ²_CII×21 [mK] (Eq. 30). */
  delta2_21: Float64Array;
  delta2_CII: Float64Array;
  delta2_cross: Float64Array;
  /** r(k) = P_cross / sqrt(P_21 P_CII) in [−1, 1]. */
  r: Float64Array;
  nmodes: Float64Array;
  /** Box means ⟨δT_b⟩ [mK] and ⟨B_CII⟩ [Jy/sr]. */
  meanTb: number;
  meanCII: number;
}

/** Options of {@link limPowerSpectra}. */
export interface LimSpectraOptions {
  /** Cells per side N. */
  grid: number;
  /** Box side L [Mpc/h]. */
  boxSize: number;
  /** Mass-assignment window to deconvolve from both fields (default 'none': per-cell fields). */
  mas?: MasCorrection;
}

/**
 * Δ²_21, Δ²_CII, Δ²_CII×21 and r(k) of a δT_b box and a B_CII box of the same redshift (Eq. 28–30).
 *
 * @param tb δT_b [N^3] in mK; @param bCII B_CII [N^3] in Jy/sr (any positive-mean unit: only δ_CII enters).
 * @throws Error when the boxes differ in size, ⟨B_CII⟩ <= 0, or either field is constant (r undefined).
 */
export function limPowerSpectra(tb: ArrayLike<number>, bCII: ArrayLike<number>, opts: LimSpectraOptions): LimSpectra {
  const n3 = opts.grid ** 3;
  if (tb.length !== n3) throw new Error(`limPowerSpectra: tb has ${tb.length} values, expected N^3 = ${n3}`);
  if (bCII.length !== n3) throw new Error(`limPowerSpectra: bCII has ${bCII.length} values, expected N^3 = ${n3}`);
  let st = 0;
  let sb = 0;
  for (let i = 0; i < n3; i++) {
    st += tb[i]!;
    sb += bCII[i]!;
  }
  const dTb = meanSubtracted(tb);
  const dCII = ciiContrast(bCII);
  const x = crossPowerSpectrum(dTb, dCII, opts.grid, { boxSize: opts.boxSize, mas: opts.mas ?? 'none' });
  return {
    k: x.k,
    p21: x.p11,
    pCII: x.p22,
    pCross: x.p12,
    delta2_21: dimensionless(x.k, x.p11),
    delta2_CII: dimensionless(x.k, x.p22),
    delta2_cross: dimensionless(x.k, x.p12),
    r: x.r,
    nmodes: x.nmodes,
    meanTb: st / n3,
    meanCII: sb / n3,
  };
}
