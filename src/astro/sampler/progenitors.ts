/**
 * Progenitor sampling backward in time (Davies et al. 2025, Sec. 2.2; the public code's
 * `sample_halo_progenitors`, `stoc_mass_sample`, `fix_mass_sample`): each descendant of mass M_desc at
 * z_desc is a condition with M_cond = M_desc and delta_cond = B(sigma^2(M_desc, z_desc)) D(z_prog)/D(z_desc).
 *
 * Mass-limited (the default): progenitors are drawn from the CHMF until their total mass reaches
 * M_lim x haloMassCorrection, M_lim the expected progenitor mass above the table floor (Eq. 6); then, with
 * probability 1/2, the last halo is kept or dropped, whichever leaves the total closer to the target, and
 * otherwise random halos are removed until the total is below the target and the last one removed is put
 * back if that is closer (Appendix B). A descendant whose condition has collapsed at z_prog
 * (delta_cond >= maxDeltaCFrac delta_crit) keeps one progenitor of its own mass; one with
 * rareSigma sigma(M_desc, z_prog) < delta_crit gets one progenitor of the target mass (rare-halo truncation).
 * Number-limited: N ~ Poisson(N_exp) draws, as for cells. Partition and binary split: see alternatives.ts
 * (Appendix B); the collapsed-descendant rule applies to every method, the rare-halo rule to mass-limited only.
 *
 * Progenitors below minMass are discarded. Each progenitor is placed at a uniform random point of the sphere
 * of radius R(M_desc) - R(M_prog) around its descendant's Lagrangian position (R the Lagrangian radius), so
 * that its Lagrangian sphere lies inside the descendant's; the index of the descendant is kept.
 */
import { growthFactor } from '../../cosmo/background.js';
import type { Rng } from '../../util/rng.js';
import { wrapCoord, type HaloBuffer } from './buffer.js';
import { binarySplitDraws, partitionDraws, type PartitionContext, type SplitContext } from './alternatives.js';
import type { FirstCrossing, SigmaLookup } from './chmf.js';
import type { ProgenitorMethod, SamplerParams } from './params.js';
import { descendantCondition, type ChmfTable } from './tables.js';

export interface ProgenitorInput {
  /** Descendant table for zDesc -> zProg covering the descendants' masses (from `descendantTable`); needed by the mass- and number-limited methods. */
  table?: ChmfTable;
  sigma: SigmaLookup;
  firstCrossing: FirstCrossing;
  /** Descendant masses [Msun/h], [n]. */
  mass: Float64Array;
  /** Descendant Lagrangian positions [Mpc/h], [n * 3]. */
  pos: Float32Array;
  zDesc: number;
  zProg: number;
  boxSize: number;
  params: Pick<SamplerParams, 'minMass' | 'bufferFactor' | 'haloMassCorrection' | 'maxDeltaCFrac' | 'rareSigma' | 'deltaC' | 'parkinsonG0' | 'parkinsonGamma1' | 'parkinsonGamma2'>;
  method: ProgenitorMethod;
  rng: Rng;
  /** Progenitors are appended here (parent = descendant index). */
  out: HaloBuffer;
}

/** Per-descendant outcome of the draws (for tests and diagnostics), filled when `record` is given. */
export interface ProgenitorRecord {
  /** Target (mass-limited) or expected (number-limited) progenitor mass [Msun/h] per descendant. */
  target: Float64Array;
  /** Total drawn progenitor mass above the table floor, before removing halos below minMass [Msun/h]. */
  drawn: Float64Array;
}

/**
 * Reduces an over-full mass-limited sample towards the target `expM` (the code's `fix_mass_sample`):
 * masses[0..n) are the draws in order; removed halos get mass 0. Returns the new total.
 */
