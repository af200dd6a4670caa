/**
 * Galaxy scaling relations of the 21cmFAST-v4 discrete source model for one halo (Davies et al. 2025,
 * Sec. 3, Eq. 7–19), written as the public 21cmFAST code evaluates them (src/scaling_relations.c,
 * src/HaloBox.c): every log-normal property is `mean × exp(g σ_ln − σ_ln²/2)` with a standard normal
 * deviate g and σ_ln = σ_dex ln 10, so that the relation is the linear mean of the property (the code's
 * default). With HALO_SCALING_RELATIONS_MEDIAN the −σ_ln²/2 term is dropped and the relation is the
 * median 10^<log10 x>; the two differ by the factor 10^(σ_dex² ln10 / 2) (Davies et al. 2025, footnote 22).
 *
 * Units: halo and stellar masses in Msun (the paper's unit, no h), SFR in Msun/yr, L_X in erg/s,
 * metallicity in Z_sun, L_UV in erg s^-1 Hz^-1.
 */
import { hubble, omegaMz } from '../../cosmo/background.js';
import type { Cosmology } from '../../cosmo/params.js';
import type { AstroParams } from '../params.js';
import { KM_PER_MPC, LN10, MSUN_G, MUV_ZERO_POINT, M_P_G, S_PER_YR } from './constants.js';

/** The relations' parameters at one redshift, in linear units and natural-log widths. */
export interface GalaxyConstants {
  readonly z: number;
  /** Ω_b / Ω_m. */
  readonly baryonFraction: number;
  /** Hubble time 1/H(z) [yr]. */
  readonly tHubbleYr: number;
  readonly fStar10: number;
  readonly alphaStar: number;
  /** σ_* [ln units]. */
  readonly sigmaStar: number;
  /** Whether the double power law of Eq. 10 applies (USE_UPPER_STELLAR_TURNOVER and α_* > α_*2). */
  readonly upper: boolean;
  readonly alphaUpper: number;
  /** M_pivot [Msun]. */
  readonly pivotUpper: number;
  /** (M_pivot/1e10)^α_* + (M_pivot/1e10)^α_*2, the numerator of Eq. 10. */
  readonly upperPivotRatio: number;
  /** Default lower turnover 10^M_TURN [Msun]. */
  readonly mTurn: number;
  readonly tStar: number;
  /** σ_SFR,lim and σ_SFR,idx [dex]; the ln conversion is applied after Eq. 12. */
  readonly sigmaSfrLimDex: number;
  readonly sigmaSfrIdxDex: number;
  /** L_X/SFR normalisation [erg s^-1 (Msun/yr)^-1]. */
  readonly lx: number;
  readonly lxMini: number;
  /** σ_X [ln units]. */
  readonly sigmaLx: number;
  readonly useLxMetallicity: boolean;
  readonly lxZPivot: number;
  readonly lxZIndex: number;
  readonly fmrNorm: number;
  /** 10^FMR_LOG10_M0 [Msun]. */
  readonly fmrM0: number;
  readonly fmrSfrIndex: number;
  readonly fmrMassIndex: number;
  readonly fmrPower: number;
  /** 10^(FMR_Z_SLOPE z + FMR_Z_OFFSET). */
  readonly fmrRedshiftFactor: number;
  readonly fesc10: number;
  readonly alphaEsc: number;
  readonly pop2Ion: number;
  readonly kUv: number;
  /** Whether the relations give the median (true) or the mean (false). */
  readonly median: boolean;
  readonly miniHalos: boolean;
  readonly fStar7: number;
  readonly alphaStarMini: number;
  readonly fesc7: number;
  readonly pop3Ion: number;
  /** Atomic-cooling threshold, the upper cut-off of the MCG SHMR (Eq. 19) [Msun]. */
  readonly mCool: number;
  /** Default lower MCG turnover: the Lyman–Werner threshold without LW background or streaming [Msun]. */
  readonly mTurnMcg: number;
}

/** Hubble time 1/H(z) [yr]. */
export function hubbleTimeYr(cosmo: Cosmology, z: number): number {
  const hPerSecond = hubble(cosmo, z) / KM_PER_MPC;
  return 1 / (hPerSecond * S_PER_YR);
}

