/**
 * Non-linear matter power spectrum from the revised halofit of Takahashi et al. (2012, ApJ 761, 152),
 * for flat ΛCDM with w = -1 (the dark-energy terms of the fit vanish). k in h/Mpc, P in (Mpc/h)^3.
 *
 * The non-linear scale k_sigma solves sigma_G(1/k_sigma, z) = 1 for a Gaussian window,
 * sigma_G^2(R) = ∫ Delta^2_L(k) exp(-k^2 R^2) d ln k; n_eff and the curvature C follow from its first and
 * second logarithmic derivatives there. If the field is linear on every scale of the grid
 * (sigma_G < 1 at k = 1e6 h/Mpc), P_nl = P_lin.
 */
import { growthFactor, omegaMz } from './background.js';
import { bisect, simpson } from './numeric.js';
import type { LinearPower } from './power.js';

export interface HalofitParams {
  /** Non-linear wavenumber [h/Mpc] (Infinity when the field is linear everywhere). */
  ksigma: number;
  neff: number;
  C: number;
  /** Growth factor used (D(z), D(0) = 1). */
  D: number;
}

/** Gaussian-window moments I_j = ∫ Delta^2 y^(2j) e^(-y^2) d ln k, y = k R, at z = 0 scaled by D^2. */
function moments(lp: LinearPower, R: number, D2: number): [number, number, number] {
  const n = lp.lnk.length;
  // e^(-y^2) < 1e-30 beyond y = 8.3: stop there.
  const imax = Math.min(n - 1, Math.ceil((Math.log(8.5 / R) - lp.lnk[0]!) / lp.dlnk));
  const m = Math.max(imax + 1, 3);
  const y0 = new Float64Array(m);
  const y1 = new Float64Array(m);
  const y2 = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const y = Math.exp(lp.lnk[i]!) * R;
    const yy = y * y;
    const g = lp.delta2[i]! * D2 * Math.exp(-yy);
    y0[i] = g;
    y1[i] = g * yy;
    y2[i] = g * yy * yy;
  }
  return [simpson(y0, lp.dlnk), simpson(y1, lp.dlnk), simpson(y2, lp.dlnk)];
}

/** k_sigma, n_eff and C at redshift z. */
export function halofitParams(lp: LinearPower, z: number): HalofitParams {
  const D = z === 0 ? 1 : growthFactor(lp.cosmo, z);
  const D2 = D * D;
  const Rmin = 10 / Math.exp(lp.lnk[lp.lnk.length - 1]!);
  const Rmax = 1e3;
  const g = (lnR: number): number => Math.log(moments(lp, Math.exp(lnR), D2)[0]);
  if (g(Math.log(Rmin)) < 0) return { ksigma: Infinity, neff: NaN, C: NaN, D };
  const lnR = bisect(g, Math.log(Rmin), Math.log(Rmax), 1e-10);
  const R = Math.exp(lnR);
  const [I0, I1, I2] = moments(lp, R, D2);
  const i1 = I1 / I0;
  const i2 = I2 / I0;
  // d ln sigma^2 / d ln R = -2 i1 and d^2 ln sigma^2 / d ln R^2 = -4 i1 + 4 i2 - 4 i1^2, so
  // n_eff = -3 - d ln sigma^2 / d ln R and C = -d^2 ln sigma^2 / d ln R^2.
  const neff = -3 + 2 * i1;
  const C = 4 * i1 - 4 * i2 + 4 * i1 * i1;
  return { ksigma: 1 / R, neff, C, D };
}

/** Takahashi et al. (2012) Delta^2_NL from Delta^2_L at k [h/Mpc], given the halofit parameters. */
export function halofitDelta2(delta2L: number, k: number, p: HalofitParams, omegaM: number): number {
  if (!Number.isFinite(p.ksigma)) return delta2L;
  const n = p.neff;
  const C = p.C;
  const n2 = n * n;
  const n3 = n2 * n;
  const n4 = n2 * n2;
  const an = Math.pow(10, 1.5222 + 2.8553 * n + 2.3706 * n2 + 0.9903 * n3 + 0.225 * n4 - 0.6038 * C);
  const bn = Math.pow(10, -0.5642 + 0.5864 * n + 0.5716 * n2 - 1.5474 * C);
  const cn = Math.pow(10, 0.3698 + 2.0404 * n + 0.8161 * n2 + 0.5869 * C);
  const gamman = 0.1971 - 0.0843 * n + 0.846 * C;
  const alphan = Math.abs(6.0835 + 1.3373 * n - 0.1959 * n2 - 5.5274 * C);
  const betan = 2.0379 - 0.7354 * n + 0.3157 * n2 + 1.249 * n3 + 0.398 * n4 - 0.1682 * C;
  const nun = Math.pow(10, 5.2105 + 3.6902 * n);
  const f1 = Math.pow(omegaM, -0.0307);
  const f2 = Math.pow(omegaM, -0.0585);
  const f3 = Math.pow(omegaM, 0.0743);
  const y = k / p.ksigma;
  const fy = y / 4 + (y * y) / 8;
  const dQ = delta2L * (Math.pow(1 + delta2L, betan) / (1 + alphan * delta2L)) * Math.exp(-fy);
  const dHp = (an * Math.pow(y, 3 * f1)) / (1 + bn * Math.pow(y, f2) + Math.pow(cn * f3 * y, 3 - gamman));
  const dH = dHp / (1 + nun / (y * y)); // mu_n = 0
  return dQ + dH;
}

/** Non-linear P(k, z) [(Mpc/h)^3] for an array of k [h/Mpc] (the halofit parameters are solved once). */
export function halofitPower(lp: LinearPower, k: ArrayLike<number>, z = 0): Float64Array {
  const p = halofitParams(lp, z);
  const om = omegaMz(lp.cosmo, z);
  const out = new Float64Array(k.length);
  for (let i = 0; i < k.length; i++) {
    const kk = k[i]!;
    const Pl = lp.P0(kk) * p.D * p.D;
    const d2l = (kk * kk * kk * Pl) / (2 * Math.PI * Math.PI);
    out[i] = (halofitDelta2(d2l, kk, p, om) * 2 * Math.PI * Math.PI) / (kk * kk * kk);
  }
  return out;
}
