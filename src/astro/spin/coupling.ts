/**
 * Coupling of the 21 cm spin temperature to the gas: collisional rate coefficients κ_10, the collisional
 * coupling x_c, the Wouthuysen–Field coupling x̃_α with the Hirata (2006) fits for S̃_α and the colour
 * temperature T_c,eff, the case-A recombination coefficient, and the scalar spin temperature
 * T_S = (1 + x̃_α + x_c) / (T_γ^-1 + x̃_α T_c^-1 + x_c T_K^-1) (Furlanetto, Oh & Briggs 2006, Sec. 2;
 * Mesinger, Furlanetto & Cen 2011, Sec. 2), all ported from 21cmFAST heating_helper_progs.c and thermochem.c.
 *
 * Arithmetic is float64 (the code passes floats in and out of get_Ts; that rounding is not copied).
 */
import type { Cosmology } from '../../cosmo/params.js';
import { A_10, T_21, Y_HE_DEFAULT, baryonDensity0, hubbleRate, hydrogenDensity0 } from './constants.js';

// ---------------------------------------------------------------------------------------------
// κ_10: the code's embedded tables of ln κ [cm^3 s^-1] on uniform ln T_K grids starting at T_K = 1 K,
// interpolated linearly in (ln T, ln κ). The H–H table (Zygelman 2005 as tabulated by Furlanetto et al.
// 2006) exists only in the code; the e–H and p–H tables are resamplings of data/21cmfast/kappa_eH_table.dat
// and kappa_pH_table.dat (Furlanetto & Furlanetto 2007), which the code no longer reads.

/** ln κ_10^HH at ln T = i × 0.317597943861, i = 0 … 29 (T_K = 1 … 10^4 K). */
const LN_KAPPA_HH = Float64Array.from([
  -29.6115227098, -29.6228184691, -29.5917673123, -29.4469989515, -29.1171430989, -28.5382192456, -27.7424388865,
  -26.8137036254, -25.8749225449, -25.0548322235, -24.4005076336, -23.8952335377, -23.5075651004, -23.201637629,
  -22.9593758343, -22.7534867461, -22.5745752086, -22.4195690855, -22.2833176123, -22.1549519419, -22.0323282988,
  -21.9149994721, -21.800121439, -21.6839502137, -21.5662434981, -21.4473595491, -21.3279560712, -21.2067614838,
  -21.0835560288, -20.9627928675,
]);
const DLNT_HH = 0.317597943861;

/** ln κ_10^pH at ln T = i × 0.341499570777 (T_K = 1 … 2 × 10^4 K). */
const LN_KAPPA_PH = Float64Array.from([
  -21.6395565688, -21.5641675629, -21.5225112028, -21.5130514508, -21.5342522691, -21.5845293039, -21.6581396414,
  -21.7420392948, -21.8221380683, -21.8837908896, -21.9167553997, -21.9200173678, -21.8938574675, -21.8414464728,
  -21.7684762963, -21.6796222358, -21.5784701374, -21.4679438133, -21.3503236936, -21.2277666787, -21.1017425964,
  -20.9733966978, -20.8437244283, -20.7135746917, -20.583135408, -20.4523507819, -20.3215504736, -20.1917429161,
  -20.0629513946, -19.9343540344,
]);
const DLNT_PH = 0.341499570777;

/** ln κ_10^eH at ln T = i × 0.396997429827 (T_K = 1 … 10^5 K). */
const LN_KAPPA_EH = Float64Array.from([
  -22.1549007191, -21.9576919899, -21.760758435, -21.5641795674, -21.3680349001, -21.1724124486, -20.9774403051,
  -20.78327367, -20.5901042551, -20.3981934669, -20.2078762485, -20.0195787458, -19.8339587914, -19.6518934427,
  -19.4745894649, -19.3043925781, -19.1444129787, -18.9986014565, -18.8720602784, -18.768679825, -18.6909581885,
  -18.6387511068, -18.6093755705, -18.5992098958, -18.6050625357, -18.6319366207, -18.7017996535, -18.8477153986,
  -19.0813436512, -19.408859606,
]);
const DLNT_EH = 0.396997429827;

/** The code's κ_10 node tables: ln T_K grid step and ln κ values (for tests and documentation). */
export const KAPPA_TABLES = Object.freeze({
  HH: Object.freeze({ dlnT: DLNT_HH, lnKappa: LN_KAPPA_HH }),
  pH: Object.freeze({ dlnT: DLNT_PH, lnKappa: LN_KAPPA_PH }),
  eH: Object.freeze({ dlnT: DLNT_EH, lnKappa: LN_KAPPA_EH }),
});