/**
 * Halo mass [Msun] with virial temperature T [K] and mean molecular weight μ (21cmFAST `TtoM`, after
 * Barkana & Loeb 2001 with the Bryan & Norman 1998 overdensity Δ_c = 18π² + 82d − 39d², d = Ω_m(z) − 1).
 */
export function virialTemperatureToMass(cosmo: Cosmology, z: number, T: number, mu: number): number {
  const omz = omegaMz(cosmo, z);
  const d = omz - 1;
  const deltaC = 18 * Math.PI * Math.PI + 82 * d - 39 * d * d;
  return (7030.97 / cosmo.h) * Math.sqrt(omz / (cosmo.Omega_m * deltaC)) * Math.pow(T / (mu * (1 + z)), 1.5);
}

/** Atomic-cooling threshold: T_vir = 1e4 K, μ = 0.59 [Msun] (21cmFAST `atomic_cooling_threshold`). */
export function atomicCoolingThreshold(cosmo: Cosmology, z: number): number {
  return virialTemperatureToMass(cosmo, z, 1e4, 0.59);
}

/**
 * Lyman–Werner turnover of molecular-cooling galaxies without LW background and without baryon–DM
 * streaming, 3.314e7 (1+z)^-1.5 Msun (21cmFAST `lyman_werner_threshold` at J_21 = 0, v_cb = 0; Visbal et al. 2015).
 */
export function lymanWernerThresholdNoFeedback(z: number): number {
  return 3.314e7 * Math.pow(1 + z, -1.5);
}

/**
 * Validated relation constants at redshift z.
 * @throws RangeError if z is not a finite number ≥ 0.
 */
export function galaxyConstants(z: number, cosmo: Cosmology, p: AstroParams): GalaxyConstants {
  if (!Number.isFinite(z) || z < 0)
    throw new RangeError(`galaxy relations: redshift z must be a finite number >= 0, got ${z}`);
  const pivot = Math.pow(10, p.UPPER_STELLAR_TURNOVER_MASS);
  return Object.freeze({
    z,
    baryonFraction: cosmo.Omega_b / cosmo.Omega_m,
    tHubbleYr: hubbleTimeYr(cosmo, z),
    fStar10: Math.pow(10, p.F_STAR10),
    alphaStar: p.ALPHA_STAR,
    sigmaStar: p.SIGMA_STAR * LN10,
    // As in the code: no upturn at high mass even when ALPHA_STAR is below the upper index.
    upper: p.USE_UPPER_STELLAR_TURNOVER && p.ALPHA_STAR > p.UPPER_STELLAR_TURNOVER_INDEX,
    alphaUpper: p.UPPER_STELLAR_TURNOVER_INDEX,
    pivotUpper: pivot,
    upperPivotRatio: Math.pow(pivot / 1e10, p.ALPHA_STAR) + Math.pow(pivot / 1e10, p.UPPER_STELLAR_TURNOVER_INDEX),
    mTurn: Math.pow(10, p.M_TURN),
    tStar: p.t_STAR,
    sigmaSfrLimDex: p.SIGMA_SFR_LIM,
    sigmaSfrIdxDex: p.SIGMA_SFR_INDEX,
    lx: Math.pow(10, p.L_X),
    lxMini: Math.pow(10, p.L_X_MINI),
    sigmaLx: p.SIGMA_LX * LN10,
    useLxMetallicity: p.USE_LX_METALLICITY,
    lxZPivot: p.LX_Z_PIVOT,
    lxZIndex: p.LX_Z_INDEX,
    fmrNorm: p.FMR_NORM,
    fmrM0: Math.pow(10, p.FMR_LOG10_M0),
    fmrSfrIndex: p.FMR_SFR_INDEX,
    fmrMassIndex: p.FMR_MASS_INDEX,
    fmrPower: p.FMR_POWER,
    fmrRedshiftFactor: Math.pow(10, p.FMR_Z_SLOPE * z + p.FMR_Z_OFFSET),
    fesc10: Math.pow(10, p.F_ESC10),
    alphaEsc: p.ALPHA_ESC,
    pop2Ion: p.POP2_ION,
    kUv: p.K_UV,
    median: p.HALO_SCALING_RELATIONS_MEDIAN,
    miniHalos: p.USE_MINI_HALOS,
    fStar7: Math.pow(10, p.F_STAR7_MINI),
    alphaStarMini: p.ALPHA_STAR_MINI,
    fesc7: Math.pow(10, p.F_ESC7_MINI),
    pop3Ion: p.POP3_ION,
    mCool: atomicCoolingThreshold(cosmo, z),
    mTurnMcg: lymanWernerThresholdNoFeedback(z),
  });
}

