import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isNyquist, kTensors, masCorrection, masWindow, masWindowHalfGrid, waveIndex, waveNumbers, wrapIndex } from '../../src/field/kgrid.js';
import { gradientAxis, PmForce } from '../../src/nbody/pm.js';

test('one wavenumber convention: Nyquist counted +N/2 on every axis, as in Pylians', () => {
  assert.deepEqual(Array.from({ length: 8 }, (_, i) => waveIndex(i, 8)), [0, 1, 2, 3, 4, -3, -2, -1]);
  assert.deepEqual(Array.from({ length: 5 }, (_, i) => waveIndex(i, 5)), [0, 1, 2, -2, -1]);
  const { full, half } = waveNumbers(8);
  assert.deepEqual(Array.from(full), [0, 1, 2, 3, 4, -3, -2, -1]);
  assert.deepEqual(Array.from(half), [0, 1, 2, 3, 4]);
  assert.ok(isNyquist(4, 8) && !isNyquist(3, 8) && !isNyquist(2, 5));
  assert.equal(wrapIndex(-1, 6), 5);
  assert.equal(wrapIndex(13, 6), 1);
});

test('odd operators vanish at the Nyquist index; even ones do not', () => {
  const n = 8;
  const [kx, , kz] = kTensors(n, 10, false);
  const [gx, , gz] = kTensors(n, 10, true);
  const kF = (2 * Math.PI) / 10;
  assert.ok(Math.abs(kx.toFloat32Array()[4]! - 4 * kF) < 1e-6);
  assert.equal(gx.toFloat32Array()[4], 0);
  assert.equal(gz.toFloat32Array()[4], 0);
  assert.ok(Math.abs(kz.toFloat32Array()[4]! - 4 * kF) < 1e-6);
  for (const t of [kx, kz, gx, gz]) t.dispose();
  for (const kind of ['fd4', 'fourier'] as const) {
    const f = gradientAxis(n, 10, kind, false);
    const h = gradientAxis(n, 10, kind, true);
    assert.equal(f[4], 0, `${kind} full axis at Nyquist`);
    assert.equal(h[4], 0, `${kind} half axis at Nyquist`);
    for (let i = 1; i < n / 2; i++) {
      assert.equal(f[n - i], -f[i]!, `${kind}: odd in k`);
      assert.equal(h[i], f[i], `${kind}: half and full axes agree`);
    }
  }
});

test('PM force of a density with an x-Nyquist mode has no x (or y) component', () => {
  // counts per mesh node 2 + (−1)^i s(k): only k_x ∈ {0, N/2} and odd k_z modes. An odd operator that
  // did not vanish at the Nyquist index would give an x-force of the size of the z-force.
  const nm = 8;
  const L = 8;
  const pos: number[] = [];
  for (let i = 0; i < nm; i++)
    for (let j = 0; j < nm; j++)
      for (let k = 0; k < nm; k++) {
        const count = 2 + (i % 2 === 0 ? 1 : -1) * (k < nm / 2 ? 1 : -1);
        for (let c = 0; c < count; c++) pos.push(i, j, k);
      }
  const x = Float64Array.from(pos);
  const g = new Float64Array(x.length);
  const force = new PmForce(nm, L);
  force.compute(x, g);
  force.dispose();
  let maxXY = 0;
  let maxZ = 0;
  for (let p = 0; p < x.length / 3; p++) {
    maxXY = Math.max(maxXY, Math.abs(g[3 * p]!), Math.abs(g[3 * p + 1]!));
    maxZ = Math.max(maxZ, Math.abs(g[3 * p + 2]!));
  }
  assert.ok(maxZ > 0.01, `z force ${maxZ}`);
  assert.ok(maxXY < 1e-6 * maxZ, `x/y force ${maxXY} vs z force ${maxZ}`);
});

test('one mass-assignment window: the power-spectrum correction is its inverse, the PM grid its product', () => {
  const n = 8;
  const c = masCorrection(n, 'CIC');
  for (let i = 0; i < n; i++) assert.ok(Math.abs(c[i]! * masWindow(waveIndex(i, n), n, 2) - 1) < 1e-14);
  assert.equal(masCorrection(n, 'none')[3], 1);
  assert.throws(() => masCorrection(n, 'XYZ' as 'CIC'), /unknown MAS/);
  const w = masWindowHalfGrid(n, 'TSC', 1);
  const nh = n / 2 + 1;
  const at = (i: number, j: number, k: number): number => w[(i * n + j) * nh + k]!;
  assert.equal(at(0, 0, 0), 1);
  const w1 = (m: number): number => masWindow(m, n, 3);
  assert.ok(Math.abs(at(3, 5, 4) - w1(3) * w1(-3) * w1(4)) < 1e-6);
});
