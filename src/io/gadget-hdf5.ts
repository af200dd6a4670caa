/**
 * Reader for Gadget-2/3, AREPO and GADGET-4 HDF5 snapshots (single file or `.0.hdf5`, `.1.hdf5`, ...).
 * Lengths come back in Mpc/h and masses in Msun/h (see units.ts); velocities are returned as stored
 * (the code's velocity variable in km/s: peculiar velocity = v * sqrt(a) for Gadget conventions).
 */
import type { H5File, Group } from './hdf5.js';
import { withH5, getGroup, attrNumber, attrNumbers, getDataset, readFloat32, readFloat64 } from './hdf5.js';
import { LodiIOError, assertPositionsInBox } from './errors.js';
import { listPieces, describeMissing } from './pieces.js';
import { resolveHdf5Input } from './resolve.js';
import { resolveLengthUnit, massToMsunH, type HeaderCosmology, type LengthConversion, type LengthUnit } from './units.js';

export interface GadgetHdf5Header {
  /** All pieces that were found (in piece order). */
  files: string[];
  /** NumFilesPerSnapshot from the header. */
  numFiles: number;
  /** Piece numbers the header promises but that are not on disk (only with `allowPartial`). */
  missingPieces: number[];
  /** Mpc/h. */
  boxSize: number;
  redshift: number;
  /** Scale factor a. */
  time: number;
  cosmology: HeaderCosmology;
  /** Per-type particle mass in Msun/h (0 where masses are per particle). */
  massTable: number[];
  /** Per-type totals over the whole snapshot (NumPart_Total + 2^32 NumPart_Total_HighWord). */
  numPartTotal: number[];
  /** Per piece, per type. */
  numPartThisFile: number[][];
  /** Factors applied: code length → Mpc/h, code mass → Msun/h. */
  lengthToMpcH: number;
  massToMsunH: number;
  /** How the length unit was decided (file attribute, override, or a guess from the box size). */
  lengthUnit: LengthConversion;
  /** Where the cosmology was found: `Header` (Gadget-2/3, AREPO) or `Parameters` (GADGET-4). */
  cosmologySource: 'Header' | 'Parameters';
}

export type GadgetField = 'positions' | 'masses' | 'velocities' | 'ids' | 'neutralHydrogen' | 'sfr' | 'density';

/** Particles of one type (whole snapshot or one chunk). */
export interface ParticleData {
  count: number;
  /** Mpc/h, flat [count*3]. */
  positions?: Float32Array;
  /** Msun/h. */
  masses?: Float32Array;
  /** As stored (km/s, Gadget velocity variable), flat [count*3]. */
  velocities?: Float32Array;
  /** Particle IDs (exact below 2^53). */
  ids?: Float64Array;
  /** NeutralHydrogenAbundance n_HI/n_H (gas). */
  neutralHydrogen?: Float32Array;
  /** StarFormationRate in Msun/yr (gas). */
  sfr?: Float32Array;
  /** Comoving density in (Msun/h)/(Mpc/h)^3 (gas). */
  density?: Float32Array;
}

export interface ParticleChunk extends ParticleData {
  file: string;
  piece: number;
  partType: number;
  /** Index of the chunk's first particle within this type over the whole snapshot. */
  offset: number;
}

export interface GadgetHdf5Options {
  /** Overrides the length unit when the file's UnitLength_in_cm is absent or wrong. */
  lengthUnit?: LengthUnit;
  /** Accept a multi-file snapshot with pieces missing (reads what exists; header lists them). */
  allowPartial?: boolean;
}

const DATASET: Record<GadgetField, string> = {
  positions: 'Coordinates',
  masses: 'Masses',
  velocities: 'Velocities',
  ids: 'ParticleIDs',
  neutralHydrogen: 'NeutralHydrogenAbundance',
  sfr: 'StarFormationRate',
  density: 'Density',
};

const DEFAULT_FIELDS: GadgetField[] = ['positions', 'masses'];

function requireNumber(g: Group | null, gname: string, name: string, file: string, fallback?: Group | null): number {
  const v = attrNumber(g, name) ?? attrNumber(fallback ?? null, name);
  if (v === undefined || !Number.isFinite(v)) {
    throw new LodiIOError(file, `attribute ${name} is ${v === undefined ? 'missing' : v}, expected a finite number`, gname);
  }
  return v;
}

