/**
 * Background expansion and linear growth of a flat ΛCDM universe (w = -1), with optional radiation.
 *
 * Units: H in km/s/Mpc, distances in Mpc/h, densities in h^2 Msun/Mpc^3 (the same number as
 * (Msun/h)/(Mpc/h)^3).
 */
import { C_KMS, RHO_CRIT0_H2, cosmologyKey, omegaLambda, type Cosmology } from './params.js';
import { simpson } from './numeric.js';

/** Dimensionless expansion rate E(z) = H(z)/H0 = sqrt(Om (1+z)^3 + Or (1+z)^4 + OL). */
export function E(c: Cosmology, z: number): number {
  const a1 = 1 + z;
  return Math.sqrt(c.Omega_m * a1 * a1 * a1 + c.Omega_r * a1 * a1 * a1 * a1 + omegaLambda(c));
}

/** Hubble rate H(z) [km/s/Mpc]. */
export function hubble(c: Cosmology, z: number): number {
  return 100 * c.h * E(c, z);
}

/** Matter density parameter at redshift z, Omega_m(z) = Om (1+z)^3 / E(z)^2. */
export function omegaMz(c: Cosmology, z: number): number {
  const a1 = 1 + z;
  const e = E(c, z);
  return (c.Omega_m * a1 * a1 * a1) / (e * e);
}

/** Critical density at z, rho_crit(z) = rho_crit,0 E(z)^2 [h^2 Msun/Mpc^3] (physical, not comoving). */
export function rhoCrit(c: Cosmology, z = 0): number {
  const e = E(c, z);
  return RHO_CRIT0_H2 * e * e;
}

/** Mean comoving matter density, rho_m = Om rho_crit,0 [h^2 Msun/Mpc^3 = (Msun/h)/(Mpc/h)^3]; z-independent. */
export function rhoMean(c: Cosmology): number {
  return c.Omega_m * RHO_CRIT0_H2;
}

/** Comoving distance to redshift z [Mpc/h]: (c/100) ∫_0^z dz'/E(z'), integrated in ln(1+z) (negative for z < 0). */
export function comovingDistance(c: Cosmology, z: number): number {
  if (z === 0) return 0;
  if (!(z > -1)) throw new RangeError(`comovingDistance: redshift must be > -1, got ${z}`);
  const xmax = Math.log1p(z);
  const n = 2049;
  const dx = xmax / (n - 1);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const zz = Math.expm1(i * dx);
    y[i] = (1 + zz) / E(c, zz);
  }
  return (C_KMS / 100) * simpson(y, dx);
}

// ---------------------------------------------------------------------------------------------
// Linear growth: D'' + (2 + dlnH/dlna) D' - (3/2) Omega_m(a) D = 0, with ' = d/dlna, integrated with
// RK4 on a uniform ln a grid and interpolated with cubic Hermite polynomials (value and slope known).
// Initial conditions at a = e^-14: the exact growing mode of a matter + radiation universe
// (Meszaros), D ∝ 1 + 3y/2 with y = a/a_eq; without radiation D ∝ a.

interface GrowthTable {
  lna0: number;
  dlna: number;
  D: Float64Array; // normalised to D(a=1) = 1
  dD: Float64Array; // dD/dlna, same normalisation
}

const LNA_START = -14;
const LNA_END = 1;
const DLNA = 1e-3;
const growthCache = new Map<string, GrowthTable>();

