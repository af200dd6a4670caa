import type { TopLevelSpec } from "vega-lite";
import { renderVegaLiteToPng } from "./chart.js";
import { logTickLabels, logTicks, prettyUnits } from "./ticks.js";

/** One curve. `yErr` (same length as y) draws symmetric error bars with markers. */
export interface Series {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  yErr?: ArrayLike<number>;
  /** Dashed line (e.g. the prediction against a solid truth). */
  dashed?: boolean;
  /** Draw markers at the points (always on when yErr is given). */
  points?: boolean;
}

/** Horizontal (`y`) or vertical (`x`) reference line, e.g. `{ y: 1 }` on a ratio plot. */
export interface RefLine {
  y?: number;
  x?: number;
}

export interface LinePlotOptions {
  series: Series[];
  /** Axis titles with units, e.g. "k [h/Mpc]", "P(k) [(Mpc/h)^3]" (`^n` becomes a superscript). */
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  logY?: boolean;
  title?: string;
  /** A number is shorthand for `{ y: number }`. */
  refLine?: number | RefLine | RefLine[];
  /** Fixed axis ranges (data units). */
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Plot area in SVG units (default 460 × 300; the PNG is twice that). */
  width?: number;
  height?: number;
}

export interface HistogramSeries {
  name: string;
  /** Raw samples (binned with the plot's `bins`/`range`), or ... */
  values?: ArrayLike<number>;
  /** ... precomputed bins: `edges` (n + 1) and `counts` (n). */
  edges?: ArrayLike<number>;
  counts?: ArrayLike<number>;
  dashed?: boolean;
}

export interface HistogramOptions {
  series: HistogramSeries[];
  xLabel: string;
  /** Default "PDF" when `density`, else "count". */
  yLabel?: string;
  /** Number of bins for raw samples (default 50). */
  bins?: number;
  /** Binning range for raw samples (default: finite min/max over all series; positive values only with logX). */
  range?: [number, number];
  /** Log-spaced bins and a log x axis. */
  logX?: boolean;
  logY?: boolean;
  /** Normalise each series so that its integral over x is 1 (default true). */
  density?: boolean;
  title?: string;
  width?: number;
  height?: number;
}

export interface MultiPanelOptions {
  /** Panels stacked top to bottom, sharing the x axis (labels only on the bottom one). */
  panels: LinePlotOptions[];
  title?: string;
  /** Panel heights in SVG units (default: 300 for the first, 130 for the others). */
  heights?: number[];
  width?: number;
}

type Row = {
  series: string;
  x: number;
  y: number | null;
  lo?: number;
  hi?: number;
  dashed: boolean;
};

const DEFAULT_W = 460;
const DEFAULT_H = 300;

function finiteFor(v: number, log: boolean): boolean {
  return Number.isFinite(v) && (!log || v > 0);
}

function seriesRows(s: Series, logX: boolean, logY: boolean): Row[] {
  const rows: Row[] = [];
  const n = Math.min(s.x.length, s.y.length);
  for (let i = 0; i < n; i++) {
    const x = s.x[i]!;
    const y = s.y[i]!;
    if (!finiteFor(x, logX) || !finiteFor(y, logY)) continue;
    const row: Row = { series: s.name, x, y, dashed: !!s.dashed };
    if (s.yErr) {
      const e = Math.abs(s.yErr[i] ?? 0);
      if (Number.isFinite(e)) {
        row.lo = logY ? Math.max(y - e, y * 1e-3) : y - e;
        row.hi = y + e;
      }
    }
    rows.push(row);
  }
  return rows;
}

function extent(values: number[]): [number, number] | undefined {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return Number.isFinite(lo) && Number.isFinite(hi) ? [lo, hi] : undefined;
}

