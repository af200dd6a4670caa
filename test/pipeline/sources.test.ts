/**
 * `lodi sample-halos` and `lodi reionize` end to end on a small box (32 Mpc/h, 16^3 cells, z = 7.4 to 8.6,
 * M_min = 5e9 Msun), the unit conversion of the ionising photons, the evolved density and the galaxy draw order.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CAMELS_CV } from '../../src/cosmo/params.js';
import { growthFactor } from '../../src/cosmo/background.js';
import { ASTRO_DEFAULTS, makeAstroParams } from '../../src/astro/params.js';
import { galaxyProperties } from '../../src/astro/galaxy/properties.js';
import type { MergerHistory } from '../../src/astro/sampler/catalogue.js';
import { loadGrid, readNpy } from '../../src/io/index.js';
import { readMergerHistory } from '../../src/io/halo-catalogue.js';
import { readSourcesDir, sampleHalos, type SampleHalosResult } from '../../src/pipeline/sources.js';
import { coevalNames, reionizeSources, troughIndex, type ReionizeResult } from '../../src/pipeline/sources-reionize.js';
import { LIM_FILES } from '../../src/pipeline/sources-lim.js';
import { EvolvedDensity, gridIonisingSources, photonsToMassEquivalent } from '../../src/pipeline/sources-grids.js';
import { forEachGalaxyCatalogue } from '../../src/pipeline/sources-galaxies.js';
import { tempDir } from '../io/helpers.js';

const { dir, cleanup } = tempDir('lodi-sources-');
const SRC = join(dir, 'src');
const OUT = join(dir, 'reion');
const BOX = 32;
const GRID = 16;
let sampled: SampleHalosResult;
let reionized: ReionizeResult;
// a higher escape fraction than the default so that the box is well on its way by z = 7.4
const ASTRO_FILE = join(dir, 'astro-in.json');
// The runs leave out the halos below the 5e9 Msun sampler (chosen for speed): their mean CHMF down to 1e7 Msun would
// ionise this box fully by z = 8 and heat it above T_γ. That component is tested in test/pipeline/stochasticity.test.ts.
const SAMPLED_ONLY = { belowSampler: false } as const;

before(async () => {
  sampled = await sampleHalos({ out: SRC, boxSize: BOX, grid: GRID, hiresFactor: 2, zLowest: 7.4, zMax: 8.6, minMassMsun: 5e9, seed: 4, quiet: true });
  writeFileSync(ASTRO_FILE, JSON.stringify({ F_ESC10: -0.3 }));
  reionized = await reionizeSources({ halos: SRC, out: OUT, astroFile: ASTRO_FILE, ...SAMPLED_ONLY, quiet: true });
});
after(cleanup);

test('photonsToMassEquivalent: photons × m_p / Msun × h, by hand and through a galaxy', () => {
  // 1e60 photons, h = 0.7: 1e60 × 1.67262192369e-24 g / 1.989e33 g × 0.7 (computed by hand in float64)
  assert.ok(Math.abs(photonsToMassEquivalent(1e60, 0.7) / 588.655277316742 - 1) < 1e-13);
  assert.equal(photonsToMassEquivalent(0, 0.7), 0);
  assert.throws(() => photonsToMassEquivalent(-1, 0.7), /photons = -1: expected a finite count >= 0/);
  assert.throws(() => photonsToMassEquivalent(1, 0), /h = 0/);
  // a 1e10 Msun halo with zero deviates: f_esc = 10^F_ESC10 exactly at 1e10 Msun, so the mass equivalent of its
  // photons is N_γ f_esc M_* h and of its rate N_γ f_esc SFR h / (seconds per year)
  const h = CAMELS_CV.h;
  const gal = galaxyProperties({ haloMassMsun: [1e10], z: 8, cosmo: CAMELS_CV, params: ASTRO_DEFAULTS, deviates: { star: [0], sfr: [0], xray: [0] } });
  const fesc = 10 ** ASTRO_DEFAULTS.F_ESC10;
  const nGamma = ASTRO_DEFAULTS.POP2_ION;
  assert.ok(Math.abs(photonsToMassEquivalent(gal.nIon[0]!, h) / (nGamma * fesc * gal.stellarMass[0]! * h) - 1) < 1e-12);
  assert.ok(Math.abs(photonsToMassEquivalent(gal.nIonDot[0]!, h) / ((nGamma * fesc * gal.sfr[0]! * h) / 31556925.9747) - 1) < 1e-12);
  // gridded: the cells hold the box total over the cell volume (CIC conserves the sum)
  const pos = Float32Array.of(3.3, 7.9, 31.5, 10, 10, 10);
  const g = gridIonisingSources(pos, { nIon: Float64Array.of(2e70, 5e69), nIonDot: Float64Array.of(3e53, 1e52) }, { grid: 8, boxSize: 16, h });
  let e = 0;
  let r = 0;
  for (let i = 0; i < g.emissivity.length; i++) [e, r] = [e + g.emissivity[i]!, r + g.rate[i]!];
  const vCell = (16 / 8) ** 3;
  assert.ok(Math.abs((e * vCell) / photonsToMassEquivalent(2.5e70, h) - 1) < 1e-6); // float32 cells
  assert.ok(Math.abs((r * vCell) / photonsToMassEquivalent(3.1e53, h) - 1) < 1e-6);
});

test('EvolvedDensity: a plane wave is painted where the Zel\'dovich solution puts it, and grows as D(z)', () => {
  // δ_L = A cos(kx), k = 2π/L, on a 48^3 fine grid, painted on 16^3 at z = 9. In 1D the 2LPT term vanishes and the
  // particles sit at x = q − D (A/k) sin(kq) exactly; the test paints those analytic positions itself (float64,
  // CIC in x; the transverse axes are uniform) and asks for the same grid to 1e-6 (float32 cells; δ ~ 1e-3).
  const m = 48;
  const N = 16;
  const L = 50;
  const A = 0.01;
  const k = (2 * Math.PI) / L;
  const lin = new Float32Array(m ** 3);
  for (let i = 0; i < m; i++) for (let j = 0; j < m * m; j++) lin[i * m * m + j] = A * Math.cos(k * ((i * L) / m));
  const ev = new EvolvedDensity(lin, L, N, CAMELS_CV, 2);
  const z = 9;
  const d = ev.at(z);
  const D = growthFactor(CAMELS_CV, z);
  const counts = new Float64Array(N);
  for (let i = 0; i < m; i++) {
    const q = (i * L) / m;
    let u = ((q - (D * A * Math.sin(k * q)) / k) * N) / L;
    u -= N * Math.floor(u / N);
    const i0 = Math.floor(u);
    counts[i0 % N] += 1 - (u - i0);
    counts[(i0 + 1) % N] += u - i0;
  }
  for (let I = 0; I < N; I++) {
    const want = counts[I]! / (m / N) - 1;
    for (const j of [0, 37, 255]) assert.ok(Math.abs(d[I * N * N + j]! - want) < 1e-6, `plane ${I}: ${d[I * N * N + j]} vs ${want}`);
  }
  // first harmonic: D A times the CIC window sinc²(π/N); the rest of the painted field is the CIC kernel's kink
  // at the nodes (particles on a node lose |Ψ|/Δ of their weight whichever way they move, which adds a term
  // ~ the discrete Laplacian of |Ψ|, mostly outside the first harmonic) and second order (DA)² ~ 1e-6: 3e-3
  let amp = 0;
  for (let I = 0; I < N; I++) amp += (2 / N) * d[I * N * N]! * Math.cos((2 * Math.PI * I) / N);
  const W = (Math.sin(Math.PI / N) / (Math.PI / N)) ** 2;
  assert.ok(Math.abs(amp / (D * A * W) - 1) < 3e-3, `amplitude ${amp} vs ${D * A * W}`);
  let mean = 0;
  for (const v of d) mean += v / d.length;
  assert.ok(Math.abs(mean) < 1e-6); // mass conserved
});

test('galaxies are drawn descendants first: progenitor deviates correlate with their descendants\' as exp(−Δz/C)', () => {
  const h: MergerHistory = sampled.history;
  const stars: Float64Array[] = [];
  forEachGalaxyCatalogue(h, { cosmo: CAMELS_CV, params: ASTRO_DEFAULTS, seed: 11 }, (_k, _c, gal) => stars.push(gal.deviates.star));
  const c1 = h.catalogues[1]!;
  const dz = c1.z - h.catalogues[0]!.z;
  const rho = Math.exp(-dz / ASTRO_DEFAULTS.CORR_STAR);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < c1.count; i++) {
    const a = stars[1]![i]!;
    const b = stars[0]![c1.descendant[i]!]!;
    [sxy, sxx, syy] = [sxy + a * b, sxx + a * a, syy + b * b];
  }
  const r = sxy / Math.sqrt(sxx * syy);
  // standard error of a correlation coefficient ≈ (1 − ρ²)/√n; 5 of them
  assert.ok(c1.count > 2000, `${c1.count} progenitors`);
  assert.ok(Math.abs(r - rho) < (5 * (1 - rho * rho)) / Math.sqrt(c1.count), `r = ${r}, expected ${rho}`);
  // another seed, other deviates
  const other: Float64Array[] = [];
  forEachGalaxyCatalogue(h, { cosmo: CAMELS_CV, params: ASTRO_DEFAULTS, seed: 12 }, (_k, _c, gal) => other.push(gal.deviates.star));
  assert.notDeepEqual(other[0], stars[0]);
});

test('lodi sample-halos through the CLI: flags in their units reach the files', () => {
  const out = join(dir, 'cli');
  const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const r = spawnSync(process.execPath, [main, 'sample-halos', '--box', '16', '--grid', '8', '--hires', '2', '--z', '8', '--zmax', '8.2', '--min-mass', '3e9', '--seed', '5', '--no-plots', '--quiet', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(readFileSync(join(out, 'sources.json'), 'utf8'));
  assert.equal(s.minMassMsun, 3e9);
  assert.equal(s.minMass, 3e9 * CAMELS_CV.h); // Msun → Msun/h
  assert.deepEqual([s.boxSize, s.grid, s.fineGrid, s.seed, s.zLowest], [16, 8, 16, 5, 8]);
  assert.match(s.command, /^lodi sample-halos --box 16/);
  assert.equal(existsSync(join(out, 'hmf.png')), false);
  assert.match(r.stdout, /halos at z = 8/);
});

test('sample-halos writes the sources directory; it reads back as written', async () => {
  for (const f of ['halos.h5', 'linear_density.npy', 'linear_density.json', 'sources.json', 'hmf.png', 'report.md', 'sample-halos.log']) assert.ok(existsSync(join(SRC, f)), f);
  const s = JSON.parse(readFileSync(join(SRC, 'sources.json'), 'utf8'));
  assert.equal(s.seed, 4);
  assert.equal(s.minMass, 5e9 * CAMELS_CV.h);
  assert.deepEqual(s.cosmology, { ...CAMELS_CV });
  assert.deepEqual(s.redshifts, sampled.history.redshifts);
  assert.deepEqual(s.counts, sampled.history.catalogues.map((c) => c.count));
  assert.equal(s.fineGrid, 32);
  const h = await readMergerHistory(join(SRC, 'halos.h5'));
  assert.equal(h.catalogues.length, sampled.history.catalogues.length);
  h.catalogues.forEach((c, k) => {
    const o = sampled.history.catalogues[k]!;
    assert.deepEqual(c.mass, o.mass);
    assert.deepEqual(c.pos, o.pos);
    assert.deepEqual(c.descendant, o.descendant);
  });
  const lin = loadGrid(join(SRC, 'linear_density.npy'));
  assert.deepEqual(lin.shape, [32, 32, 32]);
  assert.equal(lin.meta.quantity, 'linear_overdensity');
  const dirRead = await readSourcesDir(SRC);
  assert.equal(dirRead.summary.grid, GRID);
  await assert.rejects(sampleHalos({ out: SRC, boxSize: BOX, grid: GRID, hiresFactor: 2, zLowest: 7.4, zMax: 7.5, minMassMsun: 5e9, seed: 4, quiet: true }), /already exists; pass --force/);
});

test('reionize writes coeval boxes, history, lightcone, Δ²_21, UV LF, parameters and reports; ⟨x_HI⟩ falls with time', () => {
  const zs = sampled.history.redshifts;
  for (const f of ['history.csv', 'history.png', 'lightcone_dTb.npy', 'lightcone_dTb.json', 'lightcone.png', 'ps21_midpoint.csv', 'ps21.png', 'uvlf_z8.csv', 'uvlf.png', 'astro.json', 'reion.json', 'reionize.json', 'report.md', 'report.html', 'reionize.log']) {
    assert.ok(existsSync(join(OUT, f)), f);
  }
  zs.forEach((z, k) => {
    const n = coevalNames(z);
    const x = loadGrid(join(OUT, n.xHI));
    assert.equal(x.meta.redshift, z);
    assert.deepEqual(x.data, reionized.xHI[k]);
    const t = loadGrid(join(OUT, n.dTb));
    assert.equal(t.meta.unit, 'mK');
  });
  const rows = readFileSync(join(OUT, 'history.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
  assert.equal(rows.length, zs.length);
  for (let k = 1; k < rows.length; k++) {
    assert.ok(rows[k]![0]! > rows[k - 1]![0]!);
    // ascending z: the neutral fraction never decreases going back in time (emissivity grows with time)
    assert.ok(rows[k]![1]! >= rows[k - 1]![1]!, `⟨x_HI⟩ ${rows[k - 1]![1]} at z ${rows[k - 1]![0]} vs ${rows[k]![1]} at z ${rows[k]![0]}`);
  }
  assert.ok(rows[0]![1]! < 0.9 && rows[rows.length - 1]![1]! > rows[0]![1]! + 0.05, 'the box reionises noticeably over the range');
  // inside-out: the mass-weighted neutral fraction is below the volume-weighted one
  assert.ok(rows[0]![3]! < rows[0]![1]!);
  const lc = readNpy(join(OUT, 'lightcone_dTb.npy'));
  const lcMeta = JSON.parse(readFileSync(join(OUT, 'lightcone_dTb.json'), 'utf8'));
  assert.deepEqual(lc.shape, lcMeta.shape);
  assert.equal(lc.shape[0], GRID);
  assert.equal(lcMeta.redshifts.length, lc.shape[2]);
  const astro = JSON.parse(readFileSync(join(OUT, 'astro.json'), 'utf8'));
  assert.equal(astro.F_ESC10, -0.3);
  assert.equal(astro.F_STAR10, ASTRO_DEFAULTS.F_STAR10);
  const run = JSON.parse(readFileSync(join(OUT, 'reionize.json'), 'utf8'));
  assert.equal(run.seed, 4); // the halos' seed by default
  const mid = readFileSync(join(OUT, 'ps21_midpoint.csv'), 'utf8').split('\n');
  assert.match(mid[0]!, /^# z = /);
  assert.ok(mid.length > 5);
  // multi-tracer outputs: the CII lightcone on the δT_b slicing, and r(k) of 21 cm × CII in [−1, 1]
  for (const f of LIM_FILES) assert.ok(existsSync(join(OUT, f)), f);
  const cii = readNpy(join(OUT, 'lightcone_BCII.npy'));
  assert.deepEqual(cii.shape, lc.shape);
  assert.ok(Array.from(cii.data as Float32Array).every((v) => v >= 0) && Array.from(cii.data as Float32Array).some((v) => v > 0));
  const lim = readFileSync(join(OUT, 'lim_midpoint.csv'), 'utf8').trim().split('\n').slice(2).map((l) => l.split(',').map(Number));
  for (const r of lim) if (r[5]! > 0) assert.ok(Math.abs(r[4]!) <= 1 + 1e-9, `r = ${r[4]}`);
  // ionised bubbles sit around the [CII] emitters: anti-correlated on the largest scale
  assert.ok(lim[0]![4]! < 0, `r(k_min) = ${lim[0]![4]}`);
});

test('reionize --spin: T_s, T_K, x_e boxes and columns, thermal plot, spin.json; absorption exactly where T_s < T_γ', async () => {
  const out = join(dir, 'spin');
  const res = await reionizeSources({ halos: SRC, out, astroFile: ASTRO_FILE, spin: true, ...SAMPLED_ONLY, quiet: true });
  for (const f of ['thermal.png', 'spin.json', 'report.md']) assert.ok(existsSync(join(out, f)), f);
  const header = readFileSync(join(out, 'history.csv'), 'utf8').split('\n')[0]!;
  assert.match(header, /Ts_mean_K,Tk_mean_K,xe_mean,T_gamma_K$/);
  sampled.history.redshifts.forEach((z) => {
    const n = coevalNames(z);
    const ts = loadGrid(join(out, n.ts)).data as Float32Array;
    const tk = loadGrid(join(out, n.tk)).data as Float32Array;
    const xe = loadGrid(join(out, n.xe)).data as Float32Array;
    const tb = loadGrid(join(out, n.dTb)).data as Float32Array;
    const tg = CAMELS_CV.T_cmb * (1 + z);
    for (let i = 0; i < ts.length; i += 7) {
      assert.ok(ts[i]! > 0 && tk[i]! > 0 && xe[i]! >= 0 && xe[i]! < 1);
      // (1 − T_γ/T_s) sets the sign of δT_b (x_HI (1+δ) ≥ 0, the velocity factor > 0)
      if (ts[i]! < tg * 0.999) assert.ok(tb[i]! <= 0, `cell ${i} at z ${z}: T_s ${ts[i]} < T_γ but δT_b ${tb[i]}`);
      if (ts[i]! > tg * 1.001) assert.ok(tb[i]! >= 0);
    }
  });
  // this short range (z ≤ 8.6) starts from RECFAST without earlier sources: the gas is still colder than the CMB,
  // and the Lyman-α background of the galaxies pulls T_s from T_γ towards T_K (collisions alone leave it within
  // 1% of T_γ at z ~ 8: x_c ~ 1e-3)
  assert.ok(res.history.every((r) => r.tk! < r.tGamma!));
  const low = res.history[0]!;
  assert.ok(low.ts! < 0.9 * low.tGamma!, `⟨T_s⟩ ${low.ts} vs T_γ ${low.tGamma}`);
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /below Z_HEAT_MAX = 35: it starts from RECFAST/);
  // Δ²_21 at the absorption trough (Fig. 9 top) only where the lowest ⟨δT_b⟩ lies inside the range
  const rows = res.history;
  const kt = rows.reduce((a, r, k) => (r.dTb < rows[a]!.dTb ? k : a), 0);
  const interior = rows[kt]!.dTb < 0 && kt > 0 && kt < rows.length - 1;
  assert.equal(existsSync(join(out, 'ps21_trough.csv')), interior);
  if (interior) assert.match(readFileSync(join(out, 'ps21_trough.csv'), 'utf8'), new RegExp(`^# z = ${rows[kt]!.z}, `));
  else assert.match(readFileSync(join(out, 'report.md'), 'utf8'), /at the absorption trough\s+\S.*(never negative|outside it): no spectrum/);
  // --force without --spin over it: no spin-only file of the earlier run is left behind
  await reionizeSources({ halos: SRC, out, astroFile: ASTRO_FILE, force: true, ...SAMPLED_ONLY, quiet: true });
  for (const f of ['thermal.png', 'spin.json', 'ps21_zero.csv', 'ps21_trough.csv']) assert.ok(!existsSync(join(out, f)), f);
  assert.deepEqual(readdirSync(join(out, 'coeval')).filter((f) => /^(Ts|Tk|xe)_/.test(f)), []);
});

test('troughIndex: the lowest negative ⟨δT_b⟩ inside the range, else why not', () => {
  const h = (xs: number[]): { dTb: number }[] => xs.map((dTb) => ({ dTb }));
  assert.deepEqual(troughIndex(h([5, -3, -40, -10, -1])), { index: 2 });
  assert.match((troughIndex(h([-50, -20, -1])) as { reason: string }).reason, /at the lowest redshift of the range/);
  assert.match((troughIndex(h([-1, -20, -50])) as { reason: string }).reason, /at the highest redshift of the range/);
  assert.match((troughIndex(h([1, 2, 0])) as { reason: string }).reason, /never negative/);
  assert.equal(troughIndex(h([])).index, null);
});

test('the saved parameters and seed reproduce the run: identical x_HI grids', async () => {
  const out2 = join(dir, 'reion-again');
  const run = JSON.parse(readFileSync(join(OUT, 'reionize.json'), 'utf8'));
  const again = await reionizeSources({ halos: SRC, out: out2, astroFile: join(OUT, 'astro.json'), reionFile: join(OUT, 'reion.json'), seed: run.seed, ...SAMPLED_ONLY, quiet: true });
  assert.deepEqual(makeAstroParams(JSON.parse(readFileSync(join(out2, 'astro.json'), 'utf8'))), again.astro);
  for (const z of sampled.history.redshifts) {
    const a = readNpy(join(OUT, coevalNames(z).xHI)).data;
    const b = readNpy(join(out2, coevalNames(z).xHI)).data;
    assert.deepEqual(b, a, `x_HI at z = ${z}`);
  }
});

test('failed runs leave nothing behind; bad inputs are refused before anything is written', async () => {
  const stop = (at: string) => (stage: string) => {
    if (stage === at) throw new Error(`stopped after ${at}`);
  };
  const s2 = join(dir, 'fail-sample', 'deep');
  await assert.rejects(sampleHalos({ out: s2, boxSize: BOX, grid: GRID, hiresFactor: 2, zLowest: 7.4, zMax: 7.6, minMassMsun: 5e9, seed: 1, quiet: true, onStage: stop('halos') }), /stopped after halos/);
  assert.equal(existsSync(join(dir, 'fail-sample')), false);
  const r2 = join(dir, 'fail-reion');
  await assert.rejects(reionizeSources({ halos: SRC, out: r2, quiet: true, onStage: stop('lightcone') }), /stopped after lightcone/);
  assert.equal(existsSync(r2), false);
  // into an existing folder: only what the run added goes
  const keep = join(dir, 'existing');
  mkdirSync(keep);
  writeFileSync(join(keep, 'notes.txt'), 'mine');
  await assert.rejects(reionizeSources({ halos: SRC, out: keep, quiet: true, onStage: stop('galaxies') }), /stopped after galaxies/);
  assert.deepEqual(readdirSync(keep), ['notes.txt']);
  // bad inputs
  const badAstro = join(dir, 'bad-astro.json');
  writeFileSync(badAstro, JSON.stringify({ F_STAR10: 2 }));
  await assert.rejects(reionizeSources({ halos: SRC, out: join(dir, 'x1'), astroFile: badAstro, quiet: true }), /bad-astro\.json: field "F_STAR10" must be a finite number in \[-3, 0\].*got 2/);
  await assert.rejects(reionizeSources({ halos: join(dir, 'nowhere'), out: join(dir, 'x2'), quiet: true }), /nowhere: no such folder, expected the output of lodi sample-halos/);
  const badReion = join(dir, 'bad-reion.json');
  writeFileSync(badReion, JSON.stringify({ losAxis: 0 }));
  await assert.rejects(reionizeSources({ halos: SRC, out: join(dir, 'x3'), reionFile: badReion, lightconeAxis: 2, quiet: true }), /field "losAxis" = 0 differs from --lightcone-axis z/);
  await assert.rejects(sampleHalos({ out: join(dir, 'x4'), boxSize: BOX, grid: GRID, zLowest: 7, zMax: 8, minMassMsun: 1e13, seed: 1, quiet: true }), /--min-mass 10000000000000: expected a mass below the sampler cell mass/);
  await assert.rejects(reionizeSources({ halos: SRC, out: OUT, quiet: true }), /already exists; pass --force/);
  for (const x of ['x1', 'x2', 'x3', 'x4']) assert.equal(existsSync(join(dir, x)), false, x);
});
