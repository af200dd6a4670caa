/**
 * What the files of `lodi sample-halos` and `lodi reionize` record, on a tiny run (24 Mpc/h, 12^3 cells, z = 7.6 to
 * 8.4, M_min = 5e9 Msun): the cosmology and resolved sampler parameters in halos.h5, galaxies.h5 aligned with the
 * halos and equal to the galaxies the run drew, Δ²_21 and UV LFs at chosen redshifts, the provenance of the other
 * outputs, and the choice of the nearest catalogue redshifts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CAMELS_CV, makeCosmology } from '../../src/cosmo/params.js';
import { makeAstroParams } from '../../src/astro/params.js';
import { powerSpectrum21 } from '../../src/astro/reion/history.js';
import { resolveSamplerParams } from '../../src/astro/sampler/params.js';
import { GALAXY_DATASETS, readGalaxyCatalogues } from '../../src/io/galaxy-catalogue.js';
import { readMergerHistory } from '../../src/io/halo-catalogue.js';
import { loadGrid } from '../../src/io/index.js';
import { sampleHalos, type SampleHalosResult } from '../../src/pipeline/sources.js';
import { coevalNames, reionizeSources, type ReionizeResult } from '../../src/pipeline/sources-reionize.js';
import { forEachGalaxyCatalogue, galaxyRecord } from '../../src/pipeline/sources-galaxies.js';
import { pickRedshifts } from '../../src/pipeline/sources-select.js';
import { tempDir } from '../io/helpers.js';

const { dir, cleanup } = tempDir('lodi-sources-out-');
const SRC = join(dir, 'src');
const OUT = join(dir, 'reion');
// a sampler parameter off its default, to see the resolved set (not the defaults) recorded
const SAMPLER = { haloMassCorrection: 0.93 };
let sampled: SampleHalosResult;
let run: ReionizeResult;
let zs: number[];

before(async () => {
  sampled = await sampleHalos({ out: SRC, boxSize: 24, grid: 12, hiresFactor: 2, zLowest: 7.6, zMax: 8.4, minMassMsun: 5e9, seed: 6, sampler: SAMPLER, noPlots: true, quiet: true });
  zs = sampled.history.redshifts;
  // galaxies of two catalogues (8.0 and 8.2 fall on the third and fourth), spectra at both ends, the UV LF at 7.75
  run = await reionizeSources({ halos: SRC, out: OUT, belowSampler: false, galaxies: [8.0, 8.2], psRedshifts: [7.6, 8.4, 8.35], uvlfRedshifts: [7.75], quiet: true });
});
after(cleanup);

test('halos.h5 carries the cosmology and the full resolved sampler parameters; they read back as the run used them', async () => {
  const h = await readMergerHistory(join(SRC, 'halos.h5'));
  const p = h.provenance!;
  assert.equal(p.generator, 'lodi sample-halos');
  assert.equal(p.seed, 6);
  assert.deepEqual(makeCosmology(p.cosmology as Record<string, unknown>), CAMELS_CV);
  const s = sampled.summary.sampler;
  assert.equal(s.haloMassCorrection, 0.93);
  assert.ok(Object.isFrozen(s) && Object.isFrozen(s.barrier), 'resolveSamplerParams returns a frozen object');
  // every field, including the defaults filled in, round-trips exactly and resolves to the same parameters again
  assert.deepEqual(Object.keys(p.sampler as object).sort(), Object.keys(s).sort());
  assert.deepEqual(p.sampler, { ...s, barrier: { ...s.barrier } });
  assert.deepEqual(resolveSamplerParams(CAMELS_CV.h, p.sampler as Parameters<typeof resolveSamplerParams>[1]), s);
  assert.deepEqual(p.dexm, JSON.parse(JSON.stringify(sampled.summary.dexm)));
  assert.deepEqual([p.boxSize, p.grid, p.fineGrid, p.zLowest, p.zMax, p.minMassMsun, p.minMass], [24, 12, 24, 7.6, 8.4, 5e9, 5e9 * CAMELS_CV.h]);
  // the linear field's sidecar says the same
  const lin = loadGrid(join(SRC, 'linear_density.npy'));
  assert.deepEqual(lin.meta.provenance, JSON.parse(JSON.stringify(p)));
});

test('pickRedshifts: the nearest catalogue per request, without repeats, ascending; all; outside the range refused', () => {
  const z = [6, 6.14, 6.2828, 6.4285];
  assert.deepEqual(pickRedshifts(z, [6.3, 6, 6.25, 5.95], { flag: '--ps-z', zStepFactor: 1.02 }), [
    { index: 0, z: 6, requested: [6, 5.95] },
    { index: 2, z: 6.2828, requested: [6.3, 6.25] },
  ]);
  assert.deepEqual(pickRedshifts(z, 'all', { flag: '--galaxies', zStepFactor: 1.02 }).map((p) => p.index), [0, 1, 2, 3]);
  // half a step, (1 + z)(f - 1)/2 = 0.07 at z = 6, beyond either end
  assert.equal(pickRedshifts(z, [5.931], { flag: '--ps-z', zStepFactor: 1.02 })[0]!.index, 0);
  assert.throws(() => pickRedshifts(z, [5.9], { flag: '--ps-z', zStepFactor: 1.02 }), /^Error: --ps-z 5\.9: outside the redshifts of the halos, 6\.000 to 6\.428; expected redshifts in \[5\.930, 6\.503\]/);
  assert.throws(() => pickRedshifts(z, [7], { flag: '--uvlf-z', zStepFactor: 1.02 }), /--uvlf-z 7: outside/);
});

test('galaxies.h5: the galaxies the run drew for the chosen catalogues, entry by entry aligned with halos.h5, bit for bit', async () => {
  const counts = sampled.history.catalogues.map((c) => c.count);
  const g = await readGalaxyCatalogues(join(OUT, 'galaxies.h5'), { halos: { redshifts: zs, counts } });
  const nearest = (z: number): number => zs.reduce((a, x, i) => (Math.abs(x - z) < Math.abs(zs[a]! - z) ? i : a), 0);
  assert.deepEqual(g.haloIndex, [nearest(8.0), nearest(8.2)]);
  assert.notEqual(g.haloIndex[0], g.haloIndex[1]);
  assert.deepEqual(g.redshifts, g.haloIndex.map((k) => zs[k]!));
  // the same draws again (same history, parameters and seed): identical arrays
  const want = new Map<number, ReturnType<typeof galaxyRecord>>();
  forEachGalaxyCatalogue(sampled.history, { cosmo: CAMELS_CV, params: run.astro, seed: run.seed }, (k, c, gal) => {
    if (g.haloIndex.includes(k)) want.set(k, galaxyRecord(k, c, gal));
  });
  for (const c of g.catalogues) {
    assert.ok(c.count > 100, `${c.count} galaxies at z = ${c.z}`);
    for (const d of GALAXY_DATASETS) assert.deepEqual(c[d.field], want.get(c.haloIndex)![d.field], `z = ${c.z}: ${d.name}`);
  }
  // its provenance embeds the cosmology and the galaxy parameters
  const p = g.provenance!;
  assert.deepEqual(makeCosmology(p.cosmology as Record<string, unknown>), CAMELS_CV);
  assert.deepEqual(makeAstroParams(p.astro as Record<string, unknown>), run.astro);
  assert.equal(p.seed, run.seed);
  assert.equal(p.sourceModel, 'v4-mean-norm');
});

test('--ps-z: Δ²_21 of the saved δT_b box at each chosen redshift in k [h/Mpc], mK^2, modes; one figure; the midpoint kept', () => {
  const last = zs.length - 1;
  for (const k of [0, last]) {
    const z = zs[k]!;
    const text = readFileSync(join(OUT, `ps21_z${z.toFixed(3)}.csv`), 'utf8').trim().split('\n');
    assert.match(text[0]!, new RegExp(`^# z = ${z}, <x_HI> = [^,]+, <dTb> = [^,]+ mK, requested z = ${k === 0 ? '7.6' : '8.4 8.35'}$`));
    assert.equal(text[1], 'k_h_per_Mpc,delta2_mK2,pk_mK2_Mpc3_per_h3,nmodes');
    const ps = powerSpectrum21(loadGrid(join(OUT, coevalNames(z).dTb)).data, 12, 24);
    const rows = text.slice(2).map((l) => l.split(',').map(Number));
    assert.equal(rows.length, ps.k.length);
    rows.forEach((r, i) => {
      assert.ok(Math.abs(r[0]! / ps.k[i]! - 1) < 1e-6 && Math.abs(r[1]! - ps.delta2[i]!) <= 1e-6 * Math.abs(ps.delta2[i]!) && r[3] === ps.nmodes[i]);
    });
  }
  for (const f of ['ps21_redshifts.png', 'ps21_midpoint.csv', 'ps21.png', 'uvlf_z8.csv', 'uvlf.png']) assert.ok(existsSync(join(OUT, f)), f);
  const s = JSON.parse(readFileSync(join(OUT, 'reionize.json'), 'utf8'));
  assert.deepEqual(s.ps21Redshifts.map((r: { z: number }) => r.z), [zs[0], zs[last]]);
});

test('--uvlf-z: φ(M_UV) of the chosen catalogue, every galaxy with a finite M_UV in one bin', () => {
  const k = zs.reduce((a, x, i) => (Math.abs(x - 7.75) < Math.abs(zs[a]! - 7.75) ? i : a), 0);
  const z = zs[k]!;
  const f = join(OUT, `uvlf_z${z.toFixed(3)}.csv`);
  assert.ok(existsSync(f.replace(/csv$/, 'png')));
  const lines = readFileSync(f, 'utf8').trim().split('\n');
  assert.match(lines[0]!, new RegExp(`^# z = ${z}, halos above 5\\.000e\\+9 Msun$`));
  assert.equal(lines[1], 'muv_centre,phi_sampled_Mpc3_mag,phi_err,count,phi_analytic_Mpc3_mag');
  const rows = lines.slice(2).map((l) => l.split(',').map(Number));
  let galaxies = 0;
  forEachGalaxyCatalogue(sampled.history, { cosmo: CAMELS_CV, params: run.astro, seed: run.seed }, (j, _c, gal) => {
    if (j === k) galaxies = Array.from(gal.muv).filter(Number.isFinite).length;
  });
  assert.equal(rows.reduce((a, r) => a + r[3]!, 0), galaxies);
  // φ = N / (V ΔM), V = (L/h)^3 Mpc^3, ΔM = 0.5 mag
  for (const r of rows) assert.ok(Math.abs(r[1]! - r[3]! / ((24 / CAMELS_CV.h) ** 3 * 0.5)) <= 1e-6 * r[1]!);
  assert.ok(rows.every((r) => r[4]! >= 0) && rows.some((r) => r[4]! > 0), 'the analytic expectation beside each bin');
});

test('reionize outputs say how they were made: sidecars with the cosmology and the parameter files, reionize.json with every set', () => {
  const side = JSON.parse(readFileSync(join(OUT, coevalNames(zs[0]!).xHI.replace(/npy$/, 'json')), 'utf8'));
  assert.deepEqual(makeCosmology(side.provenance.cosmology), CAMELS_CV);
  assert.deepEqual(side.provenance.parameters, { astro: 'astro.json', reion: 'reion.json', run: 'reionize.json' });
  for (const f of Object.values(side.provenance.parameters) as string[]) assert.ok(existsSync(join(OUT, f)), f);
  const lc = JSON.parse(readFileSync(join(OUT, 'lightcone_dTb.json'), 'utf8'));
  assert.deepEqual(lc.provenance.cosmology, side.provenance.cosmology);
  const s = JSON.parse(readFileSync(join(OUT, 'reionize.json'), 'utf8'));
  assert.deepEqual(makeCosmology(s.cosmology), CAMELS_CV);
  assert.deepEqual(makeAstroParams(s.parameters.astro), run.astro);
  assert.deepEqual(s.parameters.reion, JSON.parse(JSON.stringify(run.reion)));
  assert.deepEqual(resolveSamplerParams(CAMELS_CV.h, s.parameters.sampler), sampled.summary.sampler);
  assert.equal(s.parameters.spin, null);
  assert.deepEqual(s.galaxies.haloIndex, [2, 3]);
});

test('chosen redshifts: refused outside the halos, for grid models and as bad flags, before anything is written; --force clears an earlier choice', async () => {
  const x = join(dir, 'x');
  await assert.rejects(reionizeSources({ halos: SRC, out: x, psRedshifts: [9], quiet: true }), /--ps-z 9: outside the redshifts of the halos, 7\.600 to 8\.\d{3};/);
  await assert.rejects(reionizeSources({ halos: SRC, out: x, sourceModel: 'chmf-on-grid', galaxies: 'all', quiet: true }), /--galaxies: the chmf-on-grid source model has no individual galaxies/);
  await assert.rejects(reionizeSources({ halos: SRC, out: x, sourceModel: 'v3-default', uvlfRedshifts: [8], quiet: true }), /--uvlf-z: the v3-default source model has no individual galaxies/);
  await assert.rejects(reionizeSources({ halos: SRC, out: OUT, galaxies: 'all', quiet: true }), /already exists; pass --force/);
  assert.equal(existsSync(x), false);
  const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const bad = spawnSync(process.execPath, [main, 'reionize', '--halos', SRC, '--out', x, '--ps-z', '8,,9'], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--ps-z <z,\.\.\.>' argument '8,,9' is invalid\. expected a comma-separated list without empty elements/);
  assert.equal(existsSync(x), false);
  // a rerun with --force and other choices leaves no file of the earlier ones
  await reionizeSources({ halos: SRC, out: OUT, belowSampler: false, force: true, psRedshifts: [8.0], quiet: true });
  assert.equal(existsSync(join(OUT, 'galaxies.h5')), false);
  assert.equal(existsSync(join(OUT, `ps21_z${zs[0]!.toFixed(3)}.csv`)), false);
  assert.equal(existsSync(join(OUT, `uvlf_z${zs[1]!.toFixed(3)}.csv`)), false);
  assert.ok(existsSync(join(OUT, `ps21_z${zs[2]!.toFixed(3)}.csv`)));
});
