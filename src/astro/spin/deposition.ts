/**
 * Energy deposition of X-ray photoelectrons in a partly ionised IGM: the fractions of a primary
 * electron's energy that go into heat, secondary ionisations of H I, He I, He II and Lyα photons,
 * tabulated by Furlanetto & Stoever (2010, MNRAS 404, 1869) and interpolated as 21cmFAST does
 * (elec_interp.c: initialize_interp_arrays, interp_fheat, interp_n_Lya, interp_nion_HI/HeI/HeII,
 * locate_energy_index, locate_xHII_index).
 *
 * The tables (data/21cmfast/x_int_tables/) hold 258 electron energies E (10 eV … 9.94 keV) for 14
 * ionised fractions x_e (1e-4 … 0.999); the code assumes x_HeII = x_HII and He I neutral in step with
 * H I. Interpolation is bilinear: linear in E at the two bracketing x_e nodes, then linear in x_e.
 */
import { readTable } from './data.js';

/** Number of ionised-fraction nodes (x_int_NXHII). */
export const X_INT_NXHII = 14;
/** Number of energy nodes per table (x_int_NENERGY). */
export const X_INT_NENERGY = 258;

/** Ionised-fraction nodes x_int_XHII of the tables (elec_interp.c), ascending. */
export const X_INT_XHII: readonly number[] = Object.freeze([
  1.0e-4, 2.318e-4, 4.677e-4, 1.0e-3, 2.318e-3, 4.677e-3, 1.0e-2, 2.318e-2, 4.677e-2, 1.0e-1, 0.5, 0.9, 0.99, 0.999,
]);

/** The quantities tabulated per (x_e, E). */
export type DepositionQuantity = 'fIon' | 'fHeat' | 'fExc' | 'nLya' | 'nIonHI' | 'nIonHeI' | 'nIonHeII';

/** Column of each quantity in the table files (column 0 is the energy, column 8 Shull's heating). */
const COLUMN: Record<DepositionQuantity, number> = { fIon: 1, fHeat: 2, fExc: 3, nLya: 4, nIonHI: 5, nIonHeI: 6, nIonHeII: 7 };

/** The tables: energies [eV] and, per quantity, one Float64Array of X_INT_NXHII × X_INT_NENERGY (x_e major). */
export interface DepositionTables {
  readonly energy: Float64Array;
  readonly values: Readonly<Record<DepositionQuantity, Float64Array>>;
}

/** Table file of ionised fraction x (elec_interp.c naming: log_xi_%1.1f below 0.3, xi_%1.3f above). */
function tableFile(x: number): string {
  return x < 0.3 ? `x_int_tables/log_xi_${Math.log10(x).toFixed(1)}.dat` : `x_int_tables/xi_${x.toFixed(3)}.dat`;
}

let cached: DepositionTables | undefined;

/**
 * The Furlanetto & Stoever (2010) tables, read once from data/21cmfast/x_int_tables/ (the code's
 * initialize_interp_arrays; values kept in float64 where the code stores float).
 *
 * @throws Error naming the file when one is missing, malformed or has the wrong number of energies.
 */
export function depositionTables(): DepositionTables {
  if (cached) return cached;
  const energy = new Float64Array(X_INT_NENERGY);
  const values = {} as Record<DepositionQuantity, Float64Array>;
  for (const q of Object.keys(COLUMN) as DepositionQuantity[]) values[q] = new Float64Array(X_INT_NXHII * X_INT_NENERGY);
  X_INT_XHII.forEach((x, m) => {
    const name = tableFile(x);
    // the second line (fHI fHeI fHeII z T) is numeric too: data rows are those with 9 columns
    const rows = readTable(name).filter((r) => r.length === 9);
    if (rows.length !== X_INT_NENERGY) throw new Error(`${name}: ${rows.length} energy rows, expected ${X_INT_NENERGY}`);
    rows.forEach((r, i) => {
      if (m === 0) energy[i] = r[0]!;
      else if (r[0] !== energy[i]) throw new Error(`${name}: energy ${r[0]} at row ${i} differs from the first table's ${energy[i]}`);
      for (const q of Object.keys(COLUMN) as DepositionQuantity[]) values[q][m * X_INT_NENERGY + i] = r[COLUMN[q]]!;
    });
  });
  cached = Object.freeze({ energy, values: Object.freeze(values) });
  return cached;
}

/**
 * How the lower energy node is found.
 * - 'code': the code's analytic locate_energy_index, n = ⌊ln(E/10)/0.0198026273⌋ below 1008.88 eV and
 *   232 + ⌊ln(E/1008.88)/0.0953101798⌋ above. Above 1008.88 eV this is one node low (1008.88 eV is
 *   node 233, not 232) and at rounded node energies it may be one more low, so the code extrapolates
 *   linearly from the interval below E there (see docs/astro-spin-radiation.md).
 * - 'bracketing': the node n with E_n ≤ E < E_{n+1} (binary search), which reproduces table nodes.
 */
export type EnergyLocate = 'code' | 'bracketing';

