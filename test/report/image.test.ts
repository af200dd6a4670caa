import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  mapFromGrid,
  mapToRgba,
  panelImages,
  sliceImage,
  sliceImageSvg,
} from "../../src/report/image.js";
import { decodePng } from "../../src/report/png.js";
import { colorScale } from "../../src/report/slice.js";
import { assertPng, tempDir } from "./helpers.js";

const N = 16;
const grid = new Float32Array(N * N * N);
for (let x = 0; x < N; x++)
  for (let y = 0; y < N; y++)
    for (let z = 0; z < N; z++)
      grid[(x * N + y) * N + z] = x === 0 ? 0 : x * 10 + y + z / 100;

test("mapToRgba puts the first kept axis to the right and the second upwards", () => {
  const { map } = mapFromGrid(grid, [N, N, N], { axis: 2, index: 0 }); // rows x, cols y
  const rgba = mapToRgba(map, colorScale(map.data, {}), "viridis");
  assert.equal(rgba.width, N);
  // bottom-left pixel is (x=0, y=0) → darkest; top-right is (x=N-1, y=N-1) → brightest
  const px = (r: number, c: number) => [
    ...rgba.rgba.subarray(4 * (r * N + c), 4 * (r * N + c) + 3),
  ];
  assert.deepEqual(px(N - 1, 0), [0x44, 0x01, 0x54]);
  assert.deepEqual(px(0, N - 1), [0xfd, 0xe7, 0x25]);
});

test("sliceImage writes a labelled PNG with a colour bar, log scale with zeros", () => {
  const out = join(tempDir(), "slice.png");
  sliceImage(
    grid,
    [N, N, N],
    {
      axis: 0,
      index: "project",
      log: true,
      colormap: "magma",
      title: "DM",
      colorbarLabel: "1 + δ",
      boxSize: 25,
    },
    out,
  );
  const img = assertPng(out, 500, 500, 20);
  // the map is upscaled with nearest neighbour: the embedded raster is at least 384 px wide
  const svg = sliceImageSvg(grid, [N, N, N], { axis: 1 });
  const b64 = /href="data:image\/png;base64,([^"]+)"/.exec(svg)![1]!;
  assert.ok(decodePng(Buffer.from(b64, "base64")).width >= 384);
  assert.match(svg, /x \[cells\]/);
  assert.match(svg, /slice at cell 8 of 16 along y/);
  // a slab's position is a depth along the axis, never "z ∈ [...)" (which reads as a redshift)
  const slab = sliceImageSvg(grid, [N, N, N], { axis: 2, index: "project", start: 0, thickness: 4, boxSize: 25 });
  assert.match(slab, /mean over depth 0–6\.25 Mpc\/h along z/);
  assert.doesNotMatch(slab, /∈/);
  assert.ok(img.width > img.height * 0.9);
});

test("panelImages: shared and separate colour scales", () => {
  const dir = tempDir();
  const panels = [
    {
      data: grid,
      shape: [N, N, N] as const,
      axis: 2 as const,
      title: "truth",
      colorbarLabel: "T_b [mK]",
    },
    {
      data: grid.map((v) => v * 2),
      shape: [N, N, N] as const,
      axis: 2 as const,
      title: "prediction",
      colorbarLabel: "T_b [mK]",
    },
  ];
  panelImages(panels, join(dir, "shared.png"), {
    sharedScale: true,
    title: "T_b",
  });
  panelImages(panels, join(dir, "separate.png"));
  const shared = assertPng(join(dir, "shared.png"), 1000, 500);
  const separate = assertPng(join(dir, "separate.png"), 1000, 500);
  assert.ok(separate.width > shared.width); // one colour bar per panel
  const bytes = readFileSync(join(dir, "shared.png"));
  assert.ok(bytes.length > 1000);
});
