// Closed-form galaxy properties, in the form of the public 21cmFAST code's own test
// (tests/test_halo_sampler.py::test_halo_prop_sampling): at z = 10 with F_STAR10 = -1, ALPHA_STAR = 0,
// M_TURN = 5, t_STAR = 0.1, L_X = 40 and no upper turnover, a grid of halo masses and normal deviates
// g in {-3..3} (the same g for the three properties) is compared with the analytic formulas, written
// here independently in float64 (Davies et al. 2025, Eq. 10-18).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCosmology } from '../../../src/cosmo/params.js';
import { ASTRO_DEFAULTS, makeAstroParams } from '../../../src/astro/params.js';
import { galaxyProperties, haloMassToMsun } from '../../../src/astro/galaxy/properties.js';

// Davies et al. (2025) cosmology.
const cosmo = makeCosmology({ Omega_m: 0.3096, Omega_b: 0.04897, h: 0.6766, n_s: 0.9665, sigma8: 0.8102 });
const LN10 = Math.log(10);
const S_PER_YR = 31556925.9747;
const MPC_KM = 3.085677581491367e19;
const BARYONS_PER_MSUN = 1.989e33 / 1.67262192369e-24;

/** H(z) [1/yr] of flat ΛCDM without radiation, written out here. */
function hubblePerYr(z: number): number {
  const E = Math.sqrt(cosmo.Omega_m * (1 + z) ** 3 + 1 - cosmo.Omega_m);
  return ((100 * cosmo.h * E) / MPC_KM) * S_PER_YR;
}

const MASSES = [1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12];
const DEVIATES = [-3, -2, -1, 0, 1, 2, 3];

/** Halo mass and deviate grid (mass-major), like the code's meshgrid. */
function grid(): { mass: Float64Array; g: Float64Array } {
  const mass = new Float64Array(MASSES.length * DEVIATES.length);
  const g = new Float64Array(mass.length);
  let k = 0;
  for (const m of MASSES) {
    for (const d of DEVIATES) {
      mass[k] = m;
      g[k++] = d;
    }
  }
  return { mass, g };
}

/** Relative error; exact equality (e.g. both 0 where exp(-M_turn/M) underflows) counts as 0. */
function relErr(a: number, b: number): number {
  return a === b ? 0 : Math.abs(a - b) / Math.abs(b);
}

// The formulas below are evaluated in float64 on both sides; the only differences are round-off
// (measured worst 3e-15), so 1e-10 is a tight bound well inside the 1e-4 of the code's own test.
const TOL = 1e-10;

test('closed form of the code test: SHMR, SSFR and L_X/SFR at z = 10 match the analytic formulas', () => {
  const z = 10;
  const p = makeAstroParams(
    { USE_UPPER_STELLAR_TURNOVER: false, M_TURN: 5, F_STAR10: -1, ALPHA_STAR: 0, t_STAR: 0.1, L_X: 40 },
    'test',
  );
  const { mass, g } = grid();
  const out = galaxyProperties({ haloMassMsun: mass, z, cosmo, params: p, deviates: { star: g, sfr: g, xray: g } });
  const sStar = 0.25 * LN10;
  const sLim = 0.19 * LN10;
  const sIdx = -0.12 * LN10;
  const sX = 0.5 * LN10;
  let worst = 0;
  for (let i = 0; i < mass.length; i++) {
    const M = mass[i]!;
    const gi = g[i]!;
    const fStar = Math.min(0.1 * Math.exp(-1e5 / M + gi * sStar - sStar ** 2 / 2), 1);
    const shmr = (fStar * cosmo.Omega_b) / cosmo.Omega_m;
    const sSsfr = Math.max(sLim + sIdx * Math.log10((shmr * M) / 1e10), sLim);
    const ssfr = (hubblePerYr(z) / 0.1) * Math.exp(gi * sSsfr - sSsfr ** 2 / 2); // 1/yr
    const lxPerSfr = 1e40 * Math.exp(gi * sX - sX ** 2 / 2); // no metallicity term without the upper turnover
    const checks: [string, number, number][] = [
      ['SHMR', out.stellarMass[i]! / M, shmr],
      ['SSFR', out.sfr[i]! / out.stellarMass[i]!, ssfr],
      ['LX/SFR', out.lx[i]! / out.sfr[i]!, lxPerSfr],
    ];
    for (const [name, got, want] of checks) {
      const e = relErr(got, want);
      worst = Math.max(worst, e);
      assert.ok(e < TOL, `${name} M=${M} g=${gi}: ${got} vs ${want}`);
    }
  }
  assert.ok(worst < TOL);
});