export function fixMassSample(masses: Float64Array, n: number, total: number, expM: number, rng: Rng): { n: number; total: number } {
  if (rng.uniform() < 0.5) {
    // keep or drop the last halo, whichever is closer to the target
    const last = masses[n - 1]!;
    if (Math.abs(total - last - expM) < Math.abs(total - expM)) return { n: n - 1, total: total - last };
    return { n, total };
  }
  // remove random halos until below the target; put back the last one if that is closer
  let removedIdx = -1;
  let removed = 0;
  do {
    let r: number;
    do {
      r = rng.int(n);
    } while (masses[r] === 0);
    removed = masses[r]!;
    removedIdx = r;
    total -= removed;
    masses[r] = 0;
  } while (total > expM);
  if (Math.abs(total + removed - expM) < Math.abs(total - expM)) {
    masses[removedIdx] = removed;
    total += removed;
  }
  return { n, total };
}

/** 2^-31: maps a 32-bit draw to [-1, 1) (positions need no more than 32 random bits). */
const INV_2_31 = 1 / 2147483648;

/** Uniform offset in a ball of radius r, by rejection from the cube. */
function pointInBall(rng: Rng, r: number, out: Float64Array): void {
  for (;;) {
    const x = rng.nextU32() * INV_2_31 - 1;
    const y = rng.nextU32() * INV_2_31 - 1;
    const z = rng.nextU32() * INV_2_31 - 1;
    if (x * x + y * y + z * z <= 1) {
      out[0] = x * r;
      out[1] = y * r;
      out[2] = z * r;
      return;
    }
  }
}

/**
 * Descendant masses where the two special cases start, for zDesc -> zProg: the condition has collapsed
 * (delta_cond >= maxDeltaCFrac delta_crit) for ln M_desc <= lnMassCollapsed, since delta_cond / delta_crit
 * falls with mass; the descendant is rare (rareSigma sigma(M_desc, zProg) < delta_crit) for ln M_desc >=
 * lnMassRare, since rareSigma sigma - B(sigma^2) rises with sigma. Found by bisection on the exact conditions
 * over [ln massLo, ln massHi]; -Infinity / +Infinity when a case does not occur in that range.
 */
export function descendantThresholds(
  sl: SigmaLookup,
  fc: FirstCrossing,
  Dd: number,
  Dp: number,
  maxDeltaCFrac: number,
  rareSigma: number,
  massLo: number,
  massHi: number,
): { lnMassCollapsed: number; lnMassRare: number } {
  const collapsed = (lnM: number): boolean => {
    const c = descendantCondition(sl, fc, lnM, Dd, Dp);
    return c.delta >= maxDeltaCFrac * c.deltaCrit;
  };
  const rare = (lnM: number): boolean => {
    const c = descendantCondition(sl, fc, lnM, Dd, Dp);
    return rareSigma * Math.sqrt(c.Sc) < c.deltaCrit;
  };
  const a = Math.log(massLo);
  const b = Math.log(massHi);
  // boundary between a predicate true at the low (collapsed) or high (rare) end and false at the other
  const edge = (pred: (x: number) => boolean, trueAtLow: boolean): number => {
    const atLo = pred(a);
    const atHi = pred(b);
    if (trueAtLow ? !atLo : !atHi) return trueAtLow ? -Infinity : Infinity;
    if (trueAtLow ? atHi : atLo) return trueAtLow ? Infinity : -Infinity;
    let lo = a;
    let hi = b;
    for (let i = 0; i < 60; i++) {
      const mid = 0.5 * (lo + hi);
      if (pred(mid) === trueAtLow) lo = mid;
      else hi = mid;
    }
    return trueAtLow ? lo : hi;
  };
  return { lnMassCollapsed: edge(collapsed, true), lnMassRare: edge(rare, false) };
}

