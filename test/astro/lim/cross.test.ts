import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ciiContrast, limPowerSpectra } from '../../../src/astro/lim/cross.js';
import { powerSpectrum21 } from '../../../src/astro/reion/history.js';
import { Rng } from '../../../src/util/rng.js';

const n = 16;
const L = 32;

/** A positive, clustered-looking field: exp of smoothed-ish noise. */
function lognormalBox(seed: number, mean: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n ** 3 }, () => mean * Math.exp(0.5 * r.normal()));
}

test('a field crossed with itself: cross power = auto power (scaled by the means) and r = 1', () => {
  const x = lognormalBox(3, 7);
  const s = limPowerSpectra(x, x, { grid: n, boxSize: L });
  const ref = powerSpectrum21(x, n, L); // Δ²_21 through history.ts, without mean subtraction (DC is dropped)
  assert.equal(s.k.length, ref.k.length);
  for (let i = 0; i < s.k.length; i++) {
    // float32 fields whose rounding differs (mean subtracted or not): 1e-4 relative
    assert.ok(Math.abs(s.delta2_21[i]! / ref.delta2[i]! - 1) < 1e-4, `Δ²_21 bin ${i}`);
    // δT_b − ⟨δT_b⟩ = ⟨x⟩ δ_CII: P_cross = ⟨x⟩ P_CII = P_21 / ⟨x⟩
    assert.ok(Math.abs((s.delta2_cross[i]! * s.meanTb) / s.delta2_21[i]! - 1) < 1e-5, `cross bin ${i}`);
    assert.ok(Math.abs((s.delta2_CII[i]! * s.meanTb * s.meanTb) / s.delta2_21[i]! - 1) < 1e-5, `CII bin ${i}`);
    assert.ok(Math.abs(s.r[i]! - 1) < 1e-6, `r = ${s.r[i]} in bin ${i}`);
  }
});

test('a field and its negative: r = −1', () => {
  const b = lognormalBox(4, 250); // Jy/sr
  const mean = b.reduce((a, v) => a + v, 0) / b.length;
  const tb = Float32Array.from(b, (v) => 20 - (3 * v) / mean); // δT_b − ⟨δT_b⟩ = −3 δ_CII [mK]
  const s = limPowerSpectra(tb, b, { grid: n, boxSize: L });
  for (let i = 0; i < s.k.length; i++) {
    assert.ok(Math.abs(s.r[i]! + 1) < 1e-6, `r = ${s.r[i]} in bin ${i}`);
    assert.ok(Math.abs(s.delta2_cross[i]! / (-3 * s.delta2_CII[i]!) - 1) < 1e-5);
    assert.ok(Math.abs(s.delta2_21[i]! / (9 * s.delta2_CII[i]!) - 1) < 1e-5);
  }
});

test('Eq. 28–30 normalisation on plane waves: Δ² = k³ (L³ A B cos φ / 4) / (2π² N_modes), r = cos φ', () => {
  const m = 3; // wavenumber index along x → bin 3, one independent mode carries all the power
  const T0 = -40, A = 12; // mK
  const B0 = 500, eps = 0.3, phi = 0.7;
  const tb = new Float32Array(n ** 3);
  const b = new Float32Array(n ** 3);
  for (let x = 0; x < n; x++) {
    const t = (2 * Math.PI * m * x) / n;
    for (let yz = 0; yz < n * n; yz++) {
      tb[x * n * n + yz] = T0 + A * Math.cos(t);
      b[x * n * n + yz] = B0 * (1 + eps * Math.cos(t + phi));
    }
  }
  const s = limPowerSpectra(tb, b, { grid: n, boxSize: L });
  const i = Array.from(s.k).findIndex((k) => Math.abs(k - (2 * Math.PI * m) / L) < 0.5 * ((2 * Math.PI) / L));
  assert.ok(i >= 0);
  const V = L ** 3;
  const pre = s.k[i]! ** 3 / (2 * Math.PI * Math.PI * s.nmodes[i]!);
  // float32 fields and FFT: 1e-5 relative
  assert.ok(Math.abs(s.delta2_21[i]! / ((pre * V * A * A) / 4) - 1) < 1e-5, `Δ²_21 = ${s.delta2_21[i]}`);
  assert.ok(Math.abs(s.delta2_CII[i]! / ((pre * V * eps * eps) / 4) - 1) < 1e-5);
  assert.ok(Math.abs(s.delta2_cross[i]! / ((pre * V * A * eps * Math.cos(phi)) / 4) - 1) < 1e-5);
  assert.ok(Math.abs(s.r[i]! - Math.cos(phi)) < 1e-5, `r = ${s.r[i]}`);
  assert.ok(Math.abs(s.meanTb - T0) < 1e-4 && Math.abs(s.meanCII - B0) < 1e-3);
  // every other bin holds no power
  for (let j = 0; j < s.k.length; j++) if (j !== i) assert.ok(Math.abs(s.delta2_21[j]!) < 1e-9 * s.delta2_21[i]!, `bin ${j}`);
});

test('bad inputs are named', () => {
  const z = new Float32Array(n ** 3);
  assert.throws(() => ciiContrast(z), /mean B_CII.*got 0/);
  assert.throws(() => limPowerSpectra(new Float32Array(8), z, { grid: n, boxSize: L }), /tb has 8 values/);
  assert.throws(() => limPowerSpectra(lognormalBox(1, 1), new Float32Array(8), { grid: n, boxSize: L }), /bCII has 8 values/);
  // a uniform B_CII has δ_CII = 0 everywhere: r undefined
  assert.throws(() => limPowerSpectra(lognormalBox(1, 1), new Float32Array(n ** 3).fill(2), { grid: n, boxSize: L }), /second field has zero power/);
});
