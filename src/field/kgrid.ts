/**
 * Periodic grids: the one definition of cell indices, Fourier wavenumbers and the mass-assignment
 * window, shared by the N-body code (ICs, PM) and the statistics (power spectra).
 *
 * Grids are C order [x][y][z] (or [C][x][y][z]), periodic, cubic. A real FFT over the last three axes
 * has shape [N, N, N/2+1]: the first two axes are "full" (length N), the last is "half".
 *
 * Wavenumbers: FFT index i on an N grid holds the integer wavenumber n_i = i for i <= N/2 and i − N
 * above, so the Nyquist index N/2 of an even N counts as +N/2 (as in Pylians; numpy's fftfreq says
 * −N/2 on the full axes). k_i = 2π n_i / L in h/Mpc. Functions even in k (k², windows, Green's
 * functions) do not depend on that sign. Operators odd in k (gradients) must vanish at the Nyquist
 * index: the Nyquist mode of a real field is its own conjugate partner, so an odd multiplier there
 * has no consistent sign, and only a zero keeps the inverse FFT the transform of a real field (and
 * the PM forces pairwise antisymmetric). `kTensors(..., true)` and `isNyquist` serve those operators.
 *
 * Mass-assignment window of order p (1 NGP, 2 CIC, 3 TSC) per axis: W(n_i) = (sin x / x)^p with
 * x = π n_i / N; the power spectra divide it out (`masCorrection`), the PM may (`masWindowHalfGrid`).
 */
import { tensor, type Tensor } from '@lodi/torch';
import { MAS_ORDER, type MassAssignment } from './mas.js';

/** Checks that `shape` is [N,N,N] or [C,N,N,N] and matches `data`; returns N. */
export function cubeSize(data: ArrayLike<number>, shape: readonly number[]): number {
  const s = shape;
  if (!(s.length === 3 || s.length === 4) || s[s.length - 1] !== s[s.length - 2] || s[s.length - 2] !== s[s.length - 3]) {
    throw new Error(`expected a cubic grid [N,N,N] or [C,N,N,N], got [${s.join(',')}]`);
  }
  const count = s.reduce((a, b) => a * b, 1);
  if (data.length !== count) throw new Error(`grid has ${data.length} values, shape [${s.join(',')}] needs ${count}`);
  return s[s.length - 1]!;
}

/** Cell index i wrapped into 0..n−1 (any integer i, negative included). */
export function wrapIndex(i: number, n: number): number {
  return ((i % n) + n) % n;
}

/** Signed integer wavenumber of FFT index i on an N grid (Nyquist counted positive, as in Pylians). */
export function waveIndex(i: number, n: number): number {
  return i > n >> 1 ? i - n : i;
}

/** Whether FFT index i is the Nyquist index of an even N grid (where odd operators must vanish). */
export function isNyquist(i: number, n: number): boolean {
  return n % 2 === 0 && i === n >> 1;
}

/**
 * Integer wavenumbers of the axes of an rfftn of an n^3 grid: `full` for the first two axes (length n),
 * `half` for the last (length n/2+1), both by {@link waveIndex} (Nyquist +n/2).
 */
export function waveNumbers(n: number): { full: Int32Array; half: Int32Array } {
  const full = new Int32Array(n);
  for (let i = 0; i < n; i++) full[i] = waveIndex(i, n);
  const half = new Int32Array((n >> 1) + 1);
  for (let i = 0; i < half.length; i++) half[i] = i;
  return { full, half };
}

/**
 * Tensors of the wavenumbers k_x [n,1,1], k_y [1,n,1], k_z [1,1,n/2+1] in h/Mpc for a box of side L
 * (Mpc/h). With `zeroNyquist`, the Nyquist entries are 0: use these for odd (gradient) operators.
 */
