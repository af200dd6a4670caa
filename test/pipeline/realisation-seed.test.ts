import { test } from 'node:test';
import assert from 'node:assert/strict';
import { realisationSeed } from '../../src/pipeline/generate.js';

test('realisation seeds are seed + r, wrapped into the accepted range [0, 2^32)', () => {
  assert.deepEqual([0, 1, 2].map((r) => realisationSeed(7, r)), [7, 8, 9]);
  const top = 2 ** 32 - 1; // the largest seed the CLI accepts
  assert.deepEqual([0, 1, 2].map((r) => realisationSeed(top, r)), [top, 0, 1]);
});
