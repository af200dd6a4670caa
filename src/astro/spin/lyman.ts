/**
 * Lyman-band (10.2–13.6 eV) stellar radiation of the 21cmFAST cosmic-dawn model: Lyman-line
 * frequencies, the horizon z_max of each line, the Lyα recycling fractions of Pritchard & Furlanetto
 * (2006), the piecewise power-law Pop II / Pop III spectra of Barkana & Loeb (2005) and the per-shell
 * factors of the Lyα background (Davies et al. 2025, Eq. 20; Mesinger et al. 2011, Eq. 17). Ported from
 * heating_helper_progs.c (nu_n, zmax, frecycle, spectral_emissivity) and SpinTemperatureBox.c
 * (calculate_spectral_factors, set_zp_consts) of the public 21cmFAST code; atomic-cooling galaxies only.
 *
 * Frequencies ν_norm are in units of ν_Lyα, as in the code: ν_n = (1 − n⁻²)/0.75, so ν_2 = 1 (Lyα) and
 * the Lyman limit is 4/3.
 */
import type { Cosmology } from '../../cosmo/params.js';
import { readTable } from './data.js';
import { PHYS } from './xray.js';

/** Highest Lyman line n summed over (code NSPEC_MAX). */
export const NSPEC_MAX = 23;

/** The code's Pop II / Pop III ionising photons per stellar baryon (POP2_ION, POP3_ION defaults). */
export const POP_ION_DEFAULTS = Object.freeze({ pop2Ion: 5000, pop3Ion: 44021 });

function checkN(fn: string, n: number, min: number): void {
  if (!(Number.isInteger(n) && n >= min)) throw new Error(`${fn}: n = ${n}, expected an integer ≥ ${min}`);
}
function checkZ(fn: string, name: string, z: number): void {
  if (!(Number.isFinite(z) && z > -1)) throw new Error(`${fn}: ${name} = ${z}, expected a finite redshift > -1`);
}

/** Frequency of Lyman-n (n → 1) in units of ν_Lyα, (1 − n⁻²)/0.75 (code nu_n). @throws for n not an integer ≥ 2. */
export function nuN(n: number): number {
  checkN('nuN', n, 2);
  return (1 - Math.pow(n, -2)) / 0.75;
}

/**
 * Highest emission redshift from which a photon can reach Lyman-n at z without first passing through
 * Lyman-(n+1): (1+z_max) = (1+z)(1 − (n+1)⁻²)/(1 − n⁻²), so a photon emitted at the Ly(n+1) frequency at
 * z_max arrives at the Lyn frequency at z (code zmax; Mesinger et al. 2011, Eq. 17; Barkana & Loeb 2005).
 * @throws Error naming the argument when z is not a redshift or n not an integer ≥ 2.
 */
export function zmax(z: number, n: number): number {
  checkZ('zmax', 'z', z);
  checkN('zmax', n, 2);
  return ((1 + z) * (1 - Math.pow(n + 1, -2))) / (1 - Math.pow(n, -2)) - 1;
}

/** Recycling fractions f_rec(n) for n = 0 … 30 (code frecycle; Pritchard & Furlanetto 2006, Table 1). */
const FRECYCLE = [
  1, 1, 1, 0, 0.2609, 0.3078, 0.3259, 0.3353, 0.341, 0.3448, 0.3476, 0.3496, 0.3512, 0.3524, 0.3535, 0.3543, 0.355, 0.3556, 0.3561, 0.3565,
  0.3569, 0.3572, 0.3575, 0.3578, 0.358, 0.3582, 0.3584, 0.3586, 0.3587, 0.3589, 0.359,
];

/**
 * Fraction of photons absorbed at Lyman-n that cascade through Lyα (code frecycle, the values of
 * Pritchard & Furlanetto 2006, Table 1): 1 for n ≤ 2, 0 for Lyβ (n = 3), 0.2609 for n = 4 … 0.3590 for
 * n = 30, and 0 above 30 (as the code).
 * @throws Error naming n when it is not an integer ≥ 0.
 */
export function frecycle(n: number): number {
  checkN('frecycle', n, 0);
  return n < FRECYCLE.length ? FRECYCLE[n]! : 0;
}

