import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, Generator, tidy, type Tensor } from '@lodi/torch';
import { loadLodi } from '../../src/lodi/checkpoint.js';
import { cropPeriodic } from '../../src/lodi/dataset.js';
import { boxSeed, generateBoxes, memoryCond, memoryStore, sampleBoxes } from '../../src/lodi/generate.js';
import { planStages } from '../../src/lodi/planner.js';
import { haloForward } from '../../src/lodi/transform.js';
import type { LodiModel } from '../../src/lodi/vdm.js';
import { syntheticPair, tinyModel } from './helpers.js';

/** The first `n` noise draws of box `id`, each [crop^3], in the order sampleBoxes draws them. */
function boxDraws(seed: number, id: number, crop: number, n: number): Float32Array[] {
  const g = new Generator(boxSeed(seed, id));
  return Array.from({ length: n }, () => tidy(() => F.randn([1, 1, crop, crop, crop], g).toFloat32Array()));
}

/** Wraps the model's ancestral step to record its input z_t and output z_s at every call. */
function recordSteps(model: LodiModel): { calls: { i: number; zIn: Float32Array; zOut: Float32Array }[]; restore: () => void } {
  const calls: { i: number; zIn: Float32Array; zOut: Float32Array }[] = [];
  const orig = model.ancestralStep.bind(model);
  model.ancestralStep = (z: Tensor, cond: Tensor, i: number, noise: Tensor, denoiser?: (z: Tensor, g: Tensor, c: Tensor) => Tensor, steps?: number): Tensor => {
    const out = orig(z, cond, i, noise, denoiser, steps);
    calls.push({ i, zIn: z.toFloat32Array(), zOut: out.toFloat32Array() });
    return out;
  };
  return { calls, restore: () => void (model.ancestralStep = orig) };
}

test('latent overlap: before every denoiser call the known region holds α_t x_known + σ_t ε_known, the rest the box own latent', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-blend-'));
  try {
    const { model, meta } = loadLodi(await tinyModel(dir));
    const crop = model.cfg.data.crop;
    const c3 = crop ** 3;
    const T = 5;
    const seed = 9;
    const ids = [3, 8];
    const cond = haloForward(cropPeriodic(syntheticPair(32, 3).halos, 4, 32, [0, 0, 0], crop), 4, meta.normalisation);
    const condB = new Float32Array(2 * cond.length);
    condB.set(cond, 0);
    condB.set(cond, cond.length);
    // box 0 knows the voxels with x < 4 (a face of width 4, as the planner's overlap), box 1 knows nothing
    const values = new Float32Array(2 * c3);
    const mask = new Float32Array(2 * c3);
    for (let v = 0; v < c3; v++) {
      values[v] = Math.sin(0.37 * v);
      if (Math.floor(v / (crop * crop)) < 4) mask[v] = 1;
    }
    for (const fresh of [false, true]) {
      model.eval();
      const rec = recordSteps(model);
      try {
        sampleBoxes(model, ids, condB, { values, mask }, { seed, steps: T, freshKnownNoise: fresh });
      } finally {
        rec.restore();
      }
      assert.deepEqual(
        rec.calls.map((c) => c.i),
        [5, 4, 3, 2, 1],
      );
      // draws per box: z_T, ε_known, then per step (a fresh ε_known when asked and) the step's noise
      const draws = ids.map((id) => boxDraws(seed, id, crop, 2 + T * (fresh ? 2 : 1)));
      let worstKnown = 0;
      let worstOwn = 0;
      rec.calls.forEach((c, step) => {
        const { alpha, sigma } = model.alphaSigma(c.i, T);
        for (let b = 0; b < 2; b++) {
          const eps = fresh ? draws[b]![2 + 2 * step]! : draws[b]![1]!;
          const prev = step === 0 ? draws[b]![0]! : rec.calls[step - 1]!.zOut.subarray(b * c3, (b + 1) * c3);
          for (let v = 0; v < c3; v++) {
            const got = c.zIn[b * c3 + v]!;
            if (mask[b * c3 + v] === 1) worstKnown = Math.max(worstKnown, Math.abs(got - (alpha * values[b * c3 + v]! + sigma * eps[v]!)));
            else worstOwn = Math.max(worstOwn, Math.abs(got - prev[v]!));
          }
        }
      });
      assert.ok(worstKnown < 1e-5, `fresh ${fresh}: known region off by ${worstKnown}`);
      assert.ok(worstOwn < 1e-6, `fresh ${fresh}: own latent changed by ${worstOwn}`);
    }
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('latent overlap: no voxel written by an earlier stage changes in a later one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-keep-'));
  try {
    const { model, meta } = loadLodi(await tinyModel(dir));
    const crop = model.cfg.data.crop;
    const n = 40;
    const size: [number, number, number] = [n, n, n];
    const cond = haloForward(cropPeriodic(syntheticPair(48, 5).halos, 4, 48, [0, 0, 0], n), 4, meta.normalisation);
    const plan = planStages({ size, box: crop, overlap: 4, periodic: true });
    // unwritten voxels hold a sentinel (finite: the blend z + (x_t - z) * mask multiplies unknown voxels by 0, and
    // the stores start at zero); a leak of an unknown voxel into a box would show as a value of order 1e30
    const UNSET = Math.fround(-1e30);
    const y = new Float32Array(n ** 3).fill(UNSET);
    const store = memoryStore(y, size);
    const src = memoryCond(cond, 4, size);
    let before: Float32Array | null = null;
    for (const [s, stage] of plan.stages.entries()) {
      await generateBoxes(model, plan, stage, src, store, { seed: 2, steps: 3 });
      if (before) {
        for (let v = 0; v < y.length; v++) {
          if (before[v] !== UNSET) assert.equal(y[v], before[v], `stage ${s} changed voxel ${v}`);
        }
      }
      before = y.slice();
    }
    const bad = y.filter((v) => !(Math.abs(v) < 1e6)).length;
    assert.equal(bad, 0, `every voxel written once with a finite value: ${bad} unset or non-finite`);
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
