import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV, RHO_CRIT0_H2 } from '../../../src/cosmo/index.js';
import { FourierGrid } from '../../../src/astro/reion/filters.js';
import { gridHaloQuantity } from '../../../src/astro/reion/grid.js';
import { ionisationStep } from '../../../src/astro/reion/ionise.js';
import { filterRadii, makeReionParams } from '../../../src/astro/reion/params.js';
import { CODE_CONSTANTS, numberDensities } from '../../../src/astro/reion/recombinations.js';

const c = CAMELS_CV;
const rhoB = c.Omega_b * RHO_CRIT0_H2;

function uniform(n: number, v: number): Float32Array {
  return new Float32Array(n ** 3).fill(v);
}

test('uniform emissivity: more than 1 + N_rec photons per baryon ionises every cell, fewer leaves x_HI = 1 − f', () => {
  const n = 8;
  const L = 16;
  const fg = new FourierGrid(n, L);
  for (const filter of ['tophat', 'exponential'] as const) {
    const params = makeReionParams({ filter, recombinations: false });
    const delta = uniform(n, 0);
    const run = (q: number): Float32Array => ionisationStep({ z: 8, boxSize: L, grid: n, delta, nIon: uniform(n, q * rhoB), cosmology: c, params, fourier: fg }).xHI;
    for (const v of run(1.3)) assert.equal(v, 0, `${filter}: q = 1.3 ionises`);
    // partial ionisation in the cell step: x_HI = 1 − q (float32 output)
    for (const v of run(0.6)) assert.ok(Math.abs(v - 0.4) < 1e-6, `${filter}: q = 0.6 gives x_HI ${v}`);
    // an overdense box needs more photons: q / (1 + δ) is what counts
    const dense = ionisationStep({ z: 8, boxSize: L, grid: n, delta: uniform(n, 0.5), nIon: uniform(n, 1.2 * rhoB), cosmology: c, params, fourier: fg });
    for (const v of dense.xHI) assert.ok(Math.abs(v - (1 - 1.2 / 1.5)) < 1e-6);
  }
});

test('recombinations raise the threshold to 1 + N_rec/(1+δ); Γ12 of a newly ionised cell follows the code formula', () => {
  const n = 8;
  const L = 16;
  const z = 7;
  const params = makeReionParams({ filter: 'tophat', recombinations: true });
  const rate = 3e-17; // photons per baryon per second
  const step = (nRec: number) =>
    ionisationStep({ z, boxSize: L, grid: n, delta: uniform(n, 0), nIon: uniform(n, 1.5 * rhoB), nIonRate: uniform(n, rate * rhoB), nRec: uniform(n, nRec), cosmology: c, params });
  const blocked = step(0.7); // 1.5 < 1.7: not ionised; the code's partial rule then gives x_HI = max(0, 1 − 1.5) = 0
  for (let i = 0; i < n ** 3; i++) {
    assert.equal(blocked.xHI[i], 0);
    assert.equal(blocked.gamma12[i], 0, 'no Γ12: the cell was never flagged ionised');
  }
  const open = step(0.3);
  // flagged at the largest radius: Γ12 = R (1+z)^2 cm/Mpc σ_HI α/(α+2.75) n_b0 ṅ/ρ_b / 1e-12, R in Mpc
  const rMax = filterRadii(params, L, n, c.h).at(-1)! / c.h;
  const { nB0 } = numberDensities(c, 0.24);
  const want = (rMax * (1 + z) ** 2 * CODE_CONSTANTS.cmPerMpc * CODE_CONSTANTS.sigmaHI * (5 / 7.75) * nB0 * rate) / 1e-12;
  for (let i = 0; i < n ** 3; i++) {
    assert.equal(open.xHI[i], 0);
    assert.ok(Math.abs(open.gamma12[i]! / want - 1) < 1e-6, `Γ12 ${open.gamma12[i]} vs ${want}`);
  }
  assert.throws(() => ionisationStep({ z, boxSize: L, grid: n, delta: uniform(n, 0), nIon: uniform(n, 1), cosmology: c, params }), /nIonRate .* required/);
});

/** Equivalent radius [cells] of the ionised cells, and the farthest ionised cell from the source. */
function ionisedRadius(xHI: Float32Array): number {
  let cnt = 0;
  for (const v of xHI) if (v === 0) cnt++;
  return Math.cbrt((3 * cnt) / (4 * Math.PI));
}

