/**
 * Reader for FoF/Subfind group catalogues in HDF5 (GADGET-4, AREPO, Illustris/CAMELS key names),
 * single or multi-piece (`fof_subhalo_tab_264.19.hdf5` is piece 19). Positions in Mpc/h, masses in
 * Msun/h. When pieces are missing the result says so (`partial`, `missingPieces`) instead of failing,
 * unless `requireComplete` is set.
 *
 * The header's counts decide what a file holds: GADGET-4, AREPO and TNG write `Group/` and
 * `Subhalo/` only when the file holds objects, so a file with Ngroups_ThisFile = 0 and no `Group/`
 * is an empty piece (or, with Ngroups_Total = 0, an empty catalogue written before the first halo
 * formed), not a corrupt one. Only a file whose header promises objects it lacks is an error.
 */
import type { H5File, Group } from './hdf5.js';
import { withH5, getGroup, attrNumber, datasetRows, getDataset, readFloat32, readFloat64 } from './hdf5.js';
import { LodiIOError, assertPositionsInBox } from './errors.js';
import { listPieces, describeMissing } from './pieces.js';
import { resolveHdf5Input } from './resolve.js';
import { resolveLengthUnit, massToMsunH, type HeaderCosmology, type LengthConversion, type LengthUnit } from './units.js';

/** Mass definitions and their dataset names. */
export const MASS_DEFINITIONS = {
  fof: 'GroupMass',
  crit200: 'Group_M_Crit200',
  crit500: 'Group_M_Crit500',
  mean200: 'Group_M_Mean200',
  tophat200: 'Group_M_TopHat200',
} as const;
export type MassDefinition = keyof typeof MASS_DEFINITIONS;

export interface FofOptions {
  /** Group mass definition (default 'fof'). Groups without a solution have mass 0 (kept). */
  massDefinition?: MassDefinition;
  /** Also read Subhalo/ (default false). */
  subhalos?: boolean;
  /** Decode Subhalo/SubhaloIDMostbound (48-bit in GADGET-4 files); skipped unless asked. */
  mostBoundIds?: boolean;
  /** Read only the piece given, not the whole set (default false). */
  singlePiece?: boolean;
  /** Fail when pieces of the set are missing (default false: read what exists, report partial). */
  requireComplete?: boolean;
  lengthUnit?: LengthUnit;
}

export interface FofGroups {
  count: number;
  /** Mpc/h, flat [count*3]. */
  positions: Float32Array;
  /** Msun/h for the chosen mass definition. */
  masses: Float64Array;
  /** Particles per group. */
  len?: Float64Array;
  /** km/s as stored, flat [count*3]. */
  velocities?: Float32Array;
  firstSub?: Float64Array;
  nsubs?: Float64Array;
}

export interface FofSubhalos {
  count: number;
  positions: Float32Array;
  masses: Float64Array;
  /** Global parent group number (SubhaloGroupNr or SubhaloGrNr). */
  groupNr: Float64Array;
  len?: Float64Array;
  mostBoundIds?: Float64Array;
}

export interface FofCatalogue {
  files: string[];
  numFiles: number;
  /** Pieces read (piece numbers). */
  piecesRead: number[];
  missingPieces: number[];
  /** True when pieces of the catalogue were not read (missing, or `singlePiece`). */
  partial: boolean;
  /** Mpc/h. */
  boxSize: number;
  redshift: number;
  time: number;
  cosmology?: HeaderCosmology;
  ngroupsTotal: number;
  nsubhalosTotal: number;
  /** How the length unit was decided (file attribute, override, or a guess from the box size). */
  lengthUnit: LengthConversion;
  massDefinition: MassDefinition;
  groups: FofGroups;
  subhalos?: FofSubhalos;
}

function firstAttr(groups: (Group | null)[], names: readonly string[]): number | undefined {
  for (const n of names) for (const g of groups) {
    const v = attrNumber(g, n);
    if (v !== undefined) return v;
  }
  return undefined;
}

