/**
 * UV luminosity functions φ(M_UV) [Mpc^-3 mag^-1] (comoving Mpc, no h):
 * - {@link uvLuminosityFunction}: binned counts of the galaxies of one box, with Poisson errors;
 * - {@link analyticUvLuminosityFunction}: the expectation of the same bins for halos drawn from the
 *   unconditional mass function, integrating dn/dln M over the galaxy-property distributions of
 *   Davies et al. (2025, Sec. 3).
 *
 * The analytic form is exact for the sampled model: at fixed halo mass and SHMR deviate g_*, the SFR is
 * log-normal in the SFR deviate (both galaxy components share it, Eq. 11–12 and 19), so M_UV is normal
 * with mean m(M_h, g_*) and width 2.5 σ_SFR,dex(M_*); the bin probability is a difference of normal CDFs,
 * which is integrated over g_* ~ N(0, 1) (trapezoid) and ln M_h (Simpson). The turnover acts on f_*
 * (as in the halo sampler), not as a duty cycle on dn/dM as in the code's analytic `ComputeLF`.
 */
import { erfc } from '../../cosmo/conditional.js';
import { dndlnM, type MassFunctionOptions } from '../../cosmo/massfunction.js';
import { simpson } from '../../cosmo/numeric.js';
import { cosmologyKey, type Cosmology } from '../../cosmo/params.js';
import type { SigmaM } from '../../cosmo/sigma.js';
import type { AstroParams } from '../params.js';
import { LN10, MUV_ZERO_POINT } from './constants.js';
import {
  galaxyConstants,
  lognormalShift,
  sfrRelation,
  sigmaSfrDex,
  stellarMassFromDeviate,
  stellarMassMiniFromDeviate,
} from './relations.js';

/** A binned UV luminosity function. */
export interface UvLuminosityFunction {
  /** Bin edges in M_UV [mag], increasing (length B + 1). */
  readonly edges: Float64Array;
  /** Bin centres [mag] (length B). */
  readonly centres: Float64Array;
  /** φ [Mpc^-3 mag^-1] per bin. */
  readonly phi: Float64Array;
  /** Poisson error sqrt(N)/(V ΔM) [Mpc^-3 mag^-1] (0 for an empty bin; use the expectation there). */
  readonly phiErr: Float64Array;
  /** Galaxies per bin. */
  readonly counts: Float64Array;
  /** Comoving volume [Mpc^3]. */
  readonly volumeMpc3: number;
}

function checkEdges(edges: ArrayLike<number>, what: string): Float64Array {
  if (edges.length < 2) throw new RangeError(`${what}: edges must have at least 2 values, got ${edges.length}`);
  const e = Float64Array.from(edges);
  for (let i = 0; i < e.length; i++) {
    if (!Number.isFinite(e[i]!)) throw new RangeError(`${what}: edges[${i}] must be finite, got ${e[i]}`);
    if (i > 0 && !(e[i]! > e[i - 1]!))
      throw new RangeError(`${what}: edges must increase strictly, got ${e[i - 1]} then ${e[i]} at ${i}`);
  }
  return e;
}

function centresOf(e: Float64Array): Float64Array {
  const c = new Float64Array(e.length - 1);
  for (let i = 0; i < c.length; i++) c[i] = 0.5 * (e[i]! + e[i + 1]!);
  return c;
}

