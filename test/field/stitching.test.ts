import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussianSmooth } from '../../src/field/fourier.js';
import { powerSpectrum } from '../../src/field/power.js';
import { boxFacePlanes, boxGridHarmonics, faceGradientJump, harmonicExcess, latticeExcess } from '../../src/field/stitching.js';
import { Rng } from '../../src/util/rng.js';
import { randomNormal } from './helpers.js';

const N = 48;
const L = 25;
const ORIGINS = [0, 12, 24, 36]; // periodic plan of 16^3 boxes, overlap 4, on 48^3
const FACES = boxFacePlanes(ORIGINS, 16, N);

/** A smooth positive random field (mean 1), like a normalised T_b map. */
function smoothField(seed: number): Float32Array {
  const g = gaussianSmooth(randomNormal(N ** 3, seed), [N, N, N], L, 0.6);
  let s2 = 0;
  for (const v of g) s2 += v * v;
  const sd = Math.sqrt(s2 / g.length);
  return Float32Array.from(g, (v) => 1 + (0.3 * v) / sd);
}

/** Tile index of coordinate c (tiles start at the origins). */
const tileOf = (c: number): number => Math.floor(c / 12);

test('box face planes and box-grid harmonics', () => {
  assert.deepEqual(FACES, [0, 4, 12, 16, 24, 28, 36, 40]);
  assert.deepEqual(boxFacePlanes([0, 16], 32, 32), [0, 16]);
  const kF = (2 * Math.PI) / L;
  const h = boxGridHarmonics(N, L, 4);
  assert.equal(h.length, 6);
  h.forEach((k, j) => assert.ok(Math.abs(k - 4 * (j + 1) * kF) < 1e-12));
  // 256^3 with stride 28 would be count 256/28; a regular stride s gives k_1 = 2π/(s L/N)
  assert.ok(Math.abs(boxGridHarmonics(224, 200, 8)[0]! - (2 * Math.PI) / (28 * (200 / 224))) < 1e-12);
  assert.throws(() => boxGridHarmonics(N, L, 0), /count/);
});

test('harmonicExcess: zero on a power law, the bump on a bumped bin, skips harmonics without neighbours', () => {
  const kF = (2 * Math.PI) / L;
  const k = Float64Array.from({ length: 30 }, (_, i) => (i + 1.5) * kF);
  const pk = k.map((v) => 3 * v ** -2.3);
  const flat = harmonicExcess({ k, pk }, [4 * kF, 8 * kF], { boxSize: L });
  assert.equal(flat.k.length, 2);
  for (const e of flat.excess) assert.ok(Math.abs(e) < 1e-9, `power law excess ${e}`);
  const bumped = pk.slice();
  bumped[7] = bumped[7]! * 1.5; // bin 8
  const b = harmonicExcess({ k, pk: bumped }, [4 * kF, 8 * kF, 30 * kF], { boxSize: L });
  assert.equal(b.k.length, 2, 'bin 30 has no right-hand neighbour');
  assert.ok(Math.abs(b.excess[1]! - 0.5) < 1e-9);
  assert.ok(Math.abs(b.max - 0.5) < 1e-9 && Math.abs(b.mean - 0.25) < 1e-9);
});

test('faceGradientJump: exact on a ramp, ≈ 1 on a smooth map, large with jumps at box faces', () => {
  // f = x: the difference is 1 everywhere but across the wrap plane 0, where it is −(N−1)
  const ramp = new Float32Array(N ** 3);
  for (let i = 0; i < ramp.length; i++) ramp[i] = Math.floor(i / (N * N));
  const r = faceGradientJump(ramp, N, [[0], [], []]);
  assert.equal(r.perAxis[0]!.faceRms, N - 1);
  assert.equal(r.perAxis[0]!.interiorRms, 1);
  assert.ok(Number.isNaN(r.perAxis[1]!.faceRms));

  const smooth = smoothField(1);
  const s = faceGradientJump(smooth, N, [FACES, FACES, FACES]);
  assert.ok(Math.abs(s.ratio - 1) < 0.1, `smooth map: ratio ${s.ratio}`);
  // incoherent jumps: a random offset per tile (what independent boxes without overlap give)
  const rng = new Rng(7);
  const off = Float64Array.from({ length: 64 }, () => 0.3 * rng.normal());
  const tiled = smooth.map((v, i) => {
    const x = Math.floor(i / (N * N)), y = Math.floor(i / N) % N, z = i % N;
    return v + off[(tileOf(x) * 4 + tileOf(y)) * 4 + tileOf(z)]!;
  });
  const t = faceGradientJump(tiled, N, [FACES, FACES, FACES]);
  assert.ok(t.ratio > 1.3 * s.ratio, `tiled ${t.ratio} vs smooth ${s.ratio}`);
  assert.throws(() => faceGradientJump(smooth, N, [[N], [], []]), /outside/);
});

test('latticeExcess and harmonicExcess: ≈ 0 on a smooth map, large when every face carries the same ridge', () => {
  const smooth = smoothField(2);
  const s = latticeExcess(smooth, N, 4);
  assert.ok(s.modes > 200, `modes ${s.modes}`);
  assert.ok(Math.abs(s.excess) < 5 * s.noise, `smooth lattice excess ${s.excess} (noise ${s.noise})`);
  // a coherent seam: the same +5% ridge on every face plane of every axis (periodic with the box grid)
  const isFace = new Uint8Array(N);
  for (const p of FACES) isFace[p] = 1;
  const ridged = smooth.map((v, i) => {
    const x = Math.floor(i / (N * N)), y = Math.floor(i / N) % N, z = i % N;
    return v * (1 + 0.05 * (isFace[x]! + isFace[y]! + isFace[z]!));
  });
  const r = latticeExcess(ridged, N, 4);
  assert.ok(r.excess > 1 && r.excess > 20 * r.noise, `ridged lattice excess ${r.excess}`);
  const h = boxGridHarmonics(N, L, 4);
  const hs = harmonicExcess(powerSpectrum(smooth, N, { boxSize: L }), h, { boxSize: L });
  const hr = harmonicExcess(powerSpectrum(ridged, N, { boxSize: L }), h, { boxSize: L });
  assert.ok(hs.k.length >= 4);
  assert.ok(hr.mean > hs.mean + 0.05, `harmonic excess ridged ${hr.mean} vs smooth ${hs.mean}`);
  // random offsets per tile put (almost) nothing on the lattice: the face test is what catches them
  assert.throws(() => latticeExcess(smooth, N, 1), /boxes per axis/);
});
