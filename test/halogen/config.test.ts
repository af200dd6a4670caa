import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConstantWarmup, CosineAnnealingWarmRestarts, SequentialSchedule } from '@lodi/torch';
import { PRESETS, preset, validateConfig } from '../../src/halogen/config.js';
import { lrSchedule } from '../../src/halogen/train.js';

test('cpu preset: valid, and its learning rate decays once to the minimum by the last epoch', () => {
  const c = preset('cpu');
  validateConfig(c);
  const t = c.train;
  assert.ok(c.data.batchSize >= 2, 'more than one optimiser step per epoch on ~30 crops');
  assert.equal(t.warmEpochs + t.cycle, t.epochs, 'the run ends where the first cosine cycle ends');
  const s = lrSchedule(c);
  for (let e = 0; e < t.warmEpochs; e++) assert.equal(s.lrAt(e), t.lrInitial);
  for (let e = t.warmEpochs + 1; e < t.epochs; e++)
    assert.ok(s.lrAt(e) < s.lrAt(e - 1), `lr not decreasing at epoch ${e}`);
  assert.ok(s.lrAt(t.epochs - 1) < t.lrMin + 0.01 * (t.lrMax - t.lrMin));
});

test("HALOgen's schedule gives every epoch the learning rate its runs were trained with", () => {
  // Runs written before HALOgen moved onto src/train used the engine's schedule classes; a resumed
  // run must see exactly the same numbers, so equality here is exact.
  for (const c of Object.values(PRESETS)) {
    const t = c.train;
    const old = new SequentialSchedule(new ConstantWarmup(t.lrInitial), t.warmEpochs, new CosineAnnealingWarmRestarts(t.lrMax, t.cycle, t.lrMin));
    const now = lrSchedule(c);
    for (let e = 0; e < 3 * t.epochs; e++) assert.equal(now.lrAt(e), old.lrAt(e), `${c.preset} epoch ${e}`);
    assert.equal(now.describe(), old.describe());
  }
});
