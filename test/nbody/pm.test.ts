import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV, LinearPower, growthFactor } from '../../src/cosmo/index.js';
import { paint, powerSpectrum } from '../../src/field/index.js';
import { initialConditions } from '../../src/nbody/ic.js';
import { runPM, stepSchedule, totalMomentum, PmForce } from '../../src/nbody/pm.js';

const lp = new LinearPower(CAMELS_CV);

function pk(x: Float64Array, n: number, L: number) {
  const g = paint(x, { grid: n, boxSize: L, mas: 'CIC' });
  const m = x.length / 3 / g.length;
  for (let i = 0; i < g.length; i++) g[i] = g[i]! / m - 1;
  return powerSpectrum(g, n, { boxSize: L, mas: 'CIC' });
}

test('large-scale P(k) grows as D(z)^2 to 1% (64^3 particles, 2 Gpc/h, 10 steps)', () => {
  const n = 64;
  const L = 2000;
  const zInit = 49;
  const s = initialConditions({ n, boxSize: L, seed: 5, zInit, power: lp });
  const p0 = pk(s.positions, n, L);
  const p0tot = totalMomentum(s.momenta);
  runPM(s, { steps: 10, outputs: [0] });
  assert.ok(Math.abs(s.a - 1) < 1e-12);
  const p1 = pk(s.positions, n, L);
  const g2 = (growthFactor(CAMELS_CV, 0) / growthFactor(CAMELS_CV, zInit)) ** 2;
  for (let i = 0; i < 3; i++) {
    const r = p1.pk[i]! / p0.pk[i]! / g2;
    assert.ok(Math.abs(r - 1) < 0.01, `bin ${i} k=${p1.k[i]}: P growth / D^2 = ${r}`);
  }
  // momentum: the PM force is pairwise antisymmetric
  const p1tot = totalMomentum(s.momenta);
  let pabs = 0;
  for (const v of s.momenta) pabs += Math.abs(v);
  for (let c = 0; c < 3; c++) assert.ok(Math.abs(p1tot[c]! - p0tot[c]!) < 1e-6 * pabs, `momentum drift ${p1tot[c]! - p0tot[c]!} vs Σ|p| ${pabs}`);
});

test('force on a displaced lattice: large-scale plane wave gives g = Ψ', () => {
  const n = 32;
  const L = 100;
  const mode = 1;
  const A = 0.1;
  const x = new Float64Array(3 * n ** 3);
  const cell = L / n;
  let p = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++)
      for (let k = 0; k < n; k++, p++) {
        x[3 * p] = i * cell + A * Math.sin((2 * Math.PI * mode * i) / n);
        x[3 * p + 1] = j * cell;
        x[3 * p + 2] = k * cell;
      }
  const f = new PmForce(2 * n, L);
  const g = new Float64Array(x.length);
  f.compute(x, g);
  f.dispose();
  let num = 0;
  let den = 0;
  p = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n * n; j++, p++) {
      const s = A * Math.sin((2 * Math.PI * mode * i) / n);
      num += g[3 * p]! * s;
      den += s * s;
      assert.ok(Math.abs(g[3 * p + 1]!) < 1e-6 && Math.abs(g[3 * p + 2]!) < 1e-6);
    }
  assert.ok(Math.abs(num / den - 1) < 0.01, `g/Ψ = ${num / den}`);
});

test('step schedule: linear in a, every output is a step boundary', () => {
  const e = stepSchedule(0.02, [1, 0], 10);
  assert.equal(e[0], 0.02);
  assert.ok(Math.abs(e[e.length - 1]! - 1) < 1e-15);
  assert.ok(e.some((a) => Math.abs(a - 0.5) < 1e-15));
  assert.equal(e.length - 1, 10);
  for (let i = 1; i < e.length; i++) assert.ok(e[i]! > e[i - 1]!);
  assert.throws(() => stepSchedule(0.5, [3], 4));
});
