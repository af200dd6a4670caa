/**
 * Plots of degenerate statistics (NaN/Infinity, empty or constant series, values ≤ 0 on log axes,
 * points and error bars outside a fixed range, zero-width ranges) must render. Before the fix, some
 * of these made resvg panic, which aborts the whole Node process (no exception to catch): a failing
 * test here may show up as the test process dying with "fatal runtime error: failed to initiate panic".
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import {
  renderVegaLiteToPng,
  renderVegaLiteToSvg,
} from "../../src/report/chart.js";
import {
  histogramPlot,
  linePlot,
  linePlotSpec,
  multiPanel,
  multiPanelSpec,
  type LinePlotOptions,
} from "../../src/report/plots.js";
import { svgToPng } from "../../src/report/raster.js";
import { guardSvg } from "../../src/report/svg-guard.js";
import { assertPng, tempDir } from "./helpers.js";

const k = Array.from({ length: 20 }, (_, i) => 1.4 * 1.1 ** i);

/** Rows of a single-view spec produced by linePlotSpec. */
function rowsOf(spec: unknown): Record<string, number | string | null>[] {
  return (
    spec as { data: { values: Record<string, number | string | null>[] } }
  ).data.values;
}

// The smallest SVG found by bisecting the SVG of `lodi evaluate`'s stitching plot: a mark group
// clipped to the frame holding a reference line far to the right of the canvas (a harmonic k beyond
// the plotted range). resvg's layer for the clip group does not intersect the canvas bounds it
// allows (±2× the canvas), and `fit_to_rect(..).unwrap()` panics.
const CLIPPED_LINE_FAR_RIGHT =
  '<svg xmlns="http://www.w3.org/2000/svg" width="738" height="384" viewBox="0 0 738 384">' +
  '<g transform="translate(52,40)"><g clip-path="url(#clip44)">' +
  '<line transform="translate(1955.2040814222678,0)" x2="0" y2="300" stroke="#555" stroke-width="1.2" stroke-dasharray="4,3"/>' +
  '</g></g><defs><clipPath id="clip44"><rect x="0" y="0" width="460" height="300"/></clipPath></defs></svg>';

// Same failure without a clip path: Vega writes opacity="0.7" on every point symbol, and an
// element with opacity < 1 is also rendered through a layer. One point far below a fixed y range.
const TRANSLUCENT_POINT_FAR_BELOW =
  '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="400" viewBox="0 0 600 400">' +
  '<rect x="10" y="10" width="100" height="100" fill="#1f77b4"/>' +
  '<path transform="translate(100,5000)" d="M2.6,0A2.6,2.6,0,1,1,-2.6,0A2.6,2.6,0,1,1,2.6,0" fill="red" opacity="0.7"/>' +
  "</svg>";

test("svgToPng survives a clipped mark far outside the canvas (the evaluate crash)", () => {
  const g = guardSvg(CLIPPED_LINE_FAR_RIGHT);
  assert.equal(g.removed, 1);
  assert.doesNotMatch(g.svg, /<line/);
  const png = svgToPng(CLIPPED_LINE_FAR_RIGHT);
  assert.equal(png.subarray(1, 4).toString("latin1"), "PNG");
});

test("svgToPng survives a translucent point far outside the canvas", () => {
  const g = guardSvg(TRANSLUCENT_POINT_FAR_BELOW);
  assert.equal(g.removed, 1);
  assert.match(g.svg, /<rect x="10"/, "the visible element is kept");
  assert.equal(
    svgToPng(TRANSLUCENT_POINT_FAR_BELOW).subarray(1, 4).toString("latin1"),
    "PNG",
  );
});

