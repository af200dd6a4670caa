/**
 * Cosmic dawn and reionisation of one box with inhomogeneous spin temperature (Davies et al. 2025,
 * Sec. 4, Eq. 20–25): at each redshift z' (high to low) the X-ray and Lyman-α backgrounds are
 * integrated over the shells of the past lightcone from the gridded SFR and X-ray emissivity of the
 * earlier steps (Eq. 20–22), the kinetic temperature, X-ray ionisation and spin temperature of every
 * cell are advanced (thermal.ts), the excursion set ionises with the residual x_e (reion/ionise.ts),
 * and δT_b takes Eq. 25 with the spin temperature (the code's optically thick form, reion/brightness.ts). As 21cmFAST's ComputeTsBox (SpinTemperatureBox.c
 * `ts_main`), ComputeIonizedBox and ComputeBrightnessTemp called in sequence for the discrete-halo
 * source model, with compute_xray_source_field's shell filtering of interpolated halo boxes, or, with
 * `shellSources`, for the code's source model without halos (its SFRD per filter radius, fcoll-shells.ts).
 *
 * Differences from the code (docs/astro-cosmic-dawn.md lists them all): shell redshifts come from the exact
 * comoving distance (the Python driver's choice; the C code steps with dr/dz); the HI filling factor
 * of the X-ray optical depth is the box's own ⟨x_HI⟩/(1 − x̄_e) history rather than a global
 * mass-function estimate; Lyman-α heating is not included (its table is not public).
 */
import type { Cosmology } from '../../cosmo/params.js';
import { FourierGrid } from '../reion/filters.js';
import { DEFAULT_REION_PARAMS, type ReionParams } from '../reion/params.js';
import { descendingRedshifts, pickGrid, ReionStepper, type GridSource, type ReioniseInput } from '../reion/driver.js';
import { volumeMean } from '../reion/history.js';
import { shellWindow, spinShells, type SpinShells } from './shells.js';
import { DEFAULT_SPIN_PARAMS, type SpinParams } from './params.js';
import { evolveSpinState, initialSpinState, zpConstants, type SpinState } from './thermal.js';
import { fillFreqIntTables, xrayParams, xrayPrefactor, xrayShellFactor, xeWeights } from './xray.js';
import { lyaStarPrefactor, lymanShellFactors } from './lyman.js';
import { CM_PER_MPC, S_PER_YR } from './constants.js';

/**
 * Input of {@link cosmicDawn}: the inputs of `reionise` (docs/astro-reionisation.md; the redshifts are
 * processed from high to low, the code's steps being z_{i+1} = (1+z_i)/1.02 − 1 from Z_HEAT_MAX) and the
 * emissivities of the radiation fields. Grids are N^3, C order, comoving densities per (Mpc/h)^3.
 */
export interface CosmicDawnInput extends Omit<ReioniseInput, 'params' | 'onProgress'> {
  /**
   * Star-formation-rate density Σ SFR / V [Msun/yr per (Mpc/h)^3] per redshift (ACGs + MCGs): the gridded
   * emission history of the discrete sources; give it with `xrayDensity`, or give `shellSources`.
   */
  sfrDensity?: GridSource;
  /**
   * Soft-band X-ray luminosity density Σ L_X / V [10^38 erg/s per (Mpc/h)^3] per redshift (Eq. 13): the
   * code's unit, which keeps realistic values (10^39–10^41 erg/s per Mpc^3) inside float32.
   */
  xrayDensity?: GridSource;
  /**
   * Instead of the gridded history: sources that give each shell's emission from the density of the
   * receiving step (the v3 model without halos, fcoll-shells.ts). Their shells reach back no further than
   * the highest processed redshift, as the gridded history's do.
   */
  shellSources?: ShellSourceModel;
  reionParams?: ReionParams;
  spinParams?: SpinParams;
  /** Which redshifts' boxes to keep in the result (default: all). Means are kept for every redshift. */
  keep?: (z: number) => boolean;
  onProgress?: (p: { step: number; total: number; z: number; meanXHI: number; meanTs: number; meanTb: number }) => void;
}

/**
 * Emission of the lightcone shells seen from one receiving redshift: `at(j)` gives shell j's star-formation-rate
 * density [Msun/yr per (Mpc/h)^3] and soft-band X-ray luminosity density [10^38 erg/s per (Mpc/h)^3], each [N^3]
 * and already averaged over the shell as the source model does, or null when the shell holds no light;
 * `dispose` frees what the model kept for the step (called once, after the last shell).
 */