test('closed form: metallicity (FMR), f_esc, ionising photons and M_UV', () => {
  const z = 10;
  const p = makeAstroParams(
    { USE_UPPER_STELLAR_TURNOVER: false, M_TURN: 5, F_STAR10: -1, ALPHA_STAR: 0, t_STAR: 0.1, L_X: 40 },
    'test',
  );
  const { mass, g } = grid();
  const out = galaxyProperties({ haloMassMsun: mass, z, cosmo, params: p, deviates: { star: g, sfr: g, xray: g } });
  for (let i = 0; i < mass.length; i++) {
    const M = mass[i]!;
    const ms = out.stellarMass[i]!;
    const sfr = out.sfr[i]!;
    // Eq. 14-15 (Curti et al. 2020, 2024).
    const m0 = 10 ** 10.11 * sfr ** 0.56;
    const Z = 1.23 * (1 + (ms / m0) ** -2.1) ** -0.148 * 10 ** (-0.056 * z + 0.064);
    const fesc = Math.min(0.1 * (M / 1e10) ** -0.5, 1); // Eq. 17
    const nIon = 5000 * fesc * ms * BARYONS_PER_MSUN; // Eq. 18, photons
    const nIonDot = (5000 * fesc * sfr * BARYONS_PER_MSUN) / S_PER_YR; // photons/s
    const muv = 51.63 - 2.5 * Math.log10(sfr / 1.15e-28); // LuminosityFunction.c
    assert.ok(relErr(out.metallicity[i]!, Z) < TOL, `Z at M=${M}`);
    assert.ok(relErr(out.fesc[i]!, fesc) < TOL, `fesc at M=${M}`);
    assert.ok(relErr(out.nIon[i]!, nIon) < TOL, `nIon at M=${M}`);
    assert.ok(relErr(out.nIonDot[i]!, nIonDot) < TOL, `nIonDot at M=${M}`);
    assert.ok(relErr(out.luv[i]!, sfr / 1.15e-28) < TOL, `luv at M=${M}`);
    assert.ok(Math.abs(out.muv[i]! - muv) < 1e-9, `muv at M=${M}`);
    assert.equal(out.stellarMassMini[i], 0);
    assert.equal(out.sfrMini[i], 0);
  }
  // f_* = 0.1 e^(gσ - σ²/2) stays below 1 on this grid; with f_*,10 = 1 it is capped at 1 (as in the code).
  const capped = galaxyProperties({
    haloMassMsun: [1e12],
    z,
    cosmo,
    params: makeAstroParams({ ...{ USE_UPPER_STELLAR_TURNOVER: false, ALPHA_STAR: 0 }, F_STAR10: 0, M_TURN: 5 }),
    deviates: { star: [3], sfr: [0], xray: [0] },
  });
  assert.ok(relErr(capped.stellarMass[0]!, (1e12 * cosmo.Omega_b) / cosmo.Omega_m) < 1e-14);
});

test('closed form with the code defaults: double power-law SHMR and metallicity-dependent L_X (Eq. 10, 13)', () => {
  const z = 7;
  const p = ASTRO_DEFAULTS;
  const { mass, g } = grid();
  const out = galaxyProperties({ haloMassMsun: mass, z, cosmo, params: p, deviates: { star: g, sfr: g, xray: g } });
  const sStar = 0.25 * LN10;
  const sX = 0.5 * LN10;
  const pivot = 10 ** 11.447;
  for (const [k, v] of Object.entries(out)) {
    if (v instanceof Float64Array)
      assert.ok(
        v.every((x) => !Number.isNaN(x)),
        `no NaN in ${k} (zero stellar mass is handled)`,
      );
  }
  for (let i = 0; i < mass.length; i++) {
    const M = mass[i]!;
    const gi = g[i]!;
    const mu =
      (10 ** -1.3 * ((pivot / 1e10) ** 0.5 + (pivot / 1e10) ** -0.6)) / ((M / pivot) ** -0.5 + (M / pivot) ** 0.6);
    const f = Math.min(mu * Math.exp(-(10 ** 8.7) / M + gi * sStar - sStar ** 2 / 2), 1);
    const ms = (f * M * cosmo.Omega_b) / cosmo.Omega_m;
    assert.ok(relErr(out.stellarMass[i]!, ms) < TOL, `M* at M=${M} g=${gi}`);
    const sfr = out.sfr[i]!;
    if (sfr === 0) {
      // Below ~1e6 Msun exp(-10^8.7 / M) and then the SFR underflow (σ_SFR grows as M_* falls): no X-rays,
      // an infinitely faint M_UV, and the FMR's mass term set to 1 as in the code.
      assert.ok(M <= 1e6, `SFR underflow only for the smallest halos, got M=${M}`);
      assert.ok(out.lx[i] === 0 && out.muv[i] === Infinity);
      assert.ok(relErr(out.metallicity[i]!, 1.23 * 10 ** (-0.056 * z + 0.064)) < TOL);
      continue;
    }
    const Z = 1.23 * (1 + (ms / (10 ** 10.11 * sfr ** 0.56)) ** -2.1) ** -0.148 * 10 ** (-0.056 * z + 0.064);
    const lx = (10 ** 40.5 / (1 + (Z / 0.05) ** 0.64)) * sfr * Math.exp(gi * sX - sX ** 2 / 2);
    assert.ok(relErr(out.lx[i]!, lx) < TOL, `L_X at M=${M} g=${gi}`);
  }
});

