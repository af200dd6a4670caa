/**
 * [CII] 158 μm line-intensity maps of the discrete-source model (Davies et al. 2025, Sec. 7).
 *
 * - L_CII per galaxy from its SFR, log10(L_CII/L_sun) = 7.06 + log10(SFR/(Msun/yr))
 *   (De Looze et al. 2014; Davies et al. 2025, Eq. 26).
 * - Σ L_CII per cell: by default every galaxy is put in the cell whose node is nearest (NGP), the
 *   paper's "all galaxies at the centre of the cell"; cloud-in-cell is an option, to match fields
 *   gridded with the reionisation pipeline's CIC HaloBox (src/astro/reion/grid.ts).
 * - Surface brightness density per cell (Davies et al. 2025, Eq. 27) in Jy/sr:
 *     B_CII = Σ_cell L_CII / (K D_L² Ω c Δν),
 *   K = 1.04e-3 L_sun / (Jy km/s GHz Mpc²) the line-luminosity constant of Solomon et al. (1997),
 *   L = K S Δv ν_obs D_L²; D_L the luminosity distance [Mpc]; Ω = (a/χ)² the solid angle of a cell of
 *   comoving side a at comoving distance χ [sr]; Δν = ν_rest H(z) a / (c (1+z)²) the observed frequency
 *   width of the cell [GHz] (dν = ν_rest dz/(1+z)², dz = H dχ/c); c = 299792.458 km/s.
 *   The printed Eq. 27 has 1.04e-3 D_L² Ω Δν without the c: K's velocity width Δv [km/s] times ν_obs
 *   [GHz] is c Δν, so the printed form, read with Δν in GHz, is c[km/s] = 2.998e5 times the specific
 *   intensity in Jy/sr (the paper's own maps are made in Jy/sr, with Δv ν_obs in place of Δν).
 *   Written out, K D_L² Ω c Δν = K ν_rest H(z) V_cell, so B_CII = ρ_L / (K ν_rest H(z)), the
 *   familiar I = c ρ_L / (4π ν_rest H) of line-intensity mapping.
 *
 * Units: positions and box sides in Mpc/h (the project's), distances converted to Mpc with h.
 */
import { comovingDistance, hubble } from '../../cosmo/background.js';
import { C_KMS, type Cosmology } from '../../cosmo/params.js';
import { paint } from '../../field/mas.js';

/** Rest frequency of the [CII] 2P3/2 → 2P1/2 line [GHz]. */
export const NU_CII_REST_GHZ = 1900.537;

/** Normalisation of the De Looze et al. (2014) relation, log10(L_CII/L_sun) at SFR = 1 Msun/yr (Eq. 26). */
export const DE_LOOZE_LOG_NORM = 7.06;

/**
 * Line-luminosity constant K of L [L_sun] = K S [Jy] Δv [km/s] ν_obs [GHz] D_L² [Mpc²]
 * (Solomon et al. 1997; the 1.04e-3 of Davies et al. 2025, Eq. 27), i.e. 4π Mpc² Jy GHz (km/s) / (c L_sun).
 */
export const LINE_LUMINOSITY_CONSTANT = 1.04e-3;

/** Options of the L_CII–SFR relation. */
export interface CiiLuminosityOptions {
  /** log10(L_CII/L_sun) at SFR = 1 Msun/yr (default 7.06, De Looze et al. 2014). */
  logNorm?: number;
}

/**
 * L_CII [L_sun] per galaxy (Davies et al. 2025, Eq. 26): 10^logNorm × SFR/(Msun/yr); SFR = 0 gives 0.
 *
 * @param sfrMsunPerYr SFR per galaxy [Msun/yr], length n (e.g. GalaxyProperties.sfr + sfrMini).
 * @returns Float64Array [n] in L_sun.
 * @throws RangeError when an SFR is negative or not finite, or logNorm is not finite.
 */
