/**
 * Per-halo quantities (halo mass, stellar mass, SFR, ionising emissivity, ...) gridded as comoving
 * densities on a periodic N^3 grid, the input of the excursion set (Davies et al. 2025, Sec. 4).
 *
 * As 21cmFAST's HaloBox (map_mass.c), each halo's value is deposited with cloud-in-cell weights onto
 * nodes at x_i = i L/N (the convention of src/field/mas.ts) and the grid is divided by the cell
 * volume, so it holds value per (Mpc/h)^3. NGP (nearest node) is offered as well.
 */
import { paint, type MassAssignment } from '../../field/mas.js';

export interface HaloGridOptions {
  /** Cells per side N. */
  grid: number;
  /** Box side L [Mpc/h]. */
  boxSize: number;
  /** Mass assignment (default 'CIC', as the code). */
  mas?: Extract<MassAssignment, 'NGP' | 'CIC'>;
}

/**
 * Density of one per-halo quantity: Σ_h w_h W(x − x_h) / V_cell.
 *
 * @param positions halo positions [n*3] in Mpc/h (wrapped periodically).
 * @param values per-halo values [n] (e.g. n_ion in Msun/h, SFR in Msun/h/s); non-finite values are rejected.
 * @returns Float32Array [N^3], C order [x][y][z], in (value unit)/(Mpc/h)^3.
 * @throws Error when the lengths disagree or a value is not finite.
 */
export function gridHaloQuantity(positions: Float32Array | Float64Array, values: Float32Array | Float64Array, opts: HaloGridOptions): Float32Array {
  if (positions.length !== 3 * values.length) {
    throw new Error(`gridHaloQuantity: positions has ${positions.length} entries, expected 3 × ${values.length} (one triple per value)`);
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new Error(`gridHaloQuantity: values[${i}] = ${values[i]} is not finite`);
  }
  const mas = opts.mas ?? 'CIC';
  if (mas !== 'CIC' && mas !== 'NGP') throw new Error(`gridHaloQuantity: mas must be 'CIC' or 'NGP', got '${String(mas)}'`);
  const out = paint(positions, { grid: opts.grid, boxSize: opts.boxSize, mas, weights: values });
  const invVol = Math.pow(opts.grid / opts.boxSize, 3);
  for (let i = 0; i < out.length; i++) out[i] = out[i]! * invVol;
  return out;
}

/**
 * Densities of several per-halo quantities at once, e.g. `{ haloMass, stellarMass, sfr, nIon }`;
 * each entry as {@link gridHaloQuantity}.
 */
export function gridHaloProperties<K extends string>(
  positions: Float32Array | Float64Array,
  fields: Record<K, Float32Array | Float64Array>,
  opts: HaloGridOptions,
): Record<K, Float32Array> {
  const out = {} as Record<K, Float32Array>;
  for (const k of Object.keys(fields) as K[]) {
    try {
      out[k] = gridHaloQuantity(positions, fields[k], opts);
    } catch (err) {
      throw new Error(`gridHaloProperties: field "${k}": ${(err as Error).message}`);
    }
  }
  return out;
}
