import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors } from '@lodi/torch';
import { loadGrid, saveGrid } from '../../src/io/grid.js';
import { loadLodi } from '../../src/lodi/checkpoint.js';
import { cropPeriodic } from '../../src/lodi/dataset.js';
import { boxSeed, generateStandardised, generateStandardisedMany, realisationsPerPass } from '../../src/lodi/generate.js';
import { planStages } from '../../src/lodi/planner.js';
import { haloForward } from '../../src/lodi/transform.js';
import { generateRun } from '../../src/pipeline/generate.js';
import { syntheticPair, tinyModel, writeSyntheticHalos } from './helpers.js';

test('lodi generate: finite non-negative T_b with sidecars, reproducible per seed, every method, any size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-gen-'));
  try {
    const model = await tinyModel(dir);
    const n = 24;
    const { path: hp, halos } = writeSyntheticHalos(dir, n, 9);
    const live = liveTensors();
    const r = await generateRun({ halos: hp, model, out: join(dir, 'tb.npy'), realizations: 2, seed: 5, steps: 10, quiet: true });
    assert.deepEqual(r.seeds, [5, 6]);
    const a = loadGrid(join(dir, 'tb_0.npy'));
    const b = loadGrid(join(dir, 'tb_1.npy'));
    assert.deepEqual(a.shape, [n, n, n]);
    assert.equal(a.meta.unit, 'mK');
    assert.ok(a.data.every((v) => Number.isFinite(v) && v >= 0));
    assert.notDeepEqual(a.data, b.data, 'two realisations differ');
    const side = JSON.parse(readFileSync(join(dir, 'tb_0.json'), 'utf8'));
    assert.equal(side.provenance.seed, 5);
    assert.equal(side.provenance.method, 'overlap');
    assert.match(side.provenance.modelSha256, /^[0-9a-f]{64}$/);
    // same command and seed → the same maps, bit for bit; outputs are not overwritten without --force
    await assert.rejects(() => generateRun({ halos: hp, model, out: join(dir, 'tb.npy'), realizations: 2, seed: 5, steps: 10, quiet: true }), /exists|--force/);
    await generateRun({ halos: hp, model, out: join(dir, 'again.npy'), realizations: 2, seed: 5, steps: 10, quiet: true });
    assert.deepEqual(loadGrid(join(dir, 'again_0.npy')).data, a.data);
    assert.deepEqual(loadGrid(join(dir, 'again_1.npy')).data, b.data);
    // the realisations were generated together (shared batches); each alone is the same map up to the
    // rounding of batched convolutions
    for (const [seed, ref] of [[5, a.data], [6, b.data]] as const) {
      await generateRun({ halos: hp, model, out: join(dir, `alone${seed}.npy`), seed, steps: 10, quiet: true });
      const alone = loadGrid(join(dir, `alone${seed}.npy`)).data;
      let maxDiff = 0;
      let maxAbs = 0;
      for (let i = 0; i < ref.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(alone[i]! - ref[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(ref[i]!));
      }
      assert.ok(maxDiff <= 1e-4 * maxAbs, `seed ${seed} alone vs with another realisation: max |ΔT_b| ${maxDiff} of max ${maxAbs}`);
    }
    for (const method of ['tiling', 'average'] as const) {
      await generateRun({ halos: hp, model, out: join(dir, `${method}.npy`), seed: 5, method, steps: 10, quiet: true });
      const t = loadGrid(join(dir, `${method}.npy`)).data;
      assert.ok(t.every((v) => Number.isFinite(v) && v >= 0));
    }
    assert.equal(liveTensors(), live, 'generation leaves no tensors alive');
    // a box that breaks the model's data contract is refused (voxel 0.4 instead of 0.2 Mpc/h)
    const bad = join(dir, 'bad.npy');
    saveGrid(bad, { data: halos, shape: [4, n, n, n], meta: { boxSize: n * 0.4, quantity: 'halo_mass_density', unit: '(Msun/h)/(Mpc/h)^3' } });
    await assert.rejects(() => generateRun({ halos: bad, model, out: join(dir, 'x.npy'), seed: 1, quiet: true }), /voxel 0\.4000 Mpc\/h.*0\.2000 Mpc\/h/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('latent overlap: the sampler is batch-size independent and tiling differs from overlap only where boxes meet', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-gen2-'));
  try {
    const { model, meta } = loadLodi(await tinyModel(dir));
    const n = 24;
    const cond = haloForward(cropPeriodic(syntheticPair(32, 3).halos, 4, 32, [0, 0, 0], n), 4, meta.normalisation);
    const a = await generateStandardised(model, cond, [n, n, n], { seed: 4, batch: 8, steps: 10 });
    const b = await generateStandardised(model, cond, [n, n, n], { seed: 4, batch: 1, steps: 10 });
    // every sub-volume has its own seeded noise: only float rounding of batched kernels may differ
    let maxDiff = 0;
    for (let i = 0; i < a.y.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a.y[i]! - b.y[i]!));
    assert.ok(maxDiff < 1e-3, `batch 8 vs 1: max |Δy| = ${maxDiff}`);
    // several realisations in shared batches: each as if generated alone (batched rounding only), for the
    // stitching methods that read earlier stages (overlap) and those that do not (tiling, average)
    for (const method of ['overlap', 'tiling', 'average'] as const) {
      const many = await generateStandardisedMany(model, cond, [n, n, n], [4, 7], { method, batch: 3, steps: 10 });
      for (const [r, seed] of [4, 7].entries()) {
        const alone = await generateStandardised(model, cond, [n, n, n], { seed, method, batch: 8, steps: 10 });
        let d = 0;
        for (let i = 0; i < alone.y.length; i++) d = Math.max(d, Math.abs(alone.y[i]! - many.ys[r]![i]!));
        assert.ok(d < 1e-3, `${method}, seed ${seed}: max |Δy| together vs alone = ${d}`);
      }
      let apart = 0;
      for (let i = 0; i < many.ys[0]!.length; i++) apart = Math.max(apart, Math.abs(many.ys[0]![i]! - many.ys[1]![i]!));
      assert.ok(apart > 0.1, `${method}: the two realisations differ (max |Δy| ${apart})`);
    }
    // the first stage is generated identically by both methods (no known region yet)
    const t = await generateStandardised(model, cond, [n, n, n], { seed: 4, method: 'tiling', steps: 10 });
    const first = a.plan.stages[0]![0]!;
    const o = first.origin;
    assert.ok(Math.abs(a.y[(o[0] * n + o[1]) * n + o[2]]! - t.y[(o[0] * n + o[1]) * n + o[2]]!) < 1e-3);
    let differ = 0;
    for (let i = 0; i < a.y.length; i++) if (Math.abs(a.y[i]! - t.y[i]!) > 1e-3) differ++;
    assert.ok(differ > 0, 'latent overlap changes the later boxes');
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('realisationsPerPass: as many realisations as fill a batch of one stage (latent overlap) or of all boxes (tiling)', () => {
  const p64 = planStages({ size: [64, 64, 64], box: 32, overlap: 4, periodic: true });
  assert.equal(p64.stages.length, p64.boxes.length, 'a 64^3 periodic box: one sub-volume per stage');
  assert.equal(realisationsPerPass(p64, 'overlap', 8), 8);
  assert.equal(realisationsPerPass(p64, 'overlap', 1), 1);
  assert.equal(realisationsPerPass(p64, 'tiling', 8), 1, `${p64.boxes.length} independent boxes fill batches of 8 alone`);
  assert.equal(realisationsPerPass(p64, 'single', 8), 1);
  const p128 = planStages({ size: [128, 128, 128], box: 32, overlap: 4, periodic: true });
  assert.equal(realisationsPerPass(p128, 'overlap', 8), Math.ceil(8 / (p128.boxes.length / p128.stages.length)));
});

test('boxSeed: the 32-bit mixing of an exact (BigInt) reference for every seed up to 2^32 - 1', () => {
  const M = (1n << 32n) - 1n;
  const ref = (seed: number, box: number): number => {
    let h = Number((BigInt(seed) * 0x9e3779b1n + BigInt(box) * 0x85ebca77n + 0x165667b1n) & M);
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
    return (h ^ (h >>> 16)) & 0x7fffffff;
  };
  for (const seed of [0, 1, 2, 12345, 3_000_000, 2 ** 21 + 7, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 2, 2 ** 32 - 1])
    for (const box of [0, 1, 63, 728, 4095]) assert.equal(boxSeed(seed, box), ref(seed, box), `seed ${seed}, box ${box}`);
  // neighbouring large seeds give different streams (float64 products rounded them together before)
  const big = [2 ** 32 - 1, 2 ** 32 - 2, 2 ** 32 - 3, 2 ** 32 - 4].map((s) => boxSeed(s, 0));
  assert.equal(new Set(big).size, 4);
});
