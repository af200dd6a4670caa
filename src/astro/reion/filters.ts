/**
 * Fourier-space windows of the excursion set and a float64 filtering helper on periodic grids.
 *
 * - Real-space top-hat of radius R: W(kR) = 3 (sin kR − kR cos kR)/(kR)^3 (unit at k = 0).
 * - Exponential mean-free-path window (Davies et al. 2025, Eq. 24; Davies & Furlanetto 2022):
 *   W(r) = 3/(4π R^3) e^{−r/λ} for r < R, whose transform is not unit at k = 0 but
 *   W(0) = 3 (λ/R)^3 [2 − e^{−R/λ}((R/λ)^2 + 2R/λ + 2)], the fraction of photons that survive.
 *   The closed form and its k → 0 expansion are those of 21cmFAST's filtering.c (exp_mfp_filter).
 *
 * Filtering runs through the engine's real FFT in float64 (complex128): photon counts are compared
 * with baryon counts at the 1e-7 level at every radius, which float32 transforms cannot resolve.
 */
import { F, tensor, tidy, noGrad, keep, type Tensor } from '@lodi/torch';
import { waveNumbers } from '../../field/kgrid.js';

/** Real-space top-hat window W(kR) (21cmFAST real_tophat_filter: 1 − (kR)^2/10 below kR = 1e-4). */
export function tophatWindow(kR: number): number {
  if (kR < 1e-4) return 1 - (kR * kR) / 10;
  return (3 * (Math.sin(kR) - kR * Math.cos(kR))) / (kR * kR * kR);
}

/**
 * Fourier transform of the exponential mean-free-path window of Eq. 24 at wavenumber k [h/Mpc]
 * for radius R and mean free path λ [Mpc/h] (21cmFAST exp_mfp_filter).
 */
export function expMfpWindow(k: number, R: number, mfp: number): number {
  const e = Math.exp(-R / mfp);
  const kR = k * R;
  const q = mfp / R;
  const q2 = q * q;
  const q3 = q2 * q;
  if (kR < 1e-4) {
    // Second-order expansion around kR = 0, as in the code.
    const ts0 = 6 * q3 - e * (6 * q3 + 6 * q2 + 3 * q);
    return ts0 + (e * (2 * q2 + 0.5 * q) - 2 * ts0 * q2) * kR * kR;
  }
  let f = (kR * kR * q2 + 2 * q + 1) * q * Math.cos(kR);
  f += ((kR * kR * (q2 - q3) + q + 1) * Math.sin(kR)) / kR;
  f *= e;
  f -= 2 * q2;
  const d = kR * q * (kR * q) + 1;
  return (f * -3 * q) / (d * d);
}

/**
 * Wavenumbers of the rfftn half-grid [N, N, N/2+1] of a periodic box and float64 filtering on it.
 * Windows are evaluated once per distinct |k| (integer n_x^2 + n_y^2 + n_z^2).
 */
export class FourierGrid {
  readonly n: number;
  readonly nh: number;
  readonly boxSize: number;
  /** Integer squared wavenumber per half-grid entry. */
  private readonly k2int: Int32Array;
  /** Distinct integer squared wavenumbers, and the index of each entry in that list. */
  private readonly distinct: Int32Array;
  private readonly slot: Int32Array;

  constructor(n: number, boxSize: number) {
    if (!Number.isInteger(n) || n < 2) throw new Error(`FourierGrid: grid must be an integer >= 2, got ${n}`);
    if (!(boxSize > 0) || !Number.isFinite(boxSize)) throw new Error(`FourierGrid: boxSize must be a positive number of Mpc/h, got ${boxSize}`);
    this.n = n;
    this.boxSize = boxSize;
    const { full, half } = waveNumbers(n);
    this.nh = half.length;
    const size = n * n * this.nh;
    this.k2int = new Int32Array(size);
    let i = 0;
    for (let x = 0; x < n; x++) {
      for (let y = 0; y < n; y++) {
        const a = full[x]! * full[x]! + full[y]! * full[y]!;
        for (let z = 0; z < this.nh; z++) this.k2int[i++] = a + half[z]! * half[z]!;
      }
    }
    const uniq = Array.from(new Set(this.k2int)).sort((a, b) => a - b);
    this.distinct = Int32Array.from(uniq);
    const where = new Map<number, number>();
    uniq.forEach((v, j) => where.set(v, j));
    this.slot = Int32Array.from(this.k2int, (v) => where.get(v)!);
  }

  /** Fundamental wavenumber 2π/L [h/Mpc]. */
  get kF(): number {
    return (2 * Math.PI) / this.boxSize;
  }

  /** A radial window W(|k|) (k in h/Mpc) on the half-grid, float64 [N*N*(N/2+1)]. */
  window(w: (k: number) => number): Float64Array {
    const kF = this.kF;
    const vals = Float64Array.from(this.distinct, (q) => w(Math.sqrt(q) * kF));
    return Float64Array.from(this.slot, (s) => vals[s]!);
  }

  /**
   * Forward real FFT (unnormalised) of an N^3 grid, clipped to [lo, hi] first as the code does
   * (prepare_box_for_filtering), as a complex128 tensor the caller must dispose.
   */
  forward(data: ArrayLike<number>, lo = -Infinity, hi = Infinity): Tensor {
    const n = this.n;
    if (data.length !== n * n * n) throw new Error(`FourierGrid.forward: grid has ${data.length} values, expected ${n}^3 = ${n * n * n}`);
    const x = new Float64Array(data.length);
    for (let i = 0; i < x.length; i++) x[i] = Math.min(Math.max(data[i]!, lo), hi);
    return noGrad(() => tidy(() => keep(F.rfftn(tensor(x, [n, n, n]), [-3, -2, -1]))));
  }

  /** Inverse FFT of fk × W (W any real array on the half-grid, radial or not; null = no filter), float64 [N^3]. */
  apply(fk: Tensor, w: Float64Array | null): Float64Array {
    const n = this.n;
    return noGrad(() =>
      tidy(() => {
        const g = w ? fk.mul(tensor(w, [n, n, this.nh])) : fk;
        return F.irfftn(g, [n, n, n], [-3, -2, -1]).contiguous().toFloat64Array();
      }),
    );
  }
}
