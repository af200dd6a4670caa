/**
 * Linear matter power spectrum P(k, z) = P0(k) D(z)^2, k in h/Mpc, P in (Mpc/h)^3.
 *
 * P0 is either A k^n_s T(k)^2 with A fixed by sigma8 (top-hat R = 8 Mpc/h), or a user table
 * ({@link PowerSpectrumTable}, z = 0). A table keeps its own amplitude by default (it is taken to be the
 * spectrum the user wants, e.g. from a Boltzmann code); pass `renormalize: true` to rescale it to the
 * cosmology's sigma8 instead.
 */
import { readFileSync } from 'node:fs';
import { growthFactor } from './background.js';
import { simpson } from './numeric.js';
import type { Cosmology } from './params.js';
import { makeTransfer, type TransferFunction, type TransferModel } from './transfer.js';

/**
 * How a table is continued beyond its largest k:
 * - `cdm` (default): ln P = ln P_last + b ln(k/k_last) + 2 ln[ln(k/k_s) / ln(k_last/k_s)], i.e. P ∝ k^b ln²(k/k_s),
 *   the high-k form of a CDM spectrum (T(k) ∝ ln k / k², Bardeen et al. 1986 Eq. G3; Eisenstein & Hu 1998
 *   Eq. 29), with b and k_s fitted by least squares to the rows of the last {@link TAIL_FIT_DEX} dex. Its
 *   second-order Taylor expansion at k_last is CCL's continuation (value, slope and curvature of ln P in ln k
 *   at the table's end: `ccl_f2d.c`, `extrap_order_hik = 2`), but the curvature then decays as
 *   −2/ln²(k/k_s), as that of a CDM spectrum does, instead of staying constant.
 * - `quadratic`: CCL's continuation itself, ln P = ln P_last + s (x − x_last) + c (x − x_last)² / 2 with
 *   x = ln k and s, c the slope and curvature of the same fit at the end. The constant curvature bends the
 *   spectrum down too fast far from the table: with an EH no-wiggle table ending at k = 10 h/Mpc (10 rows
 *   per dex), σ(10^4 Msun/h) comes out 3.2% low and n(10^4 Msun/h) 13% low, against +0.4% and +1.1% with
 *   `cdm` (test/cosmo/power-table.test.ts).
 * - `power-law`: the straight line in ln P vs ln k through the last two rows (σ(10^4 Msun/h) 12% high,
 *   n(10^8 Msun/h) 4.5% high).
 * A table whose tail is not concave in ln P vs ln k (no fit with curvature < 0) is continued as `power-law`
 * under every choice. Below the smallest k the table is always continued as the power law through its
 * first two rows (CCL's `extrap_order_lok = 1`): for k → 0, P ∝ k^n_s.
 */
export type HighKContinuation = 'cdm' | 'quadratic' | 'power-law';
export const HIGH_K_CONTINUATIONS: readonly HighKContinuation[] = ['cdm', 'quadratic', 'power-law'];

/** Width in dex of the table's end used to fit the high-k continuation (at least its last 3 rows are used). */
export const TAIL_FIT_DEX = 0.2;

export interface PowerTableOptions {
  /** Continuation beyond the largest k (default `cdm`, see {@link HighKContinuation}). */
  highK?: HighKContinuation;
}

/** Fitted high-k tail: ln P = y + b d + 2 ln(1 + d/u), d = ln k − x, u = x − ln k_s (u = ∞: power law). */
interface Tail {
  x: number;
  y: number;
  b: number;
  u: number;
  /** Rows used for the fit. */
  rows: number;
}

/**
 * Least-squares fit of ln P = a + b x + 2 ln(x − s) (x = ln k) to the rows from i0 on; b and u = x_last − s
 * (s < x_i0). Returns u = ∞ (a power law with the chord slope of the last two rows) when the rows are not
 * concave or the best s runs off to −∞.
 */
