import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration } from '../../src/util/progress.js';

test('durations never print 60 seconds past a minute', () => {
  assert.equal(formatDuration(959.7), '16m00s');
  assert.equal(formatDuration(539.4), '8m59s');
  assert.equal(formatDuration(59.94), '59.9s');
  assert.equal(formatDuration(3599.6), '1h00m');
  assert.equal(formatDuration(Infinity), '--');
});
