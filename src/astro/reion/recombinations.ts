/**
 * Inhomogeneous cumulative recombinations (Sobacchi & Mesinger 2014), as 21cmFAST's recombinations.c,
 * the n_rec term of Davies et al. (2025), Eq. 23.
 *
 * Each ionised cell recombines at the rate per baryon of a sub-grid IGM whose density Δ follows the
 * Miralda-Escudé, Haehnelt & Rees (2000, MHR00) PDF P(Δ) = A exp[−(Δ^{−2/3} − C_0)^2 / (2 s^2)] Δ^β,
 * s = 2 × 7.61 / (3 (1+z)), and whose dense gas is self-shielded from the background Γ12 by the
 * Rahmati et al. (2013) fit (UVB slope 5):
 *   rate(z, Γ12) = ∫_{0.01}^{200} n_H(Δ) α_B(10^4 K) x_e(Δ)^2 Δ P(Δ) dΔ,  n_H = n_H,0 (1+z)^3 Δ,
 * x_e from photoionisation equilibrium with the attenuated Γ. The cell's redshift is z_eff =
 * (1+z)(1+δ)^{1/3} and dN_rec = rate(z_eff, Γ12) |dt/dz| dz (1 − x_HI) per step.
 *
 * As in the code: the rate is tabulated on z = 0.2 j (j = 0..299, nearest node used) and
 * ln Γ12 = −10 + 0.1 i (i = 0..249, natural cubic spline; zero below the table, clamped above), A(z)
 * on integer z = 2..61 (spline, clamped), C_0(z) and β(z) from MHR00's tables (spline, clamped).
 * The integrals use Simpson's rule in ln Δ (the code uses GSL QAG at 1% relative tolerance).
 * Physical constants are the code's (Constants.c), so the rates match its tables.
 */
import { CubicSpline, simpson } from '../../cosmo/numeric.js';
import { hubble } from '../../cosmo/background.js';
import type { Cosmology } from '../../cosmo/params.js';

/** 21cmFAST's physical constants (Constants.c), cgs. */
export const CODE_CONSTANTS = Object.freeze({
  mProtonG: 1.67262192369e-24,
  gravityCgs: 6.6743e-8,
  cmPerMpc: 3.08567758e24,
  /** H0 per unit h [1/s]. */
  hubbleUnitS: 3.2407e-18,
  /** HI photoionisation cross-section at 13.6 eV [cm^2]. */
  sigmaHI: 6.3e-18,
  /** Case-B recombination coefficient at 10^4 K [cm^3/s]. */
  alphaB10k: 2.59e-13,
});

/** Case-B hydrogen recombination coefficient [cm^3/s] at temperature T [K] (code alpha_B). */
export function alphaB(T: number): number {
  return CODE_CONSTANTS.alphaB10k * Math.pow(T / 1e4, -0.75);
}

/** Present-day hydrogen and baryon (H + He) number densities [cm^-3] (code No, N_b0). */
export function numberDensities(c: Cosmology, yHe: number): { nH0: number; nB0: number } {
  const H0 = c.h * CODE_CONSTANTS.hubbleUnitS;
  const rhoCritCgs = (3 * H0 * H0) / (8 * Math.PI * CODE_CONSTANTS.gravityCgs);
  const nH0 = (rhoCritCgs * c.Omega_b * (1 - yHe)) / CODE_CONSTANTS.mProtonG;
  const nHe0 = (rhoCritCgs * c.Omega_b * yHe) / (4 * CODE_CONSTANTS.mProtonG);
  return { nH0, nB0: nH0 + nHe0 };
}

/**
 * Hydrogen neutral fraction χ in photoionisation equilibrium, Γ χ = (1 + n_He/n_H) n_H α_B (1 − χ)^2
 * (code neutral_fraction, case B): the small root of the quadratic, or the χ ≪ 1 limit below 1e-5.
 *
 * @param nH hydrogen density [cm^-3]; @param T4 temperature [10^4 K]; @param gamma12 Γ [1e-12 /s].
 */
export function neutralFraction(nH: number, T4: number, gamma12: number, yHe: number): number {
  const corrHe = 1 / (4 / yHe - 3);
  const alpha = alphaB(T4 * 1e4);
  const gamma = gamma12 * 1e-12;
  const chi = ((1 + corrHe) * nH * alpha) / gamma;
  if (chi < 1e-30) return 0;
  if (chi < 1e-5) return chi;
  const b = -2 - gamma / (nH * (1 + corrHe) * alpha);
  return (-b - Math.sqrt(b * b - 4)) / 2;
}

/** Self-shielded photoionisation rate [1e-12 /s] at overdensity Δ (Rahmati et al. 2013, code Gamma_SS). */
export function gammaSelfShielded(gammaBg: number, del: number, T4: number, z: number): number {
  const dss = 26.7 * Math.pow(T4, 0.17) * Math.pow((1 + z) / 10, -3) * Math.pow(gammaBg, 2 / 3);
  return gammaBg * (0.98 * Math.pow(1 + Math.pow(del / dss, 1.64), -2.28) + 0.02 * Math.pow(1 + del / dss, -0.84));
}

