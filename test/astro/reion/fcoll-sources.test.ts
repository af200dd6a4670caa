/**
 * The 'v3 Default' source model (src/astro/reion/fcoll-sources.ts): ζ f_coll(δ_R, M(R)) against an independent float64
 * quadrature of the CHMF, the collapsed-sphere limit, the mean fix per radius against an independent integral of the
 * unconditional HMF, and a tiny excursion-set run (monotone ⟨x_HI⟩, same seed → same boxes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV, RHO_CRIT0_H2 } from '../../../src/cosmo/params.js';
import { growthFactor } from '../../../src/cosmo/background.js';
import { conditionalFirstCrossing } from '../../../src/cosmo/conditional.js';
import { dndlnM } from '../../../src/cosmo/massfunction.js';
import { LinearPower } from '../../../src/cosmo/power.js';
import { SigmaM } from '../../../src/cosmo/sigma.js';
import { makeAstroParams } from '../../../src/astro/params.js';
import { galaxyProperties } from '../../../src/astro/galaxy/properties.js';
import { withoutScatter } from '../../../src/astro/galaxy/scatter-variants.js';
import { M_P_G, MSUN_G } from '../../../src/astro/galaxy/constants.js';
import { defaultSamplerParams } from '../../../src/astro/sampler/params.js';
import { FcollSources, sphereMass } from '../../../src/astro/reion/fcoll-sources.js';
import { reionise } from '../../../src/astro/reion/driver.js';
import { filterRadii, makeReionParams } from '../../../src/astro/reion/params.js';
import { Rng } from '../../../src/util/rng.js';

const cosmo = CAMELS_CV;
const sigma = new SigmaM(new LinearPower(cosmo));
const sampler = defaultSamplerParams(cosmo.h);
const astro = makeAstroParams({ F_ESC10: -0.3 }, 'test');
const minMass = 5e9 * cosmo.h;
// the 21cmFAST Sheth–Tormen HMF of the mean fix (as src/pipeline/sources-figures.ts HMF_REFERENCE)
const HMF = { model: 'st' as const, st: { A: 0.353, a: 0.73, p: 0.175 }, deltaC: 1.686 };
const sources = new FcollSources({ cosmo, sigma, astro, chmf: sampler, minMass, maxRadius: 30, massFunction: HMF });
/** Baryons per Msun/h of matter. */
const nbPerMass = ((cosmo.Omega_b / cosmo.Omega_m) * MSUN_G) / (M_P_G * cosmo.h);

/** Mean escaped ionising photons of a halo of mass m [Msun/h] (zero scatter): the q(M) of the model. */
function photons(m: Float64Array, z: number): Float64Array {
  const zero = new Float64Array(m.length);
  return galaxyProperties({ haloMassMsun: Float64Array.from(m, (x) => x / cosmo.h), z, cosmo, params: withoutScatter(astro), deviates: { star: zero, sfr: zero, xray: zero } }).nIon;
}

/**
 * Independent ζ f_coll: photons per baryon of a sphere of mass M_R at linear overdensity δ, from the reference
 * first-crossing distribution of src/cosmo/conditional.ts and σ(M) of SigmaM (no lookup table), composite Simpson in
 * v with u = ln(M_R/M) = U v² (the substitution crowds nodes where the integrand rises from 0 at M → M_R).
 */
function fcollReference(z: number, condMass: number, delta: number, nodes: number): number {
  const D = growthFactor(cosmo, z);
  const sc = sigma.sigma(condMass) * D;
  const U = Math.log(condMass / minMass);
  const v = Float64Array.from({ length: nodes }, (_, i) => i / (nodes - 1));
  const m = Float64Array.from(v, (x) => condMass * Math.exp(-U * x * x));
  const q = photons(m, z);
  let s = 0;
  for (let i = 1; i < nodes; i++) {
    const si = sigma.sigma(m[i]!) * D;
    const S = si * si;
    const dSdlnM = 2 * S * Math.abs(sigma.dlnSigmadlnM(m[i]!));
    const f = conditionalFirstCrossing(S, sc * sc, delta, { model: sampler.model, barrier: sampler.barrier, deltaC: sampler.deltaC });
    const integrand = (condMass / m[i]!) * f * dSdlnM * q[i]! * 2 * U * v[i]!; // dN/dv q, dln M = −U 2v dv
    s += (i === nodes - 1 ? 1 : i % 2 ? 4 : 2) * integrand;
  }
  return ((s / (3 * (nodes - 1))) / (condMass * nbPerMass));
}

