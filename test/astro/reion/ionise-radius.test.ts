/**
 * The per-radius source path of `ionisationStep` (`sourceAt`, the v3 model's entry point): without it the source-grid
 * path is bit-identical to the excursion set as it stood before the path was added; a per-radius model that replays a
 * source grid reproduces that grid's ionisation exactly; the radii and the bad inputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV, RHO_CRIT0_H2, type Cosmology } from '../../../src/cosmo/params.js';
import { FourierGrid, expMfpWindow, tophatWindow } from '../../../src/astro/reion/filters.js';
import { ionisationStep, type RadiusSources } from '../../../src/astro/reion/ionise.js';
import { L_FACTOR, filterRadii, makeReionParams, type ReionParams } from '../../../src/astro/reion/params.js';
import { gammaPrefactor } from '../../../src/astro/reion/recombinations.js';
import { Rng } from '../../../src/util/rng.js';

const c = CAMELS_CV;
const rhoB = c.Omega_b * RHO_CRIT0_H2;

/** Random grids of one step: δ ≥ −0.9, n_ion and ṅ_ion around `photons` per baryon, N_rec, x_e. */
function fields(n: number, seed: number, photons: number) {
  const rng = new Rng(seed);
  const n3 = n ** 3;
  const delta = Float32Array.from({ length: n3 }, () => Math.max(-0.9, Math.exp(0.6 * rng.normal()) - 1.2));
  const nIon = Float32Array.from({ length: n3 }, () => photons * rhoB * Math.exp(1.5 * rng.normal()));
  const nIonRate = Float32Array.from(nIon, (v) => v * 3e-17);
  const nRec = Float32Array.from({ length: n3 }, () => 0.3 * rng.uniform());
  const xe = Float32Array.from({ length: n3 }, () => 0.05 * rng.uniform());
  return { delta, nIon, nIonRate, nRec, xe };
}

/**
 * The source-grid excursion set as ionise.ts implemented it before per-radius sources were added, transcribed
 * operation by operation (the same windows, clips and float64 arithmetic): the reference of the bit-identity test.
 */
function previousStep(s: { z: number; L: number; n: number; delta: Float32Array; nIon: Float32Array; nIonRate: Float32Array; nRec: Float32Array; xe: Float32Array; p: ReionParams; c: Cosmology }) {
  const n3 = s.n ** 3;
  const xHI = new Float32Array(n3).fill(1);
  const gamma12 = new Float32Array(n3);
  const flagged = new Uint8Array(n3);
  const radii = filterRadii(s.p, s.L, s.n, s.c.h).reverse();
  const fg = new FourierGrid(s.n, s.L);
  const gPre = gammaPrefactor(s.c, s.z, s.p.alphaUvb, s.p.yHe) / rhoB;
  const deltaK = fg.forward(s.delta, -1, 1e6);
  const srcK = fg.forward(s.nIon, 0);
  const rateK = fg.forward(s.nIonRate, 0);
  const xeK = fg.forward(s.xe);
  const last = radii.length - 1;
  for (let r = 0; r <= last; r++) {
    const R = radii[r]!;
    const cellStep = r === last;
    let dR: ArrayLike<number>, sR: ArrayLike<number>, qR: ArrayLike<number>, xR: ArrayLike<number>;
    if (cellStep) {
      dR = s.delta;
      sR = Float64Array.from(s.nIon, (v) => Math.max(v, 0));
      qR = Float64Array.from(s.nIonRate, (v) => Math.max(v, 0));
      xR = Float64Array.from(s.xe, (v) => Math.min(Math.max(v, 0), 0.999));
    } else {
      const wDen = fg.window((k) => tophatWindow(k * R));
      const wSrc = s.p.filter === 'exponential' ? fg.window((k) => expMfpWindow(k, R, s.p.mfp)) : wDen;
      const d = fg.apply(deltaK, wDen);
      for (let i = 0; i < n3; i++) if (d[i]! < -1 + 1e-7) d[i] = -1 + 1e-7;
      const src = fg.apply(srcK, wSrc);
      for (let i = 0; i < n3; i++) if (src[i]! < 0) src[i] = 0;
      const q = fg.apply(rateK, wSrc);
      for (let i = 0; i < n3; i++) if (q[i]! < 0) q[i] = 0;
      const x = fg.apply(xeK, wDen);
      for (let i = 0; i < n3; i++) x[i] = Math.min(Math.max(x[i]!, 0), 0.999);
      [dR, sR, qR, xR] = [d, src, q, x];
    }
    for (let i = 0; i < n3; i++) {
      const onePlus = 1 + dR[i]!;
      const f = sR[i]! / (rhoB * onePlus);
      const rec = s.nRec[i]! / onePlus;
      const xr = xR[i]!;
      if (f > (1 - xr) * (1 + rec)) {
        if (xHI[i]! > 1e-7) gamma12[i] = (R * gPre * qR[i]!) / onePlus;
        xHI[i] = 0;
        flagged[i] = 1;
      } else if (cellStep && xHI[i]! > 1e-30) {
        xHI[i] = Math.min(Math.max(1 - f - xr, 0), 1);
      }
    }
  }
  for (const t of [deltaK, srcK, rateK, xeK]) t.dispose();
  return { xHI, gamma12, flagged };
}

