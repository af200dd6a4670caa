import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy } from '@lodi/torch';
import { gaussianSmooth } from '../../src/field/fourier.js';
import { overdensity, normalizeByMean, downsample, extractSubvolume, mean, meanForDivision, MEAN_ZERO_TOLERANCE } from '../../src/field/ops.js';
import { applySymmetry, applySymmetryTensor, composeSymmetries, NUM_SYMMETRIES } from '../../src/field/symmetry.js';
import { powerSpectrum } from '../../src/field/power.js';
import { randomNormal, sum64 } from './helpers.js';

const idx = (n: number, x: number, y: number, z: number): number => (x * n + y) * n + z;

test('Gaussian smoothing of a Gaussian blob widens it analytically: σ² → σ² + R², sum conserved', () => {
  const n = 64, L = 64, s = 3, R = 2; // 1 Mpc/h cells
  const c = 32;
  const f = new Float32Array(n ** 3);
  for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) for (let z = 0; z < n; z++) {
    const r2 = (x - c) ** 2 + (y - c) ** 2 + (z - c) ** 2;
    f[idx(n, x, y, z)] = Math.exp(-r2 / (2 * s * s));
  }
  const g = gaussianSmooth(f, [n, n, n], L, R);
  const s2 = s * s + R * R;
  const amp = (s / Math.sqrt(s2)) ** 3;
  let maxErr = 0;
  for (let x = 16; x < 48; x++) for (let y = 16; y < 48; y += 3) for (let z = 16; z < 48; z += 5) {
    const r2 = (x - c) ** 2 + (y - c) ** 2 + (z - c) ** 2;
    maxErr = Math.max(maxErr, Math.abs(g[idx(n, x, y, z)]! - amp * Math.exp(-r2 / (2 * s2))));
  }
  assert.ok(maxErr < 1e-5 * amp * 10, `max deviation ${maxErr} (peak ${amp})`);
  assert.ok(Math.abs(sum64(g) / sum64(f) - 1) < 1e-5);
  // multi-channel: each channel smoothed alike; R = 0 is a copy
  const two = new Float32Array(2 * n ** 3);
  two.set(f, n ** 3);
  const g2 = gaussianSmooth(two, [2, n, n, n], L, R);
  assert.ok(Math.abs(g2[n ** 3 + idx(n, c, c, c)]! - g[idx(n, c, c, c)]!) < 1e-6);
  assert.ok(Math.abs(g2[idx(n, c, c, c)]!) < 1e-6);
  assert.deepEqual(gaussianSmooth(f, [n, n, n], L, 0), f);
  assert.throws(() => gaussianSmooth(f, [n, n, n], L, -1), /radius/);
});

test('overdensity, normalisation, downsampling', () => {
  const a = Float32Array.from([1, 3, 4, 8, 1, 3, 4, 8]);
  assert.deepEqual(Array.from(overdensity(a)), [-0.75, -0.25, 0, 1, -0.75, -0.25, 0, 1]);
  assert.ok(Math.abs(mean(normalizeByMean(a)) - 1) < 1e-7);
  assert.throws(() => overdensity(new Float32Array(8)), /mean density/);
  const n = 8;
  const f = randomNormal(2 * n ** 3, 4);
  const d = downsample(f, [2, n, n, n], 2);
  assert.deepEqual(d.shape, [2, 4, 4, 4]);
  let blk = 0;
  for (let x = 2; x < 4; x++) for (let y = 4; y < 6; y++) for (let z = 0; z < 2; z++) blk += f[n ** 3 + idx(n, x, y, z)]!;
  assert.ok(Math.abs(d.data[64 + (1 * 4 + 2) * 4 + 0]! - blk / 8) < 1e-6);
  assert.ok(Math.abs(mean(d.data) - mean(f)) < 1e-6);
  assert.throws(() => downsample(f, [2, n, n, n], 3), /dividing/);
});

test('periodic sub-volume extraction wraps around, single and multi-channel', () => {
  const n = 6;
  const f = new Float32Array(2 * n ** 3);
  for (let i = 0; i < f.length; i++) f[i] = i;
  const s = extractSubvolume(f.subarray(0, n ** 3), n, [5, 0, 4], 3);
  assert.equal(s[idx(3, 0, 0, 0)], idx(n, 5, 0, 4));
  assert.equal(s[idx(3, 1, 2, 2)], idx(n, 0, 2, 0));
  const m = extractSubvolume(f, [2, n, n, n], [-1, 4, 3], 4);
  assert.equal(m.length, 2 * 64);
  assert.equal(m[64 + idx(4, 0, 3, 3)], n ** 3 + idx(n, 5, 1, 0));
  assert.deepEqual(extractSubvolume(f, [2, n, n, n], [0, 0, 0], n), f);
  // a window larger than the box wraps more than once (HALOgen's sliding window on boxes smaller than a crop)
  const big = extractSubvolume(f, [2, n, n, n], [0, 0, 0], 7);
  assert.equal(big[idx(7, 6, 6, 6)], idx(n, 0, 0, 0));
  assert.equal(big[7 ** 3 + idx(7, 6, 1, 2)], n ** 3 + idx(n, 0, 1, 2));
  assert.throws(() => extractSubvolume(f, [2, n, n, n], [0, 0, 0], 0), /size/);
});

