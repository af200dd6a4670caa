/**
 * The linear (Lagrangian) density field of the sampler: real-space top-hat filtering of the z = 0 linear
 * overdensity on the fine ("hi-res") grid of the initial conditions, as the public code does for its
 * low-resolution density and for the DexM finder (`filter_box` with the spherical top-hat,
 * W(kR) = 3 (sin kR - kR cos kR) / (kR)^3).
 *
 * Grid convention: nodes at x_i = i L / n (C order); the coarse sampler grid of `grid` cells per side has its
 * nodes on every (n / grid)-th fine node.
 */
import { F, noGrad, tensor, tidy, type Tensor } from '@lodi/torch';
import { radialHalfGrid } from '../../field/kgrid.js';

/** Factor between the side of a cube and the radius of the sphere of equal volume, (4 pi / 3)^(-1/3). */
export const L_FACTOR = Math.cbrt(3 / (4 * Math.PI));

/** Fourier transform of the real-space spherical top-hat, W(x) = 3 (sin x - x cos x) / x^3. */
export function topHatWindow(x: number): number {
  if (x < 1e-4) return 1 - (x * x) / 10;
  return (3 * (Math.sin(x) - x * Math.cos(x))) / (x * x * x);
}

/** Top-hat filter of radius R [Mpc/h] on the rfftn half grid of an n^3 box of side L. */
export function topHatHalfGrid(n: number, boxSize: number, R: number): Float32Array {
  const kF = (2 * Math.PI) / boxSize;
  return radialHalfGrid(n, (k2) => topHatWindow(Math.sqrt(k2) * kF * R));
}

/**
 * The field of `dk` (rfftn of an n^3 real grid, numpy normalisation) filtered with a top-hat of radius
 * R [Mpc/h] (R = 0: unfiltered), back in real space, [n^3] float32.
 */
export function filteredField(dk: Tensor, n: number, boxSize: number, R: number): Float32Array {
  return noGrad(() =>
    tidy(() => {
      const size = [n, n, n];
      const f = R > 0 ? dk.mul(tensor(topHatHalfGrid(n, boxSize, R), [n, n, (n >> 1) + 1])) : dk;
      return F.irfftn(f, size).contiguous().toFloat32Array();
    }),
  );
}

/** Every (n / grid)-th node of an n^3 field: the coarse grid^3 field on the coarse nodes. */
export function subsample(field: Float32Array, n: number, grid: number): Float32Array {
  if (n % grid !== 0) throw new Error(`subsample: fine grid ${n} is not a multiple of the coarse grid ${grid}`);
  if (n === grid) return field.slice();
  const f = n / grid;
  const out = new Float32Array(grid * grid * grid);
  let o = 0;
  for (let i = 0; i < grid; i++) {
    for (let j = 0; j < grid; j++) {
      const base = (i * f * n + j * f) * n;
      for (let k = 0; k < grid; k++) out[o++] = field[base + k * f]!;
    }
  }
  return out;
}

/**
 * The linear overdensity of each sampler cell at z = 0, [grid^3]: the fine field filtered with the top-hat of
 * the cell's volume (radius L_FACTOR L / grid) and read at the coarse nodes; unfiltered when n = grid.
 */
export function cellDensity(dk: Tensor, n: number, boxSize: number, grid: number): Float32Array {
  const R = n === grid ? 0 : (L_FACTOR * boxSize) / grid;
  return subsample(filteredField(dk, n, boxSize, R), n, grid);
}

/** Unnormalised forward rfftn of a real n^3 grid (the convention of src/nbody/ic.ts linearDensityK). */
export function densityK(field: Float32Array, n: number): Tensor {
  if (field.length !== n * n * n) throw new Error(`linear density has ${field.length} values, expected ${n}^3 = ${n * n * n}`);
  return noGrad(() => tidy(() => F.rfftn(tensor(field, [n, n, n]))));
}