/** Eq. 13's metallicity factor of galaxy i. */
function lxZ(o: { metallicity: Float64Array }, i: number): number {
  return 1 / (1 + (o.metallicity[i]! / 0.05) ** 0.64);
}

test('median relations are the mean relations times 10^(σ_dex² ln10 / 2)', () => {
  const z = 8;
  const mass = Float64Array.from([1e9, 1e10, 1e11]);
  const zero = new Float64Array(3);
  const dev = { star: zero, sfr: zero, xray: zero };
  const mean = galaxyProperties({ haloMassMsun: mass, z, cosmo, params: ASTRO_DEFAULTS, deviates: dev });
  const median = galaxyProperties({
    haloMassMsun: mass,
    z,
    cosmo,
    params: makeAstroParams({ HALO_SCALING_RELATIONS_MEDIAN: true }),
    deviates: dev,
  });
  for (let i = 0; i < 3; i++) {
    assert.ok(relErr(median.stellarMass[i]! / mean.stellarMass[i]!, 10 ** ((0.25 ** 2 * LN10) / 2)) < TOL);
    // SFR/M_*: the mean relation carries exp(-σ_SFR²/2) at the galaxy's own σ_SFR (Eq. 12), the median none.
    const ratio = median.sfr[i]! / median.stellarMass[i]! / (mean.sfr[i]! / mean.stellarMass[i]!);
    const sSfrMean = Math.max(0.19, 0.19 - 0.12 * Math.log10(mean.stellarMass[i]! / 1e10)) * LN10;
    assert.ok(relErr(ratio, Math.exp(sSfrMean ** 2 / 2)) < TOL, `SSFR ratio at ${mass[i]}`);
    assert.ok(
      relErr(
        median.lx[i]! / median.sfr[i]!,
        (mean.lx[i]! / mean.sfr[i]!) * 10 ** ((0.5 ** 2 * LN10) / 2) * (lxZ(median, i) / lxZ(mean, i)),
      ) < TOL,
    );
  }
});

test('molecular-cooling galaxies (Eq. 19): closed form of M_*,mcg, SFR_mcg and the Pop III photons', () => {
  const z = 15;
  const p = makeAstroParams({ USE_MINI_HALOS: true, USE_UPPER_STELLAR_TURNOVER: false }, 'test');
  const mass = Float64Array.from([1e6, 1e7, 1e8]);
  const g = Float64Array.from([0.5, -1, 2]);
  const out = galaxyProperties({ haloMassMsun: mass, z, cosmo, params: p, deviates: { star: g, sfr: g, xray: g } });
  // Atomic-cooling threshold T_vir = 1e4 K, μ = 0.59 (Barkana & Loeb 2001 with Bryan & Norman Δ_c).
  const E2 = cosmo.Omega_m * (1 + z) ** 3 + 1 - cosmo.Omega_m;
  const omz = (cosmo.Omega_m * (1 + z) ** 3) / E2;
  const dc = 18 * Math.PI ** 2 + 82 * (omz - 1) - 39 * (omz - 1) ** 2;
  const mCool = (7030.97 / cosmo.h) * Math.sqrt(omz / (cosmo.Omega_m * dc)) * (1e4 / (0.59 * (1 + z))) ** 1.5;
  const mLw = 3.314e7 * (1 + z) ** -1.5;
  const sStar = 0.25 * LN10;
  for (let i = 0; i < 3; i++) {
    const M = mass[i]!;
    const gi = g[i]!;
    const f7 = 10 ** (-1.3 - 1.5);
    const fm = Math.min(f7 * (M / 1e7) ** 0.5 * Math.exp(-mLw / M - M / mCool + gi * sStar - sStar ** 2 / 2), 1);
    const msMini = (fm * M * cosmo.Omega_b) / cosmo.Omega_m;
    assert.ok(relErr(out.stellarMassMini[i]!, msMini) < TOL, `M*_mcg at ${M}`);
    // Both components share the SFR deviate and the σ_SFR of the total stellar mass.
    const total = out.stellarMass[i]! + msMini;
    const s = Math.max(0.19, 0.19 - 0.12 * Math.log10(total / 1e10)) * LN10;
    const sfrMini = ((msMini * hubblePerYr(z)) / 0.5) * Math.exp(gi * s - (s * s) / 2);
    assert.ok(relErr(out.sfrMini[i]!, sfrMini) < TOL, `SFR_mcg at ${M}`);
    const fesc = Math.min(0.1 * (M / 1e10) ** -0.5, 1);
    const fescMini = Math.min(0.01 * (M / 1e7) ** -0.5, 1);
    const nIon = (out.stellarMass[i]! * 5000 * fesc + msMini * 44021 * fescMini) * BARYONS_PER_MSUN;
    assert.ok(relErr(out.nIon[i]!, nIon) < TOL, `nIon at ${M}`);
    assert.ok(Math.abs(out.muv[i]! - (51.63 - 2.5 * Math.log10((out.sfr[i]! + sfrMini) / 1.15e-28))) < 1e-9);
  }
});

