/**
 * Galaxy properties of a halo catalogue (Davies et al. 2025, Sec. 3), as the public 21cmFAST code's
 * `set_halo_properties` (src/HaloBox.c) computes them, on typed arrays.
 *
 * Order per halo: M_* (SHMR, deviate `star`) → SFR (SFMS, deviate `sfr`, width from the total M_*) →
 * Z (FMR, no scatter) → L_X (deviate `xray`) → f_esc → ionising photons → L_UV, M_UV.
 */
import type { Cosmology } from '../../cosmo/params.js';
import type { AstroParams } from '../params.js';
import { LN10, S_PER_YR } from './constants.js';
import {
  BARYONS_PER_MSUN,
  escapeFraction,
  escapeFractionMini,
  galaxyConstants,
  lognormalShift,
  lxPerSfr,
  metallicity,
  muvFromSfr,
  sfrFromDeviate,
  sigmaSfrDex,
  stellarMassFromDeviate,
  stellarMassMiniFromDeviate,
  uvLuminosity,
} from './relations.js';
import { drawDeviates, type GalaxyDeviates, type GalaxyDeviatesInput } from './scatter.js';

/** Input of {@link galaxyProperties}. */
export interface GalaxyPropertiesInput {
  /** Halo masses [Msun] (the paper's unit; a catalogue in Msun/h gives mass / h), length N. */
  haloMassMsun: ArrayLike<number>;
  /** Redshift of the catalogue. */
  z: number;
  cosmo: Cosmology;
  params: AstroParams;
  /** Per-halo standard normal deviates (e.g. from {@link progenitorDeviates}); give these or `seed`. */
  deviates?: GalaxyDeviatesInput;
  /** Seed of {@link drawDeviates} when `deviates` is not given. */
  seed?: number;
  /** Lower turnover mass of the SHMR [Msun]: one value or one per halo (default 10^M_TURN). */
  mTurnMsun?: number | ArrayLike<number>;
  /**
   * Lower turnover of the MCG SHMR, M_LW [Msun]: one value or one per halo (default: the Lyman–Werner
   * threshold without feedback, 3.314e7 (1+z)^-1.5). Used only with USE_MINI_HALOS.
   */
  mTurnMcgMsun?: number | ArrayLike<number>;
}

/** Galaxy properties, each a Float64Array of length N. */
export interface GalaxyProperties {
  /** Stellar mass of the atomic-cooling galaxy [Msun] (Eq. 10). */
  readonly stellarMass: Float64Array;
  /** Stellar mass of the molecular-cooling galaxy [Msun] (Eq. 19; zeros without USE_MINI_HALOS). */
  readonly stellarMassMini: Float64Array;
  /** SFR of the atomic-cooling galaxy [Msun/yr] (Eq. 11–12). */
  readonly sfr: Float64Array;
  /** SFR of the molecular-cooling galaxy [Msun/yr] (zeros without USE_MINI_HALOS). */
  readonly sfrMini: Float64Array;
  /** Gas-phase metallicity Z/Z_sun of the total M_* and SFR (Eq. 14–15). */
  readonly metallicity: Float64Array;
  /** Soft-band X-ray luminosity, E_0 to 2 keV [erg/s] (Eq. 13). */
  readonly lx: Float64Array;
  /** Ionising escape fraction of the ACG component (Eq. 17). */
  readonly fesc: Float64Array;
  /**
   * Escaped ionising photons produced so far, n_ion = N_γ f_esc M_* (Eq. 18) as a photon count
   * (M_* / m_p baryons; both components with their own N_γ and f_esc).
   */
  readonly nIon: Float64Array;
  /** Escaped ionising photon rate, N_γ f_esc SFR [photons/s] (both components). */
  readonly nIonDot: Float64Array;
  /** UV luminosity of the total SFR, SFR/κ_UV [erg s^-1 Hz^-1]. */
  readonly luv: Float64Array;
  /** UV magnitude, 51.63 − 2.5 log10(L_UV) (the code's conversion); +Infinity where SFR = 0. */
  readonly muv: Float64Array;
  /** The deviates used (given or drawn), to correlate the next, higher-z, catalogue with. */
  readonly deviates: GalaxyDeviates;
}

function perHalo(
  value: number | ArrayLike<number> | undefined,
  fallback: number,
  n: number,
  name: string,
): (i: number) => number {
  if (value === undefined) return () => fallback;
  if (typeof value === 'number') {
    if (!(Number.isFinite(value) && value >= 0))
      throw new RangeError(`galaxyProperties: ${name} must be a finite number >= 0 [Msun], got ${value}`);
    return () => value;
  }
  if (value.length !== n)
    throw new RangeError(`galaxyProperties: ${name} must have one value per halo (${n}), got length ${value.length}`);
  for (let i = 0; i < n; i++) {
    const v = value[i]!;
    if (!(Number.isFinite(v) && v >= 0))
      throw new RangeError(`galaxyProperties: ${name}[${i}] must be a finite number >= 0 [Msun], got ${v}`);
  }
  return (i) => value[i]!;
}

function toFloat64(a: ArrayLike<number>): Float64Array {
  return a instanceof Float64Array ? a.slice() : Float64Array.from(a);
}

