/**
 * The v3 sources of the spin-temperature shells (src/astro/spin/fcoll-shells.ts): units and mean fix against an
 * independent integral of the unconditional HMF; the growth scaling of the shell's density; the CHMF dependence on
 * density; the driver's shell-source path against its gridded path on a uniform box.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV, RHO_CRIT0_H2 } from '../../../src/cosmo/params.js';
import { growthFactor } from '../../../src/cosmo/background.js';
import { dndlnM } from '../../../src/cosmo/massfunction.js';
import { LinearPower } from '../../../src/cosmo/power.js';
import { SigmaM } from '../../../src/cosmo/sigma.js';
import { M_P_G, MSUN_G } from '../../../src/astro/galaxy/constants.js';
import { galaxyProperties } from '../../../src/astro/galaxy/properties.js';
import { withoutScatter } from '../../../src/astro/galaxy/scatter-variants.js';
import { ASTRO_DEFAULTS } from '../../../src/astro/params.js';
import { FcollSources } from '../../../src/astro/reion/fcoll-sources.js';
import { FourierGrid, tophatWindow } from '../../../src/astro/reion/filters.js';
import { makeReionParams } from '../../../src/astro/reion/params.js';
import { defaultSamplerParams } from '../../../src/astro/sampler/params.js';
import { cosmicDawn, type ShellSourceModel } from '../../../src/astro/spin/driver.js';
import { FcollShellSources } from '../../../src/astro/spin/fcoll-shells.js';
import { makeSpinParams } from '../../../src/astro/spin/params.js';
import { spinShells } from '../../../src/astro/spin/shells.js';
import { HMF_REFERENCE } from '../../../src/pipeline/sources-figures.js';

const c = CAMELS_CV;
const sigma = new SigmaM(new LinearPower(c));
const MIN_MASS = 1e8; // Msun/h
const fcoll = new FcollSources({ cosmo: c, sigma, astro: ASTRO_DEFAULTS, chmf: defaultSamplerParams(c.h), minMass: MIN_MASS, maxRadius: 500 * c.h, rate: false, massFunction: HMF_REFERENCE });
const n = 8;
const L = 32;
const n3 = n ** 3;
const ZP = 12;
const shells = spinShells(c, ZP, L, n, { count: 12 });
const fourier = new FourierGrid(n, L);
/** n̄_b per (Mpc/h)^3, written out here from its definition. */
const NB = (c.Omega_b * RHO_CRIT0_H2 * MSUN_G) / (M_P_G * c.h);

/** ∫ dn/dln M q(M) dln M from MIN_MASS to 1e16 Msun/h (trapezoid on 4001 nodes), q the zero-scatter SFR or L_X per halo. */
function hmfExpectation(z: number): { sfr: number; lx: number } {
  const m = 4001;
  const lo = Math.log(MIN_MASS);
  const dl = (Math.log(1e16) - lo) / (m - 1);
  const mass = Array.from({ length: m }, (_, i) => Math.exp(lo + i * dl));
  const zeros = new Float64Array(m);
  const g = galaxyProperties({ haloMassMsun: mass.map((x) => x / c.h), z, cosmo: c, params: withoutScatter(ASTRO_DEFAULTS), deviates: { star: zeros, sfr: zeros, xray: zeros } });
  let sfr = 0;
  let lx = 0;
  mass.forEach((x, i) => {
    const w = (i === 0 || i === m - 1 ? 0.5 : 1) * dl * dndlnM(sigma, x, z, HMF_REFERENCE);
    sfr += w * (g.sfr[i]! + g.sfrMini[i]!);
    lx += w * g.lx[i]!;
  });
  return { sfr, lx };
}

/** A reproducible zero-mean field of rms about 0.4, δ > −1. */
const delta = Float64Array.from({ length: n3 }, (_, i) => 0.55 * Math.sin(1.7 * i + 0.3) * Math.cos(0.37 * i * i));