interface Ctx {
  lf: number;
  mf: number;
  boxSize: number;
}

/** Header names of the per-file and total counts of each object kind (GADGET-4 first, then AREPO/TNG/Gadget-3). */
const COUNTS = {
  groups: { thisFile: ['Ngroups_ThisFile'], total: ['Ngroups_Total'], group: 'Group', pos: 'Group/GroupPos' },
  subhalos: { thisFile: ['Nsubhalos_ThisFile', 'Nsubgroups_ThisFile'], total: ['Nsubhalos_Total', 'Nsubgroups_Total'], group: 'Subhalo', pos: 'Subhalo/SubhaloPos' },
} as const;

/**
 * Number of objects of one kind in this file, from the header; without the header count, from the
 * positions dataset. A count > 0 without its group is an error; no count and no group cannot be told.
 */
function objectsInFile(f: H5File, file: string, kind: keyof typeof COUNTS): number {
  const c = COUNTS[kind];
  const h = getGroup(f, 'Header');
  const attr = c.thisFile.find((n) => attrNumber(h, n) !== undefined);
  const hasGroup = getGroup(f, c.group) !== null;
  if (attr === undefined) {
    const rows = datasetRows(f, c.pos);
    if (rows !== undefined) return rows;
    if (hasGroup) return 0;
    throw new LodiIOError(file, `attribute ${c.thisFile.join('/')} missing and no ${c.group}/ group; expected one of them (is this a FoF/Subfind catalogue?)`, 'Header');
  }
  const n = attrNumber(h, attr) as number;
  if (!Number.isInteger(n) || n < 0) throw new LodiIOError(file, `attribute ${attr} is ${n}, expected a count >= 0`, 'Header');
  if (n > 0 && !hasGroup) throw new LodiIOError(file, `group missing; expected ${n} objects (Header/${attr} = ${n})`, c.group);
  return n;
}

function readGroups(f: H5File, file: string, ctx: Ctx, def: MassDefinition): FofGroups {
  const n = objectsInFile(f, file, 'groups');
  if (n === 0) return { count: 0, positions: new Float32Array(0), masses: new Float64Array(0) };
  const opt = (name: string) => (getDataset(f, `Group/${name}`) ? `Group/${name}` : undefined);
  const positions = readFloat32(f, file, 'Group/GroupPos', { width: 3, rows: n }, ctx.lf);
  assertPositionsInBox(positions, ctx.boxSize, file, 'Group/GroupPos');
  const masses = readFloat64(f, file, `Group/${MASS_DEFINITIONS[def]}`, { rows: n, kind: 'float' }, ctx.mf);
  const out: FofGroups = { count: n, positions, masses };
  const len = opt('GroupLen');
  if (len) out.len = readFloat64(f, file, len, { rows: n, kind: 'int' });
  const vel = opt('GroupVel');
  if (vel) out.velocities = readFloat32(f, file, vel, { rows: n, width: 3 });
  const fs = opt('GroupFirstSub');
  if (fs) out.firstSub = readFloat64(f, file, fs, { rows: n, kind: 'int' });
  const ns = opt('GroupNsubs');
  if (ns) out.nsubs = readFloat64(f, file, ns, { rows: n, kind: 'int' });
  return out;
}

