import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LodiDataset, Rng, splitBlocks } from '../../src/lodi/dataset.js';
import { lodiPreset } from '../../src/lodi/config.js';
import { tbForward, tbInverse, type LodiNormalisation } from '../../src/lodi/transform.js';
import { syntheticPair } from './helpers.js';

const norm: LodiNormalisation = { tbFloor: 1e-4, tbMean: -3, tbStd: 1.2, haloFloor: 1e8, haloMean: [8, 8, 8, 8], haloStd: [1, 1, 1, 1], tbUnit: 'mK', haloUnit: 'x' };

test('the T_b transform round-trips, exact zeros included', () => {
  const tb = Float32Array.from([0, 0, 1e-7, 1e-4, 0.03, 1, 161.2]);
  const back = tbInverse(tbForward(tb, norm), norm);
  assert.equal(back[0], 0);
  assert.equal(back[1], 0);
  for (let i = 2; i < tb.length; i++) assert.ok(Math.abs(back[i]! - tb[i]!) <= 2e-6 * tb[i]! + 1e-9, `${tb[i]} → ${back[i]}`);
  // values generated below the floor map to zero, never to negative T_b
  assert.equal(tbInverse(Float32Array.from([-10]), norm)[0], 0);
  // an untrained model's output beyond float32 T_b, or NaN, is an error, not Infinity or a silent 0
  // (y_max = (log10(3.4e38) + 3) / 1.2 = 34.6 here)
  assert.ok(Number.isFinite(tbInverse(Float32Array.from([34]), norm)[0]));
  assert.throws(() => tbInverse(Float32Array.from([1, 35]), norm), /^RangeError: LODI output y = 35 at voxel 1 has no T_b \(expected a finite y below 34\.6;.*untrained or has diverged, or the sampler ran too few steps \(--steps\)$/);
  assert.throws(() => tbInverse(Float32Array.from([NaN]), norm), /y = NaN at voxel 0/);
});

test('the block split is seeded, disjoint and 75/25', () => {
  const a = splitBlocks([64, 64], 16, 0.75, 3);
  const b = splitBlocks([64, 64], 16, 0.75, 3);
  assert.deepEqual(a, b);
  assert.equal(a.train.length, 96);
  assert.equal(a.val.length, 32);
  const key = (x: { world: number; b: number[] }) => `${x.world}:${x.b}`;
  assert.equal(new Set([...a.train.map(key), ...a.val.map(key)]).size, 128);
  assert.notDeepEqual(splitBlocks([64, 64], 16, 0.75, 4).train, a.train);
});

test('training crops never touch a validation voxel; half of them centre on low-mass halos', () => {
  const cfg = lodiPreset('tiny').data;
  const p = syntheticPair(64, 2);
  const split = splitBlocks([64], cfg.crop, 0.75, 1);
  // tag every voxel with its block's role: T_b = 1 in training blocks, 0 in validation blocks
  const tagged = { ...p, tb: new Float32Array(p.tb.length) };
  const k = 64 / cfg.crop;
  for (const b of split.train)
    for (let x = 0; x < cfg.crop; x++)
      for (let y = 0; y < cfg.crop; y++)
        for (let z = 0; z < cfg.crop; z++) tagged.tb[((b.b[0] * cfg.crop + x) * 64 + b.b[1] * cfg.crop + y) * 64 + b.b[2] * cfg.crop + z] = 1;
  assert.equal(k, 4);
  const n2: LodiNormalisation = { ...norm, tbFloor: 1, tbMean: 0, tbStd: 1 };
  const ds = new LodiDataset([tagged], cfg, split, n2);
  const rng = new Rng(5);
  for (let i = 0; i < 20; i++) {
    const b = ds.trainBatch(rng, 4);
    // y = log10(T_b + 1): 0 in validation voxels, log10(2) in training voxels
    for (const v of b.x) assert.ok(Math.abs(v - Math.log10(2)) < 1e-6, 'a training crop reached a validation block');
  }
  const val = ds.valBatches(4);
  assert.equal(val.reduce((a, b) => a + b.size, 0), split.val.length);
  for (const b of val) for (const v of b.x) assert.ok(Math.abs(v) < 1e-6);
});