/** Pop II (2) or Pop III (3) stellar population. */
export type StellarPopulation = 2 | 3;

/** The piecewise power laws of stellar_spectra.dat after the code's normalisation. */
export interface StellarSpectrum {
  /** Lyman level n of each row (2 … 23). */
  readonly n: readonly number[];
  /** Lower frequency of each row's band, ν_n [ν_Lyα]. */
  readonly nuLow: readonly number[];
  /** Normalisation N_0 per row, in photons per stellar baryon per unit ν_norm (after × (α+1)/(ν_{i+1}^{α+1} − ν_i^{α+1}) × N_ion). */
  readonly norm: readonly number[];
  /** Power-law index α_S per row. */
  readonly alpha: readonly number[];
  /** The raw file normalisation of each row: the fraction of N_ion emitted in the band [ν_n, ν_{n+1}]. */
  readonly rawNorm: readonly number[];
}

/**
 * The stellar spectrum of a population, as spectral_emissivity(…, flag 1) builds it: rows i = 1 … 22
 * of stellar_spectra.dat (n = 2 … 23), ν_i = 4/3 (1 − n_i⁻²), and for rows 1 … 21 (bands Lyn → Ly(n+1),
 * n = 2 … 22) N_0 ← N_0 (α+1)/(ν_{i+1}^{α+1} − ν_i^{α+1}) × N_ion, so that each band holds N_0,file × N_ion
 * photons per stellar baryon. Row 22 (n = 23) keeps its file value, as in the code (see the docs).
 *
 * @param population 2 (Pop II) or 3 (Pop III).
 * @param nIon ionising photons per stellar baryon (POP2_ION 5000 / POP3_ION 44021 by default).
 * @throws Error naming the argument when population is not 2 or 3 or nIon is not positive.
 */
export function stellarSpectrum(population: StellarPopulation, nIon: number = population === 2 ? POP_ION_DEFAULTS.pop2Ion : POP_ION_DEFAULTS.pop3Ion): StellarSpectrum {
  if (population !== 2 && population !== 3) throw new Error(`stellarSpectrum: population = ${String(population)}, expected 2 (Pop II) or 3 (Pop III)`);
  if (!(Number.isFinite(nIon) && nIon > 0)) throw new Error(`stellarSpectrum: nIon = ${nIon}, expected a positive number of photons per baryon`);
  const rows = readTable('stellar_spectra.dat');
  if (rows.length !== NSPEC_MAX - 1) throw new Error(`stellar_spectra.dat: ${rows.length} rows, expected ${NSPEC_MAX - 1}`);
  const n = rows.map((r) => r[0]!);
  const nuLow = n.map((k) => (4.0 / 3.0) * (1.0 - 1.0 / Math.pow(k, 2.0)));
  const col = population === 2 ? 1 : 3;
  const rawNorm = rows.map((r) => r[col]!);
  const alpha = rows.map((r) => r[col + 1]!);
  const norm = rawNorm.slice();
  for (let i = 0; i < rows.length - 1; i++) {
    const a1 = alpha[i]! + 1;
    norm[i] = (norm[i]! * a1 * nIon) / (Math.pow(nuLow[i + 1]!, a1) - Math.pow(nuLow[i]!, a1));
  }
  return Object.freeze({ n, nuLow, norm, alpha, rawNorm });
}

const spectra = new Map<string, StellarSpectrum>();
function cachedSpectrum(population: StellarPopulation, nIon: number): StellarSpectrum {
  const key = `${population}:${nIon}`;
  let s = spectra.get(key);
  if (!s) {
    s = stellarSpectrum(population, nIon);
    spectra.set(key, s);
  }
  return s;
}

/**
 * Number of photons emitted per stellar baryon per Hz at ν = ν_norm ν_Lyα (code spectral_emissivity,
 * flag 0): N_0,i ν_norm^α_i / ν_Lyα in the band ν_i ≤ ν_norm < ν_{i+1}; outside all bands (below Lyα or
 * above Ly23) the code's fall-back to the last row (n = 23, un-normalised) applies.
 *
 * @param nuNorm frequency in units of ν_Lyα, finite and > 0.
 * @throws Error naming the argument when nuNorm is not positive or population/nIon are invalid.
 */