test('ζ f_coll(δ_R, M(R)) of the radius tables equals an independent quadrature of the CHMF (cells at three radii)', () => {
  const z = 8;
  const s = sources.atRedshift(z);
  // one field of 8^3 "filtered" densities spanning a typical range; the table covers its extremes
  const deltas = Float64Array.from({ length: 512 }, (_, i) => -0.6 + (1.8 * i) / 511);
  const probes = [0, 100, 230, 300, 400];
  for (const R of [1.5, 5, 20]) {
    const condMass = sphereMass(cosmo, R);
    const raw = s.raw(R, deltas);
    assert.ok(Math.abs(raw.condMass / ((4 / 3) * Math.PI * R ** 3 * cosmo.Omega_m * RHO_CRIT0_H2) - 1) < 1e-14);
    for (const i of probes) {
      const d = deltas[i]!;
      const ref = fcollReference(z, condMass, d, 4001);
      // the reference has converged: halving its step changes it by < 1e-7
      assert.ok(Math.abs(fcollReference(z, condMass, d, 2001) / ref - 1) < 1e-7, `reference converged at R = ${R}, δ = ${d}`);
      // Tolerance 1e-4: ln f is interpolated linearly on 400 nodes 0.0045 apart, error ≤ (Δδ d ln f/dδ)² / 8 with
      // d ln f/dδ ≤ 5 here (6e-5); the module's Simpson on 257 mass nodes (converged to 3e-6: 4097 nodes change it by
      // that much) and its σ(M) lookup (1e-7) add little.
      const err = Math.abs(raw.photons[i]! / ref - 1);
      assert.ok(err < 1e-4, `R = ${R} Mpc/h, δ = ${d.toFixed(3)}: table ${raw.photons[i]} vs quadrature ${ref} (${err.toExponential(2)})`);
    }
    // the rate per baryon has its own table: ṅ_ion / n_ion of the galaxy model is mass-independent, so the ratio is the
    // one of a single halo
    const m1 = Float64Array.of(1e11);
    const zero = new Float64Array(1);
    const g = galaxyProperties({ haloMassMsun: m1, z, cosmo, params: withoutScatter(astro), deviates: { star: zero, sfr: zero, xray: zero } });
    for (const i of probes) assert.ok(Math.abs(raw.rate![i]! / raw.photons[i]! / (g.nIonDot[0]! / g.nIon[0]!) - 1) < 1e-9);
    // a denser sphere holds more collapsed mass (up to δ ≈ 0.75 B here: closer to the barrier the ST CHMF, whose mass
    // is not exactly conserved, piles its halos at M → M_R and Q(δ) turns over, in the code's tables as in these)
    for (let i = 1; deltas[i]! < 1; i++) assert.ok(raw.photons[i]! > raw.photons[i - 1]!, `R = ${R}: δ = ${deltas[i]}`);
  }
});

test('above 0.99 δ_crit(M_R) the sphere is one halo of its own mass, as Nion_ConditionalM', () => {
  const z = 9;
  const R = 2;
  const condMass = sphereMass(cosmo, R);
  const D = growthFactor(cosmo, z);
  const S = (sigma.sigma(condMass) * D) ** 2;
  // the code's barrier of the sphere: B(S) = sqrt(a) δ_c [1 + β (a δ_c² / S)^−α]
  const { a, alpha, beta } = sampler.barrier;
  const B = Math.sqrt(a) * sampler.deltaC * (1 + beta * Math.pow((a * sampler.deltaC ** 2) / S, -alpha));
  const deltas = Float64Array.from({ length: 64 }, (_, i) => 0.5 * B + (0.6 * B * i) / 63);
  const raw = sources.atRedshift(z).raw(R, deltas);
  const one = photons(Float64Array.of(condMass), z)[0]! / (condMass * nbPerMass);
  for (let i = 0; i < 64; i++) {
    // cells whose both table nodes lie above 0.99 B carry exactly f_* f_esc N_γ of the sphere's mass
    if (deltas[i]! > 0.99 * B + 0.02 * B) assert.ok(Math.abs(raw.photons[i]! / one - 1) < 1e-12, `δ/B = ${deltas[i]! / B}: ${raw.photons[i]} vs ${one}`);
  }
});

