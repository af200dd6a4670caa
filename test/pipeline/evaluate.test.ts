import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gaussianSmooth } from '../../src/field/fourier.js';
import { powerSpectrum } from '../../src/field/power.js';
import { saveGrid } from '../../src/io/grid.js';
import { readWorld, writeWorld, type WorldGrids } from '../../src/io/world.js';
import { planStages } from '../../src/lodi/planner.js';
import { evaluateRun, type EvaluationMetrics, type StitchingMetrics } from '../../src/pipeline/evaluate.js';
import { haloChannelMetrics, interpLogK, residualBootstrap, tbHat } from '../../src/pipeline/evaluate-stats.js';
import { Rng } from '../../src/util/rng.js';
import { preset } from '../../src/halogen/config.js';
import { trainHalogen } from '../../src/halogen/train.js';
import { lodiPreset } from '../../src/lodi/config.js';
import { trainLodi } from '../../src/lodi/train.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { simulateWorld } from '../../src/pipeline/simulate.js';
import { repaintTb } from '../../src/pipeline/truth-scatter.js';
import { syntheticWorld } from '../halogen/helpers.js';

const N = 32;
const L = 25;
const N3 = N ** 3;

function gauss(seed: number, R: number): Float32Array {
  const r = new Rng(seed);
  const w = Float32Array.from({ length: N3 }, () => r.normal());
  const g = gaussianSmooth(w, [N, N, N], L, R);
  let s2 = 0;
  for (const v of g) s2 += v * v;
  const sd = Math.sqrt(s2 / N3);
  return g.map((v) => v / sd);
}

/** A synthetic world: log-normal T_b (mean ≈ 0.1 mK) and four sparse halo channels. */
function makeWorld(dir: string, seed: number, opts: { mas?: string } = {}): WorldGrids {
  const g = gauss(seed, 0.8);
  const tb = g.map((v) => 0.1 * Math.exp(0.8 * v - 0.32));
  const r = new Rng(seed + 1000);
  const halos = new Float32Array(4 * N3);
  for (let c = 0; c < 4; c++) {
    const thr = 1.2 + 0.4 * c;
    for (let i = 0; i < N3; i++) if (g[i]! > thr) halos[c * N3 + i] = 10 ** (10.5 + 0.5 * c + 0.3 * r.normal());
  }
  const w: WorldGrids = {
    grid: N,
    boxSize: L,
    redshift: 1,
    cosmology: { Omega_m: 0.3, h: 0.7 },
    massBins: { edges: [3e10, 1e11, 5e11, 1e12, Infinity], unit: 'Msun' },
    channels: ['ch1', 'ch2', 'ch3', 'ch4'],
    smoothingR: 0.2,
    ...(opts.mas ? { mas: opts.mas } : {}),
    provenance: { generator: 'test', seed },
    tb,
    halos,
  };
  writeWorld(dir, w);
  return w;
}

interface RunSpec {
  tbs: Float32Array[];
  halos?: Float32Array;
  method?: 'overlap' | 'tiling' | 'average';
  tiling?: Float32Array;
  average?: Float32Array;
  single?: Float32Array;
  dmSeed?: number;
  trainWorlds?: { dir: string; seed?: number }[];
  box?: number;
  overlap?: number;
}

function tbGrid(data: Float32Array, r: number, method: string) {
  return { data, shape: [N, N, N], meta: { boxSize: L, redshift: 1, quantity: 'T_b', unit: 'mK', provenance: { seed: 100 + r, realization: r, method } } };
}

