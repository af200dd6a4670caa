/**
 * The 21 cm brightness temperature in the saturated limit T_s ≫ T_γ (Davies et al. 2025, Eq. 25):
 *
 *   δT_b = 27 x_HI (1 + δ) (Ω_b h^2 / 0.023) [0.15/(Ω_m h^2) (1+z)/10]^{1/2} H/(dv_r/dr + H)  mK,
 *
 * with the prefactor exactly as 21cmFAST's BrightnessTemperatureBox.c and the velocity-gradient factor
 * as its rsds.py (include_dvdr_in_tau21 without spin temperature): T_b / |1 + clip(dv_r/dr / H, ±MAX_DVDR)|.
 *
 * The gradient comes from the linear velocity field of the given density: with ∇·v = −a H f δ,
 * dv_r/dr / H = −f (k_∥^2 / k^2) δ_k in Fourier space (f = dln D/dln a), so converging overdense
 * regions (η < 0) are brightened. 21cmFAST differentiates its (1LPT/2LPT) velocity field instead.
 *
 * The prefactor is the matter-dominated form of src/cosmo/hi.ts `brightnessTemperatureFactor`
 * (189 h (1+z)^2 H0/H(z) ρ_HI/ρ_c with ρ_HI = x_HI (1+δ) X_H Ω_b ρ_c): the ratio of the two is
 * (27 √0.015 / 0.023)/(189 X_H) × E(z)/(√Ω_m (1+z)^{3/2}), within 0.5% of 1 for X_H = 0.76 at z ≥ 6
 * (the test checks both); this module keeps the code's form.
 */
import { growthRate } from '../../cosmo/background.js';
import type { Cosmology } from '../../cosmo/params.js';
import { waveNumbers } from '../../field/kgrid.js';
import { FourierGrid } from './filters.js';

/** 27 (Ω_b h^2/0.023) sqrt(0.15/(Ω_m h^2) × (1+z)/10) [mK] (Eq. 25; code const_factor). */
export function brightnessPrefactor(c: Cosmology, z: number): number {
  const h2 = c.h * c.h;
  return 27 * ((c.Omega_b * h2) / 0.023) * Math.sqrt((0.15 / c.Omega_m / h2) * ((1 + z) / 10));
}

/** k_axis^2 / k^2 on the rfftn half-grid [N, N, N/2+1] (0 at k = 0), float64. */
export function losProjector(n: number, axis: 0 | 1 | 2): Float64Array {
  const { full, half } = waveNumbers(n);
  const nh = half.length;
  const out = new Float64Array(n * n * nh);
  let i = 0;
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < n; y++) {
      for (let z = 0; z < nh; z++) {
        const kx = full[x]!, ky = full[y]!, kz = half[z]!;
        const k2 = kx * kx + ky * ky + kz * kz;
        const kp = axis === 0 ? kx : axis === 1 ? ky : kz;
        out[i++] = k2 === 0 ? 0 : (kp * kp) / k2;
      }
    }
  }
  return out;
}

/**
 * Line-of-sight velocity gradient in units of H, η = (dv_r/dr)/H = −f ∂_∥^2 ∇^{−2} δ, of the linear
 * velocity field of δ [N^3] (f the growth rate at the redshift), float64 [N^3].
 */
export function losVelocityGradient(delta: ArrayLike<number>, n: number, boxSize: number, f: number, axis: 0 | 1 | 2, fourier?: FourierGrid): Float64Array {
  const fg = fourier ?? new FourierGrid(n, boxSize);
  const m = losProjector(n, axis);
  for (let i = 0; i < m.length; i++) m[i] = -f * m[i]!;
  const dk = fg.forward(delta);
  try {
    return fg.apply(dk, m);
  } finally {
    dk.dispose();
  }
}