export function ciiLuminosity(sfrMsunPerYr: ArrayLike<number>, opts: CiiLuminosityOptions = {}): Float64Array {
  const logNorm = opts.logNorm ?? DE_LOOZE_LOG_NORM;
  if (!Number.isFinite(logNorm)) throw new RangeError(`ciiLuminosity: logNorm must be finite, got ${logNorm}`);
  const norm = Math.pow(10, logNorm);
  const out = new Float64Array(sfrMsunPerYr.length);
  for (let i = 0; i < out.length; i++) {
    const s = sfrMsunPerYr[i]!;
    if (!(Number.isFinite(s) && s >= 0)) throw new RangeError(`ciiLuminosity: sfrMsunPerYr[${i}] must be a finite SFR >= 0 [Msun/yr], got ${s}`);
    out[i] = norm * s;
  }
  return out;
}

/** Options of {@link gridCiiLuminosity}. */
export interface CiiGridOptions {
  /** Cells per side N. */
  grid: number;
  /** Box side L [Mpc/h]. */
  boxSize: number;
  /**
   * Assignment to cells (default 'NGP': each galaxy wholly in the cell of its nearest node, the cell
   * centred on x_i = i L/N; the paper's choice, so Σ_cell in Eq. 27 is a plain sum over the galaxies
   * of the cell). 'CIC' spreads each galaxy over 8 cells as the HaloBox gridding of the ionising fields.
   */
  mas?: 'NGP' | 'CIC';
}

/**
 * Σ L_CII per cell [L_sun] on a periodic N^3 grid (C order [x][y][z]); the total is conserved.
 *
 * @param positions galaxy positions [n*3] in Mpc/h (wrapped periodically).
 * @param luminosityLsun L_CII per galaxy [n] in L_sun.
 * @throws Error when the lengths disagree, a luminosity is negative or not finite, or `mas` is unknown.
 */
export function gridCiiLuminosity(positions: Float32Array | Float64Array, luminosityLsun: Float32Array | Float64Array, opts: CiiGridOptions): Float32Array {
  if (positions.length !== 3 * luminosityLsun.length) {
    throw new Error(`gridCiiLuminosity: positions has ${positions.length} entries, expected 3 × ${luminosityLsun.length} (one triple per galaxy)`);
  }
  for (let i = 0; i < luminosityLsun.length; i++) {
    const l = luminosityLsun[i]!;
    if (!(Number.isFinite(l) && l >= 0)) throw new Error(`gridCiiLuminosity: luminosityLsun[${i}] must be a finite luminosity >= 0 [L_sun], got ${l}`);
  }
  const mas = opts.mas ?? 'NGP';
  if (mas !== 'NGP' && mas !== 'CIC') throw new Error(`gridCiiLuminosity: mas must be 'NGP' or 'CIC', got '${String(mas)}'`);
  return paint(positions, { grid: opts.grid, boxSize: opts.boxSize, mas, weights: luminosityLsun });
}

/** Geometry of one cell as seen from z = 0 (Davies et al. 2025, Eq. 27). */
export interface CellGeometry {
  z: number;
  /** Comoving distance χ [Mpc]. */
  comovingDistanceMpc: number;
  /** Luminosity distance D_L = (1+z) χ [Mpc]. */
  luminosityDistanceMpc: number;
  /** Comoving cell side a [Mpc]. */
  cellMpc: number;
  /** Solid angle Ω = (a/χ)² [sr]. */
  solidAngleSr: number;
  /** Observed line frequency ν_rest/(1+z) [GHz]. */
  observedFrequencyGHz: number;
  /** Observed frequency width of the cell, Δν = ν_rest H(z) a / (c (1+z)²) [GHz]. */
  deltaNuGHz: number;
}

/** Options of the B_CII conversion. */
export interface CiiIntensityOptions {
  /** Line-luminosity constant K [L_sun / (Jy km/s GHz Mpc²)] (default 1.04e-3, as printed in Eq. 27). */
  constant?: number;
  /** Rest frequency [GHz] (default 1900.537). */
  nuRestGHz?: number;
}

/**
 * Cell geometry at redshift z for a comoving cell side [Mpc/h].
 *
 * @param comovingDistanceMpcH χ [Mpc/h] when already known (e.g. a lightcone slice's); default χ(z).
 * @throws RangeError for z <= 0 (no distance to divide by) or a non-positive cell side.
 */
