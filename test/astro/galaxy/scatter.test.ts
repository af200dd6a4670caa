// Log-normal scatter: mean normalisation vs median relations (Davies et al. 2025, Sec. 3 and footnote 22)
// and the progenitor-descendant correlation of the deviates (Eq. 8-9), checked by Monte Carlo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeCosmology } from '../../../src/cosmo/params.js';
import { ASTRO_DEFAULTS, makeAstroParams } from '../../../src/astro/params.js';
import { galaxyProperties } from '../../../src/astro/galaxy/properties.js';
import { drawDeviates, progenitorDeviates, scatterCorrelation } from '../../../src/astro/galaxy/scatter.js';
import { Rng } from '../../../src/util/rng.js';

const cosmo = makeCosmology({ Omega_m: 0.3096, Omega_b: 0.04897, h: 0.6766, n_s: 0.9665, sigma8: 0.8102 });
const N = 100_000;
const Z = 8;
const M_HALO = 1e10; // f_* ≈ 0.01 here, far from the f_* = 1 cap, so the log-normal is not truncated

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}
function std(a: ArrayLike<number>): number {
  const m = mean(a);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - m) ** 2;
  return Math.sqrt(s / (a.length - 1));
}
function median(a: Float64Array): number {
  const s = a.slice().sort();
  return 0.5 * (s[(s.length - 1) >> 1]! + s[s.length >> 1]!);
}
function corr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const ma = mean(a);
  const mb = mean(b);
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** The SHMR of Eq. 10 with the code defaults, written out: f_*(M) exp(-M_turn/M) M Ω_b/Ω_m [Msun]. */
function shmrRelation(M: number): number {
  const pivot = 10 ** 11.447;
  const f =
    (10 ** -1.3 * ((pivot / 1e10) ** 0.5 + (pivot / 1e10) ** -0.6)) / ((M / pivot) ** -0.5 + (M / pivot) ** 0.6);
  return f * Math.exp(-(10 ** 8.7) / M) * M * (cosmo.Omega_b / cosmo.Omega_m);
}

const masses = new Float64Array(N).fill(M_HALO);

test('mean-normalised SHMR: the sample mean of M_* equals the relation within the Monte-Carlo error', () => {
  const out = galaxyProperties({ haloMassMsun: masses, z: Z, cosmo, params: ASTRO_DEFAULTS, seed: 11 });
  const rel = shmrRelation(M_HALO);
  const se = std(out.stellarMass) / Math.sqrt(N);
  // Expected relative SE of a log-normal mean: sqrt(e^{σ²} − 1)/sqrt(N), σ = 0.25 ln10.
  const sigma = 0.25 * Math.LN10;
  assert.ok(Math.abs(se / rel / (Math.sqrt(Math.expm1(sigma * sigma)) / Math.sqrt(N)) - 1) < 0.05, 'SE as expected');
  assert.ok(Math.abs(mean(out.stellarMass) - rel) < 4 * se, `mean ${mean(out.stellarMass)} vs ${rel} (SE ${se})`);
  // The median sits a factor 10^(−σ_dex² ln10/2) below: far outside the error, so the check can fail.
  const med = median(out.stellarMass);
  assert.ok(Math.abs(Math.log(med / rel) + (sigma * sigma) / 2) < (4 * 1.2533 * sigma) / Math.sqrt(N));
  assert.ok(Math.abs(mean(out.stellarMass) - rel * Math.exp(-(sigma * sigma) / 2)) > 50 * se);
});

test('median SHMR: the sample median of M_* equals the relation (the mean is 10^(σ² ln10/2) higher)', () => {
  const p = makeAstroParams({ HALO_SCALING_RELATIONS_MEDIAN: true }, 'test');
  const out = galaxyProperties({ haloMassMsun: masses, z: Z, cosmo, params: p, seed: 12 });
  const rel = shmrRelation(M_HALO);
  const sigma = 0.25 * Math.LN10;
  // SE of the median of a log-normal, in ln: sqrt(π/2) σ / sqrt(N).
  const seLn = (1.2533 * sigma) / Math.sqrt(N);
  assert.ok(
    Math.abs(Math.log(median(out.stellarMass) / rel)) < 4 * seLn,
    `median ${median(out.stellarMass)} vs ${rel}`,
  );
  const se = std(out.stellarMass) / Math.sqrt(N);
  assert.ok(Math.abs(mean(out.stellarMass) - rel * Math.exp((sigma * sigma) / 2)) < 4 * se);
});

