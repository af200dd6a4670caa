/**
 * The cell-CHMF integrals of src/astro/reion/chmf-sources.ts with an upper mass (the sub-sampler component of the
 * sampled models): additivity of the mass ranges, and the mean fix of a truncated range against an independent
 * integral of the unconditional HMF.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { growthFactor } from '../../../src/cosmo/background.js';
import { dndlnM } from '../../../src/cosmo/massfunction.js';
import { CAMELS_CV, RHO_CRIT0_H2 } from '../../../src/cosmo/params.js';
import { LinearPower } from '../../../src/cosmo/power.js';
import { SigmaM } from '../../../src/cosmo/sigma.js';
import { makeAstroParams } from '../../../src/astro/params.js';
import { galaxyProperties } from '../../../src/astro/galaxy/properties.js';
import { mimicScatterInMeans, withoutScatter, withRelationNormalisation } from '../../../src/astro/galaxy/scatter-variants.js';
import { meanGalaxyQuantities } from '../../../src/astro/reion/chmf-sources.js';
import { chmfSourceGrids, conditionalIntegrals } from '../../../src/astro/reion/chmf-sources.js';
import { SigmaLookup } from '../../../src/astro/sampler/chmf.js';
import { defaultSamplerParams } from '../../../src/astro/sampler/params.js';
import { firstCrossingOf } from '../../../src/astro/sampler/tables.js';
import { belowSamplerRange } from '../../../src/pipeline/sources-models.js';

const cosmo = CAMELS_CV;
const sigma = new SigmaM(new LinearPower(cosmo));
const sampler = defaultSamplerParams(cosmo.h);
const astro = makeAstroParams({ F_ESC10: -0.3 }, 'test');
const HMF = { model: 'st' as const, st: { A: 0.353, a: 0.73, p: 0.175 }, deltaC: 1.686 };

test('conditional integrals with an upper mass: [M_lo, M_mid] + [M_mid, M_cell] = [M_lo, M_cell] in every condition', () => {
  const z = 8;
  const condMass = cosmo.Omega_m * RHO_CRIT0_H2 * 2 ** 3; // a 2 Mpc/h cell
  const lo = 1e7 * cosmo.h;
  const mid = 1e9 * cosmo.h;
  const common = {
    sigma: new SigmaLookup(sigma, lo * 0.99, condMass * 1.01),
    firstCrossing: firstCrossingOf(sampler),
    growth: growthFactor(cosmo, z),
    condMass,
    z,
    cosmo,
    astro,
    nMass: 2049,
    rule: 'expm1-simpson' as const,
    deltas: [-0.8, -0.4, 0, 0.5, 1.2],
    quantities: ['nIon', 'sfr'] as const,
  };
  const whole = conditionalIntegrals({ ...common, minMass: lo });
  const low = conditionalIntegrals({ ...common, minMass: lo, maxMass: mid });
  const high = conditionalIntegrals({ ...common, minMass: mid });
  for (let q = 0; q < 2; q++) {
    for (let i = 0; i < common.deltas.length; i++) {
      // each part converges to 1e-6 with 2049 Simpson nodes (the rule's test case); 1e-5 leaves room for the sum
      const sum = low[q]![i]! + high[q]![i]!;
      assert.ok(Math.abs(sum / whole[q]![i]! - 1) < 1e-5, `quantity ${q}, δ = ${common.deltas[i]}: ${sum} vs ${whole[q]![i]}`);
      assert.ok(low[q]![i]! > 0 && high[q]![i]! > 0);
    }
  }
  // the rule of 'CHMF on Grid' (257 Simpson nodes) has converged in underdense and overdense cells alike (largest
  // error 2.8e-5, at δ = −0.8 over the 4.5 decades from 1e7 Msun; the former trapezoid was ~2% low at δ = −0.6)
  const coarse = conditionalIntegrals({ ...common, minMass: lo, nMass: 257 });
  for (let i = 0; i < common.deltas.length; i++) {
    const err = Math.abs(coarse[0]![i]! / whole[0]![i]! - 1);
    assert.ok(err < 1e-4, `δ = ${common.deltas[i]}: 257 nodes ${coarse[0]![i]} vs 2049 ${whole[0]![i]} (${err.toExponential(2)})`);
  }
  // an upper mass above the condition mass is the condition mass
  assert.deepEqual(conditionalIntegrals({ ...common, minMass: mid, maxMass: 10 * condMass }), high);
  assert.throws(() => conditionalIntegrals({ ...common, minMass: mid, maxMass: mid }), /expected a positive mass below/);
});

test('a truncated mass range is mean-fixed to the unconditional HMF integral over that range', () => {
  const grid = 8;
  const boxSize = 16;
  const z = 7;
  const density = Float64Array.from({ length: grid ** 3 }, (_, i) => 0.7 * Math.sin(0.41 * i) * Math.cos(0.13 * i));
  const range = belowSamplerRange(astro, sampler.minMass * 50, cosmo.h)!;
  assert.ok(Math.abs(range.min / cosmo.h / (10 ** astro.M_TURN / 50) - 1) < 1e-12);
  assert.equal(belowSamplerRange(astro, range.min, cosmo.h), null);
  const g = chmfSourceGrids({ density, grid, boxSize, z, cosmo, sigma, astro, chmf: sampler, minMass: range.min, maxMass: range.max, densityKind: 'eulerian', massFunction: HMF });
  // independent expectation: trapezoid on 3000 nodes in log10 M over the range (converged to 1e-7 for this smooth
  // integrand; the module uses Simpson on 801 nodes in ln M)
  const nodes = 3000;
  const l0 = Math.log10(range.min);
  const dl = (Math.log10(range.max) - l0) / (nodes - 1);
  const m = Float64Array.from({ length: nodes }, (_, i) => 10 ** (l0 + i * dl));
  const zero = new Float64Array(nodes);
  const gal = galaxyProperties({ haloMassMsun: Float64Array.from(m, (x) => x / cosmo.h), z, cosmo, params: withoutScatter(astro), deviates: { star: zero, sfr: zero, xray: zero } });
  let expect = 0;
  for (let i = 0; i < nodes; i++) expect += (i === 0 || i === nodes - 1 ? 0.5 : 1) * dndlnM(sigma, m[i]!, z, HMF) * Math.LN10 * gal.nIon[i]! * dl;
  const mean = g.nIon.reduce((s, v) => s + v, 0) / grid ** 3;
  assert.ok(Math.abs(mean / expect - 1) < 1e-4, `box mean ${mean} vs ${expect}`);
  // less than the whole range above the same lower mass, and denser cells hold more
  const all = chmfSourceGrids({ density, grid, boxSize, z, cosmo, sigma, astro, chmf: sampler, minMass: range.min, densityKind: 'eulerian', massFunction: HMF });
  assert.ok(g.expected.nIon < all.expected.nIon);
  const order = Array.from(density.keys()).sort((a, b) => density[a]! - density[b]!);
  for (let k = 1; k < order.length; k++) assert.ok(g.nIon[order[k]!]! >= g.nIon[order[k - 1]!]! * (1 - 1e-9));
});

test('median relations: the zero-scatter quantities of mimicScatterInMeans are the linear means of the scattered galaxies', () => {
  const median = withRelationNormalisation(astro, 'median');
  assert.equal(mimicScatterInMeans(astro), astro, 'mean-normalised relations are already linear means');
  const z = 8;
  const masses = [3e8, 1e10, 1e11].map((m) => m * cosmo.h);
  const mean = meanGalaxyQuantities(masses, z, cosmo, mimicScatterInMeans(median));
  const plain = meanGalaxyQuantities(masses, z, cosmo, median);
  // Monte Carlo over the log-normal deviates of the median relations: 200 000 galaxies per mass
  const N = 200_000;
  masses.forEach((m, j) => {
    const g = galaxyProperties({ haloMassMsun: new Float64Array(N).fill(m / cosmo.h), z, cosmo, params: median, seed: 7 + j });
    const avg = (a: Float64Array): number => a.reduce((s, v) => s + v, 0) / N;
    // M_*: e^{σ²/2} exactly (σ_* = 0.25 dex: ×1.18); relative MC error sqrt(e^{σ²} − 1)/sqrt(N) = 1.3e-3, so 1%
    const ms = avg(g.stellarMass);
    assert.ok(Math.abs(mean.stellarMass[j]! / ms - 1) < 0.01, `M_h = ${m}: M_* ${mean.stellarMass[j]} vs MC ${ms}`);
    assert.ok(plain.stellarMass[j]! < 0.9 * ms, 'without the factor the median is well below the mean');
    // SFR: the code's factor e^{σ_SFR,lim²/2} is a lower limit, as it says (the SFMS scatter grows above σ_SFR,lim at
    // low M_*): measured 0.21, 0.68 and 0.92 of the MC mean at 3e8, 1e10 and 1e11 Msun (docs/astro-reionisation.md)
    const sfr = avg(g.sfr);
    assert.ok(mean.sfr[j]! <= sfr * 1.01 && mean.sfr[j]! > plain.sfr[j]!, `M_h = ${m}: SFR ${mean.sfr[j]} vs MC ${sfr}`);
  });
});
