/**
 * Matter transfer functions T(k), normalised to T -> 1 at k -> 0, for k in h/Mpc.
 *
 * - `eh`: Eisenstein & Hu (1998, ApJ 496, 605) with baryon acoustic oscillations, using two conventions of
 *   CCL's implementation (`ccl_eh.c`) so as to reproduce its benchmark tables to 1e-5: R_d (EH eq. 5) is
 *   evaluated at (1 + z_drag) instead of z_drag, and y of EH eq. 15 is z_eq / (1 + z_drag).
 * - `eh-nowiggle`: the EH98 zero-baryon shape (section 4.2, eqs. 26-31) with the approximate sound horizon.
 * - `bbks`: Bardeen et al. (1986) with the Sugiyama (1995) baryon correction to the shape parameter,
 *   Gamma = Om h exp[-Ob (1 + sqrt(2h)/Om)], q = k Theta^2 / Gamma with Theta = T_cmb/2.7 (as in CCL).
 */
import type { Cosmology } from './params.js';

export type TransferModel = 'eh' | 'eh-nowiggle' | 'bbks';
export const TRANSFER_MODELS: readonly TransferModel[] = ['eh', 'eh-nowiggle', 'bbks'];

/** A transfer function of k [h/Mpc]. */
export type TransferFunction = (k: number) => number;

/** Builds T(k) for a cosmology and model (constants are precomputed once). */
export function makeTransfer(c: Cosmology, model: TransferModel): TransferFunction {
  switch (model) {
    case 'eh':
      return ehWiggle(c);
    case 'eh-nowiggle':
      return ehNoWiggle(c);
    case 'bbks':
      return bbks(c);
    default:
      throw new Error(`unknown transfer function "${String(model)}" (use ${TRANSFER_MODELS.join(', ')})`);
  }
}

/** EH98 with baryon wiggles (CCL conventions, see the module comment). */
export function ehWiggle(c: Cosmology): TransferFunction {
  const h = c.h;
  const wm = c.Omega_m * h * h;
  const wb = c.Omega_b * h * h;
  const fb = c.Omega_b / c.Omega_m;
  const fc = 1 - fb;
  const th = c.T_cmb / 2.7;
  const th2 = th * th;
  const th4 = th2 * th2;

  const zeq = (2.5e4 * wm) / th4; // eq. 2
  const keq = (7.46e-2 * wm) / th2; // eq. 3, 1/Mpc
  const b1d = 0.313 * Math.pow(wm, -0.419) * (1 + 0.607 * Math.pow(wm, 0.674));
  const b2d = 0.238 * Math.pow(wm, 0.223);
  const zd = ((1291 * Math.pow(wm, 0.251)) / (1 + 0.659 * Math.pow(wm, 0.828))) * (1 + b1d * Math.pow(wb, b2d)); // eq. 4
  const Rd = (31.5 * wb * 1000) / (th4 * (1 + zd)); // eq. 5 at (1 + z_d): CCL convention
  const Req = (31.5 * wb * 1000) / (th4 * zeq);
  const s = ((2 / (3 * keq)) * Math.sqrt(6 / Req)) * Math.log((Math.sqrt(1 + Rd) + Math.sqrt(Rd + Req)) / (1 + Math.sqrt(Req))); // eq. 6, Mpc
  const ksilk = 1.6 * Math.pow(wb, 0.52) * Math.pow(wm, 0.73) * (1 + Math.pow(10.4 * wm, -0.95)); // eq. 7
  const a1 = Math.pow(46.9 * wm, 0.67) * (1 + Math.pow(32.1 * wm, -0.532));
  const a2 = Math.pow(12.0 * wm, 0.424) * (1 + Math.pow(45.0 * wm, -0.582));
  const alphac = Math.pow(a1, -fb) * Math.pow(a2, -fb * fb * fb); // eq. 11
  const bb1 = 0.944 / (1 + Math.pow(458 * wm, -0.708));
  const bb2 = Math.pow(0.395 * wm, -0.0266);
  const betac = 1 / (1 + bb1 * (Math.pow(fc, bb2) - 1)); // eq. 12
  const y = zeq / (1 + zd); // eq. 15 argument: CCL convention
  const sq = Math.sqrt(1 + y);
  const Gy = y * (-6 * sq + (2 + 3 * y) * Math.log((sq + 1) / (sq - 1))); // eq. 15
  const alphab = 2.07 * keq * s * Math.pow(1 + Rd, -0.75) * Gy; // eq. 14
  const betab = 0.5 + fb + (3 - 2 * fb) * Math.sqrt(Math.pow(17.2 * wm, 2) + 1); // eq. 24
  const betanode = 8.41 * Math.pow(wm, 0.435); // eq. 23

  const T0 = (q: number, ac: number, bc: number): number => {
    const L = Math.log(Math.E + 1.8 * bc * q);
    const C = 14.2 / ac + 386 / (1 + 69.9 * Math.pow(q, 1.08));
    return L / (L + C * q * q);
  };

  return (kh: number): number => {
    const k = kh * h; // 1/Mpc
    if (k <= 0) return 1;
    const q = k / (13.41 * keq); // eq. 10
    const ks = k * s;
    const f = 1 / (1 + Math.pow(ks / 5.4, 4)); // eq. 18
    const Tc = f * T0(q, 1, betac) + (1 - f) * T0(q, alphac, betac); // eq. 17
    const stilde = s / Math.cbrt(1 + Math.pow(betanode / ks, 3)); // eq. 22
    const x = k * stilde;
    const j0 = x < 1e-6 ? 1 - (x * x) / 6 : Math.sin(x) / x;
    const Tb =
      (T0(q, 1, 1) / (1 + Math.pow(ks / 5.2, 2)) + (alphab / (1 + Math.pow(betab / ks, 3))) * Math.exp(-Math.pow(k / ksilk, 1.4))) * j0; // eq. 21
    return fb * Tb + fc * Tc; // eq. 16
  };
}

