import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RMSprop, tidy } from '@lodi/torch';
import { preset } from '../../src/halogen/config.js';
import { HalogenDataset, splitSubVolumes } from '../../src/halogen/dataset.js';
import { channelThresholds, halogenLoss, weightedMask } from '../../src/halogen/loss.js';
import { HalogenNet } from '../../src/halogen/model.js';
import { CHECKPOINT, BEST, historyRows, lrSchedule, readHalogenCheckpoint, trainHalogen, loadHalogen } from '../../src/halogen/train.js';
import { predictHalos } from '../../src/halogen/infer.js';
import { disposeGroups, type ReadCheckpoint } from '../../src/train/checkpoint.js';
import type { HalogenMeta } from '../../src/halogen/checkpoint.js';
import { syntheticWorld } from './helpers.js';
import { OLD_EPOCHS, OLD_SEED, OLD_STOP, oldConfig, oldRunDir, oldWorld } from './old-run-fixture.js';

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

/** Largest |Δ| between the tensors of group `g` of two checkpoints (names must match). */
function groupDiff(a: ReadCheckpoint<HalogenMeta>, b: ReadCheckpoint<HalogenMeta>, g: string): number {
  const ta = a.groups.get(g)!;
  const tb = b.groups.get(g)!;
  assert.deepEqual([...ta.keys()].sort(), [...tb.keys()].sort(), `group ${g}`);
  let d = 0;
  for (const [k, t] of ta) {
    const x = t.toFloat64Array();
    const y = tb.get(k)!.toFloat64Array();
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs(x[i]! - y[i]!));
  }
  return d;
}

/**
 * Asserts that run directory `dir` ended where the old trainer's uninterrupted run ended
 * (test/halogen/old-run-fixture.ts). On the machine that wrote the fixture (libtorch 1.13, 2
 * threads) everything is bit-identical. Another thread count changes the float32 summation order
 * of the convolutions: measured with 1 thread, validation losses move by 1e-7 relative, the
 * optimiser's square averages by 5e-7, and weights by up to 1.3e-3 (RMSprop divides by the root
 * of those averages, which amplifies rounding where gradients are near zero). The tolerances are
 * about ten times those; a wrong learning rate, a skipped step or other augmentation draws change
 * the validation losses by more than 1e-4 relative, and the generator state must match exactly.
 */
function assertEndsLikeOldRun(dir: string): void {
  const a = readHalogenCheckpoint(join(dir, CHECKPOINT));
  const b = readHalogenCheckpoint(join(oldRunDir('full'), CHECKPOINT));
  try {
    assert.equal(a.meta.epochsDone, OLD_EPOCHS);
    const va = a.meta.history.map((h) => h.valLoss);
    const vb = b.meta.history.map((h) => h.valLoss);
    assert.equal(va.length, vb.length);
    va.forEach((v, i) => assert.ok(Math.abs(v - vb[i]!) <= 1e-5 * Math.abs(vb[i]!), `epoch ${i + 1}: validation loss ${v}, old trainer ${vb[i]}`));
    assert.deepEqual(a.meta.optimizer.step, b.meta.optimizer.step);
    assert.equal(groupDiff(a, b, 'rng'), 0, 'augmentation generator state');
    const dOptim = groupDiff(a, b, 'optim');
    assert.ok(dOptim <= 5e-6, `optimizer state differs by ${dOptim}`);
    const dModel = groupDiff(a, b, 'model');
    assert.ok(dModel <= 1e-2, `weights differ by ${dModel}`);
  } finally {
    disposeGroups(a.groups);
    disposeGroups(b.groups);
  }
}

