import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveGrid } from '../../src/io/grid.js';
import { LodiIOError } from '../../src/io/errors.js';
import { readWorld, writeWorld, worldMassBinsMsunH, WORLD_MEMBERS, WORLD_VERSION, type WorldGrids } from '../../src/io/world.js';

function tinyWorld(n = 4): WorldGrids {
  const n3 = n ** 3;
  const ramp = (k: number): Float32Array => Float32Array.from({ length: k }, (_, i) => i + 1);
  return {
    grid: n,
    boxSize: 10,
    redshift: 1,
    cosmology: { Omega_m: 0.3, h: 0.7, Omega_b: 0.049 },
    massBins: { edges: [1e10, 1e11, Infinity], unit: 'Msun' },
    channels: ['low', 'high'],
    smoothingR: 0.2,
    mas: 'CIC',
    tbFactor: 1e-9,
    provenance: { generator: 'test', seed: 5, command: 'lodi test' },
    dm: ramp(n3),
    halos: ramp(2 * n3),
    hi: ramp(n3),
    tb: ramp(n3),
  };
}

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-world-io-'));
  try {
    fn(join(dir, 'w'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('writeWorld / readWorld round trip: grids, facts, mass bins with their unit', () => {
  withDir((dir) => {
    const w = tinyWorld();
    writeWorld(dir, w);
    const r = readWorld(dir);
    assert.equal(r.dir, dir);
    for (const k of ['grid', 'boxSize', 'redshift', 'smoothingR', 'mas', 'tbFactor'] as const) assert.equal(r[k], w[k], k);
    assert.deepEqual(r.cosmology, w.cosmology);
    assert.deepEqual(r.massBins, { edges: [1e10, 1e11, Infinity], unit: 'Msun' });
    assert.deepEqual(worldMassBinsMsunH(r), [7e9, 7e10, Infinity]);
    assert.deepEqual(r.channels, w.channels);
    assert.equal(r.provenance.seed, 5);
    assert.equal(r.provenance.generator, 'test');
    assert.deepEqual(r.halos, w.halos);
    assert.deepEqual(r.tb, w.tb);
    const j = JSON.parse(readFileSync(join(dir, 'world.json'), 'utf8'));
    assert.equal(j.version, WORLD_VERSION);
    assert.deepEqual(j.members, ['dm', 'halos', 'hi', 'tb']);
    assert.deepEqual(j.massBins.edgesMsunH, [7e9, 7e10, null]);
    const side = JSON.parse(readFileSync(join(dir, 'halos.json'), 'utf8'));
    assert.equal(side.unit, WORLD_MEMBERS.halos.unit);
    assert.deepEqual(side.massBins, { edges: [1e10, 1e11, null], unit: 'Msun' });
    // only the requested members are loaded
    const dmOnly = readWorld(dir, { members: ['dm'] });
    assert.ok(dmOnly.dm && !dmOnly.halos && !dmOnly.tb);
    assert.throws(() => writeWorld(dir, w), /exists/);
    writeWorld(dir, w, { force: true });
  });
});

test('readWorld: one-line errors naming the file, the field and what was expected', () => {
  withDir((dir) => {
    const w = tinyWorld();
    writeWorld(dir, { ...w, hi: undefined, tb: undefined, tbFactor: undefined });
    assert.throws(
      () => readWorld(dir, { members: ['dm', 'tb'] }),
      (e: Error) => e instanceof LodiIOError && /^tb\.npy: tb: missing: expected T_b \[mK\]/.test(e.message) && !e.message.includes('\n'),
    );
    // a grid with another box size
    saveGrid(join(dir, 'dm.npy'), { data: w.dm!, shape: [4, 4, 4], meta: { boxSize: 20, redshift: 1, quantity: 'dm_density', unit: WORLD_MEMBERS.dm.unit } }, { force: true });
    assert.throws(() => readWorld(dir), /^LodiIOError: dm\.json: boxSize: expected 10 Mpc\/h \(as world\.json\), got 20 Mpc\/h/);
    // a grid in another unit
    saveGrid(join(dir, 'dm.npy'), { data: w.dm!, shape: [4, 4, 4], meta: { boxSize: 10, redshift: 1, quantity: 'dm_density', unit: 'Msun/Mpc^3' } }, { force: true });
    assert.throws(() => readWorld(dir), /^LodiIOError: dm\.json: unit: expected '\(Msun\/h\)\/\(Mpc\/h\)\^3', got 'Msun\/Mpc\^3'/);
    // another grid size
    saveGrid(join(dir, 'dm.npy'), { data: new Float32Array(8), shape: [2, 2, 2], meta: { boxSize: 10, redshift: 1, quantity: 'dm_density', unit: WORLD_MEMBERS.dm.unit } }, { force: true });
    assert.throws(() => readWorld(dir), /^LodiIOError: dm\.npy: grid: expected N = 4 \(as world\.json\), got \[2,2,2\]/);
    unlinkSync(join(dir, 'dm.npy'));
    assert.throws(() => readWorld(dir, { members: ['dm'] }), /^LodiIOError: dm\.npy: dm: listed in world\.json but missing/);
    // a newer format
    const j = JSON.parse(readFileSync(join(dir, 'world.json'), 'utf8'));
    writeFileSync(join(dir, 'world.json'), JSON.stringify({ ...j, version: WORLD_VERSION + 1 }));
    assert.throws(() => readWorld(dir), /^LodiIOError: world\.json: version: expected 1\.\.2, got 3/);
  });
});

test('writeWorld refuses halo channels without mass bins and a wrong grid length', () => {
  withDir((dir) => {
    assert.throws(() => writeWorld(dir, { ...tinyWorld(), massBins: undefined }), /halos\.npy: massBins: expected mass-bin edges/);
    assert.throws(() => writeWorld(dir, { ...tinyWorld(), tb: new Float32Array(3) }), /tb\.npy: tb: expected \[4,4,4\] = 64 values, got 3/);
  });
});

test('a directory without world.json (older lodi prepare) is read from its sidecars', () => {
  withDir((dir) => {
    const w = tinyWorld();
    const prov = { command: 'lodi prepare', smoothingR: 0.2, mas: 'CIC' };
    saveGrid(join(dir, 'dm.npy'), { data: w.dm!, shape: [4, 4, 4], meta: { boxSize: 10, redshift: 1, quantity: 'dm_density', unit: WORLD_MEMBERS.dm.unit, provenance: prov } });
    saveGrid(join(dir, 'halos.npy'), {
      data: w.halos!,
      shape: [2, 4, 4, 4],
      meta: { boxSize: 10, redshift: 1, quantity: 'halo_mass_density', unit: WORLD_MEMBERS.halos.unit, channels: ['a', 'b'], massBinsMsunH: [7e9, 7e10, null], provenance: prov } as never,
    });
    const r = readWorld(dir);
    assert.equal(r.grid, 4);
    assert.equal(r.smoothingR, 0.2);
    assert.deepEqual(r.massBins, { edges: [7e9, 7e10, Infinity], unit: 'Msun/h' });
    assert.deepEqual(r.channels, ['a', 'b']);
    assert.equal(r.provenance.generator, 'unknown');
  });
});

test('a world of the first lodi simulate (bins in the halo sidecar\'s provenance.prepare) keeps its mass bins', () => {
  withDir((dir) => {
    const w = tinyWorld();
    const prov = { command: 'lodi simulate', generator: 'lodi simulate', smoothingR: 0.2, prepare: { massBins: { edges: [3e10, 1e11, null], unit: 'Msun' }, massBinsMsunH: [2e10, 6.7e10, null] } };
    saveGrid(join(dir, 'tb.npy'), { data: w.tb!, shape: [4, 4, 4], meta: { boxSize: 10, redshift: 0, quantity: WORLD_MEMBERS.tb.quantity, unit: WORLD_MEMBERS.tb.unit, provenance: prov } });
    saveGrid(join(dir, 'halos.npy'), { data: w.halos!, shape: [2, 4, 4, 4], meta: { boxSize: 10, redshift: 0, quantity: 'halo_mass_density', unit: WORLD_MEMBERS.halos.unit, channels: ['a', 'b'], provenance: prov } as never });
    // tb first, as LODI reads a world
    const r = readWorld(dir, { members: ['tb', 'halos'] });
    assert.deepEqual(r.massBins, { edges: [3e10, 1e11, Infinity], unit: 'Msun' });
  });
});