export function kTensors(n: number, boxSize: number, zeroNyquist: boolean): [Tensor, Tensor, Tensor] {
  const kF = (2 * Math.PI) / boxSize;
  const { full, half } = waveNumbers(n);
  const kf = new Float32Array(n);
  const kh = new Float32Array(half.length);
  for (let i = 0; i < n; i++) kf[i] = zeroNyquist && isNyquist(i, n) ? 0 : full[i]! * kF;
  for (let i = 0; i < half.length; i++) kh[i] = zeroNyquist && isNyquist(i, n) ? 0 : half[i]! * kF;
  return [tensor(kf, [n, 1, 1]), tensor(kf.slice(), [1, n, 1]), tensor(kh, [1, 1, half.length])];
}

/**
 * Values f(k2int) on the rfftn half-grid [n, n, n/2+1] (C order), where k2int = n_x^2 + n_y^2 + n_z^2 is
 * the integer squared wavenumber; f is evaluated once per distinct k2int.
 */
export function radialHalfGrid(n: number, f: (k2int: number) => number): Float32Array {
  const { full, half } = waveNumbers(n);
  const nh = half.length;
  const cache = new Map<number, number>();
  const out = new Float32Array(n * n * nh);
  let idx = 0;
  for (let i = 0; i < n; i++) {
    const a = full[i]! * full[i]!;
    for (let j = 0; j < n; j++) {
      const b = a + full[j]! * full[j]!;
      for (let k = 0; k < nh; k++) {
        const k2 = b + half[k]! * half[k]!;
        let v = cache.get(k2);
        if (v === undefined) {
          v = f(k2);
          cache.set(k2, v);
        }
        out[idx++] = v;
      }
    }
  }
  return out;
}

/** Order p of a mass-assignment scheme (1 NGP, 2 CIC, 3 TSC). */
export function masOrder(mas: MassAssignment): number {
  const p = MAS_ORDER[mas];
  if (p === undefined) throw new Error(`unknown MAS '${String(mas)}' (use NGP, CIC, TSC or none)`);
  return p;
}

/**
 * The one-axis mass-assignment window raised to `q`: W(m)^q with W(m) = (sin x / x)^p, x = π m / N, for
 * integer wavenumber m on an N grid and scheme order p. A negative q (deconvolution) is evaluated as
 * (x / sin x)^(−p q).
 */
export function masWindow(m: number, n: number, p: number, q = 1): number {
  const x = (Math.PI * m) / n;
  if (x === 0) return 1;
  return q < 0 ? Math.pow(x / Math.sin(x), -p * q) : Math.pow(Math.sin(x) / x, p * q);
}

/** Per-axis deconvolution factors W(n_i)^−1 = (x / sin x)^p for FFT indices 0..N−1 ('none': ones). */
export function masCorrection(n: number, mas: MassAssignment | 'none'): Float64Array {
  const c = new Float64Array(n).fill(1);
  if (mas === 'none') return c;
  const p = masOrder(mas);
  for (let i = 0; i < n; i++) c[i] = masWindow(waveIndex(i, n), n, p, -1);
  return c;
}

/**
 * Product over the three axes of the window W^q of scheme `mas` on the rfftn half-grid [n, n, n/2+1]
 * (q = −1 deconvolves one pass of the scheme).
 */
export function masWindowHalfGrid(n: number, mas: MassAssignment, q: number): Float32Array {
  const p = masOrder(mas);
  const { full, half } = waveNumbers(n);
  const nh = half.length;
  const wf = Float64Array.from(full, (m) => masWindow(m, n, p, q));
  const wh = Float64Array.from(half, (m) => masWindow(m, n, p, q));
  const out = new Float32Array(n * n * nh);
  let idx = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < nh; k++) out[idx++] = wf[i]! * wf[j]! * wh[k]!;
  return out;
}

/** Wraps every coordinate into [0, L) in place. */
export function wrapPositions(pos: Float64Array | Float32Array, boxSize: number): void {
  for (let i = 0; i < pos.length; i++) {
    let v = pos[i]!;
    if (v < 0 || v >= boxSize) {
      v -= Math.floor(v / boxSize) * boxSize;
      if (v >= boxSize) v = 0;
      pos[i] = v;
    }
  }
}