function fitTail(X: Float64Array, Y: Float64Array, i0: number): Tail {
  const n = X.length;
  const xl = X[n - 1]!;
  const yl = Y[n - 1]!;
  const chord = (yl - Y[n - 2]!) / (xl - X[n - 2]!);
  const powerLaw: Tail = { x: xl, y: yl, b: chord, u: Infinity, rows: 2 };
  const m = n - i0;
  if (m < 3) return powerLaw;
  // concave at all? (second divided difference of the first, middle and last fitted rows)
  const im = i0 + (m >> 1);
  const dd = ((yl - Y[im]!) / (xl - X[im]!) - (Y[im]! - Y[i0]!) / (X[im]! - X[i0]!)) / (xl - X[i0]!);
  if (!(dd < 0)) return powerLaw;
  const x0 = X[i0]!;
  // for a given t = x_i0 − s, (a, b) by linear least squares; returns the residual sum of squares
  const solve = (t: number): { r: number; b: number } => {
    const s = x0 - t;
    let sx = 0, sz = 0, sxx = 0, sxz = 0;
    for (let i = i0; i < n; i++) {
      const x = X[i]! - xl; // centred for conditioning
      const z = Y[i]! - 2 * Math.log(X[i]! - s);
      sx += x;
      sz += z;
      sxx += x * x;
      sxz += x * z;
    }
    const b = (m * sxz - sx * sz) / (m * sxx - sx * sx);
    const a = (sz - b * sx) / m;
    let r = 0;
    for (let i = i0; i < n; i++) {
      const e = Y[i]! - 2 * Math.log(X[i]! - s) - a - b * (X[i]! - xl);
      r += e * e;
    }
    return { r, b };
  };
  // scan ln t on [-8, 8] (t from 3e-4 to 3e3 in ln k), then golden-section refinement
  const LO = -8, HI = 8, STEP = 0.05;
  let best = LO;
  let bestR = Infinity;
  for (let lt = LO; lt <= HI + 1e-9; lt += STEP) {
    const r = solve(Math.exp(lt)).r;
    if (r < bestR) {
      bestR = r;
      best = lt;
    }
  }
  if (best >= HI - STEP / 2) return powerLaw; // curvature -> 0: nothing to gain over a power law
  let lo = best - STEP;
  let hi = best + STEP;
  const g = (Math.sqrt(5) - 1) / 2;
  for (let it = 0; it < 50; it++) {
    const m1 = hi - g * (hi - lo);
    const m2 = lo + g * (hi - lo);
    if (solve(Math.exp(m1)).r < solve(Math.exp(m2)).r) hi = m2;
    else lo = m1;
  }
  const t = Math.exp((lo + hi) / 2);
  return { x: xl, y: yl, b: solve(t).b, u: xl - (x0 - t), rows: m };
}

/**
 * Two-column tabulated linear P(k) at z = 0: k [h/Mpc], P [(Mpc/h)^3]; linear interpolation of ln P in ln k
 * inside the table, power-law continuation below its first row and a curved continuation above its last
 * ({@link HighKContinuation}).
 */
export class PowerSpectrumTable {
  readonly lnk: Float64Array;
  readonly lnP: Float64Array;
  readonly highK: HighKContinuation;
  private readonly tail: Tail;