function checkT(T: number, name: string): void {
  if (!(T > 0) || !Number.isFinite(T)) throw new RangeError(`${name}: T_K must be a finite temperature > 0 K, got ${T}`);
}

/**
 * ln κ inside the table: linear in ln T. The code's index floor(ln T / Δ) reads past the table when ln T
 * equals the last node exactly; here the index is capped at the last interval.
 */
function lnKappaInside(tab: Float64Array, dlnT: number, lnT: number): number {
  const i = Math.min(Math.floor(lnT / dlnT), tab.length - 2);
  return tab[i]! + ((lnT - dlnT * i) * (tab[i + 1]! - tab[i]!)) / dlnT;
}

/**
 * H–H spin-exchange rate coefficient κ_10^HH(T_K) [cm^3 s^-1] (code kappa_10; Zygelman 2005 via
 * Furlanetto et al. 2006). Below 1 K the 1 K value; above 10^4 K the power law κ ∝ T^0.381.
 *
 * @throws RangeError naming T_K when it is not a positive finite number.
 */
export function kappa10HH(T: number): number {
  checkT(T, 'kappa10HH');
  return kappa10HHAtLnT(Math.log(T));
}

/** κ_10^HH from ln T_K, unchecked (for the per-cell loop, which shares one logarithm among the three κ). */
export function kappa10HHAtLnT(lnT: number): number {
  const n = LN_KAPPA_HH.length;
  const last = DLNT_HH * (n - 1);
  if (lnT < 0) return Math.exp(LN_KAPPA_HH[0]!);
  if (lnT > last) return Math.exp(LN_KAPPA_HH[n - 1]! + 0.381 * (lnT - last));
  return Math.exp(lnKappaInside(LN_KAPPA_HH, DLNT_HH, lnT));
}

function kappaLogLog(tab: Float64Array, dlnT: number, lnT: number): number {
  const n = tab.length;
  const last = dlnT * (n - 1);
  if (lnT < 0) return Math.exp(tab[0]!);
  // above the table: continue the last segment's slope in (ln T, ln κ)
  if (lnT > last) return Math.exp(tab[n - 1]! + ((tab[n - 1]! - tab[n - 2]!) / dlnT) * (lnT - last));
  return Math.exp(lnKappaInside(tab, dlnT, lnT));
}

/**
 * Proton–hydrogen spin-exchange rate coefficient κ_10^pH(T_K) [cm^3 s^-1] (code kappa_10_pH; Furlanetto &
 * Furlanetto 2007). Below 1 K the 1 K value; above 2 × 10^4 K the last log-log slope continued.
 *
 * @throws RangeError naming T_K when it is not a positive finite number.
 */
export function kappa10pH(T: number): number {
  checkT(T, 'kappa10pH');
  return kappaLogLog(LN_KAPPA_PH, DLNT_PH, Math.log(T));
}

/** κ_10^pH from ln T_K, unchecked. */
export function kappa10pHAtLnT(lnT: number): number {
  return kappaLogLog(LN_KAPPA_PH, DLNT_PH, lnT);
}

/**
 * Electron–hydrogen spin-exchange rate coefficient κ_10^eH(T_K) [cm^3 s^-1] (code kappa_10_elec; Furlanetto
 * & Furlanetto 2007). Below 1 K the 1 K value; above 10^5 K the last log-log slope continued.
 *
 * @throws RangeError naming T_K when it is not a positive finite number.
 */
export function kappa10eH(T: number): number {
  checkT(T, 'kappa10eH');
  return kappaLogLog(LN_KAPPA_EH, DLNT_EH, Math.log(T));
}

/** κ_10^eH from ln T_K, unchecked. */
export function kappa10eHAtLnT(lnT: number): number {
  return kappaLogLog(LN_KAPPA_EH, DLNT_EH, lnT);
}

/**
 * Case-A hydrogen recombination coefficient α_A(T) [cm^3 s^-1], the fit of Abel et al. (1997) in the
 * code's thermochem.c (alpha_A): ln α = Σ_k c_k (ln T_eV)^k with T_eV = T / 1.1604505e4 K.
 *
 * @throws RangeError naming T when it is not a positive finite number.
 */
export function alphaA(T: number): number {
  checkT(T, 'alphaA');
  return alphaAUnchecked(T);
}

/** α_A without the argument check, for the per-cell loop (T > 0 there by construction). */
export function alphaAUnchecked(T: number): number {
  const l = Math.log(T / 1.1604505e4);
  // Horner form of the code's sum of pow(logT, k): identical to rounding.
  const p =
    -28.6130338 +
    l *
      (-0.72411256 +
        l *
          (-2.02604473e-2 +
            l *
              (-2.38086188e-3 +
                l *
                  (-3.21260521e-4 +
                    l * (-1.42150291e-5 + l * (4.98910892e-6 + l * (5.75561414e-7 + l * (-1.85676704e-8 + l * -3.07113524e-9))))))));
  return Math.exp(p);
}

