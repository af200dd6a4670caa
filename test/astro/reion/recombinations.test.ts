import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV } from '../../../src/cosmo/index.js';
import {
  RecombinationTable,
  alphaB,
  dtdzSeconds,
  gammaSelfShielded,
  mhrPdf,
  neutralFraction,
  numberDensities,
  recombinationRates,
  updateRecombinations,
} from '../../../src/astro/reion/recombinations.js';

const c = CAMELS_CV;
const yHe = 0.24;

/** ∫ Δ^p P(Δ) dΔ over [a, b] by the trapezoid rule in linear Δ with many points (independent of the module's ln Δ Simpson). */
function moment(z: number, p: number, a: number, b: number, m = 400000): number {
  const h = (b - a) / m;
  let s = 0;
  for (let i = 0; i <= m; i++) {
    const d = a + i * h;
    const w = i === 0 || i === m ? 0.5 : 1;
    s += w * Math.pow(d, p) * mhrPdf(d, z);
  }
  return s * h;
}

test('MHR00 density PDF: unit normalisation and a mean density close to 1 (the fit is built for ⟨Δ⟩ = 1)', () => {
  for (const z of [6, 8, 10]) {
    // nearly all probability lies in (1e-3, 60): the tail beyond carries ~1e-3 (Δ^-2.5)
    const norm = moment(z, 0, 1e-3, 60) + moment(z, 0, 60, 1e4, 200000);
    assert.ok(Math.abs(norm - 1) < 2e-3, `z ${z}: ∫P = ${norm}`);
    const mean = moment(z, 1, 1e-3, 60) + moment(z, 1, 60, 1e4, 200000);
    assert.ok(Math.abs(mean - 1) < 0.02, `z ${z}: ⟨Δ⟩ = ${mean}`);
  }
});

test('photoionisation equilibrium: Γ χ = (1 + n_He/n_H) n_H α_B (1 − χ)^2', () => {
  const corr = 1 / (4 / yHe - 3);
  for (const [nH, g] of [
    [1e-4, 1],
    [1e-2, 0.01],
    [1, 1e-3],
  ] as const) {
    const chi = neutralFraction(nH, 1, g, yHe);
    const lhs = g * 1e-12 * chi;
    const rhs = (1 + corr) * nH * alphaB(1e4) * (1 - chi) ** 2;
    assert.ok(Math.abs(lhs / rhs - 1) < 1e-5, `nH ${nH} Γ ${g}: χ ${chi}`);
  }
  // self-shielding: unattenuated far below the threshold density, strongly attenuated far above
  assert.ok(Math.abs(gammaSelfShielded(1, 1e-3, 1, 7) - 1) < 1e-3);
  assert.ok(gammaSelfShielded(1, 1e4, 1, 7) < 0.02);
});

test('recombination rate: fully ionised limit is α_B n̄_H ⟨Δ^2⟩ over [0.01, 200]; tables follow the direct rates; zero below ln Γ = −10', () => {
  const z = 7;
  const { nH0 } = numberDensities(c, yHe);
  const clump = moment(z, 2, 0.01, 200);
  const limit = 1e15 * alphaB(1e4) * nH0 * (1 + z) ** 3 * clump;
  // Γ12 = 1e6: D_ss ~ 1e6 ≫ 200, residual χ ~ 1e-11
  const [hi] = recombinationRates(z, [1e6], c, yHe);
  assert.ok(Math.abs(hi! / limit - 1) < 1e-4, `${hi} vs ${limit}`);
  // self-shielding of dense gas lowers the rate at weak backgrounds
  const [lo] = recombinationRates(z, [0.01], c, yHe);
  assert.ok(lo! < 0.9 * hi!);
  const table = new RecombinationTable(c, yHe);
  // z_eff = 7.0 is a table node; Γ between spline nodes: cubic spline in ln Γ (0.1 steps) to 1e-4
  for (const g of [0.05, 0.33, 2.7]) {
    const [d] = recombinationRates(z, [g], c, yHe);
    assert.ok(Math.abs(table.rate(7.0, g) / d! - 1) < 1e-4, `Γ ${g}`);
  }
  assert.equal(table.rate(7, Math.exp(-10.5)), 0);
  // the code uses the nearest z node: 7.09 → 7.0
  assert.equal(table.rate(7.09, 0.33), table.rate(7.0, 0.33));
});

test('N_rec accumulates rate × |dt/dz| × dz × (1 − x_HI) per cell', () => {
  const table = new RecombinationTable(c, yHe);
  const z = 8;
  const dz = 0.25;
  const out = updateRecombinations({
    nRecPrev: [0.1, 0, 0.2, 0],
    xHI: [0, 0.25, 1, 0],
    gamma12: [0.5, 0.5, 0.5, 0],
    delta: [0, 0.728, 0, 0],
    z,
    dz,
    table,
  });
  // |dt/dz| = 1/((1+z) H), H in 1/s (flat ΛCDM, no radiation), in units of 1e15 s
  const H = ((100 * c.h * Math.sqrt(c.Omega_m * 9 ** 3 + 1 - c.Omega_m)) / 100) * 3.2407e-18;
  const dt = 1 / (9 * H) / 1e15;
  assert.ok(Math.abs(dtdzSeconds(c, z) / 1e15 / dt - 1) < 1e-12);
  const r0 = table.rate(8, 0.5);
  const r1 = table.rate(9 * Math.cbrt(1.728) - 1, 0.5); // z_eff = (1+z)(1+δ)^{1/3} − 1 = 9.8
  assert.ok(Math.abs(out[0]! - (0.1 + r0 * dt * dz)) < 1e-6 * out[0]!);
  assert.ok(Math.abs(out[1]! - r1 * dt * dz * 0.75) < 1e-6 * out[1]!);
  assert.ok(Math.abs(out[2]! - 0.2) < 1e-7, 'neutral cells do not recombine');
  assert.equal(out[3], 0, 'no background, no recombination');
  assert.throws(() => updateRecombinations({ nRecPrev: [0], xHI: [0], gamma12: [1], delta: [0], z, dz: 0, table }), /dz must be > 0/);
});
