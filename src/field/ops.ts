/**
 * Real-space operations on periodic grids (float32, C order [x][y][z], or [C][x][y][z] for
 * multi-channel grids): overdensity and mean normalisation, block-average downsampling, periodic
 * sub-volume extraction with wrap-around.
 */
import { cubeSize, wrapIndex } from './kgrid.js';

/** Mean of an array, accumulated in float64. */
export function mean(data: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i]!;
  return s / data.length;
}

/** Sum of an array, accumulated in float64. */
export function sum(data: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < data.length; i++) s += data[i]!;
  return s;
}

/** Overdensity δ = ρ/ρ̄ − 1 (dimensionless); ρ̄ is the field's own mean unless given. */
export function overdensity(rho: Float32Array, rhoMean?: number): Float32Array {
  const m = rhoMean ?? mean(rho);
  if (!(m !== 0) || !Number.isFinite(m)) throw new Error(`overdensity: mean density is ${m}; cannot normalise`);
  const out = new Float32Array(rho.length);
  const inv = 1 / m;
  for (let i = 0; i < rho.length; i++) out[i] = rho[i]! * inv - 1;
  return out;
}

/** Field divided by its mean (e.g. T_b / <T_b>, dimensionless). */
export function normalizeByMean(x: Float32Array, xMean?: number): Float32Array {
  const m = xMean ?? mean(x);
  if (!(m !== 0) || !Number.isFinite(m)) throw new Error(`normalizeByMean: mean is ${m}; cannot normalise`);
  const out = new Float32Array(x.length);
  const inv = 1 / m;
  for (let i = 0; i < x.length; i++) out[i] = x[i]! * inv;
  return out;
}

/**
 * Block-average downsampling by an integer factor f: each output cell is the mean of an f^3 block,
 * so densities stay densities (multiply by f^3 to sum masses instead). Works on [N,N,N] and [C,N,N,N].
 */
export function downsample(data: Float32Array, shape: readonly number[], factor: number): { data: Float32Array; shape: number[] } {
  const n = cubeSize(data, shape);
  if (!Number.isInteger(factor) || factor < 1 || n % factor !== 0) {
    throw new Error(`downsample: factor must be a positive integer dividing N=${n}, got ${factor}`);
  }
  const m = n / factor;
  const channels = shape.length === 4 ? shape[0]! : 1;
  const out = new Float32Array(channels * m * m * m);
  const acc = new Float64Array(m * m * m);
  const inv = 1 / (factor * factor * factor);
  for (let c = 0; c < channels; c++) {
    acc.fill(0);
    const off = c * n * n * n;
    for (let x = 0; x < n; x++) {
      const ox = ((x / factor) | 0) * m * m;
      for (let y = 0; y < n; y++) {
        const oxy = ox + ((y / factor) | 0) * m;
        const base = off + (x * n + y) * n;
        for (let z = 0; z < n; z++) acc[oxy + ((z / factor) | 0)]! += data[base + z]!;
      }
    }
    const o = c * m * m * m;
    for (let i = 0; i < acc.length; i++) out[o + i] = acc[i]! * inv;
  }
  return { data: out, shape: shape.length === 4 ? [channels, m, m, m] : [m, m, m] };
}

/**
 * Periodic sub-volume of `size`^3 cells starting at cell `start` (any integers; wraps around the box,
 * several times when `size` > N). `nOrShape` is N for an [N,N,N] grid or the shape [N,N,N] /
 * [C,N,N,N]; the result keeps the channel axis ([size,size,size] or [C,size,size,size]).
 */
export function extractSubvolume(
  data: Float32Array,
  nOrShape: number | readonly number[],
  start: readonly [number, number, number] | readonly number[],
  size: number,
): Float32Array {
  const shape = typeof nOrShape === 'number' ? [nOrShape, nOrShape, nOrShape] : nOrShape;
  const n = cubeSize(data, shape);
  if (!Number.isInteger(size) || size < 1) throw new Error(`extractSubvolume: size must be a positive integer, got ${size}`);
  if (start.length !== 3 || start.some((s) => !Number.isInteger(s))) throw new Error(`extractSubvolume: start must be 3 integers, got [${start.join(',')}]`);
  const channels = shape.length === 4 ? shape[0]! : 1;
  const n3 = n * n * n;
  const out = new Float32Array(channels * size * size * size);
  const zs = new Int32Array(size);
  for (let k = 0; k < size; k++) zs[k] = wrapIndex(start[2]! + k, n);
  // a run of z that does not wrap is copied in one block
  const contiguous = zs[0]! + size <= n;
  let o = 0;
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < size; i++) {
      const x = wrapIndex(start[0]! + i, n);
      for (let j = 0; j < size; j++) {
        const base = c * n3 + (x * n + wrapIndex(start[1]! + j, n)) * n;
        if (contiguous) {
          out.set(data.subarray(base + zs[0]!, base + zs[0]! + size), o);
          o += size;
        } else for (let k = 0; k < size; k++) out[o++] = data[base + zs[k]!]!;
      }
    }
  }
  return out;
}
