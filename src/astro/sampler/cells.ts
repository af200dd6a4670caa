/**
 * Number-limited sampling of Lagrangian cells at the lowest redshift (Davies et al. 2025, Sec. 2.2; the
 * public code's `sample_halo_grids` / `stoc_halo_sample`): in each cell of mass M_cell and linear
 * overdensity delta (at z), N ~ Poisson((1 - f) N_exp(delta)) halos (Eq. 5), with f the fraction of the
 * cell inside halos of the Lagrangian halo finder, masses from the inverse CDF, positions uniform in the
 * cell. Cells with delta >= maxDeltaCFrac delta_crit hold one halo of mass (1 - f) M_cell; cells with
 * delta <= deltaMin hold none. Drawn masses below minMass (the table floor is minMass / bufferFactor) are
 * discarded.
 *
 * Cell convention: the density grid has its nodes at x_i = i L / N (the project's CIC convention); the cell
 * of node i is the cube of side L/N centred on it.
 */
import type { Rng } from '../../util/rng.js';
import { wrapCoord, type HaloBuffer } from './buffer.js';
import type { ChmfTable } from './tables.js';

export interface CellSamplingInput {
  /** Cell table at the redshift of the halos (from `cellTable`). */
  table: ChmfTable;
  /** Linear overdensity at the redshift of the halos, [grid^3], C order. */
  delta: Float32Array;
  grid: number;
  /** Box side [Mpc/h]. */
  boxSize: number;
  /** Lagrangian mass of a cell [Msun/h]. */
  cellMass: number;
  /** Fraction of each cell's mass inside finder halos, [grid^3] in [0, 1] (absent: 0). */
  overlap?: Float32Array;
  /** Smallest mass kept [Msun/h]. */
  minMass: number;
  /** Cells at or below this delta hold no halo. */
  deltaMin: number;
  /** Cells at or above this delta (maxDeltaCFrac x delta_crit; the table's last node) hold one halo. */
  deltaCollapsed: number;
  rng: Rng;
  /** Halos are appended here (parent = the cell's flat index). */
  out: HaloBuffer;
  /** Called after each x-plane with the planes done. */
  onPlane?: (done: number) => void;
}

/** 2^-32: a 32-bit draw in [0, 1) (positions inside a cell need no more than 32 random bits). */
const INV_2_32 = 1 / 4294967296;

/** Samples every cell; returns the number of halos appended. */
export function sampleCells(o: CellSamplingInput): number {
  const { table, delta, grid, boxSize, cellMass, overlap, minMass, rng, out } = o;
  const n3 = grid * grid * grid;
  if (delta.length !== n3) throw new Error(`sampleCells: delta has ${delta.length} cells, expected grid^3 = ${n3}`);
  if (overlap && overlap.length !== n3) throw new Error(`sampleCells: overlap has ${overlap.length} cells, expected grid^3 = ${n3}`);
  const cell = boxSize / grid;
  const start = out.count;
  let idx = 0;
  for (let i = 0; i < grid; i++) {
    for (let j = 0; j < grid; j++) {
      for (let k = 0; k < grid; k++, idx++) {
        const d = delta[idx]!;
        if (d <= o.deltaMin) continue;
        const keep = overlap ? 1 - overlap[idx]! : 1;
        if (!(keep > 0)) continue;
        if (d >= o.deltaCollapsed) {
          const m = keep * cellMass;
          if (m >= minMass) out.push(m, wrapCoord((i + rng.nextU32() * INV_2_32 - 0.5) * cell, boxSize), wrapCoord((j + rng.nextU32() * INV_2_32 - 0.5) * cell, boxSize), wrapCoord((k + rng.nextU32() * INV_2_32 - 0.5) * cell, boxSize), idx);
          continue;
        }
        table.locate(d);
        const nh = rng.poisson(keep * table.expectedN());
        for (let h = 0; h < nh; h++) {
          // 1 - uniform is in (0, 1], so ln p is finite
          const m = cellMass * Math.exp(table.drawLnRatio(Math.log(1 - rng.uniform())));
          if (m < minMass) continue;
          out.push(m, wrapCoord((i + rng.nextU32() * INV_2_32 - 0.5) * cell, boxSize), wrapCoord((j + rng.nextU32() * INV_2_32 - 0.5) * cell, boxSize), wrapCoord((k + rng.nextU32() * INV_2_32 - 0.5) * cell, boxSize), idx);
        }
      }
    }
    o.onPlane?.(i + 1);
  }
  return out.count - start;
}

/** Expected number of halos over all cells (for sizing the output): sum of (1 - f) N_exp, one per collapsed cell. */
export function expectedCellHalos(o: Pick<CellSamplingInput, 'table' | 'delta' | 'overlap' | 'deltaMin' | 'deltaCollapsed'>): number {
  let s = 0;
  for (let idx = 0; idx < o.delta.length; idx++) {
    const d = o.delta[idx]!;
    if (d <= o.deltaMin) continue;
    const keep = o.overlap ? 1 - o.overlap[idx]! : 1;
    if (!(keep > 0)) continue;
    if (d >= o.deltaCollapsed) {
      s += 1;
      continue;
    }
    o.table.locate(d);
    s += keep * o.table.expectedN();
  }
  return s;
}
