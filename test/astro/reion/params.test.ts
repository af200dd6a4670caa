import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_REION_PARAMS, L_FACTOR, ReionParamsError, filterRadii, makeReionParams } from '../../../src/astro/reion/params.js';

test('defaults are the code values and the result is frozen', () => {
  const p = makeReionParams();
  assert.equal(p.filter, 'exponential');
  assert.equal(p.deltaRFactor, 1.1);
  assert.equal(p.maxDvdr, 0.2);
  // 21cmFAST: mfp_meandens = 25.483241248322766 / h Mpc, i.e. that many Mpc/h
  assert.equal(p.mfp, 25.483241248322766);
  assert.ok(Object.isFrozen(p));
  assert.deepEqual(makeReionParams({ filter: 'tophat' }), { ...DEFAULT_REION_PARAMS, filter: 'tophat' });
});

test('invalid fields are rejected with a message naming the field and the value', () => {
  assert.throws(() => makeReionParams({ mfp: -1 }), (e: Error) => e instanceof ReionParamsError && /"mfp"/.test(e.message) && /-1/.test(e.message));
  assert.throws(() => makeReionParams({ deltaRFactor: 1 }), /"deltaRFactor"/);
  assert.throws(() => makeReionParams({ filter: 'sharpk' as never }), /"filter".*sharpk/);
  assert.throws(() => makeReionParams({ losAxis: 3 as never }), /"losAxis"/);
  assert.throws(() => makeReionParams({ rBubbleMinMpc: 60 }), /"rBubbleMinMpc"/);
  assert.throws(() => makeReionParams({ bogus: 1 } as never), /unknown field "bogus"/);
});

test('filter radii follow the code: R_min Δ^i up to min(R_BUBBLE_MAX, l_factor L)', () => {
  const h = 0.7;
  // 64 Mpc/h on 64 cells: cell 1/0.7 = 1.43 Mpc > 1 Mpc, so R_min = max(0.62, l_factor × 1.43) Mpc
  const p = makeReionParams({ rBubbleMaxMpc: 15 });
  const r = filterRadii(p, 64, 64, h);
  const rMin = Math.max(0.620350491, (L_FACTOR * 1) / h) * h;
  const rMax = Math.min(15, (L_FACTOR * 64) / h) * h;
  const count = Math.floor(Math.log(rMax / rMin) / Math.log(1.1) + 1);
  assert.equal(r.length, count);
  assert.ok(Math.abs(r[0]! - rMin) < 1e-12);
  for (let i = 1; i < r.length; i++) assert.ok(Math.abs(r[i]! / r[i - 1]! - 1.1) < 1e-12 || r[i] === rMax, `ratio at ${i}`);
  assert.ok(r[r.length - 1]! <= rMax + 1e-12 && r[r.length - 1]! * 1.1 > rMax);
  // cells under 1 Mpc: the code's rule takes one full cell as the smallest radius
  const small = filterRadii(p, 16, 64, h); // cell 0.36 Mpc
  assert.ok(Math.abs(small[0]! - Math.max(0.620350491, 16 / 64 / h) * h) < 1e-12);
  // an explicit factor overrides the rule
  const f2 = filterRadii(makeReionParams({ cellRadiusFactor: 2 }), 64, 64, h);
  assert.ok(Math.abs(f2[0]! - 2) < 1e-12);
  assert.throws(() => filterRadii(makeReionParams({ rBubbleMinMpc: 10 }), 4, 4, h), /largest radius/);
});
