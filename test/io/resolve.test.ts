import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveSimulationInput, detectFormat } from '../../src/io/resolve.js';
import { readGadgetBinary } from '../../src/io/gadget-binary.js';
import { readGadgetHdf5Header } from '../../src/io/gadget-hdf5.js';
import { openSnapshot } from '../../src/io/snapshot.js';
import { REF, tempDir } from './helpers.js';
import { uniformPositions, writeBinary, writeSnapshot, gasPiece } from '../corpus/fixtures.js';

const HYDRO = join(REF, 'gadget4-hydro32');
const IC = join(REF, 'lcdm_gas_littleendian.dat');

test('resolver: a file, a numbered piece or a base name, the format from the first bytes', async () => {
  const { dir, cleanup } = tempDir();
  try {
    // real files: HDF5 by signature, format 1 little-endian by its 256-byte header record
    assert.equal(resolveSimulationInput(join(HYDRO, 'snapshot_002.hdf5')).format, 'hdf5');
    const base = resolveSimulationInput(join(HYDRO, 'snapshot_002'));
    assert.equal(base.first, join(HYDRO, 'snapshot_002.hdf5'));
    assert.deepEqual(detectFormat(IC), { format: 'gadget1', littleEndian: true });
    // an existing file is never "missing", whatever its name
    const noExt = join(dir, 'snap_010');
    copyFileSync(join(HYDRO, 'snapshot_002.hdf5'), noExt);
    assert.equal(resolveSimulationInput(noExt).format, 'hdf5');
    assert.equal((await readGadgetHdf5Header(noExt)).numPartTotal[1], 32768);
    // multi-file HDF5: base name → piece 0; any piece names its siblings
    const names = await writeSnapshot(join(dir, 'snap_004'), { box: 10, unitLengthCm: 3.085678e24, pieces: [0, 1, 2].map((i) => ({ dm: uniformPositions(5, 10, i) })) });
    const r = resolveSimulationInput(join(dir, 'snap_004'));
    assert.equal(r.first, names[0]);
    assert.equal(resolveSimulationInput(names[2]!).pieceName!(1), names[1]);
    assert.equal(resolveSimulationInput(names[2]!).index, 2);
    // binary: format 1 and 2, both byte orders; base name → `.0` piece
    for (const format of [1, 2] as const) {
      for (const little of [true, false]) {
        const p = join(dir, `b${format}${little ? 'le' : 'be'}.0`);
        writeBinary(p, { format, little, box: 10, dm: uniformPositions(4, 10, 1), dmMass: 1 });
        const got = resolveSimulationInput(p.slice(0, -2));
        assert.equal(got.first, p);
        assert.equal(got.format, format === 1 ? 'gadget1' : 'gadget2');
        assert.equal(got.littleEndian, little);
      }
    }
    // what is not there, an empty file, a folder, an unknown format
    assert.throws(() => resolveSimulationInput(join(dir, 'snap_099')), /^LodiIOError: snap_099: snapshot not found: no such file, and no snap_099\.hdf5, snap_099\.0\.hdf5, snap_099\.0 beside it$/);
    writeFileSync(join(dir, 'empty.hdf5'), '');
    assert.throws(() => resolveSimulationInput(join(dir, 'empty.hdf5')), /empty\.hdf5: size: empty file \(0 bytes\), expected an HDF5 or Gadget binary/);
    mkdirSync(join(dir, 'snapdir_004'));
    assert.throws(() => resolveSimulationInput(join(dir, 'snapdir_004')), /snapdir_004: is a folder, expected a snapshot file/);
    writeFileSync(join(dir, 'notes.txt'), 'hello world');
    assert.throws(() => resolveSimulationInput(join(dir, 'notes.txt')), /notes\.txt: signature: not an HDF5 file nor a Gadget binary one: first bytes 68 65 6c 6c, expected/);
  } finally {
    cleanup();
  }
});

test('format 2 (labelled blocks) reads the same particles as format 1, plus the NH and SFR gas blocks', () => {
  const { dir, cleanup } = tempDir();
  try {
    const dm = uniformPositions(50, 20000, 4);
    const gas = gasPiece(30, 20000, 5);
    for (const little of [true, false]) {
      const f1 = join(dir, `f1${little}`);
      const f2 = join(dir, `f2${little}`);
      writeBinary(f1, { format: 1, little, box: 20000, dm, dmMass: 2, gas });
      writeBinary(f2, { format: 2, little, box: 20000, dm, dmMass: 2, gas, gasPhysics: true });
      const a = readGadgetBinary(f1);
      const b = readGadgetBinary(f2);
      assert.equal(b.header.format, 2);
      assert.equal(a.boxSize, 20); // 20000 > 5000 → kpc/h, recorded as a guess
      assert.equal(b.lengthUnit.source, 'box-size guess');
      for (const t of [0, 1]) {
        assert.deepEqual(Array.from(b.particles[t]!.positions), Array.from(a.particles[t]!.positions));
        assert.deepEqual(Array.from(b.particles[t]!.masses), Array.from(a.particles[t]!.masses));
      }
      assert.deepEqual(Array.from(b.particles[0]!.neutralHydrogen!), Array.from(gas.nh));
      assert.deepEqual(Array.from(b.particles[0]!.sfr!), Array.from(gas.sfr));
      assert.equal(a.particles[0]!.neutralHydrogen, undefined);
    }
    const bad = join(dir, 'nopos');
    writeBinary(bad, { format: 2, little: true, box: 10, dm: uniformPositions(3, 10, 1), dmMass: 1, omit: ['POS'] });
    assert.throws(() => readGadgetBinary(bad), /^LodiIOError: nopos: POS: block missing; expected it \(labels found: HEAD, VEL, ID\)$/);
  } finally {
    cleanup();
  }
});

test('openSnapshot: the same reader interface over HDF5 and binary, length-unit decisions recorded', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const dm = uniformPositions(64, 30, 8);
    await writeSnapshot(join(dir, 'h'), { box: 30, pieces: [{ dm }] });
    writeBinary(join(dir, 'b'), { format: 1, little: true, box: 30, dm, dmMass: 1 });
    const counts: number[] = [];
    for (const p of [join(dir, 'h'), join(dir, 'b')]) {
      const s = await openSnapshot(p);
      assert.equal(s.info.boxSize, 30);
      assert.deepEqual(s.info.lengthUnit, { factor: 1, source: 'box-size guess', note: 'Mpc/h guessed from BoxSize 30 <= 5000 (the file has no UnitLength_in_cm)' });
      let n = 0;
      for await (const c of s.chunks(1, ['positions', 'masses'], 25)) {
        assert.deepEqual(Array.from(c.positions!), Array.from(dm.subarray(3 * n, 3 * (n + c.count))));
        n += c.count;
      }
      counts.push(n);
      const over = await openSnapshot(p, { lengthUnit: 'kpc/h' });
      assert.equal(over.info.boxSize, 0.03);
      assert.equal(over.info.lengthUnit.source, 'override');
    }
    assert.deepEqual(counts, [64, 64]);
  } finally {
    cleanup();
  }
});
