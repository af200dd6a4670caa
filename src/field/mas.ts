/**
 * Mass assignment: NGP, CIC and TSC painting of particles onto a periodic N^3 grid, and read-out
 * (interpolation back to particle positions) with the same kernels.
 *
 * Conventions (as in Pylians' MAS_library): grid nodes sit at cell corners, x_i = i L/N; positions
 * are in Mpc/h and are wrapped periodically into [0, L); the grid is float32, C order [x][y][z];
 * the painted value is the summed weight per cell (a mass in Msun/h when the weights are masses),
 * not a density. Painting accumulates into `out` when given, so particles can be streamed in chunks.
 */

export type MassAssignment = 'NGP' | 'CIC' | 'TSC';

/** Window exponent p of a mass-assignment scheme (W(k) = sinc^p per axis). */
export const MAS_ORDER: Record<MassAssignment, number> = { NGP: 1, CIC: 2, TSC: 3 };

export interface PaintOptions {
  /** Cells per side N. */
  grid: number;
  /** Box side L in Mpc/h. */
  boxSize: number;
  /** Per-particle weights (e.g. masses in Msun/h) or one weight for all particles (default 1). */
  weights?: Float32Array | Float64Array | number;
  mas: MassAssignment;
  /** Accumulate into this N^3 array instead of a new one. */
  out?: Float32Array;
}

/** A chunk of particles for streaming: positions [n*3] in Mpc/h and optional weights. */
export interface ParticleChunkLike {
  positions: Float32Array | Float64Array;
  weights?: Float32Array | Float64Array | number;
}

export function checkGridArgs(grid: number, boxSize: number): void {
  if (!Number.isInteger(grid) || grid < 1) throw new Error(`grid must be a positive integer number of cells per side, got ${grid}`);
  if (!(boxSize > 0) || !Number.isFinite(boxSize)) throw new Error(`boxSize must be a positive number of Mpc/h, got ${boxSize}`);
}

/** Paints particles onto a periodic N^3 grid; returns `out` (or a new array) holding summed weights per cell. */
export function paint(positions: Float32Array | Float64Array, opts: PaintOptions): Float32Array {
  const n = opts.grid;
  checkGridArgs(n, opts.boxSize);
  if (positions.length % 3 !== 0) throw new Error(`positions must be a flat [n*3] array, got length ${positions.length}`);
  const np = positions.length / 3;
  const out = opts.out ?? new Float32Array(n * n * n);
  if (out.length !== n * n * n) throw new Error(`out has ${out.length} cells, grid ${n}^3 needs ${n * n * n}`);
  const w = opts.weights ?? 1;
  if (typeof w !== 'number' && w.length !== np) throw new Error(`weights has ${w.length} entries for ${np} particles`);
  switch (opts.mas) {
    case 'NGP':
      paintNGP(positions, np, n, opts.boxSize, w, out);
      break;
    case 'CIC':
      paintCIC(positions, np, n, opts.boxSize, w, out);
      break;
    case 'TSC':
      paintTSC(positions, np, n, opts.boxSize, w, out);
      break;
    default:
      throw new Error(`unknown mass-assignment scheme '${String(opts.mas)}' (use NGP, CIC or TSC)`);
  }
  return out;
}

/** Paints a stream of chunks (e.g. 1M particles at a time) into one grid. */
export async function paintChunked(
  chunks: Iterable<ParticleChunkLike> | AsyncIterable<ParticleChunkLike>,
  opts: Omit<PaintOptions, 'weights'> & { weights?: number },
): Promise<Float32Array> {
  const out = opts.out ?? new Float32Array(opts.grid ** 3);
  for await (const c of chunks as AsyncIterable<ParticleChunkLike>) {
    paint(c.positions, { ...opts, out, weights: c.weights ?? opts.weights ?? 1 });
  }
  return out;
}

/** Position in cell units, wrapped into [0, n). */
function wrap(d: number, n: number): number {
  if (d < 0 || d >= n) {
    d -= n * Math.floor(d / n);
    if (d >= n) d = 0; // rounding of a tiny negative value
  }
  return d;
}

