import { test } from 'node:test';
import assert from 'node:assert/strict';
import { growthFactor } from '../../src/cosmo/background.js';
import {
  ST_BARRIER_DEFAULT,
  conditionalDndlnM,
  conditionalNumberDensity,
  epsCollapsedFraction,
  erfc,
  progenitorDeltaCond,
  type ConditionalModel,
} from '../../src/cosmo/conditional.js';
import { DELTA_C, dndlnM } from '../../src/cosmo/massfunction.js';
import { CAMELS_CV } from '../../src/cosmo/params.js';
import { LinearPower } from '../../src/cosmo/power.js';
import { SigmaM } from '../../src/cosmo/sigma.js';

const sig = new SigmaM(new LinearPower(CAMELS_CV), { log10Mmin: -6 });

/**
 * ∫ M dN/dM dM / M_cond over Mmin < M < M_cond, integrated in t = ln ln(M_cond/M) so that both the
 * sharp peak just below M_cond (when delta_cond is close to delta_c) and the low-mass tail are resolved.
 */
function massFraction(Mmin: number, Mcond: number, dcond: number, z: number, model: ConditionalModel = 'eps'): number {
  const t0 = Math.log(1e-10);
  const t1 = Math.log(Math.log(Mcond / Mmin));
  const n = 8001;
  const d = (t1 - t0) / (n - 1);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const u = Math.exp(t0 + i * d);
    const M = Mcond * Math.exp(-u);
    const w = i === 0 || i === n - 1 ? 1 : i % 2 === 1 ? 4 : 2;
    s += w * M * conditionalDndlnM(sig, M, Mcond, dcond, z, { model }) * u;
  }
  return (s * d) / 3 / Mcond;
}

test('EPS conserves mass: ∫ M n(M|M_cond, delta) dM = M_cond', () => {
  // Regions close to collapse put (almost) all their mass into resolved halos.
  for (const [Mcond, dcond] of [
    [1e10, 1.6],
    [1e12, 1.62],
  ] as const) {
    const f = massFraction(1e-6, Mcond, dcond, 0);
    assert.ok(Math.abs(f - 1) < 0.01, `M_cond=${Mcond}, delta=${dcond}: ${f}`);
  }
  // In general: resolved fraction + analytic unresolved remainder = 1.
  for (const [Mmin, Mcond, dcond, z] of [
    [1e6, 1e12, 0, 0],
    [1e8, 1e13, 0.5, 6],
    [1e8, 1e11, -0.5, 0],
    [1e9, 1e14, 1.2, 1],
  ] as const) {
    const f = massFraction(Mmin, Mcond, dcond, z);
    const expected = epsCollapsedFraction(sig, Mmin, Mcond, dcond, z);
    assert.ok(Math.abs(f / expected - 1) < 1e-4, `${Mmin} ${Mcond} ${dcond} ${z}: ${f} vs ${expected}`);
    const D = growthFactor(CAMELS_CV, z);
    const S = (sig.sigma(Mmin) * D) ** 2 - (sig.sigma(Mcond) * D) ** 2;
    const unresolved = 1 - erfc((DELTA_C - dcond) / Math.sqrt(2 * S));
    assert.ok(Math.abs(f + unresolved - 1) < 1e-4);
  }
});

test('EPS tends to the unconditional Press-Schechter function for M_cond -> ∞, delta_cond -> 0', () => {
  for (const z of [0, 3]) {
    for (const M of [1e8, 1e10, 1e12, 1e14]) {
      const r = conditionalNumberDensity(sig, M, 1e21, 0, z) / dndlnM(sig, M, z, { model: 'ps' });
      assert.ok(Math.abs(r - 1) < 0.01, `z=${z} M=${M}: ratio ${r}`);
    }
  }
});

test('conditional ST (Sheth & Tormen 2002) tends to the SMT moving-barrier mass function', () => {
  const { a, alpha, beta } = ST_BARRIER_DEFAULT;
  // binomial sum Σ_{n=0}^{5} (-1)^n C(alpha, n)
  let series = 0;
  let binom = 1;
  for (let n = 0; n <= 5; n++) {
    if (n > 0) binom *= (alpha - n + 1) / n;
    series += (n % 2 === 0 ? 1 : -1) * binom;
  }
  for (const M of [1e9, 1e11, 1e13, 1e14]) {
    const nu = DELTA_C / sig.sigma(M);
    const x = beta * Math.pow(a * nu * nu, -alpha);
    const fnu = Math.sqrt(2 / Math.PI) * Math.sqrt(a) * nu * (1 + x * series) * Math.exp((-a * nu * nu * (1 + x) ** 2) / 2);
    const expected = (fnu * sig.rhoM * Math.abs(sig.dlnSigmadlnM(M))) / M;
    const r = conditionalNumberDensity(sig, M, 1e21, 0, 0, { model: 'st' }) / expected;
    assert.ok(Math.abs(r - 1) < 0.01, `M=${M}: ${r}`);
  }
  // Denser regions put more of their mass into halos above a resolution limit; nothing above M_cond.
  const lo = massFraction(1e8, 1e12, -0.5, 0, 'st');
  const mid = massFraction(1e8, 1e12, 0.5, 0, 'st');
  const hi = massFraction(1e8, 1e12, 1.2, 0, 'st');
  assert.ok(lo > 0 && mid > lo && hi > mid && hi < 1.1, `${lo} ${mid} ${hi}`);
  assert.equal(conditionalDndlnM(sig, 2e12, 1e12, 0.5, 0, { model: 'st' }), 0);
});

test('progenitor condition and edge cases', () => {
  const d = progenitorDeltaCond(CAMELS_CV, 6, 6.14);
  assert.ok(Math.abs(d - (DELTA_C * growthFactor(CAMELS_CV, 6.14)) / growthFactor(CAMELS_CV, 6)) < 1e-14);
  assert.ok(d < DELTA_C);
  assert.equal(conditionalDndlnM(sig, 1e10, 1e12, 1.7, 0), 0); // region already collapsed
  assert.equal(epsCollapsedFraction(sig, 1e8, 1e12, 1.7, 0), 1);
  assert.ok(Math.abs(erfc(0.5) - 0.4795001221869535) < 1e-15);
  assert.ok(Math.abs(erfc(-1.3) - 1.9340079449406524) < 1e-14);
});