/** Index of the bin holding x (edges[k] ≤ x < edges[k+1]), or −1. */
function binOf(e: Float64Array, x: number): number {
  if (!(x >= e[0]!) || !(x < e[e.length - 1]!)) return -1;
  let lo = 0;
  let hi = e.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (x >= e[mid]!) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * Binned UV luminosity function of the galaxies of a periodic box.
 * @param muv UV magnitudes of the galaxies (non-finite values, e.g. SFR = 0, are not counted)
 * @param opts.boxSize box side [Mpc/h]; opts.h converts it to Mpc; opts.edges bin edges [mag], increasing
 * @returns φ [Mpc^-3 mag^-1] with Poisson errors
 * @throws RangeError for bad edges, box size or h
 */
export function uvLuminosityFunction(
  muv: ArrayLike<number>,
  opts: { boxSize: number; h: number; edges: ArrayLike<number> },
): UvLuminosityFunction {
  const e = checkEdges(opts.edges, 'uvLuminosityFunction');
  if (!(Number.isFinite(opts.boxSize) && opts.boxSize > 0))
    throw new RangeError(`uvLuminosityFunction: boxSize must be > 0 [Mpc/h], got ${opts.boxSize}`);
  if (!(Number.isFinite(opts.h) && opts.h > 0))
    throw new RangeError(`uvLuminosityFunction: h must be > 0, got ${opts.h}`);
  const side = opts.boxSize / opts.h;
  const volume = side * side * side;
  const nb = e.length - 1;
  const counts = new Float64Array(nb);
  for (let i = 0; i < muv.length; i++) {
    const k = binOf(e, muv[i]!);
    if (k >= 0) counts[k]! += 1;
  }
  const phi = new Float64Array(nb);
  const phiErr = new Float64Array(nb);
  for (let k = 0; k < nb; k++) {
    const norm = volume * (e[k + 1]! - e[k]!);
    phi[k] = counts[k]! / norm;
    phiErr[k] = Math.sqrt(counts[k]!) / norm;
  }
  return { edges: e, centres: centresOf(e), phi, phiErr, counts, volumeMpc3: volume };
}

/** Options of {@link analyticUvLuminosityFunction}. */
export interface AnalyticUvLfOptions {
  /** Bin edges in M_UV [mag], increasing. */
  edges: ArrayLike<number>;
  z: number;
  /** Must be the cosmology of `sigma`. */
  cosmo: Cosmology;
  params: AstroParams;
  /** σ(M) table of the cosmology (masses in Msun/h, as everywhere in src/cosmo). */
  sigma: SigmaM;
  /** Mass function (default Sheth–Tormen, as in the paper's runs). */
  massFunction?: MassFunctionOptions;
  /** Halo-mass range of the population [Msun]. */
  haloMassMinMsun: number;
  haloMassMaxMsun: number;
  /** SHMR turnover [Msun] (default 10^M_TURN); MCG turnover (default as in {@link galaxyProperties}). */
  mTurnMsun?: number;
  mTurnMcgMsun?: number;
  /** Simpson nodes per decade of halo mass (default 100). */
  pointsPerDex?: number;
  /** Trapezoid step and half-range of the SHMR deviate (defaults 0.1 and 8). */
  deviateStep?: number;
  deviateMax?: number;
}

/** The analytic expectation of a binned UV luminosity function. */
export interface AnalyticUvLf {
  readonly edges: Float64Array;
  readonly centres: Float64Array;
  /** Expected φ [Mpc^-3 mag^-1] per bin (bin average). */
  readonly phi: Float64Array;
  /** Number density of the halos of the mass range [Mpc^-3]. */
  readonly haloNumberDensity: number;
}

/** Standard normal CDF. */
function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/**
 * Expected φ(M_UV) per bin [Mpc^-3 mag^-1] of the galaxies of halos in [M_min, M_max] drawn from the
 * unconditional mass function: φ_k = (1/ΔM_k) ∫ dln M_h dn/dln M_h ∫ dg_* N(g_*) P_k(M_h, g_*), with
 * P_k the probability that M_UV falls in bin k given M_h and g_* (see the module comment).
 *
 * Accuracy: with σ_SFR,lim > 0 the integrand is smooth and the defaults converge to < 1e-4; with no SFR
 * scatter P_k is a step in M_h and the error is first order in the mass step.
 * @throws RangeError for bad edges or mass range, or when `cosmo` is not the cosmology of `sigma`.
 */
export function analyticUvLuminosityFunction(opts: AnalyticUvLfOptions): AnalyticUvLf {
  const e = checkEdges(opts.edges, 'analyticUvLuminosityFunction');
  const { cosmo, params, sigma } = opts;
  if (cosmologyKey(sigma.power.cosmo) !== cosmologyKey(cosmo)) {
    throw new RangeError('analyticUvLuminosityFunction: cosmo must be the cosmology of the sigma table');
  }
  const mMin = opts.haloMassMinMsun;
  const mMax = opts.haloMassMaxMsun;
  if (!(Number.isFinite(mMin) && mMin > 0 && Number.isFinite(mMax) && mMax > mMin)) {
    throw new RangeError(
      `analyticUvLuminosityFunction: need 0 < haloMassMinMsun < haloMassMaxMsun, got ${mMin} and ${mMax}`,
    );
  }
  const perDex = opts.pointsPerDex ?? 100;
  const gStep = opts.deviateStep ?? 0.1;
  const gMax = opts.deviateMax ?? 8;
  if (!(perDex >= 2) || !(gStep > 0) || !(gMax > 0))
    throw new RangeError(
      'analyticUvLuminosityFunction: pointsPerDex >= 2, deviateStep > 0 and deviateMax > 0 required',
    );
  const c = galaxyConstants(opts.z, cosmo, params);
  const mTurn = opts.mTurnMsun ?? c.mTurn;
  const mTurnMcg = opts.mTurnMcgMsun ?? c.mTurnMcg;
  const h = cosmo.h;
  const h3 = h * h * h;

  // Deviate nodes, weights normalised to sum to 1 so that the truncated tails do not bias the total.
  const nG = c.sigmaStar > 0 ? 2 * Math.round(gMax / gStep) + 1 : 1;
  const gNodes = new Float64Array(nG);
  const gWeights = new Float64Array(nG);
  let wSum = 0;
  for (let j = 0; j < nG; j++) {
    const g = nG === 1 ? 0 : -gMax + j * gStep;
    gNodes[j] = g;
    gWeights[j] = Math.exp(-0.5 * g * g) * (nG > 1 && (j === 0 || j === nG - 1) ? 0.5 : 1);
    wSum += gWeights[j]!;
  }
  for (let j = 0; j < nG; j++) gWeights[j]! /= wSum;

  const lnMin = Math.log(mMin);
  const lnMax = Math.log(mMax);
  let nM = Math.ceil(((lnMax - lnMin) / LN10) * perDex) + 1;
  if (nM % 2 === 0) nM++;
  nM = Math.max(nM, 3);
  const dln = (lnMax - lnMin) / (nM - 1);
  const nb = e.length - 1;
  // Integrand per bin and mass node, then Simpson in ln M per bin.
  const integrand = Array.from({ length: nb }, () => new Float64Array(nM));
  const countIntegrand = new Float64Array(nM);
  const cdf = new Float64Array(e.length);
  const magPerLn = 2.5 / LN10;
  const zeroPoint = MUV_ZERO_POINT + 2.5 * Math.log10(c.kUv);
  for (let i = 0; i < nM; i++) {
    const m = Math.exp(lnMin + i * dln);
    const dn = dndlnM(sigma, m * h, opts.z, opts.massFunction) * h3; // Mpc^-3 per ln M
    countIntegrand[i] = dn;
    for (let j = 0; j < nG; j++) {
      const g = gNodes[j]!;
      const ms =
        stellarMassFromDeviate(m, mTurn, g, c) + (c.miniHalos ? stellarMassMiniFromDeviate(m, mTurnMcg, g, c) : 0);
      if (!(ms > 0)) continue; // no stars (exp(-M_turn/M) underflows): no UV
      const sLn = sigmaSfrDex(ms, c) * LN10;
      // ln SFR ~ N(ln μ_SFR − shift, σ_ln); M_UV = zeroPoint − (2.5/ln10) ln SFR.
      const mean = zeroPoint - magPerLn * (Math.log(sfrRelation(ms, c)) - lognormalShift(sLn, c.median));
      const sd = magPerLn * sLn;
      for (let k = 0; k < e.length; k++) {
        const x = e[k]! - mean;
        cdf[k] = sd > 0 ? normalCdf(x / sd) : x > 0 ? 1 : 0;
      }
      const w = gWeights[j]! * dn;
      for (let k = 0; k < nb; k++) integrand[k]![i]! += w * (cdf[k + 1]! - cdf[k]!);
    }
  }
  const phi = new Float64Array(nb);
  for (let k = 0; k < nb; k++) phi[k] = simpson(integrand[k]!, dln) / (e[k + 1]! - e[k]!);
  return { edges: e, centres: centresOf(e), phi, haloNumberDensity: simpson(countIntegrand, dln) };
}
