/**
 * Parameters of the 21cmFAST-v4 halo sampler (Davies, Mesinger & Murray 2025, Sec. 2 and Appendix B) with
 * the defaults of the public 21cmFAST code where they differ from the paper (docs/astro-sampler.md lists
 * both). Masses are in Msun/h (the project's unit); the code's defaults are quoted in Msun and converted
 * with the cosmology's h where they apply.
 */
import { ST_BARRIER_21CMFAST, type ConditionalModel, type EllipsoidalBarrier } from '../../cosmo/conditional.js';

/** Which algorithm draws the progenitors of a descendant halo (Davies et al. 2025, Sec. 2.2, Appendix B). */
export type ProgenitorMethod = 'mass-limited' | 'number-limited' | 'partition' | 'binary-split';
export const PROGENITOR_METHODS: readonly ProgenitorMethod[] = ['mass-limited', 'number-limited', 'partition', 'binary-split'];

/** Minimum sampled halo mass of the code, `SAMPLER_MIN_MASS` = 1e8 Msun (no h). */
export const SAMPLER_MIN_MASS_MSUN = 1e8;

/** DexM barrier of the code (`sheth_delc_dexm` in hmf.c): a = 0.73, b = 0.15, c = 0.05, fitted to ST. */
export const DEXM_BARRIER: EllipsoidalBarrier = Object.freeze({ a: 0.73, alpha: 0.05, beta: 0.15 });

/**
 * Unconditional Sheth-Tormen parameters of the public code (`SHETH_A/a/p` in hmf.c, Jenkins et al. 2001:
 * A = 0.353, a = 0.73, p = 0.175), the "Sheth-Tormen" mass function of Davies et al. 2025 Fig. 4; for use
 * with src/cosmo/massfunction.ts `dndlnM(..., { model: 'st', st: ST_HMF_21CMFAST })`. It agrees with the
 * M_cond -> infinity limit of the sampler's CHMF to ~2% at z = 6 (10% at nu ~ 4); the project's default
 * ST_DEFAULT (0.3222, 0.707, 0.3) is ~10% lower at z = 6, M ~ 1e9 Msun/h.
 */
export const ST_HMF_21CMFAST = Object.freeze({ A: 0.353, a: 0.73, p: 0.175 });

/** Spherical-collapse threshold of the code (`delta_c_sph` = 1.686, the paper's value as well). */
export const SAMPLER_DELTA_C = 1.686;

export interface SamplerParams {
  /** Smallest halo mass kept in the catalogues [Msun/h] (`SAMPLER_MIN_MASS`, 1e8 Msun in the code). */
  minMass: number;
  /**
   * The CHMF tables and draws extend down to minMass / bufferFactor; drawn halos below minMass are discarded
   * (`SAMPLER_BUFFER_FACTOR` = 2). For number-limited draws this only thins a Poisson process; for
   * mass-limited draws it sets the mass budget that the discarded small halos take.
   */
  bufferFactor: number;
  /** Conditional mass function: 'st' (Sheth & Tormen 2002, Davies et al. 2025 Eq. 3; default) or 'eps' (Eq. 1). */
  model: ConditionalModel;
  /** Ellipsoidal barrier (Eq. 2) of the 'st' model; default the code's a = 0.73, beta = 0.34, alpha = 0.81. */
  barrier: EllipsoidalBarrier;
  /** Spherical-collapse threshold delta_c (1.686). */
  deltaC: number;
  /** Condition nodes of the tables (`N_COND_INTERP` = 200). */
  nCond: number;
  /** Probability nodes of the inverse-CDF tables (`N_PROB_INTERP` = 400). */
  nProb: number;
  /** Smallest ln(probability) of the inverse-CDF tables (`MIN_LOGPROB` = -12); smaller draws are clamped. */
  minLogProb: number;
  /** Cells with delta >= maxDeltaCFrac * delta_crit hold one halo of the cell's remaining mass (`MAX_DELTAC_FRAC` = 0.99). */
  maxDeltaCFrac: number;
  /** Cells with delta <= deltaMin hold no halo (`DELTA_MIN` = -1). */
  deltaMin: number;
  /**
   * Mass-limited progenitor draws stop at haloMassCorrection x the expected progenitor mass (`HALOMASS_CORRECTION`
   * = 0.89 in the code; the paper's Appendix B quotes 0.9). The partition sampler divides each nu by it.
   */
  haloMassCorrection: number;
  /** Backward time step: z_prog = (1 + z_desc) zStepFactor - 1 (`ZPRIME_STEP_FACTOR` = 1.02, Sec. 2.2). */
  zStepFactor: number;
  /**
   * Rare-halo truncation: DexM skips filter scales with rareSigma sigma(M) < delta_crit, and a descendant with
   * rareSigma sigma(M_desc, z_prog) < delta_crit gets one progenitor of the expected mass (7, Mesinger et al. 2005).
   */
  rareSigma: number;
  /** Progenitor algorithm (`SAMPLE_METHOD`, default 'mass-limited'). The lowest redshift is always number-limited. */
  progenitorMethod: ProgenitorMethod;
  /** Parkinson et al. (2008) correction G0 (sigma/sigma_cond)^gamma1 (delta/sigma_cond)^gamma2 for 'binary-split' (1, 0, 0). */
  parkinsonG0: number;
  parkinsonGamma1: number;
  parkinsonGamma2: number;
}

