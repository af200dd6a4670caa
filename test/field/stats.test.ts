import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fieldHistogram, haloMassFunction, quantileSorted } from '../../src/field/stats.js';

test('histogram/PDF of log10 values with median and 16–84 percentiles', () => {
  const data = Float32Array.from({ length: 1001 }, (_, i) => 10 ** (i / 100)); // log10 uniform on [0, 10]
  const h = fieldHistogram(Float32Array.from([...data, 0, -1, NaN]), { log10: true, bins: 10 });
  assert.equal(h.used, 1001);
  assert.equal(h.skipped, 3);
  assert.ok(Math.abs(h.median - 5) < 1e-6);
  assert.ok(Math.abs(h.p16 - 1.6) < 1e-6 && Math.abs(h.p84 - 8.4) < 1e-6);
  const integral = h.pdf.reduce((s, p, i) => s + p * (h.edges[i + 1]! - h.edges[i]!), 0);
  assert.ok(Math.abs(integral - 1) < 1e-12);
  assert.equal(quantileSorted([1, 2, 3, 4], 0.5), 2.5);
});

test('halo mass function dn/dlog10M with Poisson errors', () => {
  const masses = [1.5e10, 2e10, 5e10, 1.2e11, 3e11, 8e11, 0];
  const hmf = haloMassFunction(masses, 1000, { edges: [1e10, 1e11, 1e12] });
  assert.deepEqual(Array.from(hmf.counts), [3, 3]);
  assert.ok(Math.abs(hmf.dndlog10m[0]! - 3 / 1000) < 1e-15);
  assert.ok(Math.abs(hmf.error[1]! - Math.sqrt(3) / 1000) < 1e-15);
  assert.ok(Math.abs(hmf.mass[0]! - Math.sqrt(1e21)) < 1);
  const auto = haloMassFunction(masses, 1000, { bins: 3 });
  assert.equal(auto.counts.reduce((a, b) => a + b, 0), 6);
  assert.throws(() => haloMassFunction(masses, 0), /volume/);
});