function sixInts(g: Group, name: string, file: string, required: boolean): number[] {
  const v = attrNumbers(g, name);
  if (v === undefined) {
    if (required) throw new LodiIOError(file, `missing attribute ${name} (expected 6 integers)`, 'Header');
    return [0, 0, 0, 0, 0, 0];
  }
  if (v.length < 6 && v.length !== 2) {
    throw new LodiIOError(file, `attribute ${name} has ${v.length} entries, expected 6`, 'Header');
  }
  return Array.from({ length: 6 }, (_, i) => v[i] ?? 0);
}

interface PieceHeader {
  boxCode: number;
  redshift: number;
  time: number;
  cosmology: HeaderCosmology;
  massTableCode: number[];
  numThis: number[];
  numTotal: number[];
  numFiles: number;
  unitLength?: number;
  unitMass?: number;
  cosmologySource: 'Header' | 'Parameters';
}

function readPieceHeader(f: H5File, file: string): PieceHeader {
  const h = getGroup(f, 'Header');
  if (!h) throw new LodiIOError(file, 'group missing, expected a Gadget/AREPO snapshot Header (is this a snapshot?)', 'Header');
  const p = getGroup(f, 'Parameters');
  const inHeader = attrNumber(h, 'Omega0') !== undefined;
  const cosmoGroup = inHeader ? h : p;
  const cosmoName = inHeader ? 'Header' : 'Parameters';
  const omegaB = attrNumber(h, 'OmegaBaryon') ?? attrNumber(p, 'OmegaBaryon');
  const cosmology: HeaderCosmology = {
    omegaM: requireNumber(cosmoGroup, cosmoName, 'Omega0', file),
    omegaL: requireNumber(cosmoGroup, cosmoName, 'OmegaLambda', file),
    h: requireNumber(cosmoGroup, cosmoName, 'HubbleParam', file),
    ...(omegaB !== undefined && omegaB > 0 ? { omegaB } : {}),
  };
  const low = sixInts(h, 'NumPart_Total', file, true);
  const high = sixInts(h, 'NumPart_Total_HighWord', file, false);
  const massTable = attrNumbers(h, 'MassTable');
  if (!massTable) throw new LodiIOError(file, 'attribute MassTable missing, expected 6 particle masses', 'Header');
  const unitLength = attrNumber(h, 'UnitLength_in_cm') ?? attrNumber(p, 'UnitLength_in_cm');
  const unitMass = attrNumber(h, 'UnitMass_in_g') ?? attrNumber(p, 'UnitMass_in_g');
  return {
    boxCode: requireNumber(h, 'Header', 'BoxSize', file),
    redshift: requireNumber(h, 'Header', 'Redshift', file),
    time: requireNumber(h, 'Header', 'Time', file),
    cosmology,
    massTableCode: Array.from({ length: 6 }, (_, i) => massTable[i] ?? 0),
    numThis: sixInts(h, 'NumPart_ThisFile', file, true),
    numTotal: low.map((l, i) => l + (high[i] ?? 0) * 2 ** 32),
    numFiles: attrNumber(h, 'NumFilesPerSnapshot') ?? attrNumber(h, 'NumFiles') ?? 1,
    ...(unitLength !== undefined ? { unitLength } : {}),
    ...(unitMass !== undefined ? { unitMass } : {}),
    cosmologySource: cosmoName,
  };
}

/**
 * Reads the header of a snapshot and finds all its pieces (given any piece, a file or the base
 * name; see resolve.ts). Throws LodiIOError when pieces are missing (unless `allowPartial`), when
 * the pieces' NumPart_ThisFile do not add up to NumPart_Total, or when BoxSize is not positive.
 */
