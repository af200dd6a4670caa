/**
 * The one resolver for snapshot and group-catalogue paths, shared by every reader and command:
 * a file, a numbered piece (`snap_004.3.hdf5`, `snap_004.3`) or a base name (`snap_004` →
 * `snap_004.hdf5`, `snap_004.0.hdf5` or `snap_004.0`, as Pylians users type it). The format comes
 * from the file's first bytes, never from its name: HDF5 (signature), Gadget binary format 1 or 2
 * (first record), either byte order. An existing path is never reported missing.
 */
import { existsSync, statSync } from 'node:fs';
import { LodiIOError } from './errors.js';
import { baseNameCandidates, isFile, pieceRefOf, type PieceRef } from './pieces.js';
import { hdf5Superblock, headBytes, sniffGadgetBinary } from './sniff.js';

export type SimulationFormat = 'hdf5' | 'gadget1' | 'gadget2';

/** Human-readable names of the formats, for messages. */
export const FORMAT_NAMES: Readonly<Record<SimulationFormat, string>> = {
  hdf5: 'HDF5',
  gadget1: 'Gadget format-1 binary',
  gadget2: 'Gadget format-2 binary',
};

export interface ResolvedInput extends PieceRef {
  /** The path as given. */
  given: string;
  format: SimulationFormat;
  /** Byte order of a binary file (undefined for HDF5). */
  littleEndian?: boolean;
}

/** Detects the format of an existing file from its first bytes; throws a LodiIOError otherwise. */
export function detectFormat(file: string): { format: SimulationFormat; littleEndian?: boolean } {
  const size = statSync(file).size;
  if (size === 0)
    throw new LodiIOError(file, 'empty file (0 bytes), expected an HDF5 or Gadget binary snapshot/catalogue', 'size');
  if (hdf5Superblock(file)) return { format: 'hdf5' };
  const bin = sniffGadgetBinary(headBytes(file, 8));
  if (bin) return { format: bin.format === 1 ? 'gadget1' : 'gadget2', littleEndian: bin.littleEndian };
  const head = headBytes(file, 4);
  const shown = Array.from(head, (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new LodiIOError(
    file,
    `not an HDF5 file nor a Gadget binary one: first bytes ${shown}, expected the HDF5 signature or a Gadget header record (marker 256, or 8 + "HEAD")`,
    'signature',
  );
}

/**
 * Finds the file to open for `path` and its format. `what` names the input in messages
 * ("snapshot", "group catalogue"). Throws LodiIOError when nothing matches (listing what was tried)
 * or when `path` is a folder.
 */
export function resolveSimulationInput(path: string, what = 'snapshot'): ResolvedInput {
  if (path === '') throw new LodiIOError('(empty path)', `no ${what} path given, expected a file or base name`);
  let file: string | undefined;
  if (isFile(path)) file = path;
  else if (existsSync(path)) {
    throw new LodiIOError(
      path,
      `is a folder, expected a ${what} file, a numbered piece or a base name (e.g. snapdir_004/snap_004)`,
    );
  } else {
    file = baseNameCandidates(path).find(isFile);
  }
  if (!file) {
    const tried = baseNameCandidates(path)
      .map((c) => c.split('/').pop())
      .join(', ');
    throw new LodiIOError(path, `${what} not found: no such file, and no ${tried} beside it`);
  }
  const f = detectFormat(file);
  return { given: path, ...pieceRefOf(file), ...f };
}

/** As resolveSimulationInput, and requires the HDF5 format (group catalogues, HDF5-only readers). */
export function resolveHdf5Input(path: string, what = 'snapshot'): ResolvedInput {
  const r = resolveSimulationInput(path, what);
  if (r.format !== 'hdf5')
    throw new LodiIOError(r.first, `is a ${FORMAT_NAMES[r.format]} file, expected an HDF5 ${what}`, 'signature');
  return r;
}
