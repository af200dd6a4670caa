/**
 * Fine-tuning LODI: `init` (start from a trained model's weights, normalisation and split) and
 * `halosFile` (train on another halo-channel file of each world, e.g. HALOgen's prediction).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors } from '@lodi/torch';
import { loadGrid, saveGrid } from '../../src/io/grid.js';
import { lodiPreset } from '../../src/lodi/config.js';
import { loadLodi, lodiTrainedWorlds } from '../../src/lodi/checkpoint.js';
import { loadPair } from '../../src/lodi/dataset.js';
import { trainLodi } from '../../src/lodi/train.js';
import { writeSyntheticTbWorld } from '../halogen/helpers.js';
import { syntheticPair } from './helpers.js';

function config(steps: number, lr?: number) {
  const cfg = lodiPreset('tiny');
  cfg.train.steps = steps;
  cfg.train.evalEvery = 5;
  if (lr !== undefined) cfg.train.lr = lr;
  return cfg;
}

function weightsOf(path: string): Map<string, Float32Array> {
  const m = loadLodi(path);
  try {
    return new Map([...m.model.stateDict()].map(([k, t]) => [k, t.toFloat32Array()]));
  } finally {
    m.model.dispose();
  }
}

test('init: a run starts from the given model (weights, normalisation, split) and records it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-init-'));
  try {
    const pairs = [syntheticPair(32, 1)];
    const a = await trainLodi({ worlds: pairs, config: config(10), out: join(dir, 'a'), seed: 3, quiet: true });
    const live = liveTensors();
    // learning rate 0 (and no weight decay in the tiny preset): the fine-tuned weights must stay those it started from
    const b = await trainLodi({ worlds: pairs, config: config(5, 0), out: join(dir, 'b'), seed: 9, quiet: true, init: join(dir, 'a') });
    assert.equal(liveTensors(), live, 'no tensors left alive');
    const wa = weightsOf(join(dir, 'a'));
    const wb = weightsOf(join(dir, 'b'));
    assert.equal(wb.size, wa.size);
    for (const [k, v] of wa) assert.deepEqual(wb.get(k), v, k);
    assert.deepEqual(b.meta.normalisation, a.meta.normalisation);
    assert.deepEqual(b.meta.split, a.meta.split, 'same worlds: the split of the model it starts from');
    assert.equal(b.meta.step, 5);
    assert.equal(b.meta.init?.step, 10);
    assert.match(b.meta.init?.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.match(readFileSync(join(dir, 'b', 'train.log'), 'utf8'), /starting from .*best\.safetensors \(step 10\)/);

    // the control: the same run without init does not hold a's weights
    await trainLodi({ worlds: pairs, config: config(5, 0), out: join(dir, 'c'), seed: 9, quiet: true });
    const wc = weightsOf(join(dir, 'c'));
    assert.ok([...wa].some(([k, v]) => JSON.stringify([...wc.get(k)!]) !== JSON.stringify([...v])), 'random initial weights differ from the model');

    // other worlds: a split of their own
    const d = await trainLodi({ worlds: [syntheticPair(32, 2)], config: config(5, 0), out: join(dir, 'd'), seed: 9, quiet: true, init: join(dir, 'a') });
    assert.equal(d.meta.split.seed, d.meta.seeds.split);
    assert.deepEqual(d.meta.normalisation, a.meta.normalisation, 'the weights go with their normalisation');
    // the worlds the starting model trained on stay training data of the fine-tuned one, through two generations
    assert.deepEqual(d.meta.init?.worlds?.map((w) => w.dir), a.meta.worlds.map((w) => w.dir));
    const e = await trainLodi({ worlds: [syntheticPair(32, 3)], config: config(5, 0), out: join(dir, 'e'), seed: 9, quiet: true, init: join(dir, 'd') });
    assert.deepEqual(lodiTrainedWorlds(e.meta).map((w) => w.dir), [...e.meta.worlds, ...d.meta.worlds, ...a.meta.worlds].map((w) => w.dir));
    assert.equal(new Set(lodiTrainedWorlds(e.meta).map((w) => w.dir)).size, 3, 'three different worlds');
    assert.deepEqual(lodiTrainedWorlds(b.meta).map((w) => w.dir), a.meta.worlds.map((w) => w.dir), 'the same worlds are listed once');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('init: a model of another network is refused with one line naming the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-init-bad-'));
  try {
    const pairs = [syntheticPair(32, 1)];
    await trainLodi({ worlds: pairs, config: config(5), out: join(dir, 'a'), seed: 3, quiet: true });
    const other = config(5);
    other.net.widths = [8, 16, 16];
    await assert.rejects(() => trainLodi({ worlds: pairs, config: other, out: join(dir, 'b'), seed: 3, quiet: true, init: join(dir, 'a') }), /--init .*best\.safetensors: config\.net /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('halosFile: LODI reads the named halo channels of each world, checked as halos.npy is', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-halosfile-'));
  try {
    const w = join(dir, 'w');
    writeSyntheticTbWorld(w, 32, 4);
    const truth = loadGrid(join(w, 'halos.npy'));
    const alt = Float32Array.from(truth.data, (v) => 2 * v);
    saveGrid(join(w, 'halos_pred.npy'), { ...truth, data: alt });
    assert.deepEqual(loadPair(w, 'halos_pred.npy').halos, alt);
    assert.deepEqual(loadPair(w).halos, truth.data);

    // a grid that does not fit the world: N, then unit
    saveGrid(join(w, 'halos_16.npy'), { shape: [4, 16, 16, 16], data: new Float32Array(4 * 16 ** 3), meta: { ...truth.meta, boxSize: 1.6 } });
    assert.throws(() => loadPair(w, 'halos_16.npy'), /halos_16\.npy.*grid.*N = 32/);
    saveGrid(join(w, 'halos_unit.npy'), { ...truth, meta: { ...truth.meta, unit: 'Msun/Mpc^3' } });
    assert.throws(() => loadPair(w, 'halos_unit.npy'), /halos_unit\.json.*unit/);
    assert.throws(() => loadPair(w, 'halos_missing.npy'), /halos_missing\.npy.*missing/);

    const r = await trainLodi({ worlds: [w], config: config(5), out: join(dir, 'run'), seed: 1, quiet: true, halosFile: 'halos_pred.npy' });
    assert.equal(r.meta.worlds[0]!.halosFile, 'halos_pred.npy');
    const plain = await trainLodi({ worlds: [w], config: config(5), out: join(dir, 'run2'), seed: 1, quiet: true });
    assert.equal(plain.meta.worlds[0]!.halosFile, undefined);
    // the halo normalisation is measured on the channels trained on: log10(2ρ) = log10 ρ + 0.301 where ρ > 0
    const shift = r.meta.normalisation.haloMean.map((m, c) => m - plain.meta.normalisation.haloMean[c]!);
    for (const s of shift) assert.ok(s > 0 && s < Math.log10(2) + 1e-6, `halo mean shift ${s}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