  private constructor(
    k: ArrayLike<number>,
    P: ArrayLike<number>,
    readonly source: string,
    opts: PowerTableOptions = {},
  ) {
    const n = k.length;
    if (n < 2 || P.length !== n) throw new Error(`${source}: a power-spectrum table needs at least 2 rows of (k, P)`);
    this.highK = opts.highK ?? 'cdm';
    if (!HIGH_K_CONTINUATIONS.includes(this.highK)) {
      throw new Error(`${source}: highK must be one of ${HIGH_K_CONTINUATIONS.join(', ')}, got "${String(this.highK)}"`);
    }
    this.lnk = new Float64Array(n);
    this.lnP = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const ki = k[i]!;
      const Pi = P[i]!;
      if (!(ki > 0) || !(Pi > 0) || !Number.isFinite(ki) || !Number.isFinite(Pi)) {
        throw new Error(`${source}: row ${i + 1}: expected positive finite k [h/Mpc] and P [(Mpc/h)^3], got k = ${ki}, P = ${Pi}`);
      }
      this.lnk[i] = Math.log(ki);
      this.lnP[i] = Math.log(Pi);
      if (i > 0 && !(this.lnk[i]! > this.lnk[i - 1]!)) throw new Error(`${source}: row ${i + 1}: expected k to increase strictly, got k = ${ki} after ${k[i - 1]}`);
    }
    let i0 = n - 1;
    const xFit = this.lnk[n - 1]! - TAIL_FIT_DEX * Math.LN10 - 1e-6; // slack for k rounded in the file
    while (i0 > 0 && this.lnk[i0 - 1]! >= xFit) i0--;
    this.tail = this.highK === 'power-law' ? fitTail(this.lnk, this.lnP, n - 2) : fitTail(this.lnk, this.lnP, Math.max(0, Math.min(i0, n - 3)));
  }

  /** Table from arrays (k [h/Mpc], P [(Mpc/h)^3]). */
  static fromArrays(k: ArrayLike<number>, P: ArrayLike<number>, source = 'power-spectrum table', opts: PowerTableOptions = {}): PowerSpectrumTable {
    return new PowerSpectrumTable(k, P, source, opts);
  }

  /** Parses text: two (or more; the first two are used) whitespace- or comma-separated columns; `#` starts a comment. */
  static parse(text: string, source = 'power-spectrum table', opts: PowerTableOptions = {}): PowerSpectrumTable {
    const k: number[] = [];
    const P: number[] = [];
    const lines = text.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.replace(/#.*/, '').trim();
      if (!line) continue;
      const parts = line.split(/[\s,]+/);
      const a = Number(parts[0]);
      const b = Number(parts[1]);
      if (parts.length < 2 || !Number.isFinite(a) || !Number.isFinite(b)) {
        throw new Error(`${source}: line ${i + 1}: expected two numbers "k P", got "${lines[i]}"`);
      }
      k.push(a);
      P.push(b);
    }
    return new PowerSpectrumTable(k, P, source, opts);
  }

  /** Loads a table from a text file. */
  static load(path: string, opts: PowerTableOptions = {}): PowerSpectrumTable {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`${path}: cannot read power-spectrum table (${(err as Error).message})`);
    }
    return PowerSpectrumTable.parse(text, path, opts);
  }

  get kmin(): number {
    return Math.exp(this.lnk[0]!);
  }
  get kmax(): number {
    return Math.exp(this.lnk[this.lnk.length - 1]!);
  }

  /** One line describing the high-k continuation actually used (for warnings). */
  describeHighK(): string {
    const t = this.tail;
    const kl = this.kmax.toPrecision(3);
    if (!Number.isFinite(t.u)) return `a power law P ∝ k^${t.b.toFixed(3)} through the last two rows`;
    const fit = `fitted to the last ${t.rows} rows (k ≥ ${Math.exp(this.lnk[this.lnk.length - t.rows]!).toPrecision(3)} h/Mpc)`;
    if (this.highK === 'quadratic') {
      return `ln P quadratic in ln k (slope ${(t.b + 2 / t.u).toFixed(3)}, curvature ${(-2 / (t.u * t.u)).toFixed(4)} at k = ${kl} h/Mpc) ${fit}`;
    }
    return `P ∝ k^${t.b.toFixed(3)} ln²(k/${Math.exp(t.x - t.u).toPrecision(3)} h/Mpc) ${fit}`;
  }

  /** P(k) [(Mpc/h)^3] at k [h/Mpc]. */
  at(k: number): number {
    const x = Math.log(k);
    const X = this.lnk;
    const Y = this.lnP;
    const n = X.length;
    if (x > X[n - 1]!) return Math.exp(this.continuation(x - X[n - 1]!));
    let i: number;
    if (x <= X[0]!) i = 0;
    else {
      let lo = 0;
      let hi = n - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (X[mid]! > x) hi = mid;
        else lo = mid;
      }
      i = lo;
    }
    const t = (x - X[i]!) / (X[i + 1]! - X[i]!);
    return Math.exp(Y[i]! + t * (Y[i + 1]! - Y[i]!));
  }

  /** ln P at d = ln k − ln k_last > 0. */
  private continuation(d: number): number {
    const { y, b, u } = this.tail;
    if (!Number.isFinite(u)) return y + b * d;
    if (this.highK === 'quadratic') return y + (b + 2 / u) * d - (d * d) / (u * u);
    return y + b * d + 2 * Math.log1p(d / u);
  }
}

export interface LinearPowerOptions {
  /** Transfer function when no table is given (default `eh`). */
  transfer?: TransferModel;
  /** Tabulated z = 0 spectrum used instead of the transfer function. */
  table?: PowerSpectrumTable;
  /** Rescale the table to the cosmology's sigma8 (default false: keep the table's amplitude). */
  renormalize?: boolean;
}

/** Top-hat window W(x) = 3 (sin x - x cos x) / x^3. */
export function tophatWindow(x: number): number {
  if (x < 1e-2) {
    const x2 = x * x;
    return 1 - x2 / 10 + (x2 * x2) / 280;
  }
  return (3 * (Math.sin(x) - x * Math.cos(x))) / (x * x * x);
}

/** dW/dx of the top-hat window, (3/x) (sin x / x - W). */
export function tophatWindowDeriv(x: number): number {
  if (x < 1e-2) {
    const x2 = x * x;
    return -x / 5 + (x * x2) / 70;
  }
  return (3 / x) * (Math.sin(x) / x - tophatWindow(x));
}

/** The ln k integration grid shared by sigma(R), sigma(M) and halofit: 1e-7 … 1e6 h/Mpc. */
const LNK_MIN = Math.log(1e-7);
const LNK_MAX = Math.log(1e6);
const DLNK = 0.002;
/** Top-hat integrals are cut at k R = X_MAX (the tail is below 1e-10 of the total). */
const X_MAX = 400;

