/**
 * Reader for Gadget format-1 binary snapshots and initial conditions (Fortran unformatted records:
 * HEAD, POS, VEL, ID, MASS, U, ...), either endianness, single or multi-file (`file.0`, `file.1`, ...).
 * Positions come back in Mpc/h, masses in Msun/h, velocities as stored (km/s, Gadget's u = v/sqrt(a)).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LodiIOError, assertFinite, assertPositionsInBox } from './errors.js';
import { locateBinary, listPieces } from './pieces.js';
import { lengthToMpcH, type LengthUnit } from './units.js';

/** The 256-byte header, values as stored (code units). */
export interface GadgetBinaryHeaderRaw {
  npart: number[];
  /** 1e10 Msun/h (code units). */
  massarr: number[];
  time: number;
  redshift: number;
  flagSfr: number;
  flagFeedback: number;
  /** npartTotal + 2^32 npartTotalHighWord. */
  npartTotal: number[];
  flagCooling: number;
  /** As stored; 0 means one file. */
  numFiles: number;
  /** Code length units; 0 when not set. */
  boxSize: number;
  omega0: number;
  omegaLambda: number;
  hubbleParam: number;
  flagStellarAge: number;
  flagMetals: number;
  flagEntropyInsteadU: number;
  littleEndian: boolean;
}

export interface GadgetBinaryOptions {
  /** Box size in Mpc/h; required when the header's BoxSize is 0. */
  boxSize?: number;
  /**
   * Length unit of the stored positions. Default: from the header BoxSize (> 5000 → kpc/h), or when
   * BoxSize is 0, from the data: a largest coordinate above 1.5 × the `boxSize` override → kpc/h.
   */
  lengthUnit?: LengthUnit;
  /** Code mass unit in Msun/h (default 1e10). */
  massUnit?: number;
  /** Read velocities and IDs too (default true). */
  velocities?: boolean;
  ids?: boolean;
}

export interface GadgetBinaryType {
  count: number;
  /** Mpc/h, flat [count*3]. */
  positions: Float32Array;
  /** Msun/h. */
  masses: Float32Array;
  /** km/s as stored, flat [count*3]. */
  velocities?: Float32Array;
  ids?: Float64Array;
  /** Gas internal energy (km/s)^2 (type 0 only). */
  u?: Float32Array;
}

export interface GadgetBinarySnapshot {
  files: string[];
  header: GadgetBinaryHeaderRaw;
  /** Mpc/h (from the header or the override). */
  boxSize: number;
  redshift: number;
  /** Scale factor. */
  time: number;
  lengthToMpcH: number;
  massToMsunH: number;
  /** Particle types with particles, keyed by type. */
  particles: Partial<Record<number, GadgetBinaryType>>;
}

/** Reads records sequentially with marker checks. */
class RecordReader {
  private offset = 0;
  readonly size: number;
  constructor(
    private readonly fd: number,
    readonly file: string,
    readonly little: boolean,
  ) {
    this.size = fstatSync(fd).size;
  }
  get atEnd(): boolean {
    return this.offset >= this.size;
  }
  private int32(at: number, block: string): number {
    if (at + 4 > this.size) {
      throw new LodiIOError(this.file, `truncated file: record marker at byte ${at} is past the end (${this.size} bytes)`, block);
    }
    const b = Buffer.alloc(4);
    readSync(this.fd, b, 0, 4, at);
    return this.little ? b.readInt32LE(0) : b.readInt32BE(0);
  }
  /** Reads the next record; checks its length against `expected` (a list of acceptable sizes). */
  next(block: string, expected?: readonly number[]): Buffer {
    const start = this.offset;
    const len = this.int32(start, block);
    if (len < 0) throw new LodiIOError(this.file, `bad record marker ${len} at byte ${start}`, block);
    if (start + 8 + len > this.size) {
      throw new LodiIOError(
        this.file,
        `truncated file: record at byte ${start} declares ${len} bytes but only ${Math.max(0, this.size - start - 8)} remain`,
        block,
      );
    }
    const end = this.int32(start + 4 + len, block);
    if (end !== len) {
      throw new LodiIOError(this.file, `bad record markers at byte ${start}: begin says ${len} bytes, end says ${end}`, block);
    }
    if (expected && !expected.includes(len)) {
      throw new LodiIOError(this.file, `record is ${len} bytes, expected ${expected.join(' or ')}`, block);
    }
    const buf = Buffer.alloc(len);
    readSync(this.fd, buf, 0, len, start + 4);
    this.offset = start + 8 + len;
    return buf;
  }
}