/**
 * Gunn–Peterson optical depth of the Lyα line, τ_GP = 1.342881e-7 n_HI / H(z) with n_HI = No (1+z)³
 * (1+δ)(1−x_e) (code taugp; the prefactor is 3 λ_α³ A_α / (8π) in cgs).
 *
 * @param cosmo cosmology (H(z) and No); @param z redshift; @param delta overdensity δ; @param xe x_e.
 * @param yHe helium mass fraction (for No).
 */
export function taugp(cosmo: Cosmology, z: number, delta: number, xe: number, yHe = Y_HE_DEFAULT): number {
  const a = 1 + z;
  return ((1.342881e-7 / hubbleRate(cosmo, z)) * hydrogenDensity0(cosmo, yHe) * a * a * a * (1 + delta) * (1 - xe));
}

/**
 * S̃_α, the Lyα scattering correction as fitted by Hirata (2006, MNRAS 367, 259), as the code evaluates it (Salpha_tilde):
 * S̃_α = (1 − 0.0631789/T_K + 0.115995/T_K² − 0.401403/(T_S T_K) + 0.336463/(T_S T_K²)) /
 *       (1 + 2.98394 ξ + 1.53583 ξ² + 3.85289 ξ³), ξ = (10^-7 τ_GP / T_K²)^(1/3).
 *
 * Note: the code's Salpha_tilde is called with 1/T_K and 1/T_S; this takes the temperatures themselves.
 * @param TK kinetic temperature [K]; @param TS spin temperature [K]; @param tauGP Gunn–Peterson depth.
 */
export function salphaTilde(TK: number, TS: number, tauGP: number): number {
  const ik = 1 / TK;
  const is = 1 / TS;
  const xi = Math.cbrt(1e-7 * tauGP * ik * ik);
  return (
    (1 - 0.0631789 * ik + 0.115995 * ik * ik - 0.401403 * is * ik + 0.336463 * is * ik * ik) /
    (1 + 2.98394 * xi + 1.53583 * xi * xi + 3.85289 * xi * xi * xi)
  );
}

/**
 * Effective colour temperature of the Lyα radiation field [K], from the fit of Hirata (2006):
 * T_c^-1 = T_K^-1 + 0.405535 T_K^-1 (T_S^-1 − T_K^-1). (The code's Tc_eff returns T_c^-1 and takes inverse
 * temperatures; this takes and returns temperatures.)
 */
export function tcEff(TK: number, TS: number): number {
  const ik = 1 / TK;
  return 1 / (ik + 0.405535 * ik * (1 / TS - ik));
}

/**
 * Wouthuysen–Field coupling x̃_α = 1.66e11 / (1+z) S̃_α J_α (code xalpha_tilde; Furlanetto et al. 2006,
 * with Hirata's S̃_α in place of S_α).
 *
 * @param Jalpha Lyα background J_α by number [cm^-2 s^-1 Hz^-1 sr^-1].
 */
export function xalphaTilde(
  cosmo: Cosmology,
  z: number,
  Jalpha: number,
  TK: number,
  TS: number,
  delta: number,
  xe: number,
  yHe = Y_HE_DEFAULT,
): number {
  return (1.66e11 / (1 + z)) * salphaTilde(TK, TS, taugp(cosmo, z, delta, xe, yHe)) * Jalpha;
}

/** x_c for a collider of number density n [cm^-3] and rate coefficient κ: (T_21 / T_γ) n κ / A_10. */
function xcollOf(cosmo: Cosmology, z: number, n: number, kappa: number): number {
  const trad = cosmo.T_cmb * (1 + z);
  return ((T_21 / trad) * n * kappa) / A_10;
}

/** Collisional coupling by neutral hydrogen, n_HI = (1−x_e) No (1+z)³ (1+δ) (code xcoll_HI; Furlanetto et al. 2006, Sec. 2.2). */
export function xcollHI(cosmo: Cosmology, z: number, TK: number, delta: number, xe: number, yHe = Y_HE_DEFAULT): number {
  const n = (1 - xe) * hydrogenDensity0(cosmo, yHe) * Math.pow(1 + z, 3) * (1 + delta);
  return xcollOf(cosmo, z, n, kappa10HH(TK));
}

