// HALOgen inference in bfloat16 (autocast) on the CPU: the bundled model's prediction of one 64^3
// window against float32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { liveTensors } from '@lodi/torch';
import { loadHalogen } from '../../src/halogen/checkpoint.js';
import { predictHalos } from '../../src/halogen/infer.js';
import { repoRoot } from '../reference-dir.js';
import { syntheticWorld } from './helpers.js';

test('predictHalos in bfloat16: log10 ρ_h within bfloat16 rounding of float32, and not identical', () => {
  const { model, meta } = loadHalogen(join(repoRoot(), 'models', 'halogen-cpu'));
  try {
    const w = syntheticWorld(64, 2024);
    const live = liveTensors();
    const a = predictHalos(model, meta, w.dm, 64, { stride: 64 }).log;
    const b = predictHalos(model, meta, w.dm, 64, { stride: 64, precision: 'bfloat16' }).log;
    assert.equal(liveTensors(), live, 'no tensors left alive');
    let max = 0;
    let sum = 0;
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - b[i]!);
      max = Math.max(max, d);
      sum += d;
    }
    // log10 ρ_h spans ~8–13; bfloat16's 2^-8 relative rounding of activations and weights moves the
    // network's standardised output by a few 1e-3 (× the output scale, ~1 dex)
    assert.ok(max > 0, 'bfloat16 changed the numbers');
    assert.ok(sum / a.length < 0.02 && max < 0.3, `mean |Δ log10 ρ_h| ${sum / a.length}, max ${max}`);
  } finally {
    model.dispose();
  }
});
