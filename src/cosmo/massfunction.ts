/**
 * Unconditional halo mass functions in the "universal" form
 *   dn/dln M = f(nu) (rho_m / M) |d ln sigma / d ln M|,   nu = delta_c / sigma(M, z),
 * with masses in Msun/h and number densities in (h/Mpc)^3 (comoving).
 *
 * - Press & Schechter (1974): f(nu) = sqrt(2/pi) nu exp(-nu^2/2).
 * - Sheth & Tormen (1999): f(nu) = A sqrt(2a/pi) nu [1 + (a nu^2)^-p] exp(-a nu^2/2),
 *   A = 0.3222, a = 0.707, p = 0.3 (CCL's / colossus' `sheth99` with FoF masses).
 */
import type { SigmaM } from './sigma.js';

export type MassFunctionModel = 'ps' | 'st';
export const MASS_FUNCTION_MODELS: readonly MassFunctionModel[] = ['ps', 'st'];

/** Spherical-collapse threshold in Einstein-de Sitter, the default delta_c. */
export const DELTA_C = 1.68647;

export interface ShethTormenParams {
  A: number;
  a: number;
  p: number;
}
export const ST_DEFAULT: ShethTormenParams = Object.freeze({ A: 0.3222, a: 0.707, p: 0.3 });

export interface MassFunctionOptions {
  model?: MassFunctionModel;
  /** Linear collapse threshold (default {@link DELTA_C}). */
  deltaC?: number;
  /** Sheth–Tormen parameters (default {@link ST_DEFAULT}). */
  st?: ShethTormenParams;
}

/** Press–Schechter multiplicity f(nu). */
export function multiplicityPS(nu: number): number {
  return Math.sqrt(2 / Math.PI) * nu * Math.exp(-0.5 * nu * nu);
}

/** Sheth–Tormen multiplicity f(nu). */
export function multiplicityST(nu: number, p: ShethTormenParams = ST_DEFAULT): number {
  const an2 = p.a * nu * nu;
  return p.A * Math.sqrt((2 * p.a) / Math.PI) * nu * (1 + Math.pow(an2, -p.p)) * Math.exp(-0.5 * an2);
}

/** dn/dln M [(h/Mpc)^3] at mass M [Msun/h] and redshift z. */
export function dndlnM(sig: SigmaM, M: number, z: number, opts: MassFunctionOptions = {}): number {
  const dc = opts.deltaC ?? DELTA_C;
  const nu = dc / sig.sigma(M, z);
  const model = opts.model ?? 'st';
  let f: number;
  if (model === 'ps') f = multiplicityPS(nu);
  else if (model === 'st') f = multiplicityST(nu, opts.st ?? ST_DEFAULT);
  else throw new Error(`unknown mass function "${String(model)}" (use ${MASS_FUNCTION_MODELS.join(', ')})`);
  return f * (sig.rhoM / M) * Math.abs(sig.dlnSigmadlnM(M));
}

/** dn/dlog10 M [(h/Mpc)^3] at mass M [Msun/h] and redshift z. */
export function dndlog10M(sig: SigmaM, M: number, z: number, opts: MassFunctionOptions = {}): number {
  return Math.LN10 * dndlnM(sig, M, z, opts);
}

/**
 * Large-scale (peak-background split) Eulerian bias of halos of peak height nu = delta_c / sigma(M, z) for the
 * Sheth–Tormen multiplicity of the same parameters (Sheth & Tormen 1999, Eq. 12; Sheth, Mo & Tormen 2001):
 *   b(nu) = 1 + (a nu^2 - 1) / delta_c + 2 p / (delta_c [1 + (a nu^2)^p]).
 * With a normalised multiplicity (A fixed by the integral of f over ln nu, as for {@link ST_DEFAULT}) the
 * mass-weighted bias of all matter is one: the integral of b(nu) f(nu) over ln nu equals 1.
 * Dimensionless; nu must be positive.
 */
export function biasST(nu: number, p: ShethTormenParams = ST_DEFAULT, deltaC: number = DELTA_C): number {
  if (!(nu > 0)) throw new Error(`biasST: nu = ${nu}: expected a positive peak height delta_c / sigma`);
  const an2 = p.a * nu * nu;
  return 1 + (an2 - 1) / deltaC + (2 * p.p) / (deltaC * (1 + Math.pow(an2, p.p)));
}
