/**
 * Shared fixtures of the sampler tests: one sigma(M) table per process, and float64 reference integrals of
 * the CHMF computed independently of the sampler's tables, from src/cosmo/conditional.ts.
 */
import { conditionalDndlnM, type ConditionalOptions } from '../../../src/cosmo/conditional.js';
import { CAMELS_CV } from '../../../src/cosmo/params.js';
import { LinearPower } from '../../../src/cosmo/power.js';
import { SigmaM } from '../../../src/cosmo/sigma.js';
import { resolveSamplerParams, type SamplerParams } from '../../../src/astro/sampler/params.js';

let cached: SigmaM | null = null;
/** sigma(M) of the CAMELS cosmology (built once). */
export function sigmaCamels(): SigmaM {
  cached ??= new SigmaM(new LinearPower(CAMELS_CV));
  return cached;
}

export const H = CAMELS_CV.h;

/** Sampler defaults with the paper's checks' minimum mass, 5e8 Msun = 5e8 h Msun/h. */
export function testParams(over: Partial<SamplerParams> = {}): SamplerParams {
  return resolveSamplerParams(H, { minMass: 5e8 * H, ...over });
}

export function optsOf(p: SamplerParams): ConditionalOptions {
  return { model: p.model, barrier: p.barrier, deltaC: p.deltaC };
}

/**
 * ∫ dN/dln M (times M when `massWeighted`) over M < M' < Mcond, by Simpson's rule in t = ln ln(Mcond / M')
 * (resolves the cut-off just below M_cond and the low-mass tail alike).
 */
export function directIntegral(sig: SigmaM, M: number, Mcond: number, delta: number, z: number, opts: ConditionalOptions, massWeighted = false, nodes = 1201): number {
  if (!(M < Mcond)) return 0;
  const t0 = Math.log(1e-9);
  const t1 = Math.log(Math.log(Mcond / M));
  if (!(t1 > t0)) return 0;
  const n = nodes % 2 === 1 ? nodes : nodes + 1;
  const d = (t1 - t0) / (n - 1);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const u = Math.exp(t0 + i * d);
    const m = Mcond * Math.exp(-u);
    const w = i === 0 || i === n - 1 ? 1 : i % 2 === 1 ? 4 : 2;
    s += w * conditionalDndlnM(sig, m, Mcond, delta, z, opts) * u * (massWeighted ? m : 1);
  }
  return (s * d) / 3;
}

/** The M with N(> M) = target (Illinois regula falsi in ln M on [lnLo, ln Mcond]). */
export function rootMass(target: number, sig: SigmaM, lnLo: number, Mcond: number, delta: number, z: number, opts: ConditionalOptions): number {
  const f = (lnM: number): number => directIntegral(sig, Math.exp(lnM), Mcond, delta, z, opts) - target;
  let a = lnLo;
  let b = Math.log(Mcond) - 1e-9;
  let fa = f(a);
  let fb = f(b);
  if (fa < 0 || fb > 0) throw new Error(`rootMass: target ${target} not bracketed (${fa}, ${fb})`);
  let side = 0;
  for (let it = 0; it < 100 && b - a > 1e-7; it++) {
    const c = (a * fb - b * fa) / (fb - fa);
    const fc = f(c);
    if (fc === 0) return Math.exp(c);
    if (fc > 0) {
      a = c;
      fa = fc;
      if (side === -1) fb /= 2;
      side = -1;
    } else {
      b = c;
      fb = fc;
      if (side === 1) fa /= 2;
      side = 1;
    }
  }
  return Math.exp(0.5 * (a + b));
}

/** Poisson-consistent comparison: |observed - expected| <= k sqrt(expected) + extra. */
export function withinPoisson(observed: number, expected: number, k: number, extra = 0): boolean {
  return Math.abs(observed - expected) <= k * Math.sqrt(Math.max(expected, 1)) + extra;
}
