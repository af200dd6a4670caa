import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodePng } from "../../src/report/png.js";

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "lodi-report-"));
}

/** Asserts that `path` is a decodable PNG of at least the given size with more than `minColors` colours. */
export function assertPng(
  path: string,
  minWidth: number,
  minHeight: number,
  minColors = 3,
): { width: number; height: number } {
  const bytes = readFileSync(path);
  assert.deepEqual(
    [...bytes.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    "PNG signature",
  );
  const img = decodePng(bytes);
  assert.ok(img.width >= minWidth, `width ${img.width} >= ${minWidth}`);
  assert.ok(img.height >= minHeight, `height ${img.height} >= ${minHeight}`);
  const colors = new Set<number>();
  const px = new Uint32Array(img.rgba.slice().buffer);
  for (let i = 0; i < px.length && colors.size <= minColors; i += 7)
    colors.add(px[i]!);
  assert.ok(
    colors.size > minColors,
    `image is not uniform (${colors.size} colours sampled)`,
  );
  return img;
}

/** Number of dark (text/axis-like) pixels in a rectangular region of a PNG. */
export function darkPixels(
  path: string,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
): number {
  const img = decodePng(readFileSync(path));
  let n = 0;
  for (let y = y0; y < Math.min(y1, img.height); y++) {
    for (let x = x0; x < Math.min(x1, img.width); x++) {
      const k = 4 * (y * img.width + x);
      if (
        img.rgba[k]! < 100 &&
        img.rgba[k + 1]! < 100 &&
        img.rgba[k + 2]! < 100
      )
        n++;
    }
  }
  return n;
}
