/**
 * Per-cell thermal and ionisation history of the neutral IGM and its 21 cm spin temperature, the
 * cell update of 21cmFAST's SpinTemperatureBox.c: per-redshift constants (set_zp_consts), the first box
 * above Z_HEAT_MAX (init_first_Ts) and one explicit Euler step in z' of x_e and T_K followed by the
 * Wouthuysen–Field spin-temperature iteration (get_Ts_fast), applied to every cell
 * (Mesinger, Furlanetto & Cen 2011, Sec. 2; Davies et al. 2025, Sec. 4).
 *
 * Boxes are flat Float32Array (any cell order, the same for every input); arithmetic is float64.
 * Lyα heating (code USE_LYA_HEATING) is not included: see SpinParams.useLyaHeating.
 */
import { growthFactor, growthRate } from '../../cosmo/background.js';
import type { Cosmology } from '../../cosmo/params.js';
import {
  A_10,
  C_CMS,
  E_CHARGE,
  F_ALPHA,
  FRACT_FLOAT_ERR,
  H_P,
  HO_PER_H_S,
  K_B,
  LAMBDA_21,
  LAMBDA_LY_ALPHA,
  M_E,
  M_P,
  NU_LY_ALPHA,
  T_21,
  VAC_PERM,
  baryonDensity0,
  heliumFraction,
  hubbleRate,
  hydrogenDensity0,
  hydrogenFraction,
} from './constants.js';
import { alphaAUnchecked, kappa10HHAtLnT, kappa10eHAtLnT, kappa10pHAtLnT, spinTemperature } from './coupling.js';
import { DEFAULT_SPIN_PARAMS, type SpinParams } from './params.js';
import { cTApprox, tRecfast, xeRecfast } from './recfast.js';

/** Constants of one redshift z' shared by all cells (the part of the code's set_zp_consts the cell update needs). */
export interface ZpConstants {
  /** z'. */
  zp: number;
  /** CMB temperature T_γ = T_cmb (1+z') [K]. */
  trad: number;
  /** (10^-7 × 1.342881e-7 No (1+z')³ / H)^(1/3) [K^(2/3)], so that ξ = Ts_prefactor ((1+δ)(1−x_e) / T_K²)^(1/3). */
  tsPrefactor: number;
  /** x̃_α / (S̃_α J_α) = 8π λ_α² γ_α T_21 / (9 A_10 T_γ) [cm² s Hz sr] (≈ 1.66e11 / (1+z')). */
  xaTildePrefactor: number;
  /** x_c / ((1+δ) Σ n_i,0 κ_i): (1+z')³ T_21 / (T_γ A_10) [s]. */
  xcInverse: number;
  /** Compton term dT_K/dz' per (x_e/(1+x_e+f_He)) (T_γ − T_K): −1.51e-4 / (H/H0) / h × T_γ⁴ / (1+z') [K^-3]. */
  dcompDzpPrefactor: number;
  /** Hydrogen number density No (1+z')³ [cm^-3] (code N_zp). */
  nZp: number;
  /** Baryon (H + He nuclei) number density N_b0 (1+z')³ [cm^-3] (code Nb_zp). */
  nbZp: number;
  /** Hubble rate H(z') [s^-1]. */
  hubble: number;
  /** Linear growth factor D(z') (D(0) = 1). */
  growth: number;
  /** dD/dz' at z'. */
  dgrowthDzp: number;
  /** dt/dz' = −1 / ((1+z') H(z')) [s]. */
  dtDzp: number;
  /** Present hydrogen and baryon number densities No, N_b0 [cm^-3], and the number fractions H_FRAC, HE_FRAC. */
  no: number;
  nb0: number;
  hFrac: number;
  heFrac: number;
}

