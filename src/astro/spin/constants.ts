/**
 * Physical constants of the 21cmFAST cosmic-dawn modules, with the values of the public 21cmFAST code
 * (Constants.c, which takes most of them from Astropy constants v7.1.0), and the present-day hydrogen
 * and baryon number densities as the code computes them from the cosmology (Constants.h macros No,
 * He_No, N_b0, H_FRAC, HE_FRAC).
 *
 * Units are cgs unless a comment says otherwise (the code mixes in SI for the vacuum permittivity).
 */
import { E } from '../../cosmo/background.js';
import type { Cosmology } from '../../cosmo/params.js';

/** Speed of light [cm/s] (code c_cms). */
export const C_CMS = 2.99792458e10;
/** Speed of light [km/s] (code c_kms). */
export const C_KMS = 2.99792458e5;
/** Planck constant [erg s] (code h_p). */
export const H_P = 6.62607015e-27;
/** Boltzmann constant [erg/K] (code k_B). */
export const K_B = 1.380649e-16;
/** Proton mass [g] (code m_p). */
export const M_P = 1.67262192369e-24;
/** Electron mass [g] (code m_e). */
export const M_E = 9.1093837015e-28;
/** Gravitational constant [cm^3 g^-1 s^-2] (code G). */
export const G_CGS = 6.6743e-8;
/** Electron charge [esu = g^1/2 cm^3/2 s^-1] (code e_charge). */
export const E_CHARGE = 4.803204712570263e-10;
/** Vacuum permittivity [F/m, SI] (code vac_perm); used only in the Lyα coupling prefactor. */
export const VAC_PERM = 8.8541878128e-12;

/** Solar mass [g] (code Msun). */
export const MSUN_G = 1.989e33;
/** Seconds per year (code s_per_yr). */
export const S_PER_YR = 31556925.9747;
/** Centimetres per Mpc (code cm_per_Mpc). */
export const CM_PER_MPC = 3.08567758e24;
/** Hz per eV (code eV_to_Hz). */
export const EV_TO_HZ = 2.417989e14;

/** HI ionisation frequency [Hz] (code nu_ion_HI). */
export const NU_ION_HI = 3.288465e15;
/** HeI ionisation frequency [Hz] (code nu_ion_HeI). */
export const NU_ION_HEI = 5.945836e15;
/** HeII ionisation frequency [Hz] (code nu_ion_HeII). */
export const NU_ION_HEII = 1.3153862e16;
/** Lyman–Werner band threshold [Hz] (code nu_LW_thresh). */
export const NU_LW_THRESH = 2.70331197e15;
/** Lyα frequency [Hz] (code nu_Ly_alpha). */
export const NU_LY_ALPHA = 2.46606727e15;
/** CMB temperature today [K] in the code (physconst.T_cmb); lodi takes T_cmb from the Cosmology (same default). */
export const T_CMB_CODE = 2.7255;
/** Temperature equivalent of the 21 cm transition, h ν_21 / k_B [K] (code T_21). */
export const T_21 = 0.0682;
/** 21 cm wavelength [cm] (code lambda_21). */
export const LAMBDA_21 = 21.106114054160;
/** Lyα wavelength [Å] (code lambda_Ly_alpha). */
export const LAMBDA_LY_ALPHA = 1215.67;
/** Lyβ wavelength [Å] (code lambda_Ly_beta). */
export const LAMBDA_LY_BETA = 1025.18;
/** Lyγ wavelength [Å] (code lambda_Ly_gamma). */
export const LAMBDA_LY_GAMMA = 972.02;

