/**
 * X-ray radiative transfer factors of the 21cmFAST cosmic-dawn model (Mesinger, Furlanetto & Cen
 * 2011, Sec. 2.3.1; Davies et al. 2025, Sec. 4, Eq. 20): photoionisation cross-sections, the optical
 * depth τ_X and the frequency ν_τ=1 where it reaches one (the "step function opacity" of Davies et al.
 * 2025, footnote 17), the three frequency integrals (heating, ionisation, Lyα from X-ray secondaries)
 * tabulated per ionised fraction and shell as the code's fill_freqint_tables, and the luminosity
 * prefactors of set_zp_consts. Ported from heating_helper_progs.c, thermochem.c and
 * SpinTemperatureBox.c of the public 21cmFAST code.
 *
 * Frequencies are in Hz, redshifts dimensionless, cross-sections in cm².
 */
import type { Cosmology } from '../../cosmo/params.js';
import { X_INT_NXHII, X_INT_XHII, clampXHII, depositionTables, interpOn, locateXHIIIndex, type EnergyLocate } from './deposition.js';

/**
 * Physical constants, cgs. The values are the code's Constants.c (physconst), so that the factors
 * match 21cmFAST; Ho per unit h is the code's 3.2407e-18 s^-1.
 */
export const PHYS = Object.freeze({
  c_cms: 2.99792458e10,
  h_p: 6.62607015e-27,
  m_p: 1.67262192369e-24,
  G: 6.6743e-8,
  Msun: 1.989e33,
  s_per_yr: 31556925.9747,
  cm_per_Mpc: 3.08567758e24,
  eV_to_Hz: 2.417989e14,
  nu_ion_HI: 3.288465e15,
  nu_ion_HeI: 5.945836e15,
  nu_ion_HeII: 1.3153862e16,
  nu_LW_thresh: 2.70331197e15,
  nu_Ly_alpha: 2.46606727e15,
  sigma_HI: 6.3e-18,
  Ho_per_h: 3.2407e-18,
});

/**
 * Parameters of the X-ray factors (21cmFAST AstroParams / CosmoParams field in brackets).
 * - `nuXThreshEv` E_0 [eV] (NU_X_THRESH): self-absorption threshold; lowest escaping energy.
 * - `nuXBandMaxEv` [eV] (NU_X_BAND_MAX): upper end of the band in which L_X/SFR is defined.
 * - `nuXMaxEv` [eV] (NU_X_MAX): upper limit of the frequency integrals.
 * - `alphaX` (X_RAY_SPEC_INDEX): energy index, L_X ∝ ν^(−α_X).
 * - `yHe` (Y_He): helium mass fraction.
 * - `cosmo`: Ω_m, Ω_b, h, Ω_r (Ω_Λ is taken as 1 − Ω_m, the code's OMl).
 * - `locate`: energy-node search of the deposition tables ('code' as 21cmFAST, see deposition.ts).
 */
export interface XrayParams {
  readonly cosmo: Cosmology;
  readonly yHe: number;
  readonly nuXThreshEv: number;
  readonly nuXBandMaxEv: number;
  readonly nuXMaxEv: number;
  readonly alphaX: number;
  readonly locate: EnergyLocate;
}

/** The code's defaults (inputs.py): E_0 = 500 eV, band max 2 keV, integrals to 10 keV, α_X = 1, Y_He = 0.24. */
export const XRAY_DEFAULTS = Object.freeze({ yHe: 0.24, nuXThreshEv: 500, nuXBandMaxEv: 2000, nuXMaxEv: 10000, alphaX: 1, locate: 'code' as EnergyLocate });

/**
 * X-ray parameters from a cosmology and overrides of XRAY_DEFAULTS.
 * @throws Error naming the field when a value is out of range (energies > 0 and ordered
 *   E_0 < band max, E_0 < ν_max; 0 ≤ Y_He < 1; finite α_X).
 */
export function xrayParams(cosmo: Cosmology, overrides: Partial<Omit<XrayParams, 'cosmo'>> = {}): XrayParams {
  const p: XrayParams = Object.freeze({ ...XRAY_DEFAULTS, ...overrides, cosmo });
  checkParams(p);
  return p;
}

