import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, tidy } from '@lodi/torch';
import { HalogenDataset, splitSubVolumes, subVolumes } from '../../src/halogen/dataset.js';
import { extractSubvolume } from '../../src/field/ops.js';
import { channelThresholds } from '../../src/halogen/loss.js';
import { preset } from '../../src/halogen/config.js';
import { syntheticWorld } from './helpers.js';

test('64 sub-volumes per 256^3 box, floor(N/crop)^3 otherwise', () => {
  assert.equal(subVolumes([256], 64).length, 64);
  assert.equal(subVolumes([128, 200], 64).length, 8 + 27);
  assert.throws(() => subVolumes([32], 64), /smaller/);
});

test('split is seeded, disjoint, 75/25', () => {
  const a = splitSubVolumes(64, 0.75, 9);
  const b = splitSubVolumes(64, 0.75, 9);
  assert.deepEqual(a, b);
  assert.equal(a.train.length, 48);
  assert.equal(a.val.length, 16);
  assert.equal(new Set([...a.train, ...a.val]).size, 64);
  assert.notDeepEqual(splitSubVolumes(64, 0.75, 10).train, a.train);
});

test('periodic crop wraps around the box', () => {
  const n = 4;
  const src = Float32Array.from({ length: 2 * n ** 3 }, (_, i) => i);
  const c = extractSubvolume(src, [2, n, n, n], [3, 0, 3], 2);
  // channel 0: x in {3,0}, y in {0,1}, z in {3,0}
  const at = (ch: number, x: number, y: number, z: number) => ch * 64 + (x * n + y) * n + z;
  assert.deepEqual(Array.from(c.slice(0, 8)), [at(0, 3, 0, 3), at(0, 3, 0, 0), at(0, 3, 1, 3), at(0, 3, 1, 0), at(0, 0, 0, 3), at(0, 0, 0, 0), at(0, 0, 1, 3), at(0, 0, 1, 0)]);
  assert.equal(c[8], at(1, 3, 0, 3));
});

test('epoch samples are reproducible from the generator state; batches are standardised', () => {
  const cfg = preset('tiny');
  const ds = new HalogenDataset([syntheticWorld(32, 1)], cfg.data, splitSubVolumes(8, 0.75, 1));
  const norm = ds.computeNormalisation(95, channelThresholds);
  assert.equal(norm.thresholds.length, 4);
  const g1 = new Generator(5);
  const s1 = ds.epochSamples(g1);
  assert.equal(s1.length, 6);
  const state = g1.getState();
  const next1 = ds.epochSamples(g1);
  const g2 = new Generator(123);
  g2.setState(state);
  assert.deepEqual(ds.epochSamples(g2), next1);
  tidy(() => {
    const { x, y } = ds.batch(ds.valSamples());
    assert.deepEqual(x.shape, [2, 1, 16, 16, 16]);
    assert.deepEqual(y.shape, [2, 4, 16, 16, 16]);
    const { x: xt } = ds.batch(ds.split.train.map((sv) => ({ sv, sym: 0, shift: [0, 0, 0] as [number, number, number] })));
    assert.ok(Math.abs(xt.mean().item()) < 1e-3);
    assert.ok(Math.abs(xt.std(undefined, { correction: 0 }).item() - 1) < 1e-3);
  });
});
