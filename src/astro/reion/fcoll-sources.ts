/**
 * The 'v3 Default' source model (Davies et al. 2025, Sec. 6, Table 2; the public code's excursion set without a halo
 * field, IonisationBox.c `calculate_fcoll_grid` / `find_ionised_regions` with Nion_ConditionalM): no halos and no
 * source grid. At every filter radius R of the excursion set (Eq. 23) the ionising budget of a cell is the expected
 * output of the halos inside the sphere of radius R around it, the conditional mass function (CHMF) of the sphere's
 * top-hat filtered density δ_R on the mass scale M(R) = (4π/3) R³ ρ̄_m integrated against the mean galaxy relations:
 *
 *   f_R(δ_R) = Q(δ_R, M(R)) / N_b(M(R)),
 *   Q(δ, M_R) = ∫_{M_min}^{M_R} (M_R / M) f(S(M) | S(M_R), δ) |dS/dln M| q(M) dln M           (Eq. 1–5),
 *
 * with q the escaped ionising photons of a halo (n_ion = N_γ f_esc M_* / m_p, Eq. 18, zero scatter; photons/s ṅ_ion
 * for Γ12), N_b(M) = (Ω_b/Ω_m) M / m_p the baryons of the sphere, and f the sampler's first-crossing distribution
 * (src/astro/sampler/chmf.ts `FirstCrossing`). f_R is ζ f_coll of 21cmFASTv3: photons per baryon of the sphere. As in
 * the code, the (Eulerian, evolved) filtered density conditions the CHMF as if it were the linear one (no (1 + δ)
 * factor: f_R is a fraction of the sphere's mass), and above 0.99 δ_crit(M_R) the sphere is one collapsed halo of
 * mass M_R (Nion_ConditionalM's limit), f_R = q(M_R) / N_b(M_R).
 *
 * Mean fix per radius (the code's `mean_fix_term_acg = mean_f_coll / f_coll_grid_mean`): the box mean of f_R over
 * the cells is rescaled to the unconditional expectation ∫ dn/dln M q dln M / n̄_b (M_min to 1e16 Msun/h,
 * src/astro/reion/chmf-sources.ts `unconditionalMeans`), separately for n_ion and ṅ_ion.
 *
 * Tables (the code's Nion_conditional_table1D): per radius and redshift, ln f_R on up to `nDelta` nodes (at least
 * `deltaStep` apart; the code always takes 400) spanning the filtered field's range ± 0.001, linearly interpolated per
 * cell; each node is one CHMF integral of `conditionalIntegrals` (src/astro/reion/chmf-sources.ts), Simpson in
 * ln(M_R/M − 1) on `nMass` nodes (the code integrates with GSL QAG or Gauss–Legendre).
 */
import { growthFactor } from '../../cosmo/background.js';
import type { MassFunctionOptions } from '../../cosmo/massfunction.js';
import { RHO_CRIT0_H2, type Cosmology } from '../../cosmo/params.js';
import type { SigmaM } from '../../cosmo/sigma.js';
import { M_P_G, MSUN_G } from '../galaxy/constants.js';
import type { AstroParams } from '../params.js';
import { SigmaLookup, type FirstCrossing } from '../sampler/chmf.js';
import { firstCrossingOf, type ChmfSpec } from '../sampler/tables.js';
import { conditionalIntegrals, meanGalaxyQuantities, unconditionalMeans, type ChmfQuantity } from './chmf-sources.js';
import type { RadiusBudget, RadiusSources } from './ionise.js';

