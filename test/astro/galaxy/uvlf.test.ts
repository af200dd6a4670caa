// UV luminosity functions: a Monte-Carlo galaxy population drawn from the Sheth-Tormen mass function
// against the analytic expectation, an independent float64 re-computation of that expectation, and the
// zero-scatter limit against the change-of-variables form dn/dM / |dM_UV/dM| used by the code's ComputeLF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dndlnM } from '../../../src/cosmo/massfunction.js';
import { bisect, simpson } from '../../../src/cosmo/numeric.js';
import { makeCosmology } from '../../../src/cosmo/params.js';
import { LinearPower } from '../../../src/cosmo/power.js';
import { SigmaM } from '../../../src/cosmo/sigma.js';
import { erfc } from '../../../src/cosmo/conditional.js';
import { ASTRO_DEFAULTS, makeAstroParams } from '../../../src/astro/params.js';
import { galaxyProperties } from '../../../src/astro/galaxy/properties.js';
import { analyticUvLuminosityFunction, uvLuminosityFunction } from '../../../src/astro/galaxy/uvlf.js';
import { Rng } from '../../../src/util/rng.js';

const cosmo = makeCosmology({ Omega_m: 0.3096, Omega_b: 0.04897, h: 0.6766, n_s: 0.9665, sigma8: 0.8102 });
const sigma = new SigmaM(new LinearPower(cosmo, { transfer: 'eh' }), { log10Mmin: 6, log10Mmax: 15 });
const h = cosmo.h;
const Z = 8;
const M_MIN = 1e8;
const M_MAX = 1e12;
const EDGES = Array.from({ length: 15 }, (_, i) => -23 + i); // -23 ... -9

/** dn/dln M [Mpc^-3] at M [Msun]. */
function dn(M: number): number {
  return dndlnM(sigma, M * h, Z) * h ** 3;
}

/** Halo masses [Msun] of a Poisson sample of the mass function in a volume [Mpc^3] (inverse CDF in ln M). */
function sampleHalos(volumeMpc3: number, seed: number): Float64Array {
  const n = 4001;
  const a = Math.log(M_MIN);
  const d = (Math.log(M_MAX) - a) / (n - 1);
  const cum = new Float64Array(n);
  let prev = dn(M_MIN);
  for (let i = 1; i < n; i++) {
    const cur = dn(Math.exp(a + i * d));
    cum[i] = cum[i - 1]! + 0.5 * d * (prev + cur);
    prev = cur;
  }
  const rng = new Rng(seed);
  const count = rng.poisson(cum[n - 1]! * volumeMpc3);
  const out = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const u = rng.uniform() * cum[n - 1]!;
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! <= u) lo = mid;
      else hi = mid;
    }
    const f = (u - cum[lo]!) / (cum[hi]! - cum[lo]!);
    out[k] = Math.exp(a + (lo + f) * d);
  }
  return out;
}

test('a Monte-Carlo galaxy sample from the mass function reproduces the analytic φ(M_UV) within Poisson errors', () => {
  const boxSize = 20; // Mpc/h: (29.6 Mpc)^3, about 1.2e5 halos above 1e8 Msun at z = 8
  const volume = (boxSize / h) ** 3;
  const masses = sampleHalos(volume, 5);
  const gal = galaxyProperties({ haloMassMsun: masses, z: Z, cosmo, params: ASTRO_DEFAULTS, seed: 6 });
  const lf = uvLuminosityFunction(gal.muv, { boxSize, h, edges: EDGES });
  const an = analyticUvLuminosityFunction({
    edges: EDGES,
    z: Z,
    cosmo,
    params: ASTRO_DEFAULTS,
    sigma,
    haloMassMinMsun: M_MIN,
    haloMassMaxMsun: M_MAX,
  });
  assert.ok(Math.abs(masses.length / (an.haloNumberDensity * volume) - 1) < 4 / Math.sqrt(masses.length), 'halo count');
  let chi2 = 0;
  let dof = 0;
  for (let k = 0; k < lf.phi.length; k++) {
    const expected = an.phi[k]! * volume * (EDGES[k + 1]! - EDGES[k]!);
    if (expected < 5) continue;
    const pull = (lf.counts[k]! - expected) / Math.sqrt(expected);
    assert.ok(Math.abs(pull) < 4, `bin ${lf.centres[k]}: ${lf.counts[k]} vs ${expected.toFixed(1)}`);
    // phiErr is the Poisson error of phi.
    assert.ok(Math.abs(lf.phiErr[k]! - Math.sqrt(lf.counts[k]!) / (volume * (EDGES[k + 1]! - EDGES[k]!))) < 1e-15);
    chi2 += pull * pull;
    dof++;
  }
  assert.ok(dof >= 8, `enough populated bins (${dof})`);
  // χ² of dof independent bins: mean dof, sd sqrt(2 dof).
  assert.ok(chi2 < dof + 4 * Math.sqrt(2 * dof), `chi2 ${chi2.toFixed(1)} for ${dof} bins`);
  if (process.env.LODI_VERBOSE)
    console.log(`MC vs analytic UV LF: chi2 ${chi2.toFixed(2)} for ${dof} bins, ${masses.length} halos`);
});