function checkParams(p: XrayParams): void {
  for (const k of ['nuXThreshEv', 'nuXBandMaxEv', 'nuXMaxEv'] as const) {
    if (!(Number.isFinite(p[k]) && p[k] > 0)) throw new Error(`xrayParams: ${k} = ${p[k]}, expected a positive energy in eV`);
  }
  if (!(p.nuXBandMaxEv > p.nuXThreshEv)) throw new Error(`xrayParams: nuXBandMaxEv = ${p.nuXBandMaxEv}, expected above nuXThreshEv = ${p.nuXThreshEv}`);
  if (!(p.nuXMaxEv > p.nuXThreshEv)) throw new Error(`xrayParams: nuXMaxEv = ${p.nuXMaxEv}, expected above nuXThreshEv = ${p.nuXThreshEv}`);
  if (!Number.isFinite(p.alphaX)) throw new Error(`xrayParams: alphaX = ${p.alphaX}, expected a finite spectral index`);
  if (!(p.yHe >= 0 && p.yHe < 1)) throw new Error(`xrayParams: yHe = ${p.yHe}, expected a helium mass fraction in [0, 1)`);
  if (p.locate !== 'code' && p.locate !== 'bracketing') throw new Error(`xrayParams: locate = ${String(p.locate)}, expected 'code' or 'bracketing'`);
}

// ---------------------------------------------------------------- cosmology in the code's units

/** Hydrogen number fraction among nuclei, (1 − Y)/(1 − 3Y/4) (code H_FRAC). */
export const hFrac = (yHe: number): number => (1 - yHe) / (1 - (3 * yHe) / 4);
/** Helium number fraction among nuclei, (Y/4)/(1 − 3Y/4) (code HE_FRAC). */
export const heFrac = (yHe: number): number => yHe / 4 / (1 - (3 * yHe) / 4);

/** Present-day baryon (H + He nuclei) number density N_b0 [cm^-3] (code N_b0 = No + He_No). */
export function baryonNumberDensity0(cosmo: Cosmology, yHe: number): number {
  const Ho = cosmo.h * PHYS.Ho_per_h;
  const rhoCritCgs = (3 * Ho * Ho) / (8 * Math.PI * PHYS.G);
  return (rhoCritCgs * cosmo.Omega_b * (1 - yHe)) / PHYS.m_p + (rhoCritCgs * cosmo.Omega_b * yHe) / (4 * PHYS.m_p);
}

/** H(z) [s^-1] as the code's hubble(): Ho sqrt(Ω_m(1+z)³ + Ω_r(1+z)⁴ + Ω_Λ), Ω_Λ = 1 − Ω_m. */
export function hubbleS(cosmo: Cosmology, z: number): number {
  const a = 1 + z;
  return cosmo.h * PHYS.Ho_per_h * Math.sqrt(cosmo.Omega_m * a * a * a + cosmo.Omega_r * a * a * a * a + (1 - cosmo.Omega_m));
}

/**
 * dt/dz [s] of the code's dtdz() (matter + Λ, no radiation, Ω_Λ = 1 − Ω_m): −1/((1+z) H0 sqrt(Ω_m(1+z)³ + Ω_Λ)),
 * which is the code's arcsinh closed form differentiated (and also defined for Ω_Λ = 0).
 */
export function dtdz(cosmo: Cosmology, z: number): number {
  const a = 1 + z;
  return -1 / (a * cosmo.h * PHYS.Ho_per_h * Math.sqrt(cosmo.Omega_m * a * a * a + (1 - cosmo.Omega_m)));
}

// ---------------------------------------------------------------- cross-sections

/** Hydrogenic cross-section of charge Z above threshold ν_th (Osterbrock 1989, Eq. 2.4), the code's form. */
function hydrogenic(nu: number, nuTh: number, Z: number): number {
  if (nu < nuTh) return 0;
  const eps = Math.sqrt(nu / nuTh - 1);
  // at threshold (ε → 0) the code's nu += TINY leaves ν unchanged (ε = 0 gives 0/0); the limit is σ_0/Z²
  if (eps < 1e-8) return PHYS.sigma_HI / Z / Z;
  const r = nuTh / nu;
  return ((PHYS.sigma_HI / Z / Z) * r * r * r * r * Math.exp(4 - (4 * Math.atan(eps)) / eps)) / (1 - Math.exp((-2 * Math.PI) / eps));
}

/** H I photoionisation cross-section σ_HI(ν) [cm²] (Osterbrock 1989; code HI_ion_crosssec); 0 below 13.6 eV. */
export function sigmaHI(nu: number): number {
  return hydrogenic(nu, PHYS.nu_ion_HI, 1);
}

/** He II photoionisation cross-section [cm²], hydrogenic with Z = 2 (code HeII_ion_crosssec); 0 below 54.4 eV. */
export function sigmaHeII(nu: number): number {
  return hydrogenic(nu, PHYS.nu_ion_HeII, 2);
}

