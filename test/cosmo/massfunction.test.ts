import { test } from 'node:test';
import assert from 'node:assert/strict';
import { erfc } from '../../src/cosmo/conditional.js';
import { DELTA_C, ST_DEFAULT, biasST, dndlnM, dndlog10M, multiplicityPS, multiplicityST } from '../../src/cosmo/massfunction.js';
import { makeCosmology } from '../../src/cosmo/params.js';
import { LinearPower } from '../../src/cosmo/power.js';
import { SigmaM } from '../../src/cosmo/sigma.js';
import { simpson } from '../../src/cosmo/numeric.js';
import { readTable } from './reference.js';

const h = 0.7;
const cosmo = makeCosmology({ Omega_m: 0.3, Omega_b: 0.05, h, n_s: 0.96, sigma8: 0.8, T_cmb: 2.7255 });
const sig = new SigmaM(new LinearPower(cosmo, { transfer: 'eh' }));

test('Sheth-Tormen dn/dlog10M matches hmf_sheth99.txt within 1% (Msun and Mpc^-3 in the table)', () => {
  let worst = 0;
  for (const row of readTable('hmf_sheth99.txt')) {
    [0, 0.5, 1].forEach((z, j) => {
      const n = dndlog10M(sig, row[0]! * h, z, { model: 'st' }) * h ** 3; // (h/Mpc)^3 -> Mpc^-3
      const dev = Math.abs(n / row[j + 1]! - 1);
      worst = Math.max(worst, dev);
      assert.ok(dev < 0.01, `M=${row[0]} z=${z}: ${n} vs ${row[j + 1]}`);
    });
  }
  assert.ok(worst < 0.006, `worst ${worst}`); // measured 0.44%
});

test('multiplicity functions integrate to the right mass fractions', () => {
  const n = 40001;
  const lo = -40;
  const hi = 3;
  const d = (hi - lo) / (n - 1);
  const yPS = new Float64Array(n);
  const yST = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const nu = Math.exp(lo + i * d);
    yPS[i] = multiplicityPS(nu);
    yST[i] = multiplicityST(nu);
  }
  assert.ok(Math.abs(simpson(yPS, d) - 1) < 1e-6);
  assert.ok(Math.abs(simpson(yST, d) - 1) < 1e-4); // A = 0.3222 normalises ST to 1
});

test('PS mass function: mass above Mmin equals erfc(nu_min / sqrt 2) of the mean density', () => {
  for (const z of [0, 2]) {
    const Mmin = 1e9;
    const n = 1201;
    const a = Math.log(Mmin);
    const b = Math.log(1e17);
    const d = (b - a) / (n - 1);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const M = Math.exp(a + i * d);
      y[i] = M * dndlnM(sig, M, z, { model: 'ps' });
    }
    const frac = simpson(y, d) / sig.rhoM;
    const expect = erfc(DELTA_C / sig.sigma(Mmin, z) / Math.SQRT2);
    assert.ok(Math.abs(frac / expect - 1) < 1e-4, `z=${z}: ${frac} vs ${expect}`);
  }
});

test('delta_c is configurable and the two models differ as expected', () => {
  const M = 1e14;
  assert.ok(dndlnM(sig, M, 0, { model: 'ps', deltaC: 1.5 }) > dndlnM(sig, M, 0, { model: 'ps' }));
  assert.ok(dndlnM(sig, 1e15, 0, { model: 'st' }) > dndlnM(sig, 1e15, 0, { model: 'ps' }));
  assert.ok(Math.abs(dndlog10M(sig, M, 0) / dndlnM(sig, M, 0) - Math.LN10) < 1e-14);
  assert.throws(() => dndlnM(sig, M, 0, { model: 'xx' as never }), /unknown mass function/);
});

test('Sheth-Tormen bias is the peak-background split of the multiplicity and averages to one over all matter', () => {
  // Lagrangian bias from the split: shifting delta_c by the background delta_b changes nu by -nu delta_b / delta_c,
  // so b - 1 = -(1 / delta_c) dln f / dln nu; a central difference in float64 is good to ~1e-8 here.
  const jenkins = { A: 0.353, a: 0.73, p: 0.175 };
  for (const p of [ST_DEFAULT, jenkins]) {
    for (const nu of [0.3, 0.8, 1, 1.7, 2.5, 4]) {
      const e = 1e-5;
      const dlnf = (Math.log(multiplicityST(nu * Math.exp(e), p)) - Math.log(multiplicityST(nu * Math.exp(-e), p))) / (2 * e);
      assert.ok(Math.abs(biasST(nu, p) - (1 - dlnf / DELTA_C)) < 1e-6, `nu ${nu}, a ${p.a}: ${biasST(nu, p)} vs ${1 - dlnf / DELTA_C}`);
    }
  }
  // The PS limit (a = 1, p = 0, A = 1/2 of the two-term form) is Mo & White's 1 + (nu^2 - 1) / delta_c.
  assert.ok(Math.abs(biasST(2, { A: 0.5, a: 1, p: 0 }) - (1 + 3 / DELTA_C)) < 1e-12);
  // Mass-weighted over all matter the bias is one (with the normalised A of ST_DEFAULT; 0.3222 is rounded: 1e-4).
  const n = 40001;
  const lo = -40;
  const d = (3 - lo) / (n - 1);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const nu = Math.exp(lo + i * d);
    y[i] = biasST(nu) * multiplicityST(nu);
  }
  assert.ok(Math.abs(simpson(y, d) - 1) < 1e-3, `integral ${simpson(y, d)}`);
  assert.throws(() => biasST(0), /biasST: nu = 0: expected a positive peak height/);
});
