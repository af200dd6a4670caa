/**
 * Multi-tracer lightcones (Davies et al. 2025, Sec. 7, Fig. 12–13): several named coeval fields
 * (δ, n_ion, X-ray emissivity, δT_b, ...) and the [CII] surface brightness B_CII on one common
 * rectilinear slicing, each built with src/astro/reion/lightcone.ts.
 *
 * B_CII is made per slice, not per coeval box: the Σ L_CII per cell boxes are interpolated to each
 * slice like any other field and then converted with that slice's redshift (Eq. 27). The conversion
 * factor 1/(K D_L² Ω c Δν) = 1/(K ν_rest H(z) V_cell) is not linear in comoving distance, so
 * interpolating B_CII boxes made at the box redshifts would apply, between two boxes, a linear blend
 * of the two boxes' factors instead of the slice's own, and B_CII of a constant luminosity density
 * would not follow 1/H(z) between the boxes. Interpolating the luminosity (an extensive quantity per
 * fixed comoving cell volume) and converting per slice is exact for that case.
 */
import { rectilinearLightcone, type Lightcone, type LightconeInput } from '../reion/lightcone.js';
import { cellGeometry, ciiIntensityPerLuminosity, type CiiIntensityOptions } from './cii.js';

/** Input of {@link multiTracerLightcones}: the slicing of {@link LightconeInput} and the fields to slice. */
export interface MultiTracerInput extends Omit<LightconeInput, 'boxes'> {
  /**
   * Named coeval fields, one box [N^3] per redshift each, e.g. `{ delta, nIon, xray, tb }`; each becomes a
   * lightcone in its own unit. May be empty when only B_CII is wanted.
   */
  fields: Readonly<Record<string, readonly ArrayLike<number>[]>>;
  /** Σ L_CII per cell [L_sun] per redshift (from gridCiiLuminosity); gives `ciiBrightness`. */
  ciiLuminosity?: readonly ArrayLike<number>[];
  /** Options of the B_CII conversion (constant K, ν_rest). */
  cii?: CiiIntensityOptions;
}

/** Lightcones on one slicing, each [N, N, nSlices] (transverse axes, then the line of sight). */
export interface MultiTracerLightcones {
  nSlices: number;
  /** Comoving distance [Mpc/h] and redshift of each slice. */
  distances: Float64Array;
  redshifts: Float64Array;
  /** One lightcone per named input field. */
  fields: Record<string, Float32Array>;
  /** Σ L_CII per cell [L_sun] interpolated to the slices, when `ciiLuminosity` was given. */
  ciiLuminosity?: Float32Array;
  /** B_CII [Jy/sr], each slice converted at its own redshift (Eq. 27), when `ciiLuminosity` was given. */
  ciiBrightness?: Float32Array;
}

/**
 * Builds the lightcones of every named field and, optionally, of B_CII.
 *
 * @throws Error when a field has a box count different from the redshift count (message names the
 * field), no field and no CII input is given, or for any reason of {@link rectilinearLightcone}.
 */
export function multiTracerLightcones(inp: MultiTracerInput): MultiTracerLightcones {
  const { fields: _fields, ciiLuminosity: _cii, cii: _ciiOpts, ...layout } = inp;
  const names = Object.keys(inp.fields);
  if (names.length === 0 && !inp.ciiLuminosity) throw new Error('multiTracerLightcones: fields is empty and ciiLuminosity is not given; nothing to build');
  const build = (name: string, boxes: readonly ArrayLike<number>[]): Lightcone => {
    if (boxes.length !== inp.redshifts.length) {
      throw new Error(`multiTracerLightcones: field "${name}" has ${boxes.length} boxes for ${inp.redshifts.length} redshifts`);
    }
    try {
      return rectilinearLightcone({ ...layout, boxes });
    } catch (err) {
      throw new Error(`multiTracerLightcones: field "${name}": ${(err as Error).message}`);
    }
  };
  const fields: Record<string, Float32Array> = {};
  let slicing: Lightcone | undefined;
  for (const name of names) {
    const lc = build(name, inp.fields[name]!);
    fields[name] = lc.field;
    slicing ??= lc;
  }
  const out: MultiTracerLightcones = { nSlices: 0, distances: new Float64Array(0), redshifts: new Float64Array(0), fields };
  if (inp.ciiLuminosity) {
    const lc = build('ciiLuminosity', inp.ciiLuminosity);
    slicing ??= lc;
    const ns = lc.nSlices;
    const cell = inp.boxSize / inp.grid;
    const factor = Float64Array.from({ length: ns }, (_, j) =>
      ciiIntensityPerLuminosity(cellGeometry(inp.cosmology, lc.redshifts[j]!, cell, inp.cii?.nuRestGHz, lc.distances[j]!), inp.cii?.constant),
    );
    const b = new Float32Array(lc.field.length);
    for (let p = 0; p < lc.field.length; p += ns) {
      for (let j = 0; j < ns; j++) {
        const l = lc.field[p + j]!;
        if (!(Number.isFinite(l) && l >= 0)) throw new Error(`multiTracerLightcones: ciiLuminosity must be a finite luminosity >= 0 [L_sun] per cell, got ${l} in slice ${j}`);
        b[p + j] = l * factor[j]!;
      }
    }
    out.ciiLuminosity = lc.field;
    out.ciiBrightness = b;
  }
  out.nSlices = slicing!.nSlices;
  out.distances = slicing!.distances;
  out.redshifts = slicing!.redshifts;
  return out;
}
