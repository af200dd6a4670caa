import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV, type Cosmology } from '../../../src/cosmo/index.js';
import { X_INT_NXHII, X_INT_XHII } from '../../../src/astro/spin/deposition.js';
import {
  PHYS,
  baryonNumberDensity0,
  dtdz,
  fillFreqIntTables,
  hFrac,
  heFrac,
  integrateOverNu,
  interpFreqInt,
  nuIntegrand,
  nuTauOne,
  opticalDepth,
  sigmaHI,
  sigmaHeI,
  sigmaHeII,
  speciesWeightedCrossSection,
  tauX,
  xeWeights,
  xrayParams,
  xrayPrefactor,
  xrayShellFactor,
} from '../../../src/astro/spin/xray.js';

const eV = PHYS.eV_to_Hz;
const p = xrayParams(CAMELS_CV);

test('cross-sections at threshold equal the published values, vanish below and fall as ν^-3 … ν^-3.5', () => {
  // hydrogenic σ_0 = 6.30e-18 cm² (H I) and σ_0/Z² = 1.58e-18 cm² (He II) (Osterbrock 1989, Sec. 2.1);
  // He I 7.4e-18 cm² at 24.6 eV (Verner et al. 1996 fit; Osterbrock's 7.4e-18)
  assert.ok(Math.abs(sigmaHI(PHYS.nu_ion_HI) / 6.3e-18 - 1) < 1e-12);
  assert.ok(Math.abs(sigmaHI(PHYS.nu_ion_HI * 1.000001) / 6.3e-18 - 1) < 1e-4, 'continuous at threshold');
  assert.ok(Math.abs(sigmaHeII(PHYS.nu_ion_HeII) / 1.58e-18 - 1) < 0.005);
  assert.ok(Math.abs(sigmaHeI(PHYS.nu_ion_HeI) / 7.4e-18 - 1) < 0.01, `σ_HeI = ${sigmaHeI(PHYS.nu_ion_HeI)}`);
  assert.equal(sigmaHI(PHYS.nu_ion_HI * 0.999), 0);
  assert.equal(sigmaHeI(PHYS.nu_ion_HeI * 0.999), 0);
  assert.equal(sigmaHeII(PHYS.nu_ion_HeII * 0.999), 0);
  // local slope d ln σ/d ln ν over the X-ray band 0.2–10 keV lies between −2.9 and −3.5 (near threshold
  // ≈ ν^-3, Born limit ν^-3.5), and tends to −3.5 at 1 MeV for all three fits
  for (const f of [sigmaHI, sigmaHeI, sigmaHeII]) {
    for (const E of [200, 500, 1000, 3000, 1e4]) {
      const s = Math.log(f(E * 1.01 * eV) / f(E * eV)) / Math.log(1.01);
      assert.ok(s < -2.9 && s > -3.5, `${f.name} slope ${s} at ${E} eV`);
    }
    const sInf = Math.log(f(1e6 * 1.01 * eV) / f(1e6 * eV)) / Math.log(1.01);
    assert.ok(Math.abs(sInf + 3.5) < 0.02, `${f.name} asymptotic slope ${sInf}`);
  }
});

test('species-weighted cross-section: abundance-weighted sum, He II only with free electrons', () => {
  const nu = 800 * eV;
  const y = 0.24;
  assert.ok(Math.abs(hFrac(y) + heFrac(y) - 1) < 1e-15);
  const s0 = speciesWeightedCrossSection(nu, 0, y);
  assert.ok(Math.abs(s0 - (hFrac(y) * sigmaHI(nu) + heFrac(y) * sigmaHeI(nu))) < 1e-15 * s0);
  assert.ok(Math.abs(speciesWeightedCrossSection(nu, 1, y) - heFrac(y) * sigmaHeII(nu)) < 1e-30);
});