function makeRun(dir: string, s: RunSpec): string {
  mkdirSync(dir, { recursive: true });
  const method = s.method ?? 'overlap';
  s.tbs.forEach((t, r) => saveGrid(join(dir, `tb_${r}.npy`), tbGrid(t, r, method)));
  if (s.tiling) saveGrid(join(dir, 'tb_tiling_0.npy'), tbGrid(s.tiling, 0, 'tiling'));
  if (s.average) saveGrid(join(dir, 'tb_average_0.npy'), tbGrid(s.average, 0, 'average'));
  if (s.single) saveGrid(join(dir, 'tb_single_0.npy'), tbGrid(s.single, 0, 'single'));
  if (s.halos) saveGrid(join(dir, 'halos.npy'), { data: s.halos, shape: [4, N, N, N], meta: { boxSize: L, redshift: 1, quantity: 'halo_mass_density', unit: '(Msun/h)/(Mpc/h)^3' } });
  const run = {
    format: 'lodi-run',
    version: 1,
    grid: N,
    boxSize: L,
    redshift: 1,
    realizations: s.tbs.length,
    method,
    seeds: s.tbs.map((_, r) => 100 + r),
    dm: { path: 'dm.npy', seed: s.dmSeed },
    box: s.box ?? 16,
    overlap: s.overlap ?? 4,
    periodic: true,
    models: {
      halogen: { file: 'hg.safetensors', sha256: 'ab'.repeat(32), preset: 'cpu', trainWorlds: s.trainWorlds ?? [{ dir: '/nowhere/train-1', seed: 1 }] },
      lodi: { file: 'lodi.safetensors', sha256: 'cd'.repeat(32), preset: 'cpu', trainWorlds: s.trainWorlds ?? [{ dir: '/nowhere/train-1', seed: 1 }], split: { seed: 0, train: 12, val: 4 } },
    },
    timings: { halogen: 1.5, lodi: 20 },
    command: 'lodi run (test)',
  };
  writeFileSync(join(dir, 'run.json'), JSON.stringify(run, null, 1));
  return dir;
}

const metricsOf = (out: string): EvaluationMetrics => JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as EvaluationMetrics;
const leftovers = (parent: string): string[] => readdirSync(parent).filter((f) => f.includes('.tmp-'));

test('evaluate-stats: T̂_b refuses a mean-subtracted map; log-k interpolation; bootstrap; halo channel metrics', () => {
  assert.throws(() => tbHat(Float32Array.from([1, -1, 2, -2]), 'x.npy'), /x\.npy: mean T_b .* ~0 relative to its rms/);
  assert.throws(() => tbHat(new Float32Array(8), 'zeros'), /~0/);
  assert.deepEqual(Array.from(tbHat(Float32Array.from([1, 3]), 'ok')), [0.5, 1.5]);
  assert.ok(Math.abs(interpLogK([0.5, 2], [0, 2], 1) - 1) < 1e-12);
  assert.ok(Number.isNaN(interpLogK([0.5, 2], [0, 2], 3)));
  // two fields, residuals +0.1 and −0.1 with realisations ±0.05 around them
  const pt = [Float64Array.from([1, 2]), Float64Array.from([1, 2])];
  const pg = [
    [Float64Array.from([1.05, 2.3]), Float64Array.from([1.15, 2.1])],
    [Float64Array.from([0.85, 1.7]), Float64Array.from([0.95, 1.9])],
  ];
  const b = residualBootstrap(pt, pg, { samples: 400, seed: 3 });
  assert.ok(Math.abs(b.mean[0]!) < 1e-12 && Math.abs(b.mean[1]!) < 1e-12);
  assert.ok(Math.abs(b.perField[0]!.mean[0]! - 0.1) < 1e-12);
  assert.ok(b.bootStd[0]! > 0.04 && b.bootStd[0]! < 0.15, `bootstrap std ${b.bootStd[0]}`);
  assert.deepEqual(residualBootstrap(pt, pg, { samples: 400, seed: 3 }).bootStd, b.bootStd, 'seeded');
  // target log10 [10, 11, 12]: median 11, band [10.32, 11.68]
  const h = haloChannelMetrics([{ target: [0, 1e10, 1e11, 1e12], pred: [5, 1e11, 0, 1e12] }]);
  assert.equal(h.occupied, 3);
  assert.equal(h.target.median, 11);
  assert.ok(Math.abs(h.target.p16 - 10.32) < 1e-9);
  assert.equal(h.predicted.median, 11);
  assert.ok(Math.abs(h.predicted.emptyFraction - 1 / 3) < 1e-12);
  assert.equal(h.medianInBand, true);
  assert.equal(haloChannelMetrics([{ target: [1e10, 1e11, 1e12], pred: [1e10, 1e10, 1e10] }]).medianInBand, false);
  // with HALOgen's floor (log10 ρ_h ≥ 10.5 here) the voxel at 1e10 is a smoothing tail, not occupied
  const f = haloChannelMetrics([{ target: [0, 1e10, 1e11, 1e12], pred: [5, 0, 1e11, 1e12] }], 10.5);
  assert.equal(f.occupied, 2);
  assert.equal(f.floorLog, 10.5);
  assert.equal(f.target.median, 11.5);
  assert.equal(f.predicted.emptyFraction, 0);
  assert.equal(f.medianInBand, true);
  const e = haloChannelMetrics([{ target: [1e10, 1e11], pred: [0, 0] }]);
  assert.equal(e.predicted.median, -Infinity);
  assert.equal(e.medianInBand, false);
});

