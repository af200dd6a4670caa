import { test } from 'node:test';
import assert from 'node:assert/strict';
import { paint } from '../../../src/field/mas.js';
import { gridHaloProperties, gridHaloQuantity } from '../../../src/astro/reion/grid.js';
import { Rng } from '../../../src/util/rng.js';

const N = 8;
const L = 10;
const V = (L / N) ** 3;

function halos(n: number, seed: number): { pos: Float32Array; w: Float64Array } {
  const r = new Rng(seed);
  const pos = new Float32Array(3 * n);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) pos[3 * i + c] = r.uniform() * L;
    w[i] = Math.pow(10, 8 + 3 * r.uniform());
  }
  return { pos, w };
}

for (const mas of ['NGP', 'CIC'] as const) {
  test(`weighted ${mas} gridding equals the sum of unit-weight paints of each halo times its weight, per volume`, () => {
    const { pos, w } = halos(40, 3);
    const g = gridHaloQuantity(pos, w, { grid: N, boxSize: L, mas });
    const ref = new Float64Array(N ** 3);
    for (let h = 0; h < w.length; h++) {
      const one = paint(pos.subarray(3 * h, 3 * h + 3), { grid: N, boxSize: L, mas });
      for (let i = 0; i < ref.length; i++) ref[i]! += (w[h]! * one[i]!) / V;
    }
    let tot = 0;
    let wsum = 0;
    for (let i = 0; i < ref.length; i++) {
      // float32 accumulation of up to 40 terms spanning 3 decades: 1e-6 relative to the largest
      assert.ok(Math.abs(g[i]! - ref[i]!) <= 1e-6 * Math.max(ref[i]!, 1e8 / V), `cell ${i}: ${g[i]} vs ${ref[i]}`);
      tot += g[i]! * V;
    }
    for (const x of w) wsum += x;
    assert.ok(Math.abs(tot / wsum - 1) < 1e-6, 'sum of the grid times the cell volume is the total weight');
  });
}

test('unit weights reproduce paint / V_cell; several fields at once; bad input is rejected', () => {
  const { pos } = halos(30, 5);
  const ones = new Float64Array(30).fill(1);
  const p = paint(pos, { grid: N, boxSize: L, mas: 'CIC' });
  const both = gridHaloProperties(pos, { haloMass: ones, nIon: Float64Array.from(ones, () => 2) }, { grid: N, boxSize: L });
  for (let i = 0; i < p.length; i++) {
    assert.ok(Math.abs(both.haloMass[i]! - p[i]! / V) <= 1e-6 * (p[i]! / V + 1e-30));
    assert.ok(Math.abs(both.nIon[i]! - (2 * p[i]!) / V) <= 1e-6 * ((2 * p[i]!) / V + 1e-30));
  }
  assert.throws(() => gridHaloQuantity(pos, new Float64Array(29), { grid: N, boxSize: L }), /positions has 90 entries, expected 3 × 29/);
  const bad = Float64Array.from(ones);
  bad[4] = NaN;
  assert.throws(() => gridHaloProperties(pos, { sfr: bad }, { grid: N, boxSize: L }), /field "sfr".*values\[4\]/);
});
