/** Gadget-family unit conventions and their conversion to lodi's Mpc/h and Msun/h. */

/** 1 kpc in cm, as used by Gadget parameter files (UnitLength_in_cm for kpc/h). */
export const KPC_IN_CM = 3.085678e21;
/** 1 Mpc in cm (UnitLength_in_cm for Mpc/h). */
export const MPC_IN_CM = 3.085678e24;
/** Gadget's default mass unit, 1e10 Msun/h, in g. */
export const GADGET_MASS_UNIT_G = 1.989e43;

export type LengthUnit = 'kpc/h' | 'Mpc/h';

/**
 * Box sizes above this value (in code units) are taken to be in kpc/h when a file does not state
 * UnitLength_in_cm: cosmological boxes in Mpc/h are well below 5000, and boxes in kpc/h are larger
 * than 5000 unless they are under 5 Mpc/h across (pass `lengthUnit` explicitly for those).
 */
export const KPC_BOX_THRESHOLD = 5000;

/** Factor from code length to Mpc/h: from UnitLength_in_cm when given, else from the box size. */
export function lengthToMpcH(unitLengthInCm: number | undefined, boxSizeCode: number | undefined, override?: LengthUnit): number {
  if (override) return override === 'kpc/h' ? 1e-3 : 1;
  if (unitLengthInCm !== undefined && unitLengthInCm > 0) return unitLengthInCm / MPC_IN_CM;
  if (boxSizeCode !== undefined && boxSizeCode > KPC_BOX_THRESHOLD) return 1e-3;
  return 1;
}

/** Factor from code mass to Msun/h (code unit 1e10 Msun/h unless UnitMass_in_g says otherwise). */
export function massToMsunH(unitMassInG: number | undefined): number {
  const g = unitMassInG !== undefined && unitMassInG > 0 ? unitMassInG : GADGET_MASS_UNIT_G;
  return (g / GADGET_MASS_UNIT_G) * 1e10;
}

/** Cosmology as read from a snapshot or catalogue header. */
export interface HeaderCosmology {
  omegaM: number;
  omegaL: number;
  /** Only when the file states it (Parameters/OmegaBaryon or Header/OmegaBaryon). */
  omegaB?: number;
  /** H0 / (100 km/s/Mpc). */
  h: number;
}

/** Unit of halo masses and mass-bin edges: lodi's Msun/h, or Msun (no h) as the LODI paper quotes its bins. */
export type MassUnit = 'Msun' | 'Msun/h';

/** Halo mass-bin edges with their unit. */
export interface MassBins {
  /** Increasing edges; a halo with edges[i] <= M < edges[i+1] goes to channel i (the last may be Infinity). */
  edges: readonly number[];
  unit: MassUnit;
}

/** Mass-bin edges converted to Msun/h (M [Msun/h] = M [Msun] × h); checks order and unit. */
export function massBinEdgesMsunH(bins: MassBins, h: number): number[] {
  if (bins.edges.length < 2) throw new Error('mass bins need at least two edges');
  for (let i = 1; i < bins.edges.length; i++) {
    if (!(bins.edges[i]! > bins.edges[i - 1]!)) throw new Error(`mass-bin edges must increase, got ${bins.edges.join(', ')}`);
  }
  if (bins.unit !== 'Msun' && bins.unit !== 'Msun/h') throw new Error(`mass-bin unit must be 'Msun' or 'Msun/h', got '${String(bins.unit)}'`);
  return bins.edges.map((e) => (bins.unit === 'Msun' ? e * h : e));
}
