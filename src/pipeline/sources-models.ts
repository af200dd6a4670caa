/**
 * The source models of the stochasticity study (Davies et al. 2025, Sec. 6, Table 2) as `lodi reionize` runs them:
 *   'v4-mean-norm'     sampled halos, log-normal scatter, relations give the linear mean (the default run);
 *   'v4-no-mean-norm'  sampled halos, log-normal scatter, relations give the median (fixed log-log mean);
 *   'v4-no-scatter'    sampled halos, σ_* = σ_SFR,lim = σ_SFR,idx = σ_X = 0;
 *   'chmf-on-grid'     no halos: the CHMF of each cell times the mean relations, box means fixed to the
 *                      unconditional-HMF expectation (src/astro/reion/chmf-sources.ts);
 *   'v3-default'       no halos and no source grid: at every filter radius R of the excursion set, the CHMF of the
 *                      sphere's filtered density on the mass scale M(R) times the mean relations, mean-fixed per
 *                      radius (src/astro/reion/fcoll-sources.ts).
 */
import { growthFactor } from '../cosmo/background.js';
import type { Cosmology } from '../cosmo/params.js';
import { SigmaM } from '../cosmo/sigma.js';
import { LinearPower } from '../cosmo/power.js';
import type { AstroParams } from '../astro/params.js';
import { withoutScatter, withRelationNormalisation } from '../astro/galaxy/scatter-variants.js';
import { CHMF_QUANTITIES, chmfSourceGrids, type ChmfDensity } from '../astro/reion/chmf-sources.js';
import { FcollSources } from '../astro/reion/fcoll-sources.js';
import { FcollShellSources } from '../astro/spin/fcoll-shells.js';
import { filterRadii, type ReionParams } from '../astro/reion/params.js';
import { cellDensity, densityK } from '../astro/sampler/linear-field.js';
import { ciiLuminosity } from '../astro/lim/cii.js';
import type { SamplerParams } from '../astro/sampler/params.js';
import { dispose } from '@lodi/torch';
import { HMF_REFERENCE } from './sources-figures.js';
import { EvolvedDensity, photonsToMassEquivalentArray } from './sources-grids.js';

export const SOURCE_MODELS = ['v4-mean-norm', 'v4-no-mean-norm', 'v4-no-scatter', 'chmf-on-grid', 'v3-default'] as const;
export type SourceModel = (typeof SOURCE_MODELS)[number];

/** One-line description of each model (report tables, --help). */
export const SOURCE_MODEL_LABELS: Record<SourceModel, string> = {
  'v4-mean-norm': 'v4 Mean Norm: sampled halos, scatter, relations = linear mean',
  'v4-no-mean-norm': 'v4 No Mean Norm: sampled halos, scatter, relations = median (fixed log-log mean)',
  'v4-no-scatter': 'v4 No Astro Scatter: sampled halos, σ_* = σ_SFR,lim = σ_SFR,idx = σ_X = 0',
  'chmf-on-grid': 'CHMF on Grid: cell-scale CHMF × mean relations, box means fixed to the HMF expectation',
  'v3-default': 'v3 Default: CHMF of the filtered density on every excursion-set radius × mean relations, mean-fixed per radius',
};

/**
 * Checks a model name.
 * @throws Error naming the option, the value and the accepted names
 */
export function parseSourceModel(name: string, option = '--source-model'): SourceModel {
  if ((SOURCE_MODELS as readonly string[]).includes(name)) return name as SourceModel;
  throw new Error(`${option} ${JSON.stringify(name)}: expected one of ${SOURCE_MODELS.join(', ')}`);
}

/** The galaxy parameters a model runs with, from the run's parameters. */
export function sourceModelAstro(model: SourceModel, astro: AstroParams): AstroParams {
  if (model === 'v4-no-scatter') return withoutScatter(astro);
  if (model === 'v4-no-mean-norm') return withRelationNormalisation(astro, 'median');
  if (model === 'v4-mean-norm') return withRelationNormalisation(astro, 'mean');
  return astro;
}

/** Whether a model draws galaxies on sampled halos. */
export function isSampledModel(model: SourceModel): boolean {
  return model !== 'chmf-on-grid' && model !== 'v3-default';
}

