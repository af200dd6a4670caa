/**
 * Conditional halo mass functions (CHMF): the expected number of halos of mass M [Msun/h] inside a
 * Lagrangian region of mass M_cond [Msun/h] whose linear overdensity is delta_cond, as used by the
 * 21cmFAST v4 halo sampler (Davies, Mesinger & Murray, "Efficient simulation of discrete galaxy
 * populations ...", eqs. 1-4).
 *
 * Convention: delta_cond is the region's linear overdensity extrapolated to the redshift z of the halos
 * (the Lagrangian overdensity times D(z)), and sigma(M, z) = D(z) sigma(M, 0), delta_c constant. This is
 * identical to the paper's z = 0 form with delta_crit = delta_c/D(z) and delta_cond/D(z).
 * For progenitors at z of a halo of mass M_cond at z_desc, use {@link progenitorDeltaCond}.
 *
 * In terms of S = sigma^2(M, z), S_c = sigma^2(M_cond, z), the first-crossing mass fraction per dS is
 *   EPS (Lacey & Cole 1993):  f = (dc - d0) / sqrt(2 pi) (S - S_c)^-3/2 exp[-(dc - d0)^2 / 2(S - S_c)]
 *   ST (Sheth & Tormen 2002): f = |T(S|S_c)| / sqrt(2 pi) (S - S_c)^-3/2 exp[-(B(S) - d0)^2 / 2(S - S_c)]
 * with the ellipsoidal-collapse barrier B(S) = sqrt(a) dc [1 + beta (a dc^2 / S)^-alpha] (default: the Jenkins et
 * al. 2001 values a = 0.7, alpha = 0.81, beta = 0.34 of the 21cmFAST v4 paper; the public 21cmFAST code uses
 * a = 0.73, {@link ST_BARRIER_21CMFAST}) and
 *   T(S|S_c) = sum_{n=0}^{5} (S_c - S)^n / n! d^n [B(S) - d0] / dS^n.
 * Then dN/dln M = (M_cond / M) f(S) |dS / dln M|. EPS conserves mass exactly: ∫ M dN = M_cond over
 * M < M_cond; the ST form does so only approximately (the sampler in the paper renormalises).
 * For M_cond -> ∞, delta_cond -> 0 the EPS form tends to Press–Schechter and the ST form to the Sheth, Mo &
 * Tormen (2001) moving-barrier mass function (not to the ST99 fit of massfunction.ts, which differs from it by
 * tens of per cent at low masses).
 */
import { growthFactor } from './background.js';
import { DELTA_C } from './massfunction.js';
import type { Cosmology } from './params.js';
import type { SigmaM } from './sigma.js';

export type ConditionalModel = 'eps' | 'st';
export const CONDITIONAL_MODELS: readonly ConditionalModel[] = ['eps', 'st'];

export interface EllipsoidalBarrier {
  a: number;
  alpha: number;
  beta: number;
}
/** Jenkins et al. (2001) barrier parameters, as quoted in the 21cmFAST v4 paper (Davies et al. 2025, Eq. 2). */
export const ST_BARRIER_JENKINS: EllipsoidalBarrier = Object.freeze({ a: 0.7, alpha: 0.81, beta: 0.34 });
/**
 * Barrier parameters of the public 21cmFAST code (`JENKINS_a/b/c` in hmf.c: a = 0.73, beta = 0.34,
 * alpha = 0.81), which differ from the paper's a = 0.7; the default of the halo sampler (src/astro/sampler).
 */
export const ST_BARRIER_21CMFAST: EllipsoidalBarrier = Object.freeze({ a: 0.73, alpha: 0.81, beta: 0.34 });
/** Default barrier of the functions of this module: the paper's Jenkins et al. (2001) values. */
export const ST_BARRIER_DEFAULT: EllipsoidalBarrier = ST_BARRIER_JENKINS;

export interface ConditionalOptions {
  model?: ConditionalModel;
  /** Linear collapse threshold (default {@link DELTA_C}). */
  deltaC?: number;
  /** Barrier parameters for `st`. */
  barrier?: EllipsoidalBarrier;
}

/** First-crossing mass fraction per unit S for the chosen model (0 when it does not apply). */
export function conditionalFirstCrossing(S: number, Sc: number, deltaCond: number, opts: ConditionalOptions = {}): number {
  const dc = opts.deltaC ?? DELTA_C;
  const dS = S - Sc;
  if (!(dS > 0)) return 0;
  const model = opts.model ?? 'eps';
  if (model === 'eps') {
    const nu = dc - deltaCond;
    if (!(nu > 0)) return 0;
    return (nu / (Math.sqrt(2 * Math.PI) * Math.pow(dS, 1.5))) * Math.exp((-nu * nu) / (2 * dS));
  }
  if (model === 'st') {
    const { a, alpha, beta } = opts.barrier ?? ST_BARRIER_DEFAULT;
    const sa = Math.sqrt(a) * dc;
    const coef = sa * beta * Math.pow(a * dc * dc, -alpha); // B = sa + coef S^alpha
    const B = sa + coef * Math.pow(S, alpha);
    if (!(B - deltaCond > 0)) return 0;
    let T = B - deltaCond;
    let fall = 1; // alpha (alpha - 1) ... (alpha - n + 1)
    let term = 1; // (Sc - S)^n / n!
    for (let n = 1; n <= 5; n++) {
      fall *= alpha - n + 1;
      term *= -dS / n;
      T += term * coef * fall * Math.pow(S, alpha - n);
    }
    const x = B - deltaCond;
    return (Math.abs(T) / (Math.sqrt(2 * Math.PI) * Math.pow(dS, 1.5))) * Math.exp((-x * x) / (2 * dS));
  }
  throw new Error(`unknown conditional mass function "${String(model)}" (use ${CONDITIONAL_MODELS.join(', ')})`);
}

