import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveGrid, loadGrid, sidecarPath, type Grid } from '../../src/io/grid.js';
import { saveGridsHdf5, loadGridsHdf5 } from '../../src/io/grid-hdf5.js';
import { writeNpy } from '../../src/io/npy.js';
import { LodiIOError } from '../../src/io/errors.js';
import { tempDir } from './helpers.js';

function cube(n: number, c = 0): Grid {
  const shape = c > 0 ? [c, n, n, n] : [n, n, n];
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i));
  return {
    data,
    shape,
    meta: {
      boxSize: 25,
      redshift: 1.5,
      quantity: 'dm_density',
      unit: '1',
      ...(c > 0 ? { channels: Array.from({ length: c }, (_, i) => `m${i}`) } : {}),
      provenance: { command: 'lodi test', seed: 42, version: '0.1.0', inputs: ['a.hdf5'] },
    },
  };
}

test('saveGrid/loadGrid round-trip with sidecar, single and multi-channel', () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'dm.npy');
    const g = cube(8);
    saveGrid(p, g);
    assert.ok(existsSync(join(dir, 'dm.json')));
    assert.equal(sidecarPath(p), join(dir, 'dm.json'));
    const back = loadGrid(p, { expectN: 8, boxSize: 25 });
    assert.deepEqual(back.shape, [8, 8, 8]);
    assert.deepEqual(Array.from(back.data), Array.from(g.data));
    assert.deepEqual(back.meta, g.meta);
    assert.throws(() => saveGrid(p, g), /already exists/);
    saveGrid(p, g, { force: true });
    const p4 = join(dir, 'halo.npy');
    saveGrid(p4, cube(4, 3));
    const b4 = loadGrid(p4, { expectChannels: 3 });
    assert.deepEqual(b4.shape, [3, 4, 4, 4]);
    assert.deepEqual(b4.meta.channels, ['m0', 'm1', 'm2']);
  } finally {
    cleanup();
  }
});

test('loadGrid without sidecar needs the box size', () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'raw.npy');
    writeNpy(p, new Float64Array(27).fill(1), [3, 3, 3]);
    assert.throws(() => loadGrid(p), (e: unknown) => e instanceof LodiIOError && /raw\.npy: boxSize: no sidecar raw\.json, expected one giving the box size/.test(e.message));
    const g = loadGrid(p, { boxSize: 10 });
    assert.equal(g.meta.boxSize, 10);
    assert.ok(g.data instanceof Float32Array);
  } finally {
    cleanup();
  }
});

test('loadGrid rejects NaN/Inf naming the file and first bad index', () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'bad.npy');
    const g = cube(4);
    g.data[1 * 16 + 2 * 4 + 3] = NaN;
    g.data[40] = Infinity;
    saveGrid(p, g);
    assert.throws(() => loadGrid(p), /bad\.npy: data: non-finite value NaN at index \[1,2,3\]/);
    assert.equal(loadGrid(p, { allowNonFinite: true }).shape.length, 3);
  } finally {
    cleanup();
  }
});

test('box/grid mismatches and non-cubic shapes are errors', () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'g.npy');
    saveGrid(p, cube(4));
    assert.throws(() => loadGrid(p, { boxSize: 50 }), /g\.npy: boxSize: box size mismatch: sidecar g\.json says 25 Mpc\/h, expected 50/);
    assert.throws(() => loadGrid(p, { expectN: 8 }), /g\.npy: shape: box\/grid mismatch: expected N=8, got \[4,4,4\]/);
    assert.throws(() => loadGrid(p, { expectChannels: 4 }), /expected 4 channels/);
    // sidecar shape disagrees with the array
    const side = JSON.parse(readFileSync(join(dir, 'g.json'), 'utf8'));
    side.shape = [8, 8, 8];
    writeFileSync(join(dir, 'g.json'), JSON.stringify(side));
    assert.throws(() => loadGrid(p), /shape: shape mismatch: sidecar \w+\.json says \[8,8,8\]/);
    const q = join(dir, 'flat.npy');
    writeNpy(q, new Float32Array(4 * 4 * 5), [4, 4, 5]);
    assert.throws(() => loadGrid(q, { boxSize: 1 }), /flat\.npy: shape: expected a cubic grid .* got \[4,4,5\]/);
    const r = join(dir, 'int.npy');
    writeNpy(r, new Float32Array(8), [2, 2, 2]);
    const buf = readFileSync(r);
    writeFileSync(r, Buffer.from(buf.toString('latin1').replace("'<f4'", "'<i4'"), 'latin1'));
    assert.throws(() => loadGrid(r, { boxSize: 1 }), /int\.npy: dtype: expected a float32\/float64 array, got int32 \[2,2,2\]/);
    rmSync(join(dir, 'g.json'));
    assert.throws(() => loadGrid(p), /no sidecar/);
  } finally {
    cleanup();
  }
});

test('saveGridsHdf5/loadGridsHdf5 round-trip several named grids with metadata', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'fields.hdf5');
    const grids = { dm: cube(4), halos: cube(4, 2) };
    await saveGridsHdf5(p, grids);
    await assert.rejects(saveGridsHdf5(p, grids), /already exists/);
    const back = await loadGridsHdf5(p);
    assert.deepEqual(Object.keys(back).sort(), ['dm', 'halos']);
    assert.deepEqual(back.halos!.shape, [2, 4, 4, 4]);
    assert.deepEqual(Array.from(back.dm!.data), Array.from(grids.dm.data));
    assert.deepEqual(back.dm!.meta, grids.dm.meta);
    assert.deepEqual(back.halos!.meta.channels, ['m0', 'm1']);
    const bad = cube(4);
    bad.data[5] = NaN;
    await saveGridsHdf5(p, { bad }, { force: true });
    await assert.rejects(loadGridsHdf5(p), /fields\.hdf5: bad: .*non-finite value NaN at index \[0,1,1\]/);
  } finally {
    cleanup();
  }
});
