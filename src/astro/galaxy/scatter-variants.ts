/**
 * Variants of a parameter set that change only the log-normal scatter of the galaxy relations, for the
 * stochasticity study of Davies et al. (2025, Sec. 6, Table 2, Fig. 10–11):
 * - {@link withoutScatter}: σ_* = σ_SFR,lim = σ_SFR,idx = σ_X = 0 ('v4 No Astro Scatter');
 * - {@link withRelationNormalisation}: the relations give the linear mean ('Mean Norm', the code's default) or the
 *   median 10^<log x> ('No Mean Norm', HALO_SCALING_RELATIONS_MEDIAN);
 * - {@link boostScatter}: a ×Y boost of every width.
 */
import { makeAstroParams, type AstroParams } from '../params.js';

/** The four scatter widths of the relations (dex; σ_SFR,idx in dex per dex). */
export const SCATTER_KEYS = ['SIGMA_STAR', 'SIGMA_SFR_LIM', 'SIGMA_SFR_INDEX', 'SIGMA_LX'] as const;

/**
 * How a ×Y boost acts on the widths:
 * - 'add-log': σ → σ + log10 Y for σ_*, σ_SFR,lim and σ_X (the paper's definition, Sec. 6: "a ×Y boost corresponds to
 *   substituting σ_log x → σ_log x + log Y"); σ_SFR,idx, a slope, is kept;
 * - 'multiply': every width, the slope σ_SFR,idx included, times Y (the SFMS width of Eq. 12 then scales by Y too).
 */
export type ScatterBoostMode = 'add-log' | 'multiply';
export const SCATTER_BOOST_MODES: readonly ScatterBoostMode[] = ['add-log', 'multiply'];

/** `p` with every scatter width set to 0 (Davies et al. 2025, Sec. 6, 'v4 No Astro Scatter'). */
export function withoutScatter(p: AstroParams): AstroParams {
  return makeAstroParams({ SIGMA_STAR: 0, SIGMA_SFR_LIM: 0, SIGMA_SFR_INDEX: 0, SIGMA_LX: 0 }, 'no astrophysical scatter', p);
}

/**
 * `p` with the relations read as the linear mean (`'mean'`) or as the median / exponent of the mean logarithm
 * (`'median'`); the two differ by 10^(σ_dex² ln10 / 2) per property (Davies et al. 2025, footnote 22).
 */
export function withRelationNormalisation(p: AstroParams, norm: 'mean' | 'median'): AstroParams {
  return makeAstroParams({ HALO_SCALING_RELATIONS_MEDIAN: norm === 'median' }, `${norm} relations`, p);
}

/**
 * `p` with its scatter boosted by a factor Y ≥ 0 (Y = 1: unchanged; Y = 0: no scatter in either mode).
 *
 * @throws RangeError for a negative or non-finite Y or an unknown mode; AstroParamsError when a boosted width leaves
 *   its allowed range (σ ≤ 2 dex)
 */
export function boostScatter(p: AstroParams, factor: number, mode: ScatterBoostMode = 'add-log'): AstroParams {
  if (!(Number.isFinite(factor) && factor >= 0)) throw new RangeError(`boostScatter: factor = ${factor}: expected a finite number >= 0`);
  if (!SCATTER_BOOST_MODES.includes(mode)) throw new RangeError(`boostScatter: mode = ${String(mode)}: expected one of ${SCATTER_BOOST_MODES.join(', ')}`);
  if (factor === 0) return withoutScatter(p);
  if (factor === 1) return p;
  const src = `scatter boost ×${factor} (${mode})`;
  if (mode === 'multiply') return makeAstroParams(Object.fromEntries(SCATTER_KEYS.map((k) => [k, p[k] * factor])), src, p);
  // a width of 0 means "no scatter" for that property: the boost leaves it off rather than switching it on
  const add = (v: number): number => (v > 0 ? v + Math.log10(factor) : 0);
  return makeAstroParams({ SIGMA_STAR: add(p.SIGMA_STAR), SIGMA_SFR_LIM: add(p.SIGMA_SFR_LIM), SIGMA_LX: add(p.SIGMA_LX) }, src, p);
}

/**
 * `p` whose zero-scatter relations give the linear mean of `p`'s median relations with their scatter: the code's
 * `mimic_scatter_in_consts` (scaling_relations.c), used for the halos below the sampler. With σ in ln units,
 * f_*,10 (and f_*,7) × e^{σ_*²/2}, L_X (and L_X,mcg) × e^{σ_X²/2}, t_* / e^{σ_SFR,lim²/2}; the SFR factor is, as
 * the code says, a lower limit (the SFMS scatter grows above σ_SFR,lim at low M_*). Mean-normalised relations are
 * returned unchanged: their zero-scatter values already are the linear means.
 *
 * @throws AstroParamsError when a raised normalisation leaves its allowed range (f_*,10 ≤ 1)
 */
export function mimicScatterInMeans(p: AstroParams): AstroParams {
  if (!p.HALO_SCALING_RELATIONS_MEDIAN) return p;
  const half = (dex: number): number => 0.5 * (dex * Math.LN10) ** 2;
  const dexStar = half(p.SIGMA_STAR) / Math.LN10;
  const dexX = half(p.SIGMA_LX) / Math.LN10;
  return makeAstroParams(
    {
      F_STAR10: p.F_STAR10 + dexStar,
      ...(p.F_STAR7_MINI !== null ? { F_STAR7_MINI: p.F_STAR7_MINI + dexStar } : {}),
      L_X: p.L_X + dexX,
      ...(p.L_X_MINI !== null ? { L_X_MINI: p.L_X_MINI + dexX } : {}),
      t_STAR: p.t_STAR / Math.exp(half(p.SIGMA_SFR_LIM)),
    },
    'median relations with their scatter in the means',
    p,
  );
}