function growthTable(c: Cosmology): GrowthTable {
  const key = cosmologyKey(c);
  const hit = growthCache.get(key);
  if (hit) return hit;
  const OL = omegaLambda(c);
  const rhs = (lna: number, D: number, dD: number): [number, number] => {
    const a = Math.exp(lna);
    const m = c.Omega_m / (a * a * a);
    const r = c.Omega_r / (a * a * a * a);
    const E2 = m + r + OL;
    const dlnH = (-3 * m - 4 * r) / (2 * E2);
    return [dD, -(2 + dlnH) * dD + 1.5 * (m / E2) * D];
  };
  const n = Math.round((LNA_END - LNA_START) / DLNA) + 1;
  const Darr = new Float64Array(n);
  const dDarr = new Float64Array(n);
  const a0 = Math.exp(LNA_START);
  if (c.Omega_r > 0) {
    const y = a0 / (c.Omega_r / c.Omega_m);
    Darr[0] = 1 + 1.5 * y;
    dDarr[0] = 1.5 * y;
  } else {
    Darr[0] = a0;
    dDarr[0] = a0;
  }
  const h = DLNA;
  for (let i = 0; i < n - 1; i++) {
    const x = LNA_START + i * h;
    const D = Darr[i]!;
    const v = dDarr[i]!;
    const [k1d, k1v] = rhs(x, D, v);
    const [k2d, k2v] = rhs(x + h / 2, D + (h / 2) * k1d, v + (h / 2) * k1v);
    const [k3d, k3v] = rhs(x + h / 2, D + (h / 2) * k2d, v + (h / 2) * k2v);
    const [k4d, k4v] = rhs(x + h, D + h * k3d, v + h * k3v);
    Darr[i + 1] = D + (h / 6) * (k1d + 2 * k2d + 2 * k3d + k4d);
    dDarr[i + 1] = v + (h / 6) * (k1v + 2 * k2v + 2 * k3v + k4v);
  }
  const i1 = Math.round(-LNA_START / DLNA);
  const norm = Darr[i1]!;
  for (let i = 0; i < n; i++) {
    Darr[i] = Darr[i]! / norm;
    dDarr[i] = dDarr[i]! / norm;
  }
  const tab: GrowthTable = { lna0: LNA_START, dlna: DLNA, D: Darr, dD: dDarr };
  if (growthCache.size > 64) growthCache.clear();
  growthCache.set(key, tab);
  return tab;
}

function hermite(tab: GrowthTable, lna: number): { D: number; dD: number } {
  const n = tab.D.length;
  const t = (lna - tab.lna0) / tab.dlna;
  if (t < 0 || t > n - 1) throw new RangeError(`growth factor requested outside a in [e^${LNA_START}, e^${LNA_END}]`);
  const i = Math.min(Math.floor(t), n - 2);
  const s = t - i;
  const h = tab.dlna;
  const p0 = tab.D[i]!;
  const p1 = tab.D[i + 1]!;
  const m0 = tab.dD[i]! * h;
  const m1 = tab.dD[i + 1]! * h;
  const s2 = s * s;
  const s3 = s2 * s;
  const D = (2 * s3 - 3 * s2 + 1) * p0 + (s3 - 2 * s2 + s) * m0 + (-2 * s3 + 3 * s2) * p1 + (s3 - s2) * m1;
  const dD = ((6 * s2 - 6 * s) * p0 + (3 * s2 - 4 * s + 1) * m0 + (-6 * s2 + 6 * s) * p1 + (3 * s2 - 2 * s) * m1) / h;
  return { D, dD };
}

/** Linear growth factor D(z), normalised to D(0) = 1 (valid for e^-14 <= a <= e). */
export function growthFactor(c: Cosmology, z: number): number {
  return hermite(growthTable(c), -Math.log1p(z)).D;
}

/** Linear growth rate f(z) = dlnD/dlna. */
export function growthRate(c: Cosmology, z: number): number {
  const { D, dD } = hermite(growthTable(c), -Math.log1p(z));
  return dD / D;
}

/**
 * Second-order (2LPT) growth factor, D2(z) ≈ -(3/7) D(z)^2 Omega_m(z)^(-1/143) (Bouchet et al. 1995 fit,
 * accurate to better than 1% for ΛCDM), with D normalised to D(0) = 1. The sign convention is that of
 * Scoccimarro (1998): the 2LPT displacement is x = q - D Ψ1 + D2 Ψ2 with ∇·Ψ2 built from the Ψ1 tides.
 */
export function growthFactor2(c: Cosmology, z: number): number {
  const D = growthFactor(c, z);
  return (-3 / 7) * D * D * Math.pow(omegaMz(c, z), -1 / 143);
}

/** Second-order growth rate f2 = dlnD2/dlna ≈ 2 Omega_m(z)^(6/11) (Bouchet et al. 1995). */
export function growthRate2(c: Cosmology, z: number): number {
  return 2 * Math.pow(omegaMz(c, z), 6 / 11);
}
