import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readGadgetBinary, readGadgetBinaryHeader, iterateGadgetBinary } from '../../src/io/gadget-binary.js';
import { LodiIOError } from '../../src/io/errors.js';
import { REF, tempDir, rel } from './helpers.js';

const SAMPLE = join(REF, 'lcdm_gas_littleendian.dat');

test('reference Gadget-2 ICs: header values match the README', () => {
  const h = readGadgetBinaryHeader(SAMPLE);
  assert.deepEqual(h.npart, [32768, 32768, 0, 0, 0, 0]);
  assert.deepEqual(h.npartTotal, [32768, 32768, 0, 0, 0, 0]);
  assert.deepEqual(h.massarr, [4.235076384894417, 27.52799650181371, 0, 0, 0, 0]);
  assert.equal(h.time, 0.09090909090909091);
  assert.equal(h.redshift, 10);
  assert.equal(h.flagCooling, 424242);
  assert.equal(h.numFiles, 0);
  assert.equal(h.boxSize, 0);
  assert.equal(h.littleEndian, true);
});

test('reference ICs: BoxSize 0 needs an override; positions in 0..50 Mpc/h after kpc→Mpc', () => {
  assert.throws(() => readGadgetBinary(SAMPLE), (e: unknown) => e instanceof LodiIOError && /lcdm_gas_littleendian\.dat: HEAD: header BoxSize is 0/.test(e.message));
  const s = readGadgetBinary(SAMPLE, { boxSize: 50 });
  assert.equal(s.lengthToMpcH, 1e-3);
  assert.equal(s.boxSize, 50);
  for (const t of [0, 1]) {
    const p = s.particles[t]!;
    assert.equal(p.count, 32768);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of p.positions) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    assert.ok(lo >= 0 && lo < 0.01, `min ${lo}`);
    assert.ok(hi < 50 && hi > 49.9, `max ${hi}`);
  }
  assert.ok(rel(s.particles[0]!.masses[0]!, 4.235076384894417e10) < 1e-6);
  assert.ok(rel(s.particles[1]!.masses[100]!, 27.52799650181371e10) < 1e-6);
  assert.equal(s.particles[0]!.ids![0], 1);
  assert.equal(s.particles[1]!.ids![0], 32769);
  assert.equal(s.particles[1]!.ids![32767], 65536);
  assert.ok(s.particles[0]!.u!.every((x) => x === 0));
  assert.equal(s.particles[1]!.u, undefined);
  const vel = s.particles[1]!.velocities!;
  assert.ok(vel.every((v) => Math.abs(v) < 1000));
});

test('truncated copy of the reference file is detected', () => {
  const { dir, cleanup } = tempDir();
  try {
    const full = readFileSync(SAMPLE);
    const p = join(dir, 'trunc.dat');
    writeFileSync(p, full.subarray(0, 1000000));
    assert.throws(() => readGadgetBinary(p, { boxSize: 50 }), (e: unknown) => e instanceof LodiIOError && /trunc\.dat: VEL: truncated file/.test(e.message));
    writeFileSync(p, full.subarray(0, full.length - 131080)); // U block removed entirely
    assert.throws(() => readGadgetBinary(p, { boxSize: 50 }), /trunc\.dat: U: truncated file/);
    writeFileSync(p, full.subarray(0, 100));
    assert.throws(() => readGadgetBinaryHeader(p), /trunc\.dat: HEAD: truncated file/);
  } finally {
    cleanup();
  }
});

test('bad record markers and non-Gadget files are reported', () => {
  const { dir, cleanup } = tempDir();
  try {
    const buf = Buffer.from(readFileSync(SAMPLE));
    buf.writeInt32LE(786431, 268 + 786432); // end marker of POS
    const p = join(dir, 'bad.dat');
    writeFileSync(p, buf);
    assert.throws(() => readGadgetBinary(p, { boxSize: 50 }), /bad\.dat: POS: bad record markers at byte 264: begin says 786432 bytes, end says 786431/);
    writeFileSync(p, Buffer.from('definitely not a snapshot'));
    assert.throws(() => readGadgetBinaryHeader(p), /bad\.dat: signature: not an HDF5 file nor a Gadget binary one: first bytes 64 65 66 69, expected/);
    const nan = Buffer.from(readFileSync(SAMPLE));
    nan.writeFloatLE(NaN, 268 + 12 * 5 + 4);
    writeFileSync(p, nan);
    assert.throws(() => readGadgetBinary(p, { boxSize: 50 }), /bad\.dat: POS: non-finite value NaN at row 5, column 1/);
  } finally {
    cleanup();
  }
});

