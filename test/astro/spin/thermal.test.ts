import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCosmology } from '../../../src/cosmo/params.js';
import { growthFactor } from '../../../src/cosmo/background.js';
import {
  A_10,
  A_LY_ALPHA,
  C_CMS,
  H_P,
  K_B,
  LAMBDA_21,
  LAMBDA_LY_ALPHA,
  M_E,
  M_P,
  SIGMA_T,
  T_21,
  heliumFraction,
  hydrogenDensity0,
  hydrogenFraction,
} from '../../../src/astro/spin/constants.js';
import { alphaA, spinTemperature } from '../../../src/astro/spin/coupling.js';
import { makeSpinParams } from '../../../src/astro/spin/params.js';
import { cTApprox, tRecfast, xeRecfast } from '../../../src/astro/spin/recfast.js';
import { evolveSpinState, initialSpinState, zpConstants, type CellRates, type SpinState, type SpinStateResult } from '../../../src/astro/spin/thermal.js';

const cosmo = makeCosmology({ Omega_m: 0.31, Omega_b: 0.049, h: 0.677, n_s: 0.965, sigma8: 0.81 });
const rel = (a: number, b: number): number => Math.abs(a / b - 1);
const NO_RATES: CellRates = { xrayHeating: 0, xrayIonisation: 0, lyaXray: 0, lyaStars: 0 };

/** H(z) [s^-1] written out independently of src/cosmo (flat ΛCDM, Ω_r = 0 as in `cosmo`). */
function hubbleS(z: number): number {
  return cosmo.h * 3.2407e-18 * Math.sqrt(cosmo.Omega_m * Math.pow(1 + z, 3) + 1 - cosmo.Omega_m);
}

/**
 * dT_K/dz and dx_e/dz of a mean-density cell without sources (Mesinger et al. 2011: adiabatic cooling,
 * species change, Compton heating with the code's coefficient, case-A recombination sink with clumping C,
 * Meiksin 2021 CMB heating), written out here in float64.
 */
function rhs(z: number, T: number, x: number, C: number, cmb: boolean): [number, number] {
  const a = 1 + z;
  const H = hubbleS(z);
  const dtdz = -1 / (a * H);
  const tg = cosmo.T_cmb * a;
  const dx = dtdz * (-alphaA(T) * C * x * x * hydrogenDensity0(cosmo) * a * a * a);
  const comp = (((-1.51e-4 / (H / (cosmo.h * 3.2407e-18)) / cosmo.h) * Math.pow(tg, 4)) / a) * (x / (1 + x + heliumFraction())) * (tg - T);
  let heat = 0;
  if (cmb) {
    const eps = 0.75 * (tg / T_21) * A_10 * hydrogenFraction() * ((H_P * H_P) / (LAMBDA_21 * LAMBDA_21 * M_P)) * (1 + (2 * T) / T_21);
    heat = (-eps * (2 / (3 * K_B * (1 + x)))) / H / a;
  }
  return [(2 * T) / a - (T / (1 + x)) * dx + comp + heat, dx];
}

/** Classical RK4 in z from z0 to z1 with n steps. */
function rk4(z0: number, z1: number, T0: number, x0: number, n: number, C = 2, cmb = true): [number, number] {
  let T = T0;
  let x = x0;
  const h = (z1 - z0) / n;
  for (let i = 0; i < n; i++) {
    const z = z0 + i * h;
    const [k1t, k1x] = rhs(z, T, x, C, cmb);
    const [k2t, k2x] = rhs(z + h / 2, T + (h / 2) * k1t, x + (h / 2) * k1x, C, cmb);
    const [k3t, k3x] = rhs(z + h / 2, T + (h / 2) * k2t, x + (h / 2) * k2x, C, cmb);
    const [k4t, k4x] = rhs(z + h, T + h * k3t, x + h * k3x, C, cmb);
    T += (h / 6) * (k1t + 2 * k2t + 2 * k3t + k4t);
    x += (h / 6) * (k1x + 2 * k2x + 2 * k3x + k4x);
  }
  return [T, x];
}