/**
 * Per-redshift constants of the cell update, as the code's set_zp_consts.
 *
 * H(z') and the growth factor come from src/cosmo/background.ts (the code uses its own hubble(), the same
 * E(z) with Ho = h × 3.2407e-18 s^-1 kept here, and the Liddle et al. 1996 growth fit dicke() with a finite-
 * difference derivative; the ODE growth of background.ts differs from that fit by 0.1 % in D and < 1e-4 in
 * d ln D/dz at z ≥ 6, the only combination used here). dt/dz' is
 * −1/((1+z')H): the code's dtdz() is the same for Ω_r = 0 but ignores Ω_r when it is set.
 *
 * @throws RangeError naming zp when it is not a finite redshift > −1, or yHe outside [0, 1).
 */
export function zpConstants(cosmo: Cosmology, zp: number, yHe = DEFAULT_SPIN_PARAMS.yHe): ZpConstants {
  if (!(zp > -1) || !Number.isFinite(zp)) throw new RangeError(`zpConstants: zp must be a finite redshift > -1, got ${zp}`);
  const a = 1 + zp;
  const a3 = a * a * a;
  const hubble = hubbleRate(cosmo, zp);
  const trad = cosmo.T_cmb * a;
  const no = hydrogenDensity0(cosmo, yHe);
  const nb0 = baryonDensity0(cosmo, yHe);
  const growth = growthFactor(cosmo, zp);
  // dD/dz = −D f / (1+z) with f = dlnD/dlna
  const dgrowthDzp = (-growth * growthRate(cosmo, zp)) / a;
  // Lyα damping width γ_α [s^-1] in SI as the code writes it: e in esu / (c/10) → C, m_e g → kg, c cm → m.
  let gammaAlpha = F_ALPHA * Math.pow((NU_LY_ALPHA * E_CHARGE) / (C_CMS / 10), 2);
  gammaAlpha /= 6 * (M_E / 1000) * Math.pow(C_CMS / 100, 3) * VAC_PERM;
  const lya = LAMBDA_LY_ALPHA * 1e-8; // Å → cm
  const xaTildePrefactor = (8 * Math.PI * lya * lya * gammaAlpha * T_21) / (9 * A_10 * trad);
  const ho = cosmo.h * HO_PER_H_S;
  return {
    zp,
    trad,
    tsPrefactor: Math.cbrt(1e-7 * (1.342881e-7 / hubble) * no * a3),
    xaTildePrefactor,
    xcInverse: (a3 * T_21) / (trad * A_10),
    dcompDzpPrefactor: (-1.51e-4 / (hubble / ho) / cosmo.h) * Math.pow(trad, 4) / a,
    nZp: no * a3,
    nbZp: nb0 * a3,
    hubble,
    growth,
    dgrowthDzp,
    dtDzp: -1 / (a * hubble),
    no,
    nb0,
    hFrac: hydrogenFraction(yHe),
    heFrac: heliumFraction(yHe),
  };
}

/** Boxes of the neutral-IGM state, N cells each, same cell order as δ. */
export interface SpinState {
  /** Kinetic temperature of the neutral IGM T_K [K]. */
  tk: Float32Array;
  /** Free-electron fraction x_e outside HII regions (from X-ray ionisation and relic recombination). */
  xe: Float32Array;
  /** 21 cm spin temperature T_S [K]. */
  ts: Float32Array;
}

/** Volume means (over cells, in float64) of the returned boxes. */
export interface SpinMeans {
  tk: number;
  xe: number;
  ts: number;
}

/** Result of {@link initialSpinState} and {@link evolveSpinState}. */
export type SpinStateResult = SpinState & { means: SpinMeans };

/**
 * Radiative rates per cell at z', in the code's final units (the Box_rad_terms of get_Ts_fast). Each
 * is an array of N values or one number for every cell.
 */