test('resume after a stop at epoch k gives the same weights as an uninterrupted run', async () => {
  const root = mkdtempSync(join(tmpdir(), 'halogen-resume-'));
  try {
    const world = syntheticWorld(32, 3, join(root, 'world'));
    const common = { worlds: [world], seed: OLD_SEED, plot: false, quiet: true };
    const full = await trainHalogen({ ...common, config: oldConfig(), out: join(root, 'full') });
    assert.equal(full.stopped, false);
    const part = await trainHalogen({ ...common, config: oldConfig(), out: join(root, 'part'), stopAfterEpoch: OLD_STOP });
    assert.equal(part.stopped, true);
    assert.equal(part.meta.epochsDone, OLD_STOP);
    await assert.rejects(trainHalogen({ ...common, config: oldConfig(), out: join(root, 'part') }), /--resume/);
    const resumed = await trainHalogen({ ...common, config: oldConfig(), out: join(root, 'part'), resume: true });
    assert.equal(resumed.meta.epochsDone, OLD_EPOCHS);
    // within one process and build, resuming is exact
    const a = readHalogenCheckpoint(join(root, 'full', CHECKPOINT));
    const b = readHalogenCheckpoint(join(root, 'part', CHECKPOINT));
    for (const g of ['model', 'optim', 'rng']) assert.equal(groupDiff(a, b, g), 0, `group ${g}`);
    assert.deepEqual(
      a.meta.history.map((h) => h.valLoss),
      b.meta.history.map((h) => h.valLoss),
    );
    disposeGroups(a.groups);
    disposeGroups(b.groups);
    // a stop inside an epoch (as on Ctrl-C) saves there; the resume redraws that epoch and skips the
    // steps done, so weights, generator and the epochs' mean losses match the uninterrupted run
    const perEpoch = full.meta.optimizer.step / OLD_EPOCHS;
    assert.ok(Number.isInteger(perEpoch) && perEpoch >= 2, `steps per epoch ${perEpoch}`);
    const stopAt = perEpoch + 1;
    const mid = await trainHalogen({ ...common, config: oldConfig(), out: join(root, 'mid'), stopAfterStep: stopAt });
    assert.equal(mid.stopped, true);
    assert.equal(mid.meta.epochsDone, 1);
    const saved = readHalogenCheckpoint(join(root, 'mid', CHECKPOINT));
    assert.deepEqual({ step: saved.meta.optimizer.step, done: saved.meta.partial?.done }, { step: stopAt, done: 1 });
    disposeGroups(saved.groups);
    await trainHalogen({ ...common, config: oldConfig(), out: join(root, 'mid'), resume: true });
    const c = readHalogenCheckpoint(join(root, 'full', CHECKPOINT));
    const d = readHalogenCheckpoint(join(root, 'mid', CHECKPOINT));
    for (const g of ['model', 'optim', 'rng']) assert.equal(groupDiff(c, d, g), 0, `mid-epoch resume, group ${g}`);
    assert.deepEqual(
      d.meta.history.map((h) => [h.trainLoss, h.valLoss]),
      c.meta.history.map((h) => [h.trainLoss, h.valLoss]),
    );
    assert.equal(d.meta.partial, undefined);
    disposeGroups(c.groups);
    disposeGroups(d.groups);
    // and the run is the one the trainer made before it moved onto src/train (same world, seed, config)
    assertEndsLikeOldRun(join(root, 'full'));
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

test('a run directory written by the old trainer resumes and ends where the old trainer ended', async () => {
  const root = mkdtempSync(join(tmpdir(), 'halogen-v1-'));
  try {
    const dir = join(root, 'part');
    cpSync(oldRunDir('part'), dir, { recursive: true });
    const before = readHalogenCheckpoint(join(dir, CHECKPOINT));
    const history = before.meta.history;
    disposeGroups(before.groups);
    assert.equal(before.meta.epochsDone, OLD_STOP);
    const r = await trainHalogen({ worlds: [oldWorld()], config: oldConfig(), out: dir, seed: OLD_SEED, quiet: true, resume: true });
    assert.equal(r.stopped, false);
    // the epochs of the old run are kept as they were
    assert.deepEqual(r.meta.history.slice(0, OLD_STOP), history);
    assertEndsLikeOldRun(dir);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a failed run leaves no directory it created; an existing run survives a failed --force', async () => {
  const root = mkdtempSync(join(tmpdir(), 'halogen-fail-'));
  try {
    const out = join(root, 'run');
    const bad = join(root, 'no-such-world');
    await assert.rejects(trainHalogen({ worlds: [bad], config: oldConfig(), out, seed: 1, quiet: true }), /no-such-world/);
    assert.equal(existsSync(out), false, 'the run directory was left behind');
    // a directory that existed before is kept (and stays empty)
    mkdirSync(out);
    await assert.rejects(trainHalogen({ worlds: [bad], config: oldConfig(), out, seed: 1, quiet: true }), /no-such-world/);
    assert.deepEqual(readdirSync(out), []);
    // --force over an existing run deletes nothing until the new run's worlds have loaded
    cpSync(oldRunDir('part'), out, { recursive: true });
    await assert.rejects(trainHalogen({ worlds: [bad], config: oldConfig(), out, seed: 1, quiet: true, force: true }), /no-such-world/);
    assert.deepEqual(readdirSync(out), [CHECKPOINT]);
    await assert.rejects(trainHalogen({ worlds: [bad], config: oldConfig(), out, seed: 1, quiet: true, resume: true }), /no-such-world/);
    assert.deepEqual(readdirSync(out), [CHECKPOINT]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("HALOgen's history.csv keeps its columns: epoch, lr, losses, per-channel validation terms, seconds", () => {
  const rows = historyRows([{ epoch: 0, lr: 1e-3, trainLoss: 31.6, valLoss: 25, valMse: [1, 2], valPinball: [3, 4], seconds: 12.5 }]);
  assert.deepEqual(Object.keys(rows[0]!), ['epoch', 'lr', 'train_loss', 'val_loss', 'val_mse1', 'val_mse2', 'val_pinball1', 'val_pinball2', 'seconds']);
  assert.deepEqual(Object.values(rows[0]!), [0, 1e-3, 31.6, 25, 1, 2, 3, 4, 12.5]);
});
