import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  E,
  comovingDistance,
  growthFactor,
  growthFactor2,
  growthRate,
  hubble,
  omegaMz,
  rhoCrit,
  rhoMean,
} from '../../src/cosmo/background.js';
import { C_KMS, RHO_CRIT0_H2, makeCosmology } from '../../src/cosmo/params.js';

const model1 = makeCosmology({ Omega_m: 0.3, Omega_b: 0.05, h: 0.7, n_s: 0.96, sigma8: 0.8 });

test('growth D(z)^2 matches the CCL benchmark values (README 1.0) to 1e-6', () => {
  const ref = [1, 0.374306, 0.177616, 0.101659, 0.065476, 0.045598];
  ref.forEach((d2, z) => {
    const D = growthFactor(model1, z);
    assert.ok(Math.abs(D * D - d2) < 1e-6, `z=${z}: ${D * D} vs ${d2}`);
  });
});

test('Einstein-de Sitter: D = a, f = 1, analytic comoving distance', () => {
  const eds = makeCosmology({ Omega_m: 1, Omega_b: 0.05, h: 0.7, n_s: 0.96, sigma8: 0.8 });
  for (const z of [0, 0.5, 3, 20]) {
    assert.ok(Math.abs(growthFactor(eds, z) - 1 / (1 + z)) < 1e-9);
    assert.ok(Math.abs(growthRate(eds, z) - 1) < 1e-9);
    const chi = (2 * C_KMS) / 100 * (1 - 1 / Math.sqrt(1 + z));
    assert.ok(Math.abs(comovingDistance(eds, z) - chi) < 1e-8 * Math.max(1, chi));
  }
});

test('background quantities', () => {
  assert.equal(E(model1, 0), 1);
  assert.ok(Math.abs(hubble(model1, 1) - 70 * Math.sqrt(0.3 * 8 + 0.7)) < 1e-12);
  assert.ok(Math.abs(omegaMz(model1, 0) - 0.3) < 1e-15);
  assert.ok(omegaMz(model1, 100) > 0.9999);
  assert.equal(rhoCrit(model1, 0), RHO_CRIT0_H2);
  assert.ok(Math.abs(rhoCrit(model1, 2) / RHO_CRIT0_H2 - (0.3 * 27 + 0.7)) < 1e-12);
  assert.ok(Math.abs(rhoMean(model1) - 0.3 * RHO_CRIT0_H2) < 1e-3);
  // Flat ΛCDM, Om = 0.3: chi(z=1) = 2312.8 Mpc/h (standard value, c/H0 ∫ dz/E).
  assert.ok(Math.abs(comovingDistance(model1, 1) - 2312.8) < 0.5, `${comovingDistance(model1, 1)}`);
  // Growth rate ≈ Omega_m(z)^0.55 to better than 1% for ΛCDM.
  for (const z of [0, 0.5, 1, 3]) assert.ok(Math.abs(growthRate(model1, z) / Math.pow(omegaMz(model1, z), 0.55) - 1) < 0.01);
});

test('radiation: growth stays normalised and is suppressed at high z', () => {
  const rad = makeCosmology({ Omega_m: 0.3, Omega_b: 0.05, h: 0.7, n_s: 0.96, sigma8: 0.8, Omega_r: 8.5e-5 });
  assert.ok(Math.abs(growthFactor(rad, 0) - 1) < 1e-12);
  // Radiation slows early growth; at low z the effect on D(z)/D(0) is small.
  assert.ok(Math.abs(growthFactor(rad, 1) / growthFactor(model1, 1) - 1) < 2e-3);
  assert.ok(growthRate(rad, 3000) < 0.8); // around matter-radiation equality f drops below 1
});

test('2LPT growth D2 ≈ -3/7 D^2 Om(z)^(-1/143)', () => {
  const D = growthFactor(model1, 1);
  assert.ok(Math.abs(growthFactor2(model1, 1) / ((-3 / 7) * D * D * Math.pow(omegaMz(model1, 1), -1 / 143)) - 1) < 1e-14);
  assert.ok(growthFactor2(model1, 0) < -3 / 7);
});