test('evaluate: a run equal to its truth gives residual 0 and r = 1, with the report, plots and metrics; outputs are not overwritten without force', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lodi-eval-'));
  try {
    const w = makeWorld(join(root, 'truth'), 5, { mas: 'CIC' });
    const run = makeRun(join(root, 'run'), { tbs: [w.tb!, w.tb!], halos: w.halos, dmSeed: 5, tiling: w.tb, single: w.tb });
    const out = join(root, 'report');
    const res = await evaluateRun({ runs: [run], truths: [join(root, 'truth')], out, quiet: true, bootstrap: 50 });
    const m = metricsOf(out);
    for (const k of ['mean_abs_residual_k_le_10', 'max_abs_residual_k_le_10', 'r_at_k_1', 'k_range', 'fields', 'realizations', 'halos', 'stitching', 'split', 'residual', 'per_field', 'targets']) assert.ok(k in m, k);
    assert.ok(m.mean_abs_residual_k_le_10 < 1e-5 && m.max_abs_residual_k_le_10 < 1e-5, `residual ${m.mean_abs_residual_k_le_10}`);
    assert.ok(Math.abs(m.r_at_k_1 - 1) < 1e-5, `r ${m.r_at_k_1}`);
    assert.ok(Math.abs(m.r.between_realizations_at_k_1! - 1) < 1e-5 && Math.abs(m.r.realization_mean_at_k_1! - 1) < 1e-5, 'identical realisations');
    assert.equal(m.fields, 1);
    assert.equal(m.realizations, 2);
    assert.ok(Math.abs(m.k_range.k_max - Math.min(10, (Math.PI * N) / L / 2)) < 1e-12);
    assert.ok(m.k_range.bins > 3);
    assert.deepEqual(m.targets, { mean_abs_residual_le_0_1: true, r_at_k_1_ge_0_9: true, halo_channels_pass: true });
    assert.equal(m.halos!.length, 4);
    for (const h of m.halos!) {
      assert.ok(h.occupied > 0 && h.medianInBand && h.pass, `channel ${h.channel}`);
      assert.ok(Math.abs(h.r_min_k_le_1 - 1) < 1e-5);
    }
    const st = m.stitching as StitchingMetrics;
    assert.deepEqual(Object.keys(st.maps).sort(), ['overlap', 'single', 'tiling', 'truth']);
    assert.ok(Math.abs(st.maps.overlap!.r_single_at_k_1! - 1) < 1e-5);
    assert.equal(st.boxes_per_axis, planStages({ size: N, box: 16, overlap: 4, periodic: true }).boxesPerAxis[0]);
    assert.equal(m.split.leaks.length, 0);
    assert.ok(m.split.rows.some((r) => r.role === 'test' && r.seed === 5));
    assert.ok(m.split.rows.some((r) => r.role === 'train' && r.seed === 1));
    for (const f of ['report.html', 'report.md', 'metrics.json', 'tb-maps.png', 'tb-pk-field0.png', 'tb-residual.png', 'tb-r.png', 'tb-pdf.png', 'halos-maps.png', 'halos-pdf-ch1.png', 'stitching.png']) {
      assert.ok(existsSync(join(out, f)), f);
    }
    assert.ok(res.files.length >= 11);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.ok((html.match(/src="data:image\/png;base64,/g) ?? []).length >= 9, 'images embedded');
    assert.ok(!/src="[^d]/.test(html), 'no linked images');
    for (const s of ['Data split', 'Halo channels', 'Stitching diagnostics', 'Residual']) assert.ok(html.includes(s), s);
    await assert.rejects(evaluateRun({ runs: [run], truths: [join(root, 'truth')], out, quiet: true, bootstrap: 10 }), /already exists/);
    await evaluateRun({ runs: [run], truths: [join(root, 'truth')], out, quiet: true, bootstrap: 10, force: true });
    assert.deepEqual(leftovers(root), []);
    await assert.rejects(evaluateRun({ runs: [run], truths: [join(root, 'truth')], out: root, quiet: true, force: true }), /would contain the input/);
    assert.ok(existsSync(join(run, 'run.json')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('evaluate: T_b × (1 + a n) with white noise n gives the expected residual; several fields combine with bootstrap errors', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lodi-eval-'));
  try {
    const a = 0.6;
    const runs: string[] = [];
    const truths: string[] = [];
    const expected: number[][] = [];
    let kk: Float64Array | undefined;
    for (const seed of [11, 12]) {
      const tdir = join(root, `truth${seed}`);
      const w = makeWorld(tdir, seed); // no MAS: plain P(k), so white noise stays white
      const rng = new Rng(seed * 7);
      const tbs = [0, 1, 2].map(() => w.tb!.map((v) => v * (1 + a * rng.normal())));
      runs.push(makeRun(join(root, `run${seed}`), { tbs, halos: w.halos, dmSeed: seed }));
      truths.push(tdir);
      // expected: P_gen = P_true + a² <T̂²> (L/N)^3 (the white noise of T̂ n), so residual = that / P_true
      const hat = tbHat(w.tb!, 't');
      let m2 = 0;
      for (const v of hat) m2 += (v * v) / N3;
      const pt = powerSpectrum(hat, N, { boxSize: L });
      kk = pt.k;
      expected.push(Array.from(pt.pk, (p) => (a * a * m2 * (L / N) ** 3) / p));
    }
    const out = join(root, 'report');
    await evaluateRun({ runs, truths, out, quiet: true, bootstrap: 200, seed: 1 });
    const m = metricsOf(out);
    assert.equal(m.fields, 2);
    assert.equal(m.realizations, 6);
    assert.deepEqual(m.realizationsPerField, [3, 3]);
    const kMax = m.k_range.k_max;
    const idx = Array.from(kk!).map((_, i) => i).filter((i) => kk![i]! <= kMax);
    const exp = idx.map((i) => (expected[0]![i]! + expected[1]![i]!) / 2);
    const expMean = exp.reduce((s, v) => s + v, 0) / exp.length;
    assert.ok(expMean > 0.05, `the test needs a visible residual, expected ${expMean}`);
    // the signed mean matches; the mean of |residual| also collects the (zero-mean) cross-term noise
    const got = idx.reduce((acc, i) => acc + m.residual.mean[i]!, 0) / idx.length;
    // tolerance: 25 % plus twice the bootstrap error of the bin average (6 realisations, few low-k modes)
    const err = Math.sqrt(idx.reduce((acc, i) => acc + m.residual.bootstrap_std[i]! ** 2, 0)) / idx.length;
    assert.ok(Math.abs(got - expMean) < 0.25 * expMean + 2 * err, `measured ${got} vs expected ${expMean} ± ${err}`);
    assert.ok(m.mean_abs_residual_k_le_10 >= got - 1e-12 && m.mean_abs_residual_k_le_10 < 2 * expMean);
    // bin by bin within a few bootstrap sigmas (+ 10 %)
    idx.forEach((i, j) => {
      const d = Math.abs(m.residual.mean[i]! - exp[j]!);
      assert.ok(d < 4 * m.residual.bootstrap_std[i]! + 0.1 * exp[j]!, `k = ${kk![i]}: ${m.residual.mean[i]} vs ${exp[j]} ± ${m.residual.bootstrap_std[i]}`);
      assert.ok(m.residual.bootstrap_std[i]! > 0);
    });
    assert.ok(m.r_at_k_1 < 0.999 && m.r_at_k_1 > 0.5, `r ${m.r_at_k_1}`);
    // what limits r: with noise power e = N_w/P_true, r(gen, truth) = (1 + e)^(-1/2), two realisations
    // r = 1/(1 + e) (each carries its own noise), the mean of 3 realisations vs truth (1 + e/3)^(-1/2)
    const between = m.r.between_realizations!;
    const ofMean = m.r.realization_mean!;
    const avg = (f: (i: number, j: number) => number): number => idx.reduce((acc, i, j) => acc + f(i, j), 0) / idx.length;
    const [gB, eB] = [avg((i) => between[i]!), avg((_, j) => 1 / (1 + exp[j]!))];
    const [gM, eM] = [avg((i) => ofMean[i]!), avg((_, j) => 1 / Math.sqrt(1 + exp[j]! / 3))];
    const [gR, eR] = [avg((i) => m.r.mean[i]!), avg((_, j) => 1 / Math.sqrt(1 + exp[j]!))];
    // tolerance 0.005: T̂ n is nearly uncorrelated with T̂, so the first-order cross term drops out of r and
    // what is left scatters by about e/sqrt(2 n_modes) per bin, ~1e-3 on the bin average (e ≈ 0.06, the
    // ~8 bins up to k_max hold hundreds to thousands of modes); measured 7e-4. The three expectations
    // differ by 0.02-0.05, so a mix-up of the estimators fails
    assert.ok(Math.abs(gB - eB) < 0.005, `r between realisations ${gB} vs ${eB}`);
    assert.ok(Math.abs(gM - eM) < 0.005, `r of the realisation mean ${gM} vs ${eM}`);
    assert.ok(Math.abs(gR - eR) < 0.005, `r ${gR} vs ${eR}`);
    assert.ok(gB < gR && gR < gM, 'between < generated vs truth < mean vs truth (the truth carries no noise here)');
    // at k = 1 h/Mpc (the headline numbers) from the expected curves, with the same tolerance
    const expAt1 = (f: (e: number) => number): number => interpLogK(idx.map((i) => kk![i]!), exp.map(f), 1);
    assert.ok(Math.abs(m.r.between_realizations_at_k_1! - expAt1((e) => 1 / (1 + e))) < 0.005, `${m.r.between_realizations_at_k_1}`);
    assert.ok(Math.abs(m.r.realization_mean_at_k_1! - expAt1((e) => 1 / Math.sqrt(1 + e / 3))) < 0.005, `${m.r.realization_mean_at_k_1}`);
    assert.equal(m.per_field.length, 2);
    assert.ok(existsSync(join(out, 'tb-pk-field1.png')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('evaluate: a tiled map with jumps at the box faces shows larger stitching diagnostics than a seamless one', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lodi-eval-'));
  try {
    const w = makeWorld(join(root, 'truth'), 21);
    const plan = planStages({ size: N, box: 16, overlap: 4, periodic: true });
    const origins = plan.axes[0].origins;
    const tile = (c: number): number => {
      let t = 0;
      for (let i = 0; i < origins.length; i++) if (c >= origins[i]!) t = i;
      return t;
    };
    const rng = new Rng(4);
    const nb = origins.length;
    const f = Float64Array.from({ length: nb ** 3 }, () => 1 + 0.5 * rng.normal());
    const tiled = w.tb!.map((v, i) => {
      const x = Math.floor(i / (N * N)), y = Math.floor(i / N) % N, z = i % N;
      return v * Math.max(0.1, f[(tile(x) * nb + tile(y)) * nb + tile(z)]!);
    });
    const run = makeRun(join(root, 'run'), { tbs: [w.tb!], tiling: tiled, average: w.tb, dmSeed: 21 });
    const out = join(root, 'report');
    await evaluateRun({ runs: [run], truths: [join(root, 'truth')], out, quiet: true, bootstrap: 10 });
    const st = metricsOf(out).stitching as StitchingMetrics;
    assert.ok(Math.abs(st.maps.overlap!.face_jump_ratio - st.maps.truth!.face_jump_ratio) < 1e-9);
    assert.ok(st.maps.tiling!.face_jump_ratio > 1.2 * st.maps.overlap!.face_jump_ratio, `tiling ${st.maps.tiling!.face_jump_ratio} vs overlap ${st.maps.overlap!.face_jump_ratio}`);
    assert.ok(st.maps.tiling!.mean_residual_vs_truth > 0.05);
    assert.ok(st.harmonics_k.length >= 1 && st.face_planes.length > 0);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    assert.ok(/\| tiling \|/.test(md) && /\| average \|/.test(md));
    assert.ok(md.includes('No single-pass map'));
    const m = metricsOf(out);
    assert.equal(m.r.between_realizations, null, 'one realisation: no pairs');
    assert.equal(m.r.realization_mean_at_k_1, null);
    assert.ok(md.includes('With one realisation per field'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('evaluate: refuses training worlds (by directory or seed) unless allowed, a DM seed of another world, a mean-subtracted map; leaves no output', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lodi-eval-'));
  try {
    const tdir = join(root, 'truth');
    const w = makeWorld(tdir, 31);
    const out = join(root, 'report');
    const byDir = makeRun(join(root, 'run-dir'), { tbs: [w.tb!], dmSeed: 31, trainWorlds: [{ dir: tdir }] });
    await assert.rejects(evaluateRun({ runs: [byDir], truths: [tdir], out, quiet: true }), /test world .*truth.* trained halogen .*same directory.*--allow-train-data/);
    const bySeed = makeRun(join(root, 'run-seed'), { tbs: [w.tb!], dmSeed: 31, trainWorlds: [{ dir: '/elsewhere/w', seed: 31 }] });
    await assert.rejects(evaluateRun({ runs: [bySeed], truths: [tdir], out, quiet: true }), /same seed as \/elsewhere\/w/);
    assert.ok(!existsSync(out));
    await evaluateRun({ runs: [bySeed], truths: [tdir], out, quiet: true, allowTrainData: true, bootstrap: 10 });
    const m = metricsOf(out);
    assert.ok(m.split.leaks.length > 0 && m.split.allowed);
    assert.ok(readFileSync(join(out, 'report.md'), 'utf8').includes('WARNING: evaluated on training data'));
    rmSync(out, { recursive: true });

    const wrongDm = makeRun(join(root, 'run-dm'), { tbs: [w.tb!], dmSeed: 99 });
    await assert.rejects(evaluateRun({ runs: [wrongDm], truths: [tdir], out, quiet: true }), /DM of seed 99.*seed 31/);
    let s = 0;
    for (const v of w.tb!) s += v;
    const centred = w.tb!.map((v) => v - s / N3);
    const zeroMean = makeRun(join(root, 'run-zero'), { tbs: [centred], dmSeed: 31 });
    await assert.rejects(evaluateRun({ runs: [zeroMean], truths: [tdir], out, quiet: true }), /tb_0\.npy: mean T_b .* ~0 relative to its rms/);
    await assert.rejects(evaluateRun({ runs: [zeroMean, byDir], truths: [tdir], out, quiet: true }), /2 --run directories but 1 --truth/);
    assert.ok(!existsSync(out));
    assert.deepEqual(leftovers(root), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('evaluate reads what lodi run writes (tiny trained models): refuses the training world, evaluates it with --allow-train-data', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lodi-eval-run-'));
  try {
    const world = syntheticWorld(32, 3, join(root, 'world'));
    const tb = new Float32Array(N3);
    for (let i = 0; i < N3; i++) for (let c = 0; c < 4; c++) tb[i]! += 1e-12 * world.halos[c * N3 + i]! + 1e-4;
    writeWorld(join(root, 'world'), { ...world, tb });
    const hcfg = preset('tiny');
    hcfg.train.epochs = 1;
    await trainHalogen({ worlds: [join(root, 'world')], config: hcfg, out: join(root, 'halogen'), seed: 1, quiet: true });
    const lcfg = lodiPreset('tiny');
    lcfg.train.steps = 4;
    lcfg.train.evalEvery = 4;
    await trainLodi({ worlds: [join(root, 'world')], config: lcfg, out: join(root, 'lodi'), seed: 1, quiet: true });
    const run = join(root, 'run');
    await runPipeline({ dm: join(root, 'world', 'dm.npy'), halogen: join(root, 'halogen'), lodi: join(root, 'lodi'), realizations: 2, seed: 7, steps: 4, quiet: true, out: run, baselines: true });
    const out = join(root, 'report');
    await assert.rejects(evaluateRun({ runs: [run], truths: [join(root, 'world')], out, quiet: true }), /trained (halogen|lodi)/);
    await evaluateRun({ runs: [run], truths: [join(root, 'world')], out, quiet: true, allowTrainData: true, bootstrap: 20 });
    const m = metricsOf(out);
    assert.equal(m.realizations, 2);
    assert.ok(Number.isFinite(m.mean_abs_residual_k_le_10));
    assert.equal(m.halos!.length, 4);
    assert.ok(m.split.rows.some((r) => r.role === 'train' && r.seed === 3));
    assert.ok('skipped' in m.stitching || Object.keys((m.stitching as StitchingMetrics).maps).includes('tiling'));
    assert.ok(existsSync(join(out, 'report.html')));
    // the report says how each model split its worlds (by sub-volume, within them)
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    const models = (JSON.parse(readFileSync(join(run, 'run.json'), 'utf8')) as { models: { halogen: { split: { train: number[]; val: number[] } }; lodi: { split: { train: number; val: number } } } }).models;
    assert.ok(html.includes(`: ${models.halogen.split.train.length} training / ${models.halogen.split.val.length} validation sub-volumes`), 'HALOgen split in the report');
    assert.ok(html.includes(`: ${models.lodi.split.train} training / ${models.lodi.split.val} validation sub-volumes`), 'LODI split in the report');
    assert.deepEqual(m.split.subVolumes.map((l) => l.split(' ')[0]), ['halogen', 'lodi'], 'and in metrics.json');

    // a LODI fine-tuned on another world (--init) still counts the world its starting model trained on
    const other = syntheticWorld(32, 4, join(root, 'other'));
    writeWorld(join(root, 'other'), { ...other, tb });
    lcfg.train.steps = 2;
    lcfg.train.evalEvery = 2;
    lcfg.train.lr = 0; // the weights stay the starting model's, which gave finite maps above
    await trainLodi({ worlds: [join(root, 'other')], config: lcfg, out: join(root, 'lodi-ft'), seed: 2, quiet: true, init: join(root, 'lodi') });
    const run2 = join(root, 'run2');
    await runPipeline({ dm: join(root, 'world', 'dm.npy'), halos: join(run, 'halos.npy'), lodi: join(root, 'lodi-ft'), realizations: 1, seed: 7, steps: 4, quiet: true, out: run2 });
    const rj = JSON.parse(readFileSync(join(run2, 'run.json'), 'utf8')) as { models: { lodi: { trainWorlds: { seed?: number }[] } } };
    assert.deepEqual(rj.models.lodi.trainWorlds.map((w) => w.seed), [4, 3], 'its own world, then its starting model\'s');
    await assert.rejects(evaluateRun({ runs: [run2], truths: [join(root, 'world')], out: join(root, 'report2'), quiet: true }), /seed 3\) trained lodi/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('evaluate: a simulated truth gets the HI-repaint reference, and maps that are those repaints score exactly it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lodi-eval-repaint-'));
  try {
    const wdir = join(root, 'world');
    await simulateWorld({ boxSize: L, particles: N, grid: N, redshift: 1, seed: 5, steps: 5, out: wdir, quiet: true, noPlots: true });
    const world = readWorld(wdir);
    const rep = await repaintTb(world, 2);
    assert.ok(!('skipped' in rep), 'skipped' in rep ? rep.skipped : '');
    const [a, b] = rep.maps as [Float32Array, Float32Array];
    const differs = (x: Float32Array, y: Float32Array): boolean => x.some((v, i) => Math.abs(v - y[i]!) > 1e-6 * Math.abs(y[i]!) + 1e-12);
    assert.ok(differs(a, world.tb!) && differs(b, world.tb!) && differs(a, b), 'other seeds paint other maps');
    const again = await repaintTb(world, 1);
    assert.deepEqual('maps' in again ? again.maps[0] : null, a, 'the same seed paints the same map');
    // what cannot be repainted says why
    const scaled = await repaintTb({ ...world, tb: world.tb!.map((v) => v * 1.01) }, 1);
    assert.match('skipped' in scaled ? scaled.skipped : '', /does not give back its tb\.npy/);
    const prepared = await repaintTb({ ...world, provenance: { ...world.provenance, generator: 'lodi prepare' } }, 1);
    assert.match('skipped' in prepared ? prepared.skipped : '', /not made by lodi simulate/);
    assert.deepEqual(world.provenance.hiPaint, {}, 'simulateWorld without HI options records none');
    const unknown = await repaintTb({ ...world, provenance: { ...world.provenance, hiPaint: { scatterDx: 0.1 } } }, 1);
    assert.match('skipped' in unknown ? unknown.skipped : '', /hiPaint\.scatterDx is not an HI-painting option/);
    const older = { ...world.provenance, command: 'lodi simulate --hi-scatter 0.1' };
    delete older.hiPaint;
    const old = await repaintTb({ ...world, provenance: older }, 1);
    assert.match('skipped' in old ? old.skipped : '', /painted with --hi-scatter and does not record/);
    // a world painted with other HI options records them and is repainted with them (its own seed gives back its tb.npy)
    const wdir2 = join(root, 'world-scatter');
    await simulateWorld({ boxSize: L, particles: N, grid: N, redshift: 1, seed: 5, steps: 5, out: wdir2, quiet: true, noPlots: true, hi: { scatterDex: 0.1, slope: 2.5 } });
    const world2 = readWorld(wdir2);
    assert.deepEqual(world2.provenance.hiPaint, { scatterDex: 0.1, slope: 2.5 });
    const rep2 = await repaintTb(world2, 1);
    assert.ok(!('skipped' in rep2), 'skipped' in rep2 ? rep2.skipped : '');
    // painted with the defaults instead, its own seed does not give it back
    const asDefault = await repaintTb({ ...world2, provenance: { ...world2.provenance, hiPaint: {} } }, 1);
    assert.match('skipped' in asDefault ? asDefault.skipped : '', /does not give back its tb\.npy/);

    const run = makeRun(join(root, 'run'), { tbs: rep.maps, dmSeed: 5 });
    const out = join(root, 'report');
    await evaluateRun({ runs: [run], truths: [wdir], out, quiet: true, bootstrap: 20 });
    const m = metricsOf(out);
    assert.ok(!('skipped' in m.truth_scatter), JSON.stringify(m.truth_scatter));
    const ts = m.truth_scatter as Exclude<EvaluationMetrics['truth_scatter'], { skipped: string }>;
    assert.deepEqual(ts.repaints_per_field, [2]);
    // the run's maps are the repaints themselves: the same numbers by construction (same seeds, same code path)
    assert.ok(Math.abs(ts.mean_abs_residual_k_le_10 - m.mean_abs_residual_k_le_10) < 1e-9, `${ts.mean_abs_residual_k_le_10} vs ${m.mean_abs_residual_k_le_10}`);
    assert.ok(Math.abs(ts.r_at_k_1 - m.r_at_k_1) < 1e-9, `${ts.r_at_k_1} vs ${m.r_at_k_1}`);
    assert.ok(ts.r_at_k_1 < 0.999, 'paintings of the same halos differ');
    assert.ok(readFileSync(join(out, 'report.md'), 'utf8').includes('exact sampler'));

    // synthetic truths (no fof.hdf5) are scored without the reference, and say why
    const w2 = makeWorld(join(root, 'synthetic'), 6);
    const run2 = makeRun(join(root, 'run2'), { tbs: [w2.tb!], dmSeed: 6 });
    await evaluateRun({ runs: [run2], truths: [join(root, 'synthetic')], out: join(root, 'report2'), quiet: true, bootstrap: 10 });
    assert.match((metricsOf(join(root, 'report2')).truth_scatter as { skipped: string }).skipped, /not made by lodi simulate|fof\.hdf5 not found/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