export function spectralEmissivity(nuNorm: number, population: StellarPopulation = 2, nIon?: number): number {
  if (!(Number.isFinite(nuNorm) && nuNorm > 0)) throw new Error(`spectralEmissivity: nuNorm = ${nuNorm}, expected a positive frequency in units of ν_Lyα`);
  const s = cachedSpectrum(population, nIon ?? (population === 2 ? POP_ION_DEFAULTS.pop2Ion : POP_ION_DEFAULTS.pop3Ion));
  const last = s.n.length - 1;
  for (let i = 0; i < last; i++) {
    if (nuNorm >= s.nuLow[i]! && nuNorm < s.nuLow[i + 1]!) return (s.norm[i]! * Math.pow(nuNorm, s.alpha[i]!)) / PHYS.nu_Ly_alpha;
  }
  return (s.norm[last]! * Math.pow(nuNorm, s.alpha[last]!)) / PHYS.nu_Ly_alpha;
}

/** Per-shell Lyman-band factors of one z' (dstarlya_dt_prefactor and its Lyα-heating split). */
export interface LymanShellFactors {
  /** (1+z')²(1+z'') Σ_n f_rec(n) ε(ν'_n) per shell: dstarlya_dt_prefactor. */
  readonly total: Float64Array;
  /** The n = 2 (continuum, Lyα itself) part: dstarlya_cont_dt_prefactor. */
  readonly cont: Float64Array;
  /** The n ≥ 3 (injected, cascades) part: dstarlya_inj_dt_prefactor. */
  readonly inj: Float64Array;
}

/** Sub-steps of the code's edge-weight search (n_pts_radii). */
const N_PTS_RADII = 1000;

/**
 * Lyman-band factors per shell for atomic-cooling galaxies (code calculate_spectral_factors, Pop II):
 * for shell j at z''_j, Σ_{n=2}^{NSPEC_MAX} f_rec(n) ε_II(ν_n (1+z''_j)/(1+z')) over the lines with
 * z''_j ≤ z_max(z', n), times (1+z')²(1+z''_j). At the first shell beyond every line's horizon (from
 * the third shell on), the code gives the previous shell's sums times the fraction w of the interval
 * [z''_{j−1}, z''_j] still inside the horizon (w = i/1000 for the first of 1000 sub-steps with no line);
 * this edge weight is kept here.
 *
 * @param zp receiving redshift z'.
 * @param zppCentres z'' of the shells, ascending (code zpp_for_evolve_list), each ≥ z'.
 * @param pop2Ion Pop II ionising photons per stellar baryon (POP2_ION, default 5000).
 * @throws Error naming the argument when one is out of range.
 */
