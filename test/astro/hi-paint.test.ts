import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV, hiMass, rhoCrit } from '../../src/cosmo/index.js';
import { paintHI, ProfileTable, virialRadius, streamSeed } from '../../src/astro/hi-paint.js';
import { Rng } from '../../src/util/rng.js';

function halos(n: number, L: number, seed: number): { positions: Float32Array; masses: Float64Array } {
  const rng = new Rng(seed);
  const positions = new Float32Array(3 * n);
  const masses = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) positions[3 * i + c] = rng.uniform() * L;
    masses[i] = Math.pow(10, 10.5 + 3 * rng.uniform());
  }
  return { positions, masses };
}

test('painted HI mass equals the drawn halo M_HI (mass conservation)', () => {
  const L = 25;
  const h = halos(200, L, 1);
  const r = paintHI(h, { boxSize: L, redshift: 0, seed: 4 });
  const perHalo = new Float64Array(200);
  for (let i = 0; i < r.masses.length; i++) {
    assert.ok(r.masses[i]! > 0);
    perHalo[r.halo[i]!] += r.masses[i]!;
  }
  let tot = 0;
  let drawn = 0;
  for (let i = 0; i < 200; i++) {
    assert.ok(Math.abs(perHalo[i]! - r.haloHI[i]!) <= 1e-12 * r.haloHI[i]!, `halo ${i}`);
    tot += perHalo[i]!;
    drawn += r.haloHI[i]!;
  }
  assert.ok(Math.abs(tot - drawn) <= 1e-12 * drawn);
  for (const v of r.positions) assert.ok(v >= 0 && v < L);
  assert.ok(r.satellites.some((s) => s > 0), 'some halos have satellite clumps');
});

test('log-normal scatter around the VN18 relation preserves the mean', () => {
  const n = 4000;
  const M = 1e12;
  const h = { positions: new Float32Array(3 * n).fill(5), masses: new Float64Array(n).fill(M) };
  const r = paintHI(h, { boxSize: 10, redshift: 0, seed: 8, particleMass: 1e12, minParticles: 1, maxParticles: 1 });
  const mean = hiMass(M, 0);
  let s = 0;
  let sl = 0;
  let sl2 = 0;
  for (const m of r.haloHI) {
    s += m;
    const l = Math.log10(m / mean);
    sl += l;
    sl2 += l * l;
  }
  const sd = Math.sqrt(sl2 / n - (sl / n) ** 2);
  assert.ok(Math.abs(sd - 0.3) < 0.015, `scatter ${sd} dex`);
  assert.ok(Math.abs(s / n / mean - 1) < 0.04, `mean ratio ${s / n / mean}`);
});

test('radial distribution of an isotropic halo follows the analytic cumulative profile (KS)', () => {
  const M = 1e13;
  const L = 50;
  const h = { positions: Float32Array.from([25, 25, 25]), masses: Float64Array.from([M]) };
  const o = { boxSize: L, redshift: 0, seed: 21, triaxial: false, satelliteFraction: 0, coreScatterDex: 0, particleMass: 1, maxParticles: 20000, minParticles: 20000 };
  const r = paintHI(h, o);
  const R = virialRadius(M, 0);
  // R_200c definition
  assert.ok(Math.abs((M / ((4 / 3) * Math.PI * R ** 3)) / (200 * rhoCrit(CAMELS_CV, 0)) - 1) < 1e-10);
  const xs: number[] = [];
  for (let i = 0; i < r.masses.length; i++) {
    let d2 = 0;
    for (let c = 0; c < 3; c++) d2 += (r.positions[3 * i + c]! - 25) ** 2;
    xs.push(Math.sqrt(d2) / R);
  }
  xs.sort((a, b) => a - b);
  assert.ok(xs[xs.length - 1]! <= 1 + 1e-6, 'truncated at R_vir');
  // analytic CDF: ∫_0^x t^(2−a) e^(−x0/t) dt, independent fine quadrature
  const x0 = 0.05;
  const a = 3;
  const cdf = (x: number): number => {
    const f = (t: number): number => (t <= 0 ? 0 : Math.pow(t, 2 - a) * Math.exp(-x0 / t));
    const m = 4000;
    let s = 0;
    for (let i = 0; i < m; i++) s += f(((i + 0.5) / m) * x) * (x / m);
    return s;
  };
  const norm = cdf(1);
  let D = 0;
  for (let i = 0; i < xs.length; i += 37) {
    const F = cdf(xs[i]!) / norm;
    D = Math.max(D, Math.abs(F - (i + 0.5) / xs.length));
  }
  // KS critical value at 1% for n = 20000: 1.63 / sqrt(n) ≈ 0.0115
  assert.ok(D < 1.63 / Math.sqrt(xs.length), `KS distance ${D}`);
  const table = new ProfileTable(x0, a);
  for (const x of [0.05, 0.2, 0.5, 0.9]) assert.ok(Math.abs(table.sample(cdf(x) / norm) - x) < 2e-3 * x + 1e-4);
});

test('same seed → identical output, independent of the other halos', () => {
  const L = 25;
  const h = halos(50, L, 2);
  const a = paintHI(h, { boxSize: L, redshift: 1, seed: 7 });
  const b = paintHI(h, { boxSize: L, redshift: 1, seed: 7 });
  assert.deepEqual(a.positions, b.positions);
  assert.deepEqual(a.masses, b.masses);
  const c = paintHI(h, { boxSize: L, redshift: 1, seed: 8 });
  assert.notDeepEqual(a.haloHI, c.haloHI);
  // halo 10 alone (as index 10 of a list whose other halos have zero mass) gets the same HI
  const only = { positions: h.positions, masses: h.masses.map((m, i) => (i === 10 ? m : 0)) };
  const d = paintHI(only, { boxSize: L, redshift: 1, seed: 7 });
  assert.equal(d.haloHI[10], a.haloHI[10]);
  assert.notEqual(streamSeed(7, 1), streamSeed(7, 2));
});
