/**
 * Reionisation history of a box: steps the excursion set (ionise.ts) from the highest to the lowest
 * redshift, carrying the cumulative recombinations, and returns x_HI and δT_b (brightness.ts) per
 * redshift (Davies et al. 2025, Sec. 4, Eq. 23–25; 21cmFAST's ComputeIonizedBox and
 * ComputeBrightnessTemp called in sequence).
 */
import type { Cosmology } from '../../cosmo/params.js';
import { brightnessTemperature21 } from './brightness.js';
import { FourierGrid } from './filters.js';
import { ionisationStep, type RadiusSources } from './ionise.js';
import { DEFAULT_REION_PARAMS, type ReionParams } from './params.js';
import { RecombinationTable, updateRecombinations } from './recombinations.js';
import { volumeMean } from './history.js';

/** A grid per redshift: an array aligned with `redshifts`, or a function of z. */
export type GridSource = readonly ArrayLike<number>[] | ((z: number) => ArrayLike<number>);

export interface ReioniseInput {
  cosmology: Cosmology;
  /** Box side L [Mpc/h] and cells per side N. */
  boxSize: number;
  grid: number;
  /** Redshifts of the coeval boxes (any order, distinct, ≥ 0); processed from high to low. */
  redshifts: readonly number[];
  /** Density contrast δ [N^3] (linear or evolved) per redshift. */
  density: GridSource;
  /**
   * Gridded cumulative ionising emissivity n_ion [N^3], (Msun/h)/(Mpc/h)^3 (Eq. 18), per redshift; give either this
   * or `radiusSources`.
   */
  emissivity?: GridSource;
  /** Gridded ionising photon rate ṅ_ion [N^3], (Msun/h)/s/(Mpc/h)^3, per redshift (needed with recombinations). */
  ionisingRate?: GridSource;
  /** Per-radius sources of each redshift instead of source grids (the v3 model, ionise.ts `RadiusSources`). */
  radiusSources?: (z: number) => RadiusSources;
  /** Frozen parameters from makeReionParams (default: the code's). */
  params?: ReionParams;
  /** Called after each redshift. */
  onProgress?: (p: { step: number; total: number; z: number; meanXHI: number }) => void;
}

export interface ReioniseResult {
  /** Redshifts in processing order (descending). */
  redshifts: Float64Array;
  /** x_HI [N^3] per redshift (same order). */
  xHI: Float32Array[];
  /** δT_b [mK, N^3] per redshift. */
  brightnessTemp: Float32Array[];
  /** Volume-weighted ⟨x_HI⟩ and ⟨δT_b⟩ [mK] per redshift. */
  meanXHI: Float64Array;
  meanBrightnessTemp: Float64Array;
  /** Redshift at which each cell was first flagged ionised by Eq. 23 (−1 if never), as the code's z_reion. */
  zReion: Float32Array;
  /** Cumulative recombinations per baryon after the last step (null without recombinations). */
  nRec: Float32Array | null;
}

/** The grid of redshift index `idx` (array source) or of z (function source), checked to hold N^3 values. */
export function pickGrid(fn: string, src: GridSource, name: string, idx: number, z: number, n3: number): ArrayLike<number> {
  const g = typeof src === 'function' ? src(z) : src[idx];
  if (!g || g.length !== n3) throw new Error(`${fn}: ${name} at z = ${z} has ${g ? g.length : 'no'} values, expected N^3 = ${n3}`);
  return g;
}

/**
 * The processing order of a driver's redshifts (high to low, with each one's index in `redshifts`), after
 * checking them and that every array source has one grid per redshift.
 *
 * @throws Error naming `fn` on an empty list, a negative, non-finite or repeated redshift, or an array
 *   source of another length.
 */
export function descendingRedshifts(
  fn: string,
  redshifts: readonly number[],
  sources: Record<string, GridSource | undefined>,
): { z: number; i: number }[] {
  if (redshifts.length === 0) throw new Error(`${fn}: redshifts is empty`);
  for (const [name, src] of Object.entries(sources)) {
    if (src && typeof src !== 'function' && src.length !== redshifts.length) {
      throw new Error(`${fn}: ${name} has ${src.length} grids for ${redshifts.length} redshifts`);
    }
  }
  const order = redshifts.map((z, i) => ({ z, i })).sort((a, b) => b.z - a.z);
  for (let k = 0; k < order.length; k++) {
    const z = order[k]!.z;
    if (!(z >= 0) || !Number.isFinite(z)) throw new Error(`${fn}: redshifts must be finite and >= 0, got ${z}`);
    if (k > 0 && !(z < order[k - 1]!.z)) throw new Error(`${fn}: redshifts must be distinct, ${z} repeats`);
  }
  return order;
}

/**
 * Runs reionisation over the redshifts.
 *
 * @throws Error on missing or mis-sized grids, repeated or negative redshifts, an array source whose
 * length differs from `redshifts`, or recombinations without `ionisingRate`.
 */
