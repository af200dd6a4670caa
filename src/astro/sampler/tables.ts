/**
 * Tabulated conditional halo mass function (CHMF) integrals and inverse cumulative distributions for the
 * halo sampler (Davies et al. 2025, Sec. 2.2): for each condition of a regular grid of conditions,
 *   - the expected number N(> M_lo) and mass M_coll(> M_lo) [Msun/h] of halos with M_lo < M < M_cond
 *     (Eq. 5 and Eq. 6), and
 *   - the inverse CDF ln(M / M_cond) at N_prob values of ln p, p = N(> M) / N(> M_lo), uniform in
 *     ln p from minLogProb to 0 (as `Nhalo_inv_table` of the public code),
 * so that a halo mass is a bilinear interpolation in (condition, ln p) with no root finding.
 *
 * Two kinds of condition (both at the redshift z of the halos, in the convention of src/cosmo/conditional.ts:
 * delta linear at z, S = sigma^2(M, z)):
 *   - 'cell': a Lagrangian cell of fixed mass M_cell; the condition is its linear overdensity delta,
 *     tabulated on [deltaMin, maxDeltaCFrac x delta_crit(M_cell)];
 *   - 'descendant': a halo of mass M_desc at z_desc; the condition is ln M_desc, with
 *     delta_cond = B(sigma^2(M_desc, z_desc)) D(z_prog)/D(z_desc) (Sec. 2.2, footnote 12).
 *
 * Integrals per condition: dN/dln M is integrated in t = ln u, u = ln(M_cond / M), on K nodes from u = 1e-8
 * (where the first-crossing distribution vanishes for delta <= 0.99 delta_crit) to ln(M_cond / M_lo), each
 * interval with the integrand taken as exponential in t (exact for power laws and steep cut-offs); the same
 * rule inverts the cumulative sum exactly within an interval.
 */
import { growthFactor } from '../../cosmo/background.js';
import { FirstCrossing, type SigmaLookup } from './chmf.js';
import type { SamplerParams } from './params.js';

/** Nodes of the per-condition mass integrals. */
const K_NODES = 1024;
/** Smallest u = ln(M_cond / M) of the integrals. */
const U_MIN = 1e-8;

export type ChmfSpec = Pick<SamplerParams, 'model' | 'barrier' | 'deltaC'>;

/** The first-crossing distribution of a spec. */
export function firstCrossingOf(spec: ChmfSpec): FirstCrossing {
  return new FirstCrossing(spec.model, spec.barrier, spec.deltaC);
}

/** Table resolution and limits shared by both kinds. */
export type TableParams = ChmfSpec & Pick<SamplerParams, 'nCond' | 'nProb' | 'minLogProb' | 'maxDeltaCFrac' | 'deltaMin'>;

/** Integrals of one condition: totals and the inverse CDF at the table's ln p nodes. */
interface ConditionResult {
  nTot: number;
  mTot: number;
}

/**
 * Integrates dN/dln M of one condition and fills lnRatio[k] = ln(M_k / M_cond) at ln p_k.
 * `sAt(j, u)` returns S and |dS/dln M| at M = M_cond e^-u (u = the node's value).
 */
