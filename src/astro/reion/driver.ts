/**
 * Reionisation history of a box: steps the excursion set (ionise.ts) from the highest to the lowest
 * redshift, carrying the cumulative recombinations, and returns x_HI and δT_b (brightness.ts) per
 * redshift (Davies et al. 2025, Sec. 4, Eq. 23–25; 21cmFAST's ComputeIonizedBox and
 * ComputeBrightnessTemp called in sequence).
 */
import type { Cosmology } from '../../cosmo/params.js';
import { brightnessTemperature21 } from './brightness.js';
import { FourierGrid } from './filters.js';
import { ionisationStep } from './ionise.js';
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
  /** Gridded cumulative ionising emissivity n_ion [N^3], (Msun/h)/(Mpc/h)^3 (Eq. 18), per redshift. */
  emissivity: GridSource;
  /** Gridded ionising photon rate ṅ_ion [N^3], (Msun/h)/s/(Mpc/h)^3, per redshift (needed with recombinations). */
  ionisingRate?: GridSource;
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

function pick(src: GridSource, name: string, idx: number, z: number, n3: number): ArrayLike<number> {
  const g = typeof src === 'function' ? src(z) : src[idx];
  if (!g || g.length !== n3) throw new Error(`reionise: ${name} at z = ${z} has ${g ? g.length : 'no'} values, expected N^3 = ${n3}`);
  return g;
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
  const zs = inp.redshifts;
  if (zs.length === 0) throw new Error('reionise: redshifts is empty');
  for (const [name, src] of [['density', inp.density], ['emissivity', inp.emissivity], ['ionisingRate', inp.ionisingRate]] as const) {
    if (src && typeof src !== 'function' && src.length !== zs.length) {
      throw new Error(`reionise: ${name} has ${src.length} grids for ${zs.length} redshifts`);
    }
  }
  if (p.recombinations && !inp.ionisingRate) throw new Error('reionise: ionisingRate is required when params.recombinations is true');
  const order = zs.map((z, i) => ({ z, i })).sort((a, b) => b.z - a.z);
  for (let k = 0; k < order.length; k++) {
    const z = order[k]!.z;
    if (!(z >= 0) || !Number.isFinite(z)) throw new Error(`reionise: redshifts must be finite and >= 0, got ${z}`);
    if (k > 0 && !(z < order[k - 1]!.z)) throw new Error(`reionise: redshifts must be distinct, ${z} repeats`);
  }
  const fourier = new FourierGrid(n, inp.boxSize);
  const table = p.recombinations ? new RecombinationTable(inp.cosmology, p.yHe) : null;
  let nRec: Float32Array | null = p.recombinations ? new Float32Array(n3) : null;
  const zReion = new Float32Array(n3).fill(-1);
  const res: ReioniseResult = {
    redshifts: Float64Array.from(order, (o) => o.z),
    xHI: [],
    brightnessTemp: [],
    meanXHI: new Float64Array(order.length),
    meanBrightnessTemp: new Float64Array(order.length),
    zReion,
    nRec: null,
  };
  let zPrev = -1;
  order.forEach(({ z, i }, k) => {
    const delta = pick(inp.density, 'density', i, z, n3);
    const nIon = pick(inp.emissivity, 'emissivity', i, z, n3);
    const rate = inp.ionisingRate ? pick(inp.ionisingRate, 'ionisingRate', i, z, n3) : undefined;
    const step = ionisationStep({
      z,
      boxSize: inp.boxSize,
      grid: n,
      delta,
      nIon,
      nIonRate: rate,
      nRec: nRec ?? undefined,
      cosmology: inp.cosmology,
      params: p,
      fourier,
    });
    for (let c = 0; c < n3; c++) if (zReion[c]! < 0 && step.flagged[c]) zReion[c] = z;
    if (nRec && table) {
      // The first step has no previous box: the code takes dz = (1+z)(ZPRIME_STEP_FACTOR − 1).
      const dz = zPrev < 0 ? (1 + z) * (p.zPrimeStepFactor - 1) : zPrev - z;
      nRec = updateRecombinations({ nRecPrev: nRec, xHI: step.xHI, gamma12: step.gamma12, delta, z, dz, table });
    }
    const tb = brightnessTemperature21({
      xHI: step.xHI,
      delta,
      z,
      cosmology: inp.cosmology,
      boxSize: inp.boxSize,
      grid: n,
      velocityGradient: p.velocityGradient,
      maxDvdr: p.maxDvdr,
      losAxis: p.losAxis,
      fourier,
    });
    res.xHI.push(step.xHI);
    res.brightnessTemp.push(tb);
    res.meanXHI[k] = step.meanXHI;
    res.meanBrightnessTemp[k] = volumeMean(tb);
    zPrev = z;
    inp.onProgress?.({ step: k + 1, total: order.length, z, meanXHI: step.meanXHI });
  });
  res.nRec = nRec;
  return res;
}
