import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCosmology } from '../../src/cosmo/params.js';
import { LinearPower } from '../../src/cosmo/power.js';
import { SigmaM } from '../../src/cosmo/sigma.js';
import { readTable } from './reference.js';

const model1BBKS = makeCosmology({ Omega_m: 0.3, Omega_b: 0.05, h: 0.7, n_s: 0.96, sigma8: 0.8, T_cmb: 2.7 });
const sig = new SigmaM(new LinearPower(model1BBKS, { transfer: 'bbks' }));

test('sigma(M) matches model1_sm.txt (BBKS, z = 0)', () => {
  for (const [M, s] of readTable('model1_sm.txt')) {
    const dev = Math.abs(sig.sigma(M!) / s! - 1);
    assert.ok(dev < 1e-5, `M=${M}: ${sig.sigma(M!)} vs ${s} (${dev})`); // measured < 2e-7
  }
});

test('radius/mass round trip and sigma(8 Mpc/h) = sigma8', () => {
  const M8 = sig.mass(8);
  assert.ok(Math.abs(sig.radius(M8) - 8) < 1e-12);
  assert.ok(Math.abs(sig.sigma(M8) / 0.8 - 1) < 1e-6);
});

test('d ln sigma / d ln M (analytic) agrees with a finite difference of the direct integral', () => {
  for (const M of [1e6, 1e10, 1e13, 1e15]) {
    const e = 1e-3;
    const s = (m: number): number => Math.log(sig.power.sigma2R(sig.radius(m))) / 2;
    const fd = (s(M * Math.exp(e)) - s(M * Math.exp(-e))) / (2 * e);
    assert.ok(Math.abs(sig.dlnSigmadlnM(M) / fd - 1) < 1e-5, `M=${M}: ${sig.dlnSigmadlnM(M)} vs ${fd}`);
  }
  // Outside the table: direct evaluation.
  assert.ok(Math.abs(sig.sigma(1e19) / Math.sqrt(sig.power.sigma2R(sig.radius(1e19))) - 1) < 1e-14);
});