/** Options of {@link FcollSources}. */
export interface FcollSourceOptions {
  cosmo: Cosmology;
  /** σ(M) of the cosmology (masses Msun/h). */
  sigma: SigmaM;
  /** Galaxy parameters; their scatter is ignored (mean relations). */
  astro: AstroParams;
  /** CHMF of the spheres (model, barrier, δ_c; the sampler's). */
  chmf: ChmfSpec;
  /** Smallest halo mass [Msun/h] (the sampler's M_min; the code's is M_TURN/50). */
  minMass: number;
  /** Largest filter radius [Mpc/h]: the σ(M) lookup covers M_min to M(maxRadius). */
  maxRadius: number;
  /** Also tabulate the photon rate per baryon (Γ12, needed with recombinations). Default true. */
  rate?: boolean;
  /** Unconditional mass function of the mean fix (default Sheth–Tormen of src/cosmo/massfunction.ts). */
  massFunction?: MassFunctionOptions;
  /** Largest mass of the unconditional integral [Msun/h] (default 1e16, the code's M_MAX_INTEGRAL). */
  maxMass?: number;
  /**
   * Largest number of δ nodes per radius table (default 400, the code's NDELTA) and their smallest spacing (default
   * 0.004): a table has min(nDelta, range/deltaStep + 1) nodes (at least 3), so the narrow ranges of large radii take
   * fewer integrals; mass nodes per integral (default 257, Simpson).
   */
  nDelta?: number;
  deltaStep?: number;
  nMass?: number;
}

/** Mass [Msun/h] of a top-hat sphere of radius R [Mpc/h] at the mean matter density (the code's RtoM). */
export function sphereMass(cosmo: Cosmology, R: number): number {
  return ((4 * Math.PI) / 3) * R * R * R * cosmo.Omega_m * RHO_CRIT0_H2;
}

/** Baryons per Msun/h of total matter: (Ω_b/Ω_m) Msun / (m_p h). */
function baryonsPerMass(cosmo: Cosmology): number {
  return ((cosmo.Omega_b / cosmo.Omega_m) * MSUN_G) / (M_P_G * cosmo.h);
}

/** The budget of one radius with what went into it. */
export interface FcollBudget extends RadiusBudget {
  photonsPerBaryon: Float64Array;
  ratePerBaryon?: Float64Array;
  /** Condition mass M(R) [Msun/h]. */
  condMass: number;
  /** Box means of f_R and of the rate per baryon before the mean fix, and the factors applied (expected / raw). */
  rawMean: number;
  meanFix: number;
  rawRateMean?: number;
  rateFix?: number;
}

/**
 * The v3 source model of a box over redshifts (see the module comment): `atRedshift(z)` gives the per-radius sources
 * of one excursion-set step.
 */
export class FcollSources {
  private readonly lookup: SigmaLookup;
  private readonly fc: FirstCrossing;

  /** @throws RangeError for a non-positive minimum mass or a largest radius whose sphere holds less than it */
  constructor(readonly o: FcollSourceOptions) {
    const mMax = sphereMass(o.cosmo, o.maxRadius);
    if (!(o.minMass > 0 && o.minMass < mMax)) {
      throw new RangeError(`FcollSources: minMass = ${o.minMass} Msun/h: expected a positive mass below M(R_max = ${o.maxRadius} Mpc/h) = ${mMax.toExponential(3)} Msun/h`);
    }
    const nDelta = o.nDelta ?? 400;
    const nMass = o.nMass ?? 257;
    if (!(Number.isInteger(nDelta) && nDelta >= 3)) throw new RangeError(`FcollSources: nDelta = ${nDelta}: expected an integer >= 3`);
    if (!((o.deltaStep ?? 0.004) > 0)) throw new RangeError(`FcollSources: deltaStep = ${o.deltaStep}: expected a positive step in δ`);
    if (!(Number.isInteger(nMass) && nMass >= 3)) throw new RangeError(`FcollSources: nMass = ${nMass}: expected an integer >= 3`);
    this.lookup = new SigmaLookup(o.sigma, o.minMass * 0.99, mMax * 1.01);
    this.fc = firstCrossingOf(o.chmf);
  }

  /** The per-radius sources of redshift z (unconditional means computed here, radius tables on demand). */
  atRedshift(z: number): FcollRadiusSources {
    if (!(Number.isFinite(z) && z >= 0)) throw new RangeError(`FcollSources.atRedshift: z = ${z}: expected a finite redshift >= 0`);
    return new FcollRadiusSources(this.o, this.lookup, this.fc, z);
  }
}