export interface DexmParams {
  /** Run the Lagrangian halo finder for halos above the cell mass (default true). */
  enabled: boolean;
  /** Ratio between successive filter radii (`DELTA_R_FACTOR` = 1.1). */
  deltaRFactor: number;
  /** A new halo may not have a flagged pixel within overlapFactor x R of its centre (`DEXM_R_OVERLAP` = 2). */
  overlapFactor: number;
  /** Barrier of the finder (the code's DexM fit, {@link DEXM_BARRIER}). */
  barrier: EllipsoidalBarrier;
}

/** The code's defaults for a cosmology with Hubble parameter h (minMass = 1e8 Msun = 1e8 h Msun/h). */
export function defaultSamplerParams(h: number): SamplerParams {
  return {
    minMass: SAMPLER_MIN_MASS_MSUN * h,
    bufferFactor: 2,
    model: 'st',
    barrier: ST_BARRIER_21CMFAST,
    deltaC: SAMPLER_DELTA_C,
    nCond: 200,
    nProb: 400,
    minLogProb: -12,
    maxDeltaCFrac: 0.99,
    deltaMin: -1,
    haloMassCorrection: 0.89,
    zStepFactor: 1.02,
    rareSigma: 7,
    progenitorMethod: 'mass-limited',
    parkinsonG0: 1,
    parkinsonGamma1: 0,
    parkinsonGamma2: 0,
  };
}

export const DEFAULT_DEXM: DexmParams = Object.freeze({ enabled: true, deltaRFactor: 1.1, overlapFactor: 2, barrier: DEXM_BARRIER });

function need(ok: boolean, name: string, value: unknown, expected: string): void {
  if (!ok) throw new Error(`sampler parameter ${name} = ${String(value)}: expected ${expected}`);
}

/**
 * Fills the defaults and checks every field; throws naming the first bad parameter. The result is frozen (its barrier
 * too), as the other parameter resolvers' (makeCosmology, makeAstroParams, makeReionParams): it is what the outputs record.
 */
