/**
 * Standard normal deviates of the galaxy scatter, three per halo (stellar mass, SFR, L_X), and their
 * correlation between a progenitor and its descendant (Davies et al. 2025, Eq. 8–9).
 *
 * As in the public 21cmFAST code (src/Stochasticity.c `set_prop_rng`), the correlation is carried by the
 * deviates, not by the properties: a progenitor's deviate is g_p = ρ g_d + sqrt(1 − ρ²) g_new, with g_d
 * its descendant's deviate and g_new a fresh N(0, 1) draw, ρ = exp(−(z_prog − z_desc)/C_x). Because every
 * property is mean × exp(g σ − shift), this is exactly the conditional bivariate normal of Eq. 9 for
 * log(x_p) given log(x_d), including the rescaling by σ_p/σ_d.
 */
import { Rng } from '../../util/rng.js';
import type { AstroParams } from '../params.js';

/** Per-halo standard normal deviates: `star` (SHMR), `sfr` (SFMS), `xray` (L_X/SFR); each of length N. */
export interface GalaxyDeviates {
  readonly star: Float64Array;
  readonly sfr: Float64Array;
  readonly xray: Float64Array;
}

/** The same, as input (any numeric array-likes of one length). */
export interface GalaxyDeviatesInput {
  readonly star: ArrayLike<number>;
  readonly sfr: ArrayLike<number>;
  readonly xray: ArrayLike<number>;
}

function checkCount(count: number, what: string): void {
  if (!Number.isInteger(count) || count < 0)
    throw new RangeError(`${what}: count must be an integer >= 0, got ${count}`);
}

function checkSeed(seed: number, what: string): void {
  if (!Number.isFinite(seed)) throw new RangeError(`${what}: seed must be a finite number, got ${seed}`);
}

/**
 * N independent triples of standard normal deviates, drawn per halo in the order (star, sfr, xray) from
 * `new Rng(seed)`; same seed → same deviates.
 * @throws RangeError for a negative or non-integer count or a non-finite seed.
 */
export function drawDeviates(count: number, seed: number): GalaxyDeviates {
  checkCount(count, 'drawDeviates');
  checkSeed(seed, 'drawDeviates');
  const rng = new Rng(seed);
  const star = new Float64Array(count);
  const sfr = new Float64Array(count);
  const xray = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    star[i] = rng.normal();
    sfr[i] = rng.normal();
    xray[i] = rng.normal();
  }
  return { star, sfr, xray };
}

/**
 * Correlation coefficient of a property's log between a progenitor at z_prog and its descendant at
 * z_desc (Davies et al. 2025, Eq. 8): ρ = exp(−(z_prog − z_desc)/C); 0 for C = 0 (as in the code).
 * @throws RangeError if z_prog < z_desc, or C < 0, or a value is not finite.
 */
export function scatterCorrelation(zProgenitor: number, zDescendant: number, correlationLength: number): number {
  if (!Number.isFinite(zProgenitor) || !Number.isFinite(zDescendant) || !(zProgenitor >= zDescendant)) {
    throw new RangeError(
      `scatterCorrelation: zProgenitor must be >= zDescendant (progenitors are at higher redshift), got ${zProgenitor} and ${zDescendant}`,
    );
  }
  if (!Number.isFinite(correlationLength) || correlationLength < 0) {
    throw new RangeError(
      `scatterCorrelation: correlation length must be a finite number >= 0, got ${correlationLength}`,
    );
  }
  if (correlationLength === 0) return 0;
  return Math.exp(-(zProgenitor - zDescendant) / correlationLength);
}

/** Options of {@link progenitorDeviates}. */
export interface ProgenitorDeviatesOptions {
  /** Deviates of the descendant catalogue (length N_desc). */
  descendantDeviates: GalaxyDeviatesInput;
  /**
   * For each progenitor, the index of its descendant in the descendant catalogue (the next-lower-z one),
   * or −1 for none (then the deviates are uncorrelated draws). Length N_prog.
   */
  descendant: ArrayLike<number>;
  zProgenitor: number;
  zDescendant: number;
  /** CORR_STAR, CORR_SFR and CORR_LX are read from here. */
  params: AstroParams;
  seed: number;
}

/**
 * Deviates of a progenitor catalogue correlated with their descendants' (Davies et al. 2025, Eq. 8–9;
 * the code's `set_prop_rng`): g_p = ρ_x g_d + sqrt(1 − ρ_x²) g_new for x ∈ {star, sfr, xray}, with
 * ρ_x = exp(−Δz / C_x) and g_new drawn as in {@link drawDeviates}(N_prog, seed). Each g_p is N(0, 1) and
 * corr(g_p, g_d) = ρ_x.
 * @throws RangeError when the descendant deviates differ in length, an index is outside [−1, N_desc), or
 *   the redshifts are out of order.
 */
export function progenitorDeviates(opts: ProgenitorDeviatesOptions): GalaxyDeviates {
  const { descendantDeviates: d, descendant, params, seed } = opts;
  const nDesc = d.star.length;
  if (d.sfr.length !== nDesc || d.xray.length !== nDesc) {
    throw new RangeError(
      `progenitorDeviates: descendantDeviates star/sfr/xray must have one length, got ${nDesc}/${d.sfr.length}/${d.xray.length}`,
    );
  }
  const rho = [
    scatterCorrelation(opts.zProgenitor, opts.zDescendant, params.CORR_STAR),
    scatterCorrelation(opts.zProgenitor, opts.zDescendant, params.CORR_SFR),
    scatterCorrelation(opts.zProgenitor, opts.zDescendant, params.CORR_LX),
  ] as const;
  const keep = rho.map((r) => Math.sqrt(1 - r * r));
  const n = descendant.length;
  const out = drawDeviates(n, seed);
  for (let i = 0; i < n; i++) {
    const j = descendant[i]!;
    if (j === -1) continue;
    if (!Number.isInteger(j) || j < 0 || j >= nDesc) {
      throw new RangeError(`progenitorDeviates: descendant[${i}] must be -1 or an index in [0, ${nDesc}), got ${j}`);
    }
    out.star[i] = rho[0] * d.star[j]! + keep[0]! * out.star[i]!;
    out.sfr[i] = rho[1] * d.sfr[j]! + keep[1]! * out.sfr[i]!;
    out.xray[i] = rho[2] * d.xray[j]! + keep[2]! * out.xray[i]!;
  }
  return out;
}