/** Gridded sources of one redshift from the grid model, in the reionisation driver's units. */
export interface GridModelSources {
  /** n_ion and ṅ_ion as mass equivalents [(Msun/h)/(Mpc/h)^3, (Msun/h)/s/(Mpc/h)^3] (sources-grids.ts). */
  emissivity: Float32Array;
  rate: Float32Array;
  /** SFR density [Msun/yr per (Mpc/h)^3] and L_X density [1e38 erg/s per (Mpc/h)^3] (as gridDawnSources). */
  sfr: Float32Array;
  xray: Float32Array;
  /** [CII] luminosity per cell [Lsun] (Eq. 26 of the cell's SFR; linear, so the sum over its galaxies). */
  cii: Float32Array;
  /** Box totals: photons, M_* [Msun] and SFR [Msun/yr]. */
  totalPhotons: number;
  totalStellarMass: number;
  totalSfr: number;
  /** Unconditional-HMF expectation and raw box mean of n_ion [photons per (Mpc/h)^3]. */
  nIonExpected: number;
  nIonRawMean: number;
}

/**
 * Mass range [Msun/h] of the sub-sampler component of the sampled models: the mean CHMF of each cell integrated from
 * the code's minimum source mass, M_turn / 50 (hmf.c `minimum_source_mass` with M_MIN_in_Mass, its default: "a small
 * lower bound to cover far below the turnover" of the exp(−M_turn/M) suppression), or M_MIN_INTEGRAL = 1e5 Msun with
 * USE_MINI_HALOS (whose molecular-cooling turnover lies below M_turn / 50), to the sampler's minimum mass
 * (HaloBox.c: `set_fixed_grids(M_min, SAMPLER_MIN_MASS)` for every sampled run; Davies et al. 2025, Sec. 2: "we account
 * for the radiation emitted from halos below the user-defined limit by integrating over the average CHMF"). Null when
 * the sampler's minimum mass is at or below that bound.
 */
export function belowSamplerRange(astro: AstroParams, samplerMinMass: number, h: number): { min: number; max: number } | null {
  const min = (astro.USE_MINI_HALOS ? 1e5 : 10 ** astro.M_TURN / 50) * h;
  return samplerMinMass > min ? { min, max: samplerMinMass } : null;
}

/**
 * The 'chmf-on-grid' sources of a box, redshift by redshift; with `massRange` only the halos in that range (the
 * sub-sampler component of a sampled model, mean-fixed to the unconditional expectation of the range).
 */
export class ChmfGridSources {
  private readonly sigma: SigmaM;
  private lagrangian: { delta: Float32Array; mover: EvolvedDensity } | null = null;

  constructor(
    private readonly c: {
      cosmo: Cosmology;
      boxSize: number;
      grid: number;
      astro: AstroParams;
      sampler: Pick<SamplerParams, 'model' | 'barrier' | 'deltaC' | 'minMass'>;
      densityKind: ChmfDensity;
      /** z = 0 linear field on the fine grid (for 'lagrangian'). */
      linear: Float32Array;
      /** Halo masses integrated [Msun/h] (default: from the sampler's minimum mass to the cell mass). */
      massRange?: { min: number; max?: number };
    },
  ) {
    this.sigma = new SigmaM(new LinearPower(c.cosmo));
  }