test('the 48 cube symmetries form a group (identity, closure, inverses, distinct) and preserve P(k)', () => {
  const n = 5;
  const f = randomNormal(n ** 3, 8);
  const out = Array.from({ length: NUM_SYMMETRIES }, (_, i) => applySymmetry(f, [n, n, n], i));
  assert.deepEqual(out[0], f);
  const key = (a: Float32Array) => Buffer.from(a.buffer).toString('base64');
  const keys = new Map(out.map((a, i) => [key(a), i]));
  assert.equal(keys.size, 48, 'all 48 images distinct');
  for (let a = 0; a < 48; a++) {
    let hasInverse = false;
    for (let b = 0; b < 48; b++) {
      const ab = applySymmetry(out[a]!, [n, n, n], b);
      const k = keys.get(key(ab));
      assert.ok(k !== undefined, `closure: ${a} then ${b}`);
      assert.equal(k, composeSymmetries(a, b));
      if (k === 0) hasInverse = true;
    }
    assert.ok(hasInverse, `inverse of ${a}`);
  }
  const m = 16, L = 25;
  const g = randomNormal(m ** 3, 9);
  const p0 = powerSpectrum(g, m, { boxSize: L, mas: 'CIC' });
  for (let s = 1; s < 48; s++) {
    const ps = powerSpectrum(applySymmetry(g, [m, m, m], s), m, { boxSize: L, mas: 'CIC' });
    for (let i = 0; i < p0.pk.length; i++) assert.ok(Math.abs(ps.pk[i]! / p0.pk[i]! - 1) < 1e-5, `symmetry ${s} bin ${i}`);
  }
});

test('tensor symmetries ([B,C,N,N,N]) match the array version', () => {
  const n = 4;
  const f = randomNormal(2 * 3 * n ** 3, 10);
  for (const s of [0, 5, 13, 27, 47]) {
    const got = tidy(() => {
      const t = tensor(f, [2, 3, n, n, n]);
      return applySymmetryTensor(t, s).toFloat32Array();
    });
    for (let b = 0; b < 2; b++) {
      const one = f.subarray(b * 3 * n ** 3, (b + 1) * 3 * n ** 3);
      const exp = applySymmetry(one, [3, n, n, n], s);
      assert.deepEqual(got.subarray(b * 3 * n ** 3, (b + 1) * 3 * n ** 3), exp);
    }
  }
  assert.throws(() => applySymmetry(f.subarray(0, n ** 3), [n, n, n], 48), /0\.\.47/);
});

test('dividing by a mean: refused for a grid that already is an overdensity, all zeros or NaN; a sparse one-signed field passes', () => {
  const n = 32;
  const rho = randomNormal(n ** 3, 5).map((v) => Math.exp(0.5 * v)); // a log-normal density
  const m = mean(rho);
  const delta = overdensity(rho); // mean ~1e-8 of its rms (float32 rounding): an overdensity
  assert.ok(Math.abs(mean(delta)) < 1e-6);
  assert.throws(() => overdensity(delta, undefined, 'delta.npy'), /^Error: delta\.npy: mean density .* is ~0 relative to its rms .*looks like an overdensity .* already/);
  assert.throws(() => normalizeByMean(delta), /looks like an overdensity/);
  // just above the tolerance the mean is accepted: δ + 2e-3 rms
  const rms = Math.sqrt(mean(delta.map((v) => v * v)));
  const shifted = delta.map((v) => v + 2 * MEAN_ZERO_TOLERANCE * rms);
  assert.ok(Math.abs(meanForDivision(shifted, 'x') / (2 * MEAN_ZERO_TOLERANCE * rms) - 1) < 1e-3);
  assert.throws(() => meanForDivision(delta.map((v) => v + 0.5 * MEAN_ZERO_TOLERANCE * rms), 'x'), /~0 relative/);
  assert.ok(Math.abs(meanForDivision(rho, 'rho') / m - 1) < 1e-12);
  // one occupied cell in 2^21: |mean| = 7e-4 rms, but the field has one sign, so its mean is real
  const sparse = new Float32Array(128 ** 3);
  sparse[12345] = 2 ** 40; // 1.1e12, exact in float32
  assert.ok(Math.abs(meanForDivision(sparse, 'halo channel') / (2 ** 40 / 128 ** 3) - 1) < 1e-12);
  assert.equal(overdensity(sparse)[12345], 128 ** 3 - 1);
  assert.throws(() => meanForDivision(new Float32Array(8), 'ch3', { advice: 'choose another channel' }), /^Error: ch3: every value is 0, so the mean is ~0 .*; choose another channel$/);
  assert.throws(() => meanForDivision(Float32Array.from([1, NaN]), 'nan.npy'), /nan\.npy: the mean is NaN, expected a finite number/);
  assert.throws(() => overdensity(Float32Array.from([1, 2]), 0), /mean density is 0/);
});
