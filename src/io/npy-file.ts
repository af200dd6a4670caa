/**
 * Positional access to `.npy` grids larger than memory: headers read without the data, regions and
 * whole x-planes read and written in place at byte offsets (`fs.readSync` / `fs.writeSync`), and
 * streamed passes (hash, elementwise map) in fixed-size chunks. Several processes may share one file
 * as long as they write disjoint bytes (LODI's sharded generation, src/lodi/generate-file.ts);
 * HALOgen's streamed inference writes finished x-planes (src/halogen/infer-file.ts).
 *
 * Files are NumPy `.npy` (version 1.0–3.0 headers), little-endian float32 or float64, C order; files
 * created here are float32 with the header `encodeNpy` writes (src/io/npy.ts), so a grid written plane
 * by plane is byte-identical to one written by `saveGrid`.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';

export interface NpyLayout {
  file: string;
  shape: number[];
  /** Bytes per value: 4 (float32) or 8 (float64). */
  itemSize: 4 | 8;
  /** Byte offset of the first value. */
  dataOffset: number;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/**
 * Reads the header of an `.npy` file (without its data) and checks that the file is as long as the
 * header promises.
 *
 * @throws one line naming the file and the field (magic, header, dtype, fortran_order, size) when the
 *   file is not a little-endian float32/float64 C-order array of the declared length.
 */
export function readNpyLayout(file: string): NpyLayout {
  if (endianness() !== 'LE') throw new Error(`${file}: streamed (file-backed) processing needs a little-endian machine`);
  const fd = openSync(file, 'r');
  try {
    const head = new Uint8Array(12);
    const got = readSync(fd, head, 0, 12, 0);
    if (got < 10 || MAGIC.some((m, i) => head[i] !== m))
      throw new Error(`${file}: magic: not a NumPy .npy file, expected the \\x93NUMPY magic at the start`);
    const major = head[6]!;
    const view = new DataView(head.buffer);
    const [len, start] =
      major === 1
        ? [view.getUint16(8, true), 10]
        : major === 2 || major === 3
          ? [view.getUint32(8, true), 12]
          : [-1, 0];
    if (len < 0) throw new Error(`${file}: header: .npy format version ${major}, expected 1, 2 or 3`);
    const text = Buffer.alloc(len);
    if (readSync(fd, text, 0, len, start) !== len)
      throw new Error(`${file}: header: truncated .npy header, expected ${len} bytes`);
    const h = text.toString('latin1');
    const descr = /'descr'\s*:\s*'([^']+)'/.exec(h)?.[1];
    const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(h)?.[1];
    const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(h)?.[1];
    if (descr === undefined || fortran === undefined || shapeText === undefined)
      throw new Error(`${file}: header: expected descr, fortran_order and shape, got ${JSON.stringify(h.trim())}`);
    const itemSize = descr === '<f4' ? 4 : descr === '<f8' ? 8 : 0;
    if (!itemSize)
      throw new Error(
        `${file}: dtype: '${descr}', expected little-endian float32 '<f4' or float64 '<f8' for streamed (file-backed) processing`,
      );
    if (fortran === 'True')
      throw new Error(
        `${file}: fortran_order: True, expected a C-order array for streamed (file-backed) processing (numpy.ascontiguousarray)`,
      );
    const shape = shapeText
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0)
      .map(Number);
    if (shape.some((n) => !Number.isInteger(n) || n < 0))
      throw new Error(`${file}: shape: (${shapeText}), expected non-negative integers`);
    const dataOffset = start + len;
    const want = dataOffset + shape.reduce((a, b) => a * b, 1) * itemSize;
    const size = fstatSync(fd).size;
    if (size !== want)
      throw new Error(`${file}: size: ${size} bytes, expected ${want} for shape [${shape.join(', ')}] ${descr}`);
    return { file, shape, itemSize: itemSize as 4 | 8, dataOffset };
  } finally {
    closeSync(fd);
  }
}

