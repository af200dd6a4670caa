/**
 * Global histories and the 21 cm power spectrum of reionisation boxes: volume-weighted ⟨x_HI⟩(z),
 * ⟨δT_b⟩(z) and Δ^2_21(k) = k^3 P_{δT_b}(k) / (2π^2) [mK^2] (P through src/field/power.ts, Pylians
 * conventions, no mass-assignment deconvolution: the fields are per cell).
 */
import { dimensionless, powerSpectrum } from '../../field/power.js';

/** Volume-weighted mean of a grid (float64 sum). */
export function volumeMean(a: ArrayLike<number>): number {
  if (a.length === 0) throw new Error('volumeMean: empty grid');
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

/** Mass-weighted neutral fraction ⟨x_HI (1+δ)⟩ / ⟨1+δ⟩. */
export function massWeightedXHI(xHI: ArrayLike<number>, delta: ArrayLike<number>): number {
  if (xHI.length !== delta.length) throw new Error(`massWeightedXHI: xHI has ${xHI.length} values, delta ${delta.length}`);
  let s = 0;
  let m = 0;
  for (let i = 0; i < xHI.length; i++) {
    const w = 1 + delta[i]!;
    s += xHI[i]! * w;
    m += w;
  }
  return s / m;
}

export interface PowerSpectrum21 {
  /** Mean |k| per bin [h/Mpc]. */
  k: Float64Array;
  /** P(k) of δT_b [mK^2 (Mpc/h)^3]. */
  pk: Float64Array;
  /** Δ^2_21(k) = k^3 P / (2π^2) [mK^2]. */
  delta2: Float64Array;
  nmodes: Float64Array;
}

/** 21 cm power spectrum of a δT_b box [N^3, mK] of side L [Mpc/h]. */
export function powerSpectrum21(tb: Float32Array, grid: number, boxSize: number): PowerSpectrum21 {
  const ps = powerSpectrum(tb, grid, { boxSize });
  return { k: ps.k, pk: ps.pk, delta2: dimensionless(ps.k, ps.pk), nmodes: ps.nmodes };
}