/**
 * He I photoionisation cross-section [cm²], the fit of Verner et al. (1996, ApJ 465, 487, Table 1:
 * E_0 = 13.61 eV, σ_0 = 949.2 Mb, y_a = 1.469, P = 3.188, y_w = 2.039, y_0 = 0.4434, y_1 = 2.136;
 * code HeI_ion_crosssec); 0 below 24.6 eV.
 */
export function sigmaHeI(nu: number): number {
  if (nu < PHYS.nu_ion_HeI) return 0;
  const x = nu / PHYS.eV_to_Hz / 13.61 - 0.4434;
  const y = Math.sqrt(x * x + 2.136 * 2.136);
  return 9.492e-16 * ((x - 1) * (x - 1) + 2.039 * 2.039) * Math.pow(y, 0.5 * 3.188 - 5.5) * Math.pow(1.0 + Math.sqrt(y / 1.469), -3.188);
}

/**
 * Cross-section per baryon weighted by species abundance, σ̃ = f_H(1−x_e)σ_HI + f_He(1−x_e)σ_HeI
 * + f_He x_e σ_HeII [cm²] (code species_weighted_x_ray_cross_section; He II assumed ionised in step with H).
 */
export function speciesWeightedCrossSection(nu: number, xe: number, yHe: number): number {
  return hFrac(yHe) * (1 - xe) * sigmaHI(nu) + heFrac(yHe) * (1 - xe) * sigmaHeI(nu) + heFrac(yHe) * xe * sigmaHeII(nu);
}

// ---------------------------------------------------------------- quadrature

/** 4-point Gauss–Legendre nodes and weights on [−1, 1]. */
const GL_X = [-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526];
const GL_W = [0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538];

/** ∫_a^b f(u) du by 4-point Gauss–Legendre on panels no wider than h. */
function glPanels(f: (u: number) => number, a: number, b: number, h: number): number {
  if (!(b > a)) return 0;
  const n = Math.max(1, Math.ceil((b - a) / h));
  const w = (b - a) / n;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const mid = a + (i + 0.5) * w;
    for (let k = 0; k < 4; k++) s += GL_W[k]! * f(mid + 0.5 * w * GL_X[k]!);
  }
  return 0.5 * w * s;
}

// ---------------------------------------------------------------- frequency integrals

/** Which frequency integral: heating (FLAG 0), ionisation (FLAG 1) or Lyα from secondaries (FLAG 2). */
export type NuIntegralKind = 'heat' | 'ion' | 'lya';

/** Default panel width in ln ν of the frequency integrals (4-point Gauss–Legendre per panel); see the docs for convergence. */
export const NU_PANEL_LN = 0.01;

/**
 * The integrand of integrate_over_nu (per Hz), for ionised fraction xe:
 * heat: Σ_s f_heat(E_s) h(ν−ν_s) n_s σ_s(ν); ion: Σ_s (1 + N_HI + N_HeI + N_HeII)(E_s) n_s σ_s(ν);
 * lya: Σ_s N_Lyα(E_s) n_s σ_s(ν); each times (ν/ν_X)^(−α_X−1), with E_s = h(ν−ν_s) the electron
 * energy and n_s = f_H(1−x_e), f_He(1−x_e), f_He x_e for s = H I, He I, He II.
 */
export function nuIntegrand(nu: number, xe: number, kind: NuIntegralKind, p: XrayParams): number {
  return speciesSum(nu, sigmaHI(nu), sigmaHeI(nu), sigmaHeII(nu), xe, kind, p) * Math.pow(nu / (p.nuXThreshEv * PHYS.eV_to_Hz), -p.alphaX - 1);
}

/** The species sum of nuIntegrand (without the spectral weight), given the three cross-sections at ν. */
function speciesSum(nu: number, sHI: number, sHeI: number, sHeII: number, xe: number, kind: NuIntegralKind, p: XrayParams): number {
  const t = depositionTables();
  const v = t.values;
  const fh = hFrac(p.yHe);
  const fhe = heFrac(p.yHe);
  let sum = 0;
  for (let s = 0; s < 3; s++) {
    const sig = s === 0 ? sHI : s === 1 ? sHeI : sHeII;
    const n = s === 0 ? fh * (1 - xe) : s === 1 ? fhe * (1 - xe) : fhe * xe;
    if (sig === 0 || n === 0) continue;
    const nuS = s === 0 ? PHYS.nu_ion_HI : s === 1 ? PHYS.nu_ion_HeI : PHYS.nu_ion_HeII;
    const E = (nu - nuS) / PHYS.eV_to_Hz;
    let f: number;
    if (kind === 'heat') f = interpOn(t, v.fHeat, 1, E, xe, p.locate) * PHYS.h_p * (nu - nuS);
    else if (kind === 'ion')
      f = interpOn(t, v.nIonHI, 0, E, xe, p.locate) + interpOn(t, v.nIonHeI, 0, E, xe, p.locate) + interpOn(t, v.nIonHeII, 0, E, xe, p.locate) + 1;
    else f = interpOn(t, v.nLya, 0, E, xe, p.locate);
    sum += f * n * sig;
  }
  return sum;
}

