/**
 * The 21cmFAST-v4 halo field (Davies et al. 2025, Sec. 2): Gaussian initial conditions (or a given linear
 * density), the Lagrangian halo finder above the cell mass, number-limited CHMF sampling of every cell at
 * the lowest redshift, progenitors backward in time in steps z_prog = (1 + z_desc) zStepFactor - 1, and
 * 2LPT positions; returns the merger history (catalogues in ascending redshift, linked by descendant index).
 */
import { dispose, type Tensor } from '@lodi/torch';
import { growthFactor } from '../../cosmo/background.js';
import { cosmologyKey, type Cosmology } from '../../cosmo/params.js';
import { LinearPower } from '../../cosmo/power.js';
import { SigmaM } from '../../cosmo/sigma.js';
import { linearDensityK } from '../../nbody/ic.js';
import { Rng } from '../../util/rng.js';
import { HaloBuffer } from './buffer.js';
import type { HaloCatalogue, MergerHistory } from './catalogue.js';
import { expectedCellHalos, sampleCells } from './cells.js';
import { SigmaLookup } from './chmf.js';
import { findLagrangianHalos, overlapFraction } from './dexm.js';
import { displacementField, eulerianPositions, type DisplacementField } from './displace.js';
import { cellDensity, densityK } from './linear-field.js';
import { resolveDexmParams, resolveSamplerParams, samplerRedshifts, type DexmParams, type SamplerParams } from './params.js';
import { sampleProgenitors } from './progenitors.js';
import { cellTable, descendantTable, firstCrossingOf, type ChmfTable } from './tables.js';

export interface SampleHaloFieldOptions {
  cosmology: Cosmology;
  /** Box side [Mpc/h]. */
  boxSize: number;
  /** Sampler cells per side (the code's HII_DIM); a cell's Lagrangian mass is rho_m (L / grid)^3. */
  grid: number;
  /** Lowest redshift: number-limited sampling of the cells. */
  zLowest: number;
  /** Highest redshift of the merger history (progenitor steps stop at or below it). */
  zMax: number;
  /** Smallest halo mass kept [Msun/h] (default the code's 1e8 Msun = 1e8 h Msun/h). */
  minMass?: number;
  /** Seed of the initial conditions (engine generator) and of the sampler's draws (Rng). */
  seed: number;
  /** Fine grid of the initial conditions = grid x hiresFactor per side (the code's DIM / HII_DIM = 3). */
  hiresFactor?: number;
  /** Linear overdensity at z = 0 on a fine m^3 grid (m a multiple of grid; nodes i L / m) instead of new ICs. */
  linearDensity?: Float32Array;
  /** Linear P(k) for new ICs and sigma(M) (default Eisenstein & Hu with the cosmology's sigma8). */
  power?: LinearPower;
  /** sigma(M) table to reuse (must belong to `power` / the cosmology). */
  sigma?: SigmaM;
  /** Sampler parameters (defaults: the public code's; see params.ts). */
  sampler?: Partial<SamplerParams>;
  /** Lagrangian halo finder parameters. */
  dexm?: Partial<DexmParams>;
  /** LPT order of the Eulerian positions: 2 (default), 1 (Zel'dovich) or 0 (keep Lagrangian positions). */
  lptOrder?: 0 | 1 | 2;
  /** Progress: stage, steps done and total, and the redshift being sampled. */
  onProgress?: (p: SamplerProgress) => void;
}

export interface SamplerProgress {
  stage: 'initial conditions' | 'halo finder' | 'cells' | 'progenitors' | 'positions';
  done: number;
  total: number;
  z: number;
}

export interface StageTimes {
  initialConditions: number;
  finder: number;
  tables: number;
  cells: number;
  progenitors: number;
  positions: number;
}

export interface SampledHaloField extends MergerHistory {
  /** The parameters used (defaults filled). */
  params: SamplerParams;
  dexm: DexmParams;
  /** Lagrangian mass of a sampler cell [Msun/h]. */
  cellMass: number;
  /** Halos of the Lagrangian finder (the first entries of catalogues[0]). */
  dexmCount: number;
  /** Fine grid per side. */
  fineGrid: number;
  seed: number;
  /** Wall-clock seconds per stage (tables: all CHMF tables; cells and progenitors: the draws alone). */
  timings: StageTimes;
  /** CPU seconds (user + system, all threads) per stage: robust to other load on the machine. */
  cpuTimings: StageTimes;
}

