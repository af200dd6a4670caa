import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import h5wasm from 'h5wasm/node';
import { readFofCatalogue } from '../../src/io/fof.js';
import { writeFofCatalogue } from '../../src/io/fof-writer.js';
import { LodiIOError } from '../../src/io/errors.js';
import { REF, tempDir, rel } from './helpers.js';
import { uniformPositions, writeCatalogue } from '../corpus/fixtures.js';

const PIECE = join(REF, 'fof_subhalo_tab_264.19.hdf5');

test('GADGET-4 catalogue piece 19 of 20 reads and reports that it is partial', async () => {
  const c = await readFofCatalogue(PIECE, { subhalos: true });
  assert.equal(c.partial, true);
  assert.equal(c.numFiles, 20);
  assert.deepEqual(c.piecesRead, [19]);
  assert.equal(c.missingPieces.length, 19);
  assert.equal(c.groups.count, 1904);
  assert.equal(c.ngroupsTotal, 38115);
  assert.equal(c.boxSize, 500);
  assert.ok(Math.abs(c.redshift) < 1e-12);
  assert.deepEqual(c.cosmology, { omegaM: 0.3089, omegaL: 0.6911, h: 0.6774, omegaB: 0.0486 });
  const len = c.groups.len!;
  assert.ok(len.every((l) => l === 32 || l === 33));
  // particle mass 54.4328e10 Msun/h
  for (let i = 0; i < 20; i++) assert.ok(rel(c.groups.masses[i]! / len[i]!, 54.4328e10) < 1e-5);
  assert.ok(c.groups.positions.every((x) => x >= 0 && x < 500));
  assert.equal(c.subhalos!.count, 2131);
  assert.equal(c.subhalos!.groupNr[0]! >= 35970, true);
  await assert.rejects(readFofCatalogue(PIECE, { requireComplete: true }), /fof_subhalo_tab_264\.19\.hdf5: Header\/NumFiles: pieces fof_subhalo_tab_264\.0\.hdf5, fof_subhalo_tab_264\.1\.hdf5 and 17 more missing: expected all 20 pieces \(Header\/NumFiles = 20\)/);
});

test('48-bit SubhaloIDMostbound is skipped by default and decoded on request', async () => {
  const c = await readFofCatalogue(PIECE, { subhalos: true, mostBoundIds: true, massDefinition: 'crit200' });
  const ids = c.subhalos!.mostBoundIds!;
  assert.equal(ids.length, 2131);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of ids) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  assert.equal(lo, 14280);
  assert.equal(hi, 19670979);
  assert.equal(c.massDefinition, 'crit200');
  assert.equal(c.groups.masses.filter((m) => m === 0).length, 49);
});

test('hydro catalogue fof_subhalo_tab_002: 40 groups, kpc/h converted to Mpc/h', async () => {
  const c = await readFofCatalogue(join(REF, 'gadget4-hydro32', 'fof_subhalo_tab_002.hdf5'), { subhalos: true });
  assert.equal(c.partial, false);
  assert.equal(c.groups.count, 40);
  assert.equal(c.subhalos!.count, 40);
  assert.equal(c.boxSize, 25);
  assert.ok(c.groups.positions.every((x) => x >= 0 && x < 25));
  assert.ok(c.groups.masses.every((m) => m > 1e11));
});

test('writer round-trip: lodi catalogues read like GADGET-4 ones', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'fof_tab_000.hdf5');
    const n = 5;
    const positions = Float32Array.from({ length: 3 * n }, (_, i) => i * 3.3);
    const masses = Float64Array.from({ length: n }, (_, i) => (i + 1) * 1e12);
    const len = Int32Array.from({ length: n }, (_, i) => 20 * (i + 1));
    const mCrit200 = Float64Array.from(masses, (m) => 0.8 * m);
    await writeFofCatalogue(p, { boxSize: 50, redshift: 1, omegaM: 0.3, omegaL: 0.7, h: 0.7, groups: { positions, masses, len, mCrit200 } });
    await assert.rejects(writeFofCatalogue(p, { boxSize: 50, redshift: 1, omegaM: 0.3, omegaL: 0.7, h: 0.7, groups: { positions, masses, len } }), /already exists/);
    const c = await readFofCatalogue(p);
    assert.equal(c.partial, false);
    assert.equal(c.groups.count, 5);
    assert.deepEqual(Array.from(c.groups.positions), Array.from(positions));
    for (let i = 0; i < n; i++) assert.ok(rel(c.groups.masses[i]!, masses[i]!) < 1e-6);
    assert.deepEqual(Array.from(c.groups.len!), Array.from(len));
    const c200 = await readFofCatalogue(p, { massDefinition: 'crit200' });
    assert.ok(rel(c200.groups.masses[4]!, 4e12) < 1e-6);
    await assert.rejects(readFofCatalogue(p, { massDefinition: 'mean200' }), (e: unknown) => e instanceof LodiIOError && /fof_tab_000\.hdf5: Group\/Group_M_Mean200: dataset missing/.test(e.message));
  } finally {
    cleanup();
  }
});