test('mean-normalised SFMS and L_X: at fixed M_* (and SFR) the sample means equal Eq. 11 and Eq. 13', () => {
  const zero = new Float64Array(N);
  const d = drawDeviates(N, 13);
  const out = galaxyProperties({
    haloMassMsun: masses,
    z: Z,
    cosmo,
    params: ASTRO_DEFAULTS,
    deviates: { star: zero, sfr: d.sfr, xray: d.xray },
  });
  const ms = out.stellarMass[0]!;
  assert.ok(
    out.stellarMass.every((x) => x === ms),
    'fixed M_*',
  );
  const E = Math.sqrt(cosmo.Omega_m * (1 + Z) ** 3 + 1 - cosmo.Omega_m);
  const hubblePerYr = ((100 * cosmo.h * E) / 3.085677581491367e19) * 31556925.9747;
  const sfrRel = (ms * hubblePerYr) / 0.5;
  const seSfr = std(out.sfr) / Math.sqrt(N);
  assert.ok(Math.abs(mean(out.sfr) - sfrRel) < 4 * seSfr, `SFR ${mean(out.sfr)} vs ${sfrRel}`);
  // L_X at fixed M_* and SFR: deviates sfr = 0 too.
  const out2 = galaxyProperties({
    haloMassMsun: masses,
    z: Z,
    cosmo,
    params: ASTRO_DEFAULTS,
    deviates: { star: zero, sfr: zero, xray: d.xray },
  });
  const sfr = out2.sfr[0]!;
  const zMet = out2.metallicity[0]!;
  const lxRel = (10 ** 40.5 / (1 + (zMet / 0.05) ** 0.64)) * sfr;
  const seLx = std(out2.lx) / Math.sqrt(N);
  assert.ok(Math.abs(mean(out2.lx) - lxRel) < 4 * seLx, `L_X ${mean(out2.lx)} vs ${lxRel}`);
});

test('Eq. 8: ρ = exp(−Δz / C), 0 for C = 0; bad arguments throw one-line errors', () => {
  assert.ok(Math.abs(scatterCorrelation(8.3, 8, 0.5) - Math.exp(-0.6)) < 1e-15);
  assert.equal(scatterCorrelation(8.3, 8, 0), 0);
  assert.equal(scatterCorrelation(8, 8, 0.2), 1);
  assert.throws(() => scatterCorrelation(7, 8, 0.5), /zProgenitor must be >= zDescendant .* got 7 and 8/);
  assert.throws(() => scatterCorrelation(9, 8, -1), /correlation length must be a finite number >= 0, got -1/);
});