/** Log-axis domain padded by 3 % of its span in log space, with its ticks and a label expression. */
function logAxis(values: number[], fixed?: [number, number]) {
  const ext = fixed ?? extent(values.filter((v) => v > 0)) ?? [1, 10];
  let [lo, hi] = ext;
  if (!(hi > lo)) [lo, hi] = [lo / 2, hi * 2];
  if (!fixed) {
    const pad = 0.03 * (Math.log10(hi) - Math.log10(lo));
    lo /= 10 ** pad;
    hi *= 10 ** pad;
  }
  const ticks = logTicks(lo, hi);
  const labels = logTickLabels(ticks);
  const expr =
    ticks
      .map((t, i) => `abs(datum.value / ${t} - 1) < 1e-6 ? '${labels[i]}' : `)
      .join("") + `''`;
  return {
    scale: { type: "log" as const, domain: [lo, hi], nice: false },
    axis: { values: ticks, labelExpr: expr },
  };
}

function linearAxis(
  values: number[],
  fixed: [number, number] | undefined,
  exact: boolean,
) {
  if (fixed)
    return { scale: { domain: fixed, nice: false, zero: false }, axis: {} };
  const ext = exact ? extent(values) : undefined;
  return {
    scale:
      ext && ext[1] > ext[0]
        ? { domain: ext, nice: false, zero: false }
        : { zero: false },
    axis: {},
  };
}

function refLines(r: LinePlotOptions["refLine"]): RefLine[] {
  if (r === undefined) return [];
  if (typeof r === "number") return [{ y: r }];
  return Array.isArray(r) ? r : [r];
}

interface PanelSpecOptions {
  width: number;
  height: number;
  /** Shared x axis settings (for stacked panels) and whether to show its labels. */
  x?: { scale: object; axis: object };
  hideXLabels?: boolean;
  colorDomain: string[];
  curveType?: "linear" | "step-after";
}

