import { test } from 'node:test';
import assert from 'node:assert/strict';
import { growthFactor } from '../../src/cosmo/background.js';
import {
  ST_BARRIER_21CMFAST,
  ST_BARRIER_DEFAULT,
  ST_BARRIER_JENKINS,
  collapseBarrier,
  conditionalDndlnM,
  progenitorCondition,
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

test('barrier parameter sets and the collapse barrier (Davies et al. 2025, Eq. 2)', () => {
  // the paper quotes Jenkins et al. (2001): a = 0.7; the public 21cmFAST code uses a = 0.73
  assert.deepEqual({ ...ST_BARRIER_JENKINS }, { a: 0.7, alpha: 0.81, beta: 0.34 });
  assert.deepEqual({ ...ST_BARRIER_21CMFAST }, { a: 0.73, alpha: 0.81, beta: 0.34 });
  assert.equal(ST_BARRIER_DEFAULT, ST_BARRIER_JENKINS);
  assert.equal(collapseBarrier(0.5), DELTA_C);
  for (const S of [0.1, 1, 10]) {
    for (const barrier of [ST_BARRIER_JENKINS, ST_BARRIER_21CMFAST]) {
      const { a, alpha, beta } = barrier;
      // Eq. 2 written with sigma: sqrt(a) dc (1 + beta (a dc^2 / sigma^2)^-alpha)
      const ref = Math.sqrt(a) * 1.686 * (1 + beta * Math.pow((a * 1.686 * 1.686) / S, -alpha));
      assert.ok(Math.abs(collapseBarrier(S, { model: 'st', barrier, deltaC: 1.686 }) / ref - 1) < 1e-14);
    }
  }
  // the larger a of the code raises the barrier at large mass (S -> 0) by sqrt(0.73 / 0.7)
  const hi = collapseBarrier(1e-6, { model: 'st', barrier: ST_BARRIER_21CMFAST });
  const lo = collapseBarrier(1e-6, { model: 'st', barrier: ST_BARRIER_JENKINS });
  assert.ok(Math.abs(hi / lo - Math.sqrt(0.73 / 0.7)) < 1e-3);
  // the conditional ST function takes the barrier it is given: the code's barrier makes fewer small halos
  const Mc = 1e12;
  assert.ok(conditionalDndlnM(sig, 1e9, Mc, 0, 6, { model: 'st', barrier: ST_BARRIER_21CMFAST }) < conditionalDndlnM(sig, 1e9, Mc, 0, 6, { model: 'st', barrier: ST_BARRIER_JENKINS }));
  assert.throws(() => collapseBarrier(1, { model: 'ps' as ConditionalModel }), /unknown conditional mass function/);
});

test('progenitor condition: the descendant barrier evolved to z_prog (Davies et al. 2025, footnote 12)', () => {
  const zD = 6;
  const zP = 7 * 1.02 - 1;
  const r = growthFactor(CAMELS_CV, zP) / growthFactor(CAMELS_CV, zD);
  // EPS: delta_c D(z_prog) / D(z_desc), as progenitorDeltaCond
  assert.ok(Math.abs(progenitorCondition(sig, 1e10, zD, zP) - progenitorDeltaCond(CAMELS_CV, zD, zP)) < 1e-12);
  for (const M of [1e9, 1e12]) {
    const S = (sig.sigma(M) * growthFactor(CAMELS_CV, zD)) ** 2;
    const opts = { model: 'st' as const, barrier: ST_BARRIER_21CMFAST, deltaC: 1.686 };
    const d = progenitorCondition(sig, M, zD, zP, opts);
    assert.ok(Math.abs(d - collapseBarrier(S, opts) * r) < 1e-12);
    // below the progenitor-redshift barrier at the same mass: the condition has not collapsed yet
    const Sp = (sig.sigma(M) * growthFactor(CAMELS_CV, zP)) ** 2;
    assert.ok(d < collapseBarrier(Sp, opts));
  }
  assert.throws(() => progenitorCondition(sig, 1e10, 6, 6), /zProg must exceed zDesc/);
});