function checkZ(fn: string, name: string, z: number): void {
  if (!(Number.isFinite(z) && z > -1)) throw new Error(`${fn}: ${name} = ${z}, expected a finite redshift > -1`);
}
function checkXe(fn: string, xe: number): void {
  if (!(Number.isFinite(xe) && xe >= 0 && xe <= 1)) throw new Error(`${fn}: xe = ${xe}, expected an ionised fraction in [0, 1]`);
}

/** Panel edges in ln ν anchored at ln ν_max and stepping down by h, so that all lower limits share the grid. */
function lnNuGrid(p: XrayParams, nuMinLowest: number, h: number): Float64Array {
  const top = Math.log(p.nuXMaxEv * PHYS.eV_to_Hz);
  const n = Math.max(0, Math.ceil((top - Math.log(nuMinLowest)) / h - 1e-12));
  const g = new Float64Array(n + 1);
  for (let k = 0; k <= n; k++) g[k] = top - k * h;
  return g;
}

/** ∫ integrand dν over [e^a, e^b] on one ln ν panel (4-point Gauss–Legendre in ln ν). */
function lnPanel(xe: number, kind: NuIntegralKind, p: XrayParams, a: number, b: number): number {
  if (!(b > a)) return 0;
  const mid = 0.5 * (a + b);
  const half = 0.5 * (b - a);
  let s = 0;
  for (let k = 0; k < 4; k++) {
    const nu = Math.exp(mid + half * GL_X[k]!);
    s += GL_W[k]! * nuIntegrand(nu, xe, kind, p) * nu;
  }
  return s * half;
}

/** The factor of the Lyα integral, c/(4π ν_Lyα H(z')) (integrate_over_nu, FLAG 2); 1 for the others. */
function kindFactor(zp: number, kind: NuIntegralKind, p: XrayParams): number {
  return kind === 'lya' ? PHYS.c_cms / (4 * Math.PI) / PHYS.nu_Ly_alpha / hubbleS(p.cosmo, zp) : 1;
}

/**
 * The code's integrate_over_nu(zp, x_e, ν_min, FLAG): ∫_{ν_min}^{ν_max} integrand dν (see
 * nuIntegrand), times c/(4π ν_Lyα H(z')) for 'lya'. Units: heat erg cm² Hz, ion cm² Hz, lya cm³
 * (the driver multiplies by L_X/SFR, xrayPrefactor, xrayShellFactor and the volume unit).
 * Quadrature: 4-point Gauss–Legendre in ln ν on panels of width
 * `panelLn` (default NU_PANEL_LN) anchored at ν_max (the code uses GSL QAG, 1% relative tolerance).
 *
 * @param zp receiving redshift z' (used only by 'lya').
 * @param xe ionised fraction of the absorbing gas, in [0, 1].
 * @param nuMin lower limit [Hz], 0 < ν_min < ν_max; typically max(ν_τ=1, E_0).
 * @throws Error naming the argument when one is out of range.
 */
export function integrateOverNu(zp: number, xe: number, nuMin: number, kind: NuIntegralKind, p: XrayParams, panelLn = NU_PANEL_LN): number {
  checkZ('integrateOverNu', 'zp', zp);
  checkXe('integrateOverNu', xe);
  const nuMax = p.nuXMaxEv * PHYS.eV_to_Hz;
  if (!(Number.isFinite(nuMin) && nuMin > 0 && nuMin < nuMax)) throw new Error(`integrateOverNu: nuMin = ${nuMin} Hz, expected in (0, ${nuMax}) (NU_X_MAX)`);
  if (kind !== 'heat' && kind !== 'ion' && kind !== 'lya') throw new Error(`integrateOverNu: kind = ${String(kind)}, expected 'heat', 'ion' or 'lya'`);
  if (!(panelLn > 0)) throw new Error(`integrateOverNu: panelLn = ${panelLn}, expected > 0`);
  const g = lnNuGrid(p, nuMin, panelLn);
  const lnMin = Math.log(nuMin);
  let s = 0;
  for (let k = 0; k + 1 < g.length; k++) s += lnPanel(xe, kind, p, Math.max(g[k + 1]!, lnMin), g[k]!);
  return s * kindFactor(zp, kind, p);
}

// ---------------------------------------------------------------- optical depth