/** The layered Vega-Lite spec of one line panel (no top-level config). */
function linePanel(
  o: LinePlotOptions,
  p: PanelSpecOptions,
): Record<string, unknown> {
  const logX = !!o.logX;
  const logY = !!o.logY;
  const rows = o.series.flatMap((s) => seriesRows(s, logX, logY));
  const refs = refLines(o.refLine);
  const xs = rows.map((r) => r.x);
  const ys = rows.flatMap((r) => [
    r.y!,
    ...(r.lo !== undefined ? [r.lo, r.hi!] : []),
  ]);
  for (const r of refs) if (r.y !== undefined) ys.push(r.y);
  const x =
    p.x ?? (logX ? logAxis(xs, o.xDomain) : linearAxis(xs, o.xDomain, true));
  const y = logY ? logAxis(ys, o.yDomain) : linearAxis(ys, o.yDomain, false);
  const xEnc = {
    field: "x",
    type: "quantitative",
    title: p.hideXLabels ? null : prettyUnits(o.xLabel),
    scale: x.scale,
    axis: { ...x.axis, ...(p.hideXLabels ? { labels: false } : {}) },
  };
  const yEnc = {
    field: "y",
    type: "quantitative",
    title: prettyUnits(o.yLabel),
    scale: y.scale,
    axis: y.axis,
  };
  const color = {
    field: "series",
    type: "nominal",
    title: null,
    scale: { domain: p.colorDomain },
    legend: p.colorDomain.length > 1 ? {} : null,
  };
  const strokeDash = {
    field: "dashed",
    type: "nominal",
    scale: {
      domain: [false, true],
      range: [
        [1, 0],
        [6, 4],
      ],
    },
    legend: null,
  };
  const layers: Record<string, unknown>[] = [];
  for (const r of refs) {
    const enc =
      r.y !== undefined
        ? { y: { datum: r.y, type: "quantitative" } }
        : { x: { datum: r.x, type: "quantitative" } };
    layers.push({
      mark: {
        type: "rule",
        color: "#555",
        strokeDash: [4, 3],
        strokeWidth: 1.2,
        clip: true,
      },
      encoding: enc,
    });
  }
  layers.push({
    mark: {
      type: "line",
      interpolate: p.curveType ?? "linear",
      clip: true,
      strokeWidth: 2,
    },
    encoding: {
      x: xEnc,
      y: yEnc,
      color,
      strokeDash,
      detail: { field: "series" },
    },
  });
  const withErr = rows.some((r) => r.lo !== undefined);
  if (withErr) {
    layers.push({
      transform: [{ filter: "isValid(datum.lo)" }],
      mark: { type: "rule", strokeWidth: 1.4, clip: true },
      encoding: {
        x: { field: "x", type: "quantitative" },
        y: { field: "lo", type: "quantitative" },
        y2: { field: "hi" },
        color,
      },
    });
  }
  const pointSeries = o.series
    .filter((s) => s.points || s.yErr)
    .map((s) => s.name);
  if (pointSeries.length > 0) {
    layers.push({
      transform: [{ filter: { field: "series", oneOf: pointSeries } }],
      mark: { type: "point", filled: true, size: 28, clip: true },
      encoding: {
        x: { field: "x", type: "quantitative" },
        y: { field: "y", type: "quantitative" },
        color,
      },
    });
  }
  return {
    width: p.width,
    height: p.height,
    ...(o.title ? { title: o.title } : {}),
    data: { values: rows },
    layer: layers,
  };
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

function namesOf(series: { name: string }[]): string[] {
  return [...new Set(series.map((s) => s.name))];
}

/** Vega-Lite spec of `linePlot` (exposed for tests and for callers that want the SVG). */
export function linePlotSpec(o: LinePlotOptions): TopLevelSpec {
  return {
    $schema: SCHEMA,
    ...linePanel(o, {
      width: o.width ?? DEFAULT_W,
      height: o.height ?? DEFAULT_H,
      colorDomain: namesOf(o.series),
    }),
  } as TopLevelSpec;
}

/** Line plot (P(k), ratios, r(k), loss curves, mass functions with error bars) written as PNG. */
export async function linePlot(
  o: LinePlotOptions,
  outPng: string,
): Promise<void> {
  await renderVegaLiteToPng(linePlotSpec(o), outPng);
}

/** Bin edges: `bins` equal steps over [lo, hi], in log10 when `log`. */
export function binEdges(
  lo: number,
  hi: number,
  bins: number,
  log = false,
): Float64Array {
  if (!(hi > lo)) [lo, hi] = [lo - 0.5, hi + 0.5];
  if (log && !(lo > 0))
    throw new Error(
      `log-spaced bins need a positive range, got [${lo}, ${hi}]`,
    );
  const e = new Float64Array(bins + 1);
  for (let i = 0; i <= bins; i++) {
    const t = i / bins;
    e[i] = log
      ? 10 ** (Math.log10(lo) + t * (Math.log10(hi) - Math.log10(lo)))
      : lo + t * (hi - lo);
  }
  return e;
}

/**
 * Counts of `values` in the bins given by `edges` (last bin closed on the right; values outside are
 * ignored). With `density`, counts are divided by (total in range × bin width) so the integral is 1.
 */
export function histogram(
  values: ArrayLike<number>,
  edges: ArrayLike<number>,
  density = false,
): Float64Array {
  const n = edges.length - 1;
  const counts = new Float64Array(n);
  const lo = edges[0]!;
  const hi = edges[n]!;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!(v >= lo && v <= hi)) continue;
    // binary search for the bin
    let a = 0;
    let b = n;
    while (b - a > 1) {
      const m = (a + b) >> 1;
      if (v >= edges[m]!) a = m;
      else b = m;
    }
    counts[a]! += 1;
  }
  if (density) {
    const total = counts.reduce((s, c) => s + c, 0);
    if (total > 0)
      for (let i = 0; i < n; i++)
        counts[i] = counts[i]! / (total * (edges[i + 1]! - edges[i]!));
  }
  return counts;
}

