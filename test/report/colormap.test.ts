import assert from "node:assert/strict";
import { test } from "node:test";
import {
  applyColormap,
  colormapLut,
  colormapRgb,
  lutIndex,
} from "../../src/report/colormap.js";

function hex(s: string): [number, number, number] {
  return [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16)) as [
    number,
    number,
    number,
  ];
}

function close(actual: number[], expected: number[], tol = 2): void {
  actual.forEach((v, i) =>
    assert.ok(Math.abs(v - expected[i]!) <= tol, `${actual} vs ${expected}`),
  );
}

test("viridis and magma endpoints match matplotlib", () => {
  close(colormapRgb("viridis", 0), hex("#440154"));
  close(colormapRgb("viridis", 1), hex("#fde725"));
  close(colormapRgb("magma", 0), hex("#000004"));
  close(colormapRgb("magma", 1), hex("#fcfdbf"));
  // midpoints of the matplotlib tables (entry 128)
  close(colormapRgb("viridis", 0.5), hex("#21918c"));
  close(colormapRgb("magma", 0.5), hex("#b73779"));
});

test("tables have 256 entries and luminance increases monotonically", () => {
  for (const name of ["viridis", "magma"] as const) {
    const lut = colormapLut(name);
    assert.equal(lut.length, 256 * 3);
    let prev = -1;
    for (let i = 0; i < 256; i += 16) {
      const l =
        0.2126 * lut[3 * i]! +
        0.7152 * lut[3 * i + 1]! +
        0.0722 * lut[3 * i + 2]!;
      assert.ok(l > prev, `${name} luminance increases at ${i}`);
      prev = l;
    }
  }
});

test("lutIndex clamps and applyColormap marks NaN grey", () => {
  assert.equal(lutIndex(-1), 0);
  assert.equal(lutIndex(NaN), 0);
  assert.equal(lutIndex(2), 255);
  assert.equal(lutIndex(0.5), 128);
  const rgba = applyColormap([0, 1, NaN], "viridis");
  close([...rgba.subarray(0, 3)], hex("#440154"));
  close([...rgba.subarray(4, 7)], hex("#fde725"));
  assert.deepEqual([...rgba.subarray(8, 12)], [200, 200, 200, 255]);
});