test('the analytic φ(M_UV) agrees with an independent float64 integration (midpoint rules, formulas written out)', () => {
  const an = analyticUvLuminosityFunction({
    edges: EDGES,
    z: Z,
    cosmo,
    params: ASTRO_DEFAULTS,
    sigma,
    haloMassMinMsun: M_MIN,
    haloMassMaxMsun: M_MAX,
  });
  const LN10 = Math.log(10);
  const sStar = 0.25 * LN10;
  const pivot = 10 ** 11.447;
  const E = Math.sqrt(cosmo.Omega_m * (1 + Z) ** 3 + 1 - cosmo.Omega_m);
  const hubblePerYr = ((100 * h * E) / 3.085677581491367e19) * 31556925.9747;
  const Phi = (x: number): number => 0.5 * erfc(-x / Math.SQRT2);
  const nM = 600; // midpoints over 4 dex
  const dl = (Math.log(M_MAX) - Math.log(M_MIN)) / nM;
  const dg = 0.1;
  const phi = new Float64Array(EDGES.length - 1);
  let gNorm = 0;
  for (let g = -8 + dg / 2; g < 8; g += dg) gNorm += Math.exp((-g * g) / 2);
  for (let i = 0; i < nM; i++) {
    const M = Math.exp(Math.log(M_MIN) + (i + 0.5) * dl);
    const w = dn(M) * dl;
    const mu =
      (10 ** -1.3 * ((pivot / 1e10) ** 0.5 + (pivot / 1e10) ** -0.6)) / ((M / pivot) ** -0.5 + (M / pivot) ** 0.6);
    for (let g = -8 + dg / 2; g < 8; g += dg) {
      const f = Math.min(mu * Math.exp(-(10 ** 8.7) / M + g * sStar - (sStar * sStar) / 2), 1);
      const ms = (f * M * cosmo.Omega_b) / cosmo.Omega_m;
      const s = Math.max(0.19, 0.19 - 0.12 * Math.log10(ms / 1e10)) * LN10;
      const medianSfr = ((ms * hubblePerYr) / 0.5) * Math.exp((-s * s) / 2);
      const m0 = 51.63 - 2.5 * Math.log10(medianSfr / 1.15e-28);
      const sd = (2.5 / LN10) * s;
      const wg = (w * Math.exp((-g * g) / 2)) / gNorm;
      for (let k = 0; k < phi.length; k++)
        phi[k]! += wg * (Phi((EDGES[k + 1]! - m0) / sd) - Phi((EDGES[k]! - m0) / sd));
    }
  }
  let worst = 0;
  for (let k = 0; k < phi.length; k++) {
    const rel = Math.abs(an.phi[k]! / phi[k]! - 1);
    // Both sides are converged quadratures of the same integral (measured worst 2.5e-6); allow 1e-4.
    assert.ok(rel < 1e-4, `bin ${an.centres[k]}: ${an.phi[k]} vs ${phi[k]}`);
    worst = Math.max(worst, rel);
  }
  if (process.env.LODI_VERBOSE)
    console.log(`analytic UV LF vs independent integration: worst ${worst.toExponential(2)}`);
});

