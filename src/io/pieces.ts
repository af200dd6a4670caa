/**
 * Multi-file ("piece") naming shared by Gadget snapshots and group catalogues:
 * `snap_033.hdf5` (one file) or `snap_033.0.hdf5`, `snap_033.1.hdf5`, ... (HDF5), and
 * `snap_033` or `snap_033.0`, `snap_033.1`, ... (binary).
 */
import { existsSync, statSync } from 'node:fs';

export interface PieceRef {
  /** The file to open first (the one given, or piece 0 when a base name was given). */
  first: string;
  /** Piece number of `first`, or undefined when it is not a numbered piece. */
  index?: number;
  /** Name of piece `i`, or undefined when `first` is not part of a numbered set. */
  pieceName?: (i: number) => string;
}

/** True when `path` names an existing regular file (not a folder). */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The piece naming of an existing file: `x.N.hdf5` (or `.h5`) and `x.N` are piece N of a numbered
 * set; `x.hdf5` names pieces `x.i.hdf5`; any other name `x` names pieces `x.i`.
 */
export function pieceRefOf(file: string): PieceRef {
  const h = /^(.*)\.(\d+)(\.hdf5|\.h5)$/.exec(file);
  if (h) {
    const [, base, idx, ext] = h as unknown as [string, string, string, string];
    return { first: file, index: Number(idx), pieceName: (i) => `${base}.${i}${ext}` };
  }
  const b = /^(.*)\.(\d+)$/.exec(file);
  if (b) {
    const [, base, idx] = b as unknown as [string, string, string];
    return { first: file, index: Number(idx), pieceName: (i) => `${base}.${i}` };
  }
  const e = /^(.*)(\.hdf5|\.h5)$/.exec(file);
  if (e) {
    const [, base, ext] = e as unknown as [string, string, string];
    return { first: file, pieceName: (i) => `${base}.${i}${ext}` };
  }
  return { first: file, pieceName: (i) => `${file}.${i}` };
}

/**
 * Files tried, in order, for a name that is not itself a file: `x.hdf5`, `x.0.hdf5`, `x.0`
 * (a name ending in `.hdf5` is first stripped of it), as Pylians' readers accept base names.
 */
export function baseNameCandidates(path: string): string[] {
  const base = path.endsWith('.hdf5') ? path.slice(0, -'.hdf5'.length) : path;
  return [`${base}.hdf5`, `${base}.0.hdf5`, `${base}.0`].filter((c) => c !== path);
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

/** "piece snap.2.hdf5" or "pieces snap.2.hdf5, snap.5.hdf5 and 3 more", for messages. */
export function describeMissing(ref: PieceRef, missing: readonly number[]): string {
  const names = missing.map((i) => (ref.pieceName ? ref.pieceName(i).split('/').pop()! : `#${i}`));
  if (names.length === 1) return `piece ${names[0]}`;
  const shown = names.slice(0, 2).join(', ');
  return `pieces ${shown}${names.length > 2 ? ` and ${names.length - 2} more` : ''}`;
}
