/**
 * The scatter of a simulated world's own T_b at fixed halos: `lodi simulate` paints the HI on the FoF
 * halos with random draws per halo (M_HI scatter at fixed mass, core radius, shape, satellite clumps;
 * docs/hi-painting.md), so the halos fix T_b only up to those draws. Repainting the HI of the same halos
 * with other seeds gives maps of the exact p(T_b | halos) of the world's model: compared with the truth
 * as generated maps are (`lodi evaluate`), they give the scores a perfect sampler would get, the
 * reference against which LODI's P(k) residual and r(k) are to be read.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { paintHI } from '../astro/hi-paint.js';
import { CAMELS_CV, type Cosmology } from '../cosmo/index.js';
import { prepareGrids } from '../field/prepare.js';
import { readFofCatalogue } from '../io/fof.js';
import type { WorldGrids } from '../io/world.js';

/** Seed of repaint j ≥ 1 of a world with IC seed `seed` (disjoint from the IC seeds of the worlds). */
export const repaintSeed = (seed: number, j: number): number => (seed + 100_000 * j) % 2 ** 32;

/** HI-painting options a world's simulate command may have changed from the defaults (see `lodi simulate`). */
const PAINT_FLAGS = ['--hi-scatter'];

/**
 * `count` repaints [N^3] of the T_b of a simulated world (T_b in mK, as its tb.npy), or why there are none:
 * a world not made by `lodi simulate`, without fof.hdf5, made with non-default HI-painting options, or one
 * whose own seed does not paint its tb.npy again (checked first, to 1e-5 of max |T_b|).
 */
export async function repaintTb(world: WorldGrids, count: number): Promise<{ maps: Float32Array[] } | { skipped: string }> {
  const dir = world.dir ?? '.';
  const p = world.provenance;
  if (p.generator !== 'lodi simulate' || typeof p.seed !== 'number') return { skipped: `${dir} was not made by lodi simulate` };
  const fofFile = join(dir, 'fof.hdf5');
  if (!existsSync(fofFile)) return { skipped: `${fofFile} not found` };
  if (!world.tb) return { skipped: `${dir} has no tb.npy` };
  const command = typeof p.command === 'string' ? p.command : '';
  const flag = PAINT_FLAGS.find((f) => command.includes(f));
  if (flag) return { skipped: `${dir} was painted with ${flag} (not repainted)` };
  const cosmo: Cosmology = { ...CAMELS_CV, ...(world.cosmology ?? {}) };
  const fof = await readFofCatalogue(fofFile);
  const halos = { positions: fof.groups.positions, masses: fof.groups.masses };
  const paint = async (seed: number): Promise<Float32Array> => {
    const hi = paintHI(halos, { boxSize: world.boxSize, redshift: world.redshift, seed, cosmo });
    const g = await prepareGrids({
      boxSize: world.boxSize,
      redshift: world.redshift,
      grid: world.grid,
      cosmology: cosmo,
      hiParticles: { positions: hi.positions, mHI: hi.masses },
      smoothingR: world.smoothingR ?? 0.2,
    });
    return g.tb!;
  };
  const own = await paint(p.seed);
  let maxT = 0;
  let maxD = 0;
  for (let i = 0; i < own.length; i++) {
    maxT = Math.max(maxT, Math.abs(world.tb[i]!));
    maxD = Math.max(maxD, Math.abs(own[i]! - world.tb[i]!));
  }
  if (own.length !== world.tb.length || !(maxD <= 1e-5 * maxT)) return { skipped: `repainting ${dir} with its own seed ${p.seed} does not give back its tb.npy (max difference ${maxD.toExponential(2)} mK)` };
  const maps: Float32Array[] = [];
  for (let j = 1; j <= count; j++) maps.push(await paint(repaintSeed(p.seed, j)));
  return { maps };
}