/** Floor of the H I filling factor inside τ_X (the code's post-reionisation stability floor). */
export const Q_HI_FLOOR = 1e-4;

/** Default panel width in ln(1+ẑ) of the τ_X integral (4-point Gauss–Legendre per panel). */
export const TAU_PANEL_LN = 0.05;

/**
 * Optical depth for a photon seen at z' with frequency ν, emitted at z'' > z', through gas of
 * ionised fraction x_e (outside H II regions) (Mesinger et al. 2011, Eq. 16; code tauX):
 *
 *   τ_X = ∫_{z'}^{z''} dẑ c |dt/dẑ| N_b0 (1+ẑ)³ Q_HI(ẑ) σ̃(ν (1+ẑ)/(1+z'), x_e).
 *
 * The code computes Q_HI(ẑ) from the global collapsed fraction, 1 − ζ f_coll(ẑ)/(1 − x̄_e); here it
 * is the caller's `hiFillingFactor(ẑ)` (the driver passes the box's own ⟨x_HI⟩ history, so x̄_e enters
 * only through it), floored at Q_HI_FLOOR as the code does. Quadrature: 4-point Gauss–Legendre in
 * ln(1+ẑ) on panels ≤ `panelLn`, split where ν(1+ẑ)/(1+z') crosses an ionisation threshold (the
 * code uses GSL QAG with 0.5% relative tolerance).
 *
 * @param nu frequency at z' [Hz], > 0.
 * @param xe ionised fraction used in σ̃, in [0, 1].
 * @param zp receiving redshift z'; zpp emitting redshift z'' ≥ z'.
 * @param hiFillingFactor Q_HI(ẑ) for z' ≤ ẑ ≤ z'', finite.
 * @throws Error naming the argument when one is out of range or Q_HI returns a non-finite value.
 */
export function tauX(nu: number, xe: number, zp: number, zpp: number, hiFillingFactor: (z: number) => number, p: XrayParams, panelLn = TAU_PANEL_LN): number {
  checkXe('tauX', xe);
  return opticalDepth(nu, zp, zpp, hiFillingFactor, (nuHat) => speciesWeightedCrossSection(nuHat, xe, p.yHe), p, panelLn);
}

/**
 * The τ_X integral of tauX for any cross-section per baryon σ̃(ν̂) [cm²] (tauX passes the
 * species-weighted one): ∫_{z'}^{z''} dẑ c |dt/dẑ| N_b0 (1+ẑ)³ max(Q_HI(ẑ), 1e-4) σ̃(ν(1+ẑ)/(1+z')).
 * @throws Error naming the argument when one is out of range or Q_HI returns a non-finite value.
 */
export function opticalDepth(
  nu: number,
  zp: number,
  zpp: number,
  hiFillingFactor: (z: number) => number,
  crossSection: (nuHat: number) => number,
  p: XrayParams,
  panelLn = TAU_PANEL_LN,
): number {
  if (!(Number.isFinite(nu) && nu > 0)) throw new Error(`tauX: nu = ${nu} Hz, expected a positive frequency`);
  checkZ('tauX', 'zp', zp);
  checkZ('tauX', 'zpp', zpp);
  if (zpp < zp) throw new Error(`tauX: zpp = ${zpp}, expected ≥ zp = ${zp}`);
  if (typeof hiFillingFactor !== 'function') throw new Error('tauX: hiFillingFactor is not a function (expected (z) => Q_HI)');
  if (!(panelLn > 0)) throw new Error(`tauX: panelLn = ${panelLn}, expected > 0`);
  const nb0 = baryonNumberDensity0(p.cosmo, p.yHe);
  const nu0 = nu / (1 + zp);
  const f = (u: number): number => {
    const z = Math.exp(u) - 1;
    let q = hiFillingFactor(z);
    if (!Number.isFinite(q)) throw new Error(`tauX: hiFillingFactor(${z}) = ${q}, expected a finite filling factor`);
    if (q < Q_HI_FLOOR) q = Q_HI_FLOOR;
    const a = 1 + z;
    // dẑ = (1+ẑ) du
    return PHYS.c_cms * -dtdz(p.cosmo, z) * nb0 * a * a * a * q * crossSection(nu0 * a) * a;
  };
  const a = Math.log1p(zp);
  const b = Math.log1p(zpp);
  const cuts = [a];
  for (const nth of [PHYS.nu_ion_HI, PHYS.nu_ion_HeI, PHYS.nu_ion_HeII]) {
    const u = Math.log(nth / nu0);
    if (u > a && u < b) cuts.push(u);
  }
  cuts.sort((x, y) => x - y);
  cuts.push(b);
  let s = 0;
  for (let i = 0; i + 1 < cuts.length; i++) s += glPanels(f, cuts[i]!, cuts[i + 1]!, panelLn);
  return s;
}

