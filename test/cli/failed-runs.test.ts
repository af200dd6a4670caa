import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeWorld } from '../../src/io/index.js';
import { preset } from '../../src/halogen/config.js';
import { trainHalogenRun } from '../../src/pipeline/train-halogen.js';
import { simulateWorld } from '../../src/pipeline/simulate.js';
import { OutputGuard } from '../../src/pipeline/outputs.js';
import { tempDir } from '../io/helpers.js';

/** A tiny valid world directory (dm + halos) of N^3 cells. */
function tinyWorld(dir: string, n: number, withHalos = true): void {
  const n3 = n ** 3;
  writeWorld(dir, {
    grid: n,
    boxSize: 10,
    redshift: 0,
    cosmology: { Omega_m: 0.3, h: 0.7 },
    massBins: withHalos ? { edges: [1e10, 1e11, 1e12, 1e13, Infinity], unit: 'Msun/h' } : undefined,
    channels: withHalos ? ['a', 'b', 'c', 'd'] : undefined,
    provenance: { generator: 'test', seed: 1 },
    dm: new Float32Array(n3).fill(1),
    ...(withHalos ? { halos: new Float32Array(4 * n3) } : {}),
  });
}

test('OutputGuard removes only what appeared: new files, new folders, folders made on the way', () => {
  const { dir, cleanup } = tempDir('lodi-guard-');
  try {
    const existing = join(dir, 'existing');
    mkdirSync(join(existing, 'plots'), { recursive: true });
    writeFileSync(join(existing, 'plots', 'old.png'), 'x');
    const deep = join(dir, 'a', 'b', 'c');
    const g = new OutputGuard([existing, deep]);
    writeFileSync(join(existing, 'new.npy'), 'x');
    writeFileSync(join(existing, 'plots', 'new.png'), 'x');
    mkdirSync(join(existing, 'sub', 'inner'), { recursive: true });
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'f'), 'x');
    const removed = g.rollback();
    assert.equal(removed.length, 6); // new.npy, plots/new.png, sub/ (whole), a/b/c (whole), then the empty a/b and a/
    assert.deepEqual(readdirSync(existing), ['plots']);
    assert.deepEqual(readdirSync(join(existing, 'plots')), ['old.png']);
    assert.equal(existsSync(join(dir, 'a')), false);
  } finally {
    cleanup();
  }
});

test('lodi train halogen: bad worlds are found before the run folder exists; a failed start leaves no empty run folder', async () => {
  const { dir, cleanup } = tempDir('lodi-train-fail-');
  try {
    const noHalos = join(dir, 'w0');
    tinyWorld(noHalos, 8, false);
    const out = join(dir, 'run');
    const cfg = preset('cpu');
    await assert.rejects(trainHalogenRun({ worlds: [noHalos], config: cfg, out, seed: 0, quiet: true, plot: false }), /halos\.npy: halos: missing: expected halo_mass_density/);
    assert.equal(existsSync(out), false);
    // a world too small for one crop fails inside the trainer, after it made the run folder
    const small = join(dir, 'w1');
    tinyWorld(small, 8);
    await assert.rejects(trainHalogenRun({ worlds: [small], config: cfg, out, seed: 0, quiet: true, plot: false }), /sub-volume/);
    assert.equal(existsSync(out), false);
  } finally {
    cleanup();
  }
});

test('lodi simulate: every output is checked first; a run failing after writing removes what it wrote, not what was there', async () => {
  const { dir, cleanup } = tempDir('lodi-sim-fail-');
  try {
    const out = join(dir, 'w');
    mkdirSync(out);
    writeFileSync(join(out, 'plots'), 'a file where the plots folder would go');
    const opts = { boxSize: 10, particles: 8, grid: 8, seed: 1, steps: 1, out, quiet: true };
    await assert.rejects(simulateWorld(opts), /plots/);
    assert.deepEqual(readdirSync(out), ['plots']);
    await simulateWorld({ ...opts, noPlots: true });
    assert.ok(existsSync(join(out, 'world.json')));
    mkdirSync(join(dir, 'x'));
    writeFileSync(join(dir, 'x', 'fof.hdf5'), 'stale');
    await assert.rejects(simulateWorld({ ...opts, out: join(dir, 'x') }), /x\/fof\.hdf5 already exists; pass --force/);
    assert.deepEqual(readdirSync(join(dir, 'x')), ['fof.hdf5']);
  } finally {
    cleanup();
  }
});
