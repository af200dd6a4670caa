/**
 * HALOgen validation: train the `cpu` preset on one simulated world and evaluate on an unseen world
 * (different initial-condition seed): per-channel distribution of predicted log10 ρ_h against the
 * truth (median and 16–84 % band in bins of the true value, as in the paper's Fig. 9), per-channel
 * P(k) ratio and cross-correlation r(k) against the truth.
 *
 *   npm run validate -- halogen [--epochs N] [--batch B] [--train-seed 1] [--test-seed 2] [--particles 128]
 *                               [--stride 16] [--train-world DIR] [--test-world DIR] [--reuse]
 *   npm run validate -- halogen --model models/halogen-cpu/best.safetensors --test-world DIR [--stride 32]
 *
 * Worlds are built with `lodi simulate` code under runs/validate-halogen/ (kept between runs), or
 * taken from existing `lodi simulate` output directories with --train-world / --test-world.
 * With --model a trained model (e.g. the bundled one) is evaluated instead of training one; its
 * training worlds come from its metadata, and a test world that shares their seeds is refused.
 * The section ends with the targets of the main job: for every channel, the median prediction over
 * the voxels the target occupies inside the target's 16–84 % band, and r(k) ≥ 0.8 for k ≤ 1 h/Mpc.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { arg, machineLine, mdTable, repoRoot, writeSection } from './lib.js';
import { simulateWorld } from '../src/pipeline/simulate.js';
import { preset } from '../src/halogen/config.js';
import { loadHalogenWorld } from '../src/halogen/dataset.js';
import { loadHalogen, BEST } from '../src/halogen/checkpoint.js';
import { halogenTrainedWorlds } from '../src/halogen/init.js';
import { plotLoss, trainHalogenRun } from '../src/pipeline/train-halogen.js';
import { predictHalos, toHaloDensity } from '../src/halogen/infer.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { percentile } from '../src/halogen/loss.js';
import { crossPowerSpectrum } from '../src/field/power.js';
import { linePlot, multiPanel } from '../src/report/plots.js';
import { panelImages } from '../src/report/image.js';

const cfg = preset('cpu');
const epochs = Number(arg('epochs', cfg.train.epochs));
cfg.train.epochs = epochs;
const batch = Number(arg('batch', cfg.data.batchSize));
cfg.data.batchSize = batch;
const trainSeed = Number(arg('train-seed', 1));
const testSeed = Number(arg('test-seed', 2));
const particles = Number(arg('particles', 128));
const stride = Number(arg('stride', cfg.infer.stride));
const reuse = process.argv.includes('--reuse');
const root = join(repoRoot, 'runs', 'validate-halogen');
const plots = join(repoRoot, 'docs', 'validation');
mkdirSync(plots, { recursive: true });

async function world(seed: number, given: string): Promise<string> {
  if (given) return given;
  const dir = join(root, 'worlds', `seed${seed}-p${particles}`);
  if (!existsSync(join(dir, 'halos.npy'))) {
    process.stderr.write(`building world seed ${seed} (${particles}^3 particles)\n`);
    await simulateWorld({ out: dir, seed, particles, noPlots: true, quiet: true, force: true });
  }
  return dir;
}

const given = arg('model', '');
const seedOf = (dir: string): number => (JSON.parse(readFileSync(join(dir, 'world.json'), 'utf8')) as { seed: number }).seed;
const testDir = await world(testSeed, arg('test-world', ''));
const testSeedUsed = existsSync(join(testDir, 'world.json')) ? seedOf(testDir) : testSeed;
let runDir: string;
let trainSeconds = NaN;
let trainSeeds: number[];
if (given) {
  runDir = given;
  const m = loadHalogen(given);
  m.model.dispose();
  // with the worlds of the model it was continued from (--init), which trained the same weights
  trainSeeds = halogenTrainedWorlds(m.meta).map((w) => w.seed ?? NaN);
} else {
  const trainDir = await world(trainSeed, arg('train-world', ''));
  trainSeeds = [existsSync(join(trainDir, 'world.json')) ? seedOf(trainDir) : trainSeed];
  runDir = join(root, `model-${cfg.preset}`);
  const t0 = Date.now();
  if (!(reuse && existsSync(join(runDir, BEST)))) {
    await trainHalogenRun({ worlds: [trainDir], config: cfg, out: runDir, seed: 0, force: true, command: 'npm run validate -- halogen' });
  }
  trainSeconds = (Date.now() - t0) / 1000;
}
if (trainSeeds.includes(testSeedUsed)) throw new Error(`the test world's IC seed ${testSeedUsed} is one the model trained on (${trainSeeds.join(', ')})`);
const { model, meta } = loadHalogen(runDir);
const test = loadHalogenWorld(testDir);
const testDm = test.dm!;
const testHalos = test.halos!;
const n = test.grid;
const t1 = Date.now();
// predictions are cached next to the model so the report can be redrawn with --reuse
mkdirSync(root, { recursive: true });
const cache = join(given ? root : runDir, `pred-${given ? 'given' : 'trained'}-seed${testSeedUsed}-stride${stride}.f32`);
let pred: { log: Float32Array; density: Float32Array };
let inferSeconds: number;
if (reuse && existsSync(cache) && existsSync(cache + '.json')) {
  const raw = readFileSync(cache);
  const log = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  pred = { log, density: toHaloDensity(log, cfg.data.haloOffset, cfg.infer.floorLog) };
  inferSeconds = (JSON.parse(readFileSync(cache + '.json', 'utf8')) as { seconds: number }).seconds;
} else {
  pred = predictHalos(model, meta, testDm, n, { stride });
  inferSeconds = (Date.now() - t1) / 1000;
  writeFileAtomic(cache, new Uint8Array(pred.log.buffer, pred.log.byteOffset, pred.log.byteLength));
  writeFileAtomic(cache + '.json', JSON.stringify({ seconds: inferSeconds }));
}
model.dispose();
await plotLoss(meta.history, join(plots, 'halogen-loss.png'));

const n3 = n ** 3;
const off = cfg.data.haloOffset;
const floor = cfg.infer.floorLog;
const chanName = (c: number): string => {
  const b = cfg.data.massBins;
  const f = (v: number | 'max'): string => (v === 'max' ? 'max' : v.toExponential(0));
  return `ch${c + 1} [${f(b[c]!)}, ${f(b[c + 1]!)}) Msun`; // the paper's bin edges are in Msun
};
const rows: (string | number)[][] = [];
const pkRows: (string | number)[][] = [];
const targetRows: (string | number)[][] = [];
let allMet = true;
for (let c = 0; c < 4; c++) {
  const tLog = new Float32Array(n3);
  const pLog = new Float32Array(n3);
  const tRho = testHalos.subarray(c * n3, (c + 1) * n3);
  const pRho = pred.density.subarray(c * n3, (c + 1) * n3);
  for (let i = 0; i < n3; i++) {
    tLog[i] = Math.log10(tRho[i]! + off);
    pLog[i] = pred.log[c * n3 + i]!;
  }
  // distribution of predicted log density in bins of the true log density (voxels above the floor)
  const sel = (a: Float32Array, b: Float32Array) => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < n3; i++) {
      if (a[i]! < floor) continue;
      xs.push(a[i]!);
      ys.push(b[i]!);
    }
    return { xs, ys };
  };
  const { xs, ys } = sel(tLog, pLog);
  const lo = floor;
  let hi = floor + 1;
  for (const v of xs) if (v > hi) hi = v;
  const nb = 12;
  const centre: number[] = [];
  const med: number[] = [];
  const p16: number[] = [];
  const p84: number[] = [];
  for (let b = 0; b < nb; b++) {
    const a = lo + ((hi - lo) * b) / nb;
    const e = lo + ((hi - lo) * (b + 1)) / nb;
    const v = ys.filter((_, i) => xs[i]! >= a && xs[i]! < e);
    if (v.length < 20) continue;
    centre.push((a + e) / 2);
    med.push(percentile(v, 50));
    p16.push(percentile(v, 16));
    p84.push(percentile(v, 84));
  }
  await linePlot(
    {
      series: [
        { name: 'median', x: centre, y: med, points: true },
        { name: '16%', x: centre, y: p16, dashed: true },
        { name: '84%', x: centre, y: p84, dashed: true },
        { name: 'truth (y = x)', x: [lo, hi], y: [lo, hi] },
      ],
      xLabel: 'true log10 rho_h',
      yLabel: 'predicted log10 rho_h',
      title: `HALOgen ${chanName(c)}: unseen world (seed ${testSeedUsed})`,
    },
    join(plots, `halogen-pdf-ch${c + 1}.png`),
  );
  const tAbove = xs.length;
  let pAbove = 0;
  for (let i = 0; i < n3; i++) if (pRho[i]! > 0) pAbove++;
  const tSel = tLog.filter((v) => v >= floor);
  const pSel = pLog.filter((v) => v >= floor);
  rows.push([
    chanName(c),
    tAbove,
    pAbove,
    tSel.length ? percentile(tSel, 50) : NaN,
    pSel.length ? percentile(pSel, 50) : NaN,
    tSel.length ? `${percentile(tSel, 16).toFixed(2)}–${percentile(tSel, 84).toFixed(2)}` : '-',
    pSel.length ? `${percentile(pSel, 16).toFixed(2)}–${percentile(pSel, 84).toFixed(2)}` : '-',
  ]);
  // P(k) of the overdensity of each channel (floored prediction vs truth)
  const od = (r: Float32Array): Float32Array => {
    let s = 0;
    for (const v of r) s += v;
    const m = s / r.length || 1;
    return Float32Array.from(r, (v) => v / m - 1);
  };
  if (!pRho.some((v) => v > 0)) {
    // an empty predicted channel has no overdensity: P = 0 and r(k) undefined (said in the tables)
    allMet = false;
    targetRows.push([chanName(c), xs.length ? `${percentile(xs, 16).toFixed(2)}–${percentile(xs, 84).toFixed(2)}` : '-', 'empty (below the floor everywhere)', '**no**', 'undefined (empty prediction)', '**no**']);
    pkRows.push([chanName(c), '-', 0, 'undefined (empty prediction)']);
    continue;
  }
  const ps = crossPowerSpectrum(od(tRho), od(pRho), n, { boxSize: test.boxSize });
  const k = Array.from(ps.k);
  const ratio = Array.from(ps.p22, (v, i) => v / ps.p11[i]!);
  await multiPanel(
    {
      panels: [
        { series: [{ name: 'truth', x: k, y: Array.from(ps.p11) }, { name: 'HALOgen', x: k, y: Array.from(ps.p22), dashed: true }], xLabel: 'k [h/Mpc]', yLabel: 'P(k) [(Mpc/h)^3]', logX: true, logY: true, title: `HALOgen ${chanName(c)}` },
        { series: [{ name: 'ratio', x: k, y: ratio }], xLabel: 'k [h/Mpc]', yLabel: 'P_pred / P_true', logX: true, logY: true, refLine: 1 },
        { series: [{ name: 'r(k)', x: k, y: Array.from(ps.r) }], xLabel: 'k [h/Mpc]', yLabel: 'r(k)', logX: true, refLine: 1 },
      ],
    },
    join(plots, `halogen-pk-ch${c + 1}.png`),
  );
  // the main job's targets: prediction on the voxels the target occupies, and r(k) up to 1 h/Mpc
  const onTarget = ys;
  const band = xs.length ? [percentile(xs, 16), percentile(xs, 84)] : [NaN, NaN];
  const medOn = onTarget.length ? percentile(onTarget, 50) : NaN;
  const inBand = medOn >= band[0]! && medOn <= band[1]!;
  const rLow = k.map((kk, i) => (kk <= 1 + 1e-9 ? ps.r[i]! : Infinity)).reduce((a, b) => Math.min(a, b), Infinity);
  const rOk = rLow >= 0.8;
  allMet &&= inBand && rOk;
  targetRows.push([chanName(c), `${band[0]!.toFixed(2)}–${band[1]!.toFixed(2)}`, Number.isFinite(medOn) ? medOn.toFixed(2) : '-', inBand ? 'yes' : '**no**', Number.isFinite(rLow) ? rLow.toFixed(3) : 'undefined (empty)', rOk ? 'yes' : '**no**']);
  const at = (kk: number): number => k.reduce((best, v, i) => (Math.abs(v - kk) < Math.abs(k[best]! - kk) ? i : best), 0);
  for (const kk of [0.5, 1, 3, 10]) {
    const i = at(kk);
    if (kk > k[k.length - 1]! * 1.05) continue;
    pkRows.push([chanName(c), +k[i]!.toFixed(2), ratio[i]!, ps.r[i]!]);
  }
}

// slab projections (mean over `slab` cells along z) of truth and prediction, one row per channel
const slab = Math.max(1, Math.round(2 / (test.boxSize / n))); // ≈ 2 Mpc/h
const panels = [];
for (let c = 0; c < 4; c++) {
  const t = testHalos.subarray(c * n3, (c + 1) * n3);
  const p = pred.density.subarray(c * n3, (c + 1) * n3);
  let vmax = 0;
  for (const v of t) if (v > vmax) vmax = v;
  const common = { shape: [n, n, n] as [number, number, number], axis: 2 as const, index: 'project' as const, start: n / 2, thickness: slab, log: true, boxSize: test.boxSize, vmax: vmax / 4, vmin: vmax / 4e4, imageSize: 220, subtitle: '' };
  panels.push({ data: t, ...common, title: `truth ch${c + 1}` }, { data: p, ...common, title: `HALOgen ch${c + 1}` });
}
panelImages(panels, join(plots, 'halogen-slices.png'), { columns: 4, title: `Halo mass density, ${(slab * test.boxSize / n).toFixed(1)} Mpc/h slab, unseen world seed ${testSeedUsed}` });

const h = meta.history;
const trained = given
  ? `Model \`${given.replace(repoRoot + '/', '')}\` (preset \`${meta.config.preset}\`, ${meta.description.parameters.toLocaleString('en-US')} parameters, ` +
    `${(meta.description.flopsPerCrop / 1e9).toFixed(2)} GFLOP per ${meta.description.crop}^3 crop), trained on the worlds of IC seeds ${trainSeeds.join(', ')} ` +
    `(${meta.split.train.length} train / ${meta.split.val.length} validation sub-volumes, ${meta.epochsDone} epochs, best validation loss ${meta.bestVal?.toPrecision(4)} at epoch ${(meta.bestEpoch ?? 0) + 1}; MODELS.md). `
  : `Trained preset \`${cfg.preset}\` (${meta.description.parameters.toLocaleString('en-US')} parameters, ` +
    `${(meta.description.flopsPerCrop / 1e9).toFixed(2)} GFLOP per ${meta.description.crop}^3 crop) on world seed ${trainSeeds[0]} ` +
    `(${particles}^3 particles, ${meta.worlds[0]!.n}^3 grid, ${meta.worlds[0]!.boxSize} Mpc/h), ${meta.split.train.length} train / ${meta.split.val.length} validation sub-volumes, ` +
    `batch ${batch}${batch !== preset('cpu').data.batchSize ? ` (the preset's ${preset('cpu').data.batchSize} would give one optimiser step per epoch on ${meta.split.train.length} crops)` : ''}, ` +
    `${meta.epochsDone} epochs${epochs !== preset('cpu').train.epochs ? ` (preset: ${preset('cpu').train.epochs}; reduced to fit the time budget)` : ''} in ${(trainSeconds / 60).toFixed(1)} min (best validation loss ${meta.bestVal?.toPrecision(4)} at epoch ${(meta.bestEpoch ?? 0) + 1}; ` +
    `first/last train loss ${h[0]?.trainLoss.toPrecision(4)} / ${h[h.length - 1]?.trainLoss.toPrecision(4)}). `;
const body = [
  `Machine: ${machineLine()}.`,
  '',
  trained + `Evaluated on the unseen world seed ${testSeedUsed}: sliding window stride ${stride}, ${inferSeconds.toFixed(1)} s, floor log10 rho_h < ${floor} → 0.`,
  '',
  '### Targets (voxels the target occupies: true log10 rho_h ≥ floor)',
  '',
  mdTable(['channel', 'target 16–84%', 'predicted median on them', 'median in band', 'min r(k), k ≤ 1 h/Mpc', 'r ≥ 0.8'], targetRows),
  '',
  `All targets met: **${allMet ? 'yes' : 'no'}**.`,
  '',
  '### Log-density distribution (voxels with log10 rho_h ≥ floor)',
  '',
  mdTable(['channel', 'voxels > floor (truth)', 'voxels > floor (pred)', 'median truth', 'median pred', '16–84% truth', '16–84% pred'], rows),
  '',
  'Plots: `docs/validation/halogen-pdf-ch{1..4}.png` (median and 16–84 % of the prediction in bins of the true log density), ' +
    '`docs/validation/halogen-pk-ch{1..4}.png` (P(k) of the channel overdensity, ratio and r(k)), `docs/validation/halogen-slices.png` (slab projections, truth vs prediction), ' +
    '`docs/validation/halogen-loss.png` (training and validation loss).',
  '',
  '### P(k) ratio and r(k) against the truth',
  '',
  mdTable(['channel', 'k [h/Mpc]', 'P_pred/P_true', 'r(k)'], pkRows),
  '',
  `Command: \`npm run validate -- halogen ${process.argv.slice(2).join(' ')}\`.`,
].join('\n');
writeSection('VALIDATION.md', 'halogen', body);
process.stdout.write(body + '\n');
