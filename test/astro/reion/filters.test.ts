import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FourierGrid, expMfpWindow, tophatWindow } from '../../../src/astro/reion/filters.js';

/** (3/R^3) ∫_0^R r^2 e^{-r/λ} sin(kr)/(kr) dr by Simpson's rule with 20000 intervals (float64). */
function expWindowQuadrature(k: number, R: number, mfp: number): number {
  const m = 20001;
  const dr = R / (m - 1);
  let s = 0;
  for (let i = 0; i < m; i++) {
    const r = i * dr;
    const x = k * r;
    const w = i === 0 || i === m - 1 ? 1 : i % 2 ? 4 : 2;
    s += w * r * r * Math.exp(-r / mfp) * (x < 1e-8 ? 1 : Math.sin(x) / x);
  }
  return ((3 / R ** 3) * s * dr) / 3;
}

test('exponential mean-free-path window equals its real-space definition (Eq. 24) at several k', () => {
  for (const [R, mfp] of [
    [5, 3],
    [12, 25.48],
    [1, 40],
  ] as const) {
    for (const k of [0, 1e-6, 0.003, 0.05, 0.3, 1, 2.5, 7]) {
      const a = expMfpWindow(k, R, mfp);
      const b = expWindowQuadrature(k, R, mfp);
      // Simpson error with 2e4 intervals is < 1e-12 of the k = 0 value here
      assert.ok(Math.abs(a - b) < 1e-10 * Math.max(1, Math.abs(b)), `R ${R} λ ${mfp} k ${k}: ${a} vs ${b}`);
    }
    // k → 0: the surviving fraction 3 (λ/R)^3 [2 − e^{−R/λ}((R/λ)^2 + 2R/λ + 2)] < 1
    const x = R / mfp;
    const w0 = 3 * (1 / x) ** 3 * (2 - Math.exp(-x) * (x * x + 2 * x + 2));
    // both forms cancel to ~(λ/R)^3 × 1e-16 relative (1e-11 for R/λ = 1/40)
    assert.ok(Math.abs(expMfpWindow(0, R, mfp) - w0) < 1e-15 * (mfp / R) ** 3 * 10 && w0 < 1, `W(0) for R ${R}, λ ${mfp}`);
  }
  // λ → ∞ recovers the top-hat
  for (const k of [0.1, 0.7, 3]) assert.ok(Math.abs(expMfpWindow(k, 4, 1e7) - tophatWindow(4 * k)) < 1e-6);
});

test('top-hat window: closed form, small-kR branch continuous', () => {
  const x = 2.3;
  assert.ok(Math.abs(tophatWindow(x) - (3 * (Math.sin(x) - x * Math.cos(x))) / x ** 3) < 1e-15);
  // the closed form loses ~1e-16/(kR)^2 ≈ 1e-8 to cancellation at the branch point kR = 1e-4
  assert.ok(Math.abs(tophatWindow(1e-4 * (1 - 1e-9)) - tophatWindow(1e-4)) < 3e-8);
  assert.ok(Math.abs(tophatWindow(1e-5) - (1 - 1e-11)) < 1e-15);
});

test('FourierGrid: identity without a filter; a filter scales the total by W(0) and matches W on a plane wave', () => {
  const n = 16;
  const L = 20;
  const fg = new FourierGrid(n, L);
  const a = new Float64Array(n ** 3);
  a[3 * n * n + 5 * n + 7] = 10;
  a[0] = 1;
  const fk = fg.forward(a);
  try {
    const id = fg.apply(fk, null);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(id[i]! - a[i]!) < 1e-12);
    const R = 4;
    const lam = 6;
    const w = fg.window((k) => expMfpWindow(k, R, lam));
    const out = fg.apply(fk, w);
    let s = 0;
    for (const v of out) s += v;
    assert.ok(Math.abs(s / 11 - expMfpWindow(0, R, lam)) < 1e-12, 'k = 0 mode scaled by W(0)');
  } finally {
    fk.dispose();
  }
  // a plane wave cos(2π m y / L) is an eigenvector: filtered amplitude W(2π m/L) (float64 round-off)
  const m = 3;
  const wave = new Float64Array(n ** 3);
  for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) for (let z = 0; z < n; z++) wave[(x * n + y) * n + z] = Math.cos((2 * Math.PI * m * y) / n);
  const wk = fg.forward(wave);
  try {
    const k = (2 * Math.PI * m) / L;
    const out = fg.apply(wk, fg.window((q) => tophatWindow(q * 2.5)));
    for (let i = 0; i < wave.length; i++) assert.ok(Math.abs(out[i]! - tophatWindow(k * 2.5) * wave[i]!) < 1e-12);
  } finally {
    wk.dispose();
  }
  assert.throws(() => fg.forward(new Float64Array(10)), /10 values, expected 16\^3/);
});