  /**
   * Sources at z; `evolved` is the Eulerian δ(z) on the grid (used with 'eulerian'). With 'lagrangian' each cell's
   * integrals are made on its linear density and then moved, with the cell's 2LPT displacement, to its Eulerian
   * position by cloud-in-cell (the code's `move_grid_galprops`): totals are kept, the mean fix is unchanged.
   */
  at(z: number, evolved: Float32Array): GridModelSources {
    const { cosmo, boxSize, grid } = this.c;
    let density: ArrayLike<number> = evolved;
    if (this.c.densityKind === 'lagrangian') {
      const lag = this.lagrangianCells();
      const D = growthFactor(cosmo, z);
      density = Float64Array.from(lag.delta, (v) => v * D);
    }
    const g = chmfSourceGrids({
      density,
      grid,
      boxSize,
      z,
      cosmo,
      sigma: this.sigma,
      astro: this.c.astro,
      chmf: this.c.sampler,
      minMass: this.c.massRange?.min ?? this.c.sampler.minMass,
      maxMass: this.c.massRange?.max,
      densityKind: this.c.densityKind,
      massFunction: HMF_REFERENCE,
    });
    if (this.c.densityKind === 'lagrangian') {
      // per-volume values of equal cells: carrying them as weights gives the moved per-volume values
      const { mover } = this.lagrangianCells();
      for (const key of CHMF_QUANTITIES) g[key] = mover.carry(z, g[key]);
    }
    const h = cosmo.h;
    const volume = boxSize ** 3;
    const vCell = volume / grid ** 3;
    const sum = (a: Float64Array): number => a.reduce((s, v) => s + v, 0);
    return {
      emissivity: Float32Array.from(photonsToMassEquivalentArray(g.nIon, h)),
      rate: Float32Array.from(photonsToMassEquivalentArray(g.nIonDot, h)),
      sfr: Float32Array.from(g.sfr),
      xray: Float32Array.from(g.lx, (v) => v * 1e-38),
      cii: Float32Array.from(ciiLuminosity(Float64Array.from(g.sfr, (v) => v * vCell))),
      totalPhotons: sum(g.nIon) * vCell,
      totalStellarMass: sum(g.stellarMass) * vCell,
      totalSfr: sum(g.sfr) * vCell,
      nIonExpected: g.expected.nIon,
      nIonRawMean: g.boxMeanRaw.nIon,
    };
  }

  /**
   * The cells' z = 0 linear density (the sampler's cell-filtered field) and the 2LPT mover of that coarse field's nodes
   * (its displacements are the code's lowres velocities); made once.
   */
  private lagrangianCells(): { delta: Float32Array; mover: EvolvedDensity } {
    if (this.lagrangian) return this.lagrangian;
    const { boxSize, grid } = this.c;
    const m = Math.round(Math.cbrt(this.c.linear.length));
    const dk = densityK(this.c.linear, m);
    let delta: Float32Array;
    try {
      delta = cellDensity(dk, m, boxSize, grid);
    } finally {
      dispose(dk);
    }
    this.lagrangian = { delta, mover: new EvolvedDensity(delta, boxSize, grid, this.c.cosmo, 2) };
    return this.lagrangian;
  }
}

/**
 * The 'v3-default' sources of a box (src/astro/reion/fcoll-sources.ts): the sampler's CHMF and minimum mass, the
 * mean relations of `astro`, the mean fix to the 21cmFAST Sheth–Tormen HMF, σ(M) tabulated up to the sphere of the
 * largest filter radius of `reion`.
 */
export function v3Sources(c: {
  cosmo: Cosmology;
  boxSize: number;
  grid: number;
  astro: AstroParams;
  reion: ReionParams;
  sampler: Pick<SamplerParams, 'model' | 'barrier' | 'deltaC' | 'minMass'>;
  /** Smallest halo mass [Msun/h] (default the sampler's). */
  minMass?: number;
}): FcollSources {
  const radii = filterRadii(c.reion, c.boxSize, c.grid, c.cosmo.h, false);
  return v3Fcoll(c, radii[radii.length - 1]!, c.reion.recombinations);
}

/**
 * The 'v3-default' X-ray and Lyman-α sources of the spin-temperature shells (src/astro/spin/fcoll-shells.ts): the
 * same CHMF, minimum mass, relations and mean fix as {@link v3Sources}, σ(M) tabulated up to the sphere of the
 * outermost shell, R_MAX_TS = `rMaxMpc` [Mpc, no h].
 */
export function v3ShellSources(c: V3Common & { rMaxMpc: number }): FcollShellSources {
  return new FcollShellSources(v3Fcoll(c, c.rMaxMpc * c.cosmo.h, false), c.cosmo);
}

/** What both v3 source sets take from the run. */
interface V3Common {
  cosmo: Cosmology;
  astro: AstroParams;
  sampler: Pick<SamplerParams, 'model' | 'barrier' | 'deltaC' | 'minMass'>;
  minMass?: number;
}

/** The v3 CHMF tables up to the sphere of `maxRadius` [Mpc/h], with the photon rate or without. */
function v3Fcoll(c: V3Common, maxRadius: number, rate: boolean): FcollSources {
  return new FcollSources({
    cosmo: c.cosmo,
    sigma: new SigmaM(new LinearPower(c.cosmo)),
    astro: c.astro,
    chmf: c.sampler,
    minMass: c.minMass ?? c.sampler.minMass,
    maxRadius,
    rate,
    massFunction: HMF_REFERENCE,
  });
}
