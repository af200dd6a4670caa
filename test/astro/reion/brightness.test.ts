import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV, E, brightnessTemperatureFactor, growthRate, makeCosmology, RHO_CRIT0_H2 } from '../../../src/cosmo/index.js';
import { brightnessPrefactor, brightnessTemperature21, losVelocityGradient } from '../../../src/astro/reion/brightness.js';

const c = CAMELS_CV;

test('δT_b matches the closed form of Eq. 25 at one (z, δ, x_HI) in float64', () => {
  const z = 8.5;
  const obh2 = 0.049 * 0.6711 ** 2; // 0.022069...
  const omh2 = 0.3 * 0.6711 ** 2;
  const want = 27 * 0.37 * 1.42 * (obh2 / 0.023) * Math.sqrt((0.15 / omh2) * (9.5 / 10));
  const got = brightnessPrefactor(c, z) * 0.37 * 1.42;
  assert.ok(Math.abs(got / want - 1) < 1e-14, `${got} vs ${want}`);
  const tb = brightnessTemperature21({ xHI: [0.37], delta: [0.42], z, cosmology: c, boxSize: 1, grid: 1, velocityGradient: false });
  assert.ok(Math.abs(tb[0]! / want - 1) < 1e-7, 'float32 output');
});

test('the prefactor is the matter-dominated limit of src/cosmo/hi.ts brightnessTemperatureFactor', () => {
  // hi.ts: T_b = 189 h (1+z)^2 / E(z) × ρ_HI / ρ_c with ρ_HI = X_H Ω_b ρ_c for x_HI (1+δ) = 1.
  // Eq. 25 replaces E(z) by sqrt(Ω_m) (1+z)^{3/2} and 189 X_H by 27 × sqrt(0.015) / 0.023.
  const cosmos = [c, makeCosmology({ Omega_m: 0.3153, Omega_b: 0.0493, h: 0.6736, n_s: 0.965, sigma8: 0.81 })];
  const XH = 0.76;
  for (const cc of cosmos) {
    for (const z of [6, 8, 12, 20]) {
      const hi = brightnessTemperatureFactor(cc, z) * XH * cc.Omega_b * RHO_CRIT0_H2;
      const ratio = brightnessPrefactor(cc, z) / hi;
      const expected = ((27 * Math.sqrt(0.015)) / 0.023 / (189 * XH)) * (E(cc, z) / (Math.sqrt(cc.Omega_m) * (1 + z) ** 1.5));
      assert.ok(Math.abs(ratio / expected - 1) < 1e-12, `z ${z}`);
      // and the two differ by less than 0.5% over the EoR
      assert.ok(Math.abs(ratio - 1) < 0.005, `z ${z}: ratio ${ratio}`);
    }
  }
});

function planeWave(n: number, m: number, amp: number, axis: 0 | 1 | 2): Float32Array {
  const a = new Float32Array(n ** 3);
  for (let x = 0; x < n; x++)
    for (let y = 0; y < n; y++)
      for (let z = 0; z < n; z++) {
        const q = [x, y, z][axis]!;
        a[(x * n + y) * n + z] = amp * Math.cos((2 * Math.PI * m * q) / n);
      }
  return a;
}

test('velocity-gradient term: vanishes for δ = 0; a plane wave along the line of sight gives η = −f δ and brightens overdensities', () => {
  const n = 16;
  const L = 40;
  const z = 8;
  const f = growthRate(c, z);
  const xHI = new Float32Array(n ** 3).fill(1);
  const zero = brightnessTemperature21({ xHI, delta: new Float32Array(n ** 3), z, cosmology: c, boxSize: L, grid: n });
  const t0 = brightnessPrefactor(c, z);
  for (const v of zero) assert.ok(Math.abs(v / t0 - 1) < 1e-7);
  const amp = 0.1;
  const wave = planeWave(n, 2, amp, 2);
  const eta = losVelocityGradient(wave, n, L, f, 2);
  for (let i = 0; i < wave.length; i++) assert.ok(Math.abs(eta[i]! + f * wave[i]!) < 1e-7, 'η = −f δ for k ∥ line of sight');
  const tb = brightnessTemperature21({ xHI, delta: wave, z, cosmology: c, boxSize: L, grid: n });
  for (let i = 0; i < wave.length; i++) {
    const want = (t0 * (1 + wave[i]!)) / (1 - f * wave[i]!);
    assert.ok(Math.abs(tb[i]! / want - 1) < 1e-6);
  }
  // the peak (δ = +0.1) gains (1 + 0.1)/(1 − 0.1 f) > 1.1
  assert.ok(Math.max(...tb) / t0 > 1.1 * 1.09);
  // a wave across the line of sight has no gradient along it
  const across = planeWave(n, 2, amp, 0);
  for (const v of losVelocityGradient(across, n, L, f, 2)) assert.ok(Math.abs(v) < 1e-9);
  // large amplitude: |η| clipped at MAX_DVDR = 0.2
  const big = planeWave(n, 1, 0.6, 2);
  const tbBig = brightnessTemperature21({ xHI, delta: big, z, cosmology: c, boxSize: L, grid: n });
  const iPeak = 0; // δ = +0.6 at z index 0
  assert.ok(Math.abs(tbBig[iPeak]! / ((t0 * 1.6) / 0.8) - 1) < 1e-6);
  assert.throws(() => brightnessTemperature21({ xHI: [1], delta: [0, 0], z, cosmology: c, boxSize: L, grid: 1 }), /delta has 2 values/);
});

test('full Eq. 25 with T_s: the code\'s τ_21 form; T_s → ∞ gives the saturated form to 1e-6, T_s = T_γ no signal', () => {
  const z = 12;
  const tg = c.T_cmb * (1 + z);
  const base = { xHI: [0.8], delta: [0.1], z, cosmology: c, boxSize: 1, grid: 1, velocityGradient: false } as const;
  const one = (ts?: number[]) => brightnessTemperature21({ ...base, spinTemperature: ts });
  const sat = one()[0]!;
  // 1 − T_γ/T_s with T_s = 1e9 K differs from 1 by 3.5e-8, and τ_21 ~ 3e-10; float32 output adds 6e-8
  assert.ok(Math.abs(one([1e9])[0]! / sat - 1) < 1e-6);
  assert.equal(one([tg])[0], 0);
  // cold gas: τ_21 = T_0 x_HI (1+δ)(1+z)/(1000 T_s) is no longer small; δT_b = (1 − e^−τ) 1000 (T_s − T_γ)/(1+z)
  const ts = 5;
  const tau = (sat * (1 + z)) / (1000 * ts);
  const want = (1 - Math.exp(-tau)) * ((1000 * (ts - tg)) / (1 + z));
  assert.ok(Math.abs(one([ts])[0]! / want - 1) < 1e-6, `${one([ts])[0]} vs ${want}`);
  // and it is shallower than the optically thin (1 − T_γ/T_s) form by about τ/2
  const thin = sat * (1 - tg / ts);
  assert.ok(tau > 0.05 && Math.abs(want / thin - 1 + tau / 2) < tau * tau);
  // an ionised cell has no signal
  assert.equal(brightnessTemperature21({ ...base, xHI: [0], spinTemperature: [ts] })[0], 0);
  assert.throws(() => one([0]), /spinTemperature must be > 0 K/);
  assert.throws(() => brightnessTemperature21({ ...base, spinTemperature: [1, 2] }), /spinTemperature has 2 values/);
});