/** Evolves `s` from z0 down to the last step ≥ zEnd with z_{i+1} = (1+z_i)/factor − 1; returns the state and its z. */
function evolve(
  s0: SpinStateResult,
  delta: (z: number) => Float32Array,
  z0: number,
  zEnd: number,
  factor: number,
  params = makeSpinParams(),
): { s: SpinStateResult; z: number } {
  let s = s0;
  let z = z0;
  for (;;) {
    const zn = (1 + z) / factor - 1;
    if (zn < zEnd) return { s, z };
    s = evolveSpinState({ cosmo, z: zn, dz: zn - z, delta: delta(zn), prev: s, rates: NO_RATES, params });
    z = zn;
  }
}

test('the Compton coefficient 1.51e-4 is 8 σ_T a_r / (3 m_e c H0/h)', () => {
  const aRad = 7.565723e-15; // radiation constant [erg cm^-3 K^-4]
  const coeff = (8 * SIGMA_T * aRad) / (3 * M_E * C_CMS) / 3.2407e-18;
  assert.ok(rel(1.51e-4, coeff) < 5e-3, `8σ_T a_r/(3 m_e c H0/h) = ${coeff}`);
});

test('without sources T_K follows RECFAST from z = 35 to 20 in the code’s steps, and an RK4 integration of the same ODE', () => {
  const n = 8;
  const zero = new Float32Array(n);
  const s0 = initialSpinState(cosmo, 35, zero);
  const { s, z } = evolve(s0, () => zero, 35, 20, 1.02);
  assert.ok(z >= 20 && z < 20.5, `last z ${z}`);
  // RECFAST: same Compton + adiabatic physics, but case-B recombination with C = 1 against case A with
  // C = 2 here, so x_e falls ~6 % lower and Compton heating is weaker; with the explicit Euler step of
  // Δz/(1+z) = 2 % (≈ 1 % truncation) the measured offset is ~3 %: allow 5 %.
  assert.ok(rel(s.means.tk, tRecfast(z)) < 0.05, `T_K = ${s.means.tk} vs RECFAST ${tRecfast(z)}`);
  assert.ok(rel(s.means.xe, xeRecfast(z)) < 0.1, `x_e = ${s.means.xe} vs RECFAST ${xeRecfast(z)}`);
  // the same ODE by RK4: the code's explicit Euler step loses ≈ 3 (Δz/(1+z))² = 1.2e-3 of T_K per step
  // in the adiabatic term alone ((1 − 2 Δz/(1+z)) against ((1+z')/(1+z))²), ≈ 3.2 % over 27 steps: allow 4 %
  const [Tr, xr] = rk4(35, z, tRecfast(35), xeRecfast(35), 4000);
  assert.ok(rel(s.means.tk, Tr) < 0.04, `Euler ${s.means.tk} vs RK4 ${Tr}`);
  assert.ok(rel(s.means.xe, xr) < 0.02, `Euler ${s.means.xe} vs RK4 ${xr}`);
  // with a 100× finer step the first-order error drops to ~3e-4; float32 storage of T_K and x_e
  // between the 2700 steps adds < 1e-4
  const fine = evolve(initialSpinState(cosmo, 35, new Float32Array(1)), () => new Float32Array(1), 35, 20, 1.0002);
  const [Tf, xf] = rk4(35, fine.z, tRecfast(35), xeRecfast(35), 4000);
  assert.ok(rel(fine.s.tk[0]!, Tf) < 1e-3, `fine Euler ${fine.s.tk[0]} vs RK4 ${Tf}`);
  assert.ok(rel(fine.s.xe[0]!, xf) < 1e-3, `fine Euler ${fine.s.xe[0]} vs RK4 ${xf}`);
});

