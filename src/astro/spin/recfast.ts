/**
 * The RECFAST recombination history (Seager, Sasselov & Scott 1999) that 21cmFAST uses as the initial
 * condition of the IGM above Z_HEAT_MAX: gas kinetic temperature T_K(z) and free-electron fraction
 * x_e(z), interpolated from data/21cmfast/recfast_LCDM.dat exactly as the code does (heating_helper_progs.c
 * T_RECFAST / xion_RECFAST: the file read with `%f %E %E %E` into floats, reordered to ascending z and
 * passed through a GSL natural cubic spline).
 *
 * The file's columns are z, x_e, T_γ = 2.728 (1+z), T_K: the code takes the fourth column as T_K.
 */
import { CubicSpline } from '../../cosmo/numeric.js';
import { readTable } from './data.js';

interface RecfastTable {
  /** Redshift nodes, ascending (0 … 500). */
  z: Float64Array;
  xe: Float64Array;
  tk: Float64Array;
  xeSpline: CubicSpline;
  tkSpline: CubicSpline;
}

let cache: RecfastTable | null = null;

/** The RECFAST nodes (ascending z) and their splines, read once. */
export function recfastTable(): Readonly<{ z: Float64Array; xe: Float64Array; tk: Float64Array }> {
  return table();
}

function table(): RecfastTable {
  if (cache) return cache;
  const rows = readTable('recfast_LCDM.dat');
  const n = rows.length;
  const z = new Float64Array(n);
  const xe = new Float64Array(n);
  const tk = new Float64Array(n);
  // The file runs from z = 500 down to 0; the code fills its arrays from the end (ascending z) and stores
  // the values it read as floats.
  for (let i = 0; i < n; i++) {
    const r = rows[n - 1 - i]!;
    if (r.length < 4) throw new Error(`recfast_LCDM.dat: row ${n - i} has ${r.length} columns, expected 4 (z, x_e, T_gamma, T_K)`);
    z[i] = Math.fround(r[0]!);
    xe[i] = Math.fround(r[1]!);
    tk[i] = Math.fround(r[3]!);
  }
  cache = { z, xe, tk, xeSpline: new CubicSpline(z, xe), tkSpline: new CubicSpline(z, tk) };
  return cache;
}

function checkZ(z: number, name: string): number {
  const t = table();
  // The code takes z as a float and fails above the last node; below z = 0 GSL refuses to extrapolate.
  const zf = Math.fround(z);
  if (!Number.isFinite(z) || zf < t.z[0]! || zf > t.z[t.z.length - 1]!) {
    throw new RangeError(`${name}: z must be a finite redshift in [${t.z[0]}, ${t.z[t.z.length - 1]}] (the RECFAST table), got ${z}`);
  }
  return zf;
}

/**
 * IGM kinetic temperature from RECFAST [K] (Compton heating and adiabatic cooling only), the code's
 * T_RECFAST(z).
 *
 * @param z redshift in [0, 500]; rounded to float32 as the code's `float z` argument.
 * @throws RangeError naming z outside the table.
 */
export function tRecfast(z: number): number {
  return table().tkSpline.at(checkZ(z, 'tRecfast'));
}

/**
 * Free-electron fraction x_e = n_e / n_H from RECFAST, the code's xion_RECFAST(z).
 *
 * @param z redshift in [0, 500]; rounded to float32 as in the code.
 * @throws RangeError naming z outside the table.
 */
export function xeRecfast(z: number): number {
  return table().xeSpline.at(checkZ(z, 'xeRecfast'));
}

/**
 * Linear adiabatic index c_T(z) = 0.58 − 0.006 (z − 10), with δT_K / T_K = c_T δ, valid for z ≈ 6–50
 * (Muñoz 2023, arXiv:2302.08506; code cT_approx). Used only to give the first temperature box its
 * adiabatic fluctuations.
 */
export function cTApprox(z: number): number {
  return 0.58 - 0.006 * (z - 10);
}