function check(ok: boolean, name: string, value: unknown, expected: string): void {
  if (!ok) throw new Error(`sampleHaloField: ${name} = ${String(value)}: expected ${expected}`);
}

/** Samples the halo field and its merger history; see the module comment. */
export function sampleHaloField(o: SampleHaloFieldOptions): SampledHaloField {
  const cosmo = o.cosmology;
  check(o.boxSize > 0 && Number.isFinite(o.boxSize), 'boxSize', o.boxSize, 'a positive length in Mpc/h');
  check(Number.isInteger(o.grid) && o.grid >= 2, 'grid', o.grid, 'an integer >= 2 cells per side');
  check(Number.isInteger(o.seed), 'seed', o.seed, 'an integer');
  const lptOrder = o.lptOrder ?? 2;
  check(lptOrder === 0 || lptOrder === 1 || lptOrder === 2, 'lptOrder', lptOrder, '0, 1 or 2');
  const params = resolveSamplerParams(cosmo.h, { ...o.sampler, ...(o.minMass !== undefined ? { minMass: o.minMass } : {}) });
  const dexmParams = resolveDexmParams(o.dexm);
  const redshifts = samplerRedshifts(o.zLowest, o.zMax, params.zStepFactor);
  let n: number;
  if (o.linearDensity) {
    n = Math.round(Math.cbrt(o.linearDensity.length));
    check(n * n * n === o.linearDensity.length, 'linearDensity', `${o.linearDensity.length} values`, 'm^3 values of a cubic grid');
    check(n % o.grid === 0, 'linearDensity', `an ${n}^3 grid`, `a grid whose side is a multiple of grid = ${o.grid}`);
  } else {
    const f = o.hiresFactor ?? 3;
    check(Number.isInteger(f) && f >= 1, 'hiresFactor', f, 'a positive integer');
    n = o.grid * f;
  }
  for (const [name, given] of [
    ['power', o.power?.cosmo],
    ['sigma', o.sigma?.power.cosmo],
  ] as const) {
    check(!given || cosmologyKey(given) === cosmologyKey(cosmo), name, 'a table of another cosmology', 'one built for `cosmology`');
  }
  const power = o.power ?? o.sigma?.power ?? new LinearPower(cosmo);
  const sig = o.sigma ?? new SigmaM(power);
  const cellMass = sig.rhoM * (o.boxSize / o.grid) ** 3;
  check(params.minMass < cellMass, 'minMass', params.minMass, `a mass below the cell mass ${cellMass.toExponential(3)} Msun/h`);
  const progress = (stage: SamplerProgress['stage'], done: number, total: number, z: number): void => o.onProgress?.({ stage, done, total, z });

  const timings: StageTimes = { initialConditions: 0, finder: 0, tables: 0, cells: 0, progenitors: 0, positions: 0 };
  const cpuTimings: StageTimes = { ...timings };
  const cpuNow = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  let clock = performance.now();
  let cpuClock = cpuNow();
  /** Adds the time since the last call to `stage`. */
  const lap = (stage: keyof StageTimes): void => {
    const now = performance.now();
    const cpu = cpuNow();
    timings[stage] += (now - clock) / 1000;
    cpuTimings[stage] += cpu - cpuClock;
    clock = now;
    cpuClock = cpu;
  };

  // Initial conditions: everything that needs the Fourier field, then it is freed.
  progress('initial conditions', 0, 1, o.zLowest);
  let dk: Tensor | null = null;
  let delta0: Float32Array;
  let dexmHalos: { mass: Float64Array; pos: Float32Array } = { mass: new Float64Array(0), pos: new Float32Array(0) };
  let overlap: Float32Array | undefined;
  let disp: DisplacementField | null = null;
  try {
    dk = o.linearDensity ? densityK(o.linearDensity, n) : linearDensityK({ boxSize: o.boxSize, n, seed: o.seed, power });
    delta0 = cellDensity(dk, n, o.boxSize, o.grid);
    progress('initial conditions', 1, 1, o.zLowest);
    lap('initialConditions');
    if (dexmParams.enabled) {
      progress('halo finder', 0, 1, o.zLowest);
      const res = findLagrangianHalos({
        dk,
        n,
        boxSize: o.boxSize,
        z: o.zLowest,
        sigma: sig,
        minMass: cellMass,
        params: dexmParams,
        rareSigma: params.rareSigma,
        deltaC: params.deltaC,
      });
      dexmHalos = res;
      if (res.mass.length > 0) overlap = overlapFraction(res.inHalo, n, o.boxSize, o.grid);
      progress('halo finder', 1, 1, o.zLowest);
      lap('finder');
    }
    if (lptOrder > 0) disp = displacementField(dk, n, o.boxSize, lptOrder as 1 | 2);
    lap('initialConditions');
  } finally {
    if (dk) dispose(dk);
  }

  let maxHalo = cellMass;
  for (const m of dexmHalos.mass) maxHalo = Math.max(maxHalo, m);
  const sl = new SigmaLookup(sig, params.minMass / (2 * params.bufferFactor), 2 * maxHalo, 5e-3);
  const fc = firstCrossingOf(params);
  const base = new Rng(o.seed);
  const catalogues: HaloCatalogue[] = [];
  const finish = (z: number, mass: Float64Array, lag: Float32Array, descendant: Int32Array): HaloCatalogue => {
    progress('positions', 0, 1, z);
    const pos = disp ? eulerianPositions(lag, z, cosmo, disp) : lag.slice();
    lap('positions');
    progress('positions', 1, 1, z);
    return { z, boxSize: o.boxSize, count: mass.length, mass, pos, descendant, lagrangianPos: lag };
  };

  // Lowest redshift: finder halos first, then the cells (Poisson thinning makes a table floor of minMass
  // equivalent to the code's minMass / bufferFactor with the small draws discarded).
  const z0 = redshifts[0]!;
  lap('tables');
  const table0 = cellTable(sl, z0, cellMass, params.minMass, params);
  lap('tables');
  const D0 = growthFactor(cosmo, z0);
  const delta = new Float32Array(delta0.length);
  for (let i = 0; i < delta.length; i++) delta[i] = delta0[i]! * D0;
  const nExpected = expectedCellHalos({ table: table0, delta, overlap, deltaMin: params.deltaMin, deltaCollapsed: table0.x1 });
  const buf = new HaloBuffer(dexmHalos.mass.length + 1.02 * nExpected + 4 * Math.sqrt(nExpected) + 1024);
  for (let i = 0; i < dexmHalos.mass.length; i++) {
    buf.push(dexmHalos.mass[i]!, dexmHalos.pos[3 * i]!, dexmHalos.pos[3 * i + 1]!, dexmHalos.pos[3 * i + 2]!, -1);
  }
  sampleCells({
    table: table0,
    delta,
    grid: o.grid,
    boxSize: o.boxSize,
    cellMass,
    overlap,
    minMass: params.minMass,
    deltaMin: params.deltaMin,
    deltaCollapsed: table0.x1,
    rng: base.fork(0),
    out: buf,
    onPlane: (d) => progress('cells', d, o.grid, z0),
  });
  let arr = buf.arrays();
  lap('cells');
  catalogues.push(finish(z0, arr.mass, arr.pos, new Int32Array(arr.mass.length).fill(-1)));

  // Backward in time.
  for (let s = 1; s < redshifts.length; s++) {
    const zDesc = redshifts[s - 1]!;
    const zProg = redshifts[s]!;
    const prev = catalogues[s - 1]!;
    const rng = base.fork(s);
    const out = new HaloBuffer(1.1 * prev.count + 1024);
    progress('progenitors', s - 1, redshifts.length - 1, zProg);
    if (prev.count > 0) {
      const tabulated = params.progenitorMethod === 'mass-limited' || params.progenitorMethod === 'number-limited';
      let table: ChmfTable | undefined;
      if (tabulated) {
        let maxMass = params.minMass;
        for (let i = 0; i < prev.count; i++) maxMass = Math.max(maxMass, prev.mass[i]!);
        lap('progenitors');
        table = descendantTable(sl, zDesc, zProg, params.minMass, maxMass, params.minMass / params.bufferFactor, params);
        lap('tables');
      }
      sampleProgenitors({
        table,
        sigma: sl,
        firstCrossing: fc,
        mass: prev.mass,
        pos: prev.lagrangianPos!,
        zDesc,
        zProg,
        boxSize: o.boxSize,
        params,
        method: params.progenitorMethod,
        rng,
        out,
      });
    }
    arr = out.arrays();
    lap('progenitors');
    catalogues.push(finish(zProg, arr.mass, arr.pos, arr.parent));
    progress('progenitors', s, redshifts.length - 1, zProg);
  }
  return {
    redshifts,
    catalogues,
    params,
    dexm: dexmParams,
    cellMass,
    dexmCount: dexmHalos.mass.length,
    fineGrid: n,
    seed: o.seed,
    timings,
    cpuTimings,
  };
}
