import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import {
  renderVegaLiteToPng,
  renderVegaLiteToSvg,
} from "../../src/report/chart.js";
import { chooseFont } from "../../src/report/fonts.js";
import {
  histogram,
  binEdges,
  histogramPlot,
  linePlot,
  linePlotSpec,
  multiPanel,
  wrapTitle,
} from "../../src/report/plots.js";
import { assertPng, darkPixels, tempDir } from "./helpers.js";

const k = Array.from({ length: 30 }, (_, i) => 0.1 * 1.15 ** i);
const pk = k.map((x) => (2e4 * x) / (1 + (x / 0.2) ** 2.5));

test("a font family with files on this machine is chosen", () => {
  const f = chooseFont();
  assert.ok(f.family.length > 0);
});

test("renderVegaLiteToPng writes a PNG whose axis-label area holds text", async () => {
  const out = join(tempDir(), "simple.png");
  const spec = {
    width: 300,
    height: 200,
    data: {
      values: [
        { x: 1, y: 2 },
        { x: 2, y: 5 },
      ],
    },
    mark: "line" as const,
    encoding: {
      x: { field: "x", type: "quantitative" as const, title: "k [h/Mpc]" },
      y: { field: "y", type: "quantitative" as const },
    },
  };
  const svg = await renderVegaLiteToSvg(spec);
  assert.match(svg, /^<svg/);
  assert.match(svg, /k \[h\/Mpc\]/);
  await renderVegaLiteToPng(spec, out);
  const { height } = assertPng(out, 600, 400);
  // the bottom strip (tick labels + x title) contains dark glyph pixels: text was rasterised
  assert.ok(darkPixels(out, 0, height - 60, 10000, height) > 200);
});

test("linePlot: log-log P(k) with a reference line and error bars", async () => {
  const spec = linePlotSpec({
    series: [{ name: "truth", x: k, y: pk, yErr: pk.map((p) => 0.1 * p) }],
    xLabel: "k [h/Mpc]",
    yLabel: "P(k) [(Mpc/h)^3]",
    logX: true,
    logY: true,
    refLine: 100,
  });
  const json = JSON.stringify(spec);
  assert.match(json, /"type":"log"/);
  assert.match(json, /\(Mpc\/h\)³/);
  assert.match(json, /"rule"/);
  const out = join(tempDir(), "pk.png");
  await linePlot(
    {
      series: [
        { name: "truth", x: k, y: pk },
        { name: "model", x: k, y: pk.map((p) => p * 1.1), dashed: true },
      ],
      xLabel: "k [h/Mpc]",
      yLabel: "P(k) [(Mpc/h)^3]",
      logX: true,
      logY: true,
      title: "P(k)",
    },
    out,
  );
  assertPng(out, 800, 500);
});

test("linePlot drops non-positive points on log axes instead of failing", async () => {
  const out = join(tempDir(), "loss.png");
  await linePlot(
    {
      series: [{ name: "loss", x: [0, 1, 2, 3], y: [1, 0, 0.5, NaN] }],
      xLabel: "epoch",
      yLabel: "loss",
      logY: true,
    },
    out,
  );
  assertPng(out, 600, 400);
});

test("histogram counts, density normalisation and plot", async () => {
  const edges = binEdges(0, 4, 4);
  assert.deepEqual([...edges], [0, 1, 2, 3, 4]);
  assert.deepEqual(
    [...histogram([0, 0.5, 1, 3.9, 4, 5, -1], edges)],
    [2, 1, 0, 2],
  );
  const dens = histogram([0, 0.5, 1, 3.9, 4], edges, true);
  assert.ok(Math.abs(dens.reduce((s, v) => s + v, 0) - 1) < 1e-12);
  const log = binEdges(1, 100, 2, true);
  assert.ok(Math.abs(log[1]! - 10) < 1e-9);
  const out = join(tempDir(), "pdf.png");
  const values = Array.from({ length: 5000 }, (_, i) =>
    Math.exp(Math.sin(i * 12.9898) * 3),
  );
  await histogramPlot(
    {
      series: [
        { name: "truth", values },
        { name: "pred", values: values.map((v) => v * 1.1), dashed: true },
      ],
      xLabel: "T_b [mK]",
      logX: true,
      logY: true,
      bins: 30,
    },
    out,
  );
  assertPng(out, 800, 500);
});

test("multiPanel stacks P(k) and its ratio on a shared x axis", async () => {
  const out = join(tempDir(), "multi.png");
  await multiPanel(
    {
      title: "P(k)",
      panels: [
        {
          series: [
            { name: "truth", x: k, y: pk },
            { name: "pred", x: k, y: pk.map((p) => p * 1.05) },
          ],
          xLabel: "k [h/Mpc]",
          yLabel: "P(k) [(Mpc/h)^3]",
          logX: true,
          logY: true,
        },
        {
          series: [{ name: "pred", x: k, y: k.map(() => 1.05) }],
          xLabel: "k [h/Mpc]",
          yLabel: "ratio",
          refLine: 1,
        },
      ],
    },
    out,
  );
  const { height } = assertPng(out, 800, 700);
  assert.ok(height > 800);
});

test("wrapTitle: a long title is broken at spaces into lines that fit; a short one is kept", () => {
  assert.equal(wrapTitle("short title", 40), "short title");
  const long = "21 cm power spectrum at z = 11.37, ⟨δT_b⟩ = -97.30 mK (64 Mpc/h, 32^3)";
  const lines = wrapTitle(long, 40);
  assert.ok(Array.isArray(lines) && lines.length === 2, JSON.stringify(lines));
  for (const l of lines) assert.ok(l.length <= 40, l);
  assert.equal(lines.join(" "), long);
  // a word longer than the line stays whole on its own line
  assert.deepEqual(wrapTitle("a " + "x".repeat(50) + " b", 40), ["a", "x".repeat(50), "b"]);
});
