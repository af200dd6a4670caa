/**
 * Thin, checked access to HDF5 files through h5wasm (Node build, real filesystem): opening with a
 * clear error for missing/non-HDF5/corrupt files, typed dataset and attribute reads with shape and
 * dtype checks, and 48-bit integers decoded by hand.
 */
import { existsSync, statSync } from 'node:fs';
import h5wasm from 'h5wasm/node';
import type { Dataset, File as H5File, Group } from 'h5wasm/node';
import { LodiIOError, assertFinite, fmtShape } from './errors.js';
import { MPC_IN_CM, GADGET_MASS_UNIT_G } from './units.js';
import { notFoundDetail } from '../util/atomic.js';

export type { H5File, Group, Dataset };
/** Anything that carries attributes. */
export type AttrHolder = Group | Dataset;

let readyPromise: Promise<unknown> | null = null;

/** Resolves once the HDF5 library is loaded. */
export async function h5ready(): Promise<typeof h5wasm> {
  readyPromise ??= h5wasm.ready;
  await readyPromise;
  return h5wasm;
}

import { hdf5Superblock } from './sniff.js';
export { hdf5Superblock, hasHdf5Signature } from './sniff.js';

/** Opens an HDF5 file for reading, or throws a LodiIOError naming the file and the reason. */
export async function openH5(path: string): Promise<H5File> {
  const h5 = await h5ready();
  if (!existsSync(path)) throw new LodiIOError(path, notFoundDetail(path, 'an HDF5 file'), 'file');
  if (statSync(path).isDirectory()) throw new LodiIOError(path, 'is a folder, expected an HDF5 file');
  const sb = hdf5Superblock(path);
  if (!sb) throw new LodiIOError(path, `not an HDF5 file${statSync(path).size === 0 ? ' (0 bytes)' : ''}: expected the HDF5 signature at the start of the file (or after a user block)`, 'signature');
  const size = statSync(path).size;
  if (sb.eofAddress !== undefined && sb.offset + sb.eofAddress > size) {
    throw new LodiIOError(path, `truncated HDF5 file: the superblock records ${sb.offset + sb.eofAddress} bytes, the file has ${size}; expected the whole file`, 'size');
  }
  let f: H5File;
  try {
    f = new h5.File(path, 'r');
  } catch (err) {
    throw new LodiIOError(path, `cannot open HDF5 file (truncated or corrupt?): ${(err as Error).message.split('\n')[0]}`);
  }
  if (!f.file_id || f.file_id < 0n) {
    throw new LodiIOError(path, 'cannot open HDF5 file (truncated or corrupt?)');
  }
  return f;
}

/** Opens, runs `fn`, and always closes. */
export async function withH5<T>(path: string, fn: (f: H5File) => T | Promise<T>): Promise<T> {
  const f = await openH5(path);
  try {
    return await fn(f);
  } finally {
    try {
      f.close();
    } catch {
      /* already closed */
    }
  }
}

/** The group at `name`, or null. */
export function getGroup(f: H5File, name: string): Group | null {
  let e: unknown;
  try {
    e = f.get(name);
  } catch {
    return null;
  }
  return e instanceof h5wasm.Group ? (e as Group) : null;
}

/** The dataset at `name`, or null. */
export function getDataset(f: H5File, name: string): Dataset | null {
  let e: unknown;
  try {
    e = f.get(name);
  } catch {
    return null;
  }
  return e instanceof h5wasm.Dataset ? (e as Dataset) : null;
}

function attrNames(g: AttrHolder): string[] {
  try {
    return Object.keys(g.attrs);
  } catch {
    return [];
  }
}

/** Raw attribute value, or undefined when absent. */
export function attrValue(g: AttrHolder | null, name: string): unknown {
  if (!g || !attrNames(g).includes(name)) return undefined;
  return g.get_attribute(name, false);
}

