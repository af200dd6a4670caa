import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CAMELS_CV } from '../../../src/cosmo/index.js';
import {
  NSPEC_MAX,
  frecycle,
  lyaStarPrefactor,
  lymanShellFactors,
  nuN,
  spectralEmissivity,
  stellarSpectrum,
  volumeUnitInverse,
  zmax,
} from '../../../src/astro/spin/lyman.js';

const NU_LYA = 2.46606727e15;

test('Lyman-line frequencies: ν_2 = 1 (Lyα), ν_3 = 32/27 (Lyβ), ν_n → 4/3 (Lyman limit)', () => {
  assert.equal(nuN(2), 1);
  assert.ok(Math.abs(nuN(3) - 32 / 27) < 1e-15);
  assert.ok(Math.abs(nuN(1e6) - 4 / 3) < 1e-11);
});

test('f_rec(n): the Pritchard & Furlanetto (2006, Table 1) recycling fractions', () => {
  // PF06 Table 1 (f_rec for n = 4 … 30; Lyβ cannot cascade through Lyα; Lyα is itself)
  const pf06: Record<number, number> = { 2: 1, 3: 0, 4: 0.2609, 5: 0.3078, 6: 0.3259, 7: 0.3353, 8: 0.341, 10: 0.3476, 15: 0.3543, 20: 0.3569, 25: 0.3582, 30: 0.359 };
  for (const [n, f] of Object.entries(pf06)) assert.equal(frecycle(Number(n)), f, `n ${n}`);
  // rising towards the asymptote ≈ 0.36 and 0 beyond the table (code)
  for (let n = 5; n <= 30; n++) assert.ok(frecycle(n) > frecycle(n - 1) && frecycle(n) < 0.36, `n ${n}`);
  assert.equal(frecycle(31), 0);
});

test('z_max(z, n): a photon emitted at Ly(n+1) at z_max arrives at Lyn at z', () => {
  for (const z of [7, 15, 30]) {
    for (let n = 2; n <= NSPEC_MAX; n++) {
      const zm = zmax(z, n);
      assert.ok(zm > z);
      assert.ok(Math.abs((nuN(n + 1) * (1 + z)) / (1 + zm) - nuN(n)) < 1e-13, `z ${z} n ${n}`);
    }
  }
});