export interface ShellEmission {
  at(j: number): { sfr: ArrayLike<number>; xray: ArrayLike<number> } | null;
  dispose(): void;
}

/** Shell emission computed from the density δ(z') [N^3] of the receiving step (see `shellSources`). */
export interface ShellSourceModel {
  emission(z: number, delta: ArrayLike<number>, shells: SpinShells, fourier: FourierGrid): ShellEmission;
}

/** Boxes of one kept redshift, each Float32Array [N^3]. */
export interface CosmicDawnBoxes {
  z: number;
  xHI: Float32Array;
  /** δT_b [mK] with T_s (Eq. 25, optically thick form). */
  brightnessTemp: Float32Array;
  /** Spin temperature T_s [K]. */
  spinTemperature: Float32Array;
  /** Kinetic temperature of the neutral IGM T_K [K]. */
  kineticTemperature: Float32Array;
  /** X-ray ionised fraction of the neutral IGM x_e. */
  xe: Float32Array;
}

/** Volume means per redshift, in processing order (descending z). */
export interface CosmicDawnHistory {
  z: Float64Array;
  xHI: Float64Array;
  /** ⟨δT_b⟩ [mK]. */
  brightnessTemp: Float64Array;
  /** ⟨T_s⟩, ⟨T_K⟩ [K], ⟨x_e⟩. */
  spinTemperature: Float64Array;
  kineticTemperature: Float64Array;
  xe: Float64Array;
  /** Volume means of the Lyman-α coupling background J_α (stars + X-rays) [cm^-2 s^-1 Hz^-1 sr^-1] and the X-ray heating rate per baryon [erg/s]. */
  jAlpha: Float64Array;
  xrayHeating: Float64Array;
}

export interface CosmicDawnResult {
  history: CosmicDawnHistory;
  boxes: CosmicDawnBoxes[];
  /** z_reion per cell (−1 if never ionised). */
  zReion: Float32Array;
}

/**
 * Emission history: the SFR and X-ray density boxes of the processed redshifts (descending), as given
 * (float32, Msun/yr and 1e38 erg/s per (Mpc/h)^3); the shells interpolate them in z. Boxes above the
 * reach of the outermost shell are dropped as the run moves to lower z.
 */
class EmissionHistory {
  private readonly zs: number[] = [];
  private readonly sfr: Float32Array[] = [];
  private readonly xray: Float32Array[] = [];
  private readonly lit: boolean[] = [];
  constructor(private readonly n3: number) {}

  /** Adds (copies) the boxes of a redshift below all stored ones. */
  push(z: number, sfr: ArrayLike<number>, xray38: ArrayLike<number>): void {
    const s = Float32Array.from(sfr);
    const x = Float32Array.from(xray38);
    let lit = false;
    for (let i = 0; i < this.n3 && !lit; i++) lit = s[i] !== 0 || x[i] !== 0;
    this.zs.push(z);
    this.sfr.push(s);
    this.xray.push(x);
    this.lit.push(lit);
  }

  /** Highest stored redshift (−1 when empty). */
  get zMax(): number {
    return this.zs.length ? this.zs[0]! : -1;
  }

  /** Whether any stored box holds a source (the code's NO_LIGHT test, negated). */
  get anyLight(): boolean {
    return this.lit.some((v) => v);
  }

  /** Drops the boxes no shell can reach any more: all above zReach but the lowest of them (needed to interpolate). */
  prune(zReach: number): void {
    let k = 0;
    while (k + 1 < this.zs.length && this.zs[k + 1]! >= zReach) k++;
    if (k > 0) {
      this.zs.splice(0, k);
      this.sfr.splice(0, k);
      this.xray.splice(0, k);
      this.lit.splice(0, k);
    }
  }

