/**
 * Switches and constants of the per-cell thermal and spin-temperature update (21cmFAST
 * SpinTemperatureBox.c get_Ts_fast and init_first_Ts), with the public code's defaults (inputs.py);
 * docs/astro-spin.md lists them with the paper's.
 */
import { Y_HE_DEFAULT } from './constants.js';

export interface SpinParams {
  /** Add the X-ray heating rate to dT_K/dz (code USE_X_RAY_HEATING; default true). */
  readonly useXrayHeating: boolean;
  /** Add the heating of the gas by CMB photons through the 21 cm line, Meiksin (2021) Eq. 4 (code USE_CMB_HEATING; default true). */
  readonly useCmbHeating: boolean;
  /**
   * Lyα heating (code USE_LYA_HEATING, Reis et al. 2021). The code's default is true, but it needs
   * Lyman_alpha_heating_table.dat, which is not bundled: only false is accepted, and the result equals
   * the code run with USE_LYA_HEATING = false.
   */
  readonly useLyaHeating: false;
  /** IGM clumping factor C in the X-ray partial-ionisation recombination sink α_A C x_e² n_H (code CLUMPING_FACTOR; default 2). */
  readonly clumpingFactor: number;
  /** Cells at or above this T_K [K] are not heated or cooled any further (code MAX_TK; 5 × 10^4 K). */
  readonly maxTk: number;
  /** Give the first T_K box the linear adiabatic fluctuations T_K (1 + c_T δ) (code USE_ADIABATIC_FLUCTUATIONS; default true). */
  readonly adiabaticFluctuations: boolean;
  /** Helium mass fraction (code Y_He; default 0.24). */
  readonly yHe: number;
  /** Redshift above which T_K and x_e are RECFAST's and there is no radiation (code Z_HEAT_MAX; default 35). */
  readonly zHeatMax: number;
  /** Number of lightcone shells of the X-ray and Lyman-α integrals (code N_STEP_TS; default 40). */
  readonly nStepTs: number;
  /** R_max of the shell radii R_j = R_min (R_max/R_min)^{j/N}, j < N [comoving Mpc, no h] (code R_MAX_TS; default 500). */
  readonly rMaxTsMpc: number;
}

/** The public 21cmFAST defaults (inputs.py, SpinTemperatureBox.c), except useLyaHeating (see its doc). */
export const DEFAULT_SPIN_PARAMS: SpinParams = Object.freeze({
  useXrayHeating: true,
  useCmbHeating: true,
  useLyaHeating: false,
  clumpingFactor: 2,
  maxTk: 5e4,
  adiabaticFluctuations: true,
  yHe: Y_HE_DEFAULT,
  zHeatMax: 35,
  nStepTs: 40,
  rMaxTsMpc: 500,
} as const);

/** Error for an invalid spin-temperature parameter; the message names the field, the value and what was expected. */
export class SpinParamsError extends Error {}

const KEYS = Object.keys(DEFAULT_SPIN_PARAMS) as (keyof SpinParams)[];

/**
 * Validates `input` over the defaults and returns a frozen parameter set.
 *
 * @throws SpinParamsError on an unknown field or a value out of range (including useLyaHeating = true).
 */
export function makeSpinParams(input: Partial<Omit<SpinParams, 'useLyaHeating'>> & { useLyaHeating?: boolean } | Record<string, unknown> = {}): SpinParams {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new SpinParamsError(`spin params: expected an object, got ${JSON.stringify(input)}`);
  }
  for (const k of Object.keys(input)) {
    if (!(KEYS as string[]).includes(k)) throw new SpinParamsError(`spin params: unknown field "${k}" (allowed: ${KEYS.join(', ')})`);
  }
  const p = { ...DEFAULT_SPIN_PARAMS, ...(input as Partial<SpinParams>) } as SpinParams;
  const bad = (key: keyof SpinParams, want: string): never => {
    throw new SpinParamsError(`spin params: field "${key}" must be ${want}, got ${JSON.stringify(p[key])}`);
  };
  const bool = (key: keyof SpinParams): void => {
    if (typeof p[key] !== 'boolean') bad(key, 'true or false');
  };
  bool('useXrayHeating');
  bool('useCmbHeating');
  bool('adiabaticFluctuations');
  if ((p.useLyaHeating as boolean) !== false) bad('useLyaHeating', 'false (Lyα heating needs Lyman_alpha_heating_table.dat, which is not bundled)');
  if (!(typeof p.clumpingFactor === 'number' && Number.isFinite(p.clumpingFactor) && p.clumpingFactor > 0)) bad('clumpingFactor', 'a finite number > 0');
  if (!(typeof p.maxTk === 'number' && p.maxTk > 0)) bad('maxTk', 'a temperature > 0 K');
  if (!(typeof p.yHe === 'number' && p.yHe >= 0 && p.yHe < 1)) bad('yHe', 'in [0, 1)');
  if (!(typeof p.zHeatMax === 'number' && Number.isFinite(p.zHeatMax) && p.zHeatMax > 0)) bad('zHeatMax', 'a finite redshift > 0');
  if (!(Number.isInteger(p.nStepTs) && p.nStepTs >= 1)) bad('nStepTs', 'an integer >= 1');
  if (!(typeof p.rMaxTsMpc === 'number' && Number.isFinite(p.rMaxTsMpc) && p.rMaxTsMpc > 0)) bad('rMaxTsMpc', 'a finite radius > 0 Mpc');
  return Object.freeze(p);
}
