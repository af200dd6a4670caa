/**
 * One view of a particle snapshot whatever its format: the path goes through the shared resolver
 * (resolve.ts), the format is detected from the file's first bytes and the matching reader is used
 * (HDF5: gadget-hdf5.ts; Gadget binary format 1 or 2: gadget-binary.ts). Positions in Mpc/h,
 * masses in Msun/h, streamed in chunks so large snapshots never sit in memory at once.
 */
import { LodiIOError } from './errors.js';
import {
  iterateGadgetHdf5,
  missingGadgetHdf5Fields,
  readGadgetHdf5Header,
  type GadgetField,
  type GadgetHdf5Header,
  type ParticleData,
} from './gadget-hdf5.js';
import {
  gadgetBinaryLabels,
  iterateGadgetBinary,
  readGadgetBinaryInfo,
  type GadgetBinaryInfo,
  type GadgetBinaryType,
} from './gadget-binary.js';
import { resolveSimulationInput, FORMAT_NAMES, type SimulationFormat } from './resolve.js';
import type { HeaderCosmology, LengthConversion, LengthUnit } from './units.js';

export interface SnapshotOptions {
  /** Length unit of files without UnitLength_in_cm (otherwise guessed from the box size, and reported). */
  lengthUnit?: LengthUnit;
  /** Box size in Mpc/h, for binary files whose header BoxSize is 0; must agree with a non-zero header. */
  boxSize?: number;
}

export interface SnapshotInfo {
  /** The path as given. */
  path: string;
  format: SimulationFormat;
  /** All pieces, in order. */
  files: string[];
  /** Mpc/h. */
  boxSize: number;
  redshift: number;
  /** Scale factor. */
  time: number;
  cosmology: HeaderCosmology;
  /** Particles per type over the whole snapshot. */
  numPartTotal: number[];
  lengthUnit: LengthConversion;
}

/** A field a reader cannot supply for a particle type, with the file and dataset/block it looked for. */
export interface MissingField {
  field: GadgetField;
  /** Dataset (HDF5) or block label (binary). */
  dataset: string;
  file: string;
  /** Why, when it is not simply absent (e.g. format 1 carries no gas-physics blocks). */
  reason?: string;
}

export interface Snapshot {
  info: SnapshotInfo;
  /** Fields of `partType` that the snapshot lacks (empty when all are there or the type has no particles). */
  missingFields(partType: number, fields: readonly GadgetField[]): Promise<MissingField[]>;
  /** Streams particles of one type in chunks of at most `chunkSize`. */
  chunks(partType: number, fields: readonly GadgetField[], chunkSize: number): AsyncGenerator<ParticleData>;
}

/** Format-2 block label of each field. */
const BINARY_BLOCK: Record<GadgetField, string> = {
  positions: 'POS',
  masses: 'MASS',
  velocities: 'VEL',
  ids: 'ID',
  neutralHydrogen: 'NH',
  sfr: 'SFR',
  density: 'RHO',
};

/** Fields a binary reader supplies for every type it holds. */
const BINARY_ALWAYS: readonly GadgetField[] = ['positions', 'masses', 'velocities', 'ids'];

/**
 * Opens a snapshot given a file, a piece or a base name: detects the format and reads the header
 * (and, for multi-file snapshots, the piece headers). Throws LodiIOError (see the readers).
 */
export async function openSnapshot(path: string, opts: SnapshotOptions = {}): Promise<Snapshot> {
  const ref = resolveSimulationInput(path, 'snapshot');
  if (ref.format === 'hdf5') return hdf5Snapshot(path, await readGadgetHdf5Header(path, opts), opts);
  return binarySnapshot(path, ref.format, readGadgetBinaryInfo(path, opts), opts);
}