function readSubhalos(f: H5File, file: string, ctx: Ctx, mostBound: boolean): FofSubhalos {
  const n = objectsInFile(f, file, 'subhalos');
  if (n === 0) return { count: 0, positions: new Float32Array(0), masses: new Float64Array(0), groupNr: new Float64Array(0) };
  const positions = readFloat32(f, file, 'Subhalo/SubhaloPos', { width: 3, rows: n }, ctx.lf);
  assertPositionsInBox(positions, ctx.boxSize, file, 'Subhalo/SubhaloPos');
  const masses = readFloat64(f, file, 'Subhalo/SubhaloMass', { rows: n, kind: 'float' }, ctx.mf);
  const grName = getDataset(f, 'Subhalo/SubhaloGroupNr') ? 'Subhalo/SubhaloGroupNr' : 'Subhalo/SubhaloGrNr';
  if (!getDataset(f, grName)) throw new LodiIOError(file, `dataset missing, expected SubhaloGroupNr or SubhaloGrNr with ${n} rows`, 'Subhalo/SubhaloGroupNr');
  const out: FofSubhalos = { count: n, positions, masses, groupNr: readFloat64(f, file, grName, { rows: n, kind: 'int' }) };
  if (getDataset(f, 'Subhalo/SubhaloLen')) out.len = readFloat64(f, file, 'Subhalo/SubhaloLen', { rows: n, kind: 'int' });
  if (mostBound) out.mostBoundIds = readFloat64(f, file, 'Subhalo/SubhaloIDMostbound', { rows: n, kind: 'int' });
  return out;
}

function catF32(a: Float32Array[]): Float32Array {
  const out = new Float32Array(a.reduce((s, x) => s + x.length, 0));
  let o = 0;
  for (const x of a) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}
