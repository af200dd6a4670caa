/**
 * LODI generation beyond one process's memory: the standardised map and the halo conditioning read
 * and written box by box in `.npy` files (src/io/npy-file.ts), so several processes can share one work
 * file. Boxes of one stage never overlap (src/lodi/planner.ts) and a box writes only its `writeMask`
 * voxels, as runs along z: concurrent writers touch disjoint bytes, never whole rows. Memory per box is
 * O(C crop^3), whatever the size of the grid.
 */
import type { NpyVolume } from '../io/npy-file.js';
import type { CondSource, StandardisedStore } from './generate.js';
import { haloForward, type LodiNormalisation } from './transform.js';

/** `StandardisedStore` over a float32 work file [X, Y, Z] shared by several processes. */
export function fileStore(work: NpyVolume): StandardisedStore {
  return {
    read: (coords, out) => work.readBox(coords, out),
    write: (coords, vals, mask) => work.writeMasked(coords, vals, mask),
  };
}

/**
 * `CondSource` reading a box of the halo channels [C, X, Y, Z] from disk and standardising it with
 * `haloForward`: the transform is per voxel, so the values equal those of transforming the whole
 * grid and cutting the box out of it.
 */
export function fileCond(halos: NpyVolume, norm: LodiNormalisation): CondSource {
  return (coords, out) => {
    halos.readBox(coords, out);
    haloForward(out, halos.channels, norm, out);
  };
}