/** The code's locate_energy_index (elec_interp.c), for E ≥ 10 eV. */
export function locateEnergyIndex(En: number): number {
  return En < 1008.88 ? Math.trunc(Math.log(En / 10.0) / 1.98026273e-2) : 232 + Math.trunc(Math.log(En / 1008.88) / 9.53101798e-2);
}

/** Index n with E_n ≤ E < E_{n+1}, clamped to [0, X_INT_NENERGY − 2]. */
function bracketEnergyIndex(energy: Float64Array, En: number): number {
  let lo = 0;
  let hi = X_INT_NENERGY - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (energy[mid]! <= En) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The code's locate_xHII_index: the largest m with x_int_XHII[m] ≤ x (x is assumed already clamped
 * into [1.001e-4, 0.999 × 0.999]).
 */
export function locateXHIIIndex(x: number): number {
  let m = X_INT_NXHII - 1;
  while (m > 0 && x < X_INT_XHII[m]!) m--;
  return m;
}

/** The code's clamp of the ionised fraction into the table range (interp_* and Ts.c's per-cell x_e). */
export function clampXHII(x: number): number {
  const top = X_INT_XHII[X_INT_NXHII - 1]! * 0.999;
  if (x > top) return top;
  if (x < X_INT_XHII[0]!) return 1.001 * X_INT_XHII[0]!;
  return x;
}

/**
 * Interpolated deposition quantity for a primary electron of energy En at ionised fraction xHII,
 * as the code's interp_fheat / interp_n_Lya / interp_nion_* (elec_interp.c): energies above
 * 0.999 E_max are set to 0.999 E_max (the fractions have reached their asymptote there); below the
 * first node (10 eV) f_heat = 1 and every other quantity is 0; x outside [1e-4, 0.999] is clamped.
 *
 * @param q quantity: 'fHeat' (fraction), 'nLya', 'nIonHI', 'nIonHeI', 'nIonHeII' (numbers of
 *   Lyα photons / secondary ionisations per electron), 'fIon', 'fExc' (fractions; not used by the code).
 * @param En electron energy [eV], finite.
 * @param xHII ionised fraction, finite.
 * @param locate energy-node search ('code' default: as 21cmFAST).
 * @throws Error naming the argument when En or xHII is not finite.
 */
export function interpDeposition(q: DepositionQuantity, En: number, xHII: number, locate: EnergyLocate = 'code'): number {
  if (!Number.isFinite(En)) throw new Error(`interpDeposition: En = ${En} eV, expected a finite energy`);
  if (!Number.isFinite(xHII)) throw new Error(`interpDeposition: xHII = ${xHII}, expected a finite ionised fraction`);
  const t = depositionTables();
  return interpOn(t, t.values[q], q === 'fHeat' ? 1 : 0, En, xHII, locate);
}

/** Core of interpDeposition on one quantity's table, without argument checks (hot path). */
export function interpOn(t: DepositionTables, tab: Float64Array, below: number, En: number, xHII: number, locate: EnergyLocate): number {
  const E = t.energy;
  const eMax = E[X_INT_NENERGY - 1]!;
  if (En > 0.999 * eMax) En = 0.999 * eMax;
  else if (En < E[0]!) return below;
  const x = clampXHII(xHII);
  const n = locate === 'code' ? locateEnergyIndex(En) : bracketEnergyIndex(E, En);
  const m = locateXHIIIndex(x);
  const e0 = E[n]!;
  const de = E[n + 1]! - e0;
  const lo = m * X_INT_NENERGY + n;
  const hi = lo + X_INT_NENERGY;
  const eLow = ((tab[lo + 1]! - tab[lo]!) / de) * (En - e0) + tab[lo]!;
  const eHigh = ((tab[hi + 1]! - tab[hi]!) / de) * (En - e0) + tab[hi]!;
  return ((eHigh - eLow) / (X_INT_XHII[m + 1]! - X_INT_XHII[m]!)) * (x - X_INT_XHII[m]!) + eLow;
}

/** f_heat(E, x_e): fraction of the electron's energy returned as heat (interp_fheat). */
export const interpFheat = (En: number, xHII: number, locate: EnergyLocate = 'code'): number => interpDeposition('fHeat', En, xHII, locate);
/** Number of Lyα photons produced by the electron (interp_n_Lya). */
export const interpNLya = (En: number, xHII: number, locate: EnergyLocate = 'code'): number => interpDeposition('nLya', En, xHII, locate);
/** Number of secondary H I ionisations (interp_nion_HI). */
export const interpNionHI = (En: number, xHII: number, locate: EnergyLocate = 'code'): number => interpDeposition('nIonHI', En, xHII, locate);
/** Number of secondary He I ionisations (interp_nion_HeI). */
export const interpNionHeI = (En: number, xHII: number, locate: EnergyLocate = 'code'): number => interpDeposition('nIonHeI', En, xHII, locate);
/** Number of secondary He II ionisations (interp_nion_HeII). */
export const interpNionHeII = (En: number, xHII: number, locate: EnergyLocate = 'code'): number => interpDeposition('nIonHeII', En, xHII, locate);