/** EH98 zero-baryon ("no-wiggle") shape, eqs. 26-31. */
export function ehNoWiggle(c: Cosmology): TransferFunction {
  const h = c.h;
  const wm = c.Omega_m * h * h;
  const wb = c.Omega_b * h * h;
  const fb = c.Omega_b / c.Omega_m;
  const th = c.T_cmb / 2.7;
  const s = (44.5 * Math.log(9.83 / wm)) / Math.sqrt(1 + 10 * Math.pow(wb, 0.75)); // eq. 26, Mpc
  const alphaG = 1 - 0.328 * Math.log(431 * wm) * fb + 0.38 * Math.log(22.3 * wm) * fb * fb; // eq. 31
  return (kh: number): number => {
    if (kh <= 0) return 1;
    const k = kh * h;
    const gamma = c.Omega_m * h * (alphaG + (1 - alphaG) / (1 + Math.pow(0.43 * k * s, 4))); // eq. 30
    const q = (kh * th * th) / gamma; // eq. 28
    const L = Math.log(2 * Math.E + 1.8 * q);
    const C = 14.2 + 731 / (1 + 62.5 * q);
    return L / (L + C * q * q); // eq. 29
  };
}

/** BBKS with the Sugiyama (1995) shape parameter. */
export function bbks(c: Cosmology): TransferFunction {
  const gamma = c.Omega_m * c.h * Math.exp(-c.Omega_b * (1 + Math.sqrt(2 * c.h) / c.Omega_m));
  const th = c.T_cmb / 2.7;
  return (kh: number): number => {
    if (kh <= 0) return 1;
    const q = (kh * th * th) / gamma;
    const x = 2.34 * q;
    const lead = x < 1e-8 ? 1 - x / 2 : Math.log1p(x) / x;
    const poly = 1 + 3.89 * q + Math.pow(16.1 * q, 2) + Math.pow(5.46 * q, 3) + Math.pow(6.71 * q, 4);
    return lead * Math.pow(poly, -0.25);
  };
}