const C_TABLE = [0.558, 0.599, 0.611, 0.769, 0.868, 0.93, 0.964, 0.983, 0.993, 0.998, 0.999, 1.0];
const BETA_TABLE = [-2.23, -2.35, -2.48, -2.49, -2.5];
const cSpline = new CubicSpline(C_TABLE.map((_, i) => i + 2), C_TABLE);
const betaSpline = new CubicSpline(BETA_TABLE.map((_, i) => i + 2), BETA_TABLE);

/** MHR00 C_0(z) (code C_MHR). */
export function mhrC0(z: number): number {
  if (z >= 13) return 1;
  if (z <= 2) return 0.558;
  return cSpline.at(z);
}

/** MHR00 β(z) (code beta_MHR). */
export function mhrBeta(z: number): number {
  if (z >= 6) return -2.5;
  if (z <= 2) return -2.23;
  return betaSpline.at(z);
}

function mhrWidth(z: number): number {
  return (2 * 7.61) / (3 * (1 + z));
}

/** ∫ exp[−(Δ^{−2/3} − C_0)^2/(2 s^2)] Δ^β dΔ over (1e-25, 1e25), in ln Δ with Simpson's rule. */
function mhrUnnormalisedMass(z: number): number {
  const c0 = mhrC0(z);
  const beta = mhrBeta(z);
  const s = mhrWidth(z);
  const lo = Math.log(1e-25);
  const hi = Math.log(1e25);
  const m = 40001; // step 0.003 in ln Δ: the peak is ≥ 0.1 wide in ln Δ up to z = 62
  const du = (hi - lo) / (m - 1);
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const u = lo + i * du;
    const d = Math.exp(u);
    const t = Math.exp((-2 / 3) * u) - c0;
    y[i] = Math.exp((-0.5 * t * t) / (s * s)) * Math.pow(d, beta) * d;
  }
  return simpson(y, du);
}

let aSpline: CubicSpline | null = null;

/** MHR00 normalisation A(z), so that ∫ P dΔ = 1; tabulated on z = 2..61 and splined, as the code. */
export function mhrA(z: number): number {
  if (!aSpline) {
    const zs = Array.from({ length: 60 }, (_, i) => 2 + i);
    aSpline = new CubicSpline(zs, zs.map((zz) => 1 / mhrUnnormalisedMass(zz)));
  }
  return aSpline.at(Math.min(Math.max(z, 2), 61));
}

/** MHR00 density PDF P(Δ) at redshift z (per unit Δ). */
export function mhrPdf(del: number, z: number): number {
  const t = Math.pow(del, -2 / 3) - mhrC0(z);
  const s = mhrWidth(z);
  return mhrA(z) * Math.exp((-0.5 * t * t) / (s * s)) * Math.pow(del, mhrBeta(z));
}

const RR_DEL_Z = 0.2;
const RR_Z_NPTS = 300;
const RR_LNG_MIN = -10;
const RR_DEL_LNG = 0.1;
const RR_LNG_NPTS = 250;
const RR_LND_NPTS = 201; // Simpson nodes over ln Δ in [ln 0.01, ln 200]

/**
 * Recombination rates per hydrogen atom [1/(1e15 s)] of the MHR00 IGM at redshift z for each
 * background Γ12 [1e-12 /s] of `gamma12` (code recombination_rate with T = 10^4 K, case B), by
 * Simpson's rule over `nodes` points in ln Δ ∈ [ln 0.01, ln 200].
 */
export function recombinationRates(z: number, gamma12: ArrayLike<number>, c: Cosmology, yHe: number, nodes = RR_LND_NPTS): Float64Array {
  const { nH0 } = numberDensities(c, yHe);
  const avenH = nH0 * Math.pow(1 + z, 3);
  const a = mhrA(z);
  const c0 = mhrC0(z);
  const beta = mhrBeta(z);
  const s = mhrWidth(z);
  const alpha = alphaB(1e4);
  const lo = Math.log(0.01);
  const hi = Math.log(200);
  const m = nodes % 2 === 1 ? nodes : nodes + 1;
  const du = (hi - lo) / (m - 1);
  // Γ-independent parts: Δ, n_H(Δ) and 1e15 n_H α P(Δ) Δ^2 (one Δ from integrating over ln Δ).
  const del = new Float64Array(m);
  const nH = new Float64Array(m);
  const base = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const d = Math.exp(lo + i * du);
    const t = Math.pow(d, -2 / 3) - c0;
    del[i] = d;
    nH[i] = avenH * d;
    base[i] = 1e15 * nH[i]! * a * Math.exp((-0.5 * t * t) / (s * s)) * Math.pow(d, beta) * alpha * d * d;
  }
  const y = new Float64Array(m);
  return Float64Array.from(gamma12, (g) => {
    for (let i = 0; i < m; i++) {
      const xe = 1 - neutralFraction(nH[i]!, 1, gammaSelfShielded(g, del[i]!, 1, z), yHe);
      y[i] = base[i]! * xe * xe;
    }
    return simpson(y, du);
  });
}

