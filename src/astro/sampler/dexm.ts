/**
 * Excursion-set Lagrangian halo finder for halos above the sampler's cell mass (DexM, Mesinger & Furlanetto
 * 2007; the public 21cmFAST code's `ComputeHaloCatalog`, used by Davies et al. 2025, Sec. 2.2):
 *   - the z = 0 linear density on the fine grid is filtered with a real-space top-hat of radius R, from the
 *     largest radius R_0 (1.01 x the cell mass) x deltaRFactor^k above L_FACTOR x L, down by deltaRFactor
 *     while R > L_FACTOR L / n and M(R) >= the cell mass;
 *   - scales whose halos are rarer than rareSigma sigma (rareSigma sigma(M, z) < delta_crit) are skipped;
 *   - every node (C order) with D(z) delta_R > delta_crit(M) that is not yet inside a halo, and has no flagged
 *     node within overlapFactor x R, becomes a halo of mass M(R) at the node; the nodes within R are flagged.
 * delta_crit is the finder's ellipsoidal barrier (the code's DexM fit a = 0.73, b = 0.15, c = 0.05, in the
 * form of Davies et al. 2025 Eq. 2).
 *
 * The sampler then removes from each cell the fraction of its mass inside these halos: the flags, filtered
 * with the cell's top-hat and read at the coarse nodes, clamped to [0, 1] (`halo_overlap_box`).
 */
import type { Tensor } from '@lodi/torch';
import { growthFactor } from '../../cosmo/background.js';
import { collapseBarrier } from '../../cosmo/conditional.js';
import type { SigmaM } from '../../cosmo/sigma.js';
import { L_FACTOR, densityK, filteredField, subsample } from './linear-field.js';
import type { DexmParams } from './params.js';

export interface DexmInput {
  /** rfftn of the z = 0 linear overdensity on the fine n^3 grid. */
  dk: Tensor;
  n: number;
  /** Box side [Mpc/h]. */
  boxSize: number;
  /** Redshift of the halos. */
  z: number;
  sigma: SigmaM;
  /** Smallest halo mass considered [Msun/h]: the sampler's cell mass. */
  minMass: number;
  params: DexmParams;
  rareSigma: number;
  deltaC: number;
  /** Called after each filter scale. */
  onScale?: (R: number, found: number) => void;
}

export interface DexmResult {
  /** Halo masses [Msun/h], in C order of their nodes. */
  mass: Float64Array;
  /** Lagrangian positions [Mpc/h] (fine-grid nodes), [count * 3]. */
  pos: Float32Array;
  /** 1 where a fine node lies inside a halo, [n^3]. */
  inHalo: Uint8Array;
  /** Filter radii [Mpc/h] that were filtered (not skipped as too rare). */
  radii: number[];
}

/** Marks (mode 'flag') or tests (mode 'test': returns true if one is flagged) the nodes within radius r cells of (x, y, z). */
function sphere(flags: Uint8Array, n: number, x: number, y: number, z: number, r: number, mode: 'flag' | 'test'): boolean {
  const ri = Math.ceil(r);
  const r2 = r * r;
  for (let dx = -ri; dx <= ri; dx++) {
    const xi = (((x + dx) % n) + n) % n;
    const ax = Math.min(Math.abs(dx) % n, n - (Math.abs(dx) % n));
    for (let dy = -ri; dy <= ri; dy++) {
      const yi = (((y + dy) % n) + n) % n;
      const ay = Math.min(Math.abs(dy) % n, n - (Math.abs(dy) % n));
      const dxy = ax * ax + ay * ay;
      if (dxy >= r2) continue;
      const row = (xi * n + yi) * n;
      for (let dz = -ri; dz <= ri; dz++) {
        const az = Math.min(Math.abs(dz) % n, n - (Math.abs(dz) % n));
        // strictly inside, as the code's pixel_in_halo (nearest periodic image)
        if (dxy + az * az >= r2) continue;
        const idx = row + ((((z + dz) % n) + n) % n);
        if (mode === 'test') {
          if (flags[idx]) return true;
        } else flags[idx] = 1;
      }
    }
  }
  return false;
}

/** Runs the finder; see the module comment. */
export function findLagrangianHalos(o: DexmInput): DexmResult {
  const { dk, n, boxSize, sigma, params } = o;
  const n3 = n * n * n;
  const D = growthFactor(sigma.power.cosmo, o.z);
  const barrier = { model: 'st' as const, barrier: params.barrier, deltaC: o.deltaC };
  const inHalo = new Uint8Array(n3);
  const haloMass = new Float64Array(n3);
  const cellSize = boxSize / n;
  const deltaR = (L_FACTOR * 2 * boxSize) / n;
  let R = sigma.radius(o.minMass * 1.01);
  while (R < L_FACTOR * boxSize) R *= params.deltaRFactor;
  const radii: number[] = [];
  let count = 0;
  while (R > 0.5 * deltaR && sigma.mass(R) >= o.minMass) {
    const M = sigma.mass(R);
    const s = sigma.sigma(M) * D;
    const dcrit = collapseBarrier(s * s, barrier);
    if (o.rareSigma * s < dcrit) {
      R /= params.deltaRFactor;
      continue;
    }
    radii.push(R);
    const field = filteredField(dk, n, boxSize, R);
    const rCells = R / cellSize;
    const thr = dcrit / D;
    let idx = 0;
    let found = 0;
    for (let x = 0; x < n; x++) {
      for (let y = 0; y < n; y++) {
        for (let z = 0; z < n; z++, idx++) {
          if (!(field[idx]! > thr) || inHalo[idx]) continue;
          if (sphere(inHalo, n, x, y, z, params.overlapFactor * rCells, 'test')) continue;
          sphere(inHalo, n, x, y, z, rCells, 'flag');
          haloMass[idx] = M;
          found++;
        }
      }
    }
    count += found;
    o.onScale?.(R, found);
    R /= params.deltaRFactor;
  }
  const mass = new Float64Array(count);
  const pos = new Float32Array(3 * count);
  let h = 0;
  for (let idx = 0; idx < n3 && h < count; idx++) {
    const m = haloMass[idx]!;
    if (!(m > 0)) continue;
    mass[h] = m;
    const x = Math.floor(idx / (n * n));
    const y = Math.floor(idx / n) % n;
    const z = idx % n;
    pos[3 * h] = x * cellSize;
    pos[3 * h + 1] = y * cellSize;
    pos[3 * h + 2] = z * cellSize;
    h++;
  }
  return { mass, pos, inHalo, radii };
}

/**
 * Fraction of each coarse cell's mass inside finder halos, [grid^3] in [0, 1]: the fine flags filtered with
 * the cell's top-hat (radius L_FACTOR L / grid) and read at the coarse nodes; the flags themselves when
 * n = grid.
 */
export function overlapFraction(inHalo: Uint8Array, n: number, boxSize: number, grid: number): Float32Array {
  const f = new Float32Array(inHalo.length);
  for (let i = 0; i < f.length; i++) f[i] = inHalo[i]!;
  if (n === grid) return f;
  const fk = densityK(f, n);
  try {
    const out = subsample(filteredField(fk, n, boxSize, (L_FACTOR * boxSize) / grid), n, grid);
    for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, out[i]!));
    return out;
  } finally {
    fk.dispose();
  }
}
