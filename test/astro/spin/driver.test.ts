import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV } from '../../../src/cosmo/params.js';
import { makeReionParams } from '../../../src/astro/reion/params.js';
import { cosmicDawn } from '../../../src/astro/spin/driver.js';
import { dtdzSeconds, spinShells } from '../../../src/astro/spin/shells.js';
import { makeSpinParams } from '../../../src/astro/spin/params.js';
import { frecycle, lyaStarPrefactor, NSPEC_MAX, nuN, spectralEmissivity, zmax } from '../../../src/astro/spin/lyman.js';
import { integrateOverNu, nuTauOne, xrayParams, xrayPrefactor } from '../../../src/astro/spin/xray.js';
import { CM_PER_MPC } from '../../../src/astro/spin/constants.js';
import { tRecfast } from '../../../src/astro/spin/recfast.js';

const c = CAMELS_CV;
const n = 4;
const n3 = n ** 3;
const L = 12;
const fill = (v: number): Float32Array => new Float32Array(n3).fill(v);
const noRec = makeReionParams({ recombinations: false });
/** A uniform, source-free box at mean density, without recombinations: each test overrides what it needs. */
const dark = {
  cosmology: c,
  boxSize: L,
  grid: n,
  density: () => fill(0),
  emissivity: () => fill(0),
  sfrDensity: () => fill(0),
  xrayDensity: () => fill(0),
  reionParams: noRec,
};

test('uniform stellar emissivity: homogeneous J_α equal to the lightcone integral of Eq. 20 (fine quadrature), converging with the number of shells', () => {
  const sfr = 1e-3; // Msun/yr per (Mpc/h)^3, constant in time
  const zs = [36, 30, 25, 20];
  const jAt20 = (nStepTs: number): { j: number; box: Float32Array } => {
    const res = cosmicDawn({ ...dark, redshifts: zs, sfrDensity: () => fill(sfr), spinParams: makeSpinParams({ nStepTs }) });
    const k = res.history.z.findIndex((z) => z === 20);
    return { j: res.history.jAlpha[k]!, box: res.boxes[k]!.spinTemperature };
  };
  const r40 = jAt20(40);
  // homogeneous source, homogeneous medium: every cell alike
  for (let i = 1; i < n3; i++) assert.ok(Math.abs(r40.box[i]! / r40.box[0]! - 1) < 1e-6);
  // J_α,* = (c/4π) Msun/m_p (1 − 0.75 Y_He) (1+z')^2 ∫ dz'' |dt/dz''| (1+z'') ρ̇_*(z'') Σ_n f_rec(n) ε_n(ν_n (1+z'')/(1+z')),
  // the sum over the lines whose horizon z_max(z', n) lies beyond z''. Midpoint rule with 20000 steps up to z_max(z', 2)
  // (23.9, inside the 500 Mpc of the shells). |dt/dz| from its closed form for flat ΛCDM without radiation.
  const zp = 20;
  const h0 = (100 * c.h) / 3.085677581491367e19; // 1/s
  const dtdz = (z: number): number => 1 / ((1 + z) * h0 * Math.sqrt(c.Omega_m * (1 + z) ** 3 + c.Omega_r * (1 + z) ** 4 + 1 - c.Omega_m - c.Omega_r));
  const rho = (sfr * c.h ** 3) / 31556925.9747 / 3.08567758e24 ** 3; // Msun/s per cm^3 comoving
  const top = zmax(zp, 2);
  const m = 20000;
  const dz = (top - zp) / m;
  let integral = 0;
  for (let s = 0; s < m; s++) {
    const zpp = zp + (s + 0.5) * dz;
    let lines = 0;
    for (let nn = 2; nn <= NSPEC_MAX; nn++) if (zpp <= zmax(zp, nn)) lines += frecycle(nn) * spectralEmissivity((nuN(nn) * (1 + zpp)) / (1 + zp), 2);
    integral += dtdz(zpp) * (1 + zpp) * lines * dz;
  }
  const want = lyaStarPrefactor(0.24) * (1 + zp) ** 2 * rho * integral;
  const e40 = r40.j / want - 1;
  const e160 = jAt20(160).j / want - 1;
  // the shells' midpoint rule is first order in the shell width at each line's horizon: +6% with the code's
  // 40 shells, and the error must shrink about fourfold-to-twofold with 160 (a unit error would not)
  assert.ok(Math.abs(e40) < 0.1, `J_α 40 shells ${r40.j.toExponential(4)} vs integral ${want.toExponential(4)}`);
  assert.ok(Math.abs(e160) < 0.025 && Math.abs(e160) < Math.abs(e40) / 2, `160 shells: ${e160} (40: ${e40})`);
});