function paintNGP(pos: ArrayLike<number>, np: number, n: number, L: number, w: ArrayLike<number> | number, out: Float32Array): void {
  const inv = n / L;
  const n2 = n * n;
  const uniform = typeof w === 'number';
  for (let p = 0; p < np; p++) {
    let ix = Math.floor(wrap(pos[3 * p]! * inv, n) + 0.5);
    let iy = Math.floor(wrap(pos[3 * p + 1]! * inv, n) + 0.5);
    let iz = Math.floor(wrap(pos[3 * p + 2]! * inv, n) + 0.5);
    if (ix >= n) ix -= n;
    if (iy >= n) iy -= n;
    if (iz >= n) iz -= n;
    out[ix * n2 + iy * n + iz]! += uniform ? w : (w as ArrayLike<number>)[p]!;
  }
}

function paintCIC(pos: ArrayLike<number>, np: number, n: number, L: number, w: ArrayLike<number> | number, out: Float32Array): void {
  const inv = n / L;
  const n2 = n * n;
  const uniform = typeof w === 'number';
  const wu = uniform ? w : 0;
  const wa = uniform ? null : (w as ArrayLike<number>);
  for (let p = 0; p < np; p++) {
    const dx = wrap(pos[3 * p]! * inv, n);
    const dy = wrap(pos[3 * p + 1]! * inv, n);
    const dz = wrap(pos[3 * p + 2]! * inv, n);
    const ix = dx | 0;
    const iy = dy | 0;
    const iz = dz | 0;
    const ux = dx - ix;
    const uy = dy - iy;
    const uz = dz - iz;
    const m = wa === null ? wu : wa[p]!;
    const x0 = ix * n2;
    const x1 = (ix + 1 === n ? 0 : ix + 1) * n2;
    const y0 = iy * n;
    const y1 = (iy + 1 === n ? 0 : iy + 1) * n;
    const z1 = iz + 1 === n ? 0 : iz + 1;
    const mx0 = m * (1 - ux);
    const mx1 = m * ux;
    const a00 = mx0 * (1 - uy);
    const a01 = mx0 * uy;
    const a10 = mx1 * (1 - uy);
    const a11 = mx1 * uy;
    const vz = 1 - uz;
    out[x0 + y0 + iz]! += a00 * vz;
    out[x0 + y0 + z1]! += a00 * uz;
    out[x0 + y1 + iz]! += a01 * vz;
    out[x0 + y1 + z1]! += a01 * uz;
    out[x1 + y0 + iz]! += a10 * vz;
    out[x1 + y0 + z1]! += a10 * uz;
    out[x1 + y1 + iz]! += a11 * vz;
    out[x1 + y1 + z1]! += a11 * uz;
  }
}

/** TSC weights of the 3 nodes nearest to d (cell units); writes node indices and weights. */
function tsc1(d: number, n: number, idx: Int32Array, wt: Float64Array): void {
  const c = Math.floor(d + 0.5); // nearest node
  const s = d - c; // in [-0.5, 0.5)
  wt[0] = 0.5 * (0.5 - s) * (0.5 - s);
  wt[1] = 0.75 - s * s;
  wt[2] = 0.5 * (0.5 + s) * (0.5 + s);
  idx[0] = (c - 1 + n) % n;
  idx[1] = c % n;
  idx[2] = (c + 1) % n;
}

function paintTSC(pos: ArrayLike<number>, np: number, n: number, L: number, w: ArrayLike<number> | number, out: Float32Array): void {
  const inv = n / L;
  const n2 = n * n;
  const uniform = typeof w === 'number';
  const ixs = new Int32Array(3), iys = new Int32Array(3), izs = new Int32Array(3);
  const wx = new Float64Array(3), wy = new Float64Array(3), wz = new Float64Array(3);
  for (let p = 0; p < np; p++) {
    tsc1(wrap(pos[3 * p]! * inv, n), n, ixs, wx);
    tsc1(wrap(pos[3 * p + 1]! * inv, n), n, iys, wy);
    tsc1(wrap(pos[3 * p + 2]! * inv, n), n, izs, wz);
    const m = uniform ? w : (w as ArrayLike<number>)[p]!;
    for (let a = 0; a < 3; a++) {
      const xa = ixs[a]! * n2;
      const ma = m * wx[a]!;
      for (let b = 0; b < 3; b++) {
        const xb = xa + iys[b]! * n;
        const mb = ma * wy[b]!;
        out[xb + izs[0]!]! += mb * wz[0]!;
        out[xb + izs[1]!]! += mb * wz[1]!;
        out[xb + izs[2]!]! += mb * wz[2]!;
      }
    }
  }
}