/** Writes a small synthetic format-1 file (kpc/h) to check endianness, MASS blocks, 64-bit IDs and pieces. */
function synth(path: string, o: { little: boolean; npart: number[]; nall: number[]; massarr: number[]; numFiles: number; box: number; ids64: boolean; first: number }): void {
  const recs: Buffer[] = [];
  const rec = (payload: Buffer) => {
    const m = Buffer.alloc(4);
    if (o.little) m.writeInt32LE(payload.length);
    else m.writeInt32BE(payload.length);
    recs.push(m, payload, m);
  };
  const h = Buffer.alloc(256);
  const w32 = (v: number, at: number) => (o.little ? h.writeInt32LE(v, at) : h.writeInt32BE(v, at));
  const wf = (v: number, at: number) => (o.little ? h.writeDoubleLE(v, at) : h.writeDoubleBE(v, at));
  o.npart.forEach((v, i) => w32(v, 4 * i));
  o.massarr.forEach((v, i) => wf(v, 24 + 8 * i));
  wf(0.5, 72);
  wf(1, 80);
  o.nall.forEach((v, i) => w32(v, 96 + 4 * i));
  w32(o.numFiles, 124);
  wf(o.box, 128);
  rec(h);
  const n = o.npart.reduce((a, b) => a + b, 0);
  const fl = (vals: number[]) => {
    const b = Buffer.alloc(4 * vals.length);
    vals.forEach((v, i) => (o.little ? b.writeFloatLE(v, 4 * i) : b.writeFloatBE(v, 4 * i)));
    return b;
  };
  rec(fl(Array.from({ length: 3 * n }, (_, i) => 1000 * ((o.first + i) % 10) + 1)));
  rec(fl(Array.from({ length: 3 * n }, (_, i) => i)));
  const ids = Buffer.alloc((o.ids64 ? 8 : 4) * n);
  for (let i = 0; i < n; i++) {
    const id = o.first + i + (o.ids64 ? 2 ** 33 : 0);
    if (o.ids64) {
      if (o.little) ids.writeBigUInt64LE(BigInt(id), 8 * i);
      else ids.writeBigUInt64BE(BigInt(id), 8 * i);
    } else if (o.little) ids.writeUInt32LE(id, 4 * i);
    else ids.writeUInt32BE(id, 4 * i);
  }
  rec(ids);
  const nm = o.npart.reduce((a, c, t) => a + (c > 0 && o.massarr[t] === 0 ? c : 0), 0);
  if (nm > 0) rec(fl(Array.from({ length: nm }, (_, i) => 0.1 * (i + 1))));
  if (o.npart[0]! > 0) rec(fl(Array.from({ length: o.npart[0]! }, () => 7)));
  writeFileSync(path, Buffer.concat(recs));
}

test('big-endian, MASS block, 64-bit IDs and multi-file pieces', () => {
  const { dir, cleanup } = tempDir();
  try {
    const base = join(dir, 'snap_000');
    const common = { little: false, nall: [2, 3, 0, 0, 0, 0], massarr: [0, 2, 0, 0, 0, 0], numFiles: 2, box: 10000, ids64: true };
    synth(`${base}.0`, { ...common, npart: [1, 2, 0, 0, 0, 0], first: 0 });
    synth(`${base}.1`, { ...common, npart: [1, 1, 0, 0, 0, 0], first: 3 });
    for (const given of [base, `${base}.1`]) {
      const s = readGadgetBinary(given);
      assert.equal(s.header.littleEndian, false);
      assert.deepEqual(s.files, [`${base}.0`, `${base}.1`]);
      assert.equal(s.boxSize, 10);
      assert.equal(s.particles[0]!.count, 2);
      assert.equal(s.particles[1]!.count, 3);
      assert.deepEqual(Array.from(s.particles[0]!.masses), [0.1e10, 0.1e10].map((x) => Math.fround(x)));
      assert.deepEqual(Array.from(s.particles[1]!.masses), [2e10, 2e10, 2e10]);
      assert.deepEqual(Array.from(s.particles[0]!.ids!), [2 ** 33, 2 ** 33 + 3]);
      assert.ok(Math.abs(s.particles[0]!.positions[0]! - 0.001) < 1e-9);
      assert.deepEqual(Array.from(s.particles[0]!.u!), [7, 7]);
    }
    assert.equal([...iterateGadgetBinary(base)].length, 2);
    // a piece missing
    synth(join(dir, 'lone.0'), { ...common, npart: [1, 2, 0, 0, 0, 0], first: 0 });
    assert.throws(() => readGadgetBinary(join(dir, 'lone')), /lone\.0: HEAD: piece lone\.1 missing: expected all 2 pieces \(header num_files = 2\)$/);
    // little-endian, 32-bit IDs, one file with num_files=0
    const one = join(dir, 'one.dat');
    synth(one, { little: true, npart: [0, 4, 0, 0, 0, 0], nall: [0, 4, 0, 0, 0, 0], massarr: [0, 1, 0, 0, 0, 0], numFiles: 0, box: 0, ids64: false, first: 0 });
    const s1 = readGadgetBinary(one, { boxSize: 10 });
    assert.equal(s1.particles[1]!.count, 4);
    assert.deepEqual(Array.from(s1.particles[1]!.ids!), [0, 1, 2, 3]);
    assert.throws(() => readGadgetBinary(one, { boxSize: 1 }), /one\.dat: POS \(type 1\): position .* outside the box/);
  } finally {
    cleanup();
  }
});