/**
 * The frequency ν_τ=1 [Hz] at which τ_X(ν; x_e, z', z'') = 1 (code nu_tau_one, with x_e = x̄_e as
 * fill_freqint_tables calls it): photons below it are treated as fully absorbed, above it as free
 * (Mesinger et al. 2011, Sec. 2.3.1; Davies et al. 2025, footnote 17). Brent's method on
 * [ν_HeI, 1 MeV] in ln ν to relative tolerance `relTol` (the code uses 0.02). As the code: returns
 * ν_HeI when τ_X(ν_HeI) < 1, and E_0 when x_e > 0.9999 (the code returns the number NU_X_THRESH there,
 * in eV rather than Hz; the caller's max(ν_τ=1, E_0) makes the two equal).
 *
 * @throws Error naming the argument when one is out of range, or when τ_X(1 MeV) ≥ 1 (no root).
 */
export function nuTauOne(zp: number, zpp: number, xe: number, hiFillingFactor: (z: number) => number, p: XrayParams, relTol = 1e-4): number {
  checkXe('nuTauOne', xe);
  checkZ('nuTauOne', 'zp', zp);
  checkZ('nuTauOne', 'zpp', zpp);
  if (!(relTol > 0 && relTol < 0.5)) throw new Error(`nuTauOne: relTol = ${relTol}, expected in (0, 0.5)`);
  if (xe > 0.9999) return p.nuXThreshEv * PHYS.eV_to_Hz;
  const g = (lnNu: number): number => tauX(Math.exp(lnNu), xe, zp, zpp, hiFillingFactor, p) - 1;
  const lo = Math.log(PHYS.nu_ion_HeI);
  const flo = g(lo);
  if (flo < 0) return PHYS.nu_ion_HeI;
  const hi = Math.log(1e6 * PHYS.eV_to_Hz);
  const fhi = g(hi);
  if (fhi >= 0) throw new Error(`nuTauOne: τ_X(1 MeV) = ${fhi + 1} ≥ 1 for zp = ${zp}, zpp = ${zpp}, xe = ${xe}: no root in [ν_HeI, 1 MeV]`);
  // interval in ln ν of width relTol is a relative tolerance in ν
  return Math.exp(brent(g, lo, hi, flo, fhi, relTol));
}

/** Brent's root finder (Brent 1973, zeroin) on [a, b] with f(a), f(b) of opposite sign, to absolute tolerance tol. */
function brent(f: (x: number) => number, a: number, b: number, fa: number, fb: number, tol: number): number {
  let c = a;
  let fc = fa;
  let d = b - a;
  let e = d;
  for (let iter = 0; iter < 200; iter++) {
    if (fb * fc > 0) {
      c = a;
      fc = fa;
      d = b - a;
      e = d;
    }
    if (Math.abs(fc) < Math.abs(fb)) {
      a = b;
      b = c;
      c = a;
      fa = fb;
      fb = fc;
      fc = fa;
    }
    const tol1 = 2 * Number.EPSILON * Math.abs(b) + 0.5 * tol;
    const xm = 0.5 * (c - b);
    if (Math.abs(xm) <= tol1 || fb === 0) return b;
    if (Math.abs(e) >= tol1 && Math.abs(fa) > Math.abs(fb)) {
      const s = fb / fa;
      let pp: number;
      let q: number;
      if (a === c) {
        pp = 2 * xm * s;
        q = 1 - s;
      } else {
        const qq = fa / fc;
        const r = fb / fc;
        pp = s * (2 * xm * qq * (qq - r) - (b - a) * (r - 1));
        q = (qq - 1) * (r - 1) * (s - 1);
      }
      if (pp > 0) q = -q;
      pp = Math.abs(pp);
      if (2 * pp < Math.min(3 * xm * q - Math.abs(tol1 * q), Math.abs(e * q))) {
        e = d;
        d = pp / q;
      } else {
        d = xm;
        e = d;
      }
    } else {
      d = xm;
      e = d;
    }
    a = b;
    fa = fb;
    b += Math.abs(d) > tol1 ? d : xm > 0 ? tol1 : -tol1;
    fb = f(b);
  }
  throw new Error('nuTauOne: Brent iteration did not converge in 200 steps');
}

// ---------------------------------------------------------------- luminosity prefactors