/**
 * The `.npy` version 1.0 header of a little-endian float32 C-order array of `shape`, exactly as
 * `encodeNpy` (src/io/npy.ts) writes it: the dict padded with spaces so that the data starts at a
 * multiple of 64 bytes.
 */
export function npyHeaderF32(shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeText}, }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

/** Values per chunk of the streamed passes (16 MiB of float32): bounded memory for grids of any size. */
export const CHUNK = 1 << 22;

/**
 * Creates a float32 `.npy` of `shape` filled with zeros, written out in chunks (so the disk space is
 * taken now, not halfway through a run) and synced to disk.
 */
export function createZeroNpyF32(file: string, shape: readonly number[]): NpyLayout {
  const header = npyHeaderF32(shape);
  const count = shape.reduce((a, b) => a * b, 1);
  const fd = openSync(file, 'wx');
  try {
    writeAll(fd, header, 0);
    const zeros = new Uint8Array(Math.min(count, CHUNK) * 4);
    for (let v = 0; v < count; v += CHUNK) {
      const n = Math.min(CHUNK, count - v);
      writeAll(fd, zeros.subarray(0, n * 4), header.length + v * 4);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { file, shape: [...shape], itemSize: 4, dataOffset: header.length };
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let off = 0;
  while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off, position + off);
}

function readAll(fd: number, bytes: Uint8Array, position: number, file: string): void {
  let off = 0;
  while (off < bytes.length) {
    const n = readSync(fd, bytes, off, bytes.length - off, position + off);
    if (n === 0)
      throw new Error(`${file}: size: ended at byte ${position + off}, expected ${bytes.length - off} more bytes`);
    off += n;
  }
}

/**
 * Calls `f(start, length)` for each run of consecutive box-local z entries l in [0, cz.length) whose
 * global coordinates are consecutive (a periodic box that wraps has two runs) and, with `mask`, whose
 * mask entries (at `maskOffset + l`) are 1.
 */
function zRuns(cz: Int32Array, mask: Uint8Array | null, maskOffset: number, f: (l0: number, n: number) => void): void {
  let l0 = -1;
  for (let l = 0; l <= cz.length; l++) {
    const on = l < cz.length && (!mask || mask[maskOffset + l] === 1);
    const contiguous = l0 >= 0 && on && cz[l] === cz[l - 1]! + 1;
    if (l0 >= 0 && !contiguous) {
      f(l0, l - l0);
      l0 = -1;
    }
    if (on && l0 < 0) l0 = l;
  }
}

/**
 * An open `.npy` grid [C?, X, Y, Z] read and written by box regions. Leading axes beyond the last
 * three are channels.
 */
export class NpyVolume {
  readonly layout: NpyLayout;
  readonly channels: number;
  readonly size: [number, number, number];
  private fd: number;
  private buf = new Uint8Array(0);

  constructor(layout: NpyLayout, mode: 'r' | 'r+') {
    const s = layout.shape;
    if (s.length < 3) throw new Error(`${layout.file}: shape: [${s.join(', ')}], expected [X, Y, Z] or [C, X, Y, Z]`);
    this.layout = layout;
    this.size = s.slice(-3) as [number, number, number];
    this.channels = s.slice(0, -3).reduce((a, b) => a * b, 1);
    this.fd = openSync(layout.file, mode);
  }

  private scratch(bytes: number): Uint8Array {
    if (this.buf.length < bytes) this.buf = new Uint8Array(bytes);
    return this.buf;
  }

  /**
   * Reads the box with global coordinates `coords` (per axis, wrapped) of every channel into `out`
   * [C][bx][by][bz] as float32 (float64 files are rounded to float32, as `loadGrid` does).
   */
  readBox(coords: readonly Int32Array[], out: Float32Array): void {
    const [cx, cy, cz] = coords as unknown as [Int32Array, Int32Array, Int32Array];
    const [X, Y, Z] = this.size;
    const { itemSize, dataOffset, file } = this.layout;
    const bytes = this.scratch(cz.length * itemSize);
    const f32 = new Float32Array(bytes.buffer, 0, cz.length);
    const f64 = new Float64Array(bytes.buffer, 0, Math.floor(bytes.length / 8));
    let k = 0;
    for (let ch = 0; ch < this.channels; ch++)
      for (let i = 0; i < cx.length; i++)
        for (let j = 0; j < cy.length; j++, k += cz.length) {
          const row = ((ch * X + cx[i]!) * Y + cy[j]!) * Z;
          zRuns(cz, null, 0, (l0, n) => {
            readAll(this.fd, bytes.subarray(0, n * itemSize), dataOffset + (row + cz[l0]!) * itemSize, file);
            if (itemSize === 4) out.set(f32.subarray(0, n), k + l0);
            else for (let l = 0; l < n; l++) out[k + l0 + l] = f64[l]!;
          });
        }
  }

  /**
   * Writes box-local float32 values `vals` [bx][by][bz] (single-channel files only) at the voxels
   * where `mask` is 1, one positional write per run along z: nothing outside the mask is touched.
   */
  writeMasked(coords: readonly Int32Array[], vals: Float32Array, mask: Uint8Array): void {
    if (this.layout.itemSize !== 4 || this.channels !== 1)
      throw new Error(`${this.layout.file}: dtype: expected a single-channel float32 work file`);
    const [cx, cy, cz] = coords as unknown as [Int32Array, Int32Array, Int32Array];
    const [, Y, Z] = this.size;
    const bytes = new Uint8Array(vals.buffer, vals.byteOffset, vals.byteLength);
    let k = 0;
    for (let i = 0; i < cx.length; i++)
      for (let j = 0; j < cy.length; j++, k += cz.length) {
        const row = (cx[i]! * Y + cy[j]!) * Z;
        zRuns(cz, mask, k, (l0, n) =>
          writeAll(
            this.fd,
            bytes.subarray((k + l0) * 4, (k + l0 + n) * 4),
            this.layout.dataOffset + (row + cz[l0]!) * 4,
          ),
        );
      }
  }

  /**
   * Reads the whole x-planes [x0, x0 + count) of channel `ch` into `out` [count][Y][Z] as float32
   * (one positional read: the planes are contiguous in a C-order file). No wrap: x0 + count ≤ X.
   */
  readPlanes(ch: number, x0: number, count: number, out: Float32Array): void {
    const [X, Y, Z] = this.size;
    const { itemSize, dataOffset, file } = this.layout;
    if (ch < 0 || ch >= this.channels || x0 < 0 || count < 0 || x0 + count > X || out.length < count * Y * Z)
      throw new Error(`${file}: readPlanes: channel ${ch}, planes [${x0}, ${x0 + count}) outside [${this.channels}, ${X}, ${Y}, ${Z}]`);
    const n = count * Y * Z;
    const at = dataOffset + (ch * X + x0) * Y * Z * itemSize;
    if (itemSize === 4) readAll(this.fd, new Uint8Array(out.buffer, out.byteOffset, n * 4), at, file);
    else {
      const bytes = this.scratch(n * 8);
      readAll(this.fd, bytes.subarray(0, n * 8), at, file);
      const f64 = new Float64Array(bytes.buffer, 0, n);
      for (let i = 0; i < n; i++) out[i] = f64[i]!;
    }
  }

  /** Writes float32 values [count][Y][Z] as the x-planes [x0, x0 + count) of channel `ch` (float32 files). */
  writePlanes(ch: number, x0: number, vals: Float32Array): void {
    const [X, Y, Z] = this.size;
    const { itemSize, dataOffset, file } = this.layout;
    const count = vals.length / (Y * Z);
    if (itemSize !== 4) throw new Error(`${file}: dtype: expected a float32 file to write planes into`);
    if (!Number.isInteger(count) || ch < 0 || ch >= this.channels || x0 < 0 || x0 + count > X)
      throw new Error(`${file}: writePlanes: channel ${ch}, ${vals.length} values at plane ${x0} outside [${this.channels}, ${X}, ${Y}, ${Z}]`);
    writeAll(this.fd, new Uint8Array(vals.buffer, vals.byteOffset, vals.byteLength), dataOffset + (ch * X + x0) * Y * Z * 4);
  }

  /** Flushes written values to the disk (before a box is recorded as finished). */
  sync(): void {
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * Streams an `.npy` file once, in chunks: its sha256 (of the whole file, header included) and, when
 * `checkFinite`, the flat index of its first non-finite value (-1 when all are finite).
 */
export function scanNpy(layout: NpyLayout, checkFinite: boolean): { sha256: string; firstNonFinite: number } {
  const hash = createHash('sha256');
  const fd = openSync(layout.file, 'r');
  let firstNonFinite = -1;
  try {
    const header = new Uint8Array(layout.dataOffset);
    readAll(fd, header, 0, layout.file);
    hash.update(header);
    const count = layout.shape.reduce((a, b) => a * b, 1);
    const bytes = new Uint8Array(Math.min(count, CHUNK) * layout.itemSize);
    for (let v = 0; v < count; v += CHUNK) {
      const n = Math.min(CHUNK, count - v);
      const chunk = bytes.subarray(0, n * layout.itemSize);
      readAll(fd, chunk, layout.dataOffset + v * layout.itemSize, layout.file);
      hash.update(chunk);
      if (checkFinite && firstNonFinite < 0) {
        const vals =
          layout.itemSize === 4 ? new Float32Array(bytes.buffer, 0, n) : new Float64Array(bytes.buffer, 0, n);
        for (let i = 0; i < n; i++)
          if (!Number.isFinite(vals[i]!)) {
            firstNonFinite = v + i;
            break;
          }
      }
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), firstNonFinite };
}

/** sha256 of a file, read in chunks (model files of hundreds of MB, halo grids of GB). */
export function sha256Stream(file: string): string {
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const bytes = new Uint8Array(1 << 24);
    for (let pos = 0; ;) {
      const n = readSync(fd, bytes, 0, bytes.length, pos);
      if (n === 0) break;
      hash.update(bytes.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/**
 * Writes `map(values)` of the float32 `.npy` `src` into a new float32 `.npy` `dest` of the same shape,
 * chunk by chunk (bounded memory), and syncs it. `map` is elementwise (e.g. `tbInverse`).
 */
export function mapNpyF32(
  src: NpyLayout,
  dest: string,
  map: (chunk: Float32Array<ArrayBuffer>, out: Float32Array<ArrayBuffer>) => void,
): void {
  if (src.itemSize !== 4) throw new Error(`${src.file}: dtype: expected a float32 work file`);
  const header = npyHeaderF32(src.shape);
  const count = src.shape.reduce((a, b) => a * b, 1);
  const inFd = openSync(src.file, 'r');
  try {
    const outFd = openSync(dest, 'wx');
    try {
      writeAll(outFd, header, 0);
      const inBytes = new Uint8Array(Math.min(count, CHUNK) * 4);
      const outVals = new Float32Array(Math.min(count, CHUNK));
      for (let v = 0; v < count; v += CHUNK) {
        const n = Math.min(CHUNK, count - v);
        readAll(inFd, inBytes.subarray(0, n * 4), src.dataOffset + v * 4, src.file);
        const o = outVals.subarray(0, n);
        map(new Float32Array(inBytes.buffer, 0, n), o);
        writeAll(outFd, new Uint8Array(o.buffer, 0, n * 4), header.length + v * 4);
      }
      fsyncSync(outFd);
    } finally {
      closeSync(outFd);
    }
  } finally {
    closeSync(inFd);
  }
}
