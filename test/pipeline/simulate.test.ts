import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFofCatalogue, loadGrid, readWorld } from '../../src/io/index.js';
import { simulateWorld } from '../../src/pipeline/simulate.js';

test('a tiny world (16^3 particles) writes particles, FoF catalogue, grids, plots and report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-world-'));
  const out = join(dir, 'w');
  try {
    const w = await simulateWorld({ boxSize: 25, particles: 16, grid: 16, seed: 3, steps: 5, out, quiet: true, hi: { particleMass: 1e9 } });
    for (const f of ['particles.hdf5', 'fof.hdf5', 'dm.npy', 'dm.json', 'halos.npy', 'halos.json', 'tb.npy', 'tb.json', 'hi.npy', 'report.md', 'world.json', 'simulate.log', 'plots/pk.png', 'plots/tb_slice.png']) {
      assert.ok(existsSync(join(out, f)), f);
    }
    const halos = loadGrid(join(out, 'halos.npy'));
    assert.deepEqual(halos.shape, [4, 16, 16, 16]);
    const tb = loadGrid(join(out, 'tb.npy'));
    assert.equal(tb.meta.unit, 'mK');
    const world = readWorld(out);
    assert.equal(world.provenance.seed, 3);
    assert.equal(world.provenance.generator, 'lodi simulate');
    assert.deepEqual(world.massBins, { edges: [3e10, 1e11, 5e11, 1e12, Infinity], unit: 'Msun' });
    assert.equal(world.smoothingR, 0.2);
    assert.deepEqual(world.tb, w.grids.tb);
    const cat = await readFofCatalogue(join(out, 'fof.hdf5'));
    assert.equal(cat.groups.len?.length, w.halos.len.length);
    await assert.rejects(() => simulateWorld({ boxSize: 25, particles: 16, seed: 3, steps: 2, out, quiet: true }), /exists/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('same seed gives the same world', async () => {
  const a = await simulateWorld({ boxSize: 25, particles: 16, seed: 9, steps: 4, quiet: true });
  const b = await simulateWorld({ boxSize: 25, particles: 16, seed: 9, steps: 4, quiet: true });
  assert.deepEqual(a.particles.positions, b.particles.positions);
  assert.deepEqual(a.grids.tb, b.grids.tb);
});