  /**
   * SFR and X-ray boxes at z (float64, input units) by linear interpolation in z between the
   * bracketing stored redshifts (the Python driver's interp_halo_boxes), or null above the highest
   * stored z or where both bracketing boxes are empty.
   */
  at(z: number): { sfr: Float64Array; xray: Float64Array } | null {
    const zs = this.zs;
    if (zs.length === 0 || z > zs[0]!) return null;
    // zs is descending; find k with zs[k] ≥ z ≥ zs[k+1]
    let k = 0;
    while (k < zs.length - 1 && zs[k + 1]! > z) k++;
    const hi = k;
    const lo = Math.min(k + 1, zs.length - 1);
    if (!this.lit[hi] && !this.lit[lo]) return null;
    const w = hi === lo ? 0 : (zs[hi]! - z) / (zs[hi]! - zs[lo]!);
    const s = new Float64Array(this.n3);
    const x = new Float64Array(this.n3);
    const sa = this.sfr[hi]!;
    const sb = this.sfr[lo]!;
    const xa = this.xray[hi]!;
    const xb = this.xray[lo]!;
    for (let i = 0; i < this.n3; i++) {
      s[i] = sa[i]! + w * (sb[i]! - sa[i]!);
      x[i] = xa[i]! + w * (xb[i]! - xa[i]!);
    }
    return { sfr: s, xray: x };
  }
}

/**
 * Runs the cosmic-dawn and reionisation history of a box.
 *
 * @returns means per redshift (descending), the kept boxes and z_reion.
 * @throws Error on missing or mis-sized grids, repeated or negative redshifts, or an array source
 *   whose length differs from `redshifts`.
 */
