/**
 * Multi-file ("piece") naming shared by Gadget snapshots and group catalogues:
 * `snap_033.hdf5` (one file) or `snap_033.0.hdf5`, `snap_033.1.hdf5`, ... (HDF5), and
 * `snap_033` or `snap_033.0`, `snap_033.1`, ... (format-1 binary).
 */
import { existsSync } from 'node:fs';
import { LodiIOError } from './errors.js';

export interface PieceRef {
  /** The file to open first (the one given, or piece 0 when a base name was given). */
  first: string;
  /** Piece number of `first`, or undefined when it is not a numbered piece. */
  index?: number;
  /** Name of piece `i`, or undefined when `first` is not part of a numbered set. */
  pieceName?: (i: number) => string;
}

/** Finds the first file to open for an HDF5 snapshot/catalogue given a piece, a file or a base name. */
export function locateHdf5(path: string): PieceRef {
  const m = /^(.*)\.(\d+)\.hdf5$/.exec(path);
  if (m && existsSync(path)) {
    const base = m[1] as string;
    return { first: path, index: Number(m[2]), pieceName: (i) => `${base}.${i}.hdf5` };
  }
  if (path.endsWith('.hdf5') && existsSync(path)) {
    const base = path.slice(0, -'.hdf5'.length);
    return { first: path, pieceName: (i) => `${base}.${i}.hdf5` };
  }
  const base = path.endsWith('.hdf5') ? path.slice(0, -'.hdf5'.length) : path;
  for (const c of [`${base}.hdf5`, `${base}.0.hdf5`]) {
    if (existsSync(c)) return locateHdf5(c);
  }
  throw new LodiIOError(path, `file not found (also tried ${base}.hdf5 and ${base}.0.hdf5)`);
}

/** Finds the first file of a format-1 binary snapshot given a piece, a file or a base name. */
export function locateBinary(path: string): PieceRef {
  const m = /^(.*)\.(\d+)$/.exec(path);
  if (m && existsSync(path)) {
    const base = m[1] as string;
    return { first: path, index: Number(m[2]), pieceName: (i) => `${base}.${i}` };
  }
  if (existsSync(path)) return { first: path, pieceName: (i) => `${path}.${i}` };
  if (existsSync(`${path}.0`)) return locateBinary(`${path}.0`);
  throw new LodiIOError(path, `file not found (also tried ${path}.0)`);
}

export interface PieceSet {
  files: string[];
  /** Piece numbers that were expected (from the header) but are not on disk. */
  missing: number[];
  numFiles: number;
}

/**
 * Lists all pieces given the header's file count. A non-numbered file with numFiles > 1 is
 * only accepted when the numbered pieces exist.
 */
export function listPieces(ref: PieceRef, numFiles: number): PieceSet {
  const n = Math.max(1, Math.floor(numFiles));
  if (n === 1) return { files: [ref.first], missing: [], numFiles: 1 };
  const files: string[] = [];
  const missing: number[] = [];
  for (let i = 0; i < n; i++) {
    const name = ref.pieceName ? ref.pieceName(i) : undefined;
    if (name && existsSync(name)) files.push(name);
    else missing.push(i);
  }
  return { files, missing, numFiles: n };
}
