/**
 * One redshift step of the excursion-set ionisation field of the discrete-source model
 * (Davies et al. 2025, Eq. 23–24), following 21cmFAST's IonisationBox.c for halo source grids.
 *
 * For filter radii R from the largest down to the cell scale (filterRadii), a cell is flagged ionised
 * when the ionising photons reaching it exceed its baryons plus recombinations:
 *
 *   f_R = [W_ion * n_ion]_R / (ρ̄_b (1 + δ_R)) > 1 + N_rec / (1 + δ_R),
 *
 * with n_ion the gridded cumulative ionising emissivity (Eq. 18, N_γ f_esc M_* per volume, in
 * (Msun/h)/(Mpc/h)^3, i.e. ionising photons × m_p per volume), W_ion the source filter (exponential
 * mean-free-path window, Eq. 24, or top-hat), δ_R the top-hat filtered density, and N_rec the cell's
 * cumulative recombinations per baryon (code CELL_RECOMB). The smallest radius is not filtered: the
 * cell's own values are used, and a cell still not ionised there keeps x_HI = 1 − f (clipped to
 * [0, 1]), the code's partial ionisation. A cell first ionised at radius R gets the background
 * Γ12 = R × Γ-prefactor × [W_ion * ṅ_ion]_R / (ρ̄_b (1 + δ_R)) used by the recombinations.
 *
 * Without a source grid (`sourceAt`, the code's non-halo-field branch used by the v3 source model) nothing but
 * δ is filtered: at each radius the source model turns δ_R into the photons per baryon f_R reaching every cell
 * (and the photon rate per baryon for Γ12), and the same criterion and partial ionisation apply.
 */
import { RHO_CRIT0_H2, type Cosmology } from '../../cosmo/params.js';
import { FourierGrid, expMfpWindow, tophatWindow } from './filters.js';
import { filterRadii, type ReionParams } from './params.js';
import { gammaPrefactor } from './recombinations.js';

const FRACT_FLOAT_ERR = 1e-7;
const TINY = 1e-30;

/** The ionising budget of every cell at one filter radius, from a {@link RadiusSources} model. */
export interface RadiusBudget {
  /** Ionising photons per baryon reaching each cell, the left-hand side f_R of Eq. 23 [N^3]. */
  photonsPerBaryon: ArrayLike<number>;
  /** Ionising photons per second per baryon [1/s, N^3]: the source of Γ12, needed with recombinations. */
  ratePerBaryon?: ArrayLike<number>;
}

/**
 * A source model evaluated inside the radius loop (21cmFAST's IonisationBox.c without a halo field: the
 * `unnormalised_nion` of `calculate_fcoll_grid` per radius): no source grid is filtered; at radius R it turns
 * the top-hat filtered density δ_R into the budget of every cell.
 */
export interface RadiusSources {
  /** Expected ionising photons per baryon of the box at this redshift (the HII_ROUND_ERR test; the code's mean_f_coll × ζ). */
  readonly meanPhotonsPerBaryon: number;
  /**
   * The budget at radius R [Mpc/h] from δ_R [N^3] (clipped to ≥ −1 + 1e-7; at the cell step, the smallest radius,
   * the cell's own δ, clipped the same way).
   */
  at(R: number, deltaR: ArrayLike<number>, cellStep: boolean): RadiusBudget;
}

export interface IonisationStepInput {
  /** Redshift of the step. */
  z: number;
  /** Box side L [Mpc/h]. */
  boxSize: number;
  /** Cells per side N. */
  grid: number;
  /** Density contrast δ [N^3] at z (Eulerian; clipped to ≥ −1). */
  delta: ArrayLike<number>;
  /**
   * Gridded cumulative ionising emissivity n_ion [N^3], (Msun/h)/(Mpc/h)^3 (Eq. 18 summed per volume); give
   * either this or `sourceAt`.
   */
  nIon?: ArrayLike<number>;
  /** Per-radius source model instead of a source grid (the v3 model); `nIon` and `nIonRate` are then unused. */
  sourceAt?: RadiusSources;
  /** Gridded ionising photon rate ṅ_ion [N^3], (Msun/h)/s/(Mpc/h)^3; needed for Γ12 when recombinations are on. */
  nIonRate?: ArrayLike<number>;
  /** Cumulative recombinations per baryon before this step [N^3]; absent = none. */
  nRec?: ArrayLike<number>;
  /**
   * Residual ionised fraction x_e of the neutral IGM from X-rays [N^3] (the spin-temperature box,
   * code USE_TS_FLUCT); absent = 0. It lowers the photons needed, Eq. 23's right-hand side times
   * (1 − x_e,R), and the partial ionisation of the cell step, as the code does.
   */
  xe?: ArrayLike<number>;
  cosmology: Cosmology;
  params: ReionParams;
  /** A FourierGrid of this N and L to reuse across steps. */
  fourier?: FourierGrid;
}