test('without sourceAt the source-grid path is bit-identical to the excursion set before per-radius sources', () => {
  const n = 16;
  const L = 24;
  const z = 7.5;
  const g = fields(n, 3, 0.2);
  for (const filter of ['exponential', 'tophat'] as const) {
    const p = makeReionParams({ filter, recombinations: true });
    const got = ionisationStep({ z, boxSize: L, grid: n, ...g, cosmology: c, params: p });
    const want = previousStep({ z, L, n, ...g, p, c });
    // a mixed box: some cells flagged at large radii, some at the cell step, some partially ionised
    const ion = got.flagged.reduce((a, v) => a + v, 0);
    assert.ok(ion > 0.1 * n ** 3 && ion < 0.9 * n ** 3, `${filter}: ${ion} of ${n ** 3} cells flagged`);
    assert.deepStrictEqual(got.xHI, want.xHI, `${filter}: x_HI`);
    assert.deepStrictEqual(got.gamma12, want.gamma12, `${filter}: Γ12`);
    assert.deepStrictEqual(got.flagged, want.flagged, `${filter}: flags`);
  }
});

test('a per-radius model that replays a source grid ionises exactly as that grid', () => {
  const n = 12;
  const L = 36; // 3 Mpc/h cells (> 1 Mpc): the grid path and the per-radius path use the same radii
  const z = 8;
  const g = fields(n, 8, 0.2);
  const p = makeReionParams({ filter: 'exponential', recombinations: true });
  const fg = new FourierGrid(n, L);
  const srcK = fg.forward(g.nIon, 0);
  const rateK = fg.forward(g.nIonRate, 0);
  const seen: number[] = [];
  const replay: RadiusSources = {
    meanPhotonsPerBaryon: g.nIon.reduce((a, v) => a + v, 0) / (n ** 3 * rhoB),
    at(R, deltaR, cellStep) {
      seen.push(R);
      const w = fg.window((k) => expMfpWindow(k, R, p.mfp));
      const s = cellStep ? Float64Array.from(g.nIon, (v) => Math.max(v, 0)) : fg.apply(srcK, w);
      const q = cellStep ? Float64Array.from(g.nIonRate, (v) => Math.max(v, 0)) : fg.apply(rateK, w);
      const photonsPerBaryon = new Float64Array(n ** 3);
      const ratePerBaryon = new Float64Array(n ** 3);
      for (let i = 0; i < n ** 3; i++) {
        photonsPerBaryon[i] = Math.max(s[i]!, 0) / (rhoB * (1 + deltaR[i]!));
        ratePerBaryon[i] = Math.max(q[i]!, 0) / (rhoB * (1 + deltaR[i]!));
      }
      return { photonsPerBaryon, ratePerBaryon };
    },
  };
  const grid = ionisationStep({ z, boxSize: L, grid: n, delta: g.delta, nIon: g.nIon, nIonRate: g.nIonRate, nRec: g.nRec, xe: g.xe, cosmology: c, params: p, fourier: fg });
  const radial = ionisationStep({ z, boxSize: L, grid: n, delta: g.delta, sourceAt: replay, nRec: g.nRec, xe: g.xe, cosmology: c, params: p, fourier: fg });
  srcK.dispose();
  rateK.dispose();
  const ion = grid.flagged.reduce((a, v) => a + v, 0);
  assert.ok(ion > 0.1 * n ** 3 && ion < 0.9 * n ** 3, `a mixed box: ${ion} of ${n ** 3} cells flagged`);
  assert.deepEqual(seen, Array.from(grid.radii), 'the model is asked at every radius, largest first');
  assert.deepStrictEqual(radial.xHI, grid.xHI);
  assert.deepStrictEqual(radial.flagged, grid.flagged);
  // Γ12 = R × prefactor × rate per baryon: the same numbers multiplied in another order (float32 output)
  for (let i = 0; i < n ** 3; i++) assert.ok(Math.abs(radial.gamma12[i]! - grid.gamma12[i]!) <= 1e-6 * grid.gamma12[i]!, `Γ12 of cell ${i}`);
});