test('uniform X-ray emissivity: heating rate equal to the lightcone integral over z″ and ν with τ = 1 attenuation (fine quadrature)', () => {
  const lx38 = 50; // 1e38 erg/s per (Mpc/h)^3
  const zs = [36, 30, 25, 20];
  const res = cosmicDawn({ ...dark, redshifts: zs, xrayDensity: () => fill(lx38) });
  const k = res.history.z.findIndex((z) => z === 20);
  const zp = 20;
  const xp = xrayParams(c, { yHe: 0.24 });
  const xeMean = res.history.xe[k - 1]!; // the tables use the previous step's ⟨x_e⟩
  const eps = (lx38 * 1e38 * c.h ** 3) / CM_PER_MPC ** 3; // erg/s per cm^3
  // the shells reach z''(R_last) (26.3 here, below Z_HEAT_MAX = 35): the reference stops there too
  const zTop = spinShells(c, zp, L, n).zEdge[39]!;
  const m = 400;
  const dz = (zTop - zp) / m;
  let integral = 0;
  for (let s = 0; s < m; s++) {
    const zpp = zp + (s + 0.5) * dz;
    const nuMin = Math.max(nuTauOne(zp, zpp, xeMean, () => 1, xp), xp.nuXThreshEv * 2.417989e14);
    integral += dtdzSeconds(c, zpp) * (1 + zpp) ** -xp.alphaX * integrateOverNu(zp, xeMean, nuMin, 'heat', xp) * dz;
  }
  const want = xrayPrefactor(zp, xp) * eps * integral;
  const got = res.history.xrayHeating[k]!;
  // the 40 shells against 400 midpoint steps over the same range: the τ = 1 cut-off is smooth, 1% is ample
  assert.ok(Math.abs(got / want - 1) < 0.01, `heating shells ${got.toExponential(4)} vs integral ${want.toExponential(4)}`);
});

test('global history: RECFAST start, absorption trough from Lyman-α coupling, then X-ray heating above T_γ; x_HI never rises', () => {
  const zs: number[] = [];
  for (let z = 36; z > 9; z = (1 + z) / 1.06 - 1) zs.push(z);
  const sfrd = (z: number): number => 2e-2 * Math.exp(-(z - 8) / 1.5);
  const res = cosmicDawn({
    ...dark,
    redshifts: zs,
    emissivity: (z: number) => fill(0.05 * 2.7754e11 * c.Omega_b * Math.exp(-(z - 9) / 2)),
    sfrDensity: (z: number) => fill(sfrd(z)),
    xrayDensity: (z: number) => fill(sfrd(z) * 10 ** 2.5),
  });
  const h = res.history;
  assert.ok(Math.abs(h.kineticTemperature[0]! / tRecfast(36) - 1) < 1e-3, 'first box at RECFAST T_K');
  let min = Infinity;
  let kMin = -1;
  h.brightnessTemp.forEach((t, k) => {
    if (t < min) [min, kMin] = [t, k];
  });
  assert.ok(min < -20, `an absorption trough (min ⟨δT_b⟩ = ${min.toFixed(1)} mK)`);
  assert.ok(kMin > 0 && kMin < h.z.length - 1, 'the trough is inside the range, not at an end');
  const last = h.z.length - 1;
  assert.ok(h.kineticTemperature[last]! > h.kineticTemperature[kMin]!, 'heating after the trough');
  assert.ok(h.brightnessTemp[last]! > min, 'the signal rises after the trough');
  // dark ages: at z = 36 collisions still couple T_s to the cold gas (weak absorption), and the coupling
  // fades as the gas dilutes, before the Lyman-α background couples it again
  const k22 = h.z.findIndex((z) => z < 22.5);
  assert.ok(h.brightnessTemp[0]! < 0 && h.brightnessTemp[0]! > -20, `dark-ages ⟨δT_b⟩ = ${h.brightnessTemp[0]}`);
  assert.ok(Math.abs(h.brightnessTemp[k22]!) < Math.abs(h.brightnessTemp[0]!), 'collisional coupling fades');
  // x_HI = 1 − x_e outside ionised regions: the relic x_e ~ 2e-4 recombines at first (x_HI rises by
  // < 1e-4), so monotonic to 1e-3; once sources ionise, x_HI must fall
  for (let k = 1; k < h.z.length; k++) assert.ok(h.xHI[k]! <= h.xHI[k - 1]! + 1e-3, `x_HI rose at z = ${h.z[k]}`);
  assert.ok(h.xHI[last]! < 0.99, `sources ionised the box (⟨x_HI⟩ = ${h.xHI[last]})`);
});

test('cosmicDawn refuses mis-sized grids and repeated redshifts', () => {
  assert.throws(() => cosmicDawn({ ...dark, redshifts: [20, 20] }), /distinct/);
  assert.throws(() => cosmicDawn({ ...dark, redshifts: [20], sfrDensity: () => new Float32Array(5) }), /sfrDensity at z = 20 has 5 values/);
});
