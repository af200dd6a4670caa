import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV, RHO_CRIT0_H2 } from '../../../src/cosmo/index.js';
import { gaussianSmooth } from '../../../src/field/fourier.js';
import { Rng } from '../../../src/util/rng.js';
import { brightnessTemperature21 } from '../../../src/astro/reion/brightness.js';
import { reionise } from '../../../src/astro/reion/driver.js';
import { powerSpectrum21, volumeMean, massWeightedXHI } from '../../../src/astro/reion/history.js';
import { ionisationStep } from '../../../src/astro/reion/ionise.js';
import { makeReionParams } from '../../../src/astro/reion/params.js';

const c = CAMELS_CV;
const rhoB = c.Omega_b * RHO_CRIT0_H2;
const n = 16;
const L = 32;

/** A smooth Gaussian random δ (σ ≈ 0.3, clipped above −0.8), seeded. */
function densityField(seed: number): Float32Array {
  const r = new Rng(seed);
  const w = new Float32Array(n ** 3);
  for (let i = 0; i < w.length; i++) w[i] = r.normal();
  const s = gaussianSmooth(w, [n, n, n], L, 2.5);
  let v = 0;
  for (const x of s) v += x * x;
  const k = 0.3 / Math.sqrt(v / s.length);
  return Float32Array.from(s, (x) => Math.max(x * k, -0.8));
}

const delta = densityField(11);
/** Emissivity biased to dense cells, growing as z falls: ⟨photons per baryon⟩ = 0.9 e^{−0.8 (z − 6.5)}. */
const photonsPerBaryon = (z: number): number => 0.9 * Math.exp(-0.8 * (z - 6.5));
const emissivity = (z: number): Float32Array => Float32Array.from(delta, (d) => photonsPerBaryon(z) * rhoB * (1 + d) ** 2 / 1.09);
const redshifts = [6.5, 9, 8, 7, 10];

test('x_HI(z) decreases monotonically (mean and per cell) for a growing emissivity', () => {
  const steps: number[] = [];
  const r = reionise({
    cosmology: c,
    boxSize: L,
    grid: n,
    redshifts,
    density: () => delta,
    emissivity,
    params: makeReionParams({ recombinations: false }),
    onProgress: (p) => steps.push(p.z),
  });
  assert.deepEqual(Array.from(r.redshifts), [10, 9, 8, 7, 6.5]);
  assert.deepEqual(steps, [10, 9, 8, 7, 6.5]);
  for (let k = 1; k < r.redshifts.length; k++) {
    assert.ok(r.meanXHI[k]! < r.meanXHI[k - 1]!, `⟨x_HI⟩ falls: ${Array.from(r.meanXHI).map((x) => x.toFixed(3))}`);
    for (let i = 0; i < n ** 3; i++) assert.ok(r.xHI[k]![i]! <= r.xHI[k - 1]![i]! + 1e-7, `cell ${i} at z ${r.redshifts[k]}`);
  }
  assert.ok(r.meanXHI[0]! > 0.5 && r.meanXHI.at(-1)! < 0.3, 'the history spans most of reionisation');
  // inside-out: dense cells ionise first, so the mass-weighted neutral fraction is the smaller one
  const mid = 2;
  assert.ok(massWeightedXHI(r.xHI[mid]!, delta) < r.meanXHI[mid]!);
  // z_reion: the first redshift at which a cell is flagged ionised; x_HI is 0 there and stays 0
  for (let i = 0; i < n ** 3; i++) {
    const k0 = r.redshifts.findIndex((z) => Math.fround(z) === r.zReion[i]);
    if (r.zReion[i] === -1) continue;
    assert.ok(k0 >= 0, `cell ${i}: z_reion ${r.zReion[i]} is one of the redshifts`);
    for (let k = k0; k < r.redshifts.length; k++) assert.equal(r.xHI[k]![i], 0);
  }
  const counts = new Map<number, number>();
  for (const z of r.zReion) counts.set(z, (counts.get(z) ?? 0) + 1);
  assert.ok(counts.size >= 2 && (counts.get(-1) ?? 0) < n ** 3, `some cells are flagged ionised: ${JSON.stringify([...counts])}`);
  // the driver's δT_b is Eq. 25 on its x_HI, and its mean is tabulated
  const tb = brightnessTemperature21({ xHI: r.xHI[mid]!, delta, z: 8, cosmology: c, boxSize: L, grid: n });
  for (let i = 0; i < tb.length; i++) assert.equal(r.brightnessTemp[mid]![i], tb[i]);
  assert.ok(Math.abs(r.meanBrightnessTemp[mid]! - volumeMean(tb)) < 1e-9);
  // Δ^2_21 from the engine's power spectrum: finite, positive, in mK^2
  const ps = powerSpectrum21(r.brightnessTemp[mid]!, n, L);
  assert.ok(ps.delta2.every((v) => v > 0 && Number.isFinite(v)));
  assert.ok(Math.abs(ps.delta2[0]! - (ps.k[0]! ** 3 * ps.pk[0]!) / (2 * Math.PI ** 2)) < 1e-9 * ps.delta2[0]!);
});

