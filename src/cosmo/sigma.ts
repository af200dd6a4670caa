/**
 * sigma(M): rms linear density contrast in a top-hat sphere of Lagrangian mass M [Msun/h], with
 * R = (3 M / (4 pi rho_m))^(1/3) [Mpc/h] and rho_m = Omega_m rho_crit,0 (comoving). Tabulated once at
 * z = 0 on a log-mass grid (cubic spline in ln M of ln sigma and of d ln sigma / d ln M, the latter from
 * the analytic derivative of the variance integral); sigma(M, z) = D(z) sigma(M, 0).
 *
 * With a tabulated spectrum, each sigma(M) or slope asked for records on the spectrum the k range its
 * integral reaches ({@link LinearPower.noteReach}), so that `power.extrapolationWarning()` can say when a
 * result rests on the table's continuation; building the table itself records nothing.
 */
import { growthFactor, rhoMean } from './background.js';
import { CubicSpline } from './numeric.js';
import type { KReach, LinearPower } from './power.js';

export interface SigmaTableOptions {
  /** log10 of the smallest tabulated mass [Msun/h] (default 0). */
  log10Mmin?: number;
  /** log10 of the largest tabulated mass [Msun/h] (default 18). */
  log10Mmax?: number;
  /** Grid step in log10 M (default 0.05). */
  dlog10M?: number;
}

export class SigmaM {
  /** Mean comoving matter density [(Msun/h)/(Mpc/h)^3]. */
  readonly rhoM: number;
  readonly log10Mmin: number;
  readonly log10Mmax: number;
  private readonly lnSigma: CubicSpline;
  private readonly slope: CubicSpline;
  /** ln k_lo and ln k_hi [h/Mpc] reached by the integral at each tabulated mass (only with a table). */
  private readonly lnReach?: { lo: Float64Array; hi: Float64Array };
  /** Smallest and largest tabulated masses asked for so far (the reach is monotonic in M). */
  private askedLo = Infinity;
  private askedHi = 0;

  constructor(
    readonly power: LinearPower,
    opts: SigmaTableOptions = {},
  ) {
    this.rhoM = rhoMean(power.cosmo);
    this.log10Mmin = opts.log10Mmin ?? 0;
    this.log10Mmax = opts.log10Mmax ?? 18;
    const step = opts.dlog10M ?? 0.05;
    if (!(this.log10Mmax > this.log10Mmin) || !(step > 0)) throw new Error('SigmaM: invalid mass grid');
    const n = Math.max(4, Math.ceil((this.log10Mmax - this.log10Mmin) / step) + 1);
    const lnM = new Float64Array(n);
    const lnS = new Float64Array(n);
    const sl = new Float64Array(n);
    const reach = power.table ? { lo: new Float64Array(n), hi: new Float64Array(n) } : undefined;
    for (let i = 0; i < n; i++) {
      const l10 = this.log10Mmin + ((this.log10Mmax - this.log10Mmin) * i) / (n - 1);
      const M = Math.pow(10, l10);
      const { sigma2, dlnSigma2dlnR, reach: r } = power.sigma2AndSlope(this.radius(M));
      if (reach) {
        reach.lo[i] = Math.log(r.kLo);
        reach.hi[i] = Math.log(r.kHi);
      }
      lnM[i] = Math.log(M);
      lnS[i] = 0.5 * Math.log(sigma2);
      sl[i] = dlnSigma2dlnR / 6; // d ln sigma / d ln M = (1/2)(1/3) d ln sigma^2 / d ln R
    }
    this.lnSigma = new CubicSpline(lnM, lnS);
    this.slope = new CubicSpline(lnM, sl);
    this.lnReach = reach;
  }

  /** Lagrangian radius [Mpc/h] of mass M [Msun/h]. */
  radius(M: number): number {
    return Math.cbrt((3 * M) / (4 * Math.PI * this.rhoM));
  }

  /** Lagrangian mass [Msun/h] of radius R [Mpc/h]. */
  mass(R: number): number {
    return (4 * Math.PI * this.rhoM * R * R * R) / 3;
  }

  private inRange(M: number): boolean {
    const l = Math.log10(M);
    return l >= this.log10Mmin - 1e-12 && l <= this.log10Mmax + 1e-12;
  }

  /**
   * Records the reach of the integral at a tabulated mass M (linear interpolation of ln k in log10 M between
   * nodes) when M is a new extreme: both ends of the reach decrease with M, so the extremes bound it.
   */
  private noteReach(M: number): void {
    const r = this.lnReach;
    if (!r || (M >= this.askedLo && M <= this.askedHi)) return;
    this.askedLo = Math.min(this.askedLo, M);
    this.askedHi = Math.max(this.askedHi, M);
    const n = r.lo.length;
    const t = ((Math.log10(M) - this.log10Mmin) / (this.log10Mmax - this.log10Mmin)) * (n - 1);
    const i = Math.min(n - 2, Math.max(0, Math.floor(t)));
    const f = Math.min(1, Math.max(0, t - i));
    const at = (a: Float64Array): number => Math.exp(a[i]! + f * (a[i + 1]! - a[i]!));
    const reach: KReach = { kLo: at(r.lo), kHi: at(r.hi) };
    this.power.noteReach(reach, 'sigma(M)');
  }

  /** sigma(M, z) = D(z) sigma(M, 0); direct integration outside the tabulated range. */
  sigma(M: number, z = 0): number {
    let s0: number;
    if (this.inRange(M)) {
      this.noteReach(M);
      s0 = Math.exp(this.lnSigma.at(Math.log(M)));
    } else {
      const r = this.power.sigma2AndSlope(this.radius(M));
      this.power.noteReach(r.reach, 'sigma(M)');
      s0 = Math.sqrt(r.sigma2);
    }
    return z === 0 ? s0 : s0 * growthFactor(this.power.cosmo, z);
  }

  /** d ln sigma / d ln M (negative; redshift-independent). */
  dlnSigmadlnM(M: number): number {
    if (this.inRange(M)) {
      this.noteReach(M);
      return this.slope.at(Math.log(M));
    }
    const r = this.power.sigma2AndSlope(this.radius(M));
    this.power.noteReach(r.reach, 'sigma(M)');
    return r.dlnSigma2dlnR / 6;
  }
}