export function resolveSamplerParams(h: number, p: Partial<SamplerParams> = {}): Readonly<SamplerParams> {
  const r: SamplerParams = { ...defaultSamplerParams(h), ...p };
  need(r.minMass > 0 && Number.isFinite(r.minMass), 'minMass', r.minMass, 'a positive mass in Msun/h');
  need(r.bufferFactor >= 1 && Number.isFinite(r.bufferFactor), 'bufferFactor', r.bufferFactor, 'a number >= 1');
  need(r.model === 'st' || r.model === 'eps', 'model', r.model, "'st' or 'eps'");
  need(r.barrier.a > 0 && r.barrier.alpha > 0 && r.barrier.beta >= 0, 'barrier', JSON.stringify(r.barrier), 'a > 0, alpha > 0, beta >= 0');
  need(r.deltaC > 0, 'deltaC', r.deltaC, 'a positive threshold');
  need(Number.isInteger(r.nCond) && r.nCond >= 4, 'nCond', r.nCond, 'an integer >= 4');
  need(Number.isInteger(r.nProb) && r.nProb >= 4, 'nProb', r.nProb, 'an integer >= 4');
  need(r.minLogProb < 0 && Number.isFinite(r.minLogProb), 'minLogProb', r.minLogProb, 'a negative number');
  need(r.maxDeltaCFrac > 0 && r.maxDeltaCFrac < 1, 'maxDeltaCFrac', r.maxDeltaCFrac, 'a fraction in (0, 1)');
  need(r.deltaMin >= -1 && r.deltaMin < 0, 'deltaMin', r.deltaMin, 'a number in [-1, 0)');
  need(r.haloMassCorrection > 0 && r.haloMassCorrection <= 2, 'haloMassCorrection', r.haloMassCorrection, 'a factor in (0, 2]');
  need(r.zStepFactor > 1 && r.zStepFactor < 2, 'zStepFactor', r.zStepFactor, 'a factor in (1, 2)');
  need(r.rareSigma > 0, 'rareSigma', r.rareSigma, 'a positive number of sigma');
  need((PROGENITOR_METHODS as readonly string[]).includes(r.progenitorMethod), 'progenitorMethod', r.progenitorMethod, PROGENITOR_METHODS.join(', '));
  need(r.parkinsonG0 > 0, 'parkinsonG0', r.parkinsonG0, 'a positive factor');
  need(r.parkinsonGamma1 < 1 && Number.isFinite(r.parkinsonGamma1), 'parkinsonGamma1', r.parkinsonGamma1, 'a number below 1');
  need(Number.isFinite(r.parkinsonGamma2), 'parkinsonGamma2', r.parkinsonGamma2, 'a finite number');
  return Object.freeze({ ...r, barrier: Object.freeze({ ...r.barrier }) });
}

/** Fills the DexM defaults and checks every field; the result is frozen (its barrier too). */
export function resolveDexmParams(p: Partial<DexmParams> = {}): Readonly<DexmParams> {
  const r: DexmParams = { ...DEFAULT_DEXM, ...p };
  need(r.deltaRFactor > 1 && r.deltaRFactor < 2, 'dexm.deltaRFactor', r.deltaRFactor, 'a factor in (1, 2)');
  need(r.overlapFactor > 0, 'dexm.overlapFactor', r.overlapFactor, 'a positive factor');
  return Object.freeze({ ...r, barrier: Object.freeze({ ...r.barrier }) });
}

/**
 * Redshifts of the merger history, ascending: z_0 = zLowest and z_{k+1} = (1 + z_k) zStepFactor - 1 while
 * z_{k+1} <= zMax (Davies et al. 2025, Sec. 2.2).
 */
export function samplerRedshifts(zLowest: number, zMax: number, zStepFactor: number): number[] {
  need(zLowest >= 0 && Number.isFinite(zLowest), 'zLowest', zLowest, 'a redshift >= 0');
  need(zMax >= zLowest && Number.isFinite(zMax), 'zMax', zMax, `a redshift >= zLowest (${zLowest})`);
  need(zStepFactor > 1 && zStepFactor < 2, 'zStepFactor', zStepFactor, 'a factor in (1, 2)');
  const out = [zLowest];
  for (;;) {
    const z = (1 + out[out.length - 1]!) * zStepFactor - 1;
    if (z > zMax * (1 + 1e-12)) break;
    out.push(z);
  }
  return out;
}
