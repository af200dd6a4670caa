import assert from "node:assert/strict";
import { test } from "node:test";
import {
  LOG_DYNAMIC_RANGE,
  colorScale,
  extractSlice,
  normalize,
  projectSlab,
} from "../../src/report/slice.js";

// value encodes its own indices: v = 100 x + 10 y + z on a [2, 3, 4] grid, C order [x][y][z]
const shape = [2, 3, 4] as const;
const grid = new Float32Array(2 * 3 * 4);
for (let x = 0; x < 2; x++)
  for (let y = 0; y < 3; y++)
    for (let z = 0; z < 4; z++)
      grid[(x * 3 + y) * 4 + z] = 100 * x + 10 * y + z;

test("extractSlice keeps the other two axes in order", () => {
  const a0 = extractSlice(grid, shape, 0, 1); // x = 1 → rows y, cols z
  assert.deepEqual([a0.nu, a0.nv, ...a0.axes], [3, 4, 1, 2]);
  assert.equal(a0.data[2 * 4 + 3], 123);
  const a1 = extractSlice(grid, shape, 1, 2); // y = 2 → rows x, cols z
  assert.deepEqual([a1.nu, a1.nv, ...a1.axes], [2, 4, 0, 2]);
  assert.deepEqual([...a1.data], [20, 21, 22, 23, 120, 121, 122, 123]);
  const a2 = extractSlice(grid, shape, 2, 3); // z = 3 → rows x, cols y
  assert.deepEqual([a2.nu, a2.nv, ...a2.axes], [2, 3, 0, 1]);
  assert.deepEqual([...a2.data], [3, 13, 23, 103, 113, 123]);
});

test("extractSlice wraps the index periodically and checks the shape", () => {
  assert.deepEqual(
    [...extractSlice(grid, shape, 2, -1).data],
    [...extractSlice(grid, shape, 2, 3).data],
  );
  assert.throws(() => extractSlice(grid, [2, 3, 5], 0, 0), /needs/);
});

test("projectSlab averages (or sums) a periodic slab", () => {
  const full = projectSlab(grid, shape, 2); // mean over z of 100x+10y+z = 100x+10y+1.5
  assert.deepEqual([...full.data], [1.5, 11.5, 21.5, 101.5, 111.5, 121.5]);
  const wrap = projectSlab(grid, shape, 2, {
    start: 3,
    thickness: 2,
    reduce: "sum",
  }); // z = 3 and 0
  assert.deepEqual([...wrap.data], [3, 23, 43, 203, 223, 243]);
  const xs = projectSlab(grid, shape, 0); // mean over x: 50 + 10y + z
  assert.equal(xs.data[1 * 4 + 2], 62);
  assert.throws(
    () => projectSlab(grid, shape, 0, { thickness: 3 }),
    /thickness/,
  );
});

test("log colour scale floors zeros and negatives", () => {
  const v = [0, -1, 1e-3, 10, 100];
  const s = colorScale(v, { log: true });
  assert.equal(s.vmin, 1e-3); // smallest positive value
  assert.equal(s.vmax, 100);
  assert.equal(normalize(0, s), 0);
  assert.equal(normalize(-5, s), 0);
  assert.equal(normalize(100, s), 1);
  assert.ok(Math.abs(normalize(1, s) - 0.6) < 1e-12);
  // the floor never goes below max * LOG_DYNAMIC_RANGE
  const s2 = colorScale([1e-20, 1], { log: true });
  assert.equal(s2.vmin, LOG_DYNAMIC_RANGE);
  // all-zero map still gives a valid scale
  const s3 = colorScale([0, 0], { log: true });
  assert.ok(s3.vmin > 0 && s3.vmax > s3.vmin);
  // explicit bounds win
  assert.deepEqual(colorScale(v, { log: true, vmin: 0.1, vmax: 10 }), {
    vmin: 0.1,
    vmax: 10,
    log: true,
  });
});

test("linear colour scale handles constant maps and NaN", () => {
  const s = colorScale([5, 5, NaN], {});
  assert.ok(s.vmin < 5 && s.vmax > 5);
  assert.ok(Number.isNaN(normalize(NaN, s)));
  assert.equal(normalize(5, colorScale([0, 10], {})), 0.5);
});