export function lymanShellFactors(zp: number, zppCentres: ArrayLike<number>, pop2Ion: number = POP_ION_DEFAULTS.pop2Ion): LymanShellFactors {
  checkZ('lymanShellFactors', 'zp', zp);
  const nR = zppCentres.length;
  if (nR < 1) throw new Error('lymanShellFactors: zppCentres is empty, expected one z″ per shell');
  for (let j = 0; j < nR; j++) {
    const z = zppCentres[j]!;
    if (!(Number.isFinite(z) && z >= zp)) throw new Error(`lymanShellFactors: zppCentres[${j}] = ${z}, expected ≥ zp = ${zp}`);
    if (j > 0 && !(z > zppCentres[j - 1]!)) throw new Error(`lymanShellFactors: zppCentres[${j}] = ${z}, expected ascending (previous ${zppCentres[j - 1]})`);
  }
  const eps = (nu: number): number => spectralEmissivity(nu, 2, pop2Ion);
  const zmaxN = new Float64Array(NSPEC_MAX + 2);
  for (let n = 2; n <= NSPEC_MAX; n++) zmaxN[n] = zmax(zp, n);
  const total = new Float64Array(nR);
  const cont = new Float64Array(nR);
  const inj = new Float64Array(nR);
  let firstRadii = true;
  let firstZero = true;
  let weight = 0;
  let prevLyn = 0;
  let prevLy2 = 0;
  let prevLynto2 = 0;
  let prevZpp = 0;
  for (let r = 0; r < nR; r++) {
    const zpp = zppCentres[r]!;
    let ly2 = 0;
    let lynto2 = 0;
    if (zpp < zmaxN[2]!) ly2 = frecycle(2) * eps((nuN(2) * (1 + zpp)) / (1 + zp));
    for (let n = NSPEC_MAX; n >= 3; n--) {
      if (zpp > zmaxN[n]!) continue;
      lynto2 += frecycle(n) * eps((nuN(n) * (1 + zpp)) / (1 + zp));
    }
    let lyn = ly2 + lynto2;
    if (r > 1 && lyn === 0 && prevLyn > 0 && firstRadii) {
      for (let ii = 0; ii < N_PTS_RADII; ii++) {
        const trial = prevZpp + ((zpp - prevZpp) * ii) / (N_PTS_RADII - 1);
        let counter = 0;
        for (let n = NSPEC_MAX; n >= 2; n--) if (!(trial > zmaxN[n]!)) counter++;
        if (counter === 0 && firstZero) {
          firstZero = false;
          weight = ii / N_PTS_RADII;
        }
      }
      lyn = weight * prevLyn;
      ly2 = weight * prevLy2;
      lynto2 = weight * prevLynto2;
      firstRadii = false;
    }
    const fac = (1 + zp) * (1 + zp) * (1 + zpp);
    total[r] = fac * lyn;
    cont[r] = fac * ly2;
    inj[r] = fac * lynto2;
    prevLyn = lyn;
    prevLy2 = ly2;
    prevLynto2 = lynto2;
    prevZpp = zpp;
  }
  return Object.freeze({ total, cont, inj });
}

/**
 * set_zp_consts' lya_star_prefactor: c/(4π) × M_sun/m_p × (1 − 0.75 Y_He) [cm s⁻¹ × baryons per
 * M_sun]: converts a star-formation-rate density into the emitted Lyman-band photon rate per unit
 * solid angle (with the per-baryon spectra above; 1 − 0.75 Y_He turns baryons per m_p into nuclei).
 * @throws Error naming yHe when it is not in [0, 1).
 */
export function lyaStarPrefactor(yHe = 0.24): number {
  if (!(yHe >= 0 && yHe < 1)) throw new Error(`lyaStarPrefactor: yHe = ${yHe}, expected a helium mass fraction in [0, 1)`);
  return (PHYS.c_cms / (4.0 * Math.PI)) * (PHYS.Msun / PHYS.m_p) * (1 - 0.75 * yHe);
}

/**
 * set_zp_consts' volunit_inv: the factor turning the emissivity grids' volume unit into cm⁻³.
 * - 'halo' (discrete / halo-box source models, lodi's case; the code's Lagrangian source grids): the
 *   grids hold SFR per comoving Mpc³ (no h), so 1/Mpc³ = cm_per_Mpc⁻³.
 * - 'density' (Eulerian CHMF-integral models): Ω_b ρ_crit [M_sun Mpc⁻³, code RHOcrit] × Mpc⁻³ in cm.
 * @throws Error naming model when it is neither.
 */
export function volumeUnitInverse(model: 'halo' | 'density', cosmo?: Cosmology): number {
  const mpc3 = Math.pow(PHYS.cm_per_Mpc, -3);
  if (model === 'halo') return mpc3;
  if (model === 'density') {
    if (!cosmo) throw new Error("volumeUnitInverse: cosmo is missing, expected a cosmology for model 'density'");
    const Ho = cosmo.h * PHYS.Ho_per_h;
    const rhoCrit = (((3.0 * Ho * Ho) / (8.0 * Math.PI * PHYS.G)) * Math.pow(PHYS.cm_per_Mpc, 3)) / PHYS.Msun;
    return cosmo.Omega_b * rhoCrit * mpc3;
  }
  throw new Error(`volumeUnitInverse: model = ${String(model)}, expected 'halo' or 'density'`);
}