/**
 * Interpolates an N^3 periodic grid (C order) at particle positions [n*3] in Mpc/h with the same
 * kernel as painting (CIC: trilinear between the 8 surrounding corner nodes).
 */
export function readout(
  grid: Float32Array | Float64Array,
  n: number,
  boxSize: number,
  positions: Float32Array | Float64Array,
  mas: MassAssignment = 'CIC',
): Float32Array {
  checkGridArgs(n, boxSize);
  if (grid.length !== n * n * n) throw new Error(`grid has ${grid.length} cells, expected ${n}^3 = ${n * n * n}`);
  const np = positions.length / 3;
  const res = new Float32Array(np);
  const inv = n / boxSize;
  const n2 = n * n;
  if (mas === 'NGP') {
    for (let p = 0; p < np; p++) {
      const ix = Math.floor(wrap(positions[3 * p]! * inv, n) + 0.5) % n;
      const iy = Math.floor(wrap(positions[3 * p + 1]! * inv, n) + 0.5) % n;
      const iz = Math.floor(wrap(positions[3 * p + 2]! * inv, n) + 0.5) % n;
      res[p] = grid[ix * n2 + iy * n + iz]!;
    }
  } else if (mas === 'CIC') {
    for (let p = 0; p < np; p++) {
      const dx = wrap(positions[3 * p]! * inv, n);
      const dy = wrap(positions[3 * p + 1]! * inv, n);
      const dz = wrap(positions[3 * p + 2]! * inv, n);
      const ix = dx | 0, iy = dy | 0, iz = dz | 0;
      const ux = dx - ix, uy = dy - iy, uz = dz - iz;
      const x0 = ix * n2, x1 = (ix + 1 === n ? 0 : ix + 1) * n2;
      const y0 = iy * n, y1 = (iy + 1 === n ? 0 : iy + 1) * n;
      const z0 = iz, z1 = iz + 1 === n ? 0 : iz + 1;
      const vx = 1 - ux, vy = 1 - uy, vz = 1 - uz;
      res[p] =
        vx * (vy * (vz * grid[x0 + y0 + z0]! + uz * grid[x0 + y0 + z1]!) + uy * (vz * grid[x0 + y1 + z0]! + uz * grid[x0 + y1 + z1]!)) +
        ux * (vy * (vz * grid[x1 + y0 + z0]! + uz * grid[x1 + y0 + z1]!) + uy * (vz * grid[x1 + y1 + z0]! + uz * grid[x1 + y1 + z1]!));
    }
  } else if (mas === 'TSC') {
    const ixs = new Int32Array(3), iys = new Int32Array(3), izs = new Int32Array(3);
    const wx = new Float64Array(3), wy = new Float64Array(3), wz = new Float64Array(3);
    for (let p = 0; p < np; p++) {
      tsc1(wrap(positions[3 * p]! * inv, n), n, ixs, wx);
      tsc1(wrap(positions[3 * p + 1]! * inv, n), n, iys, wy);
      tsc1(wrap(positions[3 * p + 2]! * inv, n), n, izs, wz);
      let s = 0;
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++)
          for (let c = 0; c < 3; c++) s += wx[a]! * wy[b]! * wz[c]! * grid[ixs[a]! * n2 + iys[b]! * n + izs[c]!]!;
      res[p] = s;
    }
  } else {
    throw new Error(`unknown mass-assignment scheme '${String(mas)}' (use NGP, CIC or TSC)`);
  }
  return res;
}