/**
 * set_zp_consts' xray_prefactor [s^-1 … code units]: the luminosity conversion of a power law
 * L_ν ∝ ν^(−α_X) normalised to unit energy in [E_0, E_band,max],
 *   ℓ = 1 / (ν_0 ln(ν_band/ν_0))                          for α_X = 1 (|α_X − 1| < 1e-6),
 *   ℓ = (1 − α_X) ν_0^(−α_X) / (ν_band^(1−α_X) − ν_0^(1−α_X)) otherwise,
 * divided by h_p (erg → per-photon count with frequencies in Hz), then / ν_0 × c (1+z')^(α_X+3).
 * The per-shell factor (1+z'')^(−α_X) is xrayShellFactor. ν_0 = E_0/h.
 *
 * @throws Error naming zp when it is not a redshift.
 */
export function xrayPrefactor(zp: number, p: XrayParams): number {
  checkZ('xrayPrefactor', 'zp', zp);
  const nu0 = p.nuXThreshEv * PHYS.eV_to_Hz;
  let l: number;
  if (Math.abs(p.alphaX - 1) < 1e-6) l = 1 / (nu0 * Math.log(p.nuXBandMaxEv / p.nuXThreshEv));
  else {
    l = 1 / (Math.pow(p.nuXBandMaxEv * PHYS.eV_to_Hz, 1 - p.alphaX) - Math.pow(nu0, 1 - p.alphaX));
    l *= Math.pow(nu0, -p.alphaX) * (1 - p.alphaX);
  }
  l /= PHYS.h_p;
  return (l / nu0) * PHYS.c_cms * Math.pow(1 + zp, p.alphaX + 3);
}

/** Per-shell X-ray factor (1+z'')^(−α_X) (SpinTemperatureBox.c xray_R_factor). */
export function xrayShellFactor(zpp: number, p: XrayParams): number {
  checkZ('xrayShellFactor', 'zpp', zpp);
  return Math.pow(1 + zpp, -p.alphaX);
}

// ---------------------------------------------------------------- [x_e][shell] tables

/**
 * The frequency-integral tables of one z' (code fill_freqint_tables): for each shell j and each
 * x_e node m (X_INT_XHII), heat/ion/lya[m * nShell + j] = integrateOverNu(z', x_m, ν_min,j, kind),
 * with ν_min,j = max(ν_τ=1(z', z''_j, x̄_e), E_0).
 */
export interface FreqIntTables {
  readonly zp: number;
  readonly nShell: number;
  /** Lower limit ν_min per shell [Hz]. */
  readonly nuMin: Float64Array;
  readonly heat: Float64Array;
  readonly ion: Float64Array;
  readonly lya: Float64Array;
}

/**
 * Build the [x_e][shell] frequency-integral tables for one z' (code fill_freqint_tables; ACGs only).
 * All shells share one ln ν panel grid anchored at ν_max, so each table entry equals
 * integrateOverNu(zp, x_m, ν_min,j, kind, p) (same panels) while the integrand is evaluated once per
 * node and x_e (the integrand does not depend on z').
 *
 * @param zp receiving redshift z'.
 * @param xeAve x̄_e, the mean ionised fraction of the previous step (used in ν_τ=1, as the code).
 * @param zppCentres z'' of each shell (code zpp_for_evolve_list), each ≥ zp.
 * @param hiFillingFactor Q_HI(ẑ) (the driver passes the box's ⟨x_HI⟩ history).
 * @throws Error naming the argument when one is out of range; Error when a table entry is not finite
 *   (the code's TableGenerationError).
 */
