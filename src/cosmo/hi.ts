/**
 * Neutral hydrogen: the 21 cm brightness-temperature prefactor and the HI–halo mass relation.
 */
import { E } from './background.js';
import { RHO_CRIT0_H2, type Cosmology } from './params.js';

/**
 * Prefactor F(z) such that T_b [mK] = F(z) × rho_HI, where rho_HI is the comoving HI density in
 * (Msun/h)/(Mpc/h)^3 (numerically the same as h^2 Msun/Mpc^3). From the LODI paper, Eq. 12:
 *   T_b = 189 h (H0 (1+z)^2 / H(z)) rho_HI / rho_c   [mK],
 * with rho_c = 3 H0^2 / (8 pi G) = 2.77536627e11 h^2 Msun/Mpc^3 the critical density today, so that
 * F = 189 h (1+z)^2 / (E(z) rho_c) in mK per (Msun/h)/(Mpc/h)^3.
 */
export function brightnessTemperatureFactor(c: Cosmology, z: number): number {
  const a1 = 1 + z;
  return (189 * c.h * a1 * a1) / (E(c, z) * RHO_CRIT0_H2);
}

/** T_b [mK] of a comoving HI density rho_HI [(Msun/h)/(Mpc/h)^3] at redshift z. */
export function brightnessTemperature(c: Cosmology, z: number, rhoHI: number): number {
  return brightnessTemperatureFactor(c, z) * rhoHI;
}

/** Parameters of M_HI(M) = M0 (M/Mmin)^alpha exp(-(Mmin/M)^0.35); M0 and Mmin in Msun/h. */
export interface HIHaloParams {
  alpha: number;
  M0: number;
  Mmin: number;
}

/**
 * Best fits for FoF halos in IllustrisTNG (TNG100), Villaescusa-Navarro et al. (2018), "Ingredients for 21 cm
 * intensity mapping", ApJ 866, 135, Table 1 (FoF column), at z = 0 … 5. Masses in Msun/h.
 */
export const VN18_FOF_TABLE: readonly (HIHaloParams & { z: number })[] = Object.freeze([
  { z: 0, alpha: 0.24, M0: 4.3e10, Mmin: 2e12 },
  { z: 1, alpha: 0.53, M0: 1.5e10, Mmin: 6e11 },
  { z: 2, alpha: 0.6, M0: 1.3e10, Mmin: 3.6e11 },
  { z: 3, alpha: 0.76, M0: 2.9e9, Mmin: 6.7e10 },
  { z: 4, alpha: 0.79, M0: 1.4e9, Mmin: 2.1e10 },
  { z: 5, alpha: 0.74, M0: 1.9e9, Mmin: 2e10 },
]);

/**
 * (alpha, M0, Mmin) at redshift z: linear interpolation in z of alpha, log10 M0 and log10 Mmin between the
 * tabulated redshifts of {@link VN18_FOF_TABLE}; outside 0 <= z <= 5 the end values are used.
 */
export function hiHaloParams(z: number): HIHaloParams {
  const t = VN18_FOF_TABLE;
  if (!Number.isFinite(z)) throw new RangeError(`hiHaloParams: invalid redshift ${z}`);
  if (z <= t[0]!.z) return { alpha: t[0]!.alpha, M0: t[0]!.M0, Mmin: t[0]!.Mmin };
  const last = t[t.length - 1]!;
  if (z >= last.z) return { alpha: last.alpha, M0: last.M0, Mmin: last.Mmin };
  let i = 0;
  while (t[i + 1]!.z < z) i++;
  const a = t[i]!;
  const b = t[i + 1]!;
  const w = (z - a.z) / (b.z - a.z);
  const lerp = (x: number, y: number): number => x + w * (y - x);
  return {
    alpha: lerp(a.alpha, b.alpha),
    M0: Math.pow(10, lerp(Math.log10(a.M0), Math.log10(b.M0))),
    Mmin: Math.pow(10, lerp(Math.log10(a.Mmin), Math.log10(b.Mmin))),
  };
}

/** HI mass [Msun/h] of a FoF halo of mass M [Msun/h] at redshift z (Villaescusa-Navarro et al. 2018). */
export function hiMass(M: number, z: number, params: HIHaloParams = hiHaloParams(z)): number {
  if (!(M > 0)) return 0;
  const { alpha, M0, Mmin } = params;
  return M0 * Math.pow(M / Mmin, alpha) * Math.exp(-Math.pow(Mmin / M, 0.35));
}