test('with x_e = 0 the gas cools adiabatically with its growing density: T_K ∝ [(1+z)³ (1+δ(z))]^(2/3)', () => {
  const d0 = [-0.5, 0, 0.5, 2];
  const z0 = 35;
  const D0 = growthFactor(cosmo, z0);
  const deltaAt = (z: number): Float32Array => Float32Array.from(d0, (d) => (d * growthFactor(cosmo, z)) / D0);
  const prev: SpinState = { tk: new Float32Array(d0.length).fill(30), xe: new Float32Array(d0.length), ts: new Float32Array(d0.length).fill(90) };
  // CMB heating off: it is ~1e-10 K per unit z here but is not part of the adiabatic solution
  const params = makeSpinParams({ useCmbHeating: false });
  const err = (factor: number): number[] => {
    const { s, z } = evolve({ ...prev, means: { tk: 30, xe: 0, ts: 90 } }, deltaAt, z0, 25, factor, params);
    const dz = deltaAt(z);
    return d0.map((d, i) => {
      assert.equal(s.xe[i], 0);
      const want = 30 * Math.pow((Math.pow((1 + z) / (1 + z0), 3) * (1 + dz[i]!)) / (1 + d), 2 / 3);
      return s.tk[i]! / want - 1;
    });
  };
  const e1 = err(1.001);
  const e2 = err(1.0005);
  d0.forEach((d, i) => {
    // explicit Euler: first-order convergence to the analytic solution (error halves with the step) and
    // at Δln(1+z) = 5e-4 the truncation is ~1e-3 (largest for the underdense cell)
    assert.ok(Math.abs(e2[i]!) < 2e-3, `δ0=${d}: relative error ${e2[i]}`);
    const order = e1[i]! / e2[i]!;
    assert.ok(order > 1.8 && order < 2.2, `δ0=${d}: error ratio ${order} for a halved step`);
  });
});

test('a uniform heating rate raises T_K by (2/3) ε Δt / (k_B (1 + x_e)) in one small step', () => {
  const z = 20;
  const dz = -0.01;
  const xe = 2e-4;
  const n = 4;
  const prev: SpinState = { tk: new Float32Array(n).fill(10), xe: new Float32Array(n).fill(xe), ts: new Float32Array(n).fill(40) };
  const delta = Float32Array.from([0, 0.3, -0.4, 1]);
  // Δt = dt/dz dz with dt/dz = −1/((1+z)H) from the independent H(z)
  const dt = (-1 / ((1 + z) * hubbleS(z))) * dz;
  const eps = 2.5e-28; // erg/s per baryon: ΔT ≈ 5 K
  const base = evolveSpinState({ cosmo, z, dz, delta, prev, rates: NO_RATES });
  const hot = evolveSpinState({ cosmo, z, dz, delta, prev, rates: { ...NO_RATES, xrayHeating: new Float32Array(n).fill(eps) } });
  const want = ((2 / 3) * eps * dt) / (K_B * (1 + xe));
  assert.ok(want > 1 && want < 20);
  for (let i = 0; i < n; i++) {
    // the heating term adds linearly; both T_K are float32 (~1e-6 K), and the code's Ho = h 3.2407e-18
    // s^-1 is used on both sides: 1e-5 relative
    assert.ok(rel(hot.tk[i]! - base.tk[i]!, want) < 1e-5, `cell ${i}: ΔT = ${hot.tk[i]! - base.tk[i]!} vs ${want}`);
    assert.equal(hot.xe[i], base.xe[i]);
  }
  // switched off, the rate is ignored (and may be null)
  const off = makeSpinParams({ useXrayHeating: false });
  const a = evolveSpinState({ cosmo, z, dz, delta, prev, rates: { ...NO_RATES, xrayHeating: eps }, params: off });
  const b = evolveSpinState({ cosmo, z, dz, delta, prev, rates: { ...NO_RATES, xrayHeating: null }, params: off });
  assert.deepEqual(a.tk, base.tk);
  assert.deepEqual(b.tk, base.tk);
});