test("guardSvg drops non-finite geometry and keeps everything visible", () => {
  const svg =
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100" viewBox="0 0 200 100">' +
    '<g transform="translate(10,10)" clip-path="url(#c)">' +
    '<path d="M0,0L20,NaN" stroke="red"/>' +
    '<path transform="translate(NaN,3)" d="M0,0L5,5" stroke="red"/>' +
    '<line x1="Infinity" x2="3" y2="4" stroke="red"/>' +
    '<path d="M0,0L50,50" stroke="blue"/>' +
    '<path d="" display="none"/>' +
    '<text transform="translate(-7,50) rotate(-90)" font-size="12px">label &lt;a&gt;</text>' +
    '<line x1="-60" x2="-50" y2="10" stroke="green"/>' +
    "</g>" +
    '<defs><clipPath id="c"><rect x="9999" y="0" width="10" height="10"/></clipPath></defs></svg>';
  const g = guardSvg(svg);
  assert.equal(g.removed, 3);
  assert.match(g.svg, /stroke="blue"/);
  assert.match(g.svg, /label &lt;a&gt;/);
  assert.match(
    g.svg,
    /stroke="green"/,
    "just outside the canvas: kept (harmless)",
  );
  assert.match(g.svg, /x="9999"/, "definitions are not touched");
  svgToPng(svg);
});

test("guardSvg leaves an ordinary chart unchanged", async () => {
  const svg = await renderVegaLiteToSvg(
    linePlotSpec({
      series: [
        { name: "a", x: k, y: k.map((x) => 1 / x), yErr: k.map(() => 0.01) },
      ],
      xLabel: "k [h/Mpc]",
      yLabel: "P(k)",
      logX: true,
      logY: true,
      refLine: [{ y: 0.5 }, { x: 2 }],
      title: "ordinary",
    }),
  );
  const g = guardSvg(svg);
  assert.equal(g.removed, 0);
  assert.equal(g.svg, svg);
});

test("a raw Vega-Lite point far outside a fixed y range renders (renderer-side guard)", async () => {
  const out = join(tempDir(), "raw-point.png");
  await renderVegaLiteToPng(
    {
      width: 300,
      height: 200,
      data: {
        values: [
          { x: 1, y: 0 },
          { x: 2, y: 1e4 },
          { x: 3, y: -1e6 },
        ],
      },
      mark: { type: "point", filled: true, clip: true },
      encoding: {
        x: { field: "x", type: "quantitative" },
        y: { field: "y", type: "quantitative", scale: { domain: [-1, 1] } },
      },
    },
    out,
  );
  assertPng(out, 600, 400);
});

test("linePlot: a point outside a fixed y range (the reported crash) is left out and noted", async () => {
  const out = join(tempDir(), "fixed-y.png");
  const o: LinePlotOptions = {
    series: [
      {
        name: "residual",
        x: k,
        y: k.map((x, i) => (i === 5 ? 1e3 : i === 9 ? -50 : 0.1 * Math.sin(x))),
        yErr: k.map((_, i) => (i === 3 ? 10 : 0.05)),
      },
    ],
    xLabel: "k [h/Mpc]",
    yLabel: "P_gen/P_true − 1",
    logX: true,
    yDomain: [-0.2, 0.2],
    refLine: [
      { y: 0 },
      { y: 0.1 },
      { y: -0.1 },
      { y: 5 },
      { x: 1e3 },
      { x: 2 },
    ],
    title: "residual",
  };
  // rendering first: with the old code this is where the process died
  const notes = await linePlot(o, out);
  assert.deepEqual(notes, { nonFinite: 0, nonPositive: 0, outside: 2 });
  assertPng(out, 600, 400);
  const rows = rowsOf(linePlotSpec(o));
  for (const r of rows) {
    assert.ok(
      (r.y as number) >= -0.2 - 1e-12 && (r.y as number) <= 0.2 + 1e-12,
      `y ${r.y} in range`,
    );
    if (r.lo !== undefined)
      assert.ok((r.lo as number) >= -0.2 && (r.hi as number) <= 0.2);
  }
  assert.equal(rows.filter((r) => r.kind === "point").length, k.length - 2);
  // the line is cut at the frame: more than one piece, crossing points added on the edges
  const parts = new Set(
    rows.filter((r) => r.kind === "line").map((r) => r.part),
  );
  assert.ok(parts.size >= 3, `${parts.size} pieces`);
  assert.ok(
    rows.some(
      (r) => r.kind === "line" && Math.abs((r.y as number) - 0.2) < 1e-9,
    ),
  );
  const json = JSON.stringify(linePlotSpec(o));
  assert.match(json, /2 outside the axis range/);
  assert.doesNotMatch(
    json,
    /"datum":1000\b/,
    "reference line beyond the x range dropped",
  );
  assert.doesNotMatch(
    json,
    /"datum":5\b/,
    "reference line beyond the y range dropped",
  );
  assert.match(json, /"datum":2\b/);
});

