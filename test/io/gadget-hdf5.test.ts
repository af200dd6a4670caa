import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { readGadgetHdf5, readGadgetHdf5Header, iterateGadgetHdf5 } from '../../src/io/gadget-hdf5.js';
import { writeGadgetHdf5 } from '../../src/io/gadget-hdf5-writer.js';
import { LodiIOError } from '../../src/io/errors.js';
import { REF, tempDir, rel } from './helpers.js';
import { gasPiece, uniformPositions, writeSnapshot } from '../corpus/fixtures.js';

const HYDRO = join(REF, 'gadget4-hydro32');

/** Sum of M_HI = m_gas * X * x_HI with x_HI := 1 where SFR > 0 (X = 0.76). */
function hiMass(g: { masses?: Float32Array; neutralHydrogen?: Float32Array; sfr?: Float32Array; count: number }): number {
  let s = 0;
  for (let i = 0; i < g.count; i++) s += g.masses![i]! * 0.76 * (g.sfr![i]! > 0 ? 1 : g.neutralHydrogen![i]!);
  return s;
}

test('GADGET-4 hydro snapshots: header, MassTable DM mass and HI mass match the README', async () => {
  const s2 = await readGadgetHdf5(join(HYDRO, 'snapshot_002.hdf5'), { fields: ['positions', 'masses', 'neutralHydrogen', 'sfr'] });
  const h = s2.header;
  assert.deepEqual(h.numPartTotal, [32763, 32768, 0, 0, 5, 0]);
  assert.ok(rel(h.redshift, 2.0183) < 1e-4);
  assert.equal(h.boxSize, 25);
  assert.equal(h.lengthToMpcH, 1e-3);
  assert.equal(h.cosmologySource, 'Parameters');
  assert.deepEqual(h.cosmology, { omegaM: 0.3, omegaL: 0.7, h: 0.6711, omegaB: 0.049 });
  assert.ok(rel(h.massTable[1]!, 3.320992e10) < 1e-6);
  assert.ok(rel(s2.particles[1]!.masses![0]!, 3.320992e10) < 1e-6);
  assert.equal(s2.particles[4]!.count, 5);
  const pos = s2.particles[1]!.positions!;
  assert.ok(pos.every((v) => v >= 0 && v < 25));
  let nsf = 0;
  for (const v of s2.particles[0]!.sfr!) if (v > 0) nsf++;
  assert.equal(nsf, 12);
  assert.ok(rel(hiMass(s2.particles[0]!), 6.0015e10) < 1e-4);
  const s5 = await readGadgetHdf5(join(HYDRO, 'snapshot_005.hdf5'), { partTypes: [0], fields: ['masses', 'neutralHydrogen', 'sfr'] });
  assert.ok(rel(hiMass(s5.particles[0]!), 9.6994e9) < 1e-4);
  assert.deepEqual(s5.header.numPartTotal, [32726, 32768, 0, 0, 42, 0]);
});

test('chunked streaming gives the same particles as a whole read', async () => {
  const file = join(HYDRO, 'snapshot_002.hdf5');
  const whole = await readGadgetHdf5(file, { partTypes: [1], fields: ['positions'] });
  let n = 0;
  let chunks = 0;
  for await (const c of iterateGadgetHdf5(file, { partType: 1, fields: ['positions', 'masses'], chunkSize: 10000 })) {
    assert.equal(c.offset, n);
    assert.equal(c.positions![0], whole.particles[1]!.positions![3 * n]);
    n += c.count;
    chunks++;
  }
  assert.equal(n, 32768);
  assert.equal(chunks, 4);
});