function histogramRange(o: HistogramOptions): [number, number] {
  if (o.range) return o.range;
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of o.series) {
    if (!s.values) continue;
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i]!;
      if (!finiteFor(v, !!o.logX)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  if (!Number.isFinite(lo)) return o.logX ? [1, 10] : [0, 1];
  return [lo, hi];
}

/** Step-outline points of a histogram: (e_i, c_i) for every bin plus (e_n, c_{n-1}). */
function stepSeries(
  name: string,
  edges: ArrayLike<number>,
  counts: ArrayLike<number>,
  dashed?: boolean,
): Series {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < counts.length; i++) {
    x.push(edges[i]!);
    y.push(counts[i]!);
  }
  x.push(edges[counts.length]!);
  y.push(counts[counts.length - 1] ?? 0);
  return { name, x, y, dashed };
}

/** Vega-Lite spec of `histogramPlot`. */
export function histogramPlotSpec(o: HistogramOptions): TopLevelSpec {
  const density = o.density ?? true;
  const [lo, hi] = histogramRange(o);
  const edges = binEdges(lo, hi, o.bins ?? 50, !!o.logX);
  const series = o.series.map((s) => {
    if (s.edges && s.counts)
      return stepSeries(s.name, s.edges, s.counts, s.dashed);
    if (!s.values)
      throw new Error(
        `histogram series '${s.name}' needs values or edges + counts`,
      );
    return stepSeries(
      s.name,
      edges,
      histogram(s.values, edges, density),
      s.dashed,
    );
  });
  const lp: LinePlotOptions = {
    series,
    xLabel: o.xLabel,
    yLabel: o.yLabel ?? (density ? "PDF" : "count"),
    logX: o.logX,
    logY: o.logY,
    title: o.title,
  };
  return {
    $schema: SCHEMA,
    ...linePanel(lp, {
      width: o.width ?? DEFAULT_W,
      height: o.height ?? DEFAULT_H,
      colorDomain: namesOf(series),
      curveType: "step-after",
    }),
  } as TopLevelSpec;
}

/** Histograms / PDFs of several series as step lines, written as PNG. */
export async function histogramPlot(
  o: HistogramOptions,
  outPng: string,
): Promise<void> {
  await renderVegaLiteToPng(histogramPlotSpec(o), outPng);
}

/** Vega-Lite spec of `multiPanel`. */
export function multiPanelSpec(o: MultiPanelOptions): TopLevelSpec {
  if (o.panels.length === 0)
    throw new Error("multiPanel needs at least one panel");
  const first = o.panels[0]!;
  const logX = !!first.logX;
  const xs = o.panels.flatMap((p) =>
    p.series.flatMap((s) => seriesRows(s, logX, !!p.logY).map((r) => r.x)),
  );
  const x = logX
    ? logAxis(xs, first.xDomain)
    : linearAxis(xs, first.xDomain, true);
  const colorDomain = namesOf(o.panels.flatMap((p) => p.series));
  const width = o.width ?? DEFAULT_W;
  const panels = o.panels.map((p, i) =>
    linePanel(
      { ...p, logX, title: i === 0 ? p.title : undefined },
      {
        width,
        height: o.heights?.[i] ?? (i === 0 ? DEFAULT_H : 130),
        x,
        hideXLabels: i < o.panels.length - 1,
        colorDomain,
      },
    ),
  );
  return {
    $schema: SCHEMA,
    ...(o.title ? { title: o.title } : {}),
    vconcat: panels,
    spacing: 6,
    resolve: { scale: { x: "shared", y: "independent" } },
  } as unknown as TopLevelSpec;
}

/** Stacked panels sharing x, e.g. P(k) on top and the ratio to the truth below, written as PNG. */
export async function multiPanel(
  o: MultiPanelOptions,
  outPng: string,
): Promise<void> {
  await renderVegaLiteToPng(multiPanelSpec(o), outPng);
}