/**
 * An integral "reaches" the k range that holds all but REACH_TAIL of its value at each end; it reaches past a
 * table when that range extends beyond the table by more than the factor REACH_FACTOR. With an EH no-wiggle
 * table ending at k_max = 10 h/Mpc (10 rows per dex), the first σ(M) to reach past it is at M ≈ 5e9 Msun/h
 * (R ≈ 0.25 Mpc/h, 99% of σ² below k ≈ 12.5 h/Mpc), where a power-law continuation makes n(M) 0.2% high and
 * the default one leaves the 0.06% error of the table's interpolation; at 1e8 Msun/h the reach is 46 h/Mpc.
 */
export const REACH_TAIL = 0.01;
export const REACH_FACTOR = 1.25;

/** k range [h/Mpc] holding all but {@link REACH_TAIL} of an integral at each end. */
export interface KReach {
  kLo: number;
  kHi: number;
}

/** Reach of an integrand sampled at lnk[i0 + j], j = 0..y.length-1 (trapezoid cumulative sums). */
function reachOf(y: Float64Array, i0: number): KReach {
  let total = 0;
  for (let j = 1; j < y.length; j++) total += 0.5 * (y[j - 1]! + y[j]!);
  const lo = REACH_TAIL * total;
  const hi = (1 - REACH_TAIL) * total;
  let c = 0;
  let jLo = 0;
  let jHi = y.length - 1;
  let seenLo = false;
  for (let j = 1; j < y.length; j++) {
    c += 0.5 * (y[j - 1]! + y[j]!);
    if (!seenLo && c >= lo) {
      jLo = j;
      seenLo = true;
    }
    if (c >= hi) {
      jHi = j;
      break;
    }
  }
  return { kLo: Math.exp(LNK_MIN + (i0 + jLo) * DLNK), kHi: Math.exp(LNK_MIN + (i0 + jHi) * DLNK) };
}

/** Linear matter power spectrum of one cosmology (see the module comment). */
export class LinearPower {
  /** Grid of ln k [h/Mpc] for integrals. */
  readonly lnk: Float64Array;
  /** Dimensionless Delta^2(k) = k^3 P0(k) / (2 pi^2) on the grid, z = 0. */
  readonly delta2: Float64Array;
  readonly dlnk = DLNK;
  /** Multiplies k^n_s T^2 (transfer) or the table values. */
  readonly amplitude: number;
  readonly transfer: TransferModel | 'table';
  /** The tabulated spectrum, when one was given. */
  readonly table?: PowerSpectrumTable;
  private readonly shape: (k: number) => number;
  /** Widest k range [h/Mpc] that the results asked of this spectrum so far depend on (see {@link noteReach}). */
  private reachLo = Infinity;
  private reachHi = 0;
  private reachWhat = new Set<string>();