function hdf5Snapshot(path: string, h: GadgetHdf5Header, opts: SnapshotOptions): Snapshot {
  if (opts.boxSize !== undefined && Math.abs(opts.boxSize - h.boxSize) > 1e-6 * h.boxSize) {
    throw new LodiIOError(
      h.files[0] ?? path,
      `BoxSize is ${h.boxSize} Mpc/h (${h.lengthUnit.note}), expected the ${opts.boxSize} Mpc/h given`,
      'Header',
      'length-unit',
    );
  }
  return {
    info: {
      path,
      format: 'hdf5',
      files: h.files,
      boxSize: h.boxSize,
      redshift: h.redshift,
      time: h.time,
      cosmology: h.cosmology,
      numPartTotal: h.numPartTotal,
      lengthUnit: h.lengthUnit,
    },
    missingFields: async (t, fields) => missingGadgetHdf5Fields(h, t, fields),
    chunks: async function* (t, fields, chunkSize) {
      for await (const c of iterateGadgetHdf5(path, {
        partType: t,
        fields,
        chunkSize,
        ...(opts.lengthUnit ? { lengthUnit: opts.lengthUnit } : {}),
      }))
        yield c;
    },
  };
}

function binarySnapshot(path: string, format: SimulationFormat, b: GadgetBinaryInfo, opts: SnapshotOptions): Snapshot {
  const h = b.header;
  return {
    info: {
      path,
      format,
      files: b.files,
      boxSize: b.boxSize,
      redshift: h.redshift,
      time: h.time,
      cosmology: { omegaM: h.omega0, omegaL: h.omegaLambda, h: h.hubbleParam },
      numPartTotal: b.npartTotal,
      lengthUnit: b.lengthUnit,
    },
    missingFields: async (t, fields) => {
      const out: MissingField[] = [];
      if ((b.npartTotal[t] ?? 0) === 0) return out;
      const wanted = fields.filter((f) => !BINARY_ALWAYS.includes(f));
      if (wanted.length === 0) return out;
      if (t !== 0)
        return wanted.map((field) => ({
          field,
          dataset: BINARY_BLOCK[field],
          file: b.files[0]!,
          reason: 'gas-only block',
        }));
      for (const file of b.files) {
        const labels = gadgetBinaryLabels(file);
        for (const field of wanted) {
          if (out.some((o) => o.field === field)) continue;
          if (labels === null)
            out.push({
              field,
              dataset: BINARY_BLOCK[field],
              file,
              reason: `${FORMAT_NAMES.gadget1} files have no labelled gas-physics blocks`,
            });
          else if (!labels.includes(BINARY_BLOCK[field]) || field === 'density')
            out.push({ field, dataset: BINARY_BLOCK[field], file });
        }
      }
      return out;
    },
    chunks: async function* (t, fields, chunkSize) {
      const want = (f: GadgetField): boolean => fields.includes(f);
      const size = Math.max(1, Math.floor(chunkSize));
      for (const piece of iterateGadgetBinary(path, { ...opts, velocities: want('velocities'), ids: want('ids') }, b)) {
        const p: GadgetBinaryType | undefined = piece.snapshot.particles[t];
        if (!p) continue;
        for (const field of fields) {
          const have =
            field === 'positions' || field === 'masses'
              ? true
              : field === 'neutralHydrogen'
                ? !!p.neutralHydrogen
                : field === 'sfr'
                  ? !!p.sfr
                  : field === 'velocities'
                    ? !!p.velocities
                    : field === 'ids'
                      ? !!p.ids
                      : false;
          if (!have)
            throw new LodiIOError(
              piece.file,
              `block missing, expected ${p.count} values for particle type ${t}`,
              BINARY_BLOCK[field],
            );
        }
        for (let a = 0; a < p.count; a += size) {
          const e = Math.min(p.count, a + size);
          const c: ParticleData = { count: e - a };
          if (want('positions')) c.positions = p.positions.subarray(3 * a, 3 * e);
          if (want('masses')) c.masses = p.masses.subarray(a, e);
          if (want('velocities') && p.velocities) c.velocities = p.velocities.subarray(3 * a, 3 * e);
          if (want('ids') && p.ids) c.ids = p.ids.subarray(a, e);
          if (want('neutralHydrogen') && p.neutralHydrogen) c.neutralHydrogen = p.neutralHydrogen.subarray(a, e);
          if (want('sfr') && p.sfr) c.sfr = p.sfr.subarray(a, e);
          yield c;
        }
      }
    },
  };
}
