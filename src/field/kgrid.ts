/**
 * Mesh helpers private to the simulator: Fourier wavenumber grids for real FFTs, Green's-function and
 * window grids, and periodic wrapping. Conventions follow the rest of lodi: C order [x][y][z],
 * periodic, positions in Mpc/h. CIC painting and readout are src/field's `paint` / `readout`.
 */
import { tensor, type Tensor } from '@lodi/torch';

/**
 * Integer wavenumbers of the axes of an rfftn of an n^3 grid: `full` for the first two axes (length n),
 * `half` for the last (length n/2+1). The Nyquist index n/2 (even n) has wavenumber -n/2 on the full
 * axes and +n/2 on the half axis, as in numpy.
 */
export function waveNumbers(n: number): { full: Int32Array; half: Int32Array } {
  const full = new Int32Array(n);
  for (let i = 0; i < n; i++) full[i] = i < Math.ceil(n / 2) ? i : i - n;
  const nh = Math.floor(n / 2) + 1;
  const half = new Int32Array(nh);
  for (let i = 0; i < nh; i++) half[i] = i;
  return { full, half };
}

/**
 * Tensors of the wavenumbers k_x [n,1,1], k_y [1,n,1], k_z [1,1,n/2+1] in h/Mpc for a box of side L
 * (Mpc/h). With `zeroNyquist`, the Nyquist entries are 0: use these for odd (gradient) operators so the
 * inverse real FFT stays exactly the transform of a real field (and PM forces stay antisymmetric).
 */
export function kTensors(n: number, boxSize: number, zeroNyquist: boolean): [Tensor, Tensor, Tensor] {
  const kF = (2 * Math.PI) / boxSize;
  const { full, half } = waveNumbers(n);
  const kf = new Float32Array(n);
  const kh = new Float32Array(half.length);
  for (let i = 0; i < n; i++) kf[i] = zeroNyquist && n % 2 === 0 && i === n / 2 ? 0 : full[i]! * kF;
  for (let i = 0; i < half.length; i++) kh[i] = zeroNyquist && n % 2 === 0 && i === n / 2 ? 0 : half[i]! * kF;
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

/**
 * Product over the three axes of the CIC window sinc^2(pi n_i / N) on the rfftn half-grid, raised to
 * the power `p` (p = -1 deconvolves one CIC pass).
 */
export function cicWindowHalfGrid(n: number, p: number): Float32Array {
  const { full, half } = waveNumbers(n);
  const nh = half.length;
  const w1 = (m: number): number => {
    if (m === 0) return 1;
    const x = (Math.PI * m) / n;
    const s = Math.sin(x) / x;
    return s * s;
  };
  const wf = Float64Array.from(full, (m) => Math.pow(w1(m), p));
  const wh = Float64Array.from(half, (m) => Math.pow(w1(m), p));
  const out = new Float32Array(n * n * nh);
  let idx = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < nh; k++) out[idx++] = wf[i]! * wf[j]! * wh[k]!;
  return out;
}

/** Wraps every coordinate into [0, L). */
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
