import { join } from 'node:path';
import { disposeGroups, readCheckpoint, writeCheckpoint } from '../../src/train/checkpoint.js';
import { LODI_KIND, type LodiMeta } from '../../src/lodi/checkpoint.js';
import { lodiPreset } from '../../src/lodi/config.js';
import type { LodiPair } from '../../src/lodi/dataset.js';
import { Rng } from '../../src/lodi/dataset.js';
import { trainLodi } from '../../src/lodi/train.js';
import { saveGrid } from '../../src/io/grid.js';
import { cropPeriodic } from '../../src/lodi/dataset.js';

/**
 * A small synthetic (halo channels, T_b) pair: clumpy positive halo fields (a few Gaussian blobs per
 * channel on a floor of zeros) and T_b a smooth function of them with exact zeros far from halos.
 */
export function syntheticPair(n: number, seed: number, name = `synthetic-${seed}`): LodiPair {
  const rng = new Rng(seed);
  const n3 = n ** 3;
  const halos = new Float32Array(4 * n3);
  const tb = new Float32Array(n3);
  for (let ch = 0; ch < 4; ch++) {
    const blobs = 6 - ch;
    for (let b = 0; b < blobs; b++) {
      const c = [rng.int(n), rng.int(n), rng.int(n)];
      const amp = 10 ** (10 + ch * 0.7 + rng.next());
      for (let x = -3; x <= 3; x++)
        for (let y = -3; y <= 3; y++)
          for (let z = -3; z <= 3; z++) {
            const i = ((((c[0]! + x) % n) + n) % n) * n * n + ((((c[1]! + y) % n) + n) % n) * n + ((((c[2]! + z) % n) + n) % n);
            const w = Math.exp(-(x * x + y * y + z * z) / 3);
            halos[ch * n3 + i]! += amp * w;
          }
    }
  }
  for (let i = 0; i < n3; i++) {
    let s = 0;
    for (let ch = 0; ch < 4; ch++) s += halos[ch * n3 + i]!;
    tb[i] = s > 1e9 ? 1e-12 * s : 0;
  }
  return { name, n, boxSize: n * 0.2, redshift: 0, tb, halos, channels: 4, tbUnit: 'mK', haloUnit: '(Msun/h)/(Mpc/h)^3', seed, smoothingR: 0.2, massBins: null };
}

/** A `tiny`-preset LODI trained for 6 steps on one 32^3 synthetic pair, in <dir>/model; returns that path. */
export async function tinyModel(dir: string): Promise<string> {
  const cfg = lodiPreset('tiny');
  cfg.train.steps = 6;
  cfg.train.evalEvery = 6;
  await trainLodi({ worlds: [syntheticPair(32, 1)], config: cfg, out: join(dir, 'model'), seed: 2, quiet: true });
  return join(dir, 'model');
}

/**
 * Sets the T_b standard deviation of the transform in `<modelDir>/best.safetensors`. A model trained for a few steps
 * generates y of up to ~900 (measured), beyond the float32 range of its T_b transform (tbInverse refuses such y); the
 * sharding and kill tests compare whole workflows file for file, not T_b values, and need every y to have a T_b.
 */
export function narrowTbTransform(modelDir: string, tbStd: number): void {
  const file = join(modelDir, 'best.safetensors');
  const ck = readCheckpoint<LodiMeta>(file, LODI_KIND);
  try {
    ck.meta.normalisation.tbStd = tbStd;
    writeCheckpoint(file, LODI_KIND, Object.fromEntries(ck.groups), ck.meta);
  } finally {
    disposeGroups(ck.groups);
  }
}

/**
 * Halo channels [4, n, n, n] cut from the synthetic 32^3 pair of `seed` (voxel 0.2 Mpc/h, z = 0), written
 * with their sidecar as `dir`/halos.npy, for the generation tests; returns the path and the values.
 */
export function writeSyntheticHalos(dir: string, n: number, seed: number): { path: string; halos: Float32Array } {
  const halos = cropPeriodic(syntheticPair(32, seed).halos, 4, 32, [0, 0, 0], n);
  const path = join(dir, 'halos.npy');
  saveGrid(path, { data: halos, shape: [4, n, n, n], meta: { boxSize: n * 0.2, redshift: 0, quantity: 'halo_mass_density', unit: '(Msun/h)/(Mpc/h)^3' } });
  return { path, halos };
}
