/**
 * Fast evaluation of the conditional mass function for table building: sigma(M) on a uniform ln M grid
 * (linear interpolation, no search) and the first-crossing distributions of src/cosmo/conditional.ts with
 * the Taylor series of the ST barrier summed by recurrence (one pow per call). Same equations as
 * `conditionalFirstCrossing` (Davies et al. 2025, Eqs. 1-4); test/astro/sampler checks them against it.
 */
import type { ConditionalModel, EllipsoidalBarrier } from '../../cosmo/conditional.js';
import type { SigmaM } from '../../cosmo/sigma.js';

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** First-crossing mass fraction per unit S, f(S | S_c, delta_cond), for one model and barrier. */
export class FirstCrossing {
  private readonly sa: number;
  private readonly coef: number;
  private readonly alpha: number;
  private readonly st: boolean;

  constructor(
    model: ConditionalModel,
    barrier: EllipsoidalBarrier,
    readonly deltaC: number,
  ) {
    if (model !== 'st' && model !== 'eps') throw new Error(`conditional mass function model = ${String(model)}: expected 'st' or 'eps'`);
    this.st = model === 'st';
    this.alpha = barrier.alpha;
    this.sa = Math.sqrt(barrier.a) * deltaC;
    // B(S) = sa + coef S^alpha
    this.coef = this.sa * barrier.beta * Math.pow(barrier.a * deltaC * deltaC, -barrier.alpha);
  }

  /** The collapse barrier at S (delta_c for EPS). */
  barrier(S: number): number {
    return this.st ? this.sa + this.coef * Math.pow(S, this.alpha) : this.deltaC;
  }

  /**
   * The barrier's Taylor series about S evaluated at S_c, B(S) + sum_{n=1}^{5} (S_c - S)^n / n! B^(n)(S), the
   * T of Eq. 4 plus delta_cond (delta_c for EPS).
   */
  taylorBarrier(S: number, Sc: number): number {
    if (!this.st) return this.deltaC;
    const alpha = this.alpha;
    const Sa = Math.pow(S, alpha);
    let T = this.sa + this.coef * Sa;
    let fall = 1;
    let term = 1;
    let q = Sa;
    for (let n = 1; n <= 5; n++) {
      fall *= alpha - n + 1;
      term *= (Sc - S) / n;
      q /= S;
      T += term * this.coef * fall * q;
    }
    return T;
  }

  /** True for the ellipsoidal (Sheth-Tormen) barrier. */
  get isST(): boolean {
    return this.st;
  }

  /** f(S | S_c, delta_cond): 0 where S <= S_c or the region has collapsed. */
  f(S: number, Sc: number, delta: number): number {
    const dS = S - Sc;
    if (!(dS > 0)) return 0;
    if (!this.st) {
      const nu = this.deltaC - delta;
      if (!(nu > 0)) return 0;
      return ((nu * INV_SQRT_2PI) / (dS * Math.sqrt(dS))) * Math.exp((-nu * nu) / (2 * dS));
    }
    const alpha = this.alpha;
    const Sa = Math.pow(S, alpha);
    const x = this.sa + this.coef * Sa - delta;
    if (!(x > 0)) return 0;
    let T = x;
    let fall = 1;
    let term = 1;
    let q = Sa;
    const c = this.coef;
    for (let n = 1; n <= 5; n++) {
      fall *= alpha - n + 1;
      term *= -dS / n;
      q /= S;
      T += term * c * fall * q;
    }
    return ((Math.abs(T) * INV_SQRT_2PI) / (dS * Math.sqrt(dS))) * Math.exp((-x * x) / (2 * dS));
  }
}

/** sigma(M, z = 0) and d ln sigma / d ln M on a uniform ln M grid [Msun/h], linearly interpolated. */
export class SigmaLookup {
  private readonly lnM0: number;
  private readonly inv: number;
  private readonly lnSigma: Float64Array;
  private readonly slope: Float64Array;
  private readonly n: number;

  /** Covers [massMin, massMax] [Msun/h] with steps of dlnM (default 2e-3: interpolation error < 1e-7). */
  constructor(
    readonly sig: SigmaM,
    massMin: number,
    massMax: number,
    dlnM = 2e-3,
  ) {
    if (!(massMin > 0 && massMax > massMin)) throw new Error(`SigmaLookup: mass range [${massMin}, ${massMax}] Msun/h is empty or not positive`);
    this.lnM0 = Math.log(massMin);
    this.n = Math.ceil((Math.log(massMax) - this.lnM0) / dlnM) + 2;
    this.inv = 1 / dlnM;
    this.lnSigma = new Float64Array(this.n);
    this.slope = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) {
      const M = Math.exp(this.lnM0 + i * dlnM);
      this.lnSigma[i] = Math.log(sig.sigma(M));
      this.slope[i] = sig.dlnSigmadlnM(M);
    }
  }

  /**
   * Writes S = (D sigma(M))^2 and |dS/dln M| = 2 S |d ln sigma/d ln M| at ln M into out[0], out[1];
   * outside the grid it falls back on SigmaM.
   */
  varianceAt(lnM: number, D: number, out: Float64Array): void {
    const g = (lnM - this.lnM0) * this.inv;
    let lnS: number;
    let sl: number;
    if (g >= 0 && g < this.n - 1) {
      const i = g | 0;
      const w = g - i;
      lnS = (1 - w) * this.lnSigma[i]! + w * this.lnSigma[i + 1]!;
      sl = (1 - w) * this.slope[i]! + w * this.slope[i + 1]!;
    } else {
      const M = Math.exp(lnM);
      lnS = Math.log(this.sig.sigma(M));
      sl = this.sig.dlnSigmadlnM(M);
    }
    const s = Math.exp(lnS) * D;
    const S = s * s;
    out[0] = S;
    out[1] = 2 * S * Math.abs(sl);
  }

  /**
   * ln M [Msun/h] of sigma(M, z = 0) = sigma0 (sigma falls with mass): bisection on the grid, then linear
   * interpolation of ln sigma; beyond the grid, the end segment extended.
   */
  lnMassOfSigma0(sigma0: number): number {
    const y = Math.log(sigma0);
    const a = this.lnSigma;
    const dlnM = 1 / this.inv;
    let lo = 0;
    let hi = this.n - 1;
    if (y >= a[0]!) {
      hi = 1;
    } else if (y <= a[hi]!) {
      lo = hi - 1;
    } else {
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (a[mid]! > y) lo = mid;
        else hi = mid;
      }
    }
    const w = (y - a[lo]!) / (a[lo + 1]! - a[lo]!);
    return this.lnM0 + (lo + w) * dlnM;
  }

  /** d ln sigma / d ln M at ln M (negative). */
  slopeAt(lnM: number): number {
    const g = (lnM - this.lnM0) * this.inv;
    if (g >= 0 && g < this.n - 1) {
      const i = g | 0;
      const w = g - i;
      return (1 - w) * this.slope[i]! + w * this.slope[i + 1]!;
    }
    return this.sig.dlnSigmadlnM(Math.exp(lnM));
  }

  /** sigma(M, z = 0). */
  sigma0(lnM: number): number {
    const g = (lnM - this.lnM0) * this.inv;
    if (g >= 0 && g < this.n - 1) {
      const i = g | 0;
      const w = g - i;
      return Math.exp((1 - w) * this.lnSigma[i]! + w * this.lnSigma[i + 1]!);
    }
    return this.sig.sigma(Math.exp(lnM));
  }
}