function parseHeader(buf: Buffer, little: boolean): GadgetBinaryHeaderRaw {
  const i32 = (o: number) => (little ? buf.readInt32LE(o) : buf.readInt32BE(o));
  const u32 = (o: number) => (little ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const f64 = (o: number) => (little ? buf.readDoubleLE(o) : buf.readDoubleBE(o));
  const six = <T>(fn: (o: number) => T, base: number, step: number) => Array.from({ length: 6 }, (_, i) => fn(base + step * i));
  const low = six(u32, 96, 4);
  const high = six(u32, 168, 4);
  return {
    npart: six(i32, 0, 4),
    massarr: six(f64, 24, 8),
    time: f64(72),
    redshift: f64(80),
    flagSfr: i32(88),
    flagFeedback: i32(92),
    npartTotal: low.map((l, i) => l + (high[i] as number) * 2 ** 32),
    flagCooling: i32(120),
    numFiles: i32(124),
    boxSize: f64(128),
    omega0: f64(136),
    omegaLambda: f64(144),
    hubbleParam: f64(152),
    flagStellarAge: i32(160),
    flagMetals: i32(164),
    flagEntropyInsteadU: i32(192),
    littleEndian: little,
  };
}

function detectEndianness(fd: number, file: string): boolean {
  const size = fstatSync(fd).size;
  if (size < 4) throw new LodiIOError(file, `truncated file: ${size} bytes, expected at least a 264-byte header record`);
  const b = Buffer.alloc(4);
  readSync(fd, b, 0, 4, 0);
  if (b.readInt32LE(0) === 256) return true;
  if (b.readInt32BE(0) === 256) return false;
  if (b.readInt32LE(0) === 8 || b.readInt32BE(0) === 8) {
    throw new LodiIOError(file, 'Gadget format 2 (labelled blocks) is not supported; expected format 1 (first record marker 256)');
  }
  throw new LodiIOError(file, `not a Gadget format-1 file: first record marker is ${b.readInt32LE(0)}, expected 256 (either byte order)`);
}

/** Reads the header of one file (piece). */
export function readGadgetBinaryHeader(path: string): GadgetBinaryHeaderRaw {
  const ref = locateBinary(path);
  const fd = openSync(ref.first, 'r');
  try {
    const little = detectEndianness(fd, ref.first);
    return parseHeader(new RecordReader(fd, ref.first, little).next('HEAD', [256]), little);
  } finally {
    closeSync(fd);
  }
}

function toFloat32(buf: Buffer, little: boolean, count: number, file: string, block: string): Float32Array {
  const out = new Float32Array(count);
  const size = buf.length / count;
  if (size === 4) for (let i = 0; i < count; i++) out[i] = little ? buf.readFloatLE(4 * i) : buf.readFloatBE(4 * i);
  else if (size === 8) for (let i = 0; i < count; i++) out[i] = little ? buf.readDoubleLE(8 * i) : buf.readDoubleBE(8 * i);
  else throw new LodiIOError(file, `record of ${buf.length} bytes does not hold ${count} floats`, block);
  assertFinite(out, file, block, count % 3 === 0 && block !== 'MASS' && block !== 'U' ? 3 : 1);
  return out;
}

interface PieceData {
  header: GadgetBinaryHeaderRaw;
  pos: Float32Array[];
  vel: (Float32Array | undefined)[];
  ids: (Float64Array | undefined)[];
  mass: Float32Array[];
  u?: Float32Array;
}

/** Reads one file's blocks in code units. */
function readPiece(file: string, wantVel: boolean, wantIds: boolean): PieceData {
  const fd = openSync(file, 'r');
  try {
    const little = detectEndianness(fd, file);
    const r = new RecordReader(fd, file, little);
    const header = parseHeader(r.next('HEAD', [256]), little);
    const np = header.npart;
    const n = np.reduce((a, b) => a + b, 0);
    if (np.some((x) => x < 0)) throw new LodiIOError(file, `negative particle count in npart ${JSON.stringify(np)}`, 'HEAD');
    const split = (arr: Float32Array, width: number) => {
      const out: Float32Array[] = [];
      let o = 0;
      for (let t = 0; t < 6; t++) {
        out.push(arr.subarray(o * width, (o + (np[t] as number)) * width));
        o += np[t] as number;
      }
      return out;
    };
    const posBuf = r.next('POS', [12 * n, 24 * n]);
    const pos = split(toFloat32(posBuf, little, 3 * n, file, 'POS'), 3);
    const velBuf = r.next('VEL', [12 * n, 24 * n]);
    const vel = wantVel ? split(toFloat32(velBuf, little, 3 * n, file, 'VEL'), 3) : [];
    const idBuf = r.next('ID', [4 * n, 8 * n]);
    const ids: (Float64Array | undefined)[] = [];
    if (wantIds) {
      const all = new Float64Array(n);
      const wide = idBuf.length === 8 * n;
      for (let i = 0; i < n; i++) {
        all[i] = wide
          ? Number(little ? idBuf.readBigUInt64LE(8 * i) : idBuf.readBigUInt64BE(8 * i))
          : little ? idBuf.readUInt32LE(4 * i) : idBuf.readUInt32BE(4 * i);
      }
      let o = 0;
      for (let t = 0; t < 6; t++) {
        ids.push(all.subarray(o, o + (np[t] as number)));
        o += np[t] as number;
      }
    }
    const nMass = np.reduce((a, c, t) => a + (c > 0 && header.massarr[t] === 0 ? c : 0), 0);
    let massVals: Float32Array | undefined;
    if (nMass > 0) massVals = toFloat32(r.next('MASS', [4 * nMass, 8 * nMass]), little, nMass, file, 'MASS');
    const mass: Float32Array[] = [];
    let mo = 0;
    for (let t = 0; t < 6; t++) {
      const c = np[t] as number;
      if (c > 0 && header.massarr[t] === 0) {
        mass.push((massVals as Float32Array).subarray(mo, mo + c));
        mo += c;
      } else {
        mass.push(new Float32Array(c).fill(header.massarr[t] as number));
      }
    }
    let u: Float32Array | undefined;
    if ((np[0] as number) > 0) {
      if (r.atEnd) throw new LodiIOError(file, `truncated file: the U block for ${np[0]} gas particles is missing`, 'U');
      u = toFloat32(r.next('U', [4 * (np[0] as number), 8 * (np[0] as number)]), little, np[0] as number, file, 'U');
    }
    return { header, pos, vel: wantVel ? vel : [], ids, mass, ...(u ? { u } : {}) };
  } finally {
    closeSync(fd);
  }
}

function cat(parts: Float32Array[]): Float32Array;
function cat(parts: Float64Array[]): Float64Array;
function cat(parts: (Float32Array | Float64Array)[]): Float32Array | Float64Array {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = parts[0] instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Streams a (multi-file) snapshot piece by piece, converted to Mpc/h and Msun/h. Each yielded value
 * holds one piece's particles by type.
 */
export function* iterateGadgetBinary(
  path: string,
  opts: GadgetBinaryOptions = {},
): Generator<{ file: string; piece: number; snapshot: GadgetBinarySnapshot }> {
  const ref = locateBinary(path);
  const h0 = readGadgetBinaryHeader(ref.first);
  const set = listPieces(ref, h0.numFiles === 0 ? 1 : h0.numFiles);
  if (set.missing.length > 0) {
    const name = ref.pieceName ? ref.pieceName(set.missing[0] as number) : `piece ${set.missing[0]}`;
    throw new LodiIOError(ref.first, `header says num_files=${set.numFiles} but ${set.missing.length} piece(s) are missing, e.g. ${name}`);
  }
  let boxSize: number | undefined;
  let lf: number | undefined;
  const mf = opts.massUnit ?? 1e10;
  for (let p = 0; p < set.files.length; p++) {
    const file = set.files[p] as string;
    const d = readPiece(file, opts.velocities ?? true, opts.ids ?? true);
    if (lf === undefined) {
      if (opts.boxSize !== undefined && !(opts.boxSize > 0)) throw new LodiIOError(file, `boxSize override must be positive, got ${opts.boxSize}`);
      if (d.header.boxSize > 0) {
        lf = lengthToMpcH(undefined, d.header.boxSize, opts.lengthUnit);
        boxSize = opts.boxSize ?? d.header.boxSize * lf;
      } else {
        if (opts.boxSize === undefined) {
          throw new LodiIOError(file, 'header BoxSize is 0 (not set in the file); pass the box size in Mpc/h (boxSize option / --box-size)', 'HEAD');
        }
        boxSize = opts.boxSize;
        let max = 0;
        for (const a of d.pos) for (let i = 0; i < a.length; i++) max = Math.max(max, a[i] as number);
        lf = opts.lengthUnit ? lengthToMpcH(undefined, undefined, opts.lengthUnit) : max > 1.5 * boxSize ? 1e-3 : 1;
      }
    }
    const particles: Partial<Record<number, GadgetBinaryType>> = {};
    for (let t = 0; t < 6; t++) {
      const c = d.header.npart[t] as number;
      if (c === 0) continue;
      const pos = d.pos[t] as Float32Array;
      const posOut = new Float32Array(pos.length);
      for (let i = 0; i < pos.length; i++) posOut[i] = (pos[i] as number) * lf;
      assertPositionsInBox(posOut, boxSize as number, file, `POS (type ${t})`);
      const m = d.mass[t] as Float32Array;
      const masses = new Float32Array(c);
      for (let i = 0; i < c; i++) masses[i] = (m[i] as number) * mf;
      particles[t] = {
        count: c,
        positions: posOut,
        masses,
        ...(d.vel[t] ? { velocities: Float32Array.from(d.vel[t] as Float32Array) } : {}),
        ...(d.ids[t] ? { ids: Float64Array.from(d.ids[t] as Float64Array) } : {}),
        ...(t === 0 && d.u ? { u: d.u } : {}),
      };
    }
    yield {
      file,
      piece: p,
      snapshot: {
        files: [file],
        header: d.header,
        boxSize: boxSize as number,
        redshift: d.header.redshift,
        time: d.header.time,
        lengthToMpcH: lf,
        massToMsunH: mf,
        particles,
      },
    };
  }
}

/** Reads all pieces of a format-1 snapshot and concatenates them by particle type. */
export function readGadgetBinary(path: string, opts: GadgetBinaryOptions = {}): GadgetBinarySnapshot {
  const pieces = [...iterateGadgetBinary(path, opts)];
  const first = pieces[0]?.snapshot;
  if (!first) throw new LodiIOError(path, 'no pieces found');
  const particles: Partial<Record<number, GadgetBinaryType>> = {};
  for (let t = 0; t < 6; t++) {
    const parts = pieces.map((p) => p.snapshot.particles[t]).filter((x): x is GadgetBinaryType => x !== undefined);
    if (parts.length === 0) continue;
    const withVel = parts.every((x) => x.velocities);
    const withIds = parts.every((x) => x.ids);
    const withU = parts.every((x) => x.u);
    particles[t] = {
      count: parts.reduce((a, x) => a + x.count, 0),
      positions: cat(parts.map((x) => x.positions)),
      masses: cat(parts.map((x) => x.masses)),
      ...(withVel ? { velocities: cat(parts.map((x) => x.velocities as Float32Array)) } : {}),
      ...(withIds ? { ids: cat(parts.map((x) => x.ids as Float64Array)) } : {}),
      ...(withU ? { u: cat(parts.map((x) => x.u as Float32Array)) } : {}),
    };
  }
  const total = first.header.npartTotal;
  for (let t = 0; t < 6; t++) {
    const got = particles[t]?.count ?? 0;
    if (got !== total[t]) {
      throw new LodiIOError(pieces[0]!.file, `npartTotal[${t}]=${total[t]} but the pieces hold ${got} particles`, 'HEAD');
    }
  }
  return { ...first, files: pieces.map((p) => p.file), particles };
}
