/**
 * The two other progenitor samplers of Davies et al. (2025), Appendix B, ported from the public code:
 *
 * Partition (Sheth & Lemson 1999; `stoc_partition_sample`): starting from M_rem = M_desc, repeatedly draw the
 * first-crossing peak height nu from the Gaussian tail above nu_min (the resolution floor), nu multiplied by
 * haloMassCorrection, take S = (delta_cur / nu)^2 + S(M_rem), M = M(S), and remove it from M_rem, until
 * M_rem <= minMass. The condition is updated as the mass is used up: delta_cur = (B(S(M_rem)) - delta_cond) /
 * (M_rem / M_desc). For the ST barrier a draw is rejected with probability 1 - T(S_min) / T(S) (the code's
 * `partition_rejection`).
 *
 * Binary split (Parkinson, Cole & Helly 2008; Qiu et al. 2021; `stoc_split_sample`): the EPS merger rate on small
 * internal steps in delta_c / D, each step either splitting the halo in two (mass fraction q drawn from the
 * bounding power law and accepted with the ratio R(q)) or not, the mass below the resolution accreted smoothly,
 * with the correction G0 (sigma / sigma_cond)^gamma1 (delta / sigma_cond)^gamma2 (Eq. B.1). Steps are limited by
 * eps1 = 0.1 (first-order validity) and eps2 = 0.1 (at most ~0.1 splits per step). Always EPS (delta_c / D), as
 * in the code; J(u_res) is integrated for the given gamma1 (the code tabulates it for gamma1 = 0.2 only).
 *
 * Both work in the code's units: sigma(M, z = 0) and barriers divided by D(z_prog).
 */
import type { Rng } from '../../util/rng.js';
import type { FirstCrossing, SigmaLookup } from './chmf.js';

/** A standard-normal deviate conditioned on x > a (GSL `gsl_ran_ugaussian_tail`). */
export function gaussianTail(rng: Rng, a: number): number {
  if (a < 1) {
    for (;;) {
      const x = rng.normal();
      if (x > a) return x;
    }
  }
  for (;;) {
    const u = 1 - rng.uniform();
    const v = rng.uniform();
    const x = Math.sqrt(a * a - 2 * Math.log(u));
    if (v * x <= a) return x;
  }
}

export interface PartitionContext {
  sl: SigmaLookup;
  fc: FirstCrossing;
  /** D(z_prog). */
  Dp: number;
  /** Progenitors are drawn until the remaining mass is at most this [Msun/h] (the kept minimum mass). */
  minMass: number;
  /** Resolution floor of the draws [Msun/h] (minMass / bufferFactor). */
  massFloor: number;
  /** nu is multiplied by this (`HALOMASS_CORRECTION`). */
  nuFactor: number;
}

/**
 * Partition draws for a descendant of mass Md [Msun/h] whose condition at z_prog is deltaCond (linear at z_prog):
 * appends progenitor masses to `out` (including those below minMass, which the caller drops).
 */
export function partitionDraws(Md: number, deltaCond: number, ctx: PartitionContext, rng: Rng, out: number[]): void {
  const { sl, fc, Dp } = ctx;
  const sMin = sl.sigma0(Math.log(ctx.massFloor)) * Dp;
  const Smin = sMin * sMin;
  let rem = Md;
  while (rem > ctx.minMass) {
    const sr = sl.sigma0(Math.log(rem)) * Dp;
    const Sr = sr * sr;
    if (!(Smin > Sr)) break;
    const dCur = (fc.barrier(Sr) - deltaCond) / (rem / Md);
    const d2 = dCur * dCur;
    const nuMin = Math.sqrt(d2 / (Smin - Sr));
    let S: number;
    for (;;) {
      const nu = gaussianTail(rng, nuMin) * ctx.nuFactor;
      S = d2 / (nu * nu) + Sr;
      if (!fc.isST) break;
      const t1 = fc.taylorBarrier(S, Sr) - dCur;
      const t2 = fc.taylorBarrier(Smin, Sr) - dCur;
      if (!(rng.uniform() > t2 / t1)) break;
    }
    const m = Math.exp(sl.lnMassOfSigma0(Math.sqrt(S) / Dp));
    out.push(m);
    rem -= m;
  }
}

export interface SplitContext {
  sl: SigmaLookup;
  /** Spherical-collapse threshold. */
  deltaC: number;
  /** D(z_desc), D(z_prog). */
  Dd: number;
  Dp: number;
  /** Resolution floor [Msun/h]: smaller fragments are accreted smoothly. */
  massFloor: number;
  G0: number;
  gamma1: number;
  gamma2: number;
}

/**
 * J(u) = ∫_0^u (1 + 1/x^2)^(gamma1/2) dx (Parkinson et al. 2008, Eq. A7; gamma1 < 1), by Simpson's rule in t with
 * x = t^p, p = 2 / (1 - gamma1), which turns the x^-gamma1 behaviour at 0 into an integrand ~ t.
 */