test('without sources x_e recombines as dx_e/dz = dt/dz (−α_A C x_e² n_H (1+δ)) in one step', () => {
  const z = 20;
  const dz = -0.1;
  const delta = Float32Array.from([-0.5, 0, 1, 3]);
  const n = delta.length;
  const xe = 0.01;
  const T = 100;
  const prev: SpinState = { tk: new Float32Array(n).fill(T), xe: new Float32Array(n).fill(xe), ts: new Float32Array(n).fill(50) };
  for (const C of [1, 2]) {
    const s = evolveSpinState({ cosmo, z, dz, delta, prev, rates: NO_RATES, params: makeSpinParams({ clumpingFactor: C }) });
    const nH = hydrogenDensity0(cosmo) * Math.pow(1 + z, 3);
    const dtdz = -1 / ((1 + z) * hubbleS(z));
    for (let i = 0; i < n; i++) {
      const want = dtdz * (-alphaA(T) * C * xe * xe * nH * (1 + delta[i]!)) * dz;
      const got = s.xe[i]! - Math.fround(xe);
      assert.ok(want < 0);
      // x_e is float32: ~1e-9 absolute on a change of ~1e-5 → 1e-3 relative is ample
      assert.ok(rel(got, want) < 1e-3, `C=${C} δ=${delta[i]}: Δx_e = ${got} vs ${want}`);
    }
  }
  // an ionisation rate adds dt/dz Λ dz
  const lam = 1e-16;
  const s = evolveSpinState({ cosmo, z, dz, delta, prev, rates: { ...NO_RATES, xrayIonisation: lam } });
  const s0 = evolveSpinState({ cosmo, z, dz, delta, prev, rates: NO_RATES });
  const dt = (-1 / ((1 + z) * hubbleS(z))) * dz;
  assert.ok(rel(s.xe[0]! - s0.xe[0]!, lam * dt) < 1e-3);
});

test('spin temperature of the evolved box: T_γ when uncoupled, T_K with a huge J_α, and the clips of the code', () => {
  const z = 20;
  const dz = -0.2;
  const prev: SpinState = { tk: Float32Array.from([10, 10, 6e4]), xe: Float32Array.from([2e-4, 2e-4, 2e-4]), ts: Float32Array.from([50, 50, 50]) };
  const delta = Float32Array.from([-1 + 1e-6, 0, 0]);
  const tg = cosmo.T_cmb * (1 + z);
  const free = evolveSpinState({ cosmo, z, dz, delta, prev, rates: NO_RATES });
  // x_c ∝ 1+δ ~ 1e-6 × 1e-2: T_S within 1e-6 of T_γ (float32 storage ~1e-7)
  assert.ok(rel(free.ts[0]!, tg) < 1e-6, `T_S ${free.ts[0]} vs T_γ ${tg}`);
  // cells at or above MAX_TK keep T_K
  assert.equal(free.tk[2], Math.fround(6e4));
  const lit = evolveSpinState({ cosmo, z, dz, delta, prev, rates: { ...NO_RATES, lyaStars: 10 } });
  // x̃_α ~ 1e11: T_S → T_K to the iteration tolerance 1e-3
  assert.ok(rel(lit.ts[1]!, lit.tk[1]!) < 1e-3, `T_S ${lit.ts[1]} vs T_K ${lit.tk[1]}`);
  // the Lyα background from X-rays enters the same way
  const litX = evolveSpinState({ cosmo, z, dz, delta, prev, rates: { ...NO_RATES, lyaXray: 10 } });
  assert.equal(litX.ts[1], lit.ts[1]);
  // x_e is clipped at 1 − 1e-7; a T_K driven negative is reset to T_γ
  const wild = evolveSpinState({ cosmo, z, dz, delta, prev, rates: { ...NO_RATES, xrayIonisation: 1, xrayHeating: -1e-20 } });
  assert.equal(wild.xe[1], Math.fround(1 - 1e-7));
  assert.equal(wild.tk[1], Math.fround(tg));
  // means are the volume means of the stored boxes
  assert.ok(Math.abs(free.means.tk - (free.tk[0]! + free.tk[1]! + free.tk[2]!) / 3) < 1e-9);
});

test('per-redshift constants: x̃_α prefactor is 2 λ_α² A_α T_21 / (9 A_10 T_γ) and dt/dz = −1/((1+z)H)', () => {
  const c = zpConstants(cosmo, 15);
  const tg = cosmo.T_cmb * 16;
  // γ_α = A_α / 4π for Lyα (g_l/g_u = 1/3): the code computes it from f_α, e, m_e, which gives
  // A_α = 6.265e8 s^-1 against the tabulated 6.24e8, hence 0.5 %
  const lya = LAMBDA_LY_ALPHA * 1e-8;
  assert.ok(rel(c.xaTildePrefactor, (2 * lya * lya * A_LY_ALPHA * T_21) / (9 * A_10 * tg)) < 5e-3);
  assert.ok(rel(c.dtDzp, -1 / (16 * hubbleS(15))) < 1e-12);
  assert.ok(rel(c.dgrowthDzp, (growthFactor(cosmo, 15.001) - growthFactor(cosmo, 14.999)) / 0.002) < 1e-5);
  assert.ok(rel(c.trad, tg) < 1e-15);
});