test('one point source: ionised volume matches the Strömgren-like count for both filters', () => {
  const n = 32;
  const L = 32; // 1 Mpc/h cells
  const fg = new FourierGrid(n, L);
  const Rs = 6; // Mpc/h: photons = (4π/3) Rs^3 ρ̄_b
  const photons = (4 / 3) * Math.PI * Rs ** 3 * rhoB;
  const nIon = gridHaloQuantity(new Float32Array([16, 16, 16]), new Float64Array([photons]), { grid: n, boxSize: L });
  const delta = uniform(n, 0);
  const expRadius = (mfp: number): number => {
    // (4π/3) r^3 e^{r/λ} ρ̄_b = photons: Eq. 24 attenuates by e^{-r/λ} at the cell's distance
    let lo = 0;
    let hi = Rs;
    for (let k = 0; k < 80; k++) {
      const m = (lo + hi) / 2;
      if (m ** 3 * Math.exp(m / mfp) > Rs ** 3) hi = m;
      else lo = m;
    }
    return lo;
  };
  const cases = [
    { filter: 'tophat' as const, mfp: 25, want: Rs },
    { filter: 'exponential' as const, mfp: 4, want: expRadius(4) },
  ];
  const got: number[] = [];
  for (const k of cases) {
    const s = ionisationStep({ z: 8, boxSize: L, grid: n, delta, nIon, cosmology: c, params: makeReionParams({ filter: k.filter, mfp: k.mfp, recombinations: false }), fourier: fg });
    const r = ionisedRadius(s.xHI);
    got.push(r);
    // The band-limited filter smooths the sphere's edge over about a cell and the radii step by 10%,
    // so the ionised radius sits within one cell below the continuum value.
    assert.ok(Math.abs(r - k.want) <= 1, `${k.filter}: ionised radius ${r.toFixed(2)} cells vs ${k.want.toFixed(2)}`);
    assert.equal(s.xHI[16 * n * n + 16 * n + 16], 0, 'the source cell is ionised');
  }
  // λ = 4 Mpc/h shrinks the region by ~1.8 cells: the check tells the filters apart
  assert.ok(got[0]! - got[1]! > 1);
  // N_rec = 1 everywhere doubles the baryons to ionise: radius / 2^(1/3)
  const rec = ionisationStep({
    z: 8,
    boxSize: L,
    grid: n,
    delta,
    nIon,
    nIonRate: new Float32Array(n ** 3),
    nRec: uniform(n, 1),
    cosmology: c,
    params: makeReionParams({ filter: 'tophat', recombinations: true }),
    fourier: fg,
  });
  const rr = ionisedRadius(rec.xHI);
  assert.ok(Math.abs(rr - Rs / Math.cbrt(2)) <= 1, `with N_rec = 1: ${rr.toFixed(2)} vs ${(Rs / Math.cbrt(2)).toFixed(2)}`);
});

test('too few photons leave the box neutral; mis-sized grids are rejected', () => {
  const n = 8;
  const params = makeReionParams({ recombinations: false });
  const s = ionisationStep({ z: 12, boxSize: 8, grid: n, delta: uniform(n, 0), nIon: uniform(n, 1e-6 * rhoB), cosmology: c, params });
  assert.equal(s.meanXHI, 1);
  assert.equal(s.radii.length, 0);
  assert.throws(() => ionisationStep({ z: 8, boxSize: 8, grid: n, delta: new Float32Array(7), nIon: uniform(n, 1), cosmology: c, params }), /delta has 7 values, expected N\^3 = 512/);
});

test('X-ray x_e: Eq. 23 needs (1 − x_e)(1 + N_rec) photons per baryon, partial cells keep 1 − f − x_e, a dark box 1 − x_e', () => {
  const n = 8;
  const L = 16;
  const fg = new FourierGrid(n, L);
  const params = makeReionParams({ filter: 'tophat', recombinations: false });
  const delta = uniform(n, 0);
  const xe = uniform(n, 0.3);
  const run = (q: number, x?: Float32Array) => ionisationStep({ z: 8, boxSize: L, grid: n, delta, nIon: uniform(n, q * rhoB), xe: x, cosmology: c, params, fourier: fg });
  // 0.8 photons per baryon: not enough without x_e, enough when 30% of the gas is already ionised
  for (const v of run(0.8).xHI) assert.ok(Math.abs(v - 0.2) < 1e-6);
  for (const v of run(0.8, xe).xHI) assert.equal(v, 0);
  // 0.5 photons per baryon with x_e = 0.3: partial, x_HI = 1 − 0.5 − 0.3 (float32)
  for (const v of run(0.5, xe).xHI) assert.ok(Math.abs(v - 0.2) < 1e-6);
  // no photons at all: the box left neutral apart from x_e (the code's set_fully_neutral_box)
  const dark = run(0, xe);
  for (const v of dark.xHI) assert.ok(Math.abs(v - 0.7) < 1e-6);
  assert.ok(Math.abs(dark.meanXHI - 0.7) < 1e-6);
});