/**
 * The log-normal shift: σ_ln²/2 when the relations are mean-normalised, 0 for median relations.
 * exp(−σ_ln²/2) = 10^(−σ_dex² ln10 / 2) makes <exp(g σ_ln − σ_ln²/2)> = 1 over g ~ N(0, 1).
 */
export function lognormalShift(sigmaLn: number, median: boolean): number {
  return median ? 0 : 0.5 * sigmaLn * sigmaLn;
}

/**
 * Power-law part of the SHMR, f_*(M_h) without turnover or scatter (Davies et al. 2025, Eq. 10):
 * f_*,10 [(M_p/1e10)^α_* + (M_p/1e10)^α_*2] / [(M_h/M_p)^−α_* + (M_h/M_p)^−α_*2] with the upper turnover,
 * else f_*,10 (M_h/1e10)^α_*.
 */
export function fStarPowerLaw(haloMassMsun: number, c: GalaxyConstants): number {
  if (c.upper) {
    const x = haloMassMsun / c.pivotUpper;
    return (c.fStar10 * c.upperPivotRatio) / (Math.pow(x, -c.alphaStar) + Math.pow(x, -c.alphaUpper));
  }
  return c.fStar10 * Math.pow(haloMassMsun / 1e10, c.alphaStar);
}

/**
 * Stellar mass of an atomic-cooling galaxy [Msun] for standard normal deviate g (Eq. 7, 10):
 * M_* = min(1, f_*(M_h) exp(−M_turn/M_h + g σ_* − shift)) M_h Ω_b/Ω_m. The cap (f_* ≤ 1, as in the code)
 * lowers the mean below the relation where f_* approaches 1.
 */
export function stellarMassFromDeviate(haloMassMsun: number, mTurnMsun: number, g: number, c: GalaxyConstants): number {
  const f =
    fStarPowerLaw(haloMassMsun, c) *
    Math.exp(-mTurnMsun / haloMassMsun + g * c.sigmaStar - lognormalShift(c.sigmaStar, c.median));
  return Math.min(f, 1) * haloMassMsun * c.baryonFraction;
}

/**
 * Stellar mass of a molecular-cooling galaxy [Msun] (Eq. 19), with the same deviate and width as the
 * ACG component: min(1, f_*,7 (M_h/1e7)^α_*,mcg exp(−M_LW/M_h − M_h/M_cool + g σ_* − shift)) M_h Ω_b/Ω_m.
 */
export function stellarMassMiniFromDeviate(
  haloMassMsun: number,
  mTurnMcgMsun: number,
  g: number,
  c: GalaxyConstants,
): number {
  const f =
    c.fStar7 *
    Math.pow(haloMassMsun / 1e7, c.alphaStarMini) *
    Math.exp(
      -mTurnMcgMsun / haloMassMsun - haloMassMsun / c.mCool + g * c.sigmaStar - lognormalShift(c.sigmaStar, c.median),
    );
  return Math.min(f, 1) * haloMassMsun * c.baryonFraction;
}

/**
 * The SHMR relation itself [Msun]: f_*(M_h) exp(−M_turn/M_h) M_h Ω_b/Ω_m, the mean of M_* at fixed M_h
 * (mean-normalised) or its median (HALO_SCALING_RELATIONS_MEDIAN), where f_* stays below 1 (Eq. 10).
 */
export function stellarMassRelation(haloMassMsun: number, mTurnMsun: number, c: GalaxyConstants): number {
  return fStarPowerLaw(haloMassMsun, c) * Math.exp(-mTurnMsun / haloMassMsun) * haloMassMsun * c.baryonFraction;
}

/**
 * SFMS scatter [dex] at total stellar mass M_* (Eq. 12): max(σ_lim, σ_idx log10(M_* / 1e10 Msun) + σ_lim);
 * 0 when σ_lim = 0 (as in the code, which then switches the SFMS scatter off).
 */
