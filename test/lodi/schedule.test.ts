import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, noGrad, tidy } from '@lodi/torch';
import { LinearGamma, alphaAt, alphaOf, expm1, sigmaAt, sigmaOf } from '../../src/lodi/schedule.js';
import { antitheticSteps } from '../../src/lodi/vdm.js';

const cfg = { gammaMin: -13.3, gammaMax: 13.3, learned: true, steps: 50 };

test('α_t² + σ_t² = 1 over the whole γ range (tensor and scalar forms agree)', () => {
  tidy(() => {
    const g = F.linspace(-13.3, 13.3, 101);
    const a = alphaOf(g).toFloat32Array();
    const s = sigmaOf(g).toFloat32Array();
    const gv = g.toFloat32Array();
    for (let i = 0; i < a.length; i++) {
      assert.ok(Math.abs(a[i]! ** 2 + s[i]! ** 2 - 1) < 1e-6, `γ=${gv[i]}`);
      assert.ok(Math.abs(alphaAt(gv[i]!) - a[i]!) < 1e-6);
      assert.ok(Math.abs(sigmaAt(gv[i]!) - s[i]!) < 1e-6);
      assert.ok(Math.abs(alphaAt(gv[i]!) ** 2 + sigmaAt(gv[i]!) ** 2 - 1) < 1e-14);
    }
  });
});

test('γ(t) starts at γ_min, ends at γ_max and stays increasing even with a negative slope parameter', () => {
  const g = new LinearGamma(cfg);
  assert.ok(Math.abs(g.at(0) - -13.3) < 1e-5);
  assert.ok(Math.abs(g.at(1) - 13.3) < 1e-5);
  noGrad(() => g.w.mul_(-1)); // γ = b + |w| t must stay monotone
  let prev = -Infinity;
  for (let i = 0; i <= 50; i++) {
    const v = g.at(i / 50);
    assert.ok(v > prev);
    prev = v;
  }
  tidy(() => {
    const t = F.tensor([0, 0.5, 1]);
    const v = g.forward(t).toFloat32Array();
    assert.ok(Math.abs(v[1]! - g.at(0.5)) < 1e-5);
    assert.ok(Math.abs(g.normalise(F.tensor([-13.3, 13.3])).toFloat32Array()[1]! - 1) < 1e-6);
  });
  g.dispose();
});

test('expm1 is exact where exp(x) − 1 cancels', () => {
  tidy(() => {
    const x = F.tensor(new Float64Array([1e-10, -1e-8, 0.532]), undefined, { dtype: 'float64' });
    assert.equal(x.dtype, 'float64');
    const v = expm1(x).toFloat64Array();
    assert.ok(Math.abs(v[0]! - Math.expm1(1e-10)) < 1e-24, `${v[0]}`);
    assert.ok(Math.abs(v[1]! - Math.expm1(-1e-8)) < 1e-20);
    assert.ok(Math.abs(v[2]! - Math.expm1(0.532)) < 1e-15);
  });
});

test('antithetic steps cover 1..T evenly across the batch', () => {
  const s = antitheticSteps(0.37, 50, 50);
  assert.deepEqual([...s].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
  for (const u of [0, 0.01, 0.5, 0.999]) {
    const t = antitheticSteps(u, 7, 50);
    assert.ok(t.every((i) => Number.isInteger(i) && i >= 1 && i <= 50));
    const sorted = [...t].sort((a, b) => a - b);
    for (let k = 1; k < sorted.length; k++) assert.ok(sorted[k]! - sorted[k - 1]! >= 6 && sorted[k]! - sorted[k - 1]! <= 8);
  }
});
