import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progenitorCondition } from '../../../src/cosmo/conditional.js';
import { HaloBuffer } from '../../../src/astro/sampler/buffer.js';
import { massHistogram } from '../../../src/astro/sampler/catalogue.js';
import { SigmaLookup } from '../../../src/astro/sampler/chmf.js';
import { descendantThresholds, fixMassSample, sampleProgenitors, type ProgenitorRecord } from '../../../src/astro/sampler/progenitors.js';
import { descendantCondition, descendantTable, firstCrossingOf } from '../../../src/astro/sampler/tables.js';
import { growthFactor } from '../../../src/cosmo/background.js';
import { CAMELS_CV } from '../../../src/cosmo/params.js';
import type { SamplerParams } from '../../../src/astro/sampler/params.js';
import { Rng } from '../../../src/util/rng.js';
import { H, directIntegral, optsOf, sigmaCamels, testParams } from './helpers.js';

const sig = sigmaCamels();
const z = 7;
const DESC_MSUN = [1e9, 1e10, 1e11, 1e12, 1e13];

function run(p: SamplerParams, MdescMsun: number, nDesc: number, seed: number) {
  const zProg = (1 + z) * p.zStepFactor - 1;
  const sl = new SigmaLookup(sig, p.minMass / 4, 2e13 * H, 5e-3);
  const Md = MdescMsun * H;
  const table = descendantTable(sl, z, zProg, Md / 1.01, Md * 1.01, p.minMass / p.bufferFactor, p);
  const out = new HaloBuffer();
  const record: ProgenitorRecord = { target: new Float64Array(nDesc), drawn: new Float64Array(nDesc) };
  const pos = new Float32Array(3 * nDesc);
  for (let i = 0; i < nDesc; i++) pos.set([10, 20, 30], 3 * i);
  sampleProgenitors(
    { table, sigma: sl, firstCrossing: firstCrossingOf(p), mass: new Float64Array(nDesc).fill(Md), pos, zDesc: z, zProg, boxSize: 100, params: p, method: 'mass-limited', rng: new Rng(seed), out },
    record,
  );
  return { zProg, Md, out, record, ...out.arrays() };
}

test('mass-limited progenitors without correction reproduce the CHMF (z = 7 -> 7.16, M_desc = 1e9 - 1e13 Msun)', () => {
  const p = testParams({ haloMassCorrection: 1 });
  const opts = optsOf(p);
  for (const [i, Msun] of DESC_MSUN.entries()) {
    const nDesc = Msun >= 1e12 ? 2000 : 8000;
    const { zProg, Md, out, mass, parent } = run(p, Msun, nDesc, 40 + i);
    const delta = progenitorCondition(sig, Md, z, zProg, opts);
    const Nexp = directIntegral(sig, p.minMass, Md, delta, zProg, opts) * nDesc;
    const Mexp = directIntegral(sig, p.minMass, Md, delta, zProg, opts, true) * nDesc;
    let Mtot = 0;
    for (const m of mass) Mtot += m;
    // the 10% requirement: the mass-limited rule is not a Poisson process, so the mean number is reproduced only to
    // a few per cent (Davies et al. 2025 report a ~5% deficit of small progenitors, Fig. 3; here <= 6%)
    assert.ok(Math.abs(out.count / Nexp - 1) < 0.1, `M_desc=${Msun}: N ${out.count} vs ${Nexp.toFixed(0)}`);
    assert.ok(Math.abs(Mtot / Mexp - 1) < 0.1, `M_desc=${Msun}: M ${Mtot} vs ${Mexp}`);
    const nb = 8;
    const edges = Array.from({ length: nb + 1 }, (_, b) => p.minMass * Math.pow(Md / p.minMass, b / nb));
    const hist = massHistogram(mass, edges);
    for (let b = 0; b < nb; b++) {
      const e = (directIntegral(sig, edges[b]!, Md, delta, zProg, opts) - directIntegral(sig, edges[b + 1]!, Md, delta, zProg, opts)) * nDesc;
      // 50% (or 2 halos) where 50% is >= 3 Poisson sigma (>= 36 expected halos); sparser bins within 4 sigma + 2
      const tol = e >= 36 ? Math.max(0.5 * e, 2) : 4 * Math.sqrt(Math.max(e, 1)) + 2;
      assert.ok(Math.abs(hist[b]! - e) <= tol, `M_desc=${Msun} bin ${b}: ${hist[b]} vs ${e.toFixed(1)}`);
    }
    assert.ok(parent.every((d) => d >= 0 && d < nDesc), 'every progenitor keeps its descendant index');
    assert.ok(mass.every((m) => m >= p.minMass && m <= Md));
  }
});