test("dt/dz equals the code's arcsinh closed form (cosmology.c dtdz)", () => {
  const c = CAMELS_CV;
  const Ho = c.h * 3.2407e-18;
  const OMl = 1 - c.Omega_m;
  for (const z of [6, 10, 20, 35]) {
    const x = Math.sqrt(OMl / c.Omega_m) * Math.pow(1 + z, -1.5);
    const dxdz = Math.sqrt(OMl / c.Omega_m) * Math.pow(1 + z, -2.5) * -1.5;
    const const1 = (2 * Math.sqrt(1 + c.Omega_m / OMl)) / (3 * Ho);
    const code = (const1 * dxdz * (1 + x / Math.sqrt(x * x + 1))) / (x + Math.sqrt(x * x + 1));
    assert.ok(Math.abs(dtdz(c, z) / code - 1) < 1e-12, `z ${z}`);
  }
});

test('τ_X: closed form for constant Q and σ ∝ ν^-3 in matter domination (Einstein–de Sitter)', () => {
  const eds: Cosmology = { ...CAMELS_CV, Omega_m: 1 };
  const pe = xrayParams(eds);
  const sigma0 = 2e-22;
  const nuStar = 500 * eV;
  const Q = 0.7;
  const nb0 = baryonNumberDensity0(eds, pe.yHe);
  const H0 = eds.h * PHYS.Ho_per_h;
  for (const [nu, zp, zpp] of [
    [300 * eV, 15, 18],
    [1000 * eV, 10, 25],
    [150 * eV, 20, 20.5],
  ] as const) {
    const nu0 = nu / (1 + zp);
    // integrand c N_b0 Q σ0 (ν0/ν*)^-3 / H0 × (1+ẑ)^-2.5  ⇒  τ = K [(1+z')^-1.5 − (1+z'')^-1.5] / 1.5
    const K = (PHYS.c_cms * nb0 * Q * sigma0 * Math.pow(nu0 / nuStar, -3)) / H0;
    const exact = (K * (Math.pow(1 + zp, -1.5) - Math.pow(1 + zpp, -1.5))) / 1.5;
    const num = opticalDepth(nu, zp, zpp, () => Q, (n) => sigma0 * Math.pow(n / nuStar, -3), pe);
    assert.ok(Math.abs(num / exact - 1) < 1e-10, `ν ${nu / eV} eV: ${num} vs ${exact}`);
  }
});

/** Independent float64 trapezoid of the τ_X integrand in linear ẑ with many points. */
function tauTrapezoid(nu: number, xe: number, zp: number, zpp: number, Q: (z: number) => number, m = 200000): number {
  const nb0 = baryonNumberDensity0(CAMELS_CV, 0.24);
  const f = (z: number): number =>
    PHYS.c_cms * Math.abs(dtdz(CAMELS_CV, z)) * nb0 * Math.pow(1 + z, 3) * Math.max(Q(z), 1e-4) * speciesWeightedCrossSection((nu * (1 + z)) / (1 + zp), xe, 0.24);
  const h = (zpp - zp) / m;
  let s = 0.5 * (f(zp) + f(zpp));
  for (let i = 1; i < m; i++) s += f(zp + i * h);
  return s * h;
}

test('τ_X with the code cross-sections against an independent trapezoid (ΛCDM, evolving Q_HI, edge crossings, floor)', () => {
  const Q = (z: number): number => Math.min(1, 0.2 + 0.06 * (z - 8));
  for (const [nu, xe, zp, zpp] of [
    [400 * eV, 1e-3, 12, 16],
    [2000 * eV, 0.2, 9, 30],
    // ν(1+ẑ)/(1+z') crosses the He I and He II edges inside the range
    [40 * eV, 0.01, 10, 25],
    // Q below the floor at low ẑ: floored at 1e-4
    [300 * eV, 1e-3, 6, 9],
  ] as const) {
    const a = tauX(nu, xe, zp, zpp, Q, p);
    const b = tauTrapezoid(nu, xe, zp, zpp, Q);
    // trapezoid error with 2e5 steps ~1e-9; the edge jumps cost the trapezoid O(h) = 1e-5 relative
    assert.ok(Math.abs(a / b - 1) < 3e-5, `ν ${nu / eV} eV z' ${zp} z'' ${zpp}: ${a} vs ${b}`);
  }
});

