/**
 * NumPy `.npy` files: read (format versions 1.0, 2.0, 3.0; little/big-endian; C and Fortran order)
 * and write (float32/float64, C order, version 1.0, atomically).
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic, assertWritable, notFoundDetail } from '../util/atomic.js';
import { LodiIOError, fmtShape } from './errors.js';

export type NpyData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** NumPy dtype names as this module reports them. */
export type NpyDtype =
  | 'float32' | 'float64' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool';

export interface NpyArray {
  /** Values in C (row-major) order, always native (little-endian) byte order. */
  data: NpyData;
  shape: number[];
  dtype: NpyDtype;
  /** True when the file stored the array in Fortran order (the data returned is converted to C order). */
  fortranOrder: boolean;
}

/**
 * A shape pattern: numbers must match exactly, `null` matches anything, and equal strings must be
 * equal sizes (e.g. `['N','N','N']` for a cube, `['C','N','N','N']` for a multi-channel cube).
 */
export type ShapePattern = readonly (number | string | null)[];

export interface ReadNpyOptions {
  expectShape?: ShapePattern;
  expectDtypes?: readonly NpyDtype[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

interface DtypeInfo {
  dtype: NpyDtype;
  size: number;
  ctor: new (n: number) => NpyData;
}

const KINDS: Record<string, DtypeInfo> = {
  f4: { dtype: 'float32', size: 4, ctor: Float32Array },
  f8: { dtype: 'float64', size: 8, ctor: Float64Array },
  i1: { dtype: 'int8', size: 1, ctor: Int8Array },
  u1: { dtype: 'uint8', size: 1, ctor: Uint8Array },
  b1: { dtype: 'bool', size: 1, ctor: Uint8Array },
  i2: { dtype: 'int16', size: 2, ctor: Int16Array },
  u2: { dtype: 'uint16', size: 2, ctor: Uint16Array },
  i4: { dtype: 'int32', size: 4, ctor: Int32Array },
  u4: { dtype: 'uint32', size: 4, ctor: Uint32Array },
  i8: { dtype: 'int64', size: 8, ctor: BigInt64Array },
  u8: { dtype: 'uint64', size: 8, ctor: BigUint64Array },
};

/** Checks `shape` against a pattern; returns a description of the mismatch or null. */
export function shapeMismatch(shape: readonly number[], pattern: ShapePattern): string | null {
  if (shape.length !== pattern.length) return `rank ${shape.length}, expected rank ${pattern.length}`;
  const bound = new Map<string, number>();
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    const s = shape[i] as number;
    if (p === null || p === undefined) continue;
    if (typeof p === 'number') {
      if (s !== p) return `axis ${i} is ${s}, expected ${p}`;
    } else {
      const b = bound.get(p);
      if (b === undefined) bound.set(p, s);
      else if (b !== s) return `axis ${i} is ${s} but ${p} was ${b}`;
    }
  }
  return null;
}

function fmtPattern(p: ShapePattern): string {
  return `[${p.map((x) => (x === null ? '*' : String(x))).join(',')}]`;
}

/** Parses the Python-dict header of an .npy file. */
function parseHeader(file: string, text: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(text)?.[1];
  const fo = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fo === undefined || shapeText === undefined) {
    throw new LodiIOError(file, `corrupt .npy header (expected descr, fortran_order and shape): ${JSON.stringify(text.trim())}`, 'header');
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(n) || n < 0) throw new LodiIOError(file, `corrupt .npy header: bad shape entry '${s}', expected integers >= 0`, 'shape');
      return n;
    });
  return { descr, fortranOrder: fo === 'True', shape };
}

/** Reverses the byte order of each `size`-byte element of `bytes` in place. */
export function byteSwapInPlace(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a] as number;
      bytes[a] = bytes[b] as number;
      bytes[b] = t;
    }
  }
}

/** Converts Fortran-ordered values (first index fastest) of `shape` into C order. */
export function fortranToC<T extends NpyData>(src: T, shape: readonly number[]): T {
  const n = src.length;
  const rank = shape.length;
  if (rank <= 1 || n === 0) return src;
  const out = new (src.constructor as new (n: number) => T)(n);
  // Fortran strides in elements.
  const fstride: number[] = new Array(rank);
  let s = 1;
  for (let k = 0; k < rank; k++) {
    fstride[k] = s;
    s *= shape[k] as number;
  }
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let c = 0; c < n; c++) {
    (out as unknown as number[])[c] = (src as unknown as number[])[off] as number;
    // advance the C-order odometer (last axis fastest), updating the Fortran offset
    for (let k = rank - 1; k >= 0; k--) {
      idx[k] = (idx[k] as number) + 1;
      off += fstride[k] as number;
      if ((idx[k] as number) < (shape[k] as number)) break;
      off -= (idx[k] as number) * (fstride[k] as number);
      idx[k] = 0;
    }
  }
  return out;
}