/** Collisional coupling by electrons, n_e = x_e N_b0 (1+z)³ (1+δ): helium taken ionised like hydrogen (code xcoll_elec). */
export function xcollElec(cosmo: Cosmology, z: number, TK: number, delta: number, xe: number, yHe = Y_HE_DEFAULT): number {
  const n = xe * baryonDensity0(cosmo, yHe) * Math.pow(1 + z, 3) * (1 + delta);
  return xcollOf(cosmo, z, n, kappa10eH(TK));
}

/** Collisional coupling by protons, n_p = x_e No (1+z)³ (1+δ) (code xcoll_prot). */
export function xcollProt(cosmo: Cosmology, z: number, TK: number, delta: number, xe: number, yHe = Y_HE_DEFAULT): number {
  const n = xe * hydrogenDensity0(cosmo, yHe) * Math.pow(1 + z, 3) * (1 + delta);
  return xcollOf(cosmo, z, n, kappa10pH(TK));
}

/** Total collisional coupling x_c = x_c^HH + x_c^eH + x_c^pH (code xcoll). */
export function xcoll(cosmo: Cosmology, z: number, TK: number, delta: number, xe: number, yHe = Y_HE_DEFAULT): number {
  return xcollHI(cosmo, z, TK, delta, xe, yHe) + xcollElec(cosmo, z, TK, delta, xe, yHe) + xcollProt(cosmo, z, TK, delta, xe, yHe);
}

/** Result of {@link spinTemperature}. */
export interface SpinTemperatureResult {
  /** Spin temperature T_S [K]. */
  ts: number;
  /** Wouthuysen–Field coupling x̃_α at the solution (0 without Lyα). */
  xalpha: number;
  /** Collisional coupling x_c. */
  xc: number;
}

/** Relative change of T_S at which the fixed-point iteration stops (the code's 1e-3). */
export const TS_ITERATION_TOLERANCE = 1e-3;
const TS_MAX_ITERATIONS = 200;

/**
 * Spin temperature of one cell, the code's get_Ts: T_S = (1 + x̃_α + x_c) / (T_γ^-1 + x̃_α T_c^-1 + x_c T_K^-1)
 * (Furlanetto et al. 2006), where x̃_α and T_c depend on T_S (Hirata 2006), solved by fixed-point
 * iteration from T_S = T_γ until |ΔT_S| / T_S ≤ 10^-3. For J_α ≤ 10^-20 only collisions couple.
 *
 * @param cosmo cosmology (T_cmb, H(z), densities); @param z redshift; @param delta overdensity δ (> −1);
 * @param TK kinetic temperature [K]; @param xe x_e; @param Jalpha J_α [cm^-2 s^-1 Hz^-1 sr^-1];
 * @param yHe helium mass fraction.
 * @throws RangeError naming the argument for a non-finite z, δ ≤ −1, T_K ≤ 0, x_e outside [0, 1] or J_α < 0,
 * or when the iteration does not converge in 200 steps.
 */
export function spinTemperature(
  cosmo: Cosmology,
  z: number,
  delta: number,
  TK: number,
  xe: number,
  Jalpha: number,
  yHe = Y_HE_DEFAULT,
): SpinTemperatureResult {
  if (!(z > -1) || !Number.isFinite(z)) throw new RangeError(`spinTemperature: z must be a finite redshift > -1, got ${z}`);
  if (!(delta > -1) || !Number.isFinite(delta)) throw new RangeError(`spinTemperature: delta must be finite and > -1, got ${delta}`);
  checkT(TK, 'spinTemperature');
  if (!(xe >= 0 && xe <= 1)) throw new RangeError(`spinTemperature: xe must be in [0, 1], got ${xe}`);
  if (!(Jalpha >= 0) || !Number.isFinite(Jalpha)) throw new RangeError(`spinTemperature: Jalpha must be finite and >= 0, got ${Jalpha}`);
  const trad = cosmo.T_cmb * (1 + z);
  const xc = xcoll(cosmo, z, TK, delta, xe, yHe);
  if (!(Jalpha > 1e-20)) return { ts: (1 + xc) / (1 / trad + xc / TK), xalpha: 0, xc };
  let ts = trad;
  let xa = 0;
  for (let it = 0; it < TS_MAX_ITERATIONS; it++) {
    const old = ts;
    xa = xalphaTilde(cosmo, z, Jalpha, TK, ts, delta, xe, yHe);
    ts = (1 + xa + xc) / (1 / trad + xa / tcEff(TK, ts) + xc / TK);
    if (Math.abs(ts - old) / ts <= TS_ITERATION_TOLERANCE) return { ts, xalpha: xa, xc };
  }
  throw new RangeError(`spinTemperature: T_S iteration did not converge (z=${z}, delta=${delta}, TK=${TK}, xe=${xe}, Jalpha=${Jalpha})`);
}