test('ν_τ=1: τ_X(ν_τ=1) = 1, within the code tolerance too; the code special cases', () => {
  const Q = (z: number): number => Math.min(1, 0.5 + 0.03 * z);
  for (const [zp, zpp, xe] of [
    [15, 17, 1e-3],
    [10, 40, 0.05],
    [8, 8.3, 0.3],
  ] as const) {
    const nu1 = nuTauOne(zp, zpp, xe, Q, p);
    const t1 = tauX(nu1, xe, zp, zpp, Q, p);
    // relTol 1e-4 in ν and |d ln τ/d ln ν| ≲ 3.5 ⇒ |τ − 1| ≲ 4e-4
    assert.ok(Math.abs(t1 - 1) < 4e-4, `z' ${zp} z'' ${zpp}: τ = ${t1} at ${nu1 / eV} eV`);
    const nuCode = nuTauOne(zp, zpp, xe, Q, p, 0.02);
    assert.ok(Math.abs(nuCode / nu1 - 1) < 0.02, `code tolerance: ${nuCode} vs ${nu1}`);
  }
  // too ionised: E_0; thin already at the He I edge: ν_HeI
  assert.equal(nuTauOne(10, 12, 0.99995, Q, p), 500 * eV);
  assert.equal(nuTauOne(10, 10.0000001, 1e-3, Q, p), PHYS.nu_ion_HeI);
});

test('frequency integrals: converged quadrature, table entries equal integrateOverNu, Lyα factor c/(4π ν_α H)', () => {
  const zp = 14;
  for (const kind of ['heat', 'ion', 'lya'] as const) {
    for (const xe of [2e-4, 0.05, 0.7]) {
      const nuMin = 650 * eV;
      const a = integrateOverNu(zp, xe, nuMin, kind, p);
      const b = integrateOverNu(zp, xe, nuMin, kind, p, 0.0025);
      // measured: ≤ 2e-5 relative between panel widths 0.01 and 0.0025 (kinks of the linear tables limit it)
      assert.ok(Math.abs(a / b - 1) < 1e-4, `${kind} x_e ${xe}: ${a} vs ${b}`);
      assert.ok(a > 0);
    }
  }
  // independent: linear-ν trapezoid of the same integrand for 'ion' at x_e = 0.05
  const lo = 650 * eV;
  const hi = 1e4 * eV;
  const m = 400000;
  let s = 0.5 * (nuIntegrand(lo, 0.05, 'ion', p) + nuIntegrand(hi, 0.05, 'ion', p));
  for (let i = 1; i < m; i++) s += nuIntegrand(lo + ((hi - lo) * i) / m, 0.05, 'ion', p);
  s *= (hi - lo) / m;
  assert.ok(Math.abs(integrateOverNu(zp, 0.05, lo, 'ion', p) / s - 1) < 1e-4);
  // the Lyα integral is the raw integral times c/(4π ν_Lyα H(z')): its ratio between two z' is H ratio
  const r = integrateOverNu(10, 0.05, lo, 'lya', p) / integrateOverNu(20, 0.05, lo, 'lya', p);
  const H = (z: number): number => Math.sqrt(CAMELS_CV.Omega_m * Math.pow(1 + z, 3) + 1 - CAMELS_CV.Omega_m);
  assert.ok(Math.abs(r / (H(20) / H(10)) - 1) < 1e-12);

  const Q = (z: number): number => Math.min(1, 0.6 + 0.02 * z);
  const zpp = [14.1, 14.5, 15.2, 16.5, 19, 24];
  const t = fillFreqIntTables(zp, 2e-3, zpp, Q, p);
  assert.equal(t.heat.length, X_INT_NXHII * zpp.length);
  for (let j = 0; j < zpp.length; j++) {
    const nuMin = Math.max(nuTauOne(zp, zpp[j]!, 2e-3, Q, p), 500 * eV);
    assert.equal(t.nuMin[j], nuMin);
    if (j > 0) assert.ok(t.nuMin[j]! >= t.nuMin[j - 1]!, 'farther shells are absorbed to higher ν');
    for (const mm of [0, 6, 13]) {
      for (const kind of ['heat', 'ion', 'lya'] as const) {
        const d = integrateOverNu(zp, X_INT_XHII[mm]!, nuMin, kind, p);
        assert.ok(Math.abs(t[kind][mm * zpp.length + j]! / d - 1) < 1e-12, `${kind} shell ${j} x ${mm}`);
      }
    }
  }
  // per-cell interpolation in x_e: node values at nodes, linear between
  const w = xeWeights(X_INT_XHII[7]!);
  assert.equal(interpFreqInt(t.ion, zpp.length, 2, w), t.ion[7 * zpp.length + 2]);
  const w2 = xeWeights(0.3);
  assert.equal(w2.m, 9);
  const v = interpFreqInt(t.heat, zpp.length, 3, w2);
  const lo9 = t.heat[9 * zpp.length + 3]!;
  const hi10 = t.heat[10 * zpp.length + 3]!;
  assert.ok(Math.abs(v - (lo9 + (hi10 - lo9) * 0.5)) < 1e-12 * Math.abs(v));
});