export interface IonisationStep {
  /** Neutral fraction x_HI [N^3]. */
  xHI: Float32Array;
  /** Background photoionisation rate Γ12 [1e-12 /s] of cells first ionised at this step, else 0 [N^3]. */
  gamma12: Float32Array;
  /** 1 where the cell passed Eq. 23 at some radius (flagged ionised), 0 otherwise (incl. partial ionisation) [N^3]. */
  flagged: Uint8Array;
  /** Volume-weighted mean ⟨x_HI⟩. */
  meanXHI: number;
  /** Filter radii used, descending [Mpc/h] (empty when the box was left neutral). */
  radii: Float64Array;
}

function checkGrid(name: string, a: ArrayLike<number> | undefined, n3: number): void {
  if (a === undefined) return;
  if (a.length !== n3) throw new Error(`ionisationStep: ${name} has ${a.length} values, expected N^3 = ${n3}`);
}

/**
 * Runs the excursion set at one redshift.
 *
 * @throws Error when a grid has the wrong size, neither or both of `nIon` and `sourceAt` are given,
 * recombinations are on without `nIonRate` (or a per-radius budget without `ratePerBaryon`), or the inputs
 * are not finite.
 */
export function ionisationStep(s: IonisationStepInput): IonisationStep {
  const n = s.grid;
  const n3 = n * n * n;
  const p = s.params;
  const model = s.sourceAt ?? null;
  if ((s.nIon === undefined) === (model === null)) throw new Error('ionisationStep: give exactly one of nIon (a source grid) and sourceAt (per-radius sources)');
  checkGrid('delta', s.delta, n3);
  checkGrid('nIon', s.nIon, n3);
  checkGrid('nIonRate', s.nIonRate, n3);
  checkGrid('nRec', s.nRec, n3);
  checkGrid('xe', s.xe, n3);
  if (!(s.z >= 0) || !Number.isFinite(s.z)) throw new Error(`ionisationStep: z must be a finite redshift >= 0, got ${s.z}`);
  const withRec = p.recombinations && s.nRec !== undefined;
  if (p.recombinations && !model && !s.nIonRate) {
    throw new Error('ionisationStep: nIonRate (ionising photon rate density) is required when params.recombinations is true');
  }
  const rhoB = s.cosmology.Omega_b * RHO_CRIT0_H2;
  const xHI = new Float32Array(n3).fill(1);
  const gamma12 = new Float32Array(n3);
  const flagged = new Uint8Array(n3);

  let mean = 0;
  if (model) {
    for (let i = 0; i < n3; i++) if (!Number.isFinite(s.delta[i]!)) throw new Error(`ionisationStep: delta is not finite in cell ${i}`);
    mean = model.meanPhotonsPerBaryon;
    if (!(mean >= 0)) throw new Error(`ionisationStep: sourceAt.meanPhotonsPerBaryon = ${mean}, expected a number >= 0`);
  } else {
    const nIon = s.nIon!;
    for (let i = 0; i < n3; i++) {
      const v = nIon[i]!;
      if (!Number.isFinite(v) || !Number.isFinite(s.delta[i]!)) throw new Error(`ionisationStep: nIon or delta is not finite in cell ${i}`);
      mean += v;
    }
    mean /= n3 * rhoB;
  }
  if (mean < p.minMeanIonisingRatio) {
    // Too few photons to ionise anything: the code leaves the box neutral without filtering
    // (set_fully_neutral_box: x_HI = 1 − x_e with X-ray ionisation).
    let m = 0;
    if (s.xe) for (let i = 0; i < n3; i++) m += xHI[i] = 1 - s.xe[i]!;
    return { xHI, gamma12, flagged, meanXHI: s.xe ? m / n3 : 1, radii: new Float64Array(0) };
  }

  const radii = filterRadii(p, s.boxSize, n, s.cosmology.h, model === null).reverse();
  const fg = s.fourier ?? new FourierGrid(n, s.boxSize);
  if (fg.n !== n || fg.boxSize !== s.boxSize) throw new Error(`ionisationStep: fourier grid is ${fg.n}^3 over ${fg.boxSize} Mpc/h, expected ${n}^3 over ${s.boxSize}`);
  const gPreCode = p.recombinations ? gammaPrefactor(s.cosmology, s.z, p.alphaUvb, p.yHe) : 0;
  const gPre = gPreCode / rhoB;

  const deltaK = fg.forward(s.delta, -1, 1e6);
  const srcK = model ? null : fg.forward(s.nIon!, 0);
  const rateK = p.recombinations && !model ? fg.forward(s.nIonRate!, 0) : null;
  const xeK = s.xe ? fg.forward(s.xe) : null;
  try {
    const last = radii.length - 1;
    for (let r = 0; r <= last; r++) {
      const R = radii[r]!;
      const cellStep = r === last;
      let dR: ArrayLike<number>;
      let sR: ArrayLike<number> | null = null;
      let qR: ArrayLike<number> | null = null;
      let xR: ArrayLike<number> | null = null;
      // per-radius sources: photons (and photons/s) per baryon reaching each cell, no source grid
      let budget: ArrayLike<number> | null = null;
      let rateB: ArrayLike<number> | null = null;
      if (cellStep) {
        // The cell-scale step uses the cell's own values, unfiltered.
        dR = s.delta;
        if (srcK) sR = Float64Array.from(s.nIon!, (v) => Math.max(v, 0));
        if (rateK) qR = Float64Array.from(s.nIonRate!, (v) => Math.max(v, 0));
        if (s.xe) xR = Float64Array.from(s.xe, (v) => Math.min(Math.max(v, 0), 0.999));
      } else {
        const wDen = fg.window((k) => tophatWindow(k * R));
        const d = fg.apply(deltaK, wDen);
        for (let i = 0; i < n3; i++) if (d[i]! < -1 + FRACT_FLOAT_ERR) d[i] = -1 + FRACT_FLOAT_ERR;
        dR = d;
        if (srcK) {
          const wSrc = p.filter === 'exponential' ? fg.window((k) => expMfpWindow(k, R, p.mfp)) : wDen;
          const src = fg.apply(srcK, wSrc);
          for (let i = 0; i < n3; i++) if (src[i]! < 0) src[i] = 0;
          sR = src;
          if (rateK) {
            const q = fg.apply(rateK, wSrc);
            for (let i = 0; i < n3; i++) if (q[i]! < 0) q[i] = 0;
            qR = q;
          }
        }
        if (xeK) {
          // x_e is filtered with the density's window and kept in [0, 0.999] (the code's clip).
          const x = fg.apply(xeK, wDen);
          for (let i = 0; i < n3; i++) x[i] = Math.min(Math.max(x[i]!, 0), 0.999);
          xR = x;
        }
      }
      if (model) {
        // the model sees the density clipped as the code's deltax_filtered (at the cell step: the cell's own δ)
        const dIn = cellStep ? Float64Array.from(s.delta, (v) => Math.max(v, -1 + FRACT_FLOAT_ERR)) : dR;
        const b = model.at(R, dIn, cellStep);
        checkGrid(`sourceAt(R = ${R}).photonsPerBaryon`, b.photonsPerBaryon, n3);
        budget = b.photonsPerBaryon;
        if (p.recombinations) {
          if (!b.ratePerBaryon) throw new Error(`ionisationStep: sourceAt(R = ${R}) gave no ratePerBaryon, required when params.recombinations is true`);
          checkGrid(`sourceAt(R = ${R}).ratePerBaryon`, b.ratePerBaryon, n3);
          rateB = b.ratePerBaryon;
        }
      }
      for (let i = 0; i < n3; i++) {
        const onePlus = 1 + dR[i]!;
        const f = budget ? budget[i]! : sR![i]! / (rhoB * onePlus);
        const rec = withRec ? s.nRec![i]! / onePlus : 0;
        const xr = xR ? xR[i]! : 0;
        if (f > (1 - xr) * (1 + rec)) {
          if (xHI[i]! > FRACT_FLOAT_ERR) {
            if (qR) gamma12[i] = (R * gPre * qR[i]!) / onePlus;
            else if (rateB) gamma12[i] = R * gPreCode * rateB[i]!;
          }
          xHI[i] = 0;
          flagged[i] = 1;
        } else if (cellStep && xHI[i]! > TINY) {
          xHI[i] = Math.min(Math.max(1 - f - xr, 0), 1);
        }
      }
    }
  } finally {
    deltaK.dispose();
    srcK?.dispose();
    rateK?.dispose();
    xeK?.dispose();
  }
  let m = 0;
  for (let i = 0; i < n3; i++) m += xHI[i]!;
  return { xHI, gamma12, flagged, meanXHI: m / n3, radii };
}