test('same seed gives the same galaxies; deviates are returned for the next catalogue', () => {
  const mass = haloMassToMsun(Float64Array.from([1e9, 3e10, 5e11]), cosmo.h);
  const a = galaxyProperties({ haloMassMsun: mass, z: 9, cosmo, params: ASTRO_DEFAULTS, seed: 42 });
  const b = galaxyProperties({ haloMassMsun: mass, z: 9, cosmo, params: ASTRO_DEFAULTS, seed: 42 });
  const c = galaxyProperties({ haloMassMsun: mass, z: 9, cosmo, params: ASTRO_DEFAULTS, seed: 43 });
  assert.deepEqual(a.lx, b.lx);
  assert.notDeepEqual(a.lx, c.lx);
  const again = galaxyProperties({ haloMassMsun: mass, z: 9, cosmo, params: ASTRO_DEFAULTS, deviates: a.deviates });
  assert.deepEqual(again.muv, a.muv);
  assert.ok(relErr(mass[0]!, 1e9 / cosmo.h) < 1e-15);
});

test('bad inputs give one-line errors naming the argument', () => {
  const base = { z: 8, cosmo, params: ASTRO_DEFAULTS };
  const m = Float64Array.from([1e9, 1e10]);
  const cases: [() => unknown, RegExp][] = [
    [
      () => galaxyProperties({ ...base, haloMassMsun: Float64Array.from([1e9, -1]), seed: 1 }),
      /haloMassMsun\[1\] must be a finite mass > 0 \[Msun\], got -1/,
    ],
    [() => galaxyProperties({ ...base, haloMassMsun: m }), /exactly one of deviates .* or seed/],
    [
      () =>
        galaxyProperties({ ...base, haloMassMsun: m, seed: 1, deviates: { star: [0, 0], sfr: [0, 0], xray: [0, 0] } }),
      /exactly one/,
    ],
    [
      () => galaxyProperties({ ...base, haloMassMsun: m, deviates: { star: [0], sfr: [0, 0], xray: [0, 0] } }),
      /deviates\.star must have one value per halo \(2\), got length 1/,
    ],
    [
      () => galaxyProperties({ ...base, haloMassMsun: m, deviates: { star: [0, NaN], sfr: [0, 0], xray: [0, 0] } }),
      /deviates\.star\[1\] must be finite/,
    ],
    [
      () => galaxyProperties({ ...base, haloMassMsun: m, seed: 1, mTurnMsun: [1e8] }),
      /mTurnMsun must have one value per halo/,
    ],
    [
      () => galaxyProperties({ ...base, haloMassMsun: m, seed: 1, mTurnMsun: -5 }),
      /mTurnMsun must be a finite number >= 0/,
    ],
    [
      () => galaxyProperties({ ...base, z: -1, haloMassMsun: m, seed: 1 }),
      /redshift z must be a finite number >= 0, got -1/,
    ],
  ];
  for (const [fn, re] of cases) {
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof RangeError);
      assert.match(err.message, re);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  }
});

test('per-halo turnover masses replace M_TURN halo by halo', () => {
  const mass = Float64Array.from([1e9, 1e9]);
  const zero = new Float64Array(2);
  const out = galaxyProperties({
    haloMassMsun: mass,
    z: 8,
    cosmo,
    params: ASTRO_DEFAULTS,
    deviates: { star: zero, sfr: zero, xray: zero },
    mTurnMsun: [1e8, 1e9],
  });
  // Same halo mass, turnovers 1e8 and 1e9: M_* ratio exp(-0.1)/exp(-1).
  assert.ok(relErr(out.stellarMass[0]! / out.stellarMass[1]!, Math.exp(0.9)) < TOL);
});
