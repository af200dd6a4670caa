/**
 * The inputs of the reionisation driver built from a sampled merger history: the unit conversion of the
 * galaxies' ionising photons to the driver's mass-equivalent densities, the gridding of one catalogue,
 * and the evolved density δ(z) from the stored linear field.
 *
 * Units. `galaxyProperties` (src/astro/galaxy) gives n_ion as a photon COUNT (N_γ f_esc M_* / m_p) and ṅ_ion as
 * a RATE in photons/s. `reionise` (src/astro/reion) wants both as mass equivalents, photons × m_p, per comoving
 * volume: n_ion in (Msun/h)/(Mpc/h)^3 and ṅ_ion in (Msun/h)/s/(Mpc/h)^3, so that n_ion / (Ω_b ρ_c (1 + δ)) is the
 * number of photons per baryon (Davies et al. 2025, Eq. 18 and 23). {@link photonsToMassEquivalent} is the one
 * place that converts.
 */
import { growthFactor, growthFactor2 } from '../cosmo/background.js';
import type { Cosmology } from '../cosmo/params.js';
import { paint } from '../field/mas.js';
import { lptDisplacements } from '../nbody/ic.js';
import { M_P_G, MSUN_G } from '../astro/galaxy/constants.js';
import type { GalaxyProperties } from '../astro/galaxy/properties.js';
import { densityK } from '../astro/sampler/linear-field.js';
import { gridHaloQuantity } from '../astro/reion/grid.js';
import { dispose } from '@lodi/torch';

/**
 * Photons (a count, or a rate in photons/s) → their mass equivalent photons × m_p in Msun/h (or (Msun/h)/s):
 * N m_p / Msun × h, with the galaxy model's m_p = 1.67262192369e-24 g and Msun = 1.989e33 g (the 21cmFAST
 * values, src/astro/galaxy/constants.ts), so that a galaxy's N_γ f_esc M_* / m_p photons map back to exactly
 * N_γ f_esc M_* [Msun] × h.
 *
 * @param photons photon count or rate (≥ 0, finite)
 * @param h H0 / (100 km/s/Mpc)
 * @throws RangeError for a negative or non-finite count or a bad h
 */
export function photonsToMassEquivalent(photons: number, h: number): number {
  if (!(Number.isFinite(h) && h > 0)) throw new RangeError(`photonsToMassEquivalent: h = ${h}: expected a finite number > 0`);
  if (!(Number.isFinite(photons) && photons >= 0)) throw new RangeError(`photonsToMassEquivalent: photons = ${photons}: expected a finite count >= 0`);
  return ((photons * M_P_G) / MSUN_G) * h;
}

/** {@link photonsToMassEquivalent} applied to every entry of an array (one conversion, one place). */
export function photonsToMassEquivalentArray(photons: ArrayLike<number>, h: number): Float64Array {
  const out = new Float64Array(photons.length);
  photonsToMassEquivalent(0, h); // checks h once
  const f = (M_P_G / MSUN_G) * h;
  for (let i = 0; i < out.length; i++) {
    const v = photons[i]!;
    if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`photonsToMassEquivalent: photons[${i}] = ${v}: expected a finite count >= 0`);
    out[i] = v * f;
  }
  return out;
}

/** Gridded ionising sources of one redshift. */
export interface SourceGrids {
  /** Cumulative ionising emissivity n_ion [N^3], (Msun/h)/(Mpc/h)^3 (photons × m_p per volume). */
  emissivity: Float32Array;
  /** Ionising photon rate ṅ_ion [N^3], (Msun/h)/s/(Mpc/h)^3. */
  rate: Float32Array;
  /** Box totals before gridding: photons and photons/s. */
  totalPhotons: number;
  totalRate: number;
}

/**
 * Grids the ionising photons of one catalogue's galaxies (CIC on nodes i L/N, as the code's HaloBox) in the
 * driver's units.
 *
 * @param positions Eulerian halo positions [count × 3], Mpc/h
 * @param gal the catalogue's galaxy properties (nIon in photons, nIonDot in photons/s)
 * @throws Error when the lengths disagree or a value is not finite
 */
export function gridIonisingSources(
  positions: Float32Array,
  gal: Pick<GalaxyProperties, 'nIon' | 'nIonDot'>,
  o: { grid: number; boxSize: number; h: number },
): SourceGrids {
  let totalPhotons = 0;
  let totalRate = 0;
  for (let i = 0; i < gal.nIon.length; i++) {
    totalPhotons += gal.nIon[i]!;
    totalRate += gal.nIonDot[i]!;
  }
  const opts = { grid: o.grid, boxSize: o.boxSize, mas: 'CIC' as const };
  return {
    emissivity: gridHaloQuantity(positions, photonsToMassEquivalentArray(gal.nIon, o.h), opts),
    rate: gridHaloQuantity(positions, photonsToMassEquivalentArray(gal.nIonDot, o.h), opts),
    totalPhotons,
    totalRate,
  };
}

/** Gridded cosmic-dawn sources of one redshift (the code's HaloBox halo_sfr and halo_xray, per (Mpc/h)^3). */
export interface DawnSourceGrids {
  /** Star-formation-rate density, ACGs + MCGs [Msun/yr per (Mpc/h)^3]. */
  sfr: Float32Array;
  /** Soft-band X-ray luminosity density [10^38 erg/s per (Mpc/h)^3] (the code's unit; erg/s would overflow float32). */
  xray: Float32Array;
}

