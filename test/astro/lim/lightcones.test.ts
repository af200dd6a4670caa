import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hubble, makeCosmology } from '../../../src/cosmo/index.js';
import { LINE_LUMINOSITY_CONSTANT, NU_CII_REST_GHZ, ciiSurfaceBrightness } from '../../../src/astro/lim/cii.js';
import { multiTracerLightcones } from '../../../src/astro/lim/lightcones.js';
import { rectilinearLightcone } from '../../../src/astro/reion/lightcone.js';
import { Rng } from '../../../src/util/rng.js';

const cosmo = makeCosmology({ Omega_m: 0.3096, Omega_b: 0.04897, h: 0.6766, n_s: 0.9665, sigma8: 0.8102 });
const C_KMS = 299792.458;
const n = 16;
const L = 64; // 4 Mpc/h slices
const zs = [8.5, 6, 10, 7]; // any order

function randomBox(seed: number, lo: number, hi: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n ** 3 }, () => lo + (hi - lo) * r.uniform());
}

test('a redshift-independent luminosity density gives B_CII ∝ 1/(D_L² Ω Δν) of each slice', () => {
  const lum = randomBox(1, 1e7, 1e9); // L_sun per cell, the same at every z
  const lc = multiTracerLightcones({ redshifts: zs, fields: {}, ciiLuminosity: zs.map(() => lum), cosmology: cosmo, boxSize: L, grid: n });
  const b = lc.ciiBrightness!;
  const ns = lc.nSlices;
  assert.ok(ns > 100, `${ns} slices`);
  const a = L / n / cosmo.h; // Mpc
  let worst = 0;
  for (let j = 0; j < ns; j++) {
    const z = lc.redshifts[j]!;
    const chi = lc.distances[j]! / cosmo.h;
    // independent float64 re-computation of Eq. 27's factor at this slice
    const dl = (1 + z) * chi;
    const omega = (a / chi) ** 2;
    const dnu = (NU_CII_REST_GHZ * hubble(cosmo, z) * a) / (C_KMS * (1 + z) ** 2);
    const factor = 1 / (LINE_LUMINOSITY_CONSTANT * dl * dl * omega * C_KMS * dnu);
    // the plane at slice j is plane j mod N of the (identical) boxes
    const plane = j % n;
    for (let p = 0; p < n * n; p++) {
      const want = lum[p * n + plane]! * factor;
      worst = Math.max(worst, Math.abs(b[p * ns + j]! / want - 1));
    }
  }
  // float32 luminosities (identical boxes interpolate to themselves to 1 ulp) and float32 B: 3e-7
  assert.ok(worst < 3e-7, `max relative deviation ${worst}`);
  // equivalently B ∝ 1/H(z): the first and last slices of one sight line
  const p = 37;
  const ratio = (b[p * ns + ns - 1]! / lum[p * n + ((ns - 1) % n)]!) / (b[p * ns]! / lum[p * n]!);
  assert.ok(Math.abs(ratio / (hubble(cosmo, lc.redshifts[0]!) / hubble(cosmo, lc.redshifts[ns - 1]!)) - 1) < 1e-6);
});

test('interpolating B_CII boxes made at the box redshifts instead would be wrong between the boxes', () => {
  const lum = new Float32Array(n ** 3).fill(1e8);
  const lc = multiTracerLightcones({ redshifts: zs, fields: {}, ciiLuminosity: zs.map(() => lum), cosmology: cosmo, boxSize: L, grid: n });
  const bBoxes = zs.map((z) => ciiSurfaceBrightness(lum, { z, cosmology: cosmo, boxSize: L, grid: n }));
  const alt = rectilinearLightcone({ boxes: bBoxes, redshifts: zs, cosmology: cosmo, boxSize: L, grid: n });
  let worst = 0;
  for (let j = 0; j < lc.nSlices; j++) worst = Math.max(worst, Math.abs(alt.field[j]! / lc.ciiBrightness![j]! - 1));
  // the two agree at the box redshifts only; 1/H(z) is convex in χ, so the chord is off by up to 5.5e-3 (z ≈ 7.7, boxes Δz = 1–1.5 apart)
  assert.ok(worst > 1e-3, `max deviation ${worst}`);
});

test('every named field gets the lightcone of rectilinearLightcone on the same slicing', () => {
  const fields = {
    delta: zs.map((_, i) => randomBox(10 + i, -1, 3)),
    nIon: zs.map((_, i) => randomBox(20 + i, 0, 5)),
    xray: zs.map((_, i) => randomBox(30 + i, 0, 1e38)),
    tb: zs.map((_, i) => randomBox(40 + i, -150, 30)),
  };
  const lum = zs.map((_, i) => randomBox(50 + i, 0, 1e9));
  const lc = multiTracerLightcones({ redshifts: zs, fields, ciiLuminosity: lum, cosmology: cosmo, boxSize: L, grid: n, zMin: 6.5, zMax: 9.5, axis: 0, indexOffset: 3 });
  for (const [name, boxes] of Object.entries(fields)) {
    const ref = rectilinearLightcone({ boxes, redshifts: zs, cosmology: cosmo, boxSize: L, grid: n, zMin: 6.5, zMax: 9.5, axis: 0, indexOffset: 3 });
    assert.deepEqual(lc.fields[name], ref.field, name);
    assert.deepEqual(lc.distances, ref.distances);
    assert.deepEqual(lc.redshifts, ref.redshifts);
  }
  assert.equal(lc.ciiBrightness!.length, n * n * lc.nSlices);
  assert.ok(lc.redshifts[0]! >= 6.5 - 1e-9 && lc.redshifts[lc.nSlices - 1]! <= 9.5 + 1e-3);
});

test('bad inputs name the field', () => {
  const box = new Float32Array(n ** 3);
  assert.throws(
    () => multiTracerLightcones({ redshifts: zs, fields: { tb: [box, box] }, cosmology: cosmo, boxSize: L, grid: n }),
    /field "tb" has 2 boxes for 4 redshifts/,
  );
  assert.throws(() => multiTracerLightcones({ redshifts: zs, fields: {}, cosmology: cosmo, boxSize: L, grid: n }), /nothing to build/);
  const neg = new Float32Array(n ** 3).fill(-1);
  assert.throws(
    () => multiTracerLightcones({ redshifts: zs, fields: {}, ciiLuminosity: zs.map(() => neg), cosmology: cosmo, boxSize: L, grid: n }),
    /ciiLuminosity must be a finite luminosity >= 0/,
  );
});