test('writer round-trip, single and multi-file (found from any piece or the base name)', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const n = 1000;
    const positions = Float32Array.from({ length: 3 * n }, (_, i) => ((i * 7.31) % 100));
    const velocities = Float32Array.from({ length: 3 * n }, (_, i) => i - 1500);
    const snap = { boxSize: 100, redshift: 3, omegaM: 0.31, omegaL: 0.69, omegaB: 0.049, h: 0.68, positions, velocities, particleMass: 8.5e10, provenance: { seed: 7 } };
    const single = join(dir, 'snap_001.hdf5');
    await writeGadgetHdf5(single, snap);
    await assert.rejects(writeGadgetHdf5(single, snap), /already exists/);
    const r = await readGadgetHdf5(single, { fields: ['positions', 'masses', 'velocities', 'ids'] });
    assert.equal(r.header.boxSize, 100);
    assert.equal(r.header.lengthToMpcH, 1);
    assert.ok(rel(r.header.time, 0.25) < 1e-12);
    assert.equal(r.header.cosmologySource, 'Header');
    assert.deepEqual(r.header.cosmology, { omegaM: 0.31, omegaL: 0.69, h: 0.68, omegaB: 0.049 });
    assert.deepEqual(Array.from(r.particles[1]!.positions!), Array.from(positions));
    assert.deepEqual(Array.from(r.particles[1]!.velocities!), Array.from(velocities));
    assert.ok(rel(r.particles[1]!.masses![0]!, 8.5e10) < 1e-6);
    assert.equal(r.particles[1]!.ids![999], 1000);
    const multi = join(dir, 'snap_002.hdf5');
    const names = await writeGadgetHdf5(multi, snap, { numFiles: 3 });
    assert.deepEqual(names, [0, 1, 2].map((i) => join(dir, `snap_002.${i}.hdf5`)));
    for (const given of [join(dir, 'snap_002'), join(dir, 'snap_002.2.hdf5')]) {
      const m = await readGadgetHdf5(given, { fields: ['positions', 'ids'] });
      assert.equal(m.header.files.length, 3);
      assert.deepEqual(Array.from(m.particles[1]!.positions!), Array.from(positions));
      assert.deepEqual(Array.from(m.particles[1]!.ids!.subarray(0, 3)), [1, 2, 3]);
    }
    writeFileSync(join(dir, 'snap_002.1.hdf5.bak'), readFileSync(names[1]!));
    const { rmSync } = await import('node:fs');
    rmSync(names[1]!);
    await assert.rejects(readGadgetHdf5Header(names[0]!), /^LodiIOError: snap_002\.0\.hdf5: Header\/NumFilesPerSnapshot: piece snap_002\.1\.hdf5 missing: expected all 3 pieces \(Header\/NumFilesPerSnapshot = 3\)$/);
    const part = await readGadgetHdf5Header(names[0]!, { allowPartial: true });
    assert.deepEqual(part.missingPieces, [1]);
  } finally {
    cleanup();
  }
});

async function handMade(path: string, edit: (f: InstanceType<typeof h5wasm.File>) => void): Promise<void> {
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'w');
  const h = f.create_group('Header');
  h.create_attribute('BoxSize', 10, [], '<d');
  h.create_attribute('Redshift', 0, [], '<d');
  h.create_attribute('Time', 1, [], '<d');
  h.create_attribute('Omega0', 0.3, [], '<d');
  h.create_attribute('OmegaLambda', 0.7, [], '<d');
  h.create_attribute('HubbleParam', 0.7, [], '<d');
  h.create_attribute('MassTable', Float64Array.from([0, 1, 0, 0, 0, 0]), [6], '<d');
  h.create_attribute('NumPart_ThisFile', Uint32Array.from([0, 4, 0, 0, 0, 0]), [6], '<I');
  h.create_attribute('NumPart_Total', Uint32Array.from([0, 4, 0, 0, 0, 0]), [6], '<I');
  h.create_attribute('NumFilesPerSnapshot', 1, [], '<i');
  f.create_group('PartType1');
  edit(f);
  f.close();
}

