import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors } from '@lodi/torch';
import { lodiPreset } from '../../src/lodi/config.js';
import { loadLodi } from '../../src/lodi/checkpoint.js';
import { trainLodi } from '../../src/lodi/train.js';
import { syntheticPair } from './helpers.js';

function config(steps: number) {
  const cfg = lodiPreset('tiny');
  cfg.train.steps = steps;
  cfg.train.evalEvery = 5;
  return cfg;
}

test('a tiny LODI trains: the loss falls and the run directory holds every file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-train-'));
  try {
    const pairs = [syntheticPair(32, 1), syntheticPair(32, 2)];
    const live = liveTensors();
    const r = await trainLodi({ worlds: pairs, config: config(40), out: join(dir, 'run'), seed: 3, quiet: true });
    assert.equal(r.meta.step, 40);
    const h = r.meta.history;
    assert.equal(h.length, 8);
    // the loss at initialisation is dominated by ε̂ = z_t; a few dozen steps must lower it clearly
    assert.ok(h.at(-1)!.train.total < 0.7 * h[0]!.train.total, `train ${h[0]!.train.total} → ${h.at(-1)!.train.total}`);
    assert.ok(h.at(-1)!.val.total < h[0]!.val.total, `val ${h[0]!.val.total} → ${h.at(-1)!.val.total}`);
    for (const f of ['checkpoint.safetensors', 'best.safetensors', 'history.csv', 'split.json', 'train.log']) assert.ok(existsSync(join(dir, 'run', f)), f);
    const split = JSON.parse(readFileSync(join(dir, 'run', 'split.json'), 'utf8'));
    assert.equal(split.train.length + split.val.length, 2 * 8);
    assert.equal(liveTensors(), live, 'training leaves no tensors alive');
    const m = loadLodi(join(dir, 'run'));
    assert.equal(m.meta.normalisation.tbUnit, 'mK');
    assert.equal(m.meta.contract.voxel, 0.2);
    m.model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('resume after a kill continues on the same trajectory (bit-identical weights and history)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-resume-'));
  try {
    const pairs = [syntheticPair(32, 4)];
    const full = await trainLodi({ worlds: pairs, config: config(14), out: join(dir, 'a'), seed: 7, quiet: true });
    const part = await trainLodi({ worlds: pairs, config: config(14), out: join(dir, 'b'), seed: 7, quiet: true, stopAfterStep: 7 });
    assert.equal(part.stopped, true);
    assert.equal(part.meta.step, 7);
    await assert.rejects(() => trainLodi({ worlds: pairs, config: config(14), out: join(dir, 'b'), seed: 7, quiet: true }), /--resume/);
    const rest = await trainLodi({ worlds: pairs, config: config(14), out: join(dir, 'b'), seed: 7, quiet: true, resume: true });
    assert.equal(rest.meta.step, 14);
    const a = loadLodi(join(dir, 'a', 'checkpoint.safetensors'));
    const b = loadLodi(join(dir, 'b', 'checkpoint.safetensors'));
    const sa = a.model.stateDict();
    const sb = b.model.stateDict();
    for (const [k, t] of sa) assert.deepEqual(t.toFloat32Array(), sb.get(k)!.toFloat32Array(), k);
    assert.deepEqual(
      full.meta.history.map((h) => [h.val.total, h.train.total]),
      rest.meta.history.map((h) => [h.val.total, h.train.total]),
    );
    a.model.dispose();
    b.model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failed start leaves no run directory behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-fail-'));
  try {
    const bad = syntheticPair(32, 5);
    bad.tb.fill(0);
    await assert.rejects(() => trainLodi({ worlds: [bad], config: config(4), out: join(dir, 'run'), seed: 1, quiet: true }), /mean T_b/);
    assert.equal(existsSync(join(dir, 'run')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