export interface CellRates {
  /** X-ray heating rate per baryon dx_heat/dt [erg s^-1]; may be null when useXrayHeating is false. */
  xrayHeating: ArrayLike<number> | number | null;
  /** X-ray ionisation rate dx_e/dt from sources [s^-1]. */
  xrayIonisation: ArrayLike<number> | number;
  /** Lyα background from X-ray excitation J_α,X [cm^-2 s^-1 Hz^-1 sr^-1]. */
  lyaXray: ArrayLike<number> | number;
  /** Lyα background from stars J_α,* [cm^-2 s^-1 Hz^-1 sr^-1]. */
  lyaStars: ArrayLike<number> | number;
}

function means(s: SpinState): SpinMeans {
  let tk = 0;
  let xe = 0;
  let ts = 0;
  const n = s.tk.length;
  for (let i = 0; i < n; i++) {
    tk += s.tk[i]!;
    xe += s.xe[i]!;
    ts += s.ts[i]!;
  }
  return { tk: tk / n, xe: xe / n, ts: ts / n };
}

/** Options of {@link initialSpinState}. */
export interface InitialSpinOptions {
  /** Parameters (adiabaticFluctuations, yHe are used); defaults DEFAULT_SPIN_PARAMS. */
  params?: SpinParams;
  /** Redshift at which `delta` is given (code: the perturbed field's redshift); default z. */
  deltaRedshift?: number;
}

/**
 * The first spin-temperature box, at z ≥ Z_HEAT_MAX (code init_first_Ts): T_K = T_RECFAST(z) (1 + c_T(z) δ)
 * with δ = δ(z_δ) D(z)/D(z_δ) and c_T = 0 without adiabatic fluctuations, x_e = x_e,RECFAST(z) in every
 * cell, and T_S from collisions alone (J_α = 0) evaluated, as in the code, at z_δ with the mean T_RECFAST(z)
 * (not the cell's T_K). Cells with δ ≤ −1 use δ = −1 + 10^-7 (the code does not guard this case here).
 *
 * @param cosmo cosmology; @param z redshift z' of the box, in [0, 500]; @param delta δ at z_δ, N cells.
 * @returns Float32Array boxes of N cells and their means.
 * @throws RangeError naming z, deltaRedshift or delta (empty, or a non-finite cell).
 */
export function initialSpinState(cosmo: Cosmology, z: number, delta: ArrayLike<number>, opts: InitialSpinOptions = {}): SpinStateResult {
  const p = opts.params ?? DEFAULT_SPIN_PARAMS;
  const zd = opts.deltaRedshift ?? z;
  if (!Number.isFinite(z)) throw new RangeError(`initialSpinState: z must be a finite redshift in [0, 500], got ${z}`);
  if (!(zd > -1) || !Number.isFinite(zd)) throw new RangeError(`initialSpinState: deltaRedshift must be a finite redshift > -1, got ${zd}`);
  const n = checkBox(delta, 'delta', 'initialSpinState');
  const xe = xeRecfast(z);
  const tk = tRecfast(z);
  const cT = p.adiabaticFluctuations ? cTApprox(z) : 0;
  const ratio = growthFactor(cosmo, z) / growthFactor(cosmo, zd);
  const out: SpinState = { tk: new Float32Array(n), xe: new Float32Array(n), ts: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const d0 = delta[i]!;
    if (!Number.isFinite(d0)) throw new RangeError(`initialSpinState: delta[${i}] must be finite, got ${d0}`);
    let g = d0 * ratio;
    out.tk[i] = tk * (1 + cT * g);
    out.xe[i] = xe;
    if (g <= -1) g = -1 + FRACT_FLOAT_ERR;
    out.ts[i] = spinTemperature(cosmo, zd, g, tk, xe, 0, p.yHe).ts;
  }
  return { ...out, means: means(out) };
}