test('xrayPrefactor: the luminosity conversion normalises ν^-α_X to unit energy in [E_0, band max]', () => {
  for (const alphaX of [1, 0.5, 1.5, 1 + 1e-5]) {
    const pa = xrayParams(CAMELS_CV, { alphaX });
    const nu0 = 500 * eV;
    const nuB = 2000 * eV;
    const zp = 12;
    const ell = (xrayPrefactor(zp, pa) * nu0 * PHYS.h_p) / (PHYS.c_cms * Math.pow(1 + zp, alphaX + 3));
    // ∫_{ν0}^{νB} (ν/ν0)^-α dν by Simpson in ln ν
    const n = 2000;
    const h = Math.log(nuB / nu0) / n;
    let s = 0;
    for (let i = 0; i <= n; i++) {
      const nu = nu0 * Math.exp(i * h);
      s += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * Math.pow(nu / nu0, -alphaX) * nu;
    }
    s *= h / 3;
    assert.ok(Math.abs(ell * s - 1) < 1e-9, `α_X ${alphaX}: ${ell * s}`);
  }
  assert.equal(xrayShellFactor(19, p), 1 / 20);
});

test('bad input: one-line errors naming the argument', () => {
  assert.throws(() => xrayParams(CAMELS_CV, { nuXThreshEv: -1 }), /nuXThreshEv = -1/);
  assert.throws(() => xrayParams(CAMELS_CV, { nuXBandMaxEv: 300 }), /nuXBandMaxEv = 300/);
  assert.throws(() => xrayParams(CAMELS_CV, { yHe: 1.2 }), /yHe = 1.2/);
  assert.throws(() => integrateOverNu(10, 0.1, -5, 'heat', p), /integrateOverNu: nuMin = -5/);
  assert.throws(() => integrateOverNu(10, 1.5, 600 * eV, 'heat', p), /integrateOverNu: xe = 1.5/);
  assert.throws(() => integrateOverNu(10, 0.1, 600 * eV, 'xray' as 'heat', p), /kind = xray/);
  assert.throws(() => tauX(600 * eV, 0.1, 10, 9, () => 1, p), /tauX: zpp = 9, expected ≥ zp = 10/);
  assert.throws(() => tauX(600 * eV, 0.1, 10, 12, () => NaN, p), /hiFillingFactor\(.*\) = NaN/);
  assert.throws(() => nuTauOne(NaN, 12, 0.1, () => 1, p), /nuTauOne: zp = NaN/);
  assert.throws(() => fillFreqIntTables(10, 0.1, [9], () => 1, p), /zppCentres\[0\] = 9/);
  assert.throws(() => xeWeights(NaN), /xeWeights: xe = NaN/);
});
