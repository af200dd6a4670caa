/**
 * Parameters of the excursion-set reionisation and the saturated 21 cm signal (Davies et al. 2025,
 * Sec. 4, Eq. 23–25), with the defaults of the public 21cmFAST v4 code (its `latest-discrete` run
 * template) where they differ from the paper; docs/astro-reionisation.md lists both.
 *
 * The code gives the bubble radii in comoving Mpc (no h), so those parameters keep that unit and say
 * so in their names; every other length is in comoving Mpc/h.
 */

/** Source filter of the excursion set: the exponential mean-free-path window (Eq. 24) or a real-space top-hat. */
export type IonisingFilter = 'exponential' | 'tophat';

export interface ReionParams {
  /** Source filter W_ion (Eq. 24 'exponential', or 'tophat'); the density is always top-hat filtered, as in the code. */
  readonly filter: IonisingFilter;
  /** Mean free path λ of the exponential filter [Mpc/h] (code: 25.483/h Mpc; paper: 25 cMpc/h). */
  readonly mfp: number;
  /** Largest filter radius [comoving Mpc] before the cap at l_factor × box side (code R_BUBBLE_MAX). */
  readonly rBubbleMaxMpc: number;
  /** Smallest filter radius [comoving Mpc] (code R_BUBBLE_MIN). */
  readonly rBubbleMinMpc: number;
  /** Ratio of consecutive filter radii (code DELTA_R_HII_FACTOR), > 1. */
  readonly deltaRFactor: number;
  /**
   * Smallest radius in cells: 'code' applies 21cmFAST's rule for halo source grids (1 cell when the cell
   * is under 1 comoving Mpc, else l_factor = (3/4π)^(1/3) cells); a number sets the factor directly.
   */
  readonly cellRadiusFactor: number | 'code';
  /** Cumulative inhomogeneous recombinations (Sobacchi & Mesinger 2014), counted per cell (code CELL_RECOMB). */
  readonly recombinations: boolean;
  /** Spectral index of the ionising background, used for Γ12 (code ALPHA_UVB). */
  readonly alphaUvb: number;
  /** Helium mass fraction (code Y_He). */
  readonly yHe: number;
  /** First-step redshift interval factor: dz = (1+z)(factor − 1) before any previous step (code ZPRIME_STEP_FACTOR). */
  readonly zPrimeStepFactor: number;
  /** Apply the line-of-sight velocity-gradient factor H/(dv_r/dr + H) of Eq. 25. */
  readonly velocityGradient: boolean;
  /** Clip of |dv_r/dr| / H in the velocity-gradient factor (code MAX_DVDR). */
  readonly maxDvdr: number;
  /** Line-of-sight axis (0, 1, 2) of the velocity gradient. */
  readonly losAxis: 0 | 1 | 2;
  /** Mean photons per baryon below which the box is left fully neutral without filtering (code HII_ROUND_ERR). */
  readonly minMeanIonisingRatio: number;
}

/** 21cmFAST v4 defaults (`latest-discrete` template; inputs.py for the rest). */
export const DEFAULT_REION_PARAMS: ReionParams = Object.freeze({
  filter: 'exponential',
  mfp: 25.483241248322766,
  rBubbleMaxMpc: 50,
  rBubbleMinMpc: 0.620350491,
  deltaRFactor: 1.1,
  cellRadiusFactor: 'code',
  recombinations: true,
  alphaUvb: 5,
  yHe: 0.24,
  zPrimeStepFactor: 1.02,
  velocityGradient: true,
  maxDvdr: 0.2,
  losAxis: 2,
  minMeanIonisingRatio: 1e-5,
} as const);

/** (3/(4π))^(1/3): radius of the sphere with the volume of a unit cube (code l_factor). */
export const L_FACTOR = 0.620350491;

/** Error for an invalid reionisation parameter; the message names the field, the value and what was expected. */
export class ReionParamsError extends Error {}

const KEYS = Object.keys(DEFAULT_REION_PARAMS) as (keyof ReionParams)[];

/**
 * Validates `input` over the defaults and returns a frozen parameter set.
 *
 * @throws ReionParamsError on an unknown field or a value out of range.
 */
