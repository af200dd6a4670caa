/**
 * The shells of the lightcone integral of the X-ray and Lyman-α specific intensities (Davies et al.
 * 2025, Eq. 20–22; 21cmFAST `setup_z_edges` in SpinTemperatureBox.c and `compute_xray_source_field` in
 * drivers/single_field.py).
 *
 * The integral over emission redshift z'' > z' is a sum over N_STEP_TS spherical shells around each
 * cell: shell j spans comoving radii [R_{j−1}, R_j] (R_{−1} = 0), R_j = R_min (R_max/R_min)^{j/N},
 * R_min = l_factor L/N (the cell's equal-volume sphere), R_max = R_MAX_TS. Its emission redshift edge
 * z''_j is where the comoving distance from z' reaches R_j, and the emissivity is taken at the shell's
 * centre (z''_{j−1} + z''_j)/2, as the code does.
 */
import { comovingDistance, E, hubble } from '../../cosmo/background.js';
import { C_KMS, type Cosmology } from '../../cosmo/params.js';

/** (3/4π)^{1/3}: radius of the sphere with the volume of a unit cube (the code's l_factor). */
export const L_FACTOR = 0.6203504908994;

/** Seconds per Mpc / (km/s): converts 1/H [Mpc s/km] to seconds. */
const S_PER_MPC_KMS = 3.085677581491367e19;

/** Shells of one receiving redshift z'. All arrays have length `count`. */
export interface SpinShells {
  /** Receiving redshift z'. */
  z: number;
  count: number;
  /** Inner and outer comoving radius of each shell [Mpc/h]; rInner[0] = 0 (the cell itself, not filtered). */
  rInner: Float64Array;
  rOuter: Float64Array;
  /** Emission redshift at the outer edge, z''_j (> z'). */
  zEdge: Float64Array;
  /** Emission redshift of the shell, (z''_{j−1} + z''_j)/2 with z''_{−1} = z'. */
  zCentre: Float64Array;
  /** Redshift width z''_j − z''_{j−1} (> 0). */
  dz: Float64Array;
  /** |dt/dz| at the shell's redshift [s]: 1/((1+z'') H(z'')). */
  dtdz: Float64Array;
}

/** Options of {@link spinShells} (defaults: the code's). */
export interface SpinShellOptions {
  /** Number of shells, N_STEP_TS (default 40). */
  count?: number;
  /** Outermost radius R_MAX_TS [comoving Mpc, no h] (default 500). */
  rMaxMpc?: number;
}

/** Redshift at which the comoving distance from 0 is `d` [Mpc/h], by Newton steps on dχ/dz = (c/100)/E(z). */
export function redshiftAtDistance(c: Cosmology, d: number, zGuess = 1): number {
  if (!(d >= 0) || !Number.isFinite(d)) throw new RangeError(`redshiftAtDistance: distance must be a finite number >= 0 of Mpc/h, got ${d}`);
  if (d === 0) return 0;
  let z = Math.max(zGuess, 1e-6);
  for (let it = 0; it < 50; it++) {
    const f = comovingDistance(c, z) - d;
    const step = f / (C_KMS / 100 / E(c, z));
    z = Math.max(z - step, z / 2);
    if (Math.abs(step) < 1e-11 * (1 + z)) return z;
  }
  throw new Error(`redshiftAtDistance: no convergence for d = ${d} Mpc/h`);
}

/** |dt/dz| [s] = 1/((1+z) H(z)). */
export function dtdzSeconds(c: Cosmology, z: number): number {
  return S_PER_MPC_KMS / ((1 + z) * hubble(c, z));
}

/**
 * The shells of a receiving redshift z' for a box of side L and N cells per side.
 *
 * @param z receiving redshift z' (≥ 0).
 * @param boxSize L [Mpc/h]; grid N (cells per side).
 * @throws RangeError for a negative or non-finite z, a bad box, grid, count, or R_max ≤ R_min.
 */
export function spinShells(c: Cosmology, z: number, boxSize: number, grid: number, opts: SpinShellOptions = {}): SpinShells {
  if (!(z >= 0) || !Number.isFinite(z)) throw new RangeError(`spinShells: z must be a finite redshift >= 0, got ${z}`);
  if (!(boxSize > 0) || !Number.isFinite(boxSize)) throw new RangeError(`spinShells: boxSize must be a positive number of Mpc/h, got ${boxSize}`);
  if (!Number.isInteger(grid) || grid < 1) throw new RangeError(`spinShells: grid must be an integer >= 1, got ${grid}`);
  const count = opts.count ?? 40;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`spinShells: count (N_STEP_TS) must be an integer >= 1, got ${count}`);
  const rMax = (opts.rMaxMpc ?? 500) * c.h;
  const rMin = (L_FACTOR * boxSize) / grid;
  if (!(rMax > rMin)) throw new RangeError(`spinShells: rMaxMpc (R_MAX_TS) = ${rMax / c.h} Mpc must exceed the cell radius ${rMin / c.h} Mpc`);
  const s: SpinShells = {
    z,
    count,
    rInner: new Float64Array(count),
    rOuter: new Float64Array(count),
    zEdge: new Float64Array(count),
    zCentre: new Float64Array(count),
    dz: new Float64Array(count),
    dtdz: new Float64Array(count),
  };
  const d0 = comovingDistance(c, z);
  let zPrev = z;
  for (let j = 0; j < count; j++) {
    const r = rMin * Math.pow(rMax / rMin, j / count);
    s.rInner[j] = j === 0 ? 0 : s.rOuter[j - 1]!;
    s.rOuter[j] = r;
    const ze = redshiftAtDistance(c, d0 + r, zPrev + (r - s.rInner[j]!) / (C_KMS / 100 / E(c, zPrev)));
    s.zEdge[j] = ze;
    s.zCentre[j] = 0.5 * (ze + zPrev);
    s.dz[j] = ze - zPrev;
    s.dtdz[j] = dtdzSeconds(c, s.zCentre[j]!);
    zPrev = ze;
  }
  return s;
}

/**
 * Fourier transform of the normalised spherical-shell window (Davies et al. 2025, Eq. 21–22; code
 * `spherical_shell_filter`):
 * W(k) = 3 [sin kR_o − kR_o cos kR_o − sin kR_i + kR_i cos kR_i] / (k^3 (R_o^3 − R_i^3)),
 * with the code's second-order expansion 1 − (kR_o)^2 (q^5 − 1)/(10 (q^3 − 1)), q = R_i/R_o, for kR_o < 1e-4.
 * W(0) = 1: the window integrates to one.
 *
 * @param k wavenumber [h/Mpc]; rInner < rOuter [Mpc/h].
 */
export function shellWindow(k: number, rInner: number, rOuter: number): number {
  const xo = k * rOuter;
  const xi = k * rInner;
  if (xo < 1e-4) {
    const q = rInner / rOuter;
    return 1 - ((xo * xo) / 10) * ((Math.pow(q, 5) - 1) / (Math.pow(q, 3) - 1));
  }
  return (3 * (Math.sin(xo) - xo * Math.cos(xo) - Math.sin(xi) + xi * Math.cos(xi))) / (xo * xo * xo - xi * xi * xi);
}