/** Draws the progenitors of every descendant; returns the number appended. */
export function sampleProgenitors(o: ProgenitorInput, record?: ProgenitorRecord): number {
  const { sigma, firstCrossing: fc, mass, pos, boxSize, rng, out } = o;
  const { minMass, haloMassCorrection, maxDeltaCFrac, rareSigma } = o.params;
  const tabulated = o.method === 'mass-limited' || o.method === 'number-limited';
  if (tabulated && !o.table) throw new Error(`sampleProgenitors: method ${o.method} needs a descendant table`);
  const table = o.table!;
  const n = mass.length;
  if (pos.length !== 3 * n) throw new Error(`sampleProgenitors: pos has ${pos.length} entries, expected 3 x ${n}`);
  if (!(o.zProg > o.zDesc)) throw new Error(`sampleProgenitors: zProg = ${o.zProg}: expected a redshift above zDesc = ${o.zDesc}`);
  const cosmo = sigma.sig.power.cosmo;
  const Dd = growthFactor(cosmo, o.zDesc);
  const Dp = growthFactor(cosmo, o.zProg);
  const radiusFactor = 3 / (4 * Math.PI * sigma.sig.rhoM);
  let massLo = Infinity;
  let massHi = 0;
  for (let d = 0; d < n; d++) {
    massLo = Math.min(massLo, mass[d]!);
    massHi = Math.max(massHi, mass[d]!);
  }
  const th = n > 0 ? descendantThresholds(sigma, fc, Dd, Dp, maxDeltaCFrac, rareSigma, massLo, massHi) : { lnMassCollapsed: -Infinity, lnMassRare: Infinity };
  const massFloor = minMass / o.params.bufferFactor;
  const partition: PartitionContext = { sl: sigma, fc, Dp, minMass, massFloor, nuFactor: haloMassCorrection };
  const split: SplitContext = {
    sl: sigma,
    deltaC: o.params.deltaC,
    Dd,
    Dp,
    massFloor,
    G0: o.params.parkinsonG0,
    gamma1: o.params.parkinsonGamma1,
    gamma2: o.params.parkinsonGamma2,
  };
  const draws: number[] = [];
  let buf = new Float64Array(256);
  const off = new Float64Array(3);
  const start = out.count;
  for (let d = 0; d < n; d++) {
    const Md = mass[d]!;
    const lnMd = Math.log(Md);
    let nb = 0;
    let target: number;
    let drawn = 0;
    if (lnMd <= th.lnMassCollapsed) {
      // already collapsed at z_prog: the halo is its own progenitor
      buf[nb++] = Md;
      target = Md;
      drawn = Md;
    } else if (!tabulated) {
      draws.length = 0;
      if (o.method === 'partition') partitionDraws(Md, descendantCondition(sigma, fc, lnMd, Dd, Dp).delta, partition, rng, draws);
      else binarySplitDraws(Md, split, rng, draws);
      if (draws.length > buf.length) buf = new Float64Array(2 * draws.length);
      for (const m of draws) {
        buf[nb++] = m;
        drawn += m;
      }
      target = Md;
    } else {
      table.locate(lnMd);
      if (o.method === 'number-limited') {
        target = table.expectedM();
        const nh = rng.poisson(table.expectedN());
        if (nh > buf.length) buf = new Float64Array(2 * nh);
        for (let h = 0; h < nh; h++) {
          const m = Md * Math.exp(table.drawLnRatio(Math.log(1 - rng.uniform())));
          buf[nb++] = m;
          drawn += m;
        }
      } else {
        target = table.expectedM() * haloMassCorrection;
        if (lnMd >= th.lnMassRare) {
          buf[nb++] = target;
          drawn = target;
        } else {
          while (drawn < target) {
            const m = Md * Math.exp(table.drawLnRatio(Math.log(1 - rng.uniform())));
            if (nb === buf.length) {
              const b = new Float64Array(2 * nb);
              b.set(buf);
              buf = b;
            }
            buf[nb++] = m;
            drawn += m;
          }
          if (nb > 0) {
            const r = fixMassSample(buf, nb, drawn, target, rng);
            nb = r.n;
            drawn = r.total;
          }
        }
      }
    }
    if (record) {
      record.target[d] = target;
      record.drawn[d] = drawn;
    }
    const Rd = Math.cbrt(radiusFactor * Md);
    const cx = pos[3 * d]!;
    const cy = pos[3 * d + 1]!;
    const cz = pos[3 * d + 2]!;
    for (let h = 0; h < nb; h++) {
      const m = buf[h]!;
      if (!(m >= minMass)) continue;
      const r = Math.max(0, Rd - Math.cbrt(radiusFactor * m));
      pointInBall(rng, r, off);
      out.push(m, wrapCoord(cx + off[0]!, boxSize), wrapCoord(cy + off[1]!, boxSize), wrapCoord(cz + off[2]!, boxSize), d);
    }
  }
  return out.count - start;
}
