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
import { paintHI, type HiPaintOptions } from '../astro/hi-paint.js';
import { CAMELS_CV, type Cosmology } from '../cosmo/index.js';
import { crossPowerSpectrum, type PowerOptions } from '../field/power.js';
import { prepareGrids } from '../field/prepare.js';
import { readFofCatalogue } from '../io/fof.js';
import type { WorldGrids, WorldProvenance } from '../io/world.js';
import { absStats, interpLogK, meanCurve, residualBootstrap } from './evaluate-stats.js';

/** Seed of repaint j ≥ 1 of a world with IC seed `seed` (disjoint from the IC seeds of the worlds). */
export const repaintSeed = (seed: number, j: number): number => (seed + 100_000 * j) % 2 ** 32;

/** HI-painting options a world's simulate command may have changed from the defaults (see `lodi simulate`). */
const PAINT_FLAGS = ['--hi-scatter'];

/** Keys of HiPaintOptions a world may record (provenance.hiPaint), with the type each must have. */
const PAINT_KEYS = {
  hiParams: 'object',
  scatterDex: 'number',
  preserveMean: 'boolean',
  slope: 'number',
  coreMedian: 'number',
  coreScatterDex: 'number',
  triaxial: 'boolean',
  axisRatioMin: 'number',
  satelliteFraction: 'number',
  satelliteMinMass: 'number',
  particleMass: 'number',
  minParticles: 'number',
  maxParticles: 'number',
  // the compiler keeps this list equal to HiPaintOptions' painting settings (a key added there must be added here)
} satisfies Record<Exclude<keyof HiPaintOptions, 'boxSize' | 'redshift' | 'seed' | 'cosmo'>, 'number' | 'boolean' | 'object'>;

/**
 * The HI-painting options a world was made with: its recorded provenance.hiPaint, or for a world written
 * before that was recorded, the defaults unless its command line changed them (then a reason to skip).
 */
function paintOptions(dir: string, p: WorldProvenance): { options: Partial<HiPaintOptions> } | { skipped: string } {
  if (p.hiPaint !== undefined) {
    if (typeof p.hiPaint !== 'object' || p.hiPaint === null) return { skipped: `${dir}/world.json: hiPaint is not an object of HI-painting options` };
    for (const [key, v] of Object.entries(p.hiPaint)) {
      const want: string | undefined = (PAINT_KEYS as Record<string, string>)[key];
      if (!want) return { skipped: `${dir}/world.json: hiPaint.${key} is not an HI-painting option this version knows` };
      if (typeof v !== want || v === null) return { skipped: `${dir}/world.json: hiPaint.${key} should be a ${want}, got ${JSON.stringify(v)}` };
    }
    return { options: p.hiPaint as Partial<HiPaintOptions> };
  }
  const command = typeof p.command === 'string' ? p.command : '';
  const flag = PAINT_FLAGS.find((f) => command.includes(f));
  if (flag) return { skipped: `${dir} was painted with ${flag} and does not record its HI-painting options (not repainted)` };
  return { options: {} };
}

/**
 * `count` repaints [N^3] of the T_b of a simulated world (T_b in mK, as its tb.npy), with the HI-painting
 * options the world records (provenance.hiPaint), or why there are none: a world not made by `lodi simulate`,
 * without fof.hdf5, with unreadable painting options, an older world made with non-default ones (not
 * recorded then), or one whose own seed does not paint its tb.npy again (checked first, to 1e-5 of max |T_b|).
 */
export async function repaintTb(world: WorldGrids, count: number): Promise<{ maps: Float32Array[] } | { skipped: string }> {
  const dir = world.dir ?? '.';
  const p = world.provenance;
  if (p.generator !== 'lodi simulate' || typeof p.seed !== 'number') return { skipped: `${dir} was not made by lodi simulate` };
  const fofFile = join(dir, 'fof.hdf5');
  if (!existsSync(fofFile)) return { skipped: `${fofFile} not found` };
  if (!world.tb) return { skipped: `${dir} has no tb.npy` };
  const paintOpts = paintOptions(dir, p);
  if ('skipped' in paintOpts) return paintOpts;
  const cosmo: Cosmology = { ...CAMELS_CV, ...(world.cosmology ?? {}) };
  const fof = await readFofCatalogue(fofFile);
  const halos = { positions: fof.groups.positions, masses: fof.groups.masses };
  const paint = async (seed: number): Promise<Float32Array> => {
    const hi = paintHI(halos, { ...paintOpts.options, boxSize: world.boxSize, redshift: world.redshift, seed, cosmo });
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

/** The spectra of one field's repaints against its truth. */
export interface RepaintSpectra {
  /** Bin centres [h/Mpc]. */
  k: Float64Array;
  /** P(k) of the truth's T̂_b [(Mpc/h)^3]. */
  pTrue: Float64Array;
  /** P(k) of each repaint's T̂_b [(Mpc/h)^3]. */
  p: Float64Array[];
  /** r(k) of each repaint's T̂_b with the truth's. */
  r: Float64Array[];
}

/**
 * P(k) and r(k) with the truth of each repaint. `hats`: the repaints' T̂_b = T_b/⟨T_b⟩ [N^3], prepared
 * as the truth's T̂_b `tHat` was (same smoothing); `opts`: box and mass-assignment correction of the
 * truth. Throws (crossPowerSpectrum) on a size mismatch.
 */
export function repaintSpectra(hats: Float32Array[], tHat: Float32Array, n: number, opts: PowerOptions): RepaintSpectra {
  if (!hats.length) throw new Error('repaintSpectra: no repaints');
  const xs = hats.map((h) => crossPowerSpectrum(h, tHat, n, opts));
  return { k: xs[0]!.k, pTrue: xs[0]!.p22, p: xs.map((x) => x.p11), r: xs.map((x) => x.r) };
}

/** The reference scores of HI repaints, as metrics.json `truth_scatter` holds them. */
export interface TruthScatterScores {
  repaints_per_field: number[];
  /** Mean and max over k ≤ kMax of the pooled P_repaint/P_true − 1. */
  mean_abs_residual_k_le_10: number;
  max_abs_residual_k_le_10: number;
  /** Mean r(k) of the repaints with their truths at k = 1 h/Mpc (log-k interpolation). */
  r_at_k_1: number;
  /** Pooled P_repaint/P_true − 1 and mean r(k), per k bin of the first field. */
  residual: number[];
  r: number[];
}

/**
 * Pools the repaints of several fields as `lodi evaluate` pools generated maps: per field the mean of its
 * repaints' P(k) over P_true, minus 1; then the mean over fields, scored over k ≤ kMax [h/Mpc]; r(k) is
 * the mean over all repaints. Throws when the fields have different k bins.
 */
export function poolRepaints(fields: RepaintSpectra[], kMax: number): TruthScatterScores {
  if (!fields.length) throw new Error('poolRepaints: no fields');
  const k = fields[0]!.k;
  // (only the pooled mean of residualBootstrap is used: the reference carries no error bars)
  const res = residualBootstrap(fields.map((f) => f.pTrue), fields.map((f) => f.p), { samples: 2, seed: 0 });
  const a = absStats(k, res.mean, kMax);
  const r = meanCurve(fields.flatMap((f) => f.r))!;
  return {
    repaints_per_field: fields.map((f) => f.p.length),
    mean_abs_residual_k_le_10: a.mean,
    max_abs_residual_k_le_10: a.max,
    r_at_k_1: interpLogK(k, r, 1),
    residual: Array.from(res.mean),
    r: Array.from(r),
  };
}