export async function readGadgetHdf5Header(path: string, opts: GadgetHdf5Options = {}): Promise<GadgetHdf5Header> {
  const ref = resolveHdf5Input(path, 'snapshot');
  const first = await withH5(ref.first, (f) => readPieceHeader(f, ref.first));
  const set = listPieces(ref, first.numFiles);
  if (set.missing.length > 0 && !opts.allowPartial) {
    throw new LodiIOError(
      ref.first,
      `${describeMissing(ref, set.missing)} missing: expected all ${set.numFiles} pieces (Header/NumFilesPerSnapshot = ${set.numFiles})`,
      'Header/NumFilesPerSnapshot',
    );
  }
  const numPartThisFile: number[][] = [];
  for (const file of set.files) {
    numPartThisFile.push(file === ref.first ? first.numThis : await withH5(file, (f) => readPieceHeader(f, file).numThis));
  }
  if (set.missing.length === 0) {
    for (let t = 0; t < 6; t++) {
      const sum = numPartThisFile.reduce((a, n) => a + (n[t] ?? 0), 0);
      if (sum !== first.numTotal[t]) {
        throw new LodiIOError(ref.first, `NumPart_Total[${t}] = ${first.numTotal[t]}, but the pieces' NumPart_ThisFile[${t}] add up to ${sum}; expected equal counts`, 'Header');
      }
    }
  }
  const lu = resolveLengthUnit(first.unitLength, first.boxCode, opts.lengthUnit);
  const lf = lu.factor;
  const mf = massToMsunH(first.unitMass);
  const boxSize = first.boxCode * lf;
  if (!(boxSize > 0)) {
    throw new LodiIOError(ref.first, `BoxSize is ${first.boxCode}, expected a positive box size`, 'Header');
  }
  return {
    files: set.files,
    numFiles: set.numFiles,
    missingPieces: set.missing,
    boxSize,
    redshift: first.redshift,
    time: first.time,
    cosmology: first.cosmology,
    massTable: first.massTableCode.map((m) => m * mf),
    numPartTotal: first.numTotal,
    numPartThisFile,
    lengthToMpcH: lf,
    massToMsunH: mf,
    lengthUnit: lu,
    cosmologySource: first.cosmologySource,
  };
}

/**
 * Fields of particle type `partType` that some piece holding particles of that type lacks, with
 * the first such piece; empty when every piece has them all (types with no particles lack nothing).
 */
export async function missingGadgetHdf5Fields(
  header: GadgetHdf5Header,
  partType: number,
  fields: readonly GadgetField[],
): Promise<{ field: GadgetField; dataset: string; file: string; reason?: string }[]> {
  const out: { field: GadgetField; dataset: string; file: string; reason?: string }[] = [];
  for (let p = 0; p < header.files.length; p++) {
    if ((header.numPartThisFile[p]?.[partType] ?? 0) === 0) continue;
    const file = header.files[p] as string;
    await withH5(file, (f) => {
      if (!getGroup(f, `PartType${partType}`)) {
        // the header promises particles of this type: their whole group is missing
        if (fields.length > 0 && out.length === 0) out.push({ field: fields[0]!, dataset: `PartType${partType}`, file, reason: 'group missing' });
        return;
      }
      for (const field of fields) {
        if (out.some((o) => o.field === field)) continue;
        const ds = `PartType${partType}/${DATASET[field]}`;
        if (getDataset(f, ds)) continue;
        if (field === 'masses' && (header.massTable[partType] ?? 0) > 0) continue;
        out.push({ field, dataset: ds, file });
      }
    });
  }
  return out;
}

function readChunkFields(
  f: H5File,
  file: string,
  header: GadgetHdf5Header,
  partType: number,
  fields: readonly GadgetField[],
  rows: number,
  range: [number, number],
): ParticleData {
  const g = `PartType${partType}`;
  const count = range[1] - range[0];
  const out: ParticleData = { count };
  const lf = header.lengthToMpcH;
  const mf = header.massToMsunH;
  for (const field of fields) {
    const ds = `${g}/${DATASET[field]}`;
    const base = { rows, range, kind: 'number' as const };
    if (field !== 'masses' && !getDataset(f, ds)) {
      throw new LodiIOError(file, `dataset missing; expected ${rows} rows (Header/NumPart_ThisFile[${partType}] = ${rows})`, ds);
    }
    switch (field) {
      case 'positions':
        out.positions = readFloat32(f, file, ds, { ...base, width: 3 }, lf);
        assertPositionsInBox(out.positions, header.boxSize, file, ds);
        break;
      case 'velocities':
        out.velocities = readFloat32(f, file, ds, { ...base, width: 3 });
        break;
      case 'masses':
        if (getDataset(f, ds)) {
          out.masses = readFloat32(f, file, ds, base, mf);
        } else {
          const m = header.massTable[partType] ?? 0;
          if (!(m > 0) && count > 0) {
            throw new LodiIOError(file, `dataset missing and Header/MassTable[${partType}] is 0; expected one of them to give the mass of the ${count} particles`, ds);
          }
          out.masses = new Float32Array(count).fill(m);
        }
        break;
      case 'ids':
        out.ids = readFloat64(f, file, ds, { ...base, kind: 'int' });
        break;
      case 'neutralHydrogen':
        out.neutralHydrogen = readFloat32(f, file, ds, { ...base, kind: 'float' });
        break;
      case 'sfr':
        out.sfr = readFloat32(f, file, ds, { ...base, kind: 'float' });
        break;
      case 'density':
        out.density = readFloat32(f, file, ds, { ...base, kind: 'float' }, mf / (lf * lf * lf));
        break;
    }
  }
  return out;
}

