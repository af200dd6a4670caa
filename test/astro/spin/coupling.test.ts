import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCosmology, RHO_CRIT0_H2 } from '../../../src/cosmo/params.js';
import {
  KAPPA_TABLES,
  alphaA,
  kappa10HH,
  kappa10eH,
  kappa10pH,
  salphaTilde,
  spinTemperature,
  taugp,
  tcEff,
  xcoll,
} from '../../../src/astro/spin/coupling.js';
import { ALPHA_A_10K, M_P, baryonDensity0, heliumFraction, hydrogenDensity0, hydrogenFraction } from '../../../src/astro/spin/constants.js';
import { readTable } from '../../../src/astro/spin/data.js';

const cosmo = makeCosmology({ Omega_m: 0.31, Omega_b: 0.049, h: 0.677, n_s: 0.965, sigma8: 0.81 });
const rel = (a: number, b: number): number => Math.abs(a / b - 1);

test('No and N_b0 are the baryon density split by Y_He (independent ρ_crit from src/cosmo)', () => {
  // ρ_crit,0 h^2 Msun/Mpc^3 → g/cm^3 with the CCL constants of src/cosmo; the code's Ho = h 3.2407e-18 s^-1
  // and G = 6.6743e-8 differ from those at the 1e-4 level.
  const rhoCrit = (RHO_CRIT0_H2 * cosmo.h * cosmo.h * 1.988409871e33) / Math.pow(3.085677581491367e24, 3);
  const nH = (rhoCrit * cosmo.Omega_b * 0.76) / M_P;
  assert.ok(rel(hydrogenDensity0(cosmo), nH) < 3e-4, `No = ${hydrogenDensity0(cosmo)} vs ${nH}`);
  // N_b0 counts H + He nuclei: n_H + n_He with n_He = ρ_b Y / (4 m_p)
  const nb = nH + (rhoCrit * cosmo.Omega_b * 0.24) / (4 * M_P);
  assert.ok(rel(baryonDensity0(cosmo), nb) < 3e-4);
  // H_FRAC N_b0 = No and H_FRAC + HE_FRAC = 1 exactly in the code's definitions
  assert.ok(rel(hydrogenFraction() * baryonDensity0(cosmo), hydrogenDensity0(cosmo)) < 1e-14);
  assert.ok(Math.abs(hydrogenFraction() + heliumFraction() - 1) < 1e-15);
});

test('T_S → T_γ when x_c and x̃_α vanish, and → T_K when J_α or the density is huge', () => {
  const z = 20;
  const tgam = cosmo.T_cmb * (1 + z);
  for (const TK of [8, 300]) {
    // (1) nearly empty cell, no Lyα: x_c ∝ 1+δ ~ 1e-9. T_S = (1+x_c)/(1/T_γ + x_c/T_K) differs from T_γ by
    // at most x_c |T_γ/T_K − 1|.
    const empty = spinTemperature(cosmo, z, -1 + 1e-9, TK, 2e-4, 0);
    const bound = empty.xc * Math.abs(tgam / TK - 1) * 1.01 + 1e-15;
    assert.equal(empty.xalpha, 0);
    assert.ok(empty.xc < 1e-9, `x_c = ${empty.xc}`);
    assert.ok(rel(empty.ts, tgam) <= bound, `T_S=${empty.ts} vs T_γ=${tgam}`);
    // (2) huge Lyα background: x̃_α ~ 1e12 ≫ 1, T_S → T_c,eff(T_K, T_S) whose fixed point is T_K. The
    // iteration stops when |ΔT_S|/T_S ≤ 1e-3 and contracts by ≈ 0.41/T_K per step, so the residual is
    // below 1e-3; the 1/x̃_α pull towards T_γ is ~1e-12.
    const lya = spinTemperature(cosmo, z, 0, TK, 2e-4, 10);
    assert.ok(lya.xalpha > 1e10, `x̃_α = ${lya.xalpha}`);
    assert.ok(rel(lya.ts, TK) < 1e-3, `T_S=${lya.ts} vs T_K=${TK}`);
    assert.ok(Math.abs(tcEff(TK, TK) - TK) < 1e-12 * TK, 'T_c,eff(T_K, T_K) = T_K');
    // (3) huge density, no Lyα: x_c ≫ 1, |T_S/T_K − 1| ≤ |T_K/T_γ − 1| / x_c
    const dense = spinTemperature(cosmo, z, 1e9, TK, 2e-4, 0);
    assert.ok(dense.xc > 1e5, `x_c = ${dense.xc}`);
    assert.ok(rel(dense.ts, TK) <= (Math.abs(TK / tgam - 1) / dense.xc) * 1.01, `T_S=${dense.ts} vs T_K=${TK}`);
  }
  // between the limits T_S lies between T_K and T_γ
  const mid = spinTemperature(cosmo, z, 0, 10, 2e-4, 1e-10);
  assert.ok(mid.ts > 10 && mid.ts < tgam);
});

test('x_c is linear in 1+δ and S̃_α ≤ 1 falls with τ_GP (Hirata 2006 fit)', () => {
  const a = xcoll(cosmo, 20, 30, 0, 1e-3);
  const b = xcoll(cosmo, 20, 30, 1, 1e-3);
  assert.ok(rel(b, 2 * a) < 1e-14);
  const tau = taugp(cosmo, 20, 0, 0);
  // τ_GP at z = 20 is a few 10^6 for Planck-like cosmologies (Gunn & Peterson 1965 scaling)
  assert.ok(tau > 1e6 && tau < 1e7, `τ_GP = ${tau}`);
  assert.ok(salphaTilde(1e4, 1e4, tau) < 1 && salphaTilde(10, 10, tau) < salphaTilde(10, 10, tau / 100));
});

