import { closeSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { native } from './native.js';
import { op, Tensor, type DType } from './tensor.js';

/**
 * safetensors (https://github.com/huggingface/safetensors) reader/writer: an 8-byte little-endian
 * header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__: {str: str}},
 * then the raw little-endian tensor bytes. Files written here load in Python with
 * `safetensors.torch.load_file`.
 */
const CODES: Record<string, DType> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};
const NAMES: Partial<Record<DType, string>> = Object.fromEntries(Object.entries(CODES).map(([k, v]) => [v, k]));
const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

/** Writes tensors (moved to CPU, contiguous) atomically: a temporary file, fsync, then rename. */
export function saveSafetensors(path: string, tensors: Map<string, Tensor>, metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata))
    if (typeof v !== 'string') throw new Error(`saveSafetensors(${path}): metadata '${k}' must be a string, got ${typeof v}`);
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of [...tensors].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (name === '__metadata__') throw new Error(`saveSafetensors(${path}): '__metadata__' is reserved, not a tensor name`);
    const code = NAMES[t.dtype];
    if (!code) throw new Error(`saveSafetensors(${path}): tensor '${name}' has unsupported dtype ${t.dtype}`);
    const cpu = t.device === 'cpu' ? t : t.to('cpu');
    // 16-bit floats have no typed array: copy their bits out as int16.
    let arr;
    if (code === 'F16' || code === 'BF16') {
      const c = cpu.contiguous();
      const bits = op('view.dtype', [c, 'int16']);
      arr = bits.toArray();
      bits.dispose();
      c.dispose();
    } else {
      arr = cpu.toArray();
    }
    if (cpu !== t) cpu.dispose();
    const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
    header[name] = { dtype: code, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = Buffer.alloc(8);
  const jsonBytes = Buffer.from(json, 'utf8');
  head.writeBigUInt64LE(BigInt(jsonBytes.byteLength));
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, head);
    writeSync(fd, jsonBytes);
    for (const c of chunks) writeSync(fd, c);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      /* already closed */
    }
    rmSync(tmp, { force: true });
    throw err;
  }
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

type Header = Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;

/** Parses the JSON header (the n bytes after the length, checked against the file by the caller) and its `__metadata__`. */
function parseHeader(bytes: Buffer, fail: (why: string) => never): { header: Header; metadata: Record<string, string> } {
  let header: Header;
  try {
    header = JSON.parse(bytes.toString('utf8'));
  } catch {
    return fail('header is not JSON');
  }
  const m = header.__metadata__ ?? {};
  if (typeof m !== 'object' || m === null || Object.values(m).some((v) => typeof v !== 'string')) fail('__metadata__ must map strings to strings');
  return { header, metadata: m as Record<string, string> };
}

const failFor =
  (path: string) =>
  (why: string): never => {
    throw new Error(`${path}: not a valid safetensors file (${why})`);
  };

/**
 * The `__metadata__` of a safetensors file, reading only its header (a model's description without
 * its weights). Throws as {@link loadSafetensors} for a header that is short, not JSON or longer
 * than the file; the tensor bytes are not checked.
 */
export function loadSafetensorsMetadata(path: string): Record<string, string> {
  const fail = failFor(path);
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const len = Buffer.alloc(8);
    if (size < 8 || readSync(fd, len, 0, 8, 0) < 8) fail('shorter than the 8-byte header length');
    const n = Number(len.readBigUInt64LE(0));
    if (8 + n > size) fail(`header length ${n} exceeds file size ${size}`);
    const bytes = Buffer.alloc(n);
    if (readSync(fd, bytes, 0, n, 8) < n) fail(`header length ${n} exceeds file size ${size}`); // shrunk meanwhile
    return parseHeader(bytes, fail).metadata;
  } finally {
    closeSync(fd);
  }
}

/** Reads a safetensors file into CPU tensors, validating the header against the file size. */
export function loadSafetensors(path: string): SafetensorsFile {
  const buf = readFileSync(path);
  const fail = failFor(path);
  if (buf.byteLength < 8) fail('shorter than the 8-byte header length');
  const n = Number(buf.readBigUInt64LE(0));
  if (8 + n > buf.byteLength) fail(`header length ${n} exceeds file size ${buf.byteLength}`);
  const { header, metadata } = parseHeader(buf.subarray(8, 8 + n), fail);
  const base = 8 + n;
  const tensors = new Map<string, Tensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (typeof e !== 'object' || e === null) fail(`entry '${name}' is not an object`);
    const entry = e as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const dtype = CODES[entry.dtype];
    if (!dtype) fail(`tensor '${name}' has unsupported dtype ${entry.dtype}`);
    const isIndex = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
    if (!Array.isArray(entry.shape) || !entry.shape.every(isIndex)) fail(`tensor '${name}' has an invalid shape`);
    if (!Array.isArray(entry.data_offsets) || entry.data_offsets.length !== 2 || !entry.data_offsets.every(isIndex))
      fail(`tensor '${name}' has invalid data_offsets`);
    const [b, end] = entry.data_offsets;
    const count = entry.shape.reduce((a, s) => a * s, 1);
    if (end - b !== count * BYTES[entry.dtype]!) fail(`tensor '${name}': ${end - b} bytes for shape [${entry.shape}] ${entry.dtype}`);
    if (base + end > buf.byteLength) fail(`tensor '${name}' runs past the end of the file (truncated?)`);
    const bytes = new Uint8Array(count * BYTES[entry.dtype]!);
    bytes.set(buf.subarray(base + b, base + end));
    tensors.set(name, new Tensor(native.fromTypedArray(view(bytes, dtype!), entry.shape, dtype === 'bool' ? 'uint8' : dtype)));
    if (dtype === 'bool') {
      // Any non-zero byte is true, as in safetensors; a raw reinterpretation would keep other values.
      const raw = tensors.get(name)!;
      tensors.set(name, raw.ne(0));
      raw.dispose();
    }
  }
  return { tensors, metadata };
}

function view(bytes: Uint8Array, dtype: DType): ArrayBufferView {
  const b = bytes.buffer;
  switch (dtype) {
    case 'float64':
      return new Float64Array(b);
    case 'float32':
      return new Float32Array(b);
    case 'int64':
      return new BigInt64Array(b);
    case 'int32':
      return new Int32Array(b);
    case 'int16':
      return new Int16Array(b);
    case 'int8':
      return new Int8Array(b);
    case 'float16':
    case 'bfloat16':
      return new Int16Array(b);
    default:
      return bytes;
  }
}