test('with recombinations, bubbles around constant sources shrink as N_rec builds up; the first step equals a direct ionisation step', () => {
  // sources in the densest 10% of cells, 0.8 photons per baryon on average, constant in time
  const thr = Float32Array.from(delta).sort()[Math.floor(0.9 * delta.length)]!;
  let norm = 0;
  for (const d of delta) if (d > thr) norm += 1 + d;
  norm /= delta.length;
  const src = Float32Array.from(delta, (d) => (d > thr ? (0.8 * rhoB * (1 + d)) / norm : 0));
  const rate = Float32Array.from(src, (v) => v * 1e-16);
  const common = { cosmology: c, boxSize: L, grid: n, redshifts, density: () => delta, emissivity: () => src, ionisingRate: () => rate };
  const withRec = reionise({ ...common, params: makeReionParams({ filter: 'tophat' }) });
  const without = reionise({ ...common, params: makeReionParams({ filter: 'tophat', recombinations: false }) });
  let recombining = 0;
  for (let i = 0; i < n ** 3; i++) {
    if (withRec.zReion[i]! < 0) assert.equal(withRec.nRec![i], 0, 'never-ionised cells have no recombinations');
    else if (withRec.nRec![i]! > 0) recombining++;
  }
  assert.ok(recombining > 0, 'ionised cells recombine');
  for (let k = 1; k < redshifts.length; k++) {
    assert.equal(without.meanXHI[k], without.meanXHI[0], 'same sources, same density: same x_HI without recombinations');
    assert.ok(withRec.meanXHI[k]! > withRec.meanXHI[k - 1]!, `recombinations re-neutralise: ${Array.from(withRec.meanXHI).map((x) => x.toFixed(3))}`);
  }
  assert.equal(withRec.meanXHI[0], without.meanXHI[0], 'no recombinations before the first step');
  const first = ionisationStep({ z: 10, boxSize: L, grid: n, delta, nIon: src, nIonRate: rate, nRec: new Float32Array(n ** 3), cosmology: c, params: makeReionParams({ filter: 'tophat' }) });
  assert.deepEqual(withRec.xHI[0], first.xHI);
});

test('bad inputs are rejected with the field named', () => {
  const base = { cosmology: c, boxSize: L, grid: n, density: () => delta, emissivity };
  assert.throws(() => reionise({ ...base, redshifts: [8, 8], params: makeReionParams({ recombinations: false }) }), /distinct/);
  assert.throws(() => reionise({ ...base, redshifts: [8] }), /ionisingRate is required/);
  assert.throws(() => reionise({ ...base, redshifts: [8, 7], density: [delta], params: makeReionParams({ recombinations: false }) }), /density has 1 grids for 2 redshifts/);
  assert.throws(() => reionise({ ...base, redshifts: [8], emissivity: () => new Float32Array(3), params: makeReionParams({ recombinations: false }) }), /emissivity at z = 8 has 3 values/);
});
