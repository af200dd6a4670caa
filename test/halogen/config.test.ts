import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preset, validateConfig } from '../../src/halogen/config.js';
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