export interface IterateOptions extends GadgetHdf5Options {
  partType: number;
  fields?: readonly GadgetField[];
  /** Maximum particles per chunk (default: one chunk per piece). */
  chunkSize?: number;
}

/**
 * Streams one particle type piece by piece (and in `chunkSize` slices within a piece), so a large
 * snapshot never needs to be held in memory at once.
 */
export async function* iterateGadgetHdf5(path: string, opts: IterateOptions): AsyncGenerator<ParticleChunk> {
  const header = await readGadgetHdf5Header(path, opts);
  const fields = opts.fields ?? DEFAULT_FIELDS;
  const t = opts.partType;
  let offset = 0;
  for (let p = 0; p < header.files.length; p++) {
    const file = header.files[p] as string;
    const n = header.numPartThisFile[p]?.[t] ?? 0;
    if (n === 0) continue;
    const chunk = Math.max(1, Math.floor(opts.chunkSize ?? n));
    const chunks: ParticleChunk[] = await withH5(file, (f) => {
      // A type with NumPart_ThisFile = 0 has no group (skipped above); one with particles must have it.
      if (!getGroup(f, `PartType${t}`)) {
        throw new LodiIOError(file, `group missing; expected ${n} particles (Header/NumPart_ThisFile[${t}] = ${n})`, `PartType${t}`);
      }
      const res: ParticleChunk[] = [];
      for (let a = 0; a < n; a += chunk) {
        const b = Math.min(n, a + chunk);
        const data = readChunkFields(f, file, header, t, fields, n, [a, b]);
        res.push({ ...data, file, piece: p, partType: t, offset: offset + a });
      }
      return res;
    });
    // Yield outside the open file so consumers may do slow work without holding the handle.
    for (const c of chunks) yield c;
    offset += n;
  }
}

export interface GadgetHdf5Snapshot {
  header: GadgetHdf5Header;
  /** Keyed by particle type; only types that were asked for and are present. */
  particles: Partial<Record<number, ParticleData>>;
}

function concat<T extends Float32Array | Float64Array>(parts: T[], ctor: new (n: number) => T): T {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new ctor(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Fields that only gas (PartType0) carries; readGadgetHdf5 skips them for other types. */
export const GAS_ONLY_FIELDS: readonly GadgetField[] = ['neutralHydrogen', 'sfr', 'density'];

/**
 * Reads whole particle types (default: 0, 1 and 4 where present) with the given fields
 * (default: positions and masses). Gas-only fields are read for PartType0 only.
 */
export async function readGadgetHdf5(
  path: string,
  opts: GadgetHdf5Options & { partTypes?: readonly number[]; fields?: readonly GadgetField[] } = {},
): Promise<GadgetHdf5Snapshot> {
  const header = await readGadgetHdf5Header(path, opts);
  const types = opts.partTypes ?? [0, 1, 4];
  const allFields = opts.fields ?? DEFAULT_FIELDS;
  const particles: Partial<Record<number, ParticleData>> = {};
  for (const t of types) {
    const fields = t === 0 ? allFields : allFields.filter((x) => !GAS_ONLY_FIELDS.includes(x));
    const present = header.numPartThisFile.reduce((a, n) => a + (n[t] ?? 0), 0);
    if (present === 0 && opts.partTypes === undefined) continue;
    const chunks: ParticleChunk[] = [];
    for await (const c of iterateGadgetHdf5(path, { ...opts, partType: t, fields })) chunks.push(c);
    const data: ParticleData = { count: present };
    for (const field of fields) {
      const arrays = chunks.map((c) => c[field]).filter((a): a is Float32Array | Float64Array => a !== undefined);
      if (field === 'ids') data.ids = concat(arrays as Float64Array[], Float64Array);
      else data[field] = concat(arrays as Float32Array[], Float32Array);
    }
    particles[t] = data;
  }
  return { header, particles };
}