/** The Pop II rows of stellar_spectra.dat read here independently: [n, N0_file, α]. */
function rawRows(col: number): number[][] {
  return readFileSync(new URL('../../../../data/21cmfast/stellar_spectra.dat', import.meta.url), 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter((r) => r.length === 5 && r.every(Number.isFinite))
    .map((r) => [r[0]!, r[col]!, r[col + 1]!]);
}

test('Pop II spectrum: photons between Lyα and the Lyman limit = POP2_ION × Σ band fractions (the code normalisation)', () => {
  const rows = rawRows(1);
  for (const nIon of [5000, 9690]) {
    // quadrature of ε(ν) dν [Hz] band by band, Simpson in ν_norm with the band edges as nodes
    let total = 0;
    for (let i = 0; i < rows.length - 1; i++) {
      const a = nuN(rows[i]![0]!);
      const b = nuN(rows[i + 1]![0]!);
      const m = 2000;
      const h = (b - a) / m;
      let s = 0;
      for (let k = 0; k <= m; k++) {
        const x = k === m ? b * (1 - 1e-15) : a + k * h; // the band is half-open at its top
        s += (k === 0 || k === m ? 1 : k % 2 ? 4 : 2) * spectralEmissivity(x, 2, nIon);
      }
      const band = ((s * h) / 3) * NU_LYA;
      assert.ok(Math.abs(band / (rows[i]![1]! * nIon) - 1) < 1e-6, `band n ${rows[i]![0]}: ${band}`);
      total += band;
    }
    const sum = rows.slice(0, -1).reduce((acc, r) => acc + r[1]!, 0);
    assert.ok(Math.abs(total / (sum * nIon) - 1) < 1e-6);
    // with the code default POP2_ION = 5000 this is 11086 photons per baryon (Σ = 2.21722), not the
    // 9690 of Barkana & Loeb (2005): documented in docs/astro-spin-radiation.md
    if (nIon === 5000) assert.ok(Math.abs(total - 11086.1) < 0.5, `total ${total}`);
  }
  const s = stellarSpectrum(2);
  assert.equal(s.n[0], 2);
  assert.equal(s.n.length, NSPEC_MAX - 1);
});

test('Pop III spectrum: ≈ 4770 photons per baryon between Lyα and the Lyman limit with POP3_ION = 44021', () => {
  const rows = rawRows(3);
  const sum = rows.slice(0, -1).reduce((acc, r) => acc + r[1]!, 0);
  // Barkana & Loeb (2005) quote 4800 for Pop III; the file fractions give 4769 (0.6% below)
  assert.ok(Math.abs((sum * 44021) / 4800 - 1) < 0.01);
  const x = 1.1;
  const i = rows.findIndex((r, k) => k + 1 < rows.length && x >= nuN(r[0]!) && x < nuN(rows[k + 1]![0]!));
  const [, n0, al] = rows[i]!;
  const a = nuN(rows[i]![0]!);
  const b = nuN(rows[i + 1]![0]!);
  const expect = (((n0! * (al! + 1)) / (Math.pow(b, al! + 1) - Math.pow(a, al! + 1))) * 44021 * Math.pow(x, al!)) / NU_LYA;
  assert.ok(Math.abs(spectralEmissivity(x, 3) / expect - 1) < 1e-12);
});

test('shell factors: Lyα-only shells, the horizon, the edge weight and cont + inj = total', () => {
  const zp = 12;
  const zm2 = zmax(zp, 2);
  const zm3 = zmax(zp, 3);
  const zpp: number[] = [];
  for (let j = 0; j < 40; j++) zpp.push(zp + 0.05 + 0.09 * j);
  const f = lymanShellFactors(zp, zpp);
  const rows = rawRows(1);
  const a0 = nuN(2);
  const b0 = nuN(3);
  const [, n0, al] = rows[0]!;
  let edge = -1;
  for (let j = 0; j < zpp.length; j++) {
    const z = zpp[j]!;
    assert.ok(Math.abs(f.cont[j]! + f.inj[j]! - f.total[j]!) <= 1e-15 * f.total[j]!);
    if (z > zm3 && z < zm2) {
      // only Lyα: (1+z')²(1+z'') f_rec(2) ε_II(ν_2 (1+z'')/(1+z')), ε from the raw file row n = 2
      const x = (1 + z) / (1 + zp);
      const eps = (((n0! * (al! + 1)) / (Math.pow(b0, al! + 1) - Math.pow(a0, al! + 1))) * 5000 * Math.pow(x, al!)) / NU_LYA;
      const expect = (1 + zp) * (1 + zp) * (1 + z) * eps;
      assert.ok(Math.abs(f.total[j]! / expect - 1) < 1e-12, `shell ${j}`);
      assert.equal(f.inj[j], 0);
    }
    if (z > zm2 && edge < 0) edge = j;
  }
  assert.ok(edge > 1);
  // first shell beyond every horizon: previous sum × fraction of [z''_{j−1}, z''_j] inside z_max(z', 2)
  const w = f.total[edge]! / ((f.total[edge - 1]! / (1 + zpp[edge - 1]!)) * (1 + zpp[edge]!));
  const frac = (zm2 - zpp[edge - 1]!) / (zpp[edge]! - zpp[edge - 1]!);
  assert.ok(Math.abs(w - frac) < 2e-3, `edge weight ${w} vs ${frac}`);
  for (let j = edge + 1; j < zpp.length; j++) assert.equal(f.total[j], 0);
  // more lines contribute at small z'' than just beyond Lyβ's horizon
  assert.ok(f.inj[0]! > 0);
});

test('prefactors: c/(4π) M_sun/m_p (1 − 0.75 Y_He) and the volume units of set_zp_consts', () => {
  const expect = (2.99792458e10 / (4 * Math.PI)) * (1.989e33 / 1.67262192369e-24) * (1 - 0.75 * 0.24);
  assert.ok(Math.abs(lyaStarPrefactor(0.24) / expect - 1) < 1e-14);
  assert.equal(volumeUnitInverse('halo'), Math.pow(3.08567758e24, -3));
  // Ω_b ρ_crit [M_sun/Mpc³] with ρ_crit = 2.775e11 h² M_sun/Mpc³ (code constants give 2.7754e11 h²)
  const rho = volumeUnitInverse('density', CAMELS_CV) / Math.pow(3.08567758e24, -3) / CAMELS_CV.Omega_b / (CAMELS_CV.h * CAMELS_CV.h);
  assert.ok(Math.abs(rho / 2.775e11 - 1) < 1e-3, `ρ_crit/h² = ${rho}`);
});

test('bad input: one-line errors naming the argument', () => {
  assert.throws(() => nuN(1), /nuN: n = 1, expected an integer ≥ 2/);
  assert.throws(() => zmax(-2, 3), /zmax: z = -2/);
  assert.throws(() => frecycle(2.5), /frecycle: n = 2.5/);
  assert.throws(() => spectralEmissivity(-1), /spectralEmissivity: nuNorm = -1/);
  assert.throws(() => stellarSpectrum(4 as 2), /population = 4/);
  assert.throws(() => lymanShellFactors(10, [11, 10.5]), /zppCentres\[1\] = 10.5, expected ascending/);
  assert.throws(() => lymanShellFactors(10, [9]), /zppCentres\[0\] = 9/);
  assert.throws(() => lyaStarPrefactor(-0.1), /yHe = -0.1/);
  assert.throws(() => volumeUnitInverse('density'), /cosmo is missing/);
});