export function fillFreqIntTables(
  zp: number,
  xeAve: number,
  zppCentres: ArrayLike<number>,
  hiFillingFactor: (z: number) => number,
  p: XrayParams,
  opts: { panelLn?: number; relTol?: number } = {},
): FreqIntTables {
  checkZ('fillFreqIntTables', 'zp', zp);
  checkXe('fillFreqIntTables', xeAve);
  const nShell = zppCentres.length;
  if (nShell < 1) throw new Error('fillFreqIntTables: zppCentres is empty, expected one z″ per shell');
  const h = opts.panelLn ?? NU_PANEL_LN;
  const nuThresh = p.nuXThreshEv * PHYS.eV_to_Hz;
  const nuMin = new Float64Array(nShell);
  for (let j = 0; j < nShell; j++) {
    const zpp = zppCentres[j]!;
    if (!(Number.isFinite(zpp) && zpp >= zp)) throw new Error(`fillFreqIntTables: zppCentres[${j}] = ${zpp}, expected ≥ zp = ${zp}`);
    nuMin[j] = Math.max(nuTauOne(zp, zpp, xeAve, hiFillingFactor, p, opts.relTol), nuThresh);
  }
  let lowest = Infinity;
  for (const v of nuMin) lowest = Math.min(lowest, v);
  const g = lnNuGrid(p, lowest, h);
  const nPanel = g.length - 1;
  const out = { heat: new Float64Array(X_INT_NXHII * nShell), ion: new Float64Array(X_INT_NXHII * nShell), lya: new Float64Array(X_INT_NXHII * nShell) };
  const kinds: NuIntegralKind[] = ['heat', 'ion', 'lya'];
  // integrand pieces independent of x_e and kind, at the 4 Gauss nodes of each full panel
  const nNode = 4 * nPanel;
  const nodeNu = new Float64Array(nNode);
  const nodeW = new Float64Array(nNode); // Gauss weight × half width × ν (dν = ν d ln ν) × spectral weight
  const sig = [new Float64Array(nNode), new Float64Array(nNode), new Float64Array(nNode)];
  const nuX = p.nuXThreshEv * PHYS.eV_to_Hz;
  for (let k = 0; k < nPanel; k++) {
    const mid = 0.5 * (g[k]! + g[k + 1]!);
    const half = 0.5 * (g[k]! - g[k + 1]!);
    for (let q = 0; q < 4; q++) {
      const i = 4 * k + q;
      const nu = Math.exp(mid + half * GL_X[q]!);
      nodeNu[i] = nu;
      nodeW[i] = GL_W[q]! * half * nu * Math.pow(nu / nuX, -p.alphaX - 1);
      sig[0]![i] = sigmaHI(nu);
      sig[1]![i] = sigmaHeI(nu);
      sig[2]![i] = sigmaHeII(nu);
    }
  }
  const cum = new Float64Array(nPanel + 1); // cum[k] = ∫ from g[k] to ν_max
  for (let m = 0; m < X_INT_NXHII; m++) {
    const xe = X_INT_XHII[m]!;
    for (const kind of kinds) {
      cum[0] = 0;
      for (let k = 0; k < nPanel; k++) {
        let s = 0;
        for (let i = 4 * k; i < 4 * k + 4; i++) s += nodeW[i]! * speciesSum(nodeNu[i]!, sig[0]![i]!, sig[1]![i]!, sig[2]![i]!, xe, kind, p);
        cum[k + 1] = cum[k]! + s;
      }
      const fac = kindFactor(zp, kind, p);
      const tab = out[kind];
      for (let j = 0; j < nShell; j++) {
        const lnMin = Math.log(nuMin[j]!);
        // panel k + 1 holds lnMin: g[k+1] ≤ lnMin < g[k]; sum full panels above it, then the partial one
        let k = Math.min(nPanel - 1, Math.max(0, Math.floor((g[0]! - lnMin) / h)));
        while (k > 0 && g[k]! <= lnMin) k--;
        while (k < nPanel - 1 && g[k + 1]! > lnMin) k++;
        const v = (cum[k]! + lnPanel(xe, kind, p, Math.max(g[k + 1]!, lnMin), g[k]!)) * fac;
        if (!Number.isFinite(v)) throw new Error(`fillFreqIntTables: ${kind} integral at x_e = ${xe}, shell ${j} is ${v} (TableGenerationError)`);
        tab[m * nShell + j] = v;
      }
    }
  }
  return Object.freeze({ zp, nShell, nuMin, ...out });
}

/**
 * Per-cell interpolation weights in x_e, as SpinTemperatureBox.c computes them once per cell:
 * x_e clamped into [1.001e-4, 0.999²], m the lower node and `frac` = (x_e − x_m)/(x_{m+1} − x_m).
 * @throws Error naming xe when it is not finite.
 */
export function xeWeights(xe: number): { m: number; frac: number } {
  if (!Number.isFinite(xe)) throw new Error(`xeWeights: xe = ${xe}, expected a finite ionised fraction`);
  const x = clampXHII(xe);
  const m = locateXHIIIndex(x);
  return { m, frac: (x - X_INT_XHII[m]!) / (X_INT_XHII[m + 1]! - X_INT_XHII[m]!) };
}

/**
 * Linear interpolation in x_e of one table column (shell j): tbl[m][j] + frac (tbl[m+1][j] − tbl[m][j])
 * (the code's freq_int_*_tbl_diff × inverse_val + freq_int_*_tbl).
 * @throws Error naming shell when it is out of range.
 */
export function interpFreqInt(tbl: Float64Array, nShell: number, shell: number, w: { m: number; frac: number }): number {
  if (!(Number.isInteger(shell) && shell >= 0 && shell < nShell)) throw new Error(`interpFreqInt: shell = ${shell}, expected an integer in [0, ${nShell})`);
  const lo = tbl[w.m * nShell + shell]!;
  const hi = tbl[(w.m + 1) * nShell + shell]!;
  return lo + (hi - lo) * w.frac;
}