test('without scatter the binned φ equals ∫ dn/dlnM over the halo masses that map into each bin', () => {
  const p = makeAstroParams({ SIGMA_STAR: 0, SIGMA_SFR_LIM: 0, SIGMA_LX: 0 }, 'test');
  const edges = [-21, -20, -19, -18, -17, -16, -15, -14, -13];
  const an = analyticUvLuminosityFunction({
    edges,
    z: Z,
    cosmo,
    params: p,
    sigma,
    haloMassMinMsun: M_MIN,
    haloMassMaxMsun: M_MAX,
    pointsPerDex: 2000,
  });
  // M_UV(M) of the median galaxy, from galaxyProperties with zero deviates; monotonic in M here.
  const muvOf = (lnM: number): number =>
    galaxyProperties({
      haloMassMsun: [Math.exp(lnM)],
      z: Z,
      cosmo,
      params: p,
      deviates: { star: [0], sfr: [0], xray: [0] },
    }).muv[0]!;
  let worst = 0;
  const lnEdge = edges.map((e) => bisect((x) => muvOf(x) - e, Math.log(M_MIN), Math.log(M_MAX), 1e-10));
  for (let k = 0; k < edges.length - 1; k++) {
    // Brighter (more negative) edge ↔ heavier halo.
    const a = lnEdge[k + 1]!;
    const b = lnEdge[k]!;
    const n = 401;
    const y = Float64Array.from({ length: n }, (_, i) => dn(Math.exp(a + ((b - a) * i) / (n - 1))));
    const want = simpson(y, (b - a) / (n - 1)) / (edges[k + 1]! - edges[k]!);
    // Step-function integrand: the error is first order in the mass step, ~(ln10/2000)/(0.6 per bin).
    assert.ok(Math.abs(an.phi[k]! / want - 1) < 5e-3, `bin ${an.centres[k]}: ${an.phi[k]} vs ${want}`);
    worst = Math.max(worst, Math.abs(an.phi[k]! / want - 1));
  }
  if (process.env.LODI_VERBOSE)
    console.log(`zero-scatter UV LF vs mass-interval integral: worst ${worst.toExponential(2)}`);
});

test('uvLuminosityFunction: counts per bin, volume in Mpc from Mpc/h, non-finite magnitudes ignored', () => {
  const muv = [-20.5, -20.2, -19.9, -19.5, -18, Infinity, Number.NaN, -25];
  const lf = uvLuminosityFunction(muv, { boxSize: 100, h: 0.5, edges: [-21, -20, -19] });
  assert.equal(lf.volumeMpc3, 200 ** 3);
  assert.deepEqual(Array.from(lf.counts), [2, 2]);
  assert.deepEqual(Array.from(lf.phi), [2 / 200 ** 3, 2 / 200 ** 3]);
  assert.deepEqual(Array.from(lf.centres), [-20.5, -19.5]);
  assert.throws(
    () => uvLuminosityFunction(muv, { boxSize: 100, h: 0.5, edges: [-21, -21] }),
    /edges must increase strictly/,
  );
  assert.throws(
    () => uvLuminosityFunction(muv, { boxSize: 0, h: 0.5, edges: [-21, -20] }),
    /boxSize must be > 0 \[Mpc\/h\], got 0/,
  );
  assert.throws(
    () =>
      analyticUvLuminosityFunction({
        edges: EDGES,
        z: Z,
        cosmo: makeCosmology({ ...cosmo, h: 0.7 }),
        params: ASTRO_DEFAULTS,
        sigma,
        haloMassMinMsun: M_MIN,
        haloMassMaxMsun: M_MAX,
      }),
    /cosmo must be the cosmology of the sigma table/,
  );
  assert.throws(
    () =>
      analyticUvLuminosityFunction({
        edges: EDGES,
        z: Z,
        cosmo,
        params: ASTRO_DEFAULTS,
        sigma,
        haloMassMinMsun: 1e10,
        haloMassMaxMsun: 1e9,
      }),
    /need 0 < haloMassMinMsun < haloMassMaxMsun, got 10000000000 and 1000000000/,
  );
});