export function reionise(inp: ReioniseInput): ReioniseResult {
  const p = inp.params ?? DEFAULT_REION_PARAMS;
  const n = inp.grid;
  const n3 = n * n * n;
  if ((inp.emissivity === undefined) === (inp.radiusSources === undefined)) throw new Error('reionise: give exactly one of emissivity (source grids) and radiusSources');
  if (p.recombinations && inp.emissivity && !inp.ionisingRate) throw new Error('reionise: ionisingRate is required when params.recombinations is true');
  const order = descendingRedshifts('reionise', inp.redshifts, { density: inp.density, emissivity: inp.emissivity, ionisingRate: inp.ionisingRate });
  const stepper = new ReionStepper(inp.cosmology, inp.boxSize, n, p);
  const res: ReioniseResult = {
    redshifts: Float64Array.from(order, (o) => o.z),
    xHI: [],
    brightnessTemp: [],
    meanXHI: new Float64Array(order.length),
    meanBrightnessTemp: new Float64Array(order.length),
    zReion: stepper.zReion,
    nRec: null,
  };
  order.forEach(({ z, i }, k) => {
    const out = stepper.step({
      z,
      delta: pickGrid('reionise', inp.density, 'density', i, z, n3),
      nIon: inp.emissivity ? pickGrid('reionise', inp.emissivity, 'emissivity', i, z, n3) : undefined,
      nIonRate: inp.emissivity && inp.ionisingRate ? pickGrid('reionise', inp.ionisingRate, 'ionisingRate', i, z, n3) : undefined,
      sourceAt: inp.radiusSources?.(z),
    });
    res.xHI.push(out.xHI);
    res.brightnessTemp.push(out.brightnessTemp);
    res.meanXHI[k] = out.meanXHI;
    res.meanBrightnessTemp[k] = out.meanBrightnessTemp;
    inp.onProgress?.({ step: k + 1, total: order.length, z, meanXHI: out.meanXHI });
  });
  res.nRec = stepper.nRec;
  return res;
}

/** Inputs of one {@link ReionStepper.step}, all N^3. */
export interface ReionStepInput {
  /** Redshift, below the previous step's. */
  z: number;
  /** Density contrast δ. */
  delta: ArrayLike<number>;
  /** Cumulative ionising emissivity n_ion [(Msun/h)/(Mpc/h)^3]; or `sourceAt`. */
  nIon?: ArrayLike<number>;
  /** Per-radius sources instead of source grids (ionise.ts `RadiusSources`). */
  sourceAt?: RadiusSources;
  /** Ionising photon rate ṅ_ion [(Msun/h)/s/(Mpc/h)^3] (needed with recombinations). */
  nIonRate?: ArrayLike<number>;
  /** X-ray residual ionisation x_e of the neutral IGM (cosmic-dawn runs; absent = 0). */
  xe?: ArrayLike<number>;
  /** Spin temperature T_s [K] for the full Eq. 25 (absent = saturated). */
  spinTemperature?: ArrayLike<number>;
}

/** Output of one {@link ReionStepper.step}. */
export interface ReionStepOutput {
  xHI: Float32Array;
  brightnessTemp: Float32Array;
  meanXHI: number;
  meanBrightnessTemp: number;
}

/**
 * One box's reionisation state carried across redshift steps (cumulative recombinations N_rec,
 * z_reion): each `step` runs the excursion set (ionise.ts), updates N_rec and computes δT_b. Used by
 * {@link reionise} and by the cosmic-dawn driver, which adds x_e and T_s.
 */
export class ReionStepper {
  readonly zReion: Float32Array;
  nRec: Float32Array | null;
  private readonly fourier: FourierGrid;
  private readonly table: RecombinationTable | null;
  private zPrev = -1;

  constructor(
    private readonly cosmology: Cosmology,
    private readonly boxSize: number,
    private readonly grid: number,
    private readonly params: ReionParams = DEFAULT_REION_PARAMS,
  ) {
    const n3 = grid * grid * grid;
    this.fourier = new FourierGrid(grid, boxSize);
    this.table = params.recombinations ? new RecombinationTable(cosmology, params.yHe) : null;
    this.nRec = params.recombinations ? new Float32Array(n3) : null;
    this.zReion = new Float32Array(n3).fill(-1);
  }

  /**
   * Advances to redshift z.
   *
   * @throws Error when z is not below the previous step's, or a grid is missing or mis-sized.
   */
  step(s: ReionStepInput): ReionStepOutput {
    const { z } = s;
    const p = this.params;
    if (this.zPrev >= 0 && !(z < this.zPrev)) throw new Error(`ReionStepper.step: z = ${z} must be below the previous step's ${this.zPrev}`);
    if (p.recombinations && !s.sourceAt && !s.nIonRate) throw new Error('ReionStepper.step: nIonRate is required when params.recombinations is true');
    const step = ionisationStep({
      z,
      boxSize: this.boxSize,
      grid: this.grid,
      delta: s.delta,
      nIon: s.nIon,
      nIonRate: s.nIonRate,
      sourceAt: s.sourceAt,
      nRec: this.nRec ?? undefined,
      xe: s.xe,
      cosmology: this.cosmology,
      params: p,
      fourier: this.fourier,
    });
    const zReion = this.zReion;
    for (let c = 0; c < zReion.length; c++) if (zReion[c]! < 0 && step.flagged[c]) zReion[c] = z;
    if (this.nRec && this.table) {
      // The first step has no previous box: the code takes dz = (1+z)(ZPRIME_STEP_FACTOR − 1).
      const dz = this.zPrev < 0 ? (1 + z) * (p.zPrimeStepFactor - 1) : this.zPrev - z;
      this.nRec = updateRecombinations({ nRecPrev: this.nRec, xHI: step.xHI, gamma12: step.gamma12, delta: s.delta, z, dz, table: this.table });
    }
    const tb = brightnessTemperature21({
      xHI: step.xHI,
      delta: s.delta,
      z,
      cosmology: this.cosmology,
      boxSize: this.boxSize,
      grid: this.grid,
      velocityGradient: p.velocityGradient,
      maxDvdr: p.maxDvdr,
      losAxis: p.losAxis,
      fourier: this.fourier,
      spinTemperature: s.spinTemperature,
    });
    this.zPrev = z;
    return { xHI: step.xHI, brightnessTemp: tb, meanXHI: step.meanXHI, meanBrightnessTemp: volumeMean(tb) };
  }
}

