/**
 * Reader for Gadget binary snapshots and initial conditions (Fortran unformatted records: HEAD, POS,
 * VEL, ID, MASS, U, ...) in format 1 (blocks in that fixed order) and format 2 (each block preceded
 * by a record holding its 4-letter label, so blocks are found by name and the gas blocks NH and SFR
 * can be read too), either endianness, single or multi-file (`file.0`, `file.1`, ...). Positions
 * come back in Mpc/h, masses in Msun/h, velocities as stored (km/s, Gadget's u = v/sqrt(a)).
 * Block layout: Springel 2005 (MNRAS 364, 1105) and the GADGET-2 user guide, Sec. 6.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { LodiIOError, assertFinite, assertPositionsInBox } from './errors.js';
import { listPieces, describeMissing } from './pieces.js';
import { resolveSimulationInput, FORMAT_NAMES } from './resolve.js';
import { sniffGadgetBinary, type GadgetBinaryLayout } from './sniff.js';
import { resolveLengthUnit, type LengthConversion, type LengthUnit } from './units.js';

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
  /** 1: plain records; 2: labelled blocks. */
  format: 1 | 2;
}

export interface GadgetBinaryOptions {
  /** Box size in Mpc/h; required when the header's BoxSize is 0, and must agree with a non-zero one. */
  boxSize?: number;
  /**
   * Length unit of the stored positions. Default: guessed, and reported in `lengthUnit`, from the
   * header BoxSize (> 5000 → kpc/h), or when BoxSize is 0, from the data: a largest coordinate
   * above 1.5 × the `boxSize` override → kpc/h.
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
  /** Neutral hydrogen fraction n_HI/n_H (type 0, format-2 block NH, when present). */
  neutralHydrogen?: Float32Array;
  /** Star-formation rate in Msun/yr (type 0, format-2 block SFR, when present). */
  sfr?: Float32Array;
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
  /** How the length unit was decided (override, or a guess from the box size or the coordinates). */
  lengthUnit: LengthConversion;
  /** Particle types with particles, keyed by type. */
  particles: Partial<Record<number, GadgetBinaryType>>;
}

/** Reads Fortran records (4-byte length markers around each) with marker checks. */
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
      throw new LodiIOError(this.file, `truncated file: record marker at byte ${at} is past the end (${this.size} bytes); expected the ${block} block`, block);
    }
    const b = Buffer.alloc(4);
    readSync(this.fd, b, 0, 4, at);
    return this.little ? b.readInt32LE(0) : b.readInt32BE(0);
  }
  /**
   * Checks the record starting at byte `start` and returns its payload length; reads the payload
   * when `read`. `expected` lists acceptable payload sizes.
   */
  recordAt(start: number, block: string, expected?: readonly number[], read = true): { len: number; buf?: Buffer } {
    const len = this.int32(start, block);
    if (len < 0) throw new LodiIOError(this.file, `bad record marker ${len} at byte ${start}, expected a byte count >= 0`, block);
    if (start + 8 + len > this.size) {
      throw new LodiIOError(
        this.file,
        `truncated file: record at byte ${start} declares ${len} bytes but only ${Math.max(0, this.size - start - 8)} remain; expected the whole record`,
        block,
      );
    }
    const end = this.int32(start + 4 + len, block);
    if (end !== len) {
      throw new LodiIOError(this.file, `bad record markers at byte ${start}: begin says ${len} bytes, end says ${end}; expected equal markers`, block);
    }
    if (expected && !expected.includes(len)) {
      throw new LodiIOError(this.file, `record is ${len} bytes, expected ${expected.join(' or ')}`, block);
    }
    if (!read) return { len };
    const buf = Buffer.alloc(len);
    readSync(this.fd, buf, 0, len, start + 4);
    return { len, buf };
  }
  /** Reads the next record in sequence. */
  next(block: string, expected?: readonly number[]): Buffer {
    const r = this.recordAt(this.offset, block, expected);
    this.offset += 8 + r.len;
    return r.buf as Buffer;
  }
  /**
   * Format 2: indexes the file's labelled blocks (an 8-byte record "LABL" + int32, then the data
   * record) as label → offset of the data record.
   */
  labelIndex(): Map<string, number> {
    const index = new Map<string, number>();
    let at = 0;
    while (at < this.size) {
      const lab = this.recordAt(at, 'block label', [8]).buf as Buffer;
      const label = lab.toString('latin1', 0, 4).trim();
      const data = at + 16;
      const r = this.recordAt(data, label || 'block', undefined, false);
      if (!index.has(label)) index.set(label, data);
      at = data + 8 + r.len;
    }
    return index;
  }
}