test("linePlot: NaN, Infinity and values ≤ 0 on log axes are counted and left out", async () => {
  const out = join(tempDir(), "nonfinite.png");
  const notes = await linePlot(
    {
      series: [
        {
          name: "a",
          x: [0, 1, 2, 3, 4, 5],
          y: [1, NaN, Infinity, -1, 0, 2],
          yErr: [NaN, 1, 1, 1, 1, Infinity],
        },
        { name: "b", x: [NaN, -Infinity, 1], y: [1, 1, 1e-300] },
      ],
      xLabel: "x",
      yLabel: "y",
      logX: true,
      logY: true,
      title: "degenerate",
    },
    out,
  );
  assert.equal(notes.nonFinite, 4);
  assert.equal(notes.nonPositive, 3);
  assertPng(out, 600, 400);
});

const generic: [string, LinePlotOptions][] = [
  [
    "all NaN",
    {
      series: [{ name: "a", x: [1, 2, 3], y: [NaN, NaN, NaN] }],
      xLabel: "x",
      yLabel: "y",
    },
  ],
  [
    "all NaN, log",
    {
      series: [{ name: "a", x: [1, 2], y: [NaN, -1] }],
      xLabel: "x",
      yLabel: "y",
      logX: true,
      logY: true,
    },
  ],
  [
    "empty series",
    {
      series: [
        { name: "a", x: [], y: [] },
        { name: "b", x: [], y: [], yErr: [] },
      ],
      xLabel: "x",
      yLabel: "y",
      refLine: 1,
    },
  ],
  ["no series", { series: [], xLabel: "x", yLabel: "y" }],
  [
    "constant",
    {
      series: [{ name: "a", x: [1, 2, 3], y: [5, 5, 5], yErr: [0, 0, 0] }],
      xLabel: "x",
      yLabel: "y",
    },
  ],
  [
    "constant at 0",
    {
      series: [{ name: "a", x: [1, 2, 3], y: [0, 0, 0] }],
      xLabel: "x",
      yLabel: "y",
    },
  ],
  [
    "constant, log",
    {
      series: [{ name: "a", x: [2, 2, 2], y: [3, 3, 3] }],
      xLabel: "x",
      yLabel: "y",
      logX: true,
      logY: true,
    },
  ],
  [
    "single point",
    {
      series: [{ name: "a", x: [1], y: [1], yErr: [0.5] }],
      xLabel: "x",
      yLabel: "y",
      logX: true,
    },
  ],
  [
    "zero-width fixed ranges",
    {
      series: [{ name: "a", x: [1, 2, 3], y: [1, 2, 3] }],
      xLabel: "x",
      yLabel: "y",
      xDomain: [2, 2],
      yDomain: [0, 0],
    },
  ],
  [
    "reversed and non-finite fixed ranges",
    {
      series: [{ name: "a", x: [1, 2, 3], y: [1, 2, 3] }],
      xLabel: "x",
      yLabel: "y",
      xDomain: [3, 1],
      yDomain: [NaN, 1],
    },
  ],
  [
    "fixed log range ≤ 0",
    {
      series: [{ name: "a", x: [1, 2, 3], y: [1, 2, 3] }],
      xLabel: "x",
      yLabel: "y",
      logY: true,
      yDomain: [-1, 0],
    },
  ],
  [
    "everything outside the fixed range",
    {
      series: [{ name: "a", x: k, y: k.map(() => 1e9), yErr: k.map(() => 1) }],
      xLabel: "x",
      yLabel: "y",
      yDomain: [-1, 1],
      refLine: [{ x: -1e9 }, { y: 1e9 }],
    },
  ],
  [
    "error bars larger than the range",
    {
      series: [
        { name: "a", x: [1, 2, 3], y: [0, 0.5, -0.5], yErr: [1e12, 1e12, NaN] },
      ],
      xLabel: "x",
      yLabel: "y",
      yDomain: [-1, 1],
    },
  ],
  [
    "huge values",
    {
      series: [{ name: "a", x: [1, 2, 3], y: [1e300, -1e300, 1] }],
      xLabel: "x",
      yLabel: "y",
      logX: true,
    },
  ],
  [
    "fixed x range excluding the data",
    {
      series: [{ name: "a", x: [1, 2, 3], y: [1, 2, 3], points: true }],
      xLabel: "x",
      yLabel: "y",
      xDomain: [100, 200],
      refLine: [{ x: 1.5 }],
    },
  ],
];