test('κ_10 node tables are reproduced, values lie between neighbours, and the extrapolations follow the code', () => {
  const fns = { HH: kappa10HH, pH: kappa10pH, eH: kappa10eH } as const;
  for (const [name, tab] of Object.entries(KAPPA_TABLES)) {
    const f = fns[name as keyof typeof fns];
    const n = tab.lnKappa.length;
    for (let i = 0; i < n; i++) {
      const T = Math.exp(i * tab.dlnT);
      assert.ok(rel(f(T), Math.exp(tab.lnKappa[i]!)) < 1e-9, `${name} node ${i}`);
      if (i + 1 < n) {
        // linear in (ln T, ln κ): the geometric midpoint is the geometric mean, between the neighbours
        const m = f(Math.exp((i + 0.5) * tab.dlnT));
        const lo = Math.exp(Math.min(tab.lnKappa[i]!, tab.lnKappa[i + 1]!));
        const hi = Math.exp(Math.max(tab.lnKappa[i]!, tab.lnKappa[i + 1]!));
        assert.ok(m >= lo * (1 - 1e-12) && m <= hi * (1 + 1e-12), `${name} between nodes ${i}, ${i + 1}`);
        assert.ok(rel(m, Math.exp(0.5 * (tab.lnKappa[i]! + tab.lnKappa[i + 1]!))) < 1e-9);
      }
    }
    // below 1 K: the 1 K value
    assert.equal(f(0.3), Math.exp(tab.lnKappa[0]!));
  }
  // H–H above 10^4 K: κ ∝ T^0.381 (the code's power law)
  assert.ok(rel(kappa10HH(4e4) / kappa10HH(2e4), Math.pow(2, 0.381)) < 1e-12);
  // e–H above 10^5 K: the last log-log slope continued
  const tab = KAPPA_TABLES.eH;
  const slope = (tab.lnKappa[29]! - tab.lnKappa[28]!) / tab.dlnT;
  assert.ok(rel(kappa10eH(4e5) / kappa10eH(2e5), Math.pow(2, slope)) < 1e-12);
});

test('κ_10 matches the original tables: e–H and p–H data files, H–H of Zygelman (2005)', () => {
  // The code's 30-node ln-ln tables are resamplings of these; linear interpolation between the
  // resampled nodes departs from the originals by < 1 % (e–H, p–H) and < 3.2 % (H–H near 4 K, where
  // ln κ bends most), hence the tolerances.
  for (const [file, f, tol] of [
    ['kappa_eH_table.dat', kappa10eH, 0.012],
    ['kappa_pH_table.dat', kappa10pH, 0.006],
  ] as const) {
    const rows = readTable(file);
    assert.ok(rows.length >= 17);
    for (const [T, k] of rows) assert.ok(rel(f(T!), k!) < tol, `${file} T=${T}: ${f(T!)} vs ${k}`);
  }
  // κ_10^HH [cm^3 s^-1] of Zygelman (2005), as tabulated by Furlanetto, Oh & Briggs (2006)
  const T = [1, 2, 4, 6, 8, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 100, 200, 300, 500, 700, 1000, 2000, 3000, 5000, 7000, 10000];
  const K = [
    1.38e-13, 1.43e-13, 2.71e-13, 6.6e-13, 1.47e-12, 2.88e-12, 9.1e-12, 1.78e-11, 2.73e-11, 3.67e-11, 5.38e-11, 6.86e-11, 8.14e-11,
    9.25e-11, 1.02e-10, 1.11e-10, 1.19e-10, 1.75e-10, 2.09e-10, 2.56e-10, 2.91e-10, 3.31e-10, 4.27e-10, 4.97e-10, 6.03e-10, 6.87e-10,
    7.87e-10,
  ];
  T.forEach((t, i) => assert.ok(rel(kappa10HH(t), K[i]!) < 0.035, `H–H at ${t} K: ${kappa10HH(t)} vs ${K[i]}`));
});

test('α_A (Abel et al. 1997 fit) gives the Osterbrock case-A value at 10^4 K and falls with T', () => {
  // Osterbrock's 4.18e-13 cm^3/s at 10^4 K; the fit is accurate to ~1 % there
  assert.ok(rel(alphaA(1e4), ALPHA_A_10K) < 0.01, `α_A(1e4 K) = ${alphaA(1e4)}`);
  let prev = Infinity;
  for (const T of [10, 100, 1e3, 1e4, 1e5]) {
    assert.ok(alphaA(T) < prev);
    prev = alphaA(T);
  }
});

test('bad input throws one-line errors naming the argument', () => {
  const one = (e: Error): boolean => !e.message.includes('\n');
  assert.throws(() => kappa10HH(-1), (e: Error) => one(e) && /T_K.*-1/.test(e.message));
  assert.throws(() => alphaA(NaN), /alphaA: T_K/);
  assert.throws(() => spinTemperature(cosmo, NaN, 0, 10, 0, 0), (e: Error) => one(e) && /z must be/.test(e.message));
  assert.throws(() => spinTemperature(cosmo, 20, -1, 10, 0, 0), /delta must be/);
  assert.throws(() => spinTemperature(cosmo, 20, 0, 10, 2, 0), /xe must be in \[0, 1\], got 2/);
  assert.throws(() => spinTemperature(cosmo, 20, 0, 10, 0, -1), /Jalpha/);
  assert.throws(() => hydrogenDensity0(cosmo, 1.5), /yHe/);
});
