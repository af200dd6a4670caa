/**
 * Mesh helpers private to the simulator: Fourier wavenumber grids for real FFTs and the CIC
 * paint / readout used inside the particle-mesh force loop (tight typed-array loops, no allocation
 * per particle). Conventions follow the rest of lodi: C order [x][y][z], periodic, CIC nodes at cell
 * corners (x_i = i L / N), positions in Mpc/h.
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

/**
 * Adds the CIC-assigned weights of particles at `pos` (flat [np*3], Mpc/h, any real values: wrapped
 * periodically) to the n^3 grid `out` (C order). `weights` defaults to 1 per particle.
 */
export function cicPaint(pos: ArrayLike<number>, n: number, boxSize: number, out: Float32Array, weights?: ArrayLike<number>): void {
  const np = Math.floor(pos.length / 3);
  const s = n / boxSize;
  const nn = n * n;
  for (let p = 0; p < np; p++) {
    let x = pos[3 * p]! * s;
    let y = pos[3 * p + 1]! * s;
    let z = pos[3 * p + 2]! * s;
    x -= Math.floor(x / n) * n;
    y -= Math.floor(y / n) * n;
    z -= Math.floor(z / n) * n;
    let i0 = Math.floor(x);
    let j0 = Math.floor(y);
    let k0 = Math.floor(z);
    const dx = x - i0;
    const dy = y - j0;
    const dz = z - k0;
    if (i0 >= n) i0 -= n;
    if (j0 >= n) j0 -= n;
    if (k0 >= n) k0 -= n;
    const i1 = i0 + 1 === n ? 0 : i0 + 1;
    const j1 = j0 + 1 === n ? 0 : j0 + 1;
    const k1 = k0 + 1 === n ? 0 : k0 + 1;
    const w = weights ? weights[p]! : 1;
    const tx0 = (1 - dx) * w;
    const tx1 = dx * w;
    const ty0 = 1 - dy;
    const ty1 = dy;
    const tz0 = 1 - dz;
    const tz1 = dz;
    const a00 = i0 * nn + j0 * n;
    const a01 = i0 * nn + j1 * n;
    const a10 = i1 * nn + j0 * n;
    const a11 = i1 * nn + j1 * n;
    out[a00 + k0] += tx0 * ty0 * tz0;
    out[a00 + k1] += tx0 * ty0 * tz1;
    out[a01 + k0] += tx0 * ty1 * tz0;
    out[a01 + k1] += tx0 * ty1 * tz1;
    out[a10 + k0] += tx1 * ty0 * tz0;
    out[a10 + k1] += tx1 * ty0 * tz1;
    out[a11 + k0] += tx1 * ty1 * tz0;
    out[a11 + k1] += tx1 * ty1 * tz1;
  }
}

/**
 * CIC interpolation of three n^3 grids (gx, gy, gz) at the particle positions; results are written
 * to `out` (flat [np*3]). The same kernel as {@link cicPaint}, so PM forces are pairwise antisymmetric.
 */
export function cicReadout3(
  pos: ArrayLike<number>,
  n: number,
  boxSize: number,
  gx: Float32Array,
  gy: Float32Array,
  gz: Float32Array,
  out: Float64Array,
): void {
  const np = Math.floor(pos.length / 3);
  const s = n / boxSize;
  const nn = n * n;
  for (let p = 0; p < np; p++) {
    let x = pos[3 * p]! * s;
    let y = pos[3 * p + 1]! * s;
    let z = pos[3 * p + 2]! * s;
    x -= Math.floor(x / n) * n;
    y -= Math.floor(y / n) * n;
    z -= Math.floor(z / n) * n;
    let i0 = Math.floor(x);
    let j0 = Math.floor(y);
    let k0 = Math.floor(z);
    const dx = x - i0;
    const dy = y - j0;
    const dz = z - k0;
    if (i0 >= n) i0 -= n;
    if (j0 >= n) j0 -= n;
    if (k0 >= n) k0 -= n;
    const i1 = i0 + 1 === n ? 0 : i0 + 1;
    const j1 = j0 + 1 === n ? 0 : j0 + 1;
    const k1 = k0 + 1 === n ? 0 : k0 + 1;
    const a00 = i0 * nn + j0 * n;
    const a01 = i0 * nn + j1 * n;
    const a10 = i1 * nn + j0 * n;
    const a11 = i1 * nn + j1 * n;
    const w000 = (1 - dx) * (1 - dy) * (1 - dz);
    const w001 = (1 - dx) * (1 - dy) * dz;
    const w010 = (1 - dx) * dy * (1 - dz);
    const w011 = (1 - dx) * dy * dz;
    const w100 = dx * (1 - dy) * (1 - dz);
    const w101 = dx * (1 - dy) * dz;
    const w110 = dx * dy * (1 - dz);
    const w111 = dx * dy * dz;
    const vx =
      w000 * gx[a00 + k0]! + w001 * gx[a00 + k1]! + w010 * gx[a01 + k0]! + w011 * gx[a01 + k1]! +
      w100 * gx[a10 + k0]! + w101 * gx[a10 + k1]! + w110 * gx[a11 + k0]! + w111 * gx[a11 + k1]!;
    const vy =
      w000 * gy[a00 + k0]! + w001 * gy[a00 + k1]! + w010 * gy[a01 + k0]! + w011 * gy[a01 + k1]! +
      w100 * gy[a10 + k0]! + w101 * gy[a10 + k1]! + w110 * gy[a11 + k0]! + w111 * gy[a11 + k1]!;
    const vz =
      w000 * gz[a00 + k0]! + w001 * gz[a00 + k1]! + w010 * gz[a01 + k0]! + w011 * gz[a01 + k1]! +
      w100 * gz[a10 + k0]! + w101 * gz[a10 + k1]! + w110 * gz[a11 + k0]! + w111 * gz[a11 + k1]!;
    out[3 * p] = vx;
    out[3 * p + 1] = vy;
    out[3 * p + 2] = vz;
  }
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