function catF64(a: Float64Array[]): Float64Array {
  const out = new Float64Array(a.reduce((s, x) => s + x.length, 0));
  let o = 0;
  for (const x of a) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

/**
 * Reads a group catalogue (all available pieces by default; a file, a piece or a base name, see
 * resolve.ts). Empty pieces are skipped; a catalogue with Ngroups_Total = 0 gives zero groups.
 * Throws LodiIOError when a file's header promises objects it lacks, when counts disagree with
 * Ngroups_Total, or (with `requireComplete`) when pieces are missing.
 */
export async function readFofCatalogue(path: string, opts: FofOptions = {}): Promise<FofCatalogue> {
  const ref = resolveHdf5Input(path, 'group catalogue');
  const def = opts.massDefinition ?? 'fof';
  if (!(def in MASS_DEFINITIONS)) throw new LodiIOError(path, `unknown mass definition '${def}', expected one of ${Object.keys(MASS_DEFINITIONS).join(', ')}`);
  const head = await withH5(ref.first, (f) => {
    const h = getGroup(f, 'Header');
    if (!h) throw new LodiIOError(ref.first, 'group missing, expected a FoF/Subfind catalogue Header (is this a group catalogue?)', 'Header');
    const p = getGroup(f, 'Parameters');
    const box = attrNumber(h, 'BoxSize') ?? attrNumber(p, 'BoxSize');
    if (box === undefined || !(box > 0)) throw new LodiIOError(ref.first, `attribute BoxSize is ${box ?? 'missing'}, expected a positive box size`, 'Header');
    const om = firstAttr([h, p], ['Omega0']);
    const ol = firstAttr([h, p], ['OmegaLambda']);
    const hh = firstAttr([h, p], ['HubbleParam']);
    const ob = firstAttr([h, p], ['OmegaBaryon']);
    const cosmology: HeaderCosmology | undefined =
      om !== undefined && ol !== undefined && hh !== undefined ? { omegaM: om, omegaL: ol, h: hh, ...(ob ? { omegaB: ob } : {}) } : undefined;
    return {
      box,
      redshift: attrNumber(h, 'Redshift') ?? NaN,
      time: attrNumber(h, 'Time') ?? NaN,
      numFiles: attrNumber(h, 'NumFiles') ?? attrNumber(h, 'NumFilesPerSnapshot') ?? 1,
      ngroupsTotal: firstAttr([h], COUNTS.groups.total) ?? objectsInFile(f, ref.first, 'groups'),
      nsubsTotal: firstAttr([h], COUNTS.subhalos.total) ?? (opts.subhalos ? objectsInFile(f, ref.first, 'subhalos') : 0),
      unitLength: firstAttr([h, p], ['UnitLength_in_cm']),
      unitMass: firstAttr([h, p], ['UnitMass_in_g']),
      cosmology,
    };
  });
  if (!Number.isFinite(head.redshift)) throw new LodiIOError(ref.first, 'attribute Redshift missing, expected the catalogue redshift', 'Header');
  const lu = resolveLengthUnit(head.unitLength, head.box, opts.lengthUnit);
  const lf = lu.factor;
  const ctx: Ctx = { lf, mf: massToMsunH(head.unitMass), boxSize: head.box * lf };
  let files: string[];
  let piecesRead: number[];
  let missing: number[];
  if (opts.singlePiece || head.numFiles <= 1) {
    files = [ref.first];
    piecesRead = [ref.index ?? 0];
    missing = head.numFiles <= 1 ? [] : Array.from({ length: head.numFiles }, (_, i) => i).filter((i) => i !== (ref.index ?? 0));
  } else {
    const set = listPieces(ref, head.numFiles);
    files = set.files;
    missing = set.missing;
    piecesRead = Array.from({ length: set.numFiles }, (_, i) => i).filter((i) => !missing.includes(i));
  }
  if (opts.requireComplete && missing.length > 0) {
    throw new LodiIOError(ref.first, `${describeMissing(ref, missing)} missing: expected all ${head.numFiles} pieces (Header/NumFiles = ${head.numFiles})`, 'Header/NumFiles');
  }
  const gparts: FofGroups[] = [];
  const sparts: FofSubhalos[] = [];
  for (const file of files) {
    await withH5(file, (f) => {
      gparts.push(readGroups(f, file, ctx, def));
      if (opts.subhalos) sparts.push(readSubhalos(f, file, ctx, opts.mostBoundIds ?? false));
    });
  }
  const opt64 = (k: 'len' | 'firstSub' | 'nsubs') => (gparts.every((g) => g.count === 0 || g[k]) ? { [k]: catF64(gparts.map((g) => g[k] ?? new Float64Array(0))) } : {});
  const groups: FofGroups = {
    count: gparts.reduce((a, g) => a + g.count, 0),
    positions: catF32(gparts.map((g) => g.positions)),
    masses: catF64(gparts.map((g) => g.masses)),
    ...opt64('len'),
    ...opt64('firstSub'),
    ...opt64('nsubs'),
    ...(gparts.every((g) => g.count === 0 || g.velocities) ? { velocities: catF32(gparts.map((g) => g.velocities ?? new Float32Array(0))) } : {}),
  };
  const result: FofCatalogue = {
    files,
    numFiles: head.numFiles,
    piecesRead,
    missingPieces: missing,
    partial: missing.length > 0,
    boxSize: ctx.boxSize,
    redshift: head.redshift,
    time: head.time,
    ...(head.cosmology ? { cosmology: head.cosmology } : {}),
    ngroupsTotal: head.ngroupsTotal,
    nsubhalosTotal: head.nsubsTotal,
    lengthUnit: lu,
    massDefinition: def,
    groups,
  };
  if (!result.partial && groups.count !== head.ngroupsTotal) {
    throw new LodiIOError(ref.first, `Ngroups_Total = ${head.ngroupsTotal}, but the pieces hold ${groups.count} groups; expected equal counts`, 'Header');
  }
  if (opts.subhalos) {
    result.subhalos = {
      count: sparts.reduce((a, s) => a + s.count, 0),
      positions: catF32(sparts.map((s) => s.positions)),
      masses: catF64(sparts.map((s) => s.masses)),
      groupNr: catF64(sparts.map((s) => s.groupNr)),
      ...(sparts.every((s) => s.count === 0 || s.len) ? { len: catF64(sparts.map((s) => s.len ?? new Float64Array(0))) } : {}),
      ...(opts.mostBoundIds ? { mostBoundIds: catF64(sparts.map((s) => s.mostBoundIds ?? new Float64Array(0))) } : {}),
    };
    if (!result.partial && result.subhalos.count !== head.nsubsTotal) {
      throw new LodiIOError(ref.first, `Nsubhalos_Total = ${head.nsubsTotal}, but the pieces hold ${result.subhalos.count} subhalos; expected equal counts`, 'Header');
    }
  }
  return result;
}
