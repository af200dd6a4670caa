/**
 * A rectilinear lightcone from coeval boxes, as 21cmFAST's RectilinearLightconer (lightconers.py).
 *
 * Slices sit at comoving distances d_j = d(z_min) + j Δx (Δx = L/N, Mpc/h) up to d(z_max). Slice j
 * takes plane (j + offset) mod N of the boxes along the line-of-sight axis (the code's default
 * index_offset gives offset 0) and interpolates linearly in comoving distance between the two
 * coeval boxes whose distances bracket d_j:
 *   F_j = (|d_b − d_j| F_a + |d_a − d_j| F_b) / |d_a − d_b|.
 */
import { comovingDistance } from '../../cosmo/background.js';
import type { Cosmology } from '../../cosmo/params.js';

export interface LightconeInput {
  /** Coeval boxes [N^3] (C order), one per redshift. */
  boxes: readonly ArrayLike<number>[];
  /** Redshifts of the boxes (any order, distinct). */
  redshifts: readonly number[];
  cosmology: Cosmology;
  /** Box side L [Mpc/h] and cells per side N. */
  boxSize: number;
  grid: number;
  /** Redshift range of the lightcone (default: that of the boxes). */
  zMin?: number;
  zMax?: number;
  /** Line-of-sight axis of the boxes (default 2). */
  axis?: 0 | 1 | 2;
  /** Plane offset along the line of sight (default 0). */
  indexOffset?: number;
}

export interface Lightcone {
  /** Field [N, N, nSlices], C order: the two transverse axes (in box order) then the line of sight. */
  field: Float32Array;
  nSlices: number;
  /** Comoving distance of each slice [Mpc/h]. */
  distances: Float64Array;
  /** Redshift of each slice. */
  redshifts: Float64Array;
}

/** Redshift at comoving distance d [Mpc/h] by interpolation on a dense table over [z0, z1]. */
function redshiftsAt(c: Cosmology, d: Float64Array, z0: number, z1: number): Float64Array {
  const m = 257;
  const zs = Float64Array.from({ length: m }, (_, i) => z0 + ((z1 - z0) * i) / (m - 1));
  const ds = Float64Array.from(zs, (z) => comovingDistance(c, z));
  return Float64Array.from(d, (x) => {
    let i = 0;
    while (i < m - 2 && ds[i + 1]! < x) i++;
    const t = (x - ds[i]!) / (ds[i + 1]! - ds[i]!);
    return zs[i]! + t * (zs[i + 1]! - zs[i]!);
  });
}

/**
 * Builds the lightcone.
 *
 * @throws Error when boxes and redshifts disagree in number or size, fewer than two boxes are given,
 * or [zMin, zMax] is outside the boxes' redshift range.
 */
export function rectilinearLightcone(inp: LightconeInput): Lightcone {
  const n = inp.grid;
  const n3 = n * n * n;
  if (inp.boxes.length !== inp.redshifts.length) throw new Error(`rectilinearLightcone: ${inp.boxes.length} boxes for ${inp.redshifts.length} redshifts`);
  if (inp.boxes.length < 2) throw new Error(`rectilinearLightcone: need at least 2 coeval boxes, got ${inp.boxes.length}`);
  inp.boxes.forEach((b, i) => {
    if (b.length !== n3) throw new Error(`rectilinearLightcone: boxes[${i}] has ${b.length} values, expected N^3 = ${n3}`);
  });
  const order = inp.redshifts.map((z, i) => ({ z, i })).sort((a, b) => a.z - b.z);
  for (let k = 1; k < order.length; k++) {
    if (!(order[k]!.z > order[k - 1]!.z)) throw new Error(`rectilinearLightcone: redshifts must be distinct, ${order[k]!.z} repeats`);
  }
  const zLo = order[0]!.z;
  const zHi = order[order.length - 1]!.z;
  const zMin = inp.zMin ?? zLo;
  const zMax = inp.zMax ?? zHi;
  if (!(zMin >= zLo && zMax <= zHi && zMin < zMax)) {
    throw new Error(`rectilinearLightcone: lightcone range [${zMin}, ${zMax}] must lie within the boxes' redshifts [${zLo}, ${zHi}]`);
  }
  const dc = order.map((o) => comovingDistance(inp.cosmology, o.z));
  const cell = inp.boxSize / n;
  const d0 = comovingDistance(inp.cosmology, zMin);
  const d1 = comovingDistance(inp.cosmology, zMax);
  const nSlices = Math.floor((d1 - d0) / cell + 1e-9) + 1;
  const distances = Float64Array.from({ length: nSlices }, (_, j) => d0 + j * cell);
  const axis = inp.axis ?? 2;
  const offset = inp.indexOffset ?? 0;
  const field = new Float32Array(n * n * nSlices);
  // strides of (transverse a, transverse b, line of sight) in the box
  const strides = [n * n, n, 1];
  const [sa, sb] = [0, 1, 2].filter((a) => a !== axis).map((a) => strides[a]!);
  const sl = strides[axis]!;
  let k = 0;
  for (let j = 0; j < nSlices; j++) {
    const d = distances[j]!;
    while (k < dc.length - 2 && dc[k + 1]! <= d) k++;
    const da = dc[k]!;
    const db = dc[k + 1]!;
    const A = inp.boxes[order[k]!.i]!;
    const B = inp.boxes[order[k + 1]!.i]!;
    const wa = Math.abs(db - d) / Math.abs(db - da);
    const wb = Math.abs(da - d) / Math.abs(db - da);
    const plane = (((j + offset) % n) + n) % n;
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        const src = a * sa! + b * sb! + plane * sl;
        field[(a * n + b) * nSlices + j] = wa * A[src]! + wb * B[src]!;
      }
    }
  }
  return { field, nSlices, distances, redshifts: redshiftsAt(inp.cosmology, distances, zMin, zMax) };
}