/** Thomson cross-section [cm^2] (code sigma_T). */
export const SIGMA_T = 6.6524587321e-25;
/** HI photo-ionisation cross-section at 13.6 eV [cm^2] (code sigma_HI). */
export const SIGMA_HI = 6.3e-18;
/** Spontaneous emission coefficient of the 21 cm line [s^-1] (code A10). */
export const A_10 = 2.85e-15;
/** Spontaneous emission coefficient of Lyα [s^-1] (code A_Ly_alpha). */
export const A_LY_ALPHA = 6.24e8;
/** Lyα oscillator strength (code f_alpha). */
export const F_ALPHA = 0.4162;
/** Case-A hydrogen recombination coefficient at 10^4 K [cm^3 s^-1] (code alpha_A_10k, Osterbrock). */
export const ALPHA_A_10K = 4.18e-13;
/** Case-B hydrogen recombination coefficient at 10^4 K [cm^3 s^-1] (code alpha_B_10k, Osterbrock). */
export const ALPHA_B_10K = 2.59e-13;

/** H0 per unit h [s^-1]: the code's Ho = h × 3.2407e-18 s^-1 (Constants.h). */
export const HO_PER_H_S = 3.2407e-18;
/** Fractional floating-point tolerance of the code (FRACT_FLOAT_ERR). */
export const FRACT_FLOAT_ERR = 1e-7;
/** Helium mass fraction default of the code (cosmo_params Y_He). */
export const Y_HE_DEFAULT = 0.24;

function checkYHe(yHe: number): void {
  if (!(yHe >= 0 && yHe < 1)) throw new RangeError(`yHe: helium mass fraction must be in [0, 1), got ${yHe}`);
}

/** Present-day critical density 3 H0² / (8π G) [g/cm^3], with the code's H0 = h × 3.2407e-18 s^-1 (RHOcrit_cgs). */
export function rhoCritCgs(cosmo: Cosmology): number {
  const ho = cosmo.h * HO_PER_H_S;
  return (3 * ho * ho) / (8 * Math.PI * G_CGS);
}

/** Present-day hydrogen number density No = ρ_c Ω_b (1 − Y_He) / m_p [cm^-3] (≈ 1.9e-7 for Planck). */
export function hydrogenDensity0(cosmo: Cosmology, yHe = Y_HE_DEFAULT): number {
  checkYHe(yHe);
  return (rhoCritCgs(cosmo) * cosmo.Omega_b * (1 - yHe)) / M_P;
}

/** Present-day helium number density He_No = ρ_c Ω_b Y_He / (4 m_p) [cm^-3]. */
export function heliumDensity0(cosmo: Cosmology, yHe = Y_HE_DEFAULT): number {
  checkYHe(yHe);
  return (rhoCritCgs(cosmo) * cosmo.Omega_b * yHe) / (4 * M_P);
}

/** Present-day baryon (H + He nuclei) number density N_b0 = No + He_No [cm^-3]. */
export function baryonDensity0(cosmo: Cosmology, yHe = Y_HE_DEFAULT): number {
  return hydrogenDensity0(cosmo, yHe) + heliumDensity0(cosmo, yHe);
}

/** Hydrogen number fraction of the nuclei, H_FRAC = (1 − Y) / (1 − 3Y/4); H_FRAC × N_b0 = No. */
export function hydrogenFraction(yHe = Y_HE_DEFAULT): number {
  checkYHe(yHe);
  return (1 - yHe) / (1 - (3 * yHe) / 4);
}

/** Helium number fraction relative to all nuclei, HE_FRAC = (Y/4) / (1 − 3Y/4). */
export function heliumFraction(yHe = Y_HE_DEFAULT): number {
  checkYHe(yHe);
  return yHe / 4 / (1 - (3 * yHe) / 4);
}

/**
 * Hubble rate H(z) [s^-1]: the code's hubble(z) = Ho E(z) with its Ho = h × 3.2407e-18 s^-1 and E(z) of
 * src/cosmo/background.ts (matter + radiation + Λ; the code has Ω_r = 8.6e-5 by default, lodi's
 * Cosmology has Ω_r = 0 unless set).
 */
export function hubbleRate(cosmo: Cosmology, z: number): number {
  return cosmo.h * HO_PER_H_S * E(cosmo, z);
}
