import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preset } from '../../src/halogen/config.js';
import { trainHalogen } from '../../src/halogen/train.js';
import { lodiPreset } from '../../src/lodi/config.js';
import { trainLodi } from '../../src/lodi/train.js';
import { runDemo } from '../../src/pipeline/demo.js';
import { simulateWorld } from '../../src/pipeline/simulate.js';

// The README's first command end to end (world → lodi run → lodi evaluate → metrics.json), on tiny models trained here
// so that it takes seconds; `lodi demo` runs the same code on the bundled models.
test('demo: an unseen world at the LODI voxel, the run with baselines and the report; a training seed is refused first', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lodi-demo-'));
  try {
    const voxel = 0.25; // not the bundled models' 25/128: the demo must take it from the given LODI
    const train = join(root, 'w5');
    await simulateWorld({ out: train, boxSize: 32 * voxel, particles: 32, seed: 5, noPlots: true, quiet: true });
    const hcfg = preset('tiny');
    hcfg.train.epochs = 1;
    await trainHalogen({ worlds: [train], config: hcfg, out: join(root, 'halogen'), seed: 1, quiet: true });
    const lcfg = lodiPreset('tiny');
    lcfg.train.steps = 4;
    lcfg.train.evalEvery = 4;
    await trainLodi({ worlds: [train], config: lcfg, out: join(root, 'lodi'), seed: 1, quiet: true });
    const models = { halogen: join(root, 'halogen'), lodi: join(root, 'lodi') };
    const demo = join(root, 'demo');

    await assert.rejects(runDemo({ out: demo, particles: 32, seed: 5, realizations: 1, quiet: true, ...models }), /^Error: lodi demo: --seed 5 made \S*w5, a world the given HALOgen trained on/);
    assert.equal(existsSync(demo), false, 'nothing written for a refused seed');

    const out = await runDemo({ out: demo, particles: 32, seed: 6, realizations: 2, quiet: true, ...models });
    assert.equal(out, demo);
    const world = JSON.parse(readFileSync(join(out, 'world', 'dm.json'), 'utf8')) as { boxSize: number; shape: number[] };
    assert.equal(world.boxSize, 32 * voxel, 'the box keeps the LODI voxel');
    const run = JSON.parse(readFileSync(join(out, 'run', 'run.json'), 'utf8')) as { realizations: number; models: { halogen: { file: string }; lodi: { file: string } }; files: { baselines: Record<string, string> } };
    assert.equal(run.realizations, 2);
    assert.ok(run.models.halogen.file.startsWith(join(root, 'halogen')), run.models.halogen.file);
    assert.ok(run.models.lodi.file.startsWith(join(root, 'lodi')), run.models.lodi.file);
    assert.deepEqual(Object.keys(run.files.baselines).sort(), ['single', 'tiling']);
    const metrics = readFileSync(join(out, 'metrics.json'), 'utf8');
    assert.equal(metrics, readFileSync(join(out, 'report', 'metrics.json'), 'utf8'), 'metrics.json beside the report is the report\'s');
    const m = JSON.parse(metrics) as { fields: number; realizations: number; mean_abs_residual_k_le_10: number; r_at_k_1: number | null; k_range: { k_min: number }; halos: unknown[] };
    assert.equal(m.fields, 1);
    assert.equal(m.realizations, 2);
    assert.ok(Number.isFinite(m.mean_abs_residual_k_le_10));
    // a small box may have no k bin at or below 1 h/Mpc: r(k = 1) is undefined (null), not extrapolated
    if (m.k_range.k_min > 1) assert.equal(m.r_at_k_1, null);
    else assert.ok(Number.isFinite(m.r_at_k_1));
    assert.equal(m.halos.length, 4);
    assert.ok(existsSync(join(out, 'report', 'report.html')));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