export interface BrightnessInput {
  /** Neutral fraction [N^3]. */
  xHI: ArrayLike<number>;
  /** Density contrast δ [N^3]. */
  delta: ArrayLike<number>;
  z: number;
  cosmology: Cosmology;
  /** Box side [Mpc/h] and cells per side (needed for the velocity gradient). */
  boxSize: number;
  grid: number;
  /** Include H/(dv_r/dr + H) (default true). */
  velocityGradient?: boolean;
  /** Clip of |dv_r/dr|/H (default 0.2, code MAX_DVDR). */
  maxDvdr?: number;
  /** Line-of-sight axis (default 2). */
  losAxis?: 0 | 1 | 2;
  /** Growth rate f at z (default from the cosmology). */
  growthRate?: number;
  fourier?: FourierGrid;
  /**
   * Spin temperature T_s [K, N^3]. Given, δT_b takes the code's optically thick form (BrightnessTemperatureBox.c
   * with USE_TS_FLUCT, rsds.py `include_dvdr_in_tau21`): τ_21 = T_0 x_HI (1+δ) (1+z) / (1000 T_s) and
   * δT_b = (1 − e^{−τ_21/g}) 1000 (T_s − T_γ)/(1+z) mK, g = |1 + (dv_r/dr)/H| (not clipped, as the code),
   * whose τ_21 ≪ 1 limit is Eq. 25 with (1 − T_γ/T_s). Absent = saturated limit T_s ≫ T_γ.
   */
  spinTemperature?: ArrayLike<number>;
}

/**
 * δT_b [mK] per cell (Davies et al. 2025, Eq. 25), Float32Array [N^3]: with `spinTemperature` the
 * full form, else the saturated limit T_s ≫ T_γ.
 *
 * @throws Error when the grids do not have N^3 values, z is not finite or a T_s is not positive.
 */
export function brightnessTemperature21(b: BrightnessInput): Float32Array {
  const n3 = b.grid * b.grid * b.grid;
  if (b.xHI.length !== n3) throw new Error(`brightnessTemperature21: xHI has ${b.xHI.length} values, expected N^3 = ${n3}`);
  if (b.delta.length !== n3) throw new Error(`brightnessTemperature21: delta has ${b.delta.length} values, expected N^3 = ${n3}`);
  if (!Number.isFinite(b.z) || b.z < 0) throw new Error(`brightnessTemperature21: z must be a finite redshift >= 0, got ${b.z}`);
  const t0 = brightnessPrefactor(b.cosmology, b.z);
  const out = new Float32Array(n3);
  const useV = b.velocityGradient ?? true;
  let eta: Float64Array | null = null;
  if (useV) {
    const f = b.growthRate ?? growthRate(b.cosmology, b.z);
    eta = losVelocityGradient(b.delta, b.grid, b.boxSize, f, b.losAxis ?? 2, b.fourier);
  }
  const cap = b.maxDvdr ?? 0.2;
  const ts = b.spinTemperature;
  if (ts && ts.length !== n3) throw new Error(`brightnessTemperature21: spinTemperature has ${ts.length} values, expected N^3 = ${n3}`);
  const tGamma = b.cosmology.T_cmb * (1 + b.z);
  const a1 = 1 + b.z;
  for (let i = 0; i < n3; i++) {
    let t = t0 * b.xHI[i]! * (1 + b.delta[i]!);
    if (ts) {
      const s = ts[i]!;
      if (!(s > 0)) throw new Error(`brightnessTemperature21: spinTemperature must be > 0 K, got ${s} in cell ${i}`);
      const tau = (t * a1) / (1000 * s);
      const g = eta ? Math.abs(1 + eta[i]!) : 1;
      // an empty (ionised) cell has no signal whatever g is (the code's tau_21 < 1e-10 rule)
      out[i] = tau === 0 ? 0 : -Math.expm1(-tau / g) * ((1000 * (s - tGamma)) / a1);
      continue;
    }
    if (eta) t /= Math.abs(1 + Math.min(Math.max(eta[i]!, -cap), cap));
    out[i] = t;
  }
  return out;
}