/** Blocks of one file, by name: in order (format 1) or by label (format 2). */
interface BlockSource {
  /** The block's payload; undefined only for an optional block that a format-2 file does not have. */
  take(block: string, expected: readonly number[], required?: boolean): Buffer | undefined;
  /** True when no further block follows (format 1) / the label is absent (format 2). */
  lacks(block: string): boolean;
}

function blockSource(r: RecordReader, layout: GadgetBinaryLayout): BlockSource {
  if (layout.format === 1) {
    return {
      take: (block, expected) => r.next(block, expected),
      lacks: () => r.atEnd,
    };
  }
  const index = r.labelIndex();
  return {
    take: (block, expected, required = true) => {
      const at = index.get(block);
      if (at === undefined) {
        if (!required) return undefined;
        throw new LodiIOError(r.file, `block missing; expected it (labels found: ${[...index.keys()].join(', ')})`, block);
      }
      return r.recordAt(at, block, expected).buf;
    },
    lacks: (block) => !index.has(block),
  };
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
    format: 1,
  };
}

/** The layout (format and byte order) of an open file, or a LodiIOError naming what was found. */
function detectLayout(fd: number, file: string): GadgetBinaryLayout {
  const size = fstatSync(fd).size;
  if (size < 8) throw new LodiIOError(file, `truncated file: ${size} bytes, expected at least a 264-byte header record`, 'HEAD');
  const b = Buffer.alloc(8);
  readSync(fd, b, 0, 8, 0);
  const layout = sniffGadgetBinary(b);
  if (!layout) {
    throw new LodiIOError(file, `not a Gadget binary file: first record marker is ${b.readInt32LE(0)}, expected 256 (format 1) or 8 + "HEAD" (format 2), either byte order`, 'HEAD');
  }
  return layout;
}

/** Opens the header record of an open file (format 1 or 2). */
function readHeaderAt(fd: number, file: string): { header: GadgetBinaryHeaderRaw; blocks: BlockSource } {
  const layout = detectLayout(fd, file);
  const r = new RecordReader(fd, file, layout.littleEndian);
  const blocks = blockSource(r, layout);
  const header = parseHeader(blocks.take('HEAD', [256]) as Buffer, layout.littleEndian);
  header.format = layout.format;
  return { header, blocks };
}

/** Resolves a path (file, piece or base name) that must be a Gadget binary file. */
function resolveBinary(path: string) {
  const ref = resolveSimulationInput(path, 'snapshot');
  if (ref.format === 'hdf5') throw new LodiIOError(ref.first, `is an ${FORMAT_NAMES.hdf5} file, expected a Gadget binary snapshot`);
  return ref;
}

/** Block labels of a format-2 file, in file order; null for format 1 (whose blocks carry no labels). */
export function gadgetBinaryLabels(file: string): string[] | null {
  const fd = openSync(file, 'r');
  try {
    const layout = detectLayout(fd, file);
    if (layout.format === 1) return null;
    return [...new RecordReader(fd, file, layout.littleEndian).labelIndex().keys()];
  } finally {
    closeSync(fd);
  }
}