export function cellGeometry(cosmo: Cosmology, z: number, cellMpcH: number, nuRestGHz = NU_CII_REST_GHZ, comovingDistanceMpcH?: number): CellGeometry {
  if (!(Number.isFinite(z) && z > 0)) throw new RangeError(`cellGeometry: z must be a finite redshift > 0, got ${z}`);
  if (!(Number.isFinite(cellMpcH) && cellMpcH > 0)) throw new RangeError(`cellGeometry: cellMpcH must be a positive cell side [Mpc/h], got ${cellMpcH}`);
  if (!(Number.isFinite(nuRestGHz) && nuRestGHz > 0)) throw new RangeError(`cellGeometry: nuRestGHz must be a positive frequency [GHz], got ${nuRestGHz}`);
  const chi = (comovingDistanceMpcH ?? comovingDistance(cosmo, z)) / cosmo.h;
  if (!(chi > 0)) throw new RangeError(`cellGeometry: comovingDistanceMpcH must be > 0, got ${comovingDistanceMpcH}`);
  const a = cellMpcH / cosmo.h;
  const zp1 = 1 + z;
  return {
    z,
    comovingDistanceMpc: chi,
    luminosityDistanceMpc: zp1 * chi,
    cellMpc: a,
    solidAngleSr: (a / chi) ** 2,
    observedFrequencyGHz: nuRestGHz / zp1,
    // dν = ν_rest dz / (1+z)², dz = H(z) dχ / c with H in km/s/Mpc, dχ in Mpc, c in km/s
    deltaNuGHz: (nuRestGHz * hubble(cosmo, z) * a) / (C_KMS * zp1 * zp1),
  };
}

/** 1 / (K D_L² Ω c Δν): B_CII [Jy/sr] per L_sun in a cell of the given geometry. */
export function ciiIntensityPerLuminosity(geom: CellGeometry, constant = LINE_LUMINOSITY_CONSTANT): number {
  if (!(Number.isFinite(constant) && constant > 0)) throw new RangeError(`ciiIntensityPerLuminosity: constant must be > 0 [L_sun/(Jy km/s GHz Mpc²)], got ${constant}`);
  return 1 / (constant * geom.luminosityDistanceMpc ** 2 * geom.solidAngleSr * C_KMS * geom.deltaNuGHz);
}

/** Box description of {@link ciiSurfaceBrightness}. */
export interface CiiBoxOptions extends CiiIntensityOptions {
  /** Redshift of the coeval box. */
  z: number;
  cosmology: Cosmology;
  /** Box side L [Mpc/h] and cells per side N. */
  boxSize: number;
  grid: number;
}

/**
 * B_CII [Jy/sr] of a coeval box from Σ L_CII per cell (Davies et al. 2025, Eq. 27).
 *
 * @param luminosityPerCell Σ L_CII per cell [N^3] in L_sun (from {@link gridCiiLuminosity}).
 * @returns Float32Array [N^3] in Jy/sr.
 * @throws Error when the box has the wrong size or holds a negative or non-finite luminosity.
 */
export function ciiSurfaceBrightness(luminosityPerCell: ArrayLike<number>, opts: CiiBoxOptions): Float32Array {
  const n3 = opts.grid ** 3;
  if (luminosityPerCell.length !== n3) throw new Error(`ciiSurfaceBrightness: luminosityPerCell has ${luminosityPerCell.length} values, expected N^3 = ${n3}`);
  const f = ciiIntensityPerLuminosity(cellGeometry(opts.cosmology, opts.z, opts.boxSize / opts.grid, opts.nuRestGHz), opts.constant);
  const out = new Float32Array(n3);
  for (let i = 0; i < n3; i++) {
    const l = luminosityPerCell[i]!;
    if (!(Number.isFinite(l) && l >= 0)) throw new Error(`ciiSurfaceBrightness: luminosityPerCell[${i}] must be a finite luminosity >= 0 [L_sun], got ${l}`);
    out[i] = l * f;
  }
  return out;
}
