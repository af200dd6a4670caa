import { test } from 'node:test';
import assert from 'node:assert/strict';
import { halofitParams, halofitPower } from '../../src/cosmo/halofit.js';
import { makeCosmology } from '../../src/cosmo/params.js';
import { LinearPower } from '../../src/cosmo/power.js';

const base = { Omega_m: 0.3, Omega_b: 0.05, h: 0.7, n_s: 0.96, sigma8: 0.8 };
const lp = new LinearPower(makeCosmology(base), { transfer: 'eh' });

test('halofit: linear on large scales, enhanced at k = 1 h/Mpc', () => {
  const ks = [1e-4, 1e-3, 1];
  const pnl = halofitPower(lp, ks, 0);
  assert.ok(Math.abs(pnl[0]! / lp.P(1e-4) - 1) < 1e-4);
  assert.ok(Math.abs(pnl[1]! / lp.P(1e-3) - 1) < 1e-3);
  const r1 = pnl[2]! / lp.P(1);
  assert.ok(r1 > 3 && r1 < 10, `P_nl/P_lin at k=1: ${r1}`);
});

test('halofit: self-consistency of the non-linear scale and its redshift dependence', () => {
  const p0 = halofitParams(lp, 0);
  // sigma8 = 0.8, Om = 0.3: k_sigma ≈ 0.3-0.4 h/Mpc, n_eff ≈ -1.8, C ≈ 0.3
  assert.ok(p0.ksigma > 0.25 && p0.ksigma < 0.5, `${p0.ksigma}`);
  assert.ok(p0.neff > -2.2 && p0.neff < -1.4);
  assert.ok(p0.C > 0 && p0.C < 1);
  let prevK = p0.ksigma;
  let prevRatio = Infinity;
  for (const z of [0, 1, 2, 4]) {
    const p = halofitParams(lp, z);
    if (z > 0) assert.ok(p.ksigma > prevK);
    prevK = p.ksigma;
    const r = halofitPower(lp, [1], z)[0]! / lp.P(1, z);
    assert.ok(r < prevRatio && r > 1, `z=${z}: ${r}`);
    prevRatio = r;
  }
  // More power in the initial field -> more non-linear enhancement.
  const hi = new LinearPower(makeCosmology({ ...base, sigma8: 0.9 }), { transfer: 'eh' });
  assert.ok(halofitPower(hi, [1])[0]! / hi.P(1) > halofitPower(lp, [1])[0]! / lp.P(1));
  // Very early times: the grid is linear everywhere or nearly so at large scales.
  const early = halofitPower(lp, [0.01, 0.1], 50);
  assert.ok(Math.abs(early[0]! / lp.P(0.01, 50) - 1) < 1e-3);
});
