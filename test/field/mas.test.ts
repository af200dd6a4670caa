import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paint, paintChunked, readout, type MassAssignment } from '../../src/field/mas.js';
import { randomPositions, sum64, relClose } from './helpers.js';
import { Rng } from '../../src/util/rng.js';

const idx = (n: number, x: number, y: number, z: number): number => (x * n + y) * n + z;

test('CIC: a single particle spreads to the 8 corner nodes with the analytic weights', () => {
  const n = 8, L = 16; // cell 2 Mpc/h
  const g = paint(Float32Array.from([1.3 * 2, 2.6 * 2, 0.25 * 2]), { grid: n, boxSize: L, mas: 'CIC', weights: 2 });
  const wx = [[1, 0.7], [2, 0.3]], wy = [[2, 0.4], [3, 0.6]], wz = [[0, 0.75], [1, 0.25]];
  let total = 0;
  for (const [x, a] of wx) for (const [y, b] of wy) for (const [z, c] of wz) {
    assert.ok(Math.abs(g[idx(n, x!, y!, z!)]! - 2 * a! * b! * c!) < 1e-6, `node ${x},${y},${z}`);
    total += g[idx(n, x!, y!, z!)]!;
  }
  assert.ok(Math.abs(total - 2) < 1e-6);
  assert.ok(Math.abs(sum64(g) - 2) < 1e-6);
});

test('CIC: positions wrap periodically (at L, negative, beyond L)', () => {
  const n = 4, L = 4;
  const g = paint(Float32Array.from([3.75, 0, 0, -0.5, 4.0, 8.0]), { grid: n, boxSize: L, mas: 'CIC' });
  // particle 1 (3.75, 0, 0): 0.25 on node 3, 0.75 on node 0; particle 2 (-0.5 → 3.5, 4 → 0, 8 → 0): 0.5 and 0.5
  assert.ok(Math.abs(g[idx(n, 3, 0, 0)]! - 0.75) < 1e-6);
  assert.ok(Math.abs(g[idx(n, 0, 0, 0)]! - 1.25) < 1e-6);
  assert.ok(Math.abs(sum64(g) - 2) < 1e-6);
});

test('NGP and TSC: single-particle weights', () => {
  const n = 8, L = 8;
  const ngp = paint(Float32Array.from([2.4, 2.6, 7.7]), { grid: n, boxSize: L, mas: 'NGP' });
  assert.equal(ngp[idx(n, 2, 3, 0)], 1);
  const tsc = paint(Float32Array.from([2.3, 4, 4]), { grid: n, boxSize: L, mas: 'TSC' });
  // s = 0.3 from node 2: weights 0.5(0.2)^2, 0.75-0.09, 0.5(0.8)^2 along x; y,z on a node: 0.125, 0.75, 0.125
  const wx = [0.02, 0.66, 0.32];
  for (let a = 0; a < 3; a++) assert.ok(Math.abs(tsc[idx(n, 1 + a, 4, 4)]! - wx[a]! * 0.75 * 0.75) < 1e-6);
  assert.ok(Math.abs(sum64(tsc) - 1) < 1e-6);
});

for (const mas of ['NGP', 'CIC', 'TSC'] as MassAssignment[]) {
  test(`${mas}: mass conservation to 1e-6 with random particles and weights, chunked = whole`, async () => {
    const n = 32, L = 25, np = 200_000;
    const pos = randomPositions(np, L * 1.5, 11); // some beyond L: wrapped
    for (let i = 0; i < 3000; i++) pos[i] = pos[i]! - L; // some negative
    const r = new Rng(3);
    const w = Float32Array.from({ length: np }, () => 1e10 * (0.5 + r.uniform()));
    const g = paint(pos, { grid: n, boxSize: L, mas, weights: w });
    relClose(sum64(g), sum64(w), 1e-6, `${mas} total mass`);
    const chunks = [0, 70_000, 150_000, np].slice(1).map((e, i, a) => {
      const s = i === 0 ? 0 : a[i - 1]!;
      return { positions: pos.subarray(3 * s, 3 * e), weights: w.subarray(s, e) };
    });
    const g2 = await paintChunked(chunks, { grid: n, boxSize: L, mas });
    let maxd = 0;
    for (let i = 0; i < g.length; i++) maxd = Math.max(maxd, Math.abs(g[i]! - g2[i]!) / 1e10);
    assert.ok(maxd < 1e-4, `chunked differs by ${maxd}`);
  });
}

test('readout reproduces a linear field exactly (CIC and TSC) and matches NGP cells', () => {
  const n = 16, L = 32, dx = L / n;
  const g = new Float32Array(n ** 3);
  for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) for (let z = 0; z < n; z++) g[idx(n, x, y, z)] = 3 + 2 * x - 0.5 * y + 0.25 * z;
  const r = new Rng(5);
  const np = 1000;
  const pos = new Float32Array(3 * np);
  for (let i = 0; i < pos.length; i++) pos[i] = (1 + r.uniform() * (n - 3)) * dx; // away from the periodic seam
  for (const mas of ['CIC', 'TSC'] as MassAssignment[]) {
    const v = readout(g, n, L, pos, mas);
    for (let p = 0; p < np; p++) {
      const exp = 3 + (2 * pos[3 * p]! - 0.5 * pos[3 * p + 1]! + 0.25 * pos[3 * p + 2]!) / dx;
      assert.ok(Math.abs(v[p]! - exp) < 1e-4, `${mas} particle ${p}: ${v[p]} vs ${exp}`);
    }
  }
  const v = readout(g, n, L, Float32Array.from([2.1 * dx, 3.9 * dx, 5.4 * dx]), 'NGP');
  assert.equal(v[0], g[idx(n, 2, 4, 5)]);
});

test('paint rejects bad arguments', () => {
  assert.throws(() => paint(new Float32Array(4), { grid: 4, boxSize: 1, mas: 'CIC' }), /\[n\*3\]/);
  assert.throws(() => paint(new Float32Array(3), { grid: 4, boxSize: 0, mas: 'CIC' }), /boxSize/);
  assert.throws(() => paint(new Float32Array(3), { grid: 4, boxSize: 1, mas: 'CIC', out: new Float32Array(8) }), /grid 4\^3/);
  assert.throws(() => paint(new Float32Array(6), { grid: 4, boxSize: 1, mas: 'CIC', weights: new Float32Array(3) }), /weights/);
  assert.throws(() => readout(new Float32Array(10), 4, 1, new Float32Array(3)), /expected 4\^3/);
});
