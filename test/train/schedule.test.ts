import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constantLr, cosineWarmRestarts, sequentialLr, warmupCosine } from '../../src/train/schedule.js';

const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-15 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

test('cosineWarmRestarts is SGDR: lrMin + (lrMax − lrMin)(1 + cos(π t_cur/T_i))/2 with restarts', () => {
  const s = cosineWarmRestarts(1, 4, 0);
  // t_cur = t mod 4: 1, (1 + cos π/4)/2, 1/2, (1 − cos π/4)/2, then a restart at t = 4
  const want = [1, (1 + Math.SQRT1_2) / 2, 0.5, (1 - Math.SQRT1_2) / 2, 1, (1 + Math.SQRT1_2) / 2];
  want.forEach((w, t) => close(s.lrAt(t), w, `period 4, t = ${t}`));
  // cycle lengths 4, 8, 16 with mult 2: restarts at t = 4 and t = 12; t = 8 is half-way through the second cycle
  const m = cosineWarmRestarts(3, 4, 1, 2);
  close(m.lrAt(4), 3, 'second cycle starts at lrMax');
  close(m.lrAt(8), 2, 'middle of the 8-epoch cycle');
  close(m.lrAt(12), 3, 'third cycle starts at lrMax');
  close(m.lrAt(11), 1 + (1 + Math.cos((7 * Math.PI) / 8)), 'end of the second cycle');
  assert.throws(() => cosineWarmRestarts(1, 2.5), /period must be a positive integer, got 2.5/);
  assert.throws(() => cosineWarmRestarts(1, 4, 0, 0), /mult must be an integer >= 1, got 0/);
});

test('constantLr and sequentialLr: the first schedule until switchAt, then the second from its epoch 0', () => {
  const s = sequentialLr(constantLr(2e-4), 10, cosineWarmRestarts(1e-4, 50, 3e-5));
  for (let t = 0; t < 10; t++) assert.equal(s.lrAt(t), 2e-4);
  close(s.lrAt(10), 1e-4, 'restart at lrMax');
  close(s.lrAt(35), 3e-5 + 7e-5 * 0.5, 'half a cycle later');
  close(s.lrAt(60), 1e-4, 'next restart');
  assert.equal(s.describe(), 'constant 0.0002 for 10 epochs, then cosine annealing with warm restarts 0.0001 -> 0.00003, cycle 50');
  assert.throws(() => constantLr(0), /lr must be > 0, got 0/);
  assert.throws(() => sequentialLr(constantLr(1), -1, constantLr(1)), /switchAt must be a non-negative integer, got -1/);
});

test('warmupCosine: linear warm-up, then cosine decay to lr·minFactor', () => {
  close(warmupCosine(0, 1, 4, 104, 0.1), 0.25, 'first warm-up step');
  close(warmupCosine(3, 1, 4, 104, 0.1), 1, 'end of warm-up');
  close(warmupCosine(54, 1, 4, 104, 0.1), 0.55, 'half-way: (1 + 0.1)/2');
  close(warmupCosine(104, 1, 4, 104, 0.1), 0.1, 'end');
});