test('mass-limited progenitor totals match the expected progenitor mass (Davies et al. 2025, Eq. 6)', () => {
  for (const [i, Msun] of DESC_MSUN.entries()) {
    // without the correction the drawn total (above the table floor M_min / 2) tracks its target:
    // the paper quotes a ~1% excess per step from the last-halo rule (Appendix B); 4% allowed
    const p1 = testParams({ haloMassCorrection: 1 });
    const r1 = run(p1, Msun, 2000, 70 + i);
    let drawn = 0;
    let target = 0;
    const ratio: number[] = [];
    for (let d = 0; d < 2000; d++) {
      drawn += r1.record.drawn[d]!;
      target += r1.record.target[d]!;
      ratio.push(r1.record.drawn[d]! / r1.record.target[d]!);
    }
    assert.ok(Math.abs(drawn / target - 1) < 0.04, `M_desc=${Msun}: drawn/target = ${drawn / target}`);
    // a narrow distribution of totals (Fig. 3): 80% of the descendants within -25% / +35% of the target
    // (the last halo can overshoot, so the upper side is wider)
    ratio.sort((a, b) => a - b);
    const q10 = ratio[200]!;
    const q90 = ratio[1800]!;
    assert.ok(q10 > 0.75 && q90 < 1.35, `M_desc=${Msun}: 10-90% range of drawn/target [${q10}, ${q90}]`);

    // with the code's correction (0.89) the mass kept above M_min equals the CHMF's expected mass above M_min
    // (Eq. 6) to within 5%: the correction offsets the draws between M_min / 2 and M_min that are discarded
    const p = testParams();
    const r = run(p, Msun, 2000, 90 + i);
    const opts = optsOf(p);
    const delta = progenitorCondition(sig, r.Md, z, r.zProg, opts);
    const Mexp = directIntegral(sig, p.minMass, r.Md, delta, r.zProg, opts, true) * 2000;
    let kept = 0;
    for (const m of r.mass) kept += m;
    assert.ok(Math.abs(kept / Mexp - 1) < 0.05, `M_desc=${Msun}: kept ${kept} vs expected ${Mexp}`);
  }
});

test('fixMassSample: the outcome distribution of the two rules (enumerated by hand)', () => {
  // draws [3, 2, 4, 5] (total 14) against a target of 10:
  //  rule A (p = 1/2): dropping the last halo (5) gives 9, closer than 14 -> 9
  //  rule B (p = 1/2): remove uniformly at random until <= 10, put the last removed back if strictly closer:
  //    5 -> 9; 4 -> 10; 3 -> 11, then 2 -> 9, 4 -> 7 (back: 11), 5 -> 6 (back: 11);
  //    2 -> 12, then 3 -> 9, 4 -> 8, 5 -> 7 (back: 12)
  //  P(8) = 1/24, P(9) = 1/2 + 1/8 + 1/24 + 1/24, P(10) = 1/8, P(11) = 1/12, P(12) = 1/24
  const expected = new Map([
    [8, 1 / 24],
    [9, 1 / 2 + 1 / 8 + 1 / 12],
    [10, 1 / 8],
    [11, 1 / 12],
    [12, 1 / 24],
  ]);
  const counts = new Map<number, number>();
  const trials = 4000;
  const rng = new Rng(17);
  for (let s = 0; s < trials; s++) {
    const masses = Float64Array.from([3, 2, 4, 5]);
    const r = fixMassSample(masses, 4, 14, 10, rng);
    let kept = 0;
    for (let i = 0; i < r.n; i++) kept += masses[i]!;
    assert.equal(kept, r.total, 'the returned total is the mass of the halos kept');
    counts.set(r.total, (counts.get(r.total) ?? 0) + 1);
  }
  for (const [v, c] of counts) assert.ok(expected.has(v), `unexpected total ${v} (${c} times)`);
  for (const [v, pr] of expected) {
    const c = counts.get(v) ?? 0;
    const sd = Math.sqrt(trials * pr * (1 - pr));
    // binomial counts within 4 sigma
    assert.ok(Math.abs(c - trials * pr) < 4 * sd, `total ${v}: ${c} of ${trials}, expected ${(trials * pr).toFixed(0)}`);
  }
});

test('collapsed and rare descendants: mass thresholds agree with the per-descendant conditions', () => {
  const sl = new SigmaLookup(sig, 1e3, 1e17, 5e-3);
  for (const [zD, p] of [
    [7, testParams()],
    [0.5, testParams()],
    [7, testParams({ model: 'eps' })],
  ] as const) {
    const fc = firstCrossingOf(p);
    const zP = (1 + zD) * p.zStepFactor - 1;
    const Dd = growthFactor(CAMELS_CV, zD);
    const Dp = growthFactor(CAMELS_CV, zP);
    const lo = 1e4;
    const hi = 1e16;
    const th = descendantThresholds(sl, fc, Dd, Dp, p.maxDeltaCFrac, p.rareSigma, lo, hi);
    for (let i = 0; i <= 200; i++) {
      const lnM = Math.log(lo) + (i / 200) * Math.log(hi / lo);
      const c = descendantCondition(sl, fc, lnM, Dd, Dp);
      const collapsed = c.delta >= p.maxDeltaCFrac * c.deltaCrit;
      const rare = p.rareSigma * Math.sqrt(c.Sc) < c.deltaCrit;
      // away from the threshold itself (bisection to 1e-15 in ln M), the threshold decides like the condition
      if (Math.abs(lnM - th.lnMassCollapsed) > 1e-9) assert.equal(lnM <= th.lnMassCollapsed, collapsed, `z=${zD} ${p.model} M=${Math.exp(lnM)}: collapsed`);
      if (Math.abs(lnM - th.lnMassRare) > 1e-9) assert.equal(lnM >= th.lnMassRare, rare, `z=${zD} ${p.model} M=${Math.exp(lnM)}: rare`);
    }
    // at z = 7 the rare-halo cut lies inside [1e4, 1e16] Msun/h (7 sigma peaks at ~1e12 - 1e13)
    if (zD === 7) assert.ok(Number.isFinite(th.lnMassRare), 'a rare-halo threshold exists at z = 7');
  }
});
