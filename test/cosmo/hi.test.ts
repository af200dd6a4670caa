import { test } from 'node:test';
import assert from 'node:assert/strict';
import { E } from '../../src/cosmo/background.js';
import { VN18_FOF_TABLE, brightnessTemperature, brightnessTemperatureFactor, hiHaloParams, hiMass } from '../../src/cosmo/hi.js';
import { CAMELS_CV, RHO_CRIT0_H2 } from '../../src/cosmo/params.js';

test('T_b = 189 h (1+z)^2 / E(z) Omega_HI mK', () => {
  for (const z of [0, 1, 2.5]) {
    const omegaHI = 1e-3;
    const rhoHI = omegaHI * RHO_CRIT0_H2; // comoving, (Msun/h)/(Mpc/h)^3
    const expected = (189 * CAMELS_CV.h * (1 + z) ** 2 * omegaHI) / E(CAMELS_CV, z);
    assert.ok(Math.abs(brightnessTemperature(CAMELS_CV, z, rhoHI) / expected - 1) < 1e-14);
    assert.ok(Math.abs(brightnessTemperatureFactor(CAMELS_CV, z) * rhoHI - expected) < 1e-15);
  }
  // z = 1, Omega_HI = 4e-4 (observed ballpark) gives T_b of order 0.1 mK
  const tb = brightnessTemperature(CAMELS_CV, 1, 4e-4 * RHO_CRIT0_H2);
  assert.ok(tb > 0.1 && tb < 0.2, `${tb}`);
});

test('Villaescusa-Navarro et al. (2018) HI-halo relation', () => {
  for (const row of VN18_FOF_TABLE) {
    const p = hiHaloParams(row.z);
    assert.ok(Math.abs(p.alpha - row.alpha) < 1e-12 && Math.abs(p.M0 / row.M0 - 1) < 1e-12 && Math.abs(p.Mmin / row.Mmin - 1) < 1e-12);
  }
  const mid = hiHaloParams(0.5);
  assert.ok(Math.abs(mid.alpha - (0.24 + 0.53) / 2) < 1e-12);
  assert.ok(Math.abs(mid.M0 - Math.sqrt(4.3e10 * 1.5e10)) < 1);
  assert.ok(Math.abs(mid.Mmin - Math.sqrt(2e12 * 6e11)) < 1e3);
  assert.deepEqual(hiHaloParams(7), hiHaloParams(5));
  assert.ok(Math.abs(hiMass(2e12, 0) - 4.3e10 * Math.exp(-1)) < 1);
  // Steep cut-off below Mmin, power law above.
  assert.ok(hiMass(1e10, 0) < 1e-3 * hiMass(1e13, 0));
  assert.ok(Math.abs(Math.log10(hiMass(2e21, 0) / hiMass(2e20, 0)) - 0.24) < 0.01);
  assert.equal(hiMass(0, 1), 0);
});