test('uniform density: every shell emits the HMF expectation of SFR and L_X at its own z″, per (Mpc/h)^3 and in 1e38 erg/s', () => {
  const src = new FcollShellSources(fcoll, c);
  const e = src.emission(ZP, new Float64Array(n3), shells, fourier);
  try {
    for (const j of [0, 3, shells.count - 1]) {
      const s = e.at(j)!;
      const want = hmfExpectation(shells.zCentre[j]!);
      // every cell alike (the top-hat of a uniform field is uniform to FFT rounding)
      for (let i = 0; i < n3; i++) assert.ok(Math.abs((s.sfr[i] as number) / (s.sfr[0] as number) - 1) < 1e-9);
      // the trapezoid on 4001 nodes against the code path's Simpson on 801: both converged far below 1e-4
      assert.ok(Math.abs((s.sfr[0] as number) / want.sfr - 1) < 1e-4, `shell ${j}: SFR ${s.sfr[0]} vs ${want.sfr}`);
      assert.ok(Math.abs(((s.xray[0] as number) * 1e38) / want.lx - 1) < 1e-4, `shell ${j}: L_X ${s.xray[0]} ×1e38 vs ${want.lx}`);
    }
  } finally {
    e.dispose();
  }
});

test('a varying density: the shell mean of SFR/(1 + δ″) is the HMF expectation (the code\'s mean fix), δ″ the growth-scaled density; denser cells emit more per unit mass', () => {
  const src = new FcollShellSources(fcoll, c);
  const e = src.emission(ZP, delta, shells, fourier);
  try {
    // the innermost shell is the cell itself: δ″ = δ D(z″)/D(z') without any filter
    const zpp = shells.zCentre[0]!;
    const g = growthFactor(c, zpp) / growthFactor(c, ZP);
    assert.ok(g < 1 && g > 0.8, `growth ratio ${g}`);
    const s = e.at(0)!;
    let sum = 0;
    for (let i = 0; i < n3; i++) sum += (s.sfr[i] as number) / (1 + delta[i]! * g);
    const want = hmfExpectation(zpp);
    assert.ok(Math.abs(sum / n3 / want.sfr - 1) < 1e-4, `mean SFR/(1+δ″) ${sum / n3} vs ${want.sfr}`);
    // the mean of SFR itself is above it: (1 + δ″) and the CHMF rise together
    let plain = 0;
    for (let i = 0; i < n3; i++) plain += s.sfr[i] as number;
    assert.ok(plain / n3 > want.sfr * 1.01, `mean SFR ${plain / n3} vs expectation ${want.sfr}`);
    // per unit mass the CHMF output rises with density
    const order = Array.from({ length: n3 }, (_, i) => i).sort((a, b) => delta[a]! - delta[b]!);
    for (let k = 1; k < n3; k++) {
      const a = order[k - 1]!;
      const b = order[k]!;
      if (delta[b]! - delta[a]! < 1e-9) continue;
      assert.ok((s.sfr[b] as number) / (1 + delta[b]! * g) > (s.sfr[a] as number) / (1 + delta[a]! * g), `cells ${a}, ${b}`);
    }
  } finally {
    e.dispose();
  }
  // the per-baryon unit: n̄_b written out here equals the one the tables use
  assert.ok(Math.abs(fcoll.atRedshift(ZP).meanBaryonDensity / NB - 1) < 1e-12);
});

