import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RMSprop, tidy } from '@lodi/torch';
import { preset, type HalogenConfig } from '../../src/halogen/config.js';
import { HalogenDataset, splitSubVolumes } from '../../src/halogen/dataset.js';
import { channelThresholds, halogenLoss, weightedMask } from '../../src/halogen/loss.js';
import { HalogenNet } from '../../src/halogen/model.js';
import { CHECKPOINT, BEST, lrSchedule, readCheckpoint, trainHalogen, loadHalogen } from '../../src/halogen/train.js';
import { predictHalos } from '../../src/halogen/infer.js';
import { syntheticWorld } from './helpers.js';

function tinyConfig(epochs: number): HalogenConfig {
  const c = preset('tiny');
  c.train.epochs = epochs;
  return c;
}

test('learning-rate schedule: constant, then cosine warm restarts', () => {
  const s = lrSchedule(preset('paper'));
  assert.equal(s.lrAt(0), 2e-4);
  assert.equal(s.lrAt(9), 2e-4);
  assert.ok(Math.abs(s.lrAt(10) - 1e-4) < 1e-15);
  assert.ok(Math.abs(s.lrAt(35) - (3e-5 + 7e-5 * 0.5)) < 1e-12);
  assert.ok(Math.abs(s.lrAt(60) - 1e-4) < 1e-15);
});

test('a few training steps reduce the loss on a tiny synthetic task', () => {
  const cfg = preset('tiny');
  const ds = new HalogenDataset([syntheticWorld(32, 2)], cfg.data, splitSubVolumes(8, 0.75, 1));
  const norm = ds.computeNormalisation(95, channelThresholds);
  const net = new HalogenNet(cfg.model, 1);
  net.setOutputStats(norm.haloMean, norm.haloStd);
  const opt = new RMSprop(net.parameters(), { lr: 2e-3 });
  const samples = ds.split.train.map((sv) => ({ sv, sym: 0, shift: [0, 0, 0] as [number, number, number] }));
  const losses: number[] = [];
  for (let i = 0; i < 15; i++)
    losses.push(
      tidy(() => {
        const { x, y } = ds.batch(samples);
        const t = halogenLoss(net.forward(x), y, weightedMask(y, norm.thresholds), cfg.loss, net.l1());
        opt.zeroGrad();
        t.total.backward();
        opt.step();
        return t.total.item();
      }),
    );
  assert.ok(losses[14]! < 0.7 * losses[0]!, `loss ${losses[0]} -> ${losses[14]}`);
  opt.dispose();
  net.dispose();
});

test('resume after a stop at epoch k gives the same weights as an uninterrupted run', async () => {
  const root = mkdtempSync(join(tmpdir(), 'halogen-resume-'));
  try {
    const world = syntheticWorld(32, 3, join(root, 'world'));
    const common = { worlds: [world], seed: 11, plot: false, quiet: true };
    const full = await trainHalogen({ ...common, config: tinyConfig(4), out: join(root, 'full') });
    assert.equal(full.stopped, false);
    const part = await trainHalogen({ ...common, config: tinyConfig(4), out: join(root, 'part'), stopAfterEpoch: 2 });
    assert.equal(part.stopped, true);
    assert.equal(part.meta.epochsDone, 2);
    await assert.rejects(trainHalogen({ ...common, config: tinyConfig(4), out: join(root, 'part') }), /--resume/);
    const resumed = await trainHalogen({ ...common, config: tinyConfig(4), out: join(root, 'part'), resume: true });
    assert.equal(resumed.meta.epochsDone, 4);
    const a = readCheckpoint(join(root, 'full', CHECKPOINT));
    const b = readCheckpoint(join(root, 'part', CHECKPOINT));
    assert.deepEqual([...a.model.keys()].sort(), [...b.model.keys()].sort());
    for (const [k, t] of a.model) {
      const u = b.model.get(k)!;
      assert.deepEqual(Array.from(t.toFloat32Array()), Array.from(u.toFloat32Array()), `tensor ${k} differs`);
    }
    for (const [k, t] of a.optim) assert.deepEqual(Array.from(t.toFloat32Array()), Array.from(b.optim.get(k)!.toFloat32Array()), `optimizer ${k}`);
    assert.deepEqual(
      a.meta.history.map((h) => h.valLoss),
      b.meta.history.map((h) => h.valLoss),
    );
    assert.ok(existsSync(join(root, 'full', BEST)));
    // the trained model predicts a full box through the sliding window
    const { model, meta } = loadHalogen(join(root, 'full'));
    const p = predictHalos(model, meta, world.dm, 32, { stride: 8 });
    assert.equal(p.density.length, 4 * 32 ** 3);
    assert.ok(p.log.every((v) => Number.isFinite(v)));
    model.dispose();
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