/** Per-radius sources of one redshift: {@link RadiusSources} for `ionisationStep`. */
export class FcollRadiusSources implements RadiusSources {
  /** Expected photons per baryon and photons/s per baryon of the box (the mean-fix targets). */
  readonly meanPhotonsPerBaryon: number;
  readonly meanRatePerBaryon: number;
  /** Mean baryons per (Mpc/h)^3, n̄_b, and the unconditional expectation of every galaxy quantity per baryon. */
  readonly meanBaryonDensity: number;
  readonly expectedPerBaryon: Readonly<Record<ChmfQuantity, number>>;
  /** What each call of `at` did, in call order: radius [Mpc/h], M(R) [Msun/h] and the mean-fix factors. */
  readonly applied: { R: number; condMass: number; meanFix: number; rateFix?: number }[] = [];
  private readonly growth: number;
  private readonly nbPerMass: number;

  constructor(
    private readonly o: FcollSourceOptions,
    private readonly lookup: SigmaLookup,
    private readonly fc: FirstCrossing,
    readonly z: number,
  ) {
    const e = unconditionalMeans({ z, cosmo: o.cosmo, sigma: o.sigma, astro: o.astro, minMass: o.minMass, massFunction: o.massFunction, maxMass: o.maxMass });
    // n̄_b per (Mpc/h)^3: Ω_b ρ_c / (m_p h) = ρ̄_m × baryons per unit matter mass
    this.nbPerMass = baryonsPerMass(o.cosmo);
    const nb = o.cosmo.Omega_m * RHO_CRIT0_H2 * this.nbPerMass;
    this.meanBaryonDensity = nb;
    this.expectedPerBaryon = Object.freeze(Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v / nb])) as Record<ChmfQuantity, number>);
    this.meanPhotonsPerBaryon = e.nIon / nb;
    this.meanRatePerBaryon = e.nIonDot / nb;
    this.growth = growthFactor(o.cosmo, z);
  }

  /**
   * Photons per baryon f_R(δ_R) of every cell before the mean fix, from the table of radius R (and the rate per
   * baryon when `rate`): the raw ζ f_coll of the module comment.
   *
   * @throws RangeError for a non-finite δ or a sphere whose mass is not above the minimum mass
   */
  raw(R: number, deltaR: ArrayLike<number>, rate = this.o.rate !== false): { photons: Float64Array; rate?: Float64Array; condMass: number } {
    const q = this.perBaryon(R, deltaR, rate ? ['nIon', 'nIonDot'] : ['nIon']);
    return { photons: q.values[0]!, rate: rate ? q.values[1]! : undefined, condMass: q.condMass };
  }

  /**
   * Any mean galaxy quantity per baryon of the sphere, Q_q(δ_R, M(R)) / N_b(M(R)) with q one of `keys` (per halo:
   * photons, photons/s, Msun/yr, erg/s, Msun), of every cell before any mean fix: the tables of {@link raw} for other
   * quantities (the spin temperature's SFR and L_X, fcoll-shells.ts).
   *
   * @returns one Float64Array [cells] per key, and M(R) [Msun/h].
   * @throws RangeError for a non-finite δ or a sphere whose mass is not above the minimum mass
   */
  perBaryon(R: number, deltaR: ArrayLike<number>, keys: readonly ChmfQuantity[]): { values: Float64Array[]; condMass: number } {
    const n3 = deltaR.length;
    const condMass = sphereMass(this.o.cosmo, R);
    if (!(condMass > this.o.minMass)) {
      throw new RangeError(`FcollRadiusSources: R = ${R} Mpc/h holds M = ${condMass.toExponential(3)} Msun/h: expected a sphere above minMass = ${this.o.minMass.toExponential(3)} Msun/h`);
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n3; i++) {
      const d = deltaR[i]!;
      if (!Number.isFinite(d)) throw new RangeError(`FcollRadiusSources: δ_R[${i}] = ${d} at R = ${R} Mpc/h: expected a finite overdensity`);
      if (d < lo) lo = d;
      if (d > hi) hi = d;
    }
    // the code's table limits: the field's extrema widened by 0.001
    lo -= 0.001;
    hi += 0.001;
    const nDelta = Math.max(3, Math.min(this.o.nDelta ?? 400, Math.ceil((hi - lo) / (this.o.deltaStep ?? 0.004)) + 1));
    const step = (hi - lo) / (nDelta - 1);
    const deltas = Float64Array.from({ length: nDelta }, (_, i) => lo + i * step);
    const sCond = this.lookup.sigma0(Math.log(condMass)) * this.growth;
    const dCrit = 0.99 * this.fc.barrier(sCond * sCond);
    const below = deltas.filter((d) => d <= dCrit);
    const q = below.length
      ? conditionalIntegrals({
          sigma: this.lookup,
          firstCrossing: this.fc,
          growth: this.growth,
          condMass,
          minMass: this.o.minMass,
          z: this.z,
          cosmo: this.o.cosmo,
          astro: this.o.astro,
          nMass: this.o.nMass ?? 257,
          rule: 'expm1-simpson',
          deltas: below,
          quantities: keys,
        })
      : keys.map(() => new Float64Array(0));
    // above 0.99 δ_crit the sphere is one halo of its own mass (Nion_ConditionalM)
    const collapsed = meanGalaxyQuantities([condMass], this.z, this.o.cosmo, this.o.astro);
    const nb = condMass * this.nbPerMass;
    const lnTables = keys.map((key, k) =>
      Float64Array.from(deltas, (_, i) => Math.log(Math.max((i < below.length ? q[k]![i]! : collapsed[key][0]!) / nb, 1e-300))),
    );
    const out = lnTables.map(() => new Float64Array(n3));
    for (let c = 0; c < n3; c++) {
      let x = (deltaR[c]! - lo) / step;
      let i = Math.floor(x);
      if (i < 0) i = 0;
      else if (i > nDelta - 2) i = nDelta - 2;
      x -= i;
      for (let k = 0; k < lnTables.length; k++) {
        const t = lnTables[k]!;
        out[k]![c] = Math.exp((1 - x) * t[i]! + x * t[i + 1]!);
      }
    }
    return { values: out, condMass };
  }

  /** The mean-fixed budget of radius R (see the module comment); `cellStep` makes no difference here. */
  at(R: number, deltaR: ArrayLike<number>): FcollBudget {
    const r = this.raw(R, deltaR);
    const fix = (a: Float64Array, target: number): { mean: number; factor: number } => {
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i]!;
      const mean = s / a.length;
      // a box without any source keeps zeros (meanFixFactor's rule, from the mean already summed here)
      const factor = mean > 0 ? target / mean : 0;
      for (let i = 0; i < a.length; i++) a[i] = a[i]! * factor;
      return { mean, factor };
    };
    const p = fix(r.photons, this.meanPhotonsPerBaryon);
    const out: FcollBudget = { photonsPerBaryon: r.photons, condMass: r.condMass, rawMean: p.mean, meanFix: p.factor };
    if (r.rate) {
      const q = fix(r.rate, this.meanRatePerBaryon);
      out.ratePerBaryon = r.rate;
      out.rawRateMean = q.mean;
      out.rateFix = q.factor;
    }
    this.applied.push({ R, condMass: r.condMass, meanFix: out.meanFix, ...(out.rateFix !== undefined ? { rateFix: out.rateFix } : {}) });
    return out;
  }
}

/**
 * The mean fix of a budget: `expected` over the box mean of `a` (the code's mean_fix_term / avg_fix_term), or 0 for a
 * box without any source, which then keeps zeros (the code floors the mean at a tiny value instead).
 */
export function meanFixFactor(a: ArrayLike<number>, expected: number): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s > 0 ? (expected * a.length) / s : 0;
}
