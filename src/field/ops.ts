/**
 * Real-space operations on periodic grids (float32, C order [x][y][z], or [C][x][y][z] for
 * multi-channel grids): the guard on dividing by a mean, overdensity and mean normalisation,
 * block-average downsampling, periodic sub-volume extraction with wrap-around.
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

/** A mean is ~0 when |mean| ≤ MEAN_ZERO_TOLERANCE · rms (and the values have both signs). */
export const MEAN_ZERO_TOLERANCE = 1e-3;

export interface MeanGuardOptions {
  /** Name of the quantity in the message, e.g. "T_b" (default: none). */
  symbol?: string;
  /** Unit appended to the numbers, e.g. "mK" (default: none). */
  unit?: string;
  /** What to do instead, appended to the message after "; ". */
  advice?: string;
}

/**
 * The mean of a field that is about to be divided by it (δ = ρ/ρ̄ − 1, T_b/⟨T_b⟩, a channel normalised
 * by its mean), accumulated in float64. Throws a one-line error starting with `what` when it cannot serve:
 * - a value is not finite;
 * - every value is 0;
 * - |mean| ≤ {@link MEAN_ZERO_TOLERANCE} · rms while the values have both signs: the mean is a
 *   cancellation (the field already is an overdensity, or was mean-subtracted), and dividing by it would
 *   multiply the field by ~1/mean (P(k) ~ 1e17 for a mean of 1e-9 of the rms).
 * A field of one sign (a density, a count) always has a usable mean, however sparse: a halo channel with
 * one occupied cell in 128^3 has |mean| = 7e-4 rms.
 */
export function meanForDivision(data: ArrayLike<number>, what: string, o: MeanGuardOptions = {}): number {
  let s = 0;
  let s2 = 0;
  let neg = 0;
  let pos = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    s += v;
    s2 += v * v;
    if (v < 0) neg++;
    else if (v > 0) pos++;
  }
  const n = data.length;
  const m = s / n;
  const rms = Math.sqrt(s2 / n);
  const sym = o.symbol ? `${o.symbol} ` : '';
  const u = o.unit ? ` ${o.unit}` : '';
  const tail = o.advice ? `; ${o.advice}` : '';
  if (n === 0) throw new Error(`${what}: the field is empty, so it has no mean ${sym}to divide by${tail}`);
  if (!Number.isFinite(m) || !Number.isFinite(rms)) throw new Error(`${what}: the mean ${sym}is ${m}, expected a finite number (the field holds NaN or Inf)${tail}`);
  if (pos === 0 && neg === 0) throw new Error(`${what}: every value is 0, so the mean ${sym}is ~0 and cannot normalise the field${tail}`);
  if (pos > 0 && neg > 0 && !(Math.abs(m) > MEAN_ZERO_TOLERANCE * rms)) {
    throw new Error(
      `${what}: mean ${sym}${m.toPrecision(3)}${u} is ~0 relative to its rms ${rms.toPrecision(3)}${u} (|mean| <= ${MEAN_ZERO_TOLERANCE} rms, values of both signs): ` +
        `the grid looks like an overdensity (or a mean-subtracted field) already, and dividing by its mean would multiply it by ${(1 / Math.abs(m)).toPrecision(2)}${tail}`,
    );
  }
  return m;
}

/**
 * Overdensity δ = ρ/ρ̄ − 1 (dimensionless). ρ̄ is the field's own mean, checked by {@link meanForDivision}
 * (errors start with `what`, default "overdensity"), unless given; a given ρ̄ must be finite and non-zero.
 */
export function overdensity(rho: Float32Array, rhoMean?: number, what = 'overdensity'): Float32Array {
  const m = rhoMean ?? meanForDivision(rho, what, { symbol: 'density', advice: 'use the field as it is' });
  if (!(m !== 0) || !Number.isFinite(m)) throw new Error(`${what}: mean density is ${m}; cannot normalise`);
  const out = new Float32Array(rho.length);
  const inv = 1 / m;
  for (let i = 0; i < rho.length; i++) out[i] = rho[i]! * inv - 1;
  return out;
}

/** Field divided by its mean (e.g. T_b / <T_b>, dimensionless); the mean is checked as in {@link overdensity}. */
export function normalizeByMean(x: Float32Array, xMean?: number, what = 'normalizeByMean'): Float32Array {
  const m = xMean ?? meanForDivision(x, what);
  if (!(m !== 0) || !Number.isFinite(m)) throw new Error(`${what}: mean is ${m}; cannot normalise`);
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
