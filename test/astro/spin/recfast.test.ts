import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cTApprox, recfastTable, tRecfast, xeRecfast } from '../../../src/astro/spin/recfast.js';
import { readTable } from '../../../src/astro/spin/data.js';

test('the RECFAST table has the code’s 501 nodes in ascending z, with T_K from the fourth column', () => {
  const t = recfastTable();
  assert.equal(t.z.length, 501);
  assert.equal(t.z[0], 0);
  assert.equal(t.z[500], 500);
  // the third column is T_γ = 2.728 (1+z), the fourth T_K: at z = 0 the adiabatically cooled gas is far colder
  const raw = readTable('recfast_LCDM.dat');
  for (const r of raw) assert.ok(Math.abs(r[2]! / (2.728 * (1 + r[0]!)) - 1) < 2e-3, `T_γ column at z=${r[0]}`);
  assert.ok(tRecfast(0) < 0.05 && tRecfast(500) > 1300);
});

test('the spline reproduces the nodes and stays between neighbours', () => {
  const t = recfastTable();
  for (let i = 0; i < t.z.length; i++) {
    // nodes are integers (exact in float32): the natural cubic spline passes through them to rounding
    assert.ok(Math.abs(tRecfast(t.z[i]!) / t.tk[i]! - 1) < 1e-12, `T_K node z=${t.z[i]}`);
    assert.ok(Math.abs(xeRecfast(t.z[i]!) / t.xe[i]! - 1) < 1e-12, `x_e node z=${t.z[i]}`);
  }
  for (let i = 0; i + 1 < t.z.length; i++) {
    const zm = 0.5 * (t.z[i]! + t.z[i + 1]!);
    for (const [f, y] of [
      [tRecfast, t.tk],
      [xeRecfast, t.xe],
    ] as const) {
      const v = f(zm);
      const lo = Math.min(y[i]!, y[i + 1]!);
      const hi = Math.max(y[i]!, y[i + 1]!);
      // the histories are monotone and smooth: a cubic through them may overshoot a segment only by a
      // tiny fraction of the step (rounded float32 inputs), here < 1e-3 of the segment's change + 1e-7 relative
      const slack = 1e-3 * (hi - lo) + 1e-7 * hi;
      assert.ok(v >= lo - slack && v <= hi + slack, `${f.name} at z=${zm}: ${v} not in [${lo}, ${hi}]`);
    }
  }
});

test('T_K and x_e decrease monotonically towards low z over the cosmic-dawn range', () => {
  let tk = Infinity;
  let xe = Infinity;
  for (let z = 60; z >= 5; z -= 0.25) {
    assert.ok(tRecfast(z) < tk && xeRecfast(z) < xe, `z=${z}`);
    tk = tRecfast(z);
    xe = xeRecfast(z);
  }
});

test('c_T(z) is the code’s linear fit and bad redshifts throw naming z', () => {
  assert.ok(Math.abs(cTApprox(10) - 0.58) < 1e-15);
  assert.ok(Math.abs(cTApprox(35) - (0.58 - 0.006 * 25)) < 1e-15);
  assert.throws(() => tRecfast(501), (e: Error) => /tRecfast: z must be.*501/.test(e.message) && !e.message.includes('\n'));
  assert.throws(() => xeRecfast(-0.5), /xeRecfast: z must be/);
  assert.throws(() => xeRecfast(NaN), /xeRecfast: z must be/);
});