test('an outer shell: the density averaged over the sphere of its outer radius, floored at −1, scaled to z″; its SFR per unit mass the CHMF of that δ″', () => {
  // a field with cells below −1 (what the ringing of a filter can give) on top of the varying one
  const field = Float64Array.from(delta, (v, i) => (i % 37 === 0 ? -1.6 : v));
  const src = new FcollShellSources(fcoll, c);
  const e = src.emission(ZP, field, shells, fourier);
  try {
    for (const j of [0, 5]) {
      const R = shells.rOuter[j]!;
      const zpp = shells.zCentre[j]!;
      const g = growthFactor(c, zpp) / growthFactor(c, ZP);
      // δ_R by the top-hat of radius R_j (shell 0, the cell, unfiltered), floored at −1, then scaled
      let dR: Float64Array;
      if (j === 0) dR = Float64Array.from(field);
      else {
        const fk = fourier.forward(field);
        try {
          dR = fourier.apply(fk, fourier.window((k) => tophatWindow(k * R)));
        } finally {
          fk.dispose();
        }
      }
      let floored = 0;
      const dpp = Float64Array.from(dR, (v) => {
        if (v < -1) floored++;
        return Math.max(v, -1) * g;
      });
      if (j === 0) assert.ok(floored > 5, `${floored} cells below −1`);
      const q = fcoll.atRedshift(zpp).perBaryon(R, dpp, ['sfr']).values[0]!;
      const s = e.at(j)!;
      // SFR / ((1 + δ″) Q(δ″)) is one constant (n̄_b × the mean fix) over the box
      const ratio = Array.from(q, (v, i) => (s.sfr[i] as number) / ((1 + dpp[i]!) * v));
      for (const r of ratio) assert.ok(Math.abs(r / ratio[0]! - 1) < 1e-9, `shell ${j}: ratio ${r} vs ${ratio[0]}`);
    }
    // the wrong radius (the inner one) gives other δ″ and another ratio pattern: the check above can tell them apart
    const j = 5;
    const fk = fourier.forward(field);
    let inner: Float64Array;
    try {
      inner = fourier.apply(fk, fourier.window((k) => tophatWindow(k * shells.rInner[j]!)));
    } finally {
      fk.dispose();
    }
    const g = growthFactor(c, shells.zCentre[j]!) / growthFactor(c, ZP);
    const dIn = Float64Array.from(inner, (v) => Math.max(v, -1) * g);
    const qIn = fcoll.atRedshift(shells.zCentre[j]!).perBaryon(shells.rOuter[j]!, dIn, ['sfr']).values[0]!;
    const s = e.at(j)!;
    const rIn = Array.from(qIn, (v, i) => (s.sfr[i] as number) / ((1 + dIn[i]!) * v));
    assert.ok(rIn.some((r) => Math.abs(r / rIn[0]! - 1) > 1e-3), 'the inner radius does not reproduce the shell');
  } finally {
    e.dispose();
  }
});

test('cosmicDawn: shell sources that replay uniform boxes give the gridded path\'s history', () => {
  const m = 4;
  const noRec = makeReionParams({ recombinations: false });
  const fill = (v: number): Float32Array => new Float32Array(m ** 3).fill(v);
  const sfr = 2e-3;
  const lx38 = 40;
  const base = { cosmology: c, boxSize: 12, grid: m, density: () => fill(0), emissivity: () => fill(0), reionParams: noRec, spinParams: makeSpinParams({ nStepTs: 20 }) };
  const zs = [30, 25, 21, 18, 16];
  const gridded = cosmicDawn({ ...base, redshifts: zs, sfrDensity: () => fill(sfr), xrayDensity: () => fill(lx38) });
  let disposed = 0;
  const replay: ShellSourceModel = {
    emission: () => ({ at: () => ({ sfr: fill(sfr), xray: fill(lx38) }), dispose: () => void disposed++ }),
  };
  const shellRun = cosmicDawn({ ...base, redshifts: zs, shellSources: replay });
  for (const key of ['kineticTemperature', 'spinTemperature', 'xe', 'jAlpha', 'xrayHeating', 'brightnessTemp'] as const) {
    gridded.history[key].forEach((v, k) => assert.ok(Math.abs(shellRun.history[key][k]! - v) <= 1e-9 * Math.abs(v), `${key} at z = ${zs[k]}: ${shellRun.history[key][k]} vs ${v}`));
  }
  assert.ok(gridded.history.kineticTemperature[zs.length - 1]! > gridded.history.kineticTemperature[1]!, 'the sources heat the gas');
  assert.equal(disposed, zs.length - 1, 'each step with light frees its shell emission');
  assert.throws(() => cosmicDawn({ ...base, redshifts: zs, sfrDensity: () => fill(sfr), xrayDensity: () => fill(lx38), shellSources: replay }), /either sfrDensity and xrayDensity .* or shellSources/);
  assert.throws(() => cosmicDawn({ ...base, redshifts: zs, sfrDensity: () => fill(sfr) }), /either sfrDensity and xrayDensity/);
});