  constructor(
    readonly cosmo: Cosmology,
    opts: LinearPowerOptions = {},
  ) {
    if (opts.table) {
      const table = opts.table;
      this.table = table;
      this.transfer = 'table';
      this.shape = (k) => table.at(k);
    } else {
      const model = opts.transfer ?? 'eh';
      const T: TransferFunction = makeTransfer(cosmo, model);
      this.transfer = model;
      const ns = cosmo.n_s;
      this.shape = (k) => {
        const t = T(k);
        return Math.pow(k, ns) * t * t;
      };
    }
    const n = Math.round((LNK_MAX - LNK_MIN) / DLNK) + 1;
    this.lnk = new Float64Array(n);
    this.delta2 = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const lk = LNK_MIN + i * DLNK;
      const k = Math.exp(lk);
      this.lnk[i] = lk;
      this.delta2[i] = (k * k * k * this.shape(k)) / (2 * Math.PI * Math.PI);
    }
    const normalize = !opts.table || opts.renormalize === true;
    let amp = 1;
    if (normalize) {
      const r = this.sigma2UnitReach(8);
      if (opts.table) this.noteReach(r.reach, 'the sigma8 normalisation');
      amp = (cosmo.sigma8 / Math.sqrt(r.sigma2)) ** 2;
    }
    this.amplitude = amp;
    if (amp !== 1) for (let i = 0; i < n; i++) this.delta2[i] = this.delta2[i]! * amp;
  }

  /**
   * Records that a result depends on P(k) over [kLo, kHi] h/Mpc (`what` names the result for the warning).
   * Integrals of this class record themselves; {@link SigmaM} records the reach of the masses asked of it.
   */
  noteReach(r: KReach, what: string): void {
    if (!this.table) return;
    const t = this.table;
    if (r.kHi > t.kmax * REACH_FACTOR || r.kLo < t.kmin / REACH_FACTOR) this.reachWhat.add(what);
    if (r.kLo < this.reachLo) this.reachLo = r.kLo;
    if (r.kHi > this.reachHi) this.reachHi = r.kHi;
  }

  /**
   * With a table: one line saying which results reached past it by more than {@link REACH_FACTOR} (so that
   * they rest on its continuation, {@link HighKContinuation}), naming the k range; undefined otherwise.
   */
  extrapolationWarning(): string | undefined {
    const t = this.table;
    if (!t || this.reachWhat.size === 0) return undefined;
    const parts: string[] = [];
    const f = (v: number): string => v.toPrecision(3);
    if (this.reachHi > t.kmax * REACH_FACTOR) {
      parts.push(`up to k = ${f(this.reachHi)} h/Mpc, past its k_max = ${f(t.kmax)} h/Mpc (continued as ${t.describeHighK()})`);
    }
    if (this.reachLo < t.kmin / REACH_FACTOR) {
      parts.push(`down to k = ${f(this.reachLo)} h/Mpc, below its k_min = ${f(t.kmin)} h/Mpc (continued as a power law through its first two rows)`);
    }
    return `${[...this.reachWhat].join(', ')} use${this.reachWhat.size === 1 ? 's' : ''} the P(k) table ${t.source} ${parts.join(' and ')}; give a table covering k = ${f(Math.min(this.reachLo, t.kmin))}..${f(Math.max(this.reachHi, t.kmax))} h/Mpc for exact values`;
  }

  /** Linear P(k) at z = 0 [(Mpc/h)^3], k in h/Mpc. */
  P0(k: number): number {
    if (this.table && (k > this.table.kmax || k < this.table.kmin)) this.noteReach({ kLo: k, kHi: k }, 'P(k)');
    return this.amplitude * this.shape(k);
  }

  /** Linear P(k, z) = P0(k) D(z)^2 [(Mpc/h)^3]. */
  P(k: number, z = 0): number {
    const D = z === 0 ? 1 : growthFactor(this.cosmo, z);
    return this.P0(k) * D * D;
  }

  /** Index range [i0, i1] of the grid that matters for a window of scale R [Mpc/h]. */
  private range(R: number): [number, number] {
    const lkmax = Math.log(X_MAX / R);
    const i1 = Math.min(this.lnk.length - 1, Math.ceil((lkmax - LNK_MIN) / DLNK));
    return [0, Math.max(i1, 2)];
  }

  private sigma2UnitReach(R: number): { sigma2: number; reach: KReach } {
    const [i0, i1] = this.range(R);
    const y = new Float64Array(i1 - i0 + 1);
    for (let i = i0; i <= i1; i++) {
      const w = tophatWindow(Math.exp(this.lnk[i]!) * R);
      y[i - i0] = this.delta2[i]! * w * w;
    }
    return { sigma2: simpson(y, DLNK), reach: reachOf(y, i0) };
  }

  /** Top-hat variance sigma^2(R) of the linear field at z = 0, R in Mpc/h. */
  sigma2R(R: number): number {
    const r = this.sigma2UnitReach(R);
    this.noteReach(r.reach, 'sigma(R)');
    return r.sigma2;
  }

  /** Top-hat rms sigma(R, z), R in Mpc/h. */
  sigmaR(R: number, z = 0): number {
    const D = z === 0 ? 1 : growthFactor(this.cosmo, z);
    return Math.sqrt(this.sigma2R(R)) * D;
  }

  /**
   * sigma^2(R) and d ln sigma^2 / d ln R at z = 0 (analytic derivative of the integral), with the k range
   * the integral reaches. Records nothing: the caller notes the reach of the results it returns.
   */
  sigma2AndSlope(R: number): { sigma2: number; dlnSigma2dlnR: number; reach: KReach } {
    const [i0, i1] = this.range(R);
    const n = i1 - i0 + 1;
    const y = new Float64Array(n);
    const yd = new Float64Array(n);
    for (let i = i0; i <= i1; i++) {
      const x = Math.exp(this.lnk[i]!) * R;
      const w = tophatWindow(x);
      const d2 = this.delta2[i]!;
      y[i - i0] = d2 * w * w;
      yd[i - i0] = 2 * d2 * w * tophatWindowDeriv(x) * x;
    }
    const s2 = simpson(y, DLNK);
    return { sigma2: s2, dlnSigma2dlnR: simpson(yd, DLNK) / s2, reach: reachOf(y, i0) };
  }
}