export function splitJ(u: number, gamma1: number): number {
  if (Math.abs(gamma1) < 1e-7) return u;
  if (!(gamma1 < 1)) throw new Error(`splitJ: gamma1 = ${gamma1}: expected a value below 1 (J diverges otherwise)`);
  const p = 2 / (1 - gamma1);
  const n = 400;
  const T = Math.pow(u, 1 / p);
  const h = T / n;
  let s = 0;
  for (let i = 1; i <= n; i++) {
    const t = i * h;
    const x = Math.pow(t, p);
    const f = Math.pow(1 + 1 / (x * x), 0.5 * gamma1) * p * Math.pow(t, p - 1);
    s += (i === n ? 1 : i % 2 === 1 ? 4 : 2) * f;
  }
  return (s * h) / 3;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Binary-split draws for a descendant of mass Md [Msun/h]: appends the final progenitor masses (> massFloor). */
export function binarySplitDraws(Md: number, ctx: SplitContext, rng: Rng, out: number[]): void {
  const { sl, G0, gamma1, gamma2 } = ctx;
  const eps1 = 0.1;
  const eps2 = 0.1;
  const mRes = ctx.massFloor;
  const sigmaRes = sl.sigma0(Math.log(mRes));
  const sRes2 = sigmaRes * sigmaRes;
  const dTarget = ctx.deltaC / ctx.Dp;
  const dPts: number[] = [ctx.deltaC / ctx.Dd];
  const mPts: number[] = [Md];
  const jCache = new Map<number, number>();
  const J = (u: number): number => {
    if (Math.abs(gamma1) < 1e-7) return u;
    const key = Math.round(u * 1e4);
    let v = jCache.get(key);
    if (v === undefined) {
      v = splitJ(key / 1e4, gamma1);
      jCache.set(key, v);
    }
    return v;
  };
  let idx = 0;
  while (idx < mPts.length) {
    const dStart = dPts[idx]!;
    const mStart = mPts[idx]!;
    const ddTarget = dTarget - dStart;
    let save = false;
    const lnStart = Math.log(mStart);
    const sStart = sl.sigma0(lnStart);
    const sStart2 = sStart * sStart;
    const lnHalf = lnStart - Math.LN2;
    const sHalf = sl.sigma0(lnHalf);
    const sHalf2 = sHalf * sHalf;
    const G1 = G0 * Math.pow(dStart / sStart, gamma2);
    const qRes = mRes / mStart;
    const fraction = (dd: number): number => SQRT_2_OVER_PI * J(sStart / Math.sqrt(sRes2 - sStart2)) * (G1 / sStart) * dd;
    let q = 0;
    let dd: number;
    let F: number;
    if (qRes >= 0.5) {
      // no split above the resolution: only the smooth accretion, on a step valid to first order
      dd = eps1 * Math.SQRT2 * Math.sqrt(sHalf2 - sStart2);
      if (dd >= ddTarget) {
        dd = ddTarget;
        save = true;
      }
      F = fraction(dd);
    } else {
      const alphaHalf = -sl.slopeAt(lnHalf);
      const Vres = sRes2 * Math.pow(sRes2 - sStart2, -1.5);
      const Vhalf = sHalf2 * Math.pow(sHalf2 - sStart2, -1.5);
      const beta = Math.log(Vres / Vhalf) / Math.log(2 * qRes);
      const B = Math.pow(2, beta) * Vhalf;
      const dd1 = eps1 * Math.SQRT2 * Math.sqrt(sHalf2 - sStart2);
      const mu = gamma1 < 0 ? -Math.log(sigmaRes / sHalf) / Math.log(2 * qRes) : alphaHalf;
      const eta = beta - 1 - gamma1 * mu;
      const powDiff = Math.pow(0.5, eta) - Math.pow(qRes, eta);
      const G2 = G1 * Math.pow(sHalf / sStart, gamma1) * Math.pow(0.5, mu * gamma1);
      const dNdd = ((SQRT_2_OVER_PI * B * powDiff) / eta) * alphaHalf * G2;
      const dd2 = eps2 / dNdd;
      dd = Math.min(dd1, dd2);
      if (dd >= ddTarget) {
        dd = ddTarget;
        save = true;
      }
      const nUpper = dNdd * dd;
      F = fraction(dd);
      if (rng.uniform() < nUpper) {
        q = Math.pow(Math.pow(qRes, eta) + powDiff * rng.uniform(), 1 / eta);
        const lnQ = lnStart + Math.log(q);
        const sQ = sl.sigma0(lnQ);
        const sQ2 = sQ * sQ;
        const alphaQ = -sl.slopeAt(lnQ);
        const R = (alphaQ / alphaHalf) * ((sQ2 * Math.pow(sQ2 - sStart2, -1.5)) / (B * Math.pow(q, beta)));
        if (rng.uniform() > R) q = 0;
      }
    }
    const m1 = (1 - F - q) * mStart;
    const m2 = q * mStart;
    if (save) {
      if (m1 > mRes) out.push(m1);
      if (m2 > mRes) out.push(m2);
    } else {
      // the larger fragment continues in place, the smaller one is queued
      if (m1 > mRes) {
        dPts[idx] = dd + dStart;
        mPts[idx] = m1;
        idx--;
      }
      if (m2 > mRes) {
        dPts.push(dd + dStart);
        mPts.push(m2);
      }
    }
    idx++;
  }
}