function integrateCondition(
  Mcond: number,
  Sc: number,
  delta: number,
  lnMlo: number,
  fc: FirstCrossing,
  sAt: (j: number, u: number, out: Float64Array) => void,
  lnp: Float64Array,
  lnRatio: Float64Array,
  offset: number,
): ConditionResult {
  const np = lnp.length;
  const U = Math.log(Mcond) - lnMlo;
  if (!(U > 0)) {
    for (let k = 0; k < np; k++) lnRatio[offset + k] = 0;
    return { nTot: 0, mTot: 0 };
  }
  const t0 = Math.log(Math.min(U_MIN, U / 2));
  const t1 = Math.log(U);
  const dt = (t1 - t0) / (K_NODES - 1);
  const h = new Float64Array(K_NODES); // dN/dt = dN/dlnM * u
  const cum = new Float64Array(K_NODES); // N(> M_j), from M_cond down
  const s = new Float64Array(2);
  let mTot = 0;
  let hmPrev = 0;
  for (let j = 0; j < K_NODES; j++) {
    const u = j === K_NODES - 1 ? U : Math.exp(t0 + j * dt);
    sAt(j, u, s);
    const f = fc.f(s[0]!, Sc, delta);
    const hj = f > 0 ? Math.exp(u) * f * s[1]! * u : 0; // (M_cond / M) f |dS/dlnM| u
    h[j] = hj;
    const hm = hj * Math.exp(-u); // mass weight M / M_cond
    if (j > 0) {
      cum[j] = cum[j - 1]! + expSegment(h[j - 1]!, hj, dt);
      mTot += expSegment(hmPrev, hm, dt);
    }
    hmPrev = hm;
  }
  const nTot = cum[K_NODES - 1]!;
  if (!(nTot > 0)) {
    for (let k = 0; k < np; k++) lnRatio[offset + k] = -U;
    return { nTot: 0, mTot: 0 };
  }
  // Inverse: for each ln p_k (increasing), the node interval holding N = p nTot, solved within it.
  let j = 0;
  for (let k = 0; k < np; k++) {
    const target = Math.exp(lnp[k]!) * nTot;
    if (k === np - 1 || target >= nTot) {
      lnRatio[offset + k] = -U;
      continue;
    }
    while (j < K_NODES - 2 && cum[j + 1]! < target) j++;
    const tj = t0 + j * dt;
    const t = tj + expSegmentInverse(h[j]!, h[j + 1]!, dt, target - cum[j]!);
    lnRatio[offset + k] = -Math.min(U, Math.exp(t));
  }
  return { nTot, mTot: mTot * Mcond };
}

/** ∫_0^dt h(t) dt with ln h linear between the end values (trapezoid where one of them is 0). */
function expSegment(h0: number, h1: number, dt: number): number {
  if (h0 > 0 && h1 > 0) {
    const r = h1 / h0;
    if (Math.abs(r - 1) < 1e-6) return 0.5 * (h0 + h1) * dt;
    return ((h1 - h0) * dt) / Math.log(r);
  }
  return 0.5 * (h0 + h1) * dt;
}

/** The x in [0, dt] where the integral of {@link expSegment} from 0 reaches `c`. */
function expSegmentInverse(h0: number, h1: number, dt: number, c: number): number {
  if (c <= 0) return 0;
  if (h0 > 0 && h1 > 0 && Math.abs(h1 / h0 - 1) >= 1e-6) {
    const sl = Math.log(h1 / h0) / dt;
    const arg = 1 + (sl * c) / h0;
    return arg > 0 ? Math.min(dt, Math.log(arg) / sl) : dt;
  }
  // linear h: c = h0 x + (h1 - h0) x^2 / (2 dt)
  const a = (h1 - h0) / (2 * dt);
  if (Math.abs(a) < 1e-300) return h0 > 0 ? Math.min(dt, c / h0) : dt;
  const disc = h0 * h0 + 4 * a * c;
  return Math.min(dt, Math.max(0, (-h0 + Math.sqrt(Math.max(0, disc))) / (2 * a)));
}

/**
 * CHMF table on a regular condition axis x (delta for cells, ln M_desc for descendants) and ln p axis.
 * Sampling: {@link ChmfTable.locate} once per condition, then {@link ChmfTable.drawLnRatio} per halo.
 */
export class ChmfTable {
  /** ln p nodes, uniform from minLogProb to 0. */
  readonly lnp: Float64Array;
  /** ln(M / M_cond), [nx * np] (condition-major). */
  readonly lnRatio: Float64Array;
  /** Expected number of halos with M_lo < M < M_cond per condition node. */
  readonly nHalo: Float64Array;
  /** Expected mass [Msun/h] in halos with M_lo < M < M_cond per condition node. */
  readonly mColl: Float64Array;
  readonly dx: number;
  readonly dlnp: number;
  /** Interpolation state of the last {@link locate} call. */
  private i0 = 0;
  private w = 0;