export function cosmicDawn(inp: CosmicDawnInput): CosmicDawnResult {
  const rp = inp.reionParams ?? DEFAULT_REION_PARAMS;
  const sp = inp.spinParams ?? DEFAULT_SPIN_PARAMS;
  const c = inp.cosmology;
  const n = inp.grid;
  const n3 = n * n * n;
  if ((inp.emissivity === undefined) === (inp.radiusSources === undefined)) throw new Error('cosmicDawn: give exactly one of emissivity (source grids) and radiusSources');
  const gridded = inp.sfrDensity !== undefined && inp.xrayDensity !== undefined;
  if (gridded === (inp.shellSources !== undefined) || (!gridded && (inp.sfrDensity ?? inp.xrayDensity) !== undefined)) {
    throw new Error('cosmicDawn: give either sfrDensity and xrayDensity (gridded sources) or shellSources');
  }
  const order = descendingRedshifts('cosmicDawn', inp.redshifts, {
    density: inp.density,
    emissivity: inp.emissivity,
    ionisingRate: inp.ionisingRate,
    sfrDensity: inp.sfrDensity,
    xrayDensity: inp.xrayDensity,
  });
  const m = order.length;
  // shells reach back to the first processed redshift at most: no model emits before its first step
  const zFirst = order[0]!.z;
  const history: CosmicDawnHistory = {
    z: Float64Array.from(order, (o) => o.z),
    xHI: new Float64Array(m),
    brightnessTemp: new Float64Array(m),
    spinTemperature: new Float64Array(m),
    kineticTemperature: new Float64Array(m),
    xe: new Float64Array(m),
    jAlpha: new Float64Array(m),
    xrayHeating: new Float64Array(m),
  };
  const boxes: CosmicDawnBoxes[] = [];
  const stepper = new ReionStepper(c, inp.boxSize, n, rp);
  const fourier = new FourierGrid(n, inp.boxSize);
  const emission = new EmissionHistory(n3);
  const xp = xrayParams(c, { yHe: sp.yHe });
  const h3 = c.h * c.h * c.h;
  const volUnitInv = Math.pow(CM_PER_MPC, -3);
  const lyaStar = lyaStarPrefactor(sp.yHe);
  // ⟨x_HI⟩/(1 − ⟨x_e⟩) of the processed steps: the HI filling factor Q_HI(ẑ) of the X-ray optical depth.
  const qHistory: { z: number; q: number }[] = [];
  const hiFillingFactor = (z: number): number => {
    if (qHistory.length === 0 || z >= qHistory[0]!.z) return 1;
    for (let k = 0; k < qHistory.length - 1; k++) {
      const a = qHistory[k]!;
      const b = qHistory[k + 1]!;
      if (z <= a.z && z >= b.z) return a.q + ((a.z - z) / (a.z - b.z)) * (b.q - a.q);
    }
    return qHistory[qHistory.length - 1]!.q;
  };

  let state: SpinState | null = null;
  let zPrev = -1;
  order.forEach(({ z, i }, k) => {
    const delta = pickGrid('cosmicDawn', inp.density, 'density', i, z, n3);
    if (gridded) emission.push(z, pickGrid('cosmicDawn', inp.sfrDensity!, 'sfrDensity', i, z, n3), pickGrid('cosmicDawn', inp.xrayDensity!, 'xrayDensity', i, z, n3));
    let jAlphaMean = 0;
    let heatMean = 0;
    if (state === null || z >= sp.zHeatMax) {
      // Above Z_HEAT_MAX (or at the first redshift): RECFAST temperature and ionisation, no radiation.
      state = initialSpinState(c, z, delta, { params: sp });
    } else if (gridded && !emission.anyLight) {
      // no source yet (the code's NO_LIGHT): adiabatic and Compton evolution only
      state = evolveSpinState({ cosmo: c, z, dz: z - zPrev, delta, prev: state, rates: { xrayHeating: 0, xrayIonisation: 0, lyaXray: 0, lyaStars: 0 }, params: sp });
    } else {
      const shells = spinShells(c, z, inp.boxSize, n, { count: sp.nStepTs, rMaxMpc: sp.rMaxTsMpc });
      const emissionAt = gridded ? griddedShellEmission(emission, shells, fourier) : inp.shellSources!.emission(z, delta, shells, fourier);
      const zMaxSource = Math.min(gridded ? emission.zMax : zFirst, sp.zHeatMax);
      let rates: ReturnType<typeof shellRates>;
      try {
        rates = shellRates({ z, shells, delta, prev: state, emissionAt, zMaxSource, n, c, xp, sp, hiFillingFactor, volUnitInv, lyaStar, h3 });
      } finally {
        emissionAt.dispose();
      }
      jAlphaMean = rates.jAlphaMean;
      heatMean = rates.heatMean;
      state = evolveSpinState({ cosmo: c, z, dz: z - zPrev, delta, prev: state, rates: rates.rates, params: sp });
      // later (lower) redshifts reach less far back: drop what the outermost shell no longer reaches
      emission.prune(shells.zEdge[shells.count - 1]!);
    }
    const out = stepper.step({
      z,
      delta,
      nIon: inp.emissivity ? pickGrid('cosmicDawn', inp.emissivity, 'emissivity', i, z, n3) : undefined,
      nIonRate: inp.emissivity && inp.ionisingRate ? pickGrid('cosmicDawn', inp.ionisingRate, 'ionisingRate', i, z, n3) : undefined,
      sourceAt: inp.radiusSources?.(z),
      xe: state.xe,
      spinTemperature: state.ts,
    });
    const xeMean = volumeMean(state.xe);
    history.xHI[k] = out.meanXHI;
    history.brightnessTemp[k] = out.meanBrightnessTemp;
    history.spinTemperature[k] = volumeMean(state.ts);
    history.kineticTemperature[k] = volumeMean(state.tk);
    history.xe[k] = xeMean;
    history.jAlpha[k] = jAlphaMean;
    history.xrayHeating[k] = heatMean;
    qHistory.push({ z, q: Math.min(1, out.meanXHI / Math.max(1 - xeMean, 1e-6)) });
    if (!inp.keep || inp.keep(z)) {
      boxes.push({ z, xHI: out.xHI, brightnessTemp: out.brightnessTemp, spinTemperature: state.ts, kineticTemperature: state.tk, xe: state.xe });
    }
    zPrev = z;
    inp.onProgress?.({ step: k + 1, total: m, z, meanXHI: out.meanXHI, meanTs: history.spinTemperature[k]!, meanTb: out.meanBrightnessTemp });
  });
  return { history, boxes, zReion: stepper.zReion };
}

interface ShellRatesInput {
  z: number;
  shells: SpinShells;
  delta: ArrayLike<number>;
  prev: SpinState;
  emissionAt: ShellEmission;
  /** Shells centred at or above this redshift hold no light. */
  zMaxSource: number;
  n: number;
  c: Cosmology;
  xp: ReturnType<typeof xrayParams>;
  sp: SpinParams;
  hiFillingFactor: (z: number) => number;
  volUnitInv: number;
  lyaStar: number;
  /** h^3: per (Mpc/h)^3 → per Mpc^3. */
  h3: number;
}

/**
 * Shell emission of the gridded history: the boxes interpolated to the shell's redshift and averaged over
 * the shell with the spherical-shell window of Eq. 22 (the cell itself unfiltered).
 */