/** Input of {@link evolveSpinState}. */
export interface EvolveSpinInput {
  cosmo: Cosmology;
  /** Redshift z' of the new state. */
  z: number;
  /** Step dz' = z' − z'_prev (negative). */
  dz: number;
  /** Overdensity δ at z', N cells (the code scales the perturbed field to z' with D(z')/D(z_δ) before this). */
  delta: ArrayLike<number>;
  /** State at z' − dz'. */
  prev: SpinState;
  /** Radiative rates at z'. */
  rates: CellRates;
  /** Switches and constants; default DEFAULT_SPIN_PARAMS. */
  params?: SpinParams;
}

/** 3 h A_10 c λ_21² / (32π k_B) [K cm^3 s^-1]: τ_21 = this × n_HI / (T_S H) (the code's tau21 prefactor). */
const TAU21_PREFACTOR = (3 * H_P * A_10 * C_CMS * LAMBDA_21 * LAMBDA_21) / 32 / Math.PI / K_B;
const TS_TOLERANCE = 1e-3;
const TS_MAX_ITERATIONS = 200;

/**
 * One step of the neutral-IGM state from z' − dz' to z' in every cell, the code's get_Ts_fast
 * (Mesinger et al. 2011, Sec. 2.3–2.4 with the CMB heating of Meiksin 2021 and the 21 cm optical-depth
 * factor of the CMB coupling):
 *
 *   dx_e/dz' = dt/dz' [Λ_ion − α_A(T_K) C x_e² f_H n_b (1+δ)]
 *   dT_K/dz' = (2/3) T_K [3/(1+z') + (dD/dz')/(D (1/δ + 1))] − T_K/(1+x_e) dx_e/dz'
 *              + Compton + (2/3) ε_X dt/dz' / (k_B (1+x_e)) + CMB heating
 *
 * advanced with one explicit Euler step of size dz' (x_e clipped to [0, 1 − 10^-7]; cells at or above
 * maxTk keep T_K; a negative T_K is reset to T_γ, as the code does), then T_S from
 * T_S = (x_CMB + x̃_α + x_c) / (x_CMB T_γ^-1 + x̃_α T_c^-1 + x_c T_K^-1) with x_CMB = (1 − e^-τ21)/τ21,
 * iterated to |ΔT_S|/T_S ≤ 10^-3 when J_α = J_α,* + J_α,X > 10^-20. Cells with δ ≤ −1 use −1 + 10^-7.
 *
 * @returns new Float32Array boxes (N cells) of T_K [K], x_e, T_S [K] and their volume means.
 * @throws RangeError naming the argument: z not finite or ≤ −1, dz not finite or ≥ 0, a box of the wrong
 * length or a non-finite cell, a missing X-ray heating rate with useXrayHeating, a T_S iteration that
 * does not converge in 200 steps.
 */