  constructor(
    readonly kind: 'cell' | 'descendant',
    /** First and last condition node (delta, or ln M_desc with M in Msun/h). */
    readonly x0: number,
    readonly x1: number,
    readonly nx: number,
    readonly np: number,
    readonly minLogProb: number,
    /** Integration floor M_lo [Msun/h]. */
    readonly massLow: number,
  ) {
    if (!(x1 > x0)) throw new Error(`ChmfTable: condition range [${x0}, ${x1}] is empty`);
    this.dx = (x1 - x0) / (nx - 1);
    this.dlnp = -minLogProb / (np - 1);
    this.lnp = new Float64Array(np);
    for (let k = 0; k < np; k++) this.lnp[k] = minLogProb * (1 - k / (np - 1));
    this.lnp[np - 1] = 0;
    this.lnRatio = new Float64Array(nx * np);
    this.nHalo = new Float64Array(nx);
    this.mColl = new Float64Array(nx);
  }

  /** Condition node x_i. */
  node(i: number): number {
    return i === this.nx - 1 ? this.x1 : this.x0 + i * this.dx;
  }

  /** Sets the condition for the next draws (clamped to the table range). */
  locate(x: number): void {
    let f = (x - this.x0) / this.dx;
    if (!(f > 0)) f = 0;
    if (f > this.nx - 1) f = this.nx - 1;
    let i = Math.floor(f);
    if (i >= this.nx - 1) i = this.nx - 2;
    this.i0 = i;
    this.w = f - i;
  }

  /** Expected number at the located condition (linear interpolation). */
  expectedN(): number {
    return (1 - this.w) * this.nHalo[this.i0]! + this.w * this.nHalo[this.i0 + 1]!;
  }

  /** Expected mass [Msun/h] at the located condition (linear interpolation). */
  expectedM(): number {
    return (1 - this.w) * this.mColl[this.i0]! + this.w * this.mColl[this.i0 + 1]!;
  }

  /**
   * ln(M / M_cond) at the located condition for ln p (bilinear; ln p below minLogProb is clamped to it,
   * as `EvaluateNhaloInv` does). A uniform deviate u in (0, 1] gives ln p = ln u.
   */
  drawLnRatio(lnp: number): number {
    let g = (lnp - this.minLogProb) / this.dlnp;
    if (!(g > 0)) g = 0;
    if (g > this.np - 1) g = this.np - 1;
    let k = Math.floor(g);
    if (k >= this.np - 1) k = this.np - 2;
    const v = g - k;
    const np = this.np;
    const a = this.i0 * np + k;
    const b = a + np;
    const lr = this.lnRatio;
    return (1 - this.w) * ((1 - v) * lr[a]! + v * lr[a + 1]!) + this.w * ((1 - v) * lr[b]! + v * lr[b + 1]!);
  }
}

/**
 * Table for Lagrangian cells of mass cellMass [Msun/h] at redshift z: conditions delta (linear at z) on
 * [deltaMin, maxDeltaCFrac delta_crit], delta_crit = B(sigma^2(M_cell, z)) (`initialise_dNdM_inverse_table`).
 */
export function cellTable(sl: SigmaLookup, z: number, cellMass: number, massLow: number, p: TableParams): ChmfTable {
  if (!(cellMass > 0)) throw new Error(`cellTable: cellMass = ${cellMass}: expected a positive mass in Msun/h`);
  if (!(massLow > 0)) throw new Error(`cellTable: massLow = ${massLow}: expected a positive mass in Msun/h`);
  const fc = firstCrossingOf(p);
  const D = growthFactor(sl.sig.power.cosmo, z);
  const sc = sl.sigma0(Math.log(cellMass)) * D;
  const Sc = sc * sc;
  const dcrit = fc.barrier(Sc);
  const table = new ChmfTable('cell', p.deltaMin, p.maxDeltaCFrac * dcrit, p.nCond, p.nProb, p.minLogProb, massLow);
  // The mass nodes do not depend on delta: S and |dS/dlnM| once.
  const Sj = new Float64Array(K_NODES);
  const dSj = new Float64Array(K_NODES);
  let filled = false;
  const lnMcell = Math.log(cellMass);
  const sAt = (j: number, u: number, out: Float64Array): void => {
    if (!filled) {
      sl.varianceAt(lnMcell - u, D, out);
      Sj[j] = out[0]!;
      dSj[j] = out[1]!;
    }
    out[0] = Sj[j]!;
    out[1] = dSj[j]!;
  };
  const lnMlo = Math.log(massLow);
  for (let i = 0; i < p.nCond; i++) {
    const r = integrateCondition(cellMass, Sc, table.node(i), lnMlo, fc, sAt, table.lnp, table.lnRatio, i * p.nProb);
    filled = true;
    table.nHalo[i] = r.nTot;
    table.mColl[i] = r.mTot;
  }
  return table;
}

