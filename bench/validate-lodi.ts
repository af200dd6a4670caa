/**
 * LODI validation (issue: LODI checks): the model alone, conditioned on the *true* halo channels of
 * unseen simulated worlds (initial-condition seeds no model trained on), several T_b realisations
 * per world, evaluated against the worlds' own T_b: the ratio P_gen/P_true of T̂_b = T_b/⟨T_b⟩ (mean
 * and spread over realisations, as the paper's Fig. 10–11), r(k), the one-point PDF, and the
 * stitching diagnostics of latent overlap against tiling and averaging.
 *
 *   npm run validate -- lodi [--model models/lodi-cpu/best.safetensors] [--seeds 401,402] [--particles 64]
 *                            [--realizations 5] [--steps 50] [--reuse] [--report-only]
 *
 * --report-only rewrites the section from the report of an earlier run (no generation, no evaluation).
 *
 * Worlds are simulated under runs/validate-lodi/ (kept between runs with --reuse) at the bundled
 * models' voxel (25/128 Mpc/h). Results: VALIDATION.md section "lodi", plots docs/validation/lodi-*.png.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { arg, machineLine, mdTable, repoRoot, writeSection } from './lib.js';
import { simulateWorld } from '../src/pipeline/simulate.js';
import { runPipeline } from '../src/pipeline/run.js';
import { evaluateRun } from '../src/pipeline/evaluate.js';
import { BUNDLED } from '../src/pipeline/models.js';

const model = arg('model', BUNDLED.lodi);
const seeds = arg('seeds', '401,402').split(',').map(Number);
const particles = Number(arg('particles', '64'));
const R = Number(arg('realizations', '5'));
const steps = Number(arg('steps', '50'));
const reuse = process.argv.includes('--reuse');
const reportOnly = process.argv.includes('--report-only');
const voxel = 25 / 128;
const root = join(repoRoot, 'runs', 'validate-lodi');
mkdirSync(root, { recursive: true });
const t0 = Date.now();
const runs: string[] = [];
const truths: string[] = [];
for (const [i, seed] of reportOnly ? [] : seeds.entries()) {
  const world = join(root, `world-${seed}-${particles}`);
  if (!(reuse && existsSync(join(world, 'tb.npy')))) {
    rmSync(world, { recursive: true, force: true });
    await simulateWorld({ out: world, boxSize: particles * voxel, particles, grid: particles, redshift: 0, seed, noPlots: true, quiet: true });
  }
  const run = join(root, `run-${seed}-${particles}-s${steps}`);
  await runPipeline({
    dm: join(world, 'dm.npy'),
    halos: join(world, 'halos.npy'),
    lodi: model,
    out: run,
    realizations: R,
    seed: 1,
    steps,
    baselines: i === 0,
    resume: reuse,
    force: !reuse,
    quiet: true,
    command: `npm run validate -- lodi`,
  });
  runs.push(run);
  truths.push(world);
}
const report = join(root, `report-${particles}-s${steps}`);
if (!reportOnly) await evaluateRun({ runs, truths, out: report, force: true, quiet: true, command: 'npm run validate -- lodi' });
const metrics = JSON.parse(readFileSync(join(report, 'metrics.json'), 'utf8')) as Record<string, unknown>;
const plots = join(repoRoot, 'docs', 'validation');
mkdirSync(plots, { recursive: true });
const pngs = readdirSync(report).filter((f) => f.endsWith('.png') && (f.startsWith('tb-') || f === 'stitching.png'));
for (const f of pngs) copyFileSync(join(report, f), join(plots, `lodi-${f}`));
interface Metrics {
  mean_abs_residual_k_le_10: number;
  max_abs_residual_k_le_10: number;
  r_at_k_1: number;
  fields: number;
  realizations: number;
  k_range: { k_max: number };
  residual: { k: number[]; mean: number[]; bootstrap_std: number[] };
  r: { k: number[]; mean: number[] };
  stitching?: { maps: Record<string, { face_jump_ratio?: number; lattice_excess?: number; lattice_noise?: number; r_single_at_k_1?: number }> };
}
const m = metrics as unknown as Metrics;
const f2 = (v: number | undefined): string => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(2) : '—');
const kRows = m.residual.k.flatMap((k, i) => (k <= m.k_range.k_max + 1e-9 ? [[k.toFixed(2), `${m.residual.mean[i]! >= 0 ? '+' : ''}${m.residual.mean[i]!.toFixed(2)} ± ${m.residual.bootstrap_std[i]!.toFixed(2)}`, f2(m.r.mean[i])]] : []));
const st = m.stitching?.maps ?? {};
const stRows = Object.entries(st).map(([name, v]) => [name, f2(v.face_jump_ratio), v.lattice_excess !== undefined ? v.lattice_excess.toFixed(3) : '—', f2(v.r_single_at_k_1)]);
const body = [
  `Machine: ${machineLine()}. Command: \`npm run validate -- lodi --seeds ${seeds.join(',')} --particles ${particles} --realizations ${R} --steps ${steps}\`${reportOnly ? ' (section rewritten from the report with --report-only)' : `; ${((Date.now() - t0) / 60000).toFixed(1)} min`}.`,
  '',
  `LODI alone: model \`${model.replace(repoRoot + '/', '')}\` conditioned on the **true** halo channels of ${seeds.length} unseen world(s) ` +
    `(seeds ${seeds.join(', ')}; ${particles}^3 voxels of ${voxel.toFixed(4)} Mpc/h), ${R} realisations each, latent overlap, ${steps} sampling steps; ` +
    'tiling, averaging and single-pass baselines for the first world. Spectra are of T̂_b = T_b/⟨T_b⟩, truth smoothed as in training.',
  '',
  mdTable(['metric', 'value', 'target'], [
    [`mean |P_gen/P_true − 1|, k ≤ ${m.k_range.k_max.toFixed(1)} h/Mpc`, m.mean_abs_residual_k_le_10.toFixed(3), '≤ 0.10'],
    ['max |P_gen/P_true − 1|', m.max_abs_residual_k_le_10.toFixed(3), '—'],
    ['r(k = 1 h/Mpc)', m.r_at_k_1.toFixed(3), '≥ 0.9'],
    ['fields × realisations', `${m.fields} × ${m.realizations}`, '—'],
  ]),
  '',
  'Per k bin: mean residual over the realisations ± its bootstrap error, and r(k) of generated and true T̂_b.',
  '',
  mdTable(['k [h/Mpc]', 'P_gen/P_true − 1', 'r(k)'], kRows),
  '',
  ...(stRows.length
    ? ['Stitching (first world, realisation 0): face-gradient jump ratio (1 = no seam; the truth row shows the scatter of this measure on one map), excess power at the box-lattice harmonics, r with the single-pass map at k = 1.', '', mdTable(['map', 'face jump ratio', 'lattice excess', 'r with single pass, k = 1'], stRows), '']
    : []),
  `Full report: \`runs/validate-lodi/report-${particles}-s${steps}/report.html\`; metrics.json holds every number.`,
  '',
  ...pngs.filter((f) => f.startsWith('tb-') || f === 'stitching.png').map((f) => `![${f}](docs/validation/lodi-${f})`),
].join('\n');
writeSection('VALIDATION.md', 'lodi', body);
process.stderr.write(`validate lodi: ${report}\n`);