/**
 * Grids the SFR and X-ray luminosity of one catalogue's galaxies (CIC on nodes i L/N, as
 * {@link gridIonisingSources}), the emissivities of the X-ray and Lyman-α backgrounds.
 *
 * @throws Error when the lengths disagree or a value is not finite
 */
export function gridDawnSources(
  positions: Float32Array,
  gal: Pick<GalaxyProperties, 'sfr' | 'sfrMini' | 'lx'>,
  o: { grid: number; boxSize: number },
): DawnSourceGrids {
  const sfr = new Float64Array(gal.sfr.length);
  for (let i = 0; i < sfr.length; i++) sfr[i] = gal.sfr[i]! + gal.sfrMini[i]!;
  const opts = { grid: o.grid, boxSize: o.boxSize, mas: 'CIC' as const };
  const lx38 = Float64Array.from(gal.lx, (v) => v * 1e-38);
  return { sfr: gridHaloQuantity(positions, sfr, opts), xray: gridHaloQuantity(positions, lx38, opts) };
}

/**
 * Evolved density contrast δ(z) on the reionisation grid from the z = 0 linear field of the sampler: one particle
 * per fine-grid node q = (i, j, k) L/m, moved by 2LPT, x = q + D(z) Ψ1(q) + D2(z) Ψ2(q) (the displacements of
 * src/nbody/ic.ts, the same that move the halos), painted by CIC onto N^3 and normalised to the mean:
 * δ = ρ / ρ̄ − 1. As 21cmFAST's perturbed field (PerturbedField.c `move_grid_masses`), which moves the hires
 * particles with 2LPT and paints them by CIC on the low-resolution grid; it weights each particle by
 * 1 + D(z_init) δ_L and reads the displacements from the low-resolution grid, here every particle has the same
 * mass and its own node's displacement.
 */
export class EvolvedDensity {
  readonly fine: number;
  private readonly psi1: Float32Array;
  private readonly psi2: Float32Array | undefined;

  /**
   * @param linear z = 0 linear overdensity on a fine m^3 grid (nodes i L/m, C order)
   * @param grid cells per side N of the output; @param order 1 (Zel'dovich) or 2 (2LPT)
   * @throws Error when `linear` is not cubic
   */
  constructor(
    linear: Float32Array,
    readonly boxSize: number,
    readonly grid: number,
    private readonly cosmo: Cosmology,
    order: 1 | 2 = 2,
  ) {
    const m = Math.round(Math.cbrt(linear.length));
    if (m * m * m !== linear.length) throw new Error(`EvolvedDensity: linear field has ${linear.length} values, expected m^3 of a cubic grid`);
    this.fine = m;
    const dk = densityK(linear, m);
    try {
      const f = lptDisplacements(dk, m, boxSize, order);
      this.psi1 = f.psi1;
      this.psi2 = f.psi2;
    } finally {
      dispose(dk);
    }
  }

  /** δ(z) [N^3] (float32, C order). */
  at(z: number): Float32Array {
    const out = this.paintMoved(z, null);
    const mean = this.fine ** 3 / out.length;
    for (let c = 0; c < out.length; c++) out[c] = out[c]! / mean - 1;
    return out;
  }

  /**
   * A field on the nodes [m^3, C order] carried with them to z: each node's value painted by CIC at the node's 2LPT
   * position onto N^3 (totals kept; the code's `move_grid_galprops` when m = N). Float64 [N^3]; painted at O(1) (the
   * grid is float32, and photons per (Mpc/h)^3 reach 1e67), to float32 precision relative to the largest value.
   */
  carry(z: number, values: ArrayLike<number>): Float64Array {
    if (values.length !== this.fine ** 3) throw new Error(`EvolvedDensity.carry: ${values.length} values, expected one per node (${this.fine}^3)`);
    let peak = 0;
    for (let i = 0; i < values.length; i++) peak = Math.max(peak, Math.abs(values[i]!));
    if (peak === 0) return new Float64Array(this.grid ** 3);
    return Float64Array.from(this.paintMoved(z, values, 1 / peak), (v) => v * peak);
  }

  /** The nodes moved to z and painted by CIC, each with weight 1 or scale × its value. */
  private paintMoved(z: number, values: ArrayLike<number> | null, scale = 1): Float32Array {
    const m = this.fine;
    const L = this.boxSize;
    const D1 = growthFactor(this.cosmo, z);
    const D2 = this.psi2 ? growthFactor2(this.cosmo, z) : 0;
    const cell = L / m;
    const out = new Float32Array(this.grid ** 3);
    // one plane of particles at a time keeps the position buffer small
    const plane = new Float64Array(3 * m * m);
    const weights = values ? new Float64Array(m * m) : undefined;
    const p1 = this.psi1;
    const p2 = this.psi2;
    for (let i = 0; i < m; i++) {
      let o = 0;
      for (let j = 0; j < m; j++) {
        for (let k = 0; k < m; k++) {
          const p = 3 * ((i * m + j) * m + k);
          plane[o++] = i * cell + D1 * p1[p]! + (p2 ? D2 * p2[p]! : 0);
          plane[o++] = j * cell + D1 * p1[p + 1]! + (p2 ? D2 * p2[p + 1]! : 0);
          plane[o++] = k * cell + D1 * p1[p + 2]! + (p2 ? D2 * p2[p + 2]! : 0);
        }
      }
      if (weights) for (let t = 0; t < m * m; t++) weights[t] = values![i * m * m + t]! * scale;
      paint(plane, { grid: this.grid, boxSize: L, mas: 'CIC', out, weights });
    }
    return out;
  }
}