/** A scalar numeric attribute (first element of an array attribute), or undefined. */
export function attrNumber(g: AttrHolder | null, name: string): number | undefined {
  const v = attrValue(g, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (ArrayBuffer.isView(v) || Array.isArray(v)) {
    const first = (v as ArrayLike<number | bigint>)[0];
    return first === undefined ? undefined : Number(first);
  }
  return undefined;
}

/** A numeric array attribute as numbers, or undefined. */
export function attrNumbers(g: AttrHolder | null, name: string): number[] | undefined {
  const v = attrValue(g, name);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' || typeof v === 'bigint') return [Number(v)];
  if (ArrayBuffer.isView(v) || Array.isArray(v)) return Array.from(v as ArrayLike<number | bigint>, Number);
  return undefined;
}

/** A string attribute, or undefined. */
export function attrString(g: AttrHolder | null, name: string): string | undefined {
  const v = attrValue(g, name);
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

export interface DatasetExpect {
  /** Allowed trailing width: 1-D when undefined/1, `[n, width]` otherwise. */
  width?: number;
  /** Required number of rows. */
  rows?: number;
  /** Allowed element kinds. */
  kind?: 'float' | 'int' | 'number';
  /** Reject NaN/Inf (floats only). */
  finite?: boolean;
  /** Row range [start, end) to read (for chunked reading). */
  range?: [number, number];
}

export interface DatasetInfo {
  shape: number[];
  kind: 'float' | 'int' | 'other';
  size: number;
  signed: boolean;
}

/** Shape and element type of a dataset without reading it (safe for 48-bit integers). */
export function datasetInfo(d: Dataset): DatasetInfo {
  const m = d.metadata;
  const kind = m.type === 1 ? 'float' : m.type === 0 ? 'int' : 'other';
  return { shape: (m.shape ?? []).slice(), kind, size: m.size, signed: m.signed };
}

function describe(info: DatasetInfo): string {
  const k = info.kind === 'float' ? 'float' : info.kind === 'int' ? (info.signed ? 'int' : 'uint') : 'non-numeric';
  return `${k}${info.size * 8} ${fmtShape(info.shape)}`;
}

/** Decodes little-endian unsigned integers of `size` bytes (e.g. 6 for 48-bit IDs) into numbers. */
export function decodeUintBytes(bytes: Uint8Array, size: number, littleEndian = true): Float64Array {
  const n = Math.floor(bytes.length / size);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let b = 0; b < size; b++) {
      const byte = bytes[i * size + (littleEndian ? size - 1 - b : b)] as number;
      v = v * 256 + byte;
    }
    out[i] = v;
  }
  return out;
}

/**
 * Reads a numeric dataset as Float64Array/Float32Array-compatible numbers with checks. Integer
 * datasets of 8 bytes come back as Float64Array (exact below 2^53); odd sizes (48-bit) are decoded.
 * Returns a flat row-major array.
 */
export function readNumeric(
  f: H5File,
  file: string,
  name: string,
  expect: DatasetExpect = {},
): Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array {
  const d = getDataset(f, name);
  const width = expect.width ?? 1;
  const wantKind = expect.kind ?? 'number';
  const want = `${wantKind === 'number' ? 'numeric' : wantKind} ${width === 1 ? '[n]' : `[n,${width}]`}`;
  if (!d) throw new LodiIOError(file, `dataset missing, expected ${want}${expect.rows !== undefined ? ` with ${expect.rows} rows` : ''}`, name);
  const info = datasetInfo(d);
  const shapeOk =
    (width === 1 && (info.shape.length === 1 || (info.shape.length === 2 && info.shape[1] === 1))) ||
    (width > 1 && info.shape.length === 2 && info.shape[1] === width);
  const kindOk = info.kind !== 'other' && (wantKind === 'number' || wantKind === info.kind);
  if (!shapeOk || !kindOk) {
    throw new LodiIOError(file, `expected ${want}, got ${describe(info)}`, name);
  }
  const rows = info.shape[0] ?? 0;
  if (expect.rows !== undefined && rows !== expect.rows) {
    throw new LodiIOError(file, `expected ${expect.rows} rows (from the header), got ${rows}`, name);
  }
  let raw: unknown;
  try {
    if (expect.range) {
      const [a, b] = expect.range;
      raw = b <= a ? null : d.slice(info.shape.length === 2 ? [[a, b], []] : [[a, b]]);
    } else {
      raw = rows === 0 ? null : d.value;
    }
  } catch (err) {
    throw new LodiIOError(file, `cannot read data (truncated or corrupt file?): ${(err as Error).message.split('\n')[0]}`, name);
  }
  const nrows = expect.range ? Math.max(0, expect.range[1] - expect.range[0]) : rows;
  const count = nrows * (info.shape.length === 2 ? (info.shape[1] as number) : 1);
  let out: Float32Array | Float64Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;
  if (raw === null || raw === undefined) {
    out = info.kind === 'float' && info.size === 4 ? new Float32Array(0) : new Float64Array(0);
    if (count !== 0) throw new LodiIOError(file, `dataset returned no data, expected ${count} values (truncated or corrupt file?)`, name);
    return out;
  }
  if (raw instanceof BigInt64Array || raw instanceof BigUint64Array) {
    out = Float64Array.from(raw, Number);
  } else if (info.kind === 'int' && ![1, 2, 4, 8].includes(info.size) && raw instanceof Uint8Array) {
    out = decodeUintBytes(raw, info.size, d.metadata.littleEndian);
  } else if (
    raw instanceof Float32Array || raw instanceof Float64Array || raw instanceof Int32Array ||
    raw instanceof Uint32Array || raw instanceof Int16Array || raw instanceof Uint16Array ||
    raw instanceof Int8Array || raw instanceof Uint8Array
  ) {
    out = raw;
  } else {
    throw new LodiIOError(file, `unsupported element type ${describe(info)}`, name);
  }
  if (out.length !== count) {
    throw new LodiIOError(file, `expected ${count} values, read ${out.length} (truncated or corrupt file?)`, name);
  }
  if (expect.finite !== false && info.kind === 'float') assertFinite(out, file, name, width);
  return out;
}

