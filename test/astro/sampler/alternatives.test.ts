import { test } from 'node:test';
import assert from 'node:assert/strict';
import { erfc, progenitorCondition } from '../../../src/cosmo/conditional.js';
import { CAMELS_CV } from '../../../src/cosmo/params.js';
import { gaussianTail, splitJ } from '../../../src/astro/sampler/alternatives.js';
import { HaloBuffer } from '../../../src/astro/sampler/buffer.js';
import { validateMergerHistory } from '../../../src/astro/sampler/catalogue.js';
import { SigmaLookup } from '../../../src/astro/sampler/chmf.js';
import { sampleHaloField } from '../../../src/astro/sampler/halo-field.js';
import { sampleProgenitors } from '../../../src/astro/sampler/progenitors.js';
import { firstCrossingOf } from '../../../src/astro/sampler/tables.js';
import { Rng } from '../../../src/util/rng.js';
import { H, directIntegral, optsOf, sigmaCamels, testParams } from './helpers.js';

const sig = sigmaCamels();

test('Gaussian tail draws follow P(X > x | X > a) = erfc(x / sqrt 2) / erfc(a / sqrt 2)', () => {
  const rng = new Rng(8);
  for (const a of [0.3, 2.5]) {
    const n = 20000;
    const xs = Array.from({ length: n }, () => gaussianTail(rng, a)).sort((p, q) => p - q);
    let ks = 0;
    for (let i = 0; i < n; i++) {
      const cdf = 1 - erfc(xs[i]! / Math.SQRT2) / erfc(a / Math.SQRT2);
      ks = Math.max(ks, Math.abs(cdf - (i + 0.5) / n));
    }
    assert.ok(xs[0]! > a);
    // Kolmogorov-Smirnov distance: 1.63 / sqrt(n) is the 1% critical value
    assert.ok(ks < 1.63 / Math.sqrt(n), `a=${a}: KS ${ks}`);
  }
});

test('J(u) of the binary split (Parkinson et al. 2008, Eq. A7) in closed form', () => {
  for (const u of [0.01, 0.5, 3, 20]) {
    assert.equal(splitJ(u, 0), u);
    // gamma1 = -1: ∫ x / sqrt(1 + x^2) dx = sqrt(1 + u^2) - 1
    assert.ok(Math.abs(splitJ(u, -1) / (Math.sqrt(1 + u * u) - 1) - 1) < 1e-6, `u=${u}`);
    // gamma1 = 0.5: max(1, x^-1/2) <= (1 + 1/x^2)^(1/4) <= 1 + x^-1/2, so max(u, 2 sqrt u) <= J <= u + 2 sqrt u
    const j = splitJ(u, 0.5);
    assert.ok(j > u && j > 2 * Math.sqrt(u) && j < u + 2 * Math.sqrt(u), `u=${u}: ${j}`);
  }
  assert.throws(() => splitJ(1, 1), /gamma1 = 1/);
});

test('partition and binary-split progenitors follow the EPS CHMF for one step (Davies et al. 2025, Appendix B)', () => {
  const z = 7;
  const p = testParams({ model: 'eps', haloMassCorrection: 1 });
  const zProg = (1 + z) * p.zStepFactor - 1;
  const sl = new SigmaLookup(sig, p.minMass / 8, 1e14, 5e-3);
  const opts = optsOf(p);
  for (const method of ['partition', 'binary-split'] as const) {
    for (const Msun of [1e10, 1e11]) {
      const Md = Msun * H;
      const n = 1500;
      const out = new HaloBuffer();
      sampleProgenitors({
        sigma: sl,
        firstCrossing: firstCrossingOf(p),
        mass: new Float64Array(n).fill(Md),
        pos: new Float32Array(3 * n).fill(1),
        zDesc: z,
        zProg,
        boxSize: 50,
        params: p,
        method,
        rng: new Rng(12),
        out,
      });
      const { mass, parent } = out.arrays();
      const delta = progenitorCondition(sig, Md, z, zProg, opts);
      const Nexp = directIntegral(sig, p.minMass, Md, delta, zProg, opts) * n;
      const Mexp = directIntegral(sig, p.minMass, Md, delta, zProg, opts, true) * n;
      let M = 0;
      for (const m of mass) M += m;
      // partition: the paper's "slight excess" (measured +2% in mass, <= +11% in number at 1e12 Msun);
      // binary split: the EPS merger rate itself on small internal steps (measured within 1.5%)
      const [tolN, tolM] = method === 'partition' ? [0.15, 0.05] : [0.05, 0.03];
      assert.ok(Math.abs(out.count / Nexp - 1) < tolN, `${method} M_desc=${Msun}: N ${out.count} vs ${Nexp.toFixed(0)}`);
      assert.ok(Math.abs(M / Mexp - 1) < tolM, `${method} M_desc=${Msun}: M ${M} vs ${Mexp}`);
      assert.ok(mass.every((m) => m >= p.minMass && m <= Md) && parent.every((d) => d >= 0 && d < n));
    }
  }
});

test('sampleHaloField runs the alternative samplers end to end', () => {
  for (const progenitorMethod of ['partition', 'binary-split', 'number-limited'] as const) {
    const f = sampleHaloField({ cosmology: CAMELS_CV, sigma: sig, boxSize: 20, grid: 10, hiresFactor: 1, zLowest: 8, zMax: 8.2, minMass: 1e9 * H, seed: 2, sampler: { model: 'eps', progenitorMethod } });
    validateMergerHistory(f);
    assert.ok(f.catalogues[1]!.count > 0.5 * f.catalogues[0]!.count, `${progenitorMethod}: ${f.catalogues[1]!.count} of ${f.catalogues[0]!.count}`);
  }
});