/** Reads the header of one file (piece). */
export function readGadgetBinaryHeader(path: string): GadgetBinaryHeaderRaw {
  const ref = resolveBinary(path);
  const fd = openSync(ref.first, 'r');
  try {
    return readHeaderAt(fd, ref.first).header;
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
  nh?: Float32Array;
  sfr?: Float32Array;
}

/** Reads one file's blocks in code units. */
function readPiece(file: string, wantVel: boolean, wantIds: boolean): PieceData {
  const fd = openSync(file, 'r');
  try {
    const { header, blocks } = readHeaderAt(fd, file);
    const little = header.littleEndian;
    const np = header.npart;
    const n = np.reduce((a, b) => a + b, 0);
    if (np.some((x) => x < 0)) throw new LodiIOError(file, `negative particle count in npart ${JSON.stringify(np)}, expected counts >= 0`, 'HEAD');
    const split = (arr: Float32Array, width: number) => {
      const out: Float32Array[] = [];
      let o = 0;
      for (let t = 0; t < 6; t++) {
        out.push(arr.subarray(o * width, (o + (np[t] as number)) * width));
        o += np[t] as number;
      }
      return out;
    };
    const posBuf = blocks.take('POS', [12 * n, 24 * n]) as Buffer;
    const pos = split(toFloat32(posBuf, little, 3 * n, file, 'POS'), 3);
    // Format 1 must step over VEL and ID to reach MASS; format 2 reads only what is asked for.
    const needAll = header.format === 1;
    const velBuf = wantVel || needAll ? blocks.take('VEL', [12 * n, 24 * n]) : undefined;
    const vel = wantVel && velBuf ? split(toFloat32(velBuf, little, 3 * n, file, 'VEL'), 3) : [];
    const idBuf = wantIds || needAll ? blocks.take('ID', [4 * n, 8 * n]) : undefined;
    const ids: (Float64Array | undefined)[] = [];
    if (wantIds && idBuf) {
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
    if (nMass > 0) massVals = toFloat32(blocks.take('MASS', [4 * nMass, 8 * nMass]) as Buffer, little, nMass, file, 'MASS');
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
    const ng = np[0] as number;
    const gasBlock = (block: string, required: boolean): Float32Array | undefined => {
      if (required && blocks.lacks(block)) throw new LodiIOError(file, `truncated file: the ${block} block for ${ng} gas particles is missing; expected it after the ${header.format === 1 ? 'MASS/ID' : 'other'} blocks`, block);
      const buf = blocks.take(block, [4 * ng, 8 * ng], required);
      return buf ? toFloat32(buf, little, ng, file, block) : undefined;
    };
    let u: Float32Array | undefined;
    let nh: Float32Array | undefined;
    let sfr: Float32Array | undefined;
    if (ng > 0) {
      u = gasBlock('U', true);
      if (header.format === 2) {
        nh = gasBlock('NH', false);
        sfr = gasBlock('SFR', false);
      }
    }
    return { header, pos, vel: wantVel ? vel : [], ids, mass, ...(u ? { u } : {}), ...(nh ? { nh } : {}), ...(sfr ? { sfr } : {}) };
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

/** What a binary snapshot holds, known before its particles are read. */
export interface GadgetBinaryInfo {
  /** All pieces, in order. */
  files: string[];
  /** Header of the first piece. */
  header: GadgetBinaryHeaderRaw;
  /** Mpc/h. */
  boxSize: number;
  lengthUnit: LengthConversion;
  massToMsunH: number;
  /** Particles per type over all pieces. */
  npartTotal: number[];
}

/**
 * Finds the pieces of a binary snapshot, checks that none is missing and that their counts add up,
 * and decides the box size and length unit. A header BoxSize of 0 (initial-condition files) needs
 * `boxSize`; without `lengthUnit` the unit is then guessed from the first piece's coordinates
 * (largest above 1.5 × box → kpc/h). Throws LodiIOError with remedy 'box-size' / 'length-unit'.
 */
export function readGadgetBinaryInfo(path: string, opts: GadgetBinaryOptions = {}): GadgetBinaryInfo {
  const ref = resolveBinary(path);
  const h0 = readGadgetBinaryHeader(ref.first);
  const set = listPieces(ref, h0.numFiles === 0 ? 1 : h0.numFiles);
  if (set.missing.length > 0) {
    throw new LodiIOError(ref.first, `${describeMissing(ref, set.missing)} missing: expected all ${set.numFiles} pieces (header num_files = ${set.numFiles})`, 'HEAD');
  }
  const sums = [0, 0, 0, 0, 0, 0];
  for (const file of set.files) {
    const h = file === ref.first ? h0 : readGadgetBinaryHeader(file);
    for (let t = 0; t < 6; t++) sums[t]! += h.npart[t] as number;
  }
  for (let t = 0; t < 6; t++) {
    if (sums[t] !== h0.npartTotal[t]) {
      throw new LodiIOError(ref.first, `npartTotal[${t}] = ${h0.npartTotal[t]}, but the pieces' npart[${t}] add up to ${sums[t]}; expected equal counts`, 'HEAD');
    }
  }
  const file = set.files[0] as string;
  if (opts.boxSize !== undefined && !(opts.boxSize > 0 && Number.isFinite(opts.boxSize))) {
    throw new LodiIOError(file, `box size given as ${opts.boxSize}, expected a positive number of Mpc/h`, 'HEAD', 'box-size');
  }
  let boxSize: number;
  let lengthUnit: LengthConversion;
  if (h0.boxSize > 0) {
    lengthUnit = resolveLengthUnit(undefined, h0.boxSize, opts.lengthUnit);
    boxSize = h0.boxSize * lengthUnit.factor;
    if (opts.boxSize !== undefined && Math.abs(opts.boxSize - boxSize) > 1e-6 * boxSize) {
      throw new LodiIOError(file, `header BoxSize ${h0.boxSize} is ${boxSize} Mpc/h (${lengthUnit.note}), expected the ${opts.boxSize} Mpc/h given`, 'HEAD', 'length-unit');
    }
  } else {
    if (opts.boxSize === undefined) {
      throw new LodiIOError(file, 'header BoxSize is 0 (not set in the file), expected the box size in Mpc/h from the caller', 'HEAD', 'box-size');
    }
    boxSize = opts.boxSize;
    if (opts.lengthUnit) lengthUnit = resolveLengthUnit(undefined, undefined, opts.lengthUnit);
    else {
      const d = readPiece(file, false, false);
      let max = 0;
      for (const a of d.pos) for (let i = 0; i < a.length; i++) max = Math.max(max, a[i] as number);
      lengthUnit = max > 1.5 * boxSize
        ? { factor: 1e-3, source: 'box-size guess', note: `kpc/h guessed from the largest coordinate ${max} > 1.5 × ${boxSize} (header BoxSize is 0)` }
        : { factor: 1, source: 'box-size guess', note: `Mpc/h guessed from the largest coordinate ${max} <= 1.5 × ${boxSize} (header BoxSize is 0)` };
    }
  }
  return { files: set.files, header: h0, boxSize, lengthUnit, massToMsunH: opts.massUnit ?? 1e10, npartTotal: sums };
}

/**
 * Streams a (multi-file) snapshot piece by piece, converted to Mpc/h and Msun/h. Each yielded value
 * holds one piece's particles by type.
 */
export function* iterateGadgetBinary(
  path: string,
  opts: GadgetBinaryOptions = {},
  info: GadgetBinaryInfo = readGadgetBinaryInfo(path, opts),
): Generator<{ file: string; piece: number; snapshot: GadgetBinarySnapshot }> {
  const { boxSize, lengthUnit } = info;
  const lf = lengthUnit.factor;
  const mf = info.massToMsunH;
  for (let p = 0; p < info.files.length; p++) {
    const file = info.files[p] as string;
    const d = readPiece(file, opts.velocities ?? true, opts.ids ?? true);
    const particles: Partial<Record<number, GadgetBinaryType>> = {};
    for (let t = 0; t < 6; t++) {
      const c = d.header.npart[t] as number;
      if (c === 0) continue;
      const pos = d.pos[t] as Float32Array;
      const posOut = new Float32Array(pos.length);
      for (let i = 0; i < pos.length; i++) posOut[i] = (pos[i] as number) * lf;
      assertPositionsInBox(posOut, boxSize, file, `POS (type ${t})`);
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
        ...(t === 0 && d.nh ? { neutralHydrogen: d.nh } : {}),
        ...(t === 0 && d.sfr ? { sfr: d.sfr } : {}),
      };
    }
    yield {
      file,
      piece: p,
      snapshot: {
        files: [file],
        header: d.header,
        boxSize,
        redshift: d.header.redshift,
        time: d.header.time,
        lengthToMpcH: lf,
        massToMsunH: mf,
        lengthUnit,
        particles,
      },
    };
  }
}

/** Reads all pieces of a binary snapshot and concatenates them by particle type. */
export function readGadgetBinary(path: string, opts: GadgetBinaryOptions = {}): GadgetBinarySnapshot {
  const pieces = [...iterateGadgetBinary(path, opts)];
  const first = pieces[0]?.snapshot;
  if (!first) throw new LodiIOError(path, 'no pieces found, expected at least one file');
  const particles: Partial<Record<number, GadgetBinaryType>> = {};
  for (let t = 0; t < 6; t++) {
    const parts = pieces.map((p) => p.snapshot.particles[t]).filter((x): x is GadgetBinaryType => x !== undefined);
    if (parts.length === 0) continue;
    const withVel = parts.every((x) => x.velocities);
    const withIds = parts.every((x) => x.ids);
    const withU = parts.every((x) => x.u);
    const withNh = parts.every((x) => x.neutralHydrogen);
    const withSfr = parts.every((x) => x.sfr);
    particles[t] = {
      count: parts.reduce((a, x) => a + x.count, 0),
      positions: cat(parts.map((x) => x.positions)),
      masses: cat(parts.map((x) => x.masses)),
      ...(withVel ? { velocities: cat(parts.map((x) => x.velocities as Float32Array)) } : {}),
      ...(withIds ? { ids: cat(parts.map((x) => x.ids as Float64Array)) } : {}),
      ...(withU ? { u: cat(parts.map((x) => x.u as Float32Array)) } : {}),
      ...(withNh ? { neutralHydrogen: cat(parts.map((x) => x.neutralHydrogen as Float32Array)) } : {}),
      ...(withSfr ? { sfr: cat(parts.map((x) => x.sfr as Float32Array)) } : {}),
    };
  }
  return { ...first, files: pieces.map((p) => p.file), particles };
}