/**
 * Samples the galaxy properties of N halos at one redshift (Davies et al. 2025, Eq. 7–19).
 *
 * @returns {@link GalaxyProperties}: Float64Arrays of length N, and the deviates used.
 * @throws RangeError for a non-positive or non-finite halo mass, deviates of the wrong length or with
 *   non-finite values, neither or both of `deviates` and `seed`, a bad turnover mass or redshift.
 */
export function galaxyProperties(input: GalaxyPropertiesInput): GalaxyProperties {
  const { haloMassMsun: mass, z, cosmo, params } = input;
  const n = mass.length;
  for (let i = 0; i < n; i++) {
    const m = mass[i]!;
    if (!(Number.isFinite(m) && m > 0))
      throw new RangeError(`galaxyProperties: haloMassMsun[${i}] must be a finite mass > 0 [Msun], got ${m}`);
  }
  if ((input.deviates === undefined) === (input.seed === undefined)) {
    throw new RangeError(
      'galaxyProperties: give exactly one of deviates (per-halo normal deviates) or seed (to draw them)',
    );
  }
  let dev: GalaxyDeviates;
  if (input.deviates) {
    const d = input.deviates;
    for (const key of ['star', 'sfr', 'xray'] as const) {
      if (d[key].length !== n)
        throw new RangeError(
          `galaxyProperties: deviates.${key} must have one value per halo (${n}), got length ${d[key].length}`,
        );
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(d[key][i]!))
          throw new RangeError(`galaxyProperties: deviates.${key}[${i}] must be finite, got ${d[key][i]}`);
      }
    }
    dev = { star: toFloat64(d.star), sfr: toFloat64(d.sfr), xray: toFloat64(d.xray) };
  } else {
    dev = drawDeviates(n, input.seed!);
  }
  const c = galaxyConstants(z, cosmo, params);
  const mTurn = perHalo(input.mTurnMsun, c.mTurn, n, 'mTurnMsun');
  const mTurnMcg = perHalo(input.mTurnMcgMsun, c.mTurnMcg, n, 'mTurnMcgMsun');

  const stellarMass = new Float64Array(n);
  const stellarMassMini = new Float64Array(n);
  const sfr = new Float64Array(n);
  const sfrMini = new Float64Array(n);
  const Z = new Float64Array(n);
  const lx = new Float64Array(n);
  const fesc = new Float64Array(n);
  const nIon = new Float64Array(n);
  const nIonDot = new Float64Array(n);
  const luv = new Float64Array(n);
  const muv = new Float64Array(n);
  const xrayShift = lognormalShift(c.sigmaLx, c.median);
  for (let i = 0; i < n; i++) {
    const m = mass[i]!;
    const ms = stellarMassFromDeviate(m, mTurn(i), dev.star[i]!, c);
    const msMini = c.miniHalos ? stellarMassMiniFromDeviate(m, mTurnMcg(i), dev.star[i]!, c) : 0;
    // The SFMS width follows the total stellar mass; both components share the SFR deviate.
    const sigmaSfrLn = sigmaSfrDex(ms + msMini, c) * LN10;
    const s = sfrFromDeviate(ms, sigmaSfrLn, dev.sfr[i]!, c);
    const sMini = c.miniHalos ? sfrFromDeviate(msMini, sigmaSfrLn, dev.sfr[i]!, c) : 0;
    const zi = metallicity(ms + msMini, s + sMini, c);
    const lxMean = lxPerSfr(zi, c.lx, c) * s + (c.miniHalos ? lxPerSfr(zi, c.lxMini, c) * sMini : 0);
    const f = escapeFraction(m, c);
    const fMini = c.miniHalos ? escapeFractionMini(m, c) : 0;
    stellarMass[i] = ms;
    stellarMassMini[i] = msMini;
    sfr[i] = s;
    sfrMini[i] = sMini;
    Z[i] = zi;
    lx[i] = lxMean * Math.exp(dev.xray[i]! * c.sigmaLx - xrayShift);
    fesc[i] = f;
    nIon[i] = (ms * c.pop2Ion * f + msMini * c.pop3Ion * fMini) * BARYONS_PER_MSUN;
    nIonDot[i] = ((s * c.pop2Ion * f + sMini * c.pop3Ion * fMini) * BARYONS_PER_MSUN) / S_PER_YR;
    luv[i] = uvLuminosity(s + sMini, c);
    muv[i] = muvFromSfr(s + sMini, c);
  }
  return {
    stellarMass,
    stellarMassMini,
    sfr,
    sfrMini,
    metallicity: Z,
    lx,
    fesc,
    nIon,
    nIonDot,
    luv,
    muv,
    deviates: dev,
  };
}

/** Convenience: halo masses [Msun/h] of a catalogue → [Msun]. */
export function haloMassToMsun(massMsunPerH: ArrayLike<number>, h: number): Float64Array {
  if (!(Number.isFinite(h) && h > 0)) throw new RangeError(`haloMassToMsun: h must be a finite number > 0, got ${h}`);
  const out = new Float64Array(massMsunPerH.length);
  for (let i = 0; i < out.length; i++) out[i] = massMsunPerH[i]! / h;
  return out;
}