export function sigmaSfrDex(stellarMassMsun: number, c: GalaxyConstants): number {
  if (!(c.sigmaSfrLimDex > 0)) return 0;
  const s = c.sigmaSfrIdxDex * Math.log10(stellarMassMsun / 1e10) + c.sigmaSfrLimDex;
  return s < c.sigmaSfrLimDex ? c.sigmaSfrLimDex : s;
}

/** The SFMS relation [Msun/yr] (Eq. 11): μ_SFR = M_* / (t_* H(z)^-1). */
export function sfrRelation(stellarMassMsun: number, c: GalaxyConstants): number {
  return stellarMassMsun / (c.tStar * c.tHubbleYr);
}

/**
 * SFR [Msun/yr] for deviate g and SFMS width σ_SFR [ln units] (Eq. 7, 11); 0 for M_* = 0 (where Eq. 12's
 * width is infinite and the product would be NaN).
 */
export function sfrFromDeviate(stellarMassMsun: number, sigmaSfrLn: number, g: number, c: GalaxyConstants): number {
  if (stellarMassMsun === 0) return 0;
  return sfrRelation(stellarMassMsun, c) * Math.exp(g * sigmaSfrLn - lognormalShift(sigmaSfrLn, c.median));
}

/**
 * Gas-phase metallicity Z/Z_sun from the fundamental metallicity relation (Eq. 14–15; Curti et al. 2020,
 * 2024): Z = 1.23 (1 + (M_* / M_0)^−2.1)^−0.148 10^(−0.056 z + 0.064), M_0 = 10^10.11 (SFR/Msun yr^-1)^0.56.
 * No scatter (as in the paper). Where M_* or SFR is 0 the mass term is 1, as in the code.
 */
export function metallicity(stellarMassMsun: number, sfrMsunYr: number, c: GalaxyConstants): number {
  let term = 1;
  if (stellarMassMsun > 0 && sfrMsunYr > 0) {
    const m0 = c.fmrM0 * Math.pow(sfrMsunYr, c.fmrSfrIndex);
    term = Math.pow(1 + Math.pow(stellarMassMsun / m0, c.fmrMassIndex), c.fmrPower);
  }
  return c.fmrNorm * term * c.fmrRedshiftFactor;
}

/**
 * Mean soft-band L_X/SFR [erg s^-1 (Msun/yr)^-1] at metallicity Z (Eq. 13):
 * L_X,norm / (1 + (Z/0.05 Z_sun)^0.64) with USE_LX_METALLICITY, else L_X,norm.
 */
export function lxPerSfr(metallicityZsun: number, lxNorm: number, c: GalaxyConstants): number {
  if (!c.useLxMetallicity) return lxNorm;
  return lxNorm / (1 + Math.pow(metallicityZsun / c.lxZPivot, c.lxZIndex));
}

/** Escape fraction of an ACG (Eq. 17): min(1, f_esc,10 (M_h/1e10)^α_esc). */
export function escapeFraction(haloMassMsun: number, c: GalaxyConstants): number {
  return Math.min(c.fesc10 * Math.pow(haloMassMsun / 1e10, c.alphaEsc), 1);
}

/** Escape fraction of an MCG: min(1, f_esc,7 (M_h/1e7)^α_esc) (the code's minihalo law). */
export function escapeFractionMini(haloMassMsun: number, c: GalaxyConstants): number {
  return Math.min(c.fesc7 * Math.pow(haloMassMsun / 1e7, c.alphaEsc), 1);
}

/** Baryons in one solar mass, Msun / m_p. */
export const BARYONS_PER_MSUN = MSUN_G / M_P_G;

/** UV luminosity L_UV [erg s^-1 Hz^-1] of star-formation rate SFR [Msun/yr]: SFR / κ_UV. */
export function uvLuminosity(sfrMsunYr: number, c: Pick<GalaxyConstants, 'kUv'>): number {
  return sfrMsunYr / c.kUv;
}

/**
 * UV magnitude of SFR [Msun/yr] as in the code's luminosity function: M_UV = 51.63 − 2.5 log10(SFR/κ_UV);
 * +Infinity for SFR = 0.
 */
export function muvFromSfr(sfrMsunYr: number, c: Pick<GalaxyConstants, 'kUv'>): number {
  return MUV_ZERO_POINT - 2.5 * Math.log10(sfrMsunYr / c.kUv);
}
