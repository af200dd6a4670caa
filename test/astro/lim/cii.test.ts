import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comovingDistance, hubble, makeCosmology } from '../../../src/cosmo/index.js';
import {
  DE_LOOZE_LOG_NORM,
  LINE_LUMINOSITY_CONSTANT,
  NU_CII_REST_GHZ,
  cellGeometry,
  ciiIntensityPerLuminosity,
  ciiLuminosity,
  ciiSurfaceBrightness,
  gridCiiLuminosity,
} from '../../../src/astro/lim/cii.js';
import { Rng } from '../../../src/util/rng.js';

// Davies et al. 2025 cosmology (Sec. 1)
const cosmo = makeCosmology({ Omega_m: 0.3096, Omega_b: 0.04897, h: 0.6766, n_s: 0.9665, sigma8: 0.8102 });

// SI constants, independent of the code under test
const L_SUN_W = 3.828e26; // IAU 2015 Resolution B3 nominal solar luminosity
const MPC_M = 3.085677581491367e22; // IAU 2015 B2 (pc = 648000/π au)
const JY = 1e-26; // W m^-2 Hz^-1
const C_MS = 299792458;

/** K of L[L_sun] = K S[Jy] Δv[km/s] ν_obs[GHz] D_L²[Mpc²]: L = 4π D_L² S Δν with Δν = ν_obs Δv / c. */
function lineConstant(lSun: number): number {
  return (4 * Math.PI * MPC_M * MPC_M * JY * 1e9 * 1e3) / (C_MS * lSun);
}

test('the 1.04e-3 line-luminosity constant follows from L_sun, Mpc, Jy and c to its printed precision', () => {
  const k = lineConstant(L_SUN_W);
  assert.equal(Number(k.toPrecision(3)), 1.04e-3, `K = ${k}`);
  // Solomon et al. (1997) used L_sun = 3.826e33 erg/s: the same three digits
  assert.equal(Number(lineConstant(3.826e26).toPrecision(3)), 1.04e-3);
  assert.equal(LINE_LUMINOSITY_CONSTANT, Number(k.toPrecision(3)));
  // without the km/s → c factor the constant would be 1/312.6, not 1.04e-3: Eq. 27 needs c Δν
  const noVelocity = (4 * Math.PI * MPC_M * MPC_M * JY * 1e9) / L_SUN_W;
  assert.ok(Math.abs(noVelocity - 312.6) < 0.1, `${noVelocity}`);
});

test('L_CII = 10^7.06 SFR (De Looze et al. 2014, Eq. 26); zero SFR gives zero; bad SFRs are rejected', () => {
  const r = new Rng(11);
  const sfr = Float64Array.from({ length: 50 }, () => Math.pow(10, -4 + 6 * r.uniform()));
  sfr[7] = 0;
  const l = ciiLuminosity(sfr);
  for (let i = 0; i < sfr.length; i++) {
    if (sfr[i] === 0) assert.equal(l[i], 0);
    else assert.ok(Math.abs(Math.log10(l[i]!) - Math.log10(sfr[i]!) - DE_LOOZE_LOG_NORM) < 1e-12);
  }
  assert.ok(Math.abs(ciiLuminosity([1])[0]! / 11481536.214968819 - 1) < 1e-12); // 10^7.06
  assert.throws(() => ciiLuminosity([1, -1]), /sfrMsunPerYr\[1\].*-1/);
  assert.throws(() => ciiLuminosity([NaN]), /sfrMsunPerYr\[0\]/);
});

/** z where χ(z) = d [Mpc/h], by bisection. */
function zAt(d: number): number {
  let lo = 0.01;
  let hi = 50;
  for (let i = 0; i < 80; i++) {
    const m = 0.5 * (lo + hi);
    if (comovingDistance(cosmo, m) < d) lo = m;
    else hi = m;
  }
  return 0.5 * (lo + hi);
}

/** Specific intensity [Jy/sr] of luminosity lSun [L_sun] filling one cell at z, from F = L/(4π D_L²), I = F/(Ω Δν). */
function firstPrinciplesIntensity(lSun: number, z: number, cellMpcH: number): number {
  const chi = comovingDistance(cosmo, z); // Mpc/h
  const dl = ((1 + z) * chi) / cosmo.h; // Mpc
  const flux = (lSun * L_SUN_W) / (4 * Math.PI * (dl * MPC_M) ** 2); // W/m²
  const omega = (cellMpcH / chi) ** 2;
  // the cell's frequency width from the redshifts of its near and far faces (no differential)
  const zNear = zAt(chi - cellMpcH / 2);
  const zFar = zAt(chi + cellMpcH / 2);
  const dnuHz = (NU_CII_REST_GHZ / (1 + zNear) - NU_CII_REST_GHZ / (1 + zFar)) * 1e9;
  return flux / (omega * dnuHz) / JY;
}

