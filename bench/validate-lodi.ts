/**
 * LODI validation (issue: LODI checks): the model alone, conditioned on the *true* halo channels of
 * unseen simulated worlds (initial-condition seeds no model trained on), several T_b realisations
 * per world, evaluated against the worlds' own T_b: the ratio P_gen/P_true of T̂_b = T_b/⟨T_b⟩ (mean
 * and spread over realisations, as the paper's Fig. 10–11), r(k), the one-point PDF, and the
 * stitching diagnostics of latent overlap against tiling and averaging.
 *
 *   npm run validate -- lodi [--model models/lodi-cpu/best.safetensors] [--seeds 401,402] [--particles 64]
 *                            [--realizations 5] [--steps 50] [--reuse]
 *
 * Worlds are simulated under runs/validate-lodi/ (kept between runs with --reuse) at the bundled
 * models' voxel (25/128 Mpc/h). Results: VALIDATION.md section "lodi", plots docs/validation/lodi-*.png.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { machineLine, mdTable, repoRoot, writeSection } from './lib.js';
import { simulateWorld } from '../src/pipeline/simulate.js';
import { runPipeline } from '../src/pipeline/run.js';
import { evaluateRun } from '../src/pipeline/evaluate.js';
import { BUNDLED } from '../src/pipeline/models.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}
const model = arg('model', BUNDLED.lodi);
const seeds = arg('seeds', '401,402').split(',').map(Number);
const particles = Number(arg('particles', '64'));
const R = Number(arg('realizations', '5'));
const steps = Number(arg('steps', '50'));
const reuse = process.argv.includes('--reuse');
const voxel = 25 / 128;
const root = join(repoRoot, 'runs', 'validate-lodi');
mkdirSync(root, { recursive: true });
const t0 = Date.now();
const runs: string[] = [];
const truths: string[] = [];
for (const [i, seed] of seeds.entries()) {
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
await evaluateRun({ runs, truths, out: report, force: true, quiet: true, command: 'npm run validate -- lodi' });
const metrics = JSON.parse(readFileSync(join(report, 'metrics.json'), 'utf8')) as Record<string, unknown>;
const plots = join(repoRoot, 'docs', 'validation');
mkdirSync(plots, { recursive: true });
const pngs = readdirSync(report).filter((f) => f.endsWith('.png'));
for (const f of pngs) copyFileSync(join(report, f), join(plots, `lodi-${f}`));
const num = (v: unknown): string => (typeof v === 'number' ? v.toPrecision(3) : String(v));
const flat = Object.entries(metrics).filter(([, v]) => typeof v === 'number' || typeof v === 'string');
const body = [
  `Machine: ${machineLine()}. Command: \`npm run validate -- lodi --seeds ${seeds.join(',')} --particles ${particles} --realizations ${R} --steps ${steps}\`; ${((Date.now() - t0) / 60000).toFixed(1)} min.`,
  '',
  `LODI alone: model \`${model.replace(repoRoot + '/', '')}\` conditioned on the **true** halo channels of ${seeds.length} unseen worlds ` +
    `(seeds ${seeds.join(', ')}; ${particles}^3 voxels of ${voxel.toFixed(4)} Mpc/h), ${R} realisations each, latent overlap, ${steps} sampling steps; ` +
    'tiling and averaging baselines for the first world. Spectra are of T̂_b = T_b/⟨T_b⟩, truth smoothed as in training.',
  '',
  mdTable(['metric', 'value'], flat.map(([k, v]) => [k, num(v)])),
  '',
  `Full report: \`runs/validate-lodi/report-${particles}-s${steps}/report.html\`; metrics.json holds the per-k and stitching numbers.`,
  '',
  ...pngs.map((f) => `![${f}](docs/validation/lodi-${f})`),
].join('\n');
writeSection('VALIDATION.md', 'lodi', body);
process.stderr.write(`validate lodi: ${report}\n`);
