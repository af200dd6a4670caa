import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SPIN_PARAMS, SpinParamsError, makeSpinParams } from '../../../src/astro/spin/params.js';

test('defaults are the public code values and the result is frozen', () => {
  const p = makeSpinParams();
  assert.equal(p.useXrayHeating, true);
  assert.equal(p.useCmbHeating, true);
  assert.equal(p.useLyaHeating, false); // code default true, its table is not bundled
  assert.equal(p.clumpingFactor, 2);
  assert.equal(p.maxTk, 5e4);
  assert.equal(p.adiabaticFluctuations, true);
  assert.equal(p.yHe, 0.24);
  assert.ok(Object.isFrozen(p) && Object.isFrozen(DEFAULT_SPIN_PARAMS));
  assert.deepEqual(makeSpinParams({ clumpingFactor: 1 }), { ...DEFAULT_SPIN_PARAMS, clumpingFactor: 1 });
});

test('invalid fields are rejected with a one-line message naming the field and the value', () => {
  const named = (re: RegExp) => (e: Error) => e instanceof SpinParamsError && re.test(e.message) && !e.message.includes('\n');
  assert.throws(() => makeSpinParams({ clumpingFactor: 0 }), named(/"clumpingFactor".*got 0/));
  assert.throws(() => makeSpinParams({ useLyaHeating: true }), named(/"useLyaHeating" must be false/));
  assert.throws(() => makeSpinParams({ useCmbHeating: 1 as never }), named(/"useCmbHeating"/));
  assert.throws(() => makeSpinParams({ yHe: 1 }), named(/"yHe"/));
  assert.throws(() => makeSpinParams({ maxTk: -5 }), named(/"maxTk"/));
  assert.throws(() => makeSpinParams({ bogus: 1 } as never), named(/unknown field "bogus"/));
});