/** Tabulated rates per redshift node (lazily), keyed by the cosmology's baryon density and Y_He. */
export class RecombinationTable {
  private readonly splines = new Map<number, CubicSpline>();
  private readonly lnG = Float64Array.from({ length: RR_LNG_NPTS }, (_, i) => RR_LNG_MIN + i * RR_DEL_LNG);

  constructor(
    readonly cosmology: Cosmology,
    readonly yHe: number,
  ) {}

  /** Rate per hydrogen atom [1/(1e15 s)] at z_eff and Γ12 [1e-12 /s], as the code's splined_recombination_rate. */
  rate(zEff: number, gamma12: number): number {
    let j = Math.floor(zEff / RR_DEL_Z + 0.5);
    if (j < 0) j = 0;
    else if (j >= RR_Z_NPTS) j = RR_Z_NPTS - 1;
    let lnG = Math.log(gamma12);
    if (!(lnG >= RR_LNG_MIN)) return 0;
    const top = RR_LNG_MIN + RR_DEL_LNG * (RR_LNG_NPTS - 1);
    if (lnG >= top) lnG = top - 1e-7;
    let sp = this.splines.get(j);
    if (!sp) {
      const z = j * RR_DEL_Z;
      sp = new CubicSpline(this.lnG, recombinationRates(z, Float64Array.from(this.lnG, Math.exp), this.cosmology, this.yHe));
      this.splines.set(j, sp);
    }
    return sp.at(lnG);
  }
}

/** |dt/dz| [s] = 1/((1+z) H(z)) with H in 1/s (code dtdz for flat ΛCDM). */
export function dtdzSeconds(c: Cosmology, z: number): number {
  const H = (hubble(c, z) / 100) * CODE_CONSTANTS.hubbleUnitS;
  return 1 / ((1 + z) * H);
}

/**
 * Γ12 prefactor of a cell first ionised at filter radius R (code gamma_prefactor for halo source
 * grids): Γ12 = R × prefactor × ṅ_ion,R / (ρ̄_b (1 + δ_R)), with ṅ_ion,R the filtered ionising photon
 * rate density [(Msun/h)/s/(Mpc/h)^3] and R in Mpc/h. Returns the prefactor per (Mpc/h) [s·1e-12 units].
 */
export function gammaPrefactor(c: Cosmology, z: number, alphaUvb: number, yHe: number): number {
  const { nB0 } = numberDensities(c, yHe);
  const rMpcPerUnit = 1 / c.h; // R [Mpc] = R [Mpc/h] / h
  return (
    (Math.pow(1 + z, 2) * rMpcPerUnit * CODE_CONSTANTS.cmPerMpc * CODE_CONSTANTS.sigmaHI * alphaUvb * nB0) /
    (alphaUvb + 2.75) /
    1e-12
  );
}

export interface RecombinationStepInput {
  /** Cumulative recombinations per baryon after the previous step, [N^3] (zeros at the first step). */
  nRecPrev: ArrayLike<number>;
  /** Neutral fraction after this step's excursion set, [N^3]. */
  xHI: ArrayLike<number>;
  /** Background Γ12 [1e-12 /s] of this step, [N^3]. */
  gamma12: ArrayLike<number>;
  /** Density contrast δ at this step, [N^3]. */
  delta: ArrayLike<number>;
  /** This step's redshift and the interval dz = z_prev − z (> 0). */
  z: number;
  dz: number;
  table: RecombinationTable;
}

/**
 * N_rec after one step (code set_recombination_rates, inhomogeneous):
 * N_rec = N_rec,prev + rate((1+z)(1+δ)^{1/3} − 1, Γ12) |dt/dz| dz (1 − x_HI), per cell.
 *
 * @returns Float32Array [N^3] of recombinations per baryon.
 * @throws Error if dz ≤ 0 or a rate is not finite.
 */
export function updateRecombinations(s: RecombinationStepInput): Float32Array {
  if (!(s.dz > 0)) throw new Error(`updateRecombinations: dz must be > 0 (redshifts must decrease), got ${s.dz}`);
  const n = s.xHI.length;
  const fac = (dtdzSeconds(s.table.cosmology, s.z) / 1e15) * s.dz;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const xi = 1 - s.xHI[i]!;
    let d = 0;
    if (xi > 0 && s.gamma12[i]! > 0) {
      const zEff = (1 + s.z) * Math.cbrt(Math.max(1 + s.delta[i]!, 0)) - 1;
      d = s.table.rate(zEff, s.gamma12[i]!) * fac * xi;
      if (!Number.isFinite(d)) throw new Error(`updateRecombinations: non-finite dN_rec in cell ${i} (Γ12 ${s.gamma12[i]}, δ ${s.delta[i]})`);
    }
    out[i] = s.nRecPrev[i]! + d;
  }
  return out;
}