/** As readNumeric, converted to Float32Array and multiplied by `scale`. */
export function readFloat32(f: H5File, file: string, name: string, expect: DatasetExpect = {}, scale = 1): Float32Array {
  const v = readNumeric(f, file, name, expect);
  if (v instanceof Float32Array && scale === 1) return v;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) * scale;
  return out;
}

/** As readNumeric, converted to Float64Array and multiplied by `scale`. */
export function readFloat64(f: H5File, file: string, name: string, expect: DatasetExpect = {}, scale = 1): Float64Array {
  const v = readNumeric(f, file, name, expect);
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) * scale;
  return out;
}

/** Number of rows of a dataset, or undefined when absent. */
export function datasetRows(f: H5File, name: string): number | undefined {
  const d = getDataset(f, name);
  return d ? (datasetInfo(d).shape[0] ?? 0) : undefined;
}

/** Opens a file for writing (truncating); the caller closes it. */
export async function createH5(path: string): Promise<H5File> {
  const h5 = await h5ready();
  return new h5.File(path, 'w');
}

/** Writes a numeric attribute (scalar, or a 1-D array) with an explicit HDF5 dtype. */
export function setAttr(g: Group, name: string, v: number | number[], dtype: '<d' | '<i' | '<I' | '<Q'): void {
  const arr = Array.isArray(v) ? v : [v];
  const typed =
    dtype === '<d'
      ? Float64Array.from(arr)
      : dtype === '<i'
        ? Int32Array.from(arr)
        : dtype === '<I'
          ? Uint32Array.from(arr)
          : BigUint64Array.from(arr, (x) => BigInt(x));
  g.create_attribute(name, typed, Array.isArray(v) ? [arr.length] : [], dtype);
}

/** Cosmology recorded in the files lodi writes. */
export interface CosmologyToWrite {
  omegaM: number;
  omegaL: number;
  omegaB?: number;
  /** H0 / (100 km/s/Mpc). */
  h: number;
}

/** Cosmology and code units (Mpc/h, 1e10 Msun/h, km/s) as GADGET-4 stores them, for files lodi writes. */
export function writeCosmologyAndUnits(g: Group, c: CosmologyToWrite): void {
  setAttr(g, 'Omega0', c.omegaM, '<d');
  setAttr(g, 'OmegaLambda', c.omegaL, '<d');
  if (c.omegaB !== undefined) setAttr(g, 'OmegaBaryon', c.omegaB, '<d');
  setAttr(g, 'HubbleParam', c.h, '<d');
  setAttr(g, 'UnitLength_in_cm', MPC_IN_CM, '<d');
  setAttr(g, 'UnitMass_in_g', GADGET_MASS_UNIT_G, '<d');
  setAttr(g, 'UnitVelocity_in_cm_per_s', 1e5, '<d');
}