/** Decodes .npy bytes; `file` is only used in error messages. */
export function decodeNpy(bytes: Uint8Array, file: string, opts: ReadNpyOptions = {}): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new LodiIOError(file, 'not a NumPy .npy file: expected the \\x93NUMPY magic at the start', 'header');
  }
  const major = bytes[6] as number;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new LodiIOError(file, `truncated .npy header: ${bytes.length} bytes, expected at least 12`, 'header');
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new LodiIOError(file, `unsupported .npy format version ${major}.${bytes[7]}, expected 1.0, 2.0 or 3.0`, 'header');
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length) {
    throw new LodiIOError(file, `truncated .npy file: header declares ${headerLen} bytes but the file has ${bytes.length} bytes; expected the whole header`, 'header');
  }
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const { descr, fortranOrder, shape } = parseHeader(file, text);
  const m = /^([<>|=])([a-z])(\d+)$/.exec(descr);
  const info = m ? KINDS[`${m[2]}${m[3]}`] : undefined;
  if (!m || !info) {
    throw new LodiIOError(file, `unsupported .npy dtype '${descr}', expected f4, f8, i1..i8 or u1..u8 with < > | byte order`, 'dtype');
  }
  if (opts.expectDtypes && !opts.expectDtypes.includes(info.dtype)) {
    const what = opts.expectShape ? ` of shape ${fmtPattern(opts.expectShape)}` : '';
    throw new LodiIOError(file, `expected a ${opts.expectDtypes.join('/')} array${what}, got ${info.dtype} ${fmtShape(shape)}`, 'dtype');
  }
  if (opts.expectShape) {
    const why = shapeMismatch(shape, opts.expectShape);
    if (why) {
      const dt = opts.expectDtypes ? `${opts.expectDtypes.join('/')} ` : '';
      throw new LodiIOError(file, `expected ${dt ? `a ${dt}` : 'an '}array of shape ${fmtPattern(opts.expectShape)}, got ${info.dtype} ${fmtShape(shape)} (${why})`, 'shape');
    }
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const nbytes = count * info.size;
  const have = bytes.length - dataStart;
  if (have < nbytes) {
    throw new LodiIOError(file, `truncated .npy file: shape ${fmtShape(shape)} ${info.dtype} needs ${nbytes} data bytes, found ${have}; expected the whole array`, 'data');
  }
  if (have > nbytes) {
    throw new LodiIOError(file, `corrupt .npy file: ${have - nbytes} unexpected bytes after the data of shape ${fmtShape(shape)} ${info.dtype}; expected ${nbytes} data bytes`, 'data');
  }
  const raw = new Uint8Array(bytes.subarray(dataStart, dataStart + nbytes)); // copy: aligned, owned (Buffer.slice would share)
  const bigEndian = m[1] === '>';
  if (bigEndian) byteSwapInPlace(raw, info.size);
  const Ctor = info.ctor as unknown as new (b: ArrayBuffer, o: number, n: number) => NpyData;
  let data = new Ctor(raw.buffer, 0, count);
  if (fortranOrder) data = fortranToC(data, shape);
  return { data, shape, dtype: info.dtype, fortranOrder };
}

/** Reads an .npy file. Fortran-ordered arrays are returned in C order. */
export function readNpy(path: string, opts: ReadNpyOptions = {}): NpyArray {
  if (!existsSync(path)) throw new LodiIOError(path, notFoundDetail(path, 'a .npy array'), 'file');
  return decodeNpy(readFileSync(path), path, opts);
}

/** Encodes a float32/float64 array as .npy version 1.0, C order, little-endian. */
export function encodeNpy(data: Float32Array | Float64Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new Error(`encodeNpy: shape ${fmtShape(shape)} holds ${count} values but the data has ${data.length}`);
  }
  const descr = data instanceof Float32Array ? '<f4' : '<f8';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Writes a float32/float64 C-order array atomically; refuses to overwrite unless `force`. */
export function writeNpy(
  path: string,
  data: Float32Array | Float64Array,
  shape: readonly number[],
  opts: { force?: boolean } = {},
): void {
  const force = opts.force ?? false;
  assertWritable(path, force);
  writeFileAtomic(path, encodeNpy(data, shape), { force });
}