test('the first box: RECFAST T_K with adiabatic fluctuations, RECFAST x_e, collisional T_S', () => {
  const delta = Float32Array.from([-0.02, 0, 0.05]);
  const zd = 36; // δ given at a higher redshift: scaled by D(35)/D(36)
  const s = initialSpinState(cosmo, 35, delta, { deltaRedshift: zd });
  const TK = tRecfast(35);
  const ratio = growthFactor(cosmo, 35) / growthFactor(cosmo, zd);
  for (let i = 0; i < delta.length; i++) {
    const g = delta[i]! * ratio;
    assert.ok(rel(s.tk[i]!, TK * (1 + cTApprox(35) * g)) < 1e-6);
    assert.equal(s.xe[i], Math.fround(xeRecfast(35)));
    assert.ok(rel(s.ts[i]!, spinTemperature(cosmo, zd, g, TK, xeRecfast(35), 0).ts) < 1e-6);
  }
  const flat = initialSpinState(cosmo, 35, delta, { params: makeSpinParams({ adiabaticFluctuations: false }) });
  assert.ok(flat.tk.every((t) => t === Math.fround(TK)));
});

test('bad input throws one-line errors naming the argument', () => {
  const n = 4;
  const delta = new Float32Array(n);
  const prev: SpinState = { tk: new Float32Array(n).fill(10), xe: new Float32Array(n).fill(1e-4), ts: new Float32Array(n).fill(30) };
  const ok = { cosmo, z: 20, dz: -0.4, delta, prev, rates: NO_RATES };
  const throwsNaming = (f: () => unknown, re: RegExp): void =>
    assert.throws(f, (e: Error) => e instanceof RangeError && re.test(e.message) && !e.message.includes('\n'));
  throwsNaming(() => evolveSpinState({ ...ok, z: NaN }), /z must be a finite redshift > -1, got NaN/);
  throwsNaming(() => evolveSpinState({ ...ok, dz: 0.4 }), /dz must be finite and negative.*got 0.4/);
  throwsNaming(() => evolveSpinState({ ...ok, dz: 0 }), /dz must be/);
  throwsNaming(() => evolveSpinState({ ...ok, delta: new Float32Array(3) }), /prev.tk must hold 3 cells \(as delta\), got length 4/);
  throwsNaming(() => evolveSpinState({ ...ok, prev: { ...prev, xe: new Float32Array(5) } }), /prev.xe must hold 4 cells/);
  throwsNaming(() => evolveSpinState({ ...ok, rates: { ...NO_RATES, lyaStars: new Float32Array(2) } }), /rates.lyaStars must hold 4 cells/);
  throwsNaming(() => evolveSpinState({ ...ok, rates: { ...NO_RATES, xrayHeating: null } }), /rates.xrayHeating must be a number or 4 cells/);
  throwsNaming(() => evolveSpinState({ ...ok, rates: { ...NO_RATES, xrayIonisation: Float32Array.from([0, NaN, 0, 0]) } }), /rates.xrayIonisation\[1\] must be finite/);
  throwsNaming(() => evolveSpinState({ ...ok, delta: Float32Array.from([0, 0, Infinity, 0]) }), /delta\[2\] must be finite/);
  throwsNaming(() => evolveSpinState({ ...ok, prev: { ...prev, tk: Float32Array.from([10, -1, 10, 10]) } }), /prev.tk\[1\] must be a finite temperature/);
  throwsNaming(() => evolveSpinState({ ...ok, delta: new Float32Array(0) }), /delta must hold at least one cell/);
  throwsNaming(() => initialSpinState(cosmo, 600, delta), /z must be/);
  throwsNaming(() => initialSpinState(cosmo, NaN, delta), /z must be a finite redshift/);
  throwsNaming(() => zpConstants(cosmo, -2), /zp must be/);
});