/**
 * dN/dln M: expected number of halos of mass M [Msun/h] per unit ln M inside the Lagrangian region of
 * mass M_cond [Msun/h] with linear overdensity deltaCond (at redshift z); zero for M >= M_cond.
 */
export function conditionalDndlnM(
  sig: SigmaM,
  M: number,
  Mcond: number,
  deltaCond: number,
  z: number,
  opts: ConditionalOptions = {},
): number {
  if (!(M < Mcond)) return 0;
  const D = z === 0 ? 1 : growthFactor(sig.power.cosmo, z);
  const s = sig.sigma(M) * D;
  const sc = sig.sigma(Mcond) * D;
  const S = s * s;
  const f = conditionalFirstCrossing(S, sc * sc, deltaCond, opts);
  return (Mcond / M) * f * 2 * S * Math.abs(sig.dlnSigmadlnM(M));
}

/**
 * Conditional number density dn/dln M [(h/Mpc)^3] per unit Lagrangian comoving volume of the region:
 * dN/dln M times rho_m / M_cond. Tends to the unconditional PS (EPS) mass function as M_cond -> ∞,
 * deltaCond -> 0.
 */
export function conditionalNumberDensity(
  sig: SigmaM,
  M: number,
  Mcond: number,
  deltaCond: number,
  z: number,
  opts: ConditionalOptions = {},
): number {
  return (conditionalDndlnM(sig, M, Mcond, deltaCond, z, opts) * sig.rhoM) / Mcond;
}

/**
 * EPS fraction of the region's mass in halos with Mmin < M < M_cond:
 * erfc[(dc - d0) / sqrt(2 (S(Mmin) - S_c))] (1 when the region itself has collapsed, d0 >= dc).
 */
export function epsCollapsedFraction(
  sig: SigmaM,
  Mmin: number,
  Mcond: number,
  deltaCond: number,
  z: number,
  deltaC = DELTA_C,
): number {
  if (deltaCond >= deltaC) return 1;
  if (!(Mmin < Mcond)) return 0;
  const D = z === 0 ? 1 : growthFactor(sig.power.cosmo, z);
  const s = sig.sigma(Mmin) * D;
  const sc = sig.sigma(Mcond) * D;
  return erfc((deltaC - deltaCond) / Math.sqrt(2 * (s * s - sc * sc)));
}

/**
 * Collapse barrier at variance S = sigma^2(M, z): delta_c for `eps`, the ellipsoidal barrier
 * B(S) = sqrt(a) delta_c [1 + beta (a delta_c^2 / S)^-alpha] for `st` (Davies et al. 2025, Eq. 2).
 * A region of variance S whose linear overdensity (at z) reaches this value has collapsed.
 */
export function collapseBarrier(S: number, opts: ConditionalOptions = {}): number {
  const dc = opts.deltaC ?? DELTA_C;
  const model = opts.model ?? 'eps';
  if (model === 'eps') return dc;
  if (model === 'st') {
    const { a, alpha, beta } = opts.barrier ?? ST_BARRIER_DEFAULT;
    return Math.sqrt(a) * dc * (1 + beta * Math.pow((a * dc * dc) / S, -alpha));
  }
  throw new Error(`unknown conditional mass function "${String(model)}" (use ${CONDITIONAL_MODELS.join(', ')})`);
}

/**
 * Condition for the progenitors at zProg of a halo of mass M_desc [Msun/h] at zDesc < zProg, for either
 * model: the barrier crossed at zDesc, B(sigma^2(M_desc, zDesc)), evolved linearly to zProg, i.e. times
 * D(zProg) / D(zDesc) (Davies et al. 2025, Sec. 2.2 and footnote 12). For `eps` this is
 * {@link progenitorDeltaCond}.
 */
export function progenitorCondition(
  sig: SigmaM,
  Mdesc: number,
  zDesc: number,
  zProg: number,
  opts: ConditionalOptions = {},
): number {
  if (!(zProg > zDesc)) throw new Error(`progenitorCondition: zProg must exceed zDesc, got zProg=${zProg}, zDesc=${zDesc}`);
  const c = sig.power.cosmo;
  const Dd = growthFactor(c, zDesc);
  const s = sig.sigma(Mdesc) * Dd;
  return (collapseBarrier(s * s, opts) * growthFactor(c, zProg)) / Dd;
}

/**
 * Condition for progenitors at redshift zProg of a halo at zDesc (< zProg): its linear overdensity at zProg,
 * delta_c D(zProg) / D(zDesc).
 */
export function progenitorDeltaCond(c: Cosmology, zDesc: number, zProg: number, deltaC = DELTA_C): number {
  return (deltaC * growthFactor(c, zProg)) / growthFactor(c, zDesc);
}

/** Complementary error function (Chebyshev expansion of Numerical Recipes 3rd ed., `erfccheb`; ~1e-16 relative). */
export function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  const cof = [
    -1.3026537197817094, 0.6419697923564902, 1.9476473204185836e-2, -9.561514786808631e-3, -9.46595344482036e-4,
    3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6, 1.30365583558e-6,
    1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9, 5.059343495e-9, -9.91364156e-10, -2.27365122e-10,
    9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15,
    -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
  ];
  const t = 2 / (2 + x);
  const ty = 4 * t - 2;
  let d = 0;
  let dd = 0;
  for (let j = cof.length - 1; j > 0; j--) {
    const tmp = d;
    d = ty * d - dd + cof[j]!;
    dd = tmp;
  }
  return t * Math.exp(-x * x + 0.5 * (cof[0]! + ty * d) - dd);
}