export function evolveSpinState(inp: EvolveSpinInput): SpinStateResult {
  const { cosmo, z: zp, dz, delta, prev, rates } = inp;
  const p = inp.params ?? DEFAULT_SPIN_PARAMS;
  const fn = 'evolveSpinState';
  if (!(zp > -1) || !Number.isFinite(zp)) throw new RangeError(`${fn}: z must be a finite redshift > -1, got ${zp}`);
  if (!(dz < 0) || !Number.isFinite(dz)) throw new RangeError(`${fn}: dz must be finite and negative (z decreases), got ${dz}`);
  if (p.useLyaHeating) throw new RangeError(`${fn}: params.useLyaHeating must be false (not supported)`);
  const n = checkBox(delta, 'delta', fn);
  if (!prev || typeof prev !== 'object') throw new RangeError(`${fn}: prev must be a SpinState {tk, xe, ts}, got ${String(prev)}`);
  checkBox(prev.tk, 'prev.tk', fn, n);
  checkBox(prev.xe, 'prev.xe', fn, n);
  checkBox(prev.ts, 'prev.ts', fn, n);
  if (!rates || typeof rates !== 'object') throw new RangeError(`${fn}: rates must be a CellRates object, got ${String(rates)}`);
  const heat = p.useXrayHeating ? rateBox(rates.xrayHeating, 'rates.xrayHeating', n) : null;
  const ion = rateBox(rates.xrayIonisation, 'rates.xrayIonisation', n);
  const lyaX = rateBox(rates.lyaXray, 'rates.lyaXray', n);
  const lyaS = rateBox(rates.lyaStars, 'rates.lyaStars', n);

  const c = zpConstants(cosmo, zp, p.yHe);
  const a = 1 + zp;
  const tradInv = 1 / c.trad;
  const clump = p.clumpingFactor;
  const maxTk = p.maxTk;
  // Meiksin (2021) Eq. 4 without the T_K-dependent factor: ε_CMB = this × (1 + 2 T_K / T_21) [erg s^-1]
  const epsCmbPrefactor = (3 / 4) * (c.trad / T_21) * A_10 * c.hFrac * ((H_P * H_P) / LAMBDA_21 / LAMBDA_21 / M_P);
  const out: SpinState = { tk: new Float32Array(n), xe: new Float32Array(n), ts: new Float32Array(n) };

  for (let i = 0; i < n; i++) {
    let d = delta[i]!;
    const tk0 = prev.tk[i]!;
    const xe0 = prev.xe[i]!;
    const ts0 = prev.ts[i]!;
    if (!Number.isFinite(d)) throw new RangeError(`${fn}: delta[${i}] must be finite, got ${d}`);
    if (!(tk0 > 0) || !Number.isFinite(tk0)) throw new RangeError(`${fn}: prev.tk[${i}] must be a finite temperature > 0 K, got ${tk0}`);
    if (!(xe0 >= 0 && xe0 <= 1)) throw new RangeError(`${fn}: prev.xe[${i}] must be in [0, 1], got ${xe0}`);
    if (!(ts0 > 0) || !Number.isFinite(ts0)) throw new RangeError(`${fn}: prev.ts[${i}] must be a finite temperature > 0 K, got ${ts0}`);
    if (d <= -1) d = -1 + FRACT_FLOAT_ERR;

    // CMB coupling reduced by the 21 cm optical depth of the cell
    const tau21 = (TAU21_PREFACTOR * ((1 - xe0) * c.nZp)) / ts0 / c.hubble;
    const xCmb = tau21 > 1e-8 ? (1 - Math.exp(-tau21)) / tau21 : 1 - (tau21 / 2) * (1 - (tau21 / 3) * (1 - tau21 / 4));

    // x_e: sources minus case-A recombinations (helium counted in N_b, hence f_H)
    const sink = alphaAUnchecked(tk0) * clump * xe0 * xe0 * c.hFrac * c.nbZp * (1 + d);
    const dxeDzp = c.dtDzp * (rateAt(ion, i, 'rates.xrayIonisation') - sink);

    // T_K terms [K per unit z']
    let dadia = 3 / a;
    if (Math.abs(d) > FRACT_FLOAT_ERR) dadia += c.dgrowthDzp / (c.growth * (1 / d + 1));
    dadia *= (2 / 3) * tk0;
    const dspec = (-dxeDzp * tk0) / (1 + xe0);
    const dcomp = c.dcompDzpPrefactor * (xe0 / (1 + xe0 + c.heFrac)) * (c.trad - tk0);
    const dheat = heat ? (rateAt(heat, i, 'rates.xrayHeating') * c.dtDzp * 2) / 3 / K_B / (1 + xe0) : 0;
    const dcmb = p.useCmbHeating ? (-epsCmbPrefactor * (1 + (2 * tk0) / T_21) * (2 / 3 / K_B / (1 + xe0))) / c.hubble / a : 0;

    let xe = xe0 + dxeDzp * dz;
    if (xe > 1) xe = 1 - FRACT_FLOAT_ERR;
    else if (xe < 0) xe = 0;
    let tk = tk0;
    if (tk < maxTk) tk += (dheat + dcomp + dspec + dadia + dcmb) * dz;
    if (tk < 0) tk = c.trad;

    // spin temperature at z' with the new T_K and x_e
    const jAlpha = rateAt(lyaS, i, 'rates.lyaStars') + rateAt(lyaX, i, 'rates.lyaXray');
    const tInv = 1 / tk;
    const tInv2 = tInv * tInv;
    const lnT = Math.log(tk);
    const xc = (1 + d) * c.xcInverse * ((1 - xe) * c.no * kappa10HHAtLnT(lnT) + xe * c.nb0 * kappa10eHAtLnT(lnT) + xe * c.no * kappa10pHAtLnT(lnT));
    let ts: number;
    if (jAlpha > 1e-20) {
      const xi = c.tsPrefactor * Math.cbrt((1 + d) * (1 - xe) * tInv2);
      const xaArg = (c.xaTildePrefactor * jAlpha) / (1 + 2.98394 * xi + 1.53583 * xi * xi + 3.85289 * xi * xi * xi);
      ts = c.trad;
      let old = 0;
      let it = 0;
      while (Math.abs(ts - old) / ts > TS_TOLERANCE) {
        if (++it > TS_MAX_ITERATIONS) {
          throw new RangeError(`${fn}: T_S iteration did not converge in cell ${i} (delta=${d}, TK=${tk}, xe=${xe}, Jalpha=${jAlpha})`);
        }
        old = ts;
        const tsInv = 1 / ts;
        const xa = (1 - 0.0631789 * tInv + 0.115995 * tInv2 - 0.401403 * tInv * tsInv + 0.336463 * tInv2 * tsInv) * xaArg;
        ts = (xCmb + xa + xc) / (xCmb * tradInv + xa * (tInv + 0.405535 * tInv * tsInv - 0.405535 * tInv2) + xc * tInv);
      }
    } else {
      ts = (xCmb + xc) / (xCmb * tradInv + xc * tInv);
    }
    // the code takes |T_S|: rare tiny negative solutions
    out.ts[i] = Math.abs(ts);
    out.tk[i] = tk;
    out.xe[i] = xe;
  }
  return { ...out, means: means(out) };
}