test('B_CII of one galaxy in one cell equals its specific intensity F/(Ω Δν) in Jy/sr', () => {
  const n = 16;
  const L = 48; // 3 Mpc/h cells
  const z = 7.2;
  const sfr = 3.7;
  const lum = ciiLuminosity([sfr]);
  // a galaxy 0.4 cells from node (5, 9, 2): NGP puts it all in that cell
  const pos = Float64Array.from([5.4 * 3, 8.7 * 3, 2.2 * 3]);
  const cell = gridCiiLuminosity(pos, lum, { grid: n, boxSize: L });
  const idx = (5 * n + 9) * n + 2;
  const want = firstPrinciplesIntensity(lum[0]!, z, L / n);
  const kExact = lineConstant(L_SUN_W);
  const exact = ciiSurfaceBrightness(cell, { z, cosmology: cosmo, boxSize: L, grid: n, constant: kExact });
  // float32 output (6e-8) and the differential Δν vs the face-to-face difference (~(a/χ)² ~ 1e-7)
  assert.ok(Math.abs(exact[idx]! / want - 1) < 2e-6, `B = ${exact[idx]} Jy/sr vs ${want}`);
  for (let i = 0; i < exact.length; i++) if (i !== idx) assert.equal(exact[i], 0);
  // with the printed K = 1.04e-3 the map is high by exactly K_exact / 1.04e-3 = 1.0025
  const printed = ciiSurfaceBrightness(cell, { z, cosmology: cosmo, boxSize: L, grid: n });
  assert.ok(Math.abs(printed[idx]! / want - kExact / 1.04e-3) < 2e-6, `${printed[idx]! / want}`);
  // order of magnitude sanity for a z ~ 7 LIM voxel holding one SFR ~ 4 Msun/yr galaxy
  assert.ok(want > 1e2 && want < 1e5, `${want}`);
});

test('Σ over cells of B Ω c Δν K D_L² recovers Σ L_CII (NGP and CIC), and K D_L² Ω c Δν = K ν_rest H V_cell', () => {
  const n = 16;
  const L = 32;
  const z = 9.3;
  const r = new Rng(5);
  const ng = 300;
  const pos = Float64Array.from({ length: 3 * ng }, () => r.uniform() * L);
  const sfr = Float64Array.from({ length: ng }, () => (r.uniform() < 0.1 ? 0 : Math.pow(10, -3 + 4 * r.uniform())));
  const lum = ciiLuminosity(sfr);
  let total = 0;
  for (const l of lum) total += l;
  const g = cellGeometry(cosmo, z, L / n);
  const conv = LINE_LUMINOSITY_CONSTANT * g.luminosityDistanceMpc ** 2 * g.solidAngleSr * (C_MS / 1e3) * g.deltaNuGHz;
  const vCell = (L / n / cosmo.h) ** 3;
  assert.ok(Math.abs(conv / (LINE_LUMINOSITY_CONSTANT * NU_CII_REST_GHZ * hubble(cosmo, z) * vCell) - 1) < 1e-12);
  assert.ok(Math.abs(ciiIntensityPerLuminosity(g) * conv - 1) < 1e-12);
  for (const mas of ['NGP', 'CIC'] as const) {
    const b = ciiSurfaceBrightness(gridCiiLuminosity(pos, lum, { grid: n, boxSize: L, mas }), { z, cosmology: cosmo, boxSize: L, grid: n });
    let s = 0;
    for (const v of b) s += v * conv;
    // float32 cells: each value to 6e-8, accumulation of a few galaxies per cell in float32
    assert.ok(Math.abs(s / total - 1) < 1e-6, `${mas}: ${s} vs ${total}`);
  }
});

test('bad inputs name the parameter', () => {
  assert.throws(() => gridCiiLuminosity(new Float64Array(5), new Float64Array(2), { grid: 4, boxSize: 4 }), /positions has 5/);
  assert.throws(() => gridCiiLuminosity(new Float64Array(3), Float64Array.of(-2), { grid: 4, boxSize: 4 }), /luminosityLsun\[0\].*-2/);
  assert.throws(() => cellGeometry(cosmo, 0, 1), /z must be.*got 0/);
  assert.throws(() => cellGeometry(cosmo, 7, -1), /cellMpcH/);
  assert.throws(() => ciiSurfaceBrightness(new Float32Array(8), { z: 7, cosmology: cosmo, boxSize: 4, grid: 4 }), /64/);
  assert.throws(() => ciiSurfaceBrightness(new Float32Array(64).fill(NaN), { z: 7, cosmology: cosmo, boxSize: 4, grid: 4 }), /luminosityPerCell\[0\]/);
});
