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
 * than 5000 unless they are under 5 Mpc/h across (give the length unit explicitly for those).
 */
export const KPC_BOX_THRESHOLD = 5000;

/** How the length unit of a file was decided. */
export type LengthUnitSource = 'file' | 'override' | 'box-size guess';

/** Length conversion of a file: the factor, where it came from and, when guessed, the reason. */
export interface LengthConversion {
  /** Code length → Mpc/h. */
  factor: number;
  source: LengthUnitSource;
  /** One line for logs and provenance, e.g. "kpc/h guessed from BoxSize 25000 > 5000 (no UnitLength_in_cm)". */
  note: string;
}

/**
 * Decides the length unit of a Gadget-family file: an override wins, then the file's
 * UnitLength_in_cm, and only without either a guess from the box size (code units above
 * KPC_BOX_THRESHOLD → kpc/h, else Mpc/h). The guess is reported in `source`/`note` so callers can
 * record it instead of applying it silently.
 */
export function resolveLengthUnit(unitLengthInCm: number | undefined, boxSizeCode: number | undefined, override?: LengthUnit): LengthConversion {
  if (override) {
    if (override !== 'kpc/h' && override !== 'Mpc/h') throw new Error(`length unit must be 'kpc/h' or 'Mpc/h', got '${String(override)}'`);
    return { factor: override === 'kpc/h' ? 1e-3 : 1, source: 'override', note: `${override} as given` };
  }
  if (unitLengthInCm !== undefined && unitLengthInCm > 0) {
    return { factor: unitLengthInCm / MPC_IN_CM, source: 'file', note: `UnitLength_in_cm = ${unitLengthInCm}` };
  }
  if (boxSizeCode !== undefined && boxSizeCode > KPC_BOX_THRESHOLD) {
    return { factor: 1e-3, source: 'box-size guess', note: `kpc/h guessed from BoxSize ${boxSizeCode} > ${KPC_BOX_THRESHOLD} (the file has no UnitLength_in_cm)` };
  }
  const why = boxSizeCode !== undefined && boxSizeCode > 0 ? `BoxSize ${boxSizeCode} <= ${KPC_BOX_THRESHOLD}` : 'no BoxSize';
  return { factor: 1, source: 'box-size guess', note: `Mpc/h guessed from ${why} (the file has no UnitLength_in_cm)` };
}

/** Factor from code length to Mpc/h: from UnitLength_in_cm when given, else from the box size. */
export function lengthToMpcH(unitLengthInCm: number | undefined, boxSizeCode: number | undefined, override?: LengthUnit): number {
  return resolveLengthUnit(unitLengthInCm, boxSizeCode, override).factor;
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