for (const [name, o] of generic) {
  test(`linePlot renders degenerate input: ${name}`, async () => {
    const out = join(tempDir(), "degenerate.png");
    await linePlot(o, out);
    assertPng(out, 500, 300, 1);
  });
}

test("multiPanel: the stitching-diagnostics case (harmonic lines beyond the range, residuals far outside)", async () => {
  // as in the smoke run: spectra up to k_Nyquist ≈ 2.45 h/Mpc, harmonics of the tiling far beyond
  const kn = k.filter((x) => x <= 2.46);
  const harmonics = [0.5, 4.5, 9.0, 13.5, 18.0, 22.5, 27.0];
  const o = {
    panels: [
      {
        series: [
          { name: "overlap / truth − 1", x: kn, y: kn.map((x) => 30 * x) },
          {
            name: "tiling / truth − 1",
            x: kn,
            y: kn.map(() => NaN),
            dashed: true,
          },
          {
            name: "average / truth − 1",
            x: kn,
            y: kn.map((x) => x - 1),
            dashed: true,
          },
        ],
        xLabel: "k [h/Mpc]",
        yLabel: "P_map/P_truth − 1",
        logX: true,
        refLine: [{ y: 0 }, ...harmonics.map((x) => ({ x }))],
        yDomain: [-3, 3] as [number, number],
        title: "Stitched maps",
      },
      {
        series: [{ name: "overlap vs single pass", x: kn, y: kn.map(() => 1) }],
        xLabel: "k [h/Mpc]",
        yLabel: "r(k)",
        logX: true,
        refLine: [{ y: 1 }, ...harmonics.map((x) => ({ x }))],
      },
    ],
  };
  // rendering first: with the old code this is where the process died
  const out = join(tempDir(), "stitching.png");
  const notes = await multiPanel(o, out);
  assert.equal(notes.nonFinite, kn.length);
  assert.ok(notes.outside > 0);
  assertPng(out, 800, 600);
  const json = JSON.stringify(multiPanelSpec(o));
  assert.match(
    json,
    new RegExp(
      `not shown: ${kn.length} non-finite, \\d+ outside the axis range`,
    ),
  );
});

test("histogramPlot renders degenerate samples", async () => {
  const dir = tempDir();
  const cases = [
    { name: "all equal", values: [3, 3, 3, 3], logX: false },
    { name: "all equal, log", values: [0.3, 0.3, 0.3], logX: true },
    { name: "all NaN", values: [NaN, NaN], logX: false },
    { name: "≤ 0 with log bins", values: [0, -1, -2], logX: true },
    { name: "empty", values: [], logX: true },
  ];
  for (const [i, c] of cases.entries()) {
    const out = join(dir, `h${i}.png`);
    const notes = await histogramPlot(
      {
        series: [{ name: c.name, values: c.values }],
        xLabel: "x",
        logX: c.logX,
        logY: true,
        range: i === 0 ? [NaN, 1] : undefined,
      },
      out,
    );
    if (c.name === "all NaN") assert.equal(notes.nonFinite, 2);
    if (c.name.startsWith("≤ 0")) assert.equal(notes.nonPositive, 3);
    assertPng(out, 500, 300, 1);
  }
});