test('catalogue with a wrong-shape GroupPos is rejected', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'bad.hdf5');
    await h5wasm.ready;
    const f = new h5wasm.File(p, 'w');
    const h = f.create_group('Header');
    h.create_attribute('BoxSize', 100, [], '<d');
    h.create_attribute('Redshift', 0, [], '<d');
    h.create_attribute('Ngroups_ThisFile', 2, [], '<i');
    h.create_attribute('Ngroups_Total', 2, [], '<i');
    const g = f.create_group('Group');
    g.create_dataset({ name: 'GroupPos', data: new Float32Array(6), shape: [6], dtype: '<f' });
    g.create_dataset({ name: 'GroupMass', data: new Float32Array(2), shape: [2], dtype: '<f' });
    f.close();
    await assert.rejects(readFofCatalogue(p), /bad\.hdf5: Group\/GroupPos: expected numeric \[n,3\], got float32 \[6\]/);
  } finally {
    cleanup();
  }
});

test('absent objects: the header counts decide, an empty catalogue has zero groups, empty pieces are skipped', async () => {
  const { dir, cleanup } = tempDir();
  try {
    // GADGET-4 before the first halo: Ngroups_Total = 0 and no Group/ at all
    const [empty] = await writeCatalogue(join(dir, 'fof_subhalo_tab_000'), { box: 25000, pieces: [{}] });
    const e = await readFofCatalogue(empty!, { subhalos: true });
    assert.equal(e.groups.count, 0);
    assert.equal(e.ngroupsTotal, 0);
    assert.equal(e.subhalos!.count, 0);
    assert.equal(e.partial, false);
    assert.equal(e.boxSize, 25);
    // three pieces, the middle one empty (no Group/): read from the base name, counts add up
    const pos = (n: number, seed: number) => uniformPositions(n, 25000, seed);
    const mass = (n: number) => Float32Array.from({ length: n }, (_, i) => 10 + i);
    await writeCatalogue(join(dir, 'fof_subhalo_tab_001'), {
      box: 25000,
      unitLengthCm: 3.085678e21,
      pieces: [{ groups: { positions: pos(3, 1), masses: mass(3) } }, {}, { groups: { positions: pos(2, 2), masses: mass(2) } }],
    });
    const m = await readFofCatalogue(join(dir, 'fof_subhalo_tab_001'));
    assert.equal(m.groups.count, 5);
    assert.deepEqual(m.piecesRead, [0, 1, 2]);
    assert.equal(m.lengthUnit.source, 'file');
    assert.deepEqual(Array.from(m.groups.masses), [10, 11, 12, 10, 11].map((x) => x * 1e10));
    // Group/ written although empty (lodi's own writer does that) is the same
    await writeCatalogue(join(dir, 'fof_tab_002'), { box: 25, pieces: [{ emptyGroup: true }] });
    assert.equal((await readFofCatalogue(join(dir, 'fof_tab_002.hdf5'))).groups.count, 0);
    // only a header that promises groups the file lacks is an error
    await writeCatalogue(join(dir, 'fof_tab_003'), { box: 25, pieces: [{ ngroupsThis: 4 }], ngroupsTotal: 4 });
    await assert.rejects(readFofCatalogue(join(dir, 'fof_tab_003')), /^LodiIOError: fof_tab_003\.hdf5: Group: group missing; expected 4 objects \(Header\/Ngroups_ThisFile = 4\)$/);
    await writeCatalogue(join(dir, 'fof_tab_004'), { box: 25, pieces: [{ groups: { positions: pos(2, 3).map((x) => x / 1000), masses: mass(2) } }], ngroupsTotal: 3 });
    await assert.rejects(readFofCatalogue(join(dir, 'fof_tab_004')), /fof_tab_004\.hdf5: Header: Ngroups_Total = 3, but the pieces hold 2 groups; expected equal counts/);
  } finally {
    cleanup();
  }
});