export function makeReionParams(input: Partial<ReionParams> | Record<string, unknown> = {}): ReionParams {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new ReionParamsError(`reion params: expected an object, got ${JSON.stringify(input)}`);
  }
  for (const k of Object.keys(input)) {
    if (!(KEYS as string[]).includes(k)) throw new ReionParamsError(`reion params: unknown field "${k}" (allowed: ${KEYS.join(', ')})`);
  }
  const p = { ...DEFAULT_REION_PARAMS, ...(input as Partial<ReionParams>) } as ReionParams;
  const bad = (key: keyof ReionParams, want: string): never => {
    throw new ReionParamsError(`reion params: field "${key}" must be ${want}, got ${JSON.stringify(p[key])}`);
  };
  const pos = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (p.filter !== 'exponential' && p.filter !== 'tophat') bad('filter', "'exponential' or 'tophat'");
  if (!pos(p.mfp)) bad('mfp', 'a positive length in Mpc/h');
  if (!pos(p.rBubbleMaxMpc)) bad('rBubbleMaxMpc', 'a positive length in Mpc');
  if (!pos(p.rBubbleMinMpc)) bad('rBubbleMinMpc', 'a positive length in Mpc');
  if (p.rBubbleMinMpc >= p.rBubbleMaxMpc) bad('rBubbleMinMpc', `below rBubbleMaxMpc = ${p.rBubbleMaxMpc}`);
  if (!(pos(p.deltaRFactor) && p.deltaRFactor > 1)) bad('deltaRFactor', 'a number > 1');
  if (p.cellRadiusFactor !== 'code' && !pos(p.cellRadiusFactor)) bad('cellRadiusFactor', "'code' or a positive number of cells");
  if (typeof p.recombinations !== 'boolean') bad('recombinations', 'true or false');
  if (!(typeof p.alphaUvb === 'number' && Number.isFinite(p.alphaUvb) && p.alphaUvb > -2.75)) bad('alphaUvb', 'a number > -2.75');
  if (!(typeof p.yHe === 'number' && p.yHe >= 0 && p.yHe < 1)) bad('yHe', 'in [0, 1)');
  if (!(pos(p.zPrimeStepFactor) && p.zPrimeStepFactor > 1)) bad('zPrimeStepFactor', 'a number > 1');
  if (typeof p.velocityGradient !== 'boolean') bad('velocityGradient', 'true or false');
  if (!(typeof p.maxDvdr === 'number' && p.maxDvdr >= 0 && p.maxDvdr < 1)) bad('maxDvdr', 'in [0, 1)');
  if (p.losAxis !== 0 && p.losAxis !== 1 && p.losAxis !== 2) bad('losAxis', '0, 1 or 2');
  if (!(typeof p.minMeanIonisingRatio === 'number' && p.minMeanIonisingRatio >= 0)) bad('minMeanIonisingRatio', '>= 0');
  return Object.freeze(p);
}

/**
 * Filter radii [Mpc/h] of the excursion set, ascending (index 0 is the cell-scale step that is not
 * filtered), as 21cmFAST's setup_radii: R_max = min(R_BUBBLE_MAX, l_factor L), R_min = max(R_BUBBLE_MIN,
 * f × cell), R_i = R_min Δ^i for i < floor(ln(R_max/R_min)/ln Δ + 1), the last capped at R_max.
 *
 * The 'code' cell factor is the code's rule for halo (Lagrangian) source grids; without a source grid (the
 * per-radius mass-function sources of the v3 model, `sourceGrids` false) the code always takes l_factor.
 *
 * @param boxSize box side L [Mpc/h]; @param grid cells per side; @param h H0/(100 km/s/Mpc);
 * @param sourceGrids whether the excursion set filters a source grid (default true).
 * @throws RangeError when R_max < R_min (box too small for the minimum radius).
 */
export function filterRadii(p: ReionParams, boxSize: number, grid: number, h: number, sourceGrids = true): Float64Array {
  if (!(boxSize > 0) || !Number.isInteger(grid) || grid < 1 || !(h > 0)) {
    throw new RangeError(`filterRadii: need boxSize > 0 Mpc/h, an integer grid >= 1 and h > 0, got ${boxSize}, ${grid}, ${h}`);
  }
  const cellMpc = boxSize / grid / h;
  const rMax = Math.min(p.rBubbleMaxMpc, L_FACTOR * (boxSize / h));
  const factor = p.cellRadiusFactor === 'code' ? (sourceGrids && cellMpc < 1 ? 1 : L_FACTOR) : p.cellRadiusFactor;
  const rMin = Math.max(p.rBubbleMinMpc, factor * cellMpc);
  if (rMax < rMin) throw new RangeError(`filterRadii: largest radius ${rMax} Mpc is below the smallest ${rMin} Mpc (box ${boxSize} Mpc/h)`);
  let n = Math.floor(Math.log(rMax / rMin) / Math.log(p.deltaRFactor) + 1);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let r = rMin * Math.pow(p.deltaRFactor, i);
    if (r > rMax - 1e-7) {
      r = rMax;
      n = i + 1;
    }
    out.push(r * h);
  }
  return Float64Array.from(out);
}
