import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Generator, tidy } from '@lodi/torch';
import { channelThresholds, halogenLoss, percentile, weightedMask } from '../../src/halogen/loss.js';
import { preset } from '../../src/halogen/config.js';

// [1, 4 channels, 4 voxels] with thresholds 0: above-threshold counts per channel 1, 2, 0, 3
const Y = [
  [1, -1, -1, -1],
  [1, 1, -1, -1],
  [-1, -1, -1, -1],
  [1, 1, 1, -1],
];
const target = () => F.tensor(Float32Array.from(Y.flat()), [1, 4, 4, 1, 1]);

test('percentile matches NumPy linear interpolation', () => {
  assert.equal(percentile([1, 2, 3, 4, 5], 50), 3);
  assert.ok(Math.abs(percentile([1, 2, 3, 4], 95) - 3.85) < 1e-12);
  assert.deepEqual(channelThresholds([Float32Array.from([0, 1, 2, 10, 20, 30])], 2, 50), [1, 20]);
});

test('weighted mask: weights from neighbouring channels, normalised to mean 1', () => {
  tidy(() => {
    const m = weightedMask(target(), [0, 0, 0, 0]);
    // neighbour counts: ch0 1+2=3, ch1 1+2+0=3, ch2 2+0+3=5, ch3 0+3=3 → w = 4/3, 4/3, 4/5, 4/3
    const raw = [
      [4 / 3, 1, 1, 1],
      [4 / 3, 4 / 3, 1, 1],
      [1, 1, 1, 1],
      [4 / 3, 4 / 3, 4 / 3, 1],
    ].flat();
    const mean = raw.reduce((a, b) => a + b, 0) / raw.length; // 18/16
    assert.ok(Math.abs(mean - 1.125) < 1e-12);
    const got = Array.from(m.toFloat32Array());
    raw.forEach((v, i) => assert.ok(Math.abs(got[i]! - v / mean) < 1e-6, `mask[${i}] ${got[i]} vs ${v / mean}`));
    assert.ok(Math.abs(m.mean().item() - 1) < 1e-6);
  });
});

test('mask of every sample in a batch averages to 1', () => {
  tidy(() => {
    const y = F.randn([3, 4, 6, 6, 6], new Generator(5));
    const m = weightedMask(y, [1, 1.5, 0.5, 2]);
    const per = Array.from(m.mean([1, 2, 3, 4]).toFloat32Array());
    for (const v of per) assert.ok(Math.abs(v - 1) < 1e-5);
  });
});

test('loss terms equal a hand computation', () => {
  tidy(() => {
    const cfg = preset('paper').loss; // α 0.6, q 0.7, β [1,2,5,8]
    const y = target();
    const m = weightedMask(y, [0, 0, 0, 0]);
    const mask = Array.from(m.toFloat32Array());
    const pred = F.zeros([1, 4, 4, 1, 1]);
    const t = halogenLoss(pred, y, m, cfg, F.scalar(1000));
    let expected = 0;
    for (let j = 0; j < 4; j++) {
      let mse = 0;
      let pin = 0;
      for (let k = 0; k < 4; k++) {
        const d = Y[j]![k]! - 0;
        mse += (mask[j * 4 + k]! * d * d) / 4;
        pin += Math.max(0.7 * d, -0.3 * d) / 4;
      }
      assert.ok(Math.abs(t.mse[j]! - mse) < 1e-6);
      assert.ok(Math.abs(t.pinball[j]! - pin) < 1e-6);
      expected += 0.6 * cfg.beta[j]! * mse + 0.4 * pin;
    }
    expected += 1e-6 * 1000;
    assert.ok(Math.abs(t.total.item() - expected) < 1e-5, `${t.total.item()} vs ${expected}`);
  });
});

test('pinball loss is asymmetric: under-prediction costs q, over-prediction 1-q', () => {
  tidy(() => {
    const cfg = { ...preset('paper').loss, alpha: 0, lambdaW: 0 };
    const y = F.zeros([1, 4, 2, 1, 1]);
    const ones = F.ones([1, 4, 2, 1, 1]);
    const under = halogenLoss(ones.mul(-1), y, ones, cfg, null).total.item(); // y - pred = +1
    const over = halogenLoss(ones, y, ones, cfg, null).total.item(); // y - pred = -1
    assert.ok(Math.abs(under - 4 * 0.7) < 1e-6);
    assert.ok(Math.abs(over - 4 * 0.3) < 1e-6);
  });
});