test('per-radius sources: radii down to l_factor cells, the HII_ROUND_ERR test on the model mean, bad inputs', () => {
  const p = makeReionParams({ recombinations: false });
  // 0.37 Mpc cells (R_BUBBLE_MIN lowered below them): 1 cell for source grids (the code's rule), l_factor cells without
  const small = makeReionParams({ recombinations: false, rBubbleMinMpc: 0.1 });
  assert.ok(Math.abs(filterRadii(small, 16, 64, c.h)[0]! / (16 / 64) - 1) < 1e-12);
  assert.ok(Math.abs(filterRadii(small, 16, 64, c.h, false)[0]! / ((L_FACTOR * 16) / 64) - 1) < 1e-12);
  const n = 4;
  const delta = new Float32Array(n ** 3);
  let calls = 0;
  const dim: RadiusSources = {
    meanPhotonsPerBaryon: 1e-6,
    at() {
      calls++;
      return { photonsPerBaryon: new Float64Array(n ** 3).fill(2) };
    },
  };
  const quiet = ionisationStep({ z: 9, boxSize: 8, grid: n, delta, sourceAt: dim, cosmology: c, params: p });
  assert.equal(quiet.meanXHI, 1);
  assert.equal(calls, 0, 'a box whose expected photons per baryon are below 1e-5 is left neutral without asking the model');
  const lit = ionisationStep({ z: 9, boxSize: 8, grid: n, delta, sourceAt: { ...dim, meanPhotonsPerBaryon: 2 }, cosmology: c, params: p });
  assert.equal(lit.meanXHI, 0);
  assert.throws(() => ionisationStep({ z: 9, boxSize: 8, grid: n, delta, cosmology: c, params: p }), /give exactly one of nIon .* and sourceAt/);
  assert.throws(() => ionisationStep({ z: 9, boxSize: 8, grid: n, delta, nIon: delta, sourceAt: dim, cosmology: c, params: p }), /give exactly one of nIon/);
  const withRec = makeReionParams({ recombinations: true });
  assert.throws(
    () => ionisationStep({ z: 9, boxSize: 8, grid: n, delta, sourceAt: { ...dim, meanPhotonsPerBaryon: 2 }, nRec: delta, cosmology: c, params: withRec }),
    /sourceAt\(R = [\d.]+\) gave no ratePerBaryon, required when params.recombinations is true/,
  );
  const short: RadiusSources = { meanPhotonsPerBaryon: 2, at: () => ({ photonsPerBaryon: new Float64Array(3) }) };
  assert.throws(() => ionisationStep({ z: 9, boxSize: 8, grid: n, delta, sourceAt: short, cosmology: c, params: p }), /photonsPerBaryon has 3 values, expected N\^3 = 64/);
});
