import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, tidy } from '@lodi/torch';
import { slidingWindow, toHaloDensity, windowOrigins } from '../../src/halogen/infer.js';

/** Identity-like predictor: copies the input window into every output channel, scaled per channel. */
const identity = (x: ReturnType<typeof F.zeros>) => F.cat([x, x.mul(2), x.mul(3), x.mul(4)], 1);

function check(n: number, crop: number, stride: number, field: (i: number, j: number, k: number) => number): void {
  const input = new Float32Array(n ** 3);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) input[(i * n + j) * n + k] = field(i, j, k);
  const out = tidy(() => slidingWindow(input, n, identity, { crop, stride, batch: 3, channels: 4 }));
  for (let c = 0; c < 4; c++)
    for (let t = 0; t < n ** 3; t++) {
      const want = Math.fround(input[t]! * (c + 1));
      if (out[c * n ** 3 + t] !== want) assert.fail(`n=${n} stride=${stride}: channel ${c} voxel ${t}: ${out[c * n ** 3 + t]} != ${want}`);
    }
}

test('window origins cover the box with any stride', () => {
  assert.deepEqual(windowOrigins(64, 16), [0, 16, 32, 48]);
  assert.deepEqual(windowOrigins(20, 6), [0, 6, 12, 18]);
});

test('stitching reproduces a constant field exactly', () => check(24, 16, 8, () => 0.1));

test('stitching reproduces a linear field exactly (box not a multiple of the stride)', () => {
  check(20, 16, 6, (i, j, k) => 0.3 + 0.01 * i - 0.02 * j + 0.037 * k);
  check(32, 16, 16, (i, j, k) => 1.5 * i + j + 0.25 * k);
});

test('box smaller than the window still works (periodic wrap)', () => check(12, 16, 4, (i, j, k) => i + 10 * j + 100 * k));

test('averaging: a position-dependent predictor gives the mean over covering windows', () => {
  // predictor adds the window's batch-position-independent constant 1 in the first half of each axis-0 window
  const n = 16;
  const input = new Float32Array(n ** 3);
  const out = tidy(() =>
    slidingWindow(
      input,
      n,
      (x) => {
        const c = x.shape[2]!;
        const bump = F.cat([F.ones([x.shape[0]!, 4, c / 2, c, c]), F.zeros([x.shape[0]!, 4, c / 2, c, c])], 2);
        return bump;
      },
      { crop: 8, stride: 4, batch: 2, channels: 4 },
    ),
  );
  // every voxel is covered by 2 windows along axis 0, once in a first half and once in a second half
  for (const v of out) assert.equal(v, 0.5);
});

test('floor: log10 rho below the threshold becomes zero', () => {
  const d = toHaloDensity(Float32Array.from([9.4, 9.5, 11, 8]), 1e8, 9.5);
  assert.equal(d[0], 0);
  assert.equal(d[3], 0);
  assert.ok(Math.abs(d[1]! - (10 ** 9.5 - 1e8)) / d[1]! < 1e-6);
  assert.ok(Math.abs(d[2]! - (1e11 - 1e8)) / d[2]! < 1e-6);
});
