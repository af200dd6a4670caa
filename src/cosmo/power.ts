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

/** Two-column tabulated linear P(k) at z = 0: k [h/Mpc], P [(Mpc/h)^3]; log-log linear interpolation,
 * power-law extrapolation from the end segments. */
export class PowerSpectrumTable {
  readonly lnk: Float64Array;
  readonly lnP: Float64Array;

  private constructor(
    k: ArrayLike<number>,
    P: ArrayLike<number>,
    readonly source: string,
  ) {
    const n = k.length;
    if (n < 2 || P.length !== n) throw new Error(`${source}: a power-spectrum table needs at least 2 rows of (k, P)`);
    this.lnk = new Float64Array(n);
    this.lnP = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const ki = k[i]!;
      const Pi = P[i]!;
      if (!(ki > 0) || !(Pi > 0) || !Number.isFinite(ki) || !Number.isFinite(Pi)) {
        throw new Error(`${source}: row ${i + 1}: k and P must be positive finite numbers (got ${ki}, ${Pi})`);
      }
      this.lnk[i] = Math.log(ki);
      this.lnP[i] = Math.log(Pi);
      if (i > 0 && !(this.lnk[i]! > this.lnk[i - 1]!)) throw new Error(`${source}: row ${i + 1}: k must increase strictly`);
    }
  }

  /** Table from arrays (k [h/Mpc], P [(Mpc/h)^3]). */
  static fromArrays(k: ArrayLike<number>, P: ArrayLike<number>, source = 'power-spectrum table'): PowerSpectrumTable {
    return new PowerSpectrumTable(k, P, source);
  }

  /** Parses text: two (or more; the first two are used) whitespace- or comma-separated columns; `#` starts a comment. */
  static parse(text: string, source = 'power-spectrum table'): PowerSpectrumTable {
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
    return new PowerSpectrumTable(k, P, source);
  }

  /** Loads a table from a text file. */
  static load(path: string): PowerSpectrumTable {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new Error(`${path}: cannot read power-spectrum table (${(err as Error).message})`);
    }
    return PowerSpectrumTable.parse(text, path);
  }

  get kmin(): number {
    return Math.exp(this.lnk[0]!);
  }
  get kmax(): number {
    return Math.exp(this.lnk[this.lnk.length - 1]!);
  }

  /** P(k) [(Mpc/h)^3] at k [h/Mpc]. */
  at(k: number): number {
    const x = Math.log(k);
    const X = this.lnk;
    const Y = this.lnP;
    const n = X.length;
    let i: number;
    if (x <= X[0]!) i = 0;
    else if (x >= X[n - 1]!) i = n - 2;
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
  private readonly shape: (k: number) => number;

  constructor(
    readonly cosmo: Cosmology,
    opts: LinearPowerOptions = {},
  ) {
    if (opts.table) {
      const table = opts.table;
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
      const s8 = Math.sqrt(this.sigma2Unit(8));
      amp = (cosmo.sigma8 / s8) ** 2;
    }
    this.amplitude = amp;
    if (amp !== 1) for (let i = 0; i < n; i++) this.delta2[i] = this.delta2[i]! * amp;
  }

  /** Linear P(k) at z = 0 [(Mpc/h)^3], k in h/Mpc. */
  P0(k: number): number {
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

  private sigma2Unit(R: number): number {
    const [i0, i1] = this.range(R);
    const y = new Float64Array(i1 - i0 + 1);
    for (let i = i0; i <= i1; i++) {
      const w = tophatWindow(Math.exp(this.lnk[i]!) * R);
      y[i - i0] = this.delta2[i]! * w * w;
    }
    return simpson(y, DLNK);
  }

  /** Top-hat variance sigma^2(R) of the linear field at z = 0, R in Mpc/h. */
  sigma2R(R: number): number {
    return this.sigma2Unit(R);
  }

  /** Top-hat rms sigma(R, z), R in Mpc/h. */
  sigmaR(R: number, z = 0): number {
    const D = z === 0 ? 1 : growthFactor(this.cosmo, z);
    return Math.sqrt(this.sigma2Unit(R)) * D;
  }

  /** sigma^2(R) and d ln sigma^2 / d ln R at z = 0 (analytic derivative of the integral). */
  sigma2AndSlope(R: number): { sigma2: number; dlnSigma2dlnR: number } {
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
    return { sigma2: s2, dlnSigma2dlnR: simpson(yd, DLNK) / s2 };
  }
}
