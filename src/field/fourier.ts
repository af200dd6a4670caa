/**
 * Fourier-space helpers on periodic grids through the engine's real FFT: the forward transform of a
 * float32 grid and Gaussian smoothing of radius R [Mpc/h], W(k) ≈ exp(-k^2 R^2 / 2) (see gaussian1d).
 *
 * Wavenumber conventions (index → n_i, Nyquist sign) are those of kgrid.ts.
 */
import { F, op, tensor, tidy, noGrad, type Tensor } from '@lodi/torch';
import { cubeSize } from './kgrid.js';

/**
 * Unnormalised forward real FFT over the last three axes of a float32 grid (complex64 tensor of shape
 * [..., N, N, N/2+1]). The caller owns (and must dispose) the result.
 */
export function rfft3(data: Float32Array, shape: readonly number[]): Tensor {
  cubeSize(data, shape);
  return noGrad(() =>
    tidy(() => {
      const x = tensor(data, [...shape]);
      return F.rfftn(x, [-3, -2, -1]);
    }),
  );
}

/**
 * 1D Fourier factors of a Gaussian of radius R sampled on the periodic grid (cell L/n) and
 * normalised to unit sum, for the FFT indices 0..m-1 of an axis of length n (full or half).
 *
 * For R above ~1.5 cells these equal exp(-k^2 R^2 / 2) to better than 1e-6; for smaller R the
 * analytic factors, cut off at the Nyquist frequency, would make the smoothed map ring around
 * point-like sources (negative lobes of several per cent of the mass when R is a fraction of a
 * cell). The sampled kernel is positive everywhere, so smoothing keeps densities non-negative
 * and conserves mass exactly at any resolution.
 */
function gaussian1d(n: number, m: number, boxSize: number, R: number): Float32Array {
  const dx = boxSize / n;
  const kernel = new Float64Array(n);
  let norm = 0;
  // Sum over periodic images out to many R so the wrapped kernel is exact for any box.
  const images = Math.ceil((8 * R) / boxSize) + 1;
  for (let j = 0; j < n; j++) {
    let v = 0;
    for (let p = -images; p <= images; p++) {
      const d = (j + p * n) * dx;
      v += Math.exp((-0.5 * d * d) / (R * R));
    }
    kernel[j] = v;
    norm += v;
  }
  const g = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    let c = 0;
    for (let j = 0; j < n; j++) c += kernel[j]! * Math.cos((2 * Math.PI * i * j) / n);
    g[i] = c / norm;
  }
  return g;
}

/**
 * Smooths a periodic grid ([N,N,N] or [C,N,N,N], each channel separately) with a Gaussian of radius
 * R [Mpc/h] in Fourier space. R = 0 returns a copy. The k = 0 mode is untouched, so the sum (mass)
 * is conserved.
 */
export function gaussianSmooth(
  data: Float32Array,
  shape: readonly number[],
  boxSize: number,
  R: number,
  opts: { nonNegative?: boolean } = {},
): Float32Array {
  const n = cubeSize(data, shape);
  if (!(boxSize > 0)) throw new Error(`boxSize must be positive (Mpc/h), got ${boxSize}`);
  if (!(R >= 0) || !Number.isFinite(R)) throw new Error(`smoothing radius must be >= 0 Mpc/h, got ${R}`);
  if (R === 0) return data.slice();
  const nh = (n >> 1) + 1;
  return noGrad(() =>
    tidy(() => {
      const dk = F.rfftn(tensor(data, [...shape]), [-3, -2, -1]);
      const gx = tensor(gaussian1d(n, n, boxSize, R), [n, 1, 1]);
      const gy = tensor(gaussian1d(n, n, boxSize, R), [1, n, 1]);
      const gz = tensor(gaussian1d(n, nh, boxSize, R), [1, 1, nh]);
      const w = gx.mul(gy).mul(gz);
      let sm = F.irfftn(dk.mul(w), [n, n, n], [-3, -2, -1]);
      // The kernel is positive, so only FFT round-off (~1e-7 of the peak) can go below zero;
      // densities are clipped there so log-space statistics never see negative values.
      if (opts.nonNegative) sm = sm.clamp(0);
      return sm.contiguous().toFloat32Array();
    }),
  );
}

/**
 * Interleaved (re, im) float32 values of a complex64 CPU tensor (C order): a zero-copy view of its
 * memory (which the view keeps alive) when the tensor is contiguous, else a copy.
 */
export function complexToInterleaved(t: Tensor): Float32Array {
  return tidy(() => {
    const r = op('view_as_real', [t]);
    const c = r.device === 'cpu' ? r.contiguous() : r.to('cpu').contiguous();
    return c.dataView() as Float32Array;
  });
}