/** Condition of a descendant halo for progenitors at zProg: S_c, delta_cond, delta_crit at zProg. */
export interface DescendantCondition {
  /** sigma^2(M_desc, zProg). */
  Sc: number;
  /** B(sigma^2(M_desc, zDesc)) D(zProg) / D(zDesc). */
  delta: number;
  /** Barrier at the condition's scale at zProg, B(S_c). */
  deltaCrit: number;
}

/** Progenitor condition of a descendant of mass Mdesc [Msun/h] (Davies et al. 2025, Sec. 2.2). */
export function descendantCondition(sl: SigmaLookup, fc: FirstCrossing, lnMdesc: number, Ddesc: number, Dprog: number): DescendantCondition {
  const s0 = sl.sigma0(lnMdesc);
  const sd = s0 * Ddesc;
  const sp = s0 * Dprog;
  const Sc = sp * sp;
  return { Sc, delta: (fc.barrier(sd * sd) * Dprog) / Ddesc, deltaCrit: fc.barrier(Sc) };
}

/**
 * Table for descendants of mass in [massMinDesc, massMaxDesc] [Msun/h] at zDesc, progenitors at zProg:
 * conditions ln M_desc. Nodes whose condition is at or above maxDeltaCFrac delta_crit (the descendant has
 * already collapsed at zProg) hold N = 1, M_coll = M_desc, ln(M/M_cond) = 0, as in the public code.
 */
export function descendantTable(
  sl: SigmaLookup,
  zDesc: number,
  zProg: number,
  massMinDesc: number,
  massMaxDesc: number,
  massLow: number,
  p: TableParams,
): ChmfTable {
  if (!(zProg > zDesc)) throw new Error(`descendantTable: zProg = ${zProg}: expected a redshift above zDesc = ${zDesc}`);
  if (!(massMinDesc > 0 && massMaxDesc >= massMinDesc)) {
    throw new Error(`descendantTable: descendant mass range [${massMinDesc}, ${massMaxDesc}] Msun/h is empty or not positive`);
  }
  const fc = firstCrossingOf(p);
  const c = sl.sig.power.cosmo;
  const Dd = growthFactor(c, zDesc);
  const Dp = growthFactor(c, zProg);
  const x0 = Math.log(massMinDesc);
  const x1 = Math.max(Math.log(massMaxDesc), x0 + 1e-3);
  const table = new ChmfTable('descendant', x0, x1, p.nCond, p.nProb, p.minLogProb, massLow);
  const lnMlo = Math.log(massLow);
  for (let i = 0; i < p.nCond; i++) {
    const lnMcond = table.node(i);
    const Mcond = Math.exp(lnMcond);
    const cond = descendantCondition(sl, fc, lnMcond, Dd, Dp);
    if (cond.delta >= p.maxDeltaCFrac * cond.deltaCrit) {
      for (let k = 0; k < p.nProb; k++) table.lnRatio[i * p.nProb + k] = 0;
      table.nHalo[i] = 1;
      table.mColl[i] = Mcond;
      continue;
    }
    const sAt = (_j: number, u: number, out: Float64Array): void => sl.varianceAt(lnMcond - u, Dp, out);
    const r = integrateCondition(Mcond, cond.Sc, cond.delta, lnMlo, fc, sAt, table.lnp, table.lnRatio, i * p.nProb);
    table.nHalo[i] = r.nTot;
    table.mColl[i] = r.mTot;
  }
  return table;
}