function griddedShellEmission(emission: EmissionHistory, shells: SpinShells, fourier: FourierGrid): ShellEmission {
  const at = (j: number): { sfr: ArrayLike<number>; xray: ArrayLike<number> } | null => {
    const src = emission.at(shells.zCentre[j]!);
    if (!src || !(shells.rInner[j]! > 0)) return src;
    const w = fourier.window((kk) => shellWindow(kk, shells.rInner[j]!, shells.rOuter[j]!));
    const fs = fourier.forward(src.sfr);
    const fx = fourier.forward(src.xray);
    try {
      const a = fourier.apply(fs, w);
      const b = fourier.apply(fx, w);
      // negative values from the filter's ringing are clipped, as one_annular_filter does
      for (let i = 0; i < a.length; i++) {
        if (a[i]! < 0) a[i] = 0;
        if (b[i]! < 0) b[i] = 0;
      }
      return { sfr: a, xray: b };
    } finally {
      fs.dispose();
      fx.dispose();
    }
  };
  return { at, dispose: () => {} };
}

/**
 * The radiative rates of every cell at z' (SpinTemperatureBox.c's R_ct loop and its R-independent
 * prefactors): Σ over shells of the shell-filtered emission at z'' times the frequency integrals
 * (X-rays) or the Lyman-series factors (stars), Eq. 20–22.
 */
function shellRates(s: ShellRatesInput) {
  const { z, n, prev, shells } = s;
  const n3 = n * n * n;
  const xeMean = volumeMean(prev.xe);
  const tables = fillFreqIntTables(z, xeMean, shells.zCentre, s.hiFillingFactor, s.xp);
  const lyman = lymanShellFactors(z, shells.zCentre);
  const heat = new Float64Array(n3);
  const ion = new Float64Array(n3);
  const lyaX = new Float64Array(n3);
  const lyaS = new Float64Array(n3);
  // per-cell interpolation in x_e, once for all shells (as the code)
  const wm = new Int32Array(n3);
  const wf = new Float64Array(n3);
  for (let i = 0; i < n3; i++) {
    const w = xeWeights(prev.xe[i]!);
    wm[i] = w.m;
    wf[i] = w.frac;
  }
  const nS = shells.count;
  for (let j = nS - 1; j >= 0; j--) {
    const zpp = shells.zCentre[j]!;
    if (zpp >= s.zMaxSource) continue;
    const src = s.emissionAt.at(j);
    if (!src) continue;
    const sfrR = src.sfr;
    const xrR = src.xray;
    const edge = shells.dz[j]! * shells.dtdz[j]!; // |dz'' dt/dz''| [s]
    // input units → the code's: L_X in erg/s and SFR in Msun/s, per comoving Mpc^3
    const xrFac = edge * xrayShellFactor(zpp, s.xp) * s.h3 * 1e38;
    const starFac = (edge * lyman.total[j]! * s.h3) / S_PER_YR;
    const hj = tables.heat;
    const ij = tables.ion;
    const lj = tables.lya;
    const ns = tables.nShell;
    for (let i = 0; i < n3; i++) {
      const xr = xrR[i]! * xrFac;
      const lo = wm[i]! * ns + j;
      const hi = lo + ns;
      const f = wf[i]!;
      if (xr !== 0) {
        heat[i] += xr * (hj[lo]! + f * (hj[hi]! - hj[lo]!));
        ion[i] += xr * (ij[lo]! + f * (ij[hi]! - ij[lo]!));
        lyaX[i] += xr * (lj[lo]! + f * (lj[hi]! - lj[lo]!));
      }
      lyaS[i] += sfrR[i]! * starFac;
    }
  }
  const zc = zpConstants(s.c, z, s.sp.yHe);
  const xPre = xrayPrefactor(z, s.xp) * s.volUnitInv;
  const sPre = s.lyaStar * s.volUnitInv;
  let jSum = 0;
  let hSum = 0;
  for (let i = 0; i < n3; i++) {
    heat[i] = heat[i]! * xPre;
    ion[i] = ion[i]! * xPre;
    // the X-ray excitation term has the absorber's density twice (source and absorber), as the code
    let d = s.delta[i]!;
    if (d <= -1) d = -1 + 1e-7;
    lyaX[i] = lyaX[i]! * xPre * zc.nbZp * (1 + d);
    lyaS[i] = lyaS[i]! * sPre;
    jSum += lyaX[i]! + lyaS[i]!;
    hSum += heat[i]!;
  }
  return {
    rates: { xrayHeating: heat, xrayIonisation: ion, lyaXray: lyaX, lyaStars: lyaS },
    jAlphaMean: jSum / n3,
    heatMean: hSum / n3,
  };
}
