import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV, comovingDistance } from '../../../src/cosmo/index.js';
import { rectilinearLightcone } from '../../../src/astro/reion/lightcone.js';

const c = CAMELS_CV;

test('a field constant in each coeval box interpolates linearly in comoving distance', () => {
  const n = 8;
  const L = 40; // 5 Mpc/h slices
  const zs = [9, 7, 8, 6.5]; // any order
  const vals = [90, 70, 80, 65];
  const boxes = vals.map((v) => new Float32Array(n ** 3).fill(v));
  const lc = rectilinearLightcone({ boxes, redshifts: zs, cosmology: c, boxSize: L, grid: n });
  const sorted = zs.map((z, i) => ({ z, v: vals[i]!, d: comovingDistance(c, z) })).sort((a, b) => a.d - b.d);
  const d0 = comovingDistance(c, 6.5);
  assert.equal(lc.nSlices, Math.floor((comovingDistance(c, 9) - d0) / 5) + 1);
  for (let j = 0; j < lc.nSlices; j++) {
    const d = d0 + 5 * j;
    assert.ok(Math.abs(lc.distances[j]! - d) < 1e-9);
    let k = 0;
    while (k < sorted.length - 2 && sorted[k + 1]!.d <= d) k++;
    const a = sorted[k]!;
    const b = sorted[k + 1]!;
    const want = a.v + ((b.v - a.v) * (d - a.d)) / (b.d - a.d);
    for (let p = 0; p < n * n; p++) assert.ok(Math.abs(lc.field[p * lc.nSlices + j]! - want) < 1e-4, `slice ${j}: ${lc.field[p * lc.nSlices + j]} vs ${want}`);
    // slice redshifts invert the distance to 1e-4 (257-point table, linear interpolation)
    assert.ok(Math.abs(comovingDistance(c, lc.redshifts[j]!) - d) < 0.05, `z of slice ${j}`);
  }
  assert.equal(lc.field[0], 65, 'the first slice is the lowest-redshift box');
});

test('slice j takes plane (j + offset) mod N along the chosen axis, transverse axes in box order', () => {
  const n = 4;
  const L = 8;
  // value = 100 a + 10 b + l with (a, b) transverse and l along axis 0
  const box = new Float32Array(n ** 3);
  for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) for (let z = 0; z < n; z++) box[(x * n + y) * n + z] = 100 * y + 10 * z + x;
  const lc = rectilinearLightcone({ boxes: [box, box], redshifts: [7, 7.2], cosmology: c, boxSize: L, grid: n, axis: 0, indexOffset: 1 });
  assert.ok(lc.nSlices > n, 'wraps around the box');
  for (let j = 0; j < lc.nSlices; j++)
    for (let a = 0; a < n; a++)
      for (let b = 0; b < n; b++) assert.ok(Math.abs(lc.field[(a * n + b) * lc.nSlices + j]! - (100 * a + 10 * b + ((j + 1) % n))) < 1e-3);
  assert.throws(() => rectilinearLightcone({ boxes: [box], redshifts: [7], cosmology: c, boxSize: L, grid: n }), /at least 2/);
  assert.throws(() => rectilinearLightcone({ boxes: [box, box], redshifts: [7, 8], cosmology: c, boxSize: L, grid: n, zMax: 9 }), /within the boxes' redshifts/);
});
