import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conditionalFirstCrossing, progenitorCondition } from '../../../src/cosmo/conditional.js';
import { FirstCrossing, SigmaLookup } from '../../../src/astro/sampler/chmf.js';
import { cellTable, descendantCondition, descendantTable } from '../../../src/astro/sampler/tables.js';
import { growthFactor } from '../../../src/cosmo/background.js';
import { CAMELS_CV } from '../../../src/cosmo/params.js';
import { Rng } from '../../../src/util/rng.js';
import { H, directIntegral, optsOf, rootMass, sigmaCamels, testParams } from './helpers.js';

const sig = sigmaCamels();
const p = testParams();
const sl = new SigmaLookup(sig, 1e7, 1e15, 5e-3);
const z = 7;
const cellMass = sig.rhoM * (2 * H) ** 3; // a (2 Mpc)^3 Lagrangian cell, as in Davies et al. 2025 Fig. 2

test('fast first-crossing distribution and sigma lookup equal the src/cosmo forms', () => {
  const rng = new Rng(5);
  for (const model of ['st', 'eps'] as const) {
    const fc = new FirstCrossing(model, p.barrier, p.deltaC);
    for (let i = 0; i < 200; i++) {
      const Sc = 0.05 + 2 * rng.uniform();
      const S = Sc * (1 + 5 * rng.uniform());
      const delta = -1 + 2.5 * rng.uniform();
      const ref = conditionalFirstCrossing(S, Sc, delta, { model, barrier: p.barrier, deltaC: p.deltaC });
      const got = fc.f(S, Sc, delta);
      // same equations summed in another order: agreement to rounding
      assert.ok(Math.abs(got - ref) <= 1e-10 * Math.abs(ref) + 1e-300, `${model} S=${S} Sc=${Sc} d=${delta}: ${got} vs ${ref}`);
    }
  }
  for (let i = 0; i < 50; i++) {
    const lnM = Math.log(1e7) + rng.uniform() * Math.log(1e8);
    // linear interpolation of ln sigma on steps of 5e-3 in ln M: error ~ step^2 |ln sigma''| / 8 < 1e-6
    assert.ok(Math.abs(sl.sigma0(lnM) / sig.sigma(Math.exp(lnM)) - 1) < 1e-6);
  }
});

test('cell table: expected number and mass equal direct CHMF integrals (Davies et al. 2025, Eqs. 5-6)', () => {
  const table = cellTable(sl, z, cellMass, p.minMass, p);
  const opts = optsOf(p);
  for (const delta of [-0.9, -0.5, 0, 1, 1.4]) {
    table.locate(delta);
    const N = directIntegral(sig, p.minMass, cellMass, delta, z, opts);
    const M = directIntegral(sig, p.minMass, cellMass, delta, z, opts, true);
    // linear interpolation between condition nodes 0.0125 apart + table quadrature: < 0.3%
    assert.ok(Math.abs(table.expectedN() / N - 1) < 3e-3, `delta=${delta}: N ${table.expectedN()} vs ${N}`);
    assert.ok(Math.abs(table.expectedM() / M - 1) < 3e-3, `delta=${delta}: M ${table.expectedM()} vs ${M}`);
  }
});

test('inverse-CDF tables against direct root finding at random points (float64)', () => {
  const rng = new Rng(11);
  const opts = optsOf(p);
  // cells: random delta in the table's range, random ln p
  const cells = cellTable(sl, z, cellMass, p.minMass, p);
  let worst = 0;
  for (let i = 0; i < 10; i++) {
    const delta = -0.95 + (cells.x1 - 0.05 + 0.95) * rng.uniform();
    const lnp = p.minLogProb * 0.75 * rng.uniform();
    cells.locate(delta);
    const M = cellMass * Math.exp(cells.drawLnRatio(lnp));
    const Ntot = directIntegral(sig, p.minMass, cellMass, delta, z, opts);
    const Mref = rootMass(Math.exp(lnp) * Ntot, sig, Math.log(p.minMass), cellMass, delta, z, opts);
    worst = Math.max(worst, Math.abs(Math.log(M / Mref)));
  }
  // bilinear interpolation on 200 x 400 nodes: the mass is right to better than 2% (|d ln M| < 0.02)
  assert.ok(worst < 0.02, `cells: worst |d ln M| = ${worst}`);

  // descendants z = 7 -> 7.16 (zStepFactor 1.02), masses 1e9 - 1e13 Msun
  const zProg = (1 + z) * p.zStepFactor - 1;
  const lo = p.minMass / p.bufferFactor;
  const desc = descendantTable(sl, z, zProg, p.minMass, 1e13 * H, lo, p);
  worst = 0;
  for (let i = 0; i < 10; i++) {
    const Md = Math.exp(Math.log(1e9 * H) + rng.uniform() * Math.log(1e4));
    const lnp = p.minLogProb * 0.75 * rng.uniform();
    const delta = progenitorCondition(sig, Md, z, zProg, opts);
    desc.locate(Math.log(Md));
    const M = Md * Math.exp(desc.drawLnRatio(lnp));
    const Ntot = directIntegral(sig, lo, Md, delta, zProg, opts);
    const Mref = rootMass(Math.exp(lnp) * Ntot, sig, Math.log(lo), Md, delta, zProg, opts);
    worst = Math.max(worst, Math.abs(Math.log(M / Mref)));
    const Mexp = directIntegral(sig, lo, Md, delta, zProg, opts, true);
    assert.ok(Math.abs(desc.expectedM() / Mexp - 1) < 3e-3, `M_desc=${Md}: expected mass ${desc.expectedM()} vs ${Mexp}`);
  }
  assert.ok(worst < 0.02, `descendants: worst |d ln M| = ${worst}`);
});

test('descendant condition: the barrier at z_desc evolved to z_prog (footnote 12), independent of the sampler path', () => {
  const fc = new FirstCrossing(p.model, p.barrier, p.deltaC);
  const zProg = 7.16;
  const Dd = growthFactor(CAMELS_CV, z);
  const Dp = growthFactor(CAMELS_CV, zProg);
  for (const Md of [1e9, 1e11, 1e13]) {
    const c = descendantCondition(sl, fc, Math.log(Md), Dd, Dp);
    const ref = progenitorCondition(sig, Md, z, zProg, optsOf(p));
    assert.ok(Math.abs(c.delta / ref - 1) < 1e-6, `${Md}: ${c.delta} vs ${ref}`);
    assert.ok(c.delta < c.deltaCrit, 'the condition lies below the progenitor-redshift barrier');
  }
});
