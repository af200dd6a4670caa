import { test } from 'node:test';
import assert from 'node:assert/strict';
import { massWeightedXHI, powerSpectrum21, volumeMean } from '../../../src/astro/reion/history.js';

test('Δ^2_21 of a plane-wave δT_b: all power in one mode, Δ^2 = k^3 L^3 A^2 / (8π^2 N_modes)', () => {
  const n = 16;
  const L = 50;
  const A = 12; // mK
  const m = 3;
  const tb = new Float32Array(n ** 3);
  for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) for (let z = 0; z < n; z++) tb[(x * n + y) * n + z] = 20 + A * Math.cos((2 * Math.PI * m * x) / n);
  const ps = powerSpectrum21(tb, n, L);
  // |δ_k| = A N^3 / 2 in the one independent mode (m, 0, 0); P = L^3 |δ_k|^2 / N^6 / N_modes(bin)
  const bin = ps.k.findIndex((k) => Math.abs(k / ((2 * Math.PI) / L) - m) < 0.5);
  assert.ok(bin >= 0);
  const p = (L ** 3 * A * A) / 4 / ps.nmodes[bin]!;
  assert.ok(Math.abs(ps.pk[bin]! / p - 1) < 1e-5, `${ps.pk[bin]} vs ${p}`);
  assert.ok(Math.abs(ps.delta2[bin]! / ((ps.k[bin]! ** 3 * p) / (2 * Math.PI ** 2)) - 1) < 1e-5);
  for (let i = 0; i < ps.k.length; i++) if (i !== bin) assert.ok(ps.delta2[i]! < 1e-6 * ps.delta2[bin]!, `no power in bin ${i}`);
});

test('global means: volume- and mass-weighted neutral fractions', () => {
  const x = [1, 0, 0.5, 1];
  const d = [-0.5, 1, 0, 0.5];
  assert.equal(volumeMean(x), 0.625);
  // Σ x (1+δ) = 0.5 + 0 + 0.5 + 1.5 over Σ (1+δ) = 5
  assert.ok(Math.abs(massWeightedXHI(x, d) - 2.5 / 5) < 1e-15);
  assert.throws(() => massWeightedXHI([1], [0, 0]), /xHI has 1 values, delta 2/);
});