test('mean fix per radius: the box mean of every radius budget is the unconditional-HMF expectation', () => {
  const z = 7.5;
  const s = sources.atRedshift(z);
  // independent expectation: trapezoid on 4000 nodes in log10 M to 1e16 Msun/h (the module: Simpson on 801 in ln M);
  // both converge to 1e-6 for this smooth integrand, so 1e-4 is ample
  const nodes = 4000;
  const lo = Math.log10(minMass);
  const dl = (16 - lo) / (nodes - 1);
  const m = Float64Array.from({ length: nodes }, (_, i) => 10 ** (lo + i * dl));
  const q = photons(m, z);
  let e = 0;
  for (let i = 0; i < nodes; i++) e += (i === 0 || i === nodes - 1 ? 0.5 : 1) * dndlnM(sigma, m[i]!, z, HMF) * Math.LN10 * q[i]! * dl;
  const nb = cosmo.Omega_m * RHO_CRIT0_H2 * nbPerMass;
  assert.ok(Math.abs(s.meanPhotonsPerBaryon / (e / nb) - 1) < 1e-4, `${s.meanPhotonsPerBaryon} vs ${e / nb}`);
  const rng = new Rng(11);
  const field = Float64Array.from({ length: 16 ** 3 }, () => Math.max(-0.99, 0.4 * rng.normal()));
  for (const R of [3, 8, 25]) {
    const b = s.at(R, field);
    const raw = s.raw(R, field);
    const mean = b.photonsPerBaryon.reduce((x, v) => x + v, 0) / field.length;
    const meanRate = b.ratePerBaryon!.reduce((x, v) => x + v, 0) / field.length;
    // float64 sums of 4096 positive terms: 1e-12
    assert.ok(Math.abs(mean / s.meanPhotonsPerBaryon - 1) < 1e-12, `R = ${R}: box mean ${mean} vs ${s.meanPhotonsPerBaryon}`);
    assert.ok(Math.abs(meanRate / s.meanRatePerBaryon - 1) < 1e-12);
    // one factor for every cell, the ratio of the expectation to the raw mean
    for (const i of [0, 1000, 4095]) assert.ok(Math.abs(b.photonsPerBaryon[i]! / raw.photons[i]! / b.meanFix - 1) < 1e-12);
    assert.ok(Math.abs(b.meanFix * b.rawMean / s.meanPhotonsPerBaryon - 1) < 1e-12);
  }
  assert.deepEqual(s.applied.map((a) => a.R), [3, 8, 25]);
  assert.throws(() => s.at(0.01, field), /R = 0.01 Mpc\/h holds M = .* expected a sphere above minMass/);
  assert.throws(() => s.at(3, Float64Array.of(0, Number.NaN)), /δ_R\[1\] = NaN at R = 3 Mpc\/h: expected a finite overdensity/);
  assert.throws(() => new FcollSources({ cosmo, sigma, astro, chmf: sampler, minMass: 1e20, maxRadius: 30 }), /minMass = 100000000000000000000 Msun\/h: expected a positive mass below M\(R_max/);
});

test('tiny v3 run: ⟨x_HI⟩ falls with time, the same seed gives the same boxes, another seed others', () => {
  const n = 8;
  const L = 48; // cells of 6 Mpc/h: 20 radii
  const params = makeReionParams({ filter: 'tophat', recombinations: true });
  const radii = filterRadii(params, L, n, cosmo.h, false);
  const v3 = new FcollSources({ cosmo, sigma, astro, chmf: sampler, minMass, maxRadius: radii[radii.length - 1]!, massFunction: HMF, nDelta: 200, nMass: 256 });
  const redshifts = [9.4, 8.9, 8.4, 7.9];
  const run = (seed: number) => {
    const rng = new Rng(seed);
    const linear = Float64Array.from({ length: n ** 3 }, () => 1.5 * rng.normal()); // about σ(M_cell) at z = 0 for 6 Mpc/h cells
    return reionise({
      cosmology: cosmo,
      boxSize: L,
      grid: n,
      redshifts,
      density: (z) => Float64Array.from(linear, (v) => Math.max(v * growthFactor(cosmo, z), -0.95)),
      radiusSources: (z) => v3.atRedshift(z),
      params,
    });
  };
  const a = run(5);
  for (let k = 1; k < redshifts.length; k++) assert.ok(a.meanXHI[k]! < a.meanXHI[k - 1]!, `⟨x_HI⟩ ${Array.from(a.meanXHI).join(', ')}`);
  assert.ok(a.meanXHI[0]! > 0.5 && a.meanXHI[redshifts.length - 1]! < 0.5, `the run crosses its midpoint: ${Array.from(a.meanXHI).join(', ')}`);
  const b = run(5);
  for (let k = 0; k < redshifts.length; k++) assert.deepEqual(b.xHI[k], a.xHI[k]);
  assert.deepEqual(b.zReion, a.zReion);
  const c = run(6);
  assert.notDeepEqual(c.xHI[2], a.xHI[2]);
});