test('progenitor deviates have the configured correlation with their descendants, and unit variance', () => {
  const nDesc = N;
  const desc = drawDeviates(nDesc, 21);
  // Several progenitors per descendant (random), 10% with no descendant.
  const rng = new Rng(22);
  const index = new Int32Array(N);
  for (let i = 0; i < N; i++) index[i] = rng.uniform() < 0.1 ? -1 : rng.int(nDesc);
  const zP = 8.3;
  const zD = 8.0;
  const prog = progenitorDeviates({
    descendantDeviates: desc,
    descendant: index,
    zProgenitor: zP,
    zDescendant: zD,
    params: ASTRO_DEFAULTS,
    seed: 23,
  });
  const linked = [...index.keys()].filter((i) => index[i]! >= 0);
  const n = linked.length;
  const cases = [
    ['star', ASTRO_DEFAULTS.CORR_STAR],
    ['sfr', ASTRO_DEFAULTS.CORR_SFR],
    ['xray', ASTRO_DEFAULTS.CORR_LX],
  ] as const;
  for (const [key, C] of cases) {
    const rho = Math.exp(-(zP - zD) / C);
    const gp = Float64Array.from(linked, (i) => prog[key][i]!);
    const gd = Float64Array.from(linked, (i) => desc[key][index[i]!]!);
    const r = corr(gp, gd);
    const se = (1 - rho * rho) / Math.sqrt(n); // SE of a Pearson correlation
    assert.ok(Math.abs(r - rho) < 4 * se, `${key}: r = ${r} vs ρ = ${rho} (SE ${se})`);
    assert.ok(Math.abs(std(prog[key]) - 1) < 4 / Math.sqrt(2 * N), `${key}: unit variance`);
    assert.ok(Math.abs(mean(prog[key])) < 4 / Math.sqrt(N), `${key}: zero mean`);
    const orphans = Float64Array.from(
      [...index.keys()].filter((i) => index[i] === -1),
      (i) => prog[key][i]!,
    );
    const rOrphan = corr(
      orphans,
      Float64Array.from(orphans, (_, j) => desc[key][j]!),
    );
    assert.ok(Math.abs(rOrphan) < 4 / Math.sqrt(orphans.length), `${key}: no descendant, no correlation`);
  }
  // Eq. 9 at the property level: log10 M_* of progenitor and descendant (same halo mass, σ_p = σ_d)
  // correlate with ρ_*.
  const mD = new Float64Array(nDesc).fill(M_HALO);
  const galD = galaxyProperties({ haloMassMsun: mD, z: zD, cosmo, params: ASTRO_DEFAULTS, deviates: desc });
  const galP = galaxyProperties({ haloMassMsun: masses, z: zP, cosmo, params: ASTRO_DEFAULTS, deviates: prog });
  const lp = Float64Array.from(linked, (i) => Math.log10(galP.stellarMass[i]!));
  const ld = Float64Array.from(linked, (i) => Math.log10(galD.stellarMass[index[i]!]!));
  const rho = Math.exp(-(zP - zD) / ASTRO_DEFAULTS.CORR_STAR);
  assert.ok(Math.abs(corr(lp, ld) - rho) < (4 * (1 - rho * rho)) / Math.sqrt(n));
  // Conditional mean slope of Eq. 9: d<log x_p | log x_d>/d log x_d = ρ σ_p/σ_d = ρ here.
  const mp = mean(lp);
  const md = mean(ld);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (ld[i]! - md) * (lp[i]! - mp);
    sxx += (ld[i]! - md) ** 2;
  }
  assert.ok(Math.abs(sxy / sxx - rho) < (4 * Math.sqrt(1 - rho * rho)) / Math.sqrt(n));
});

test('progenitorDeviates: same seed, same draws; bad indices and lengths throw', () => {
  const desc = drawDeviates(5, 1);
  const idx = Int32Array.from([0, 4, -1]);
  const opts = {
    descendantDeviates: desc,
    descendant: idx,
    zProgenitor: 9,
    zDescendant: 8.5,
    params: ASTRO_DEFAULTS,
    seed: 3,
  };
  assert.deepEqual(progenitorDeviates(opts), progenitorDeviates(opts));
  assert.deepEqual(drawDeviates(3, 3).star, drawDeviates(3, 3).star);
  // C = 0: the deviates are independent draws (the fresh ones).
  const off = makeAstroParams({ CORR_STAR: 0, CORR_SFR: 0, CORR_LX: 0 });
  assert.deepEqual(progenitorDeviates({ ...opts, params: off }), drawDeviates(3, 3));
  assert.throws(
    () => progenitorDeviates({ ...opts, descendant: [0, 5] }),
    /descendant\[1\] must be -1 or an index in \[0, 5\), got 5/,
  );
  assert.throws(() => progenitorDeviates({ ...opts, descendant: [-2] }), /descendant\[0\] must be -1 or an index/);
  assert.throws(
    () => progenitorDeviates({ ...opts, descendantDeviates: { star: [0], sfr: [0, 1], xray: [0] } }),
    /must have one length/,
  );
  assert.throws(() => drawDeviates(-1, 1), /count must be an integer >= 0/);
});