test('failure modes: missing dataset, wrong shape, non-finite, truncated file', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'bad.hdf5');
    await handMade(p, () => {});
    await assert.rejects(readGadgetHdf5(p), (e: unknown) => e instanceof LodiIOError && /bad\.hdf5: PartType1\/Coordinates: dataset missing/.test(e.message));
    await handMade(p, (f) => {
      (f.get('PartType1') as InstanceType<typeof h5wasm.Group>).create_dataset({ name: 'Coordinates', data: new Float32Array(8), shape: [4, 2], dtype: '<f' });
    });
    await assert.rejects(readGadgetHdf5(p), /bad\.hdf5: PartType1\/Coordinates: expected numeric \[n,3\], got float32 \[4,2\]/);
    await handMade(p, (f) => {
      (f.get('PartType1') as InstanceType<typeof h5wasm.Group>).create_dataset({ name: 'Coordinates', data: new Float32Array(9), shape: [3, 3], dtype: '<f' });
    });
    await assert.rejects(readGadgetHdf5(p), /bad\.hdf5: PartType1\/Coordinates: expected 4 rows \(from the header\), got 3/);
    await handMade(p, (f) => {
      (f.get('PartType1') as InstanceType<typeof h5wasm.Group>).create_dataset({ name: 'Coordinates', data: Float32Array.from([1, 2, 3, 4, 5, NaN, 1, 1, 1, 2, 2, 2]), shape: [4, 3], dtype: '<f' });
    });
    await assert.rejects(readGadgetHdf5(p), /bad\.hdf5: PartType1\/Coordinates: non-finite value NaN at row 1, column 2/);
    await handMade(p, (f) => {
      (f.get('PartType1') as InstanceType<typeof h5wasm.Group>).create_dataset({ name: 'Coordinates', data: Float32Array.from({ length: 12 }, () => 5000), shape: [4, 3], dtype: '<f' });
    });
    await assert.rejects(readGadgetHdf5(p), /outside the box \[0, 10\) Mpc\/h/);
    const trunc = join(dir, 'trunc.hdf5');
    const full = readFileSync(join(HYDRO, 'snapshot_002.hdf5'));
    writeFileSync(trunc, full.subarray(0, Math.floor(full.length / 2)));
    await assert.rejects(readGadgetHdf5(trunc, { fields: ['positions', 'masses', 'velocities'] }), (e: unknown) => e instanceof LodiIOError && /trunc\.hdf5: size: truncated HDF5 file: the superblock records \d+ bytes, the file has \d+/.test(e.message));
    writeFileSync(trunc, Buffer.from('not hdf5 at all'));
    await assert.rejects(readGadgetHdf5(trunc), /trunc\.hdf5: signature: not an HDF5 file/);
  } finally {
    cleanup();
  }
});

test('absent particle types: a piece with NumPart_ThisFile = 0 needs no group; one that promises particles does', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const box = 25000;
    const pieces = [
      { dm: uniformPositions(10, box, 1), gas: gasPiece(6, box, 2) },
      { dm: uniformPositions(8, box, 3) }, // no gas here: no PartType0 group
      { dm: new Float32Array(0), gas: gasPiece(4, box, 4) }, // no DM here: no PartType1 group
    ];
    await writeSnapshot(join(dir, 'snap_007'), { box, pieces });
    const s = await readGadgetHdf5(join(dir, 'snap_007'), { fields: ['positions', 'masses', 'neutralHydrogen', 'sfr'] });
    assert.equal(s.header.files.length, 3);
    assert.equal(s.particles[1]!.count, 18);
    assert.equal(s.particles[0]!.count, 10);
    assert.equal(s.particles[0]!.neutralHydrogen!.length, 10);
    // the guess from the box size is reported, not silent
    assert.equal(s.header.lengthUnit.source, 'box-size guess');
    assert.match(s.header.lengthUnit.note, /^kpc\/h guessed from BoxSize 25000 > 5000/);
    assert.equal((await readGadgetHdf5Header(join(HYDRO, 'snapshot_002.hdf5'))).lengthUnit.source, 'file');
    // the header promises gas that the file lacks
    await writeSnapshot(join(dir, 'snap_008'), { box, pieces: [{ dm: uniformPositions(4, box, 5), gas: gasPiece(3, box, 6) }], omit: ['PartType0'] });
    await assert.rejects(readGadgetHdf5(join(dir, 'snap_008')), /^LodiIOError: snap_008\.hdf5: PartType0: group missing; expected 3 particles \(Header\/NumPart_ThisFile\[0\] = 3\)$/);
  } finally {
    cleanup();
  }
});