function checkBox(b: ArrayLike<number> | undefined | null, name: string, fn: string, n?: number): number {
  if (!b || typeof b.length !== 'number') throw new RangeError(`${fn}: ${name} must be an array of cells, got ${String(b)}`);
  if (n === undefined) {
    if (b.length === 0) throw new RangeError(`${fn}: ${name} must hold at least one cell, got length 0`);
  } else if (b.length !== n) {
    throw new RangeError(`${fn}: ${name} must hold ${n} cells (as delta), got length ${b.length}`);
  }
  return b.length;
}

/** A rate as given: one number for every cell, or N cells. */
type RateBox = number | ArrayLike<number>;

/** Checks a rate given as one number or N numbers (length and, for one number, finiteness). */
function rateBox(r: ArrayLike<number> | number | null | undefined, name: string, n: number): RateBox {
  if (typeof r === 'number') {
    if (!Number.isFinite(r)) throw new RangeError(`evolveSpinState: ${name} must be finite, got ${r}`);
    return r;
  }
  if (r === null || r === undefined || typeof r.length !== 'number') {
    throw new RangeError(`evolveSpinState: ${name} must be a number or ${n} cells, got ${String(r)}`);
  }
  if (r.length !== n) throw new RangeError(`evolveSpinState: ${name} must hold ${n} cells (as delta), got length ${r.length}`);
  return r;
}

/** The rate of cell i; throws naming the cell when it is not finite. */
function rateAt(r: RateBox, i: number, name: string): number {
  if (typeof r === 'number') return r;
  const v = r[i]!;
  if (!Number.isFinite(v)) throw new RangeError(`evolveSpinState: ${name}[${i}] must be finite, got ${v}`);
  return v;
}
