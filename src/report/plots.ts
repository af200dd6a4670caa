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

/** What a plot left out, so that callers (and the plot's subtitle) can say so. */
export interface PlotNotes {
  /** Points (or histogram samples) with a NaN/±Infinity coordinate. */
  nonFinite: number;
  /** Points with a coordinate ≤ 0 on a log axis. */
  nonPositive: number;
  /** Points outside a fixed axis range (lines are cut at the frame, markers and error bars dropped or clipped). */
  outside: number;
}

function noNotes(): PlotNotes {
  return { nonFinite: 0, nonPositive: 0, outside: 0 };
}

function addNotes(a: PlotNotes, b: PlotNotes): PlotNotes {
  return {
    nonFinite: a.nonFinite + b.nonFinite,
    nonPositive: a.nonPositive + b.nonPositive,
    outside: a.outside + b.outside,
  };
}

/** "not shown: 3 non-finite, 2 ≤ 0 on a log axis" or undefined when nothing was left out. */
export function notesText(n: PlotNotes, noun = "point"): string | undefined {
  const parts: string[] = [];
  if (n.nonFinite > 0) parts.push(`${n.nonFinite} non-finite`);
  if (n.nonPositive > 0) parts.push(`${n.nonPositive} ≤ 0 on a log axis`);
  if (n.outside > 0) parts.push(`${n.outside} outside the axis range`);
  return parts.length > 0
    ? `not shown: ${parts.join(", ")} (${noun}${n.nonFinite + n.nonPositive + n.outside === 1 ? "" : "s"})`
    : undefined;
}

type Row = {
  series: string;
  /** 'line': vertices of the (clipped) curve; 'point': markers and error bars. */
  kind: "line" | "point";
  /** Line rows: one id per unbroken piece of a series. */
  part?: string;
  x: number;
  y: number;
  lo?: number;
  hi?: number;
  dashed: boolean;
};

const DEFAULT_W = 460;
const DEFAULT_H = 300;

function finiteFor(v: number, log: boolean): boolean {
  return Number.isFinite(v) && (!log || v > 0);
}

/** A clean point of a series (finite, positive on log axes). */
interface Pt {
  x: number;
  y: number;
  e?: number;
}

/** Finite points of a series (positive ones on log axes), sorted by x, with what was dropped. */
function cleanPoints(
  s: Series,
  logX: boolean,
  logY: boolean,
  notes: PlotNotes,
  noteNonPositiveY: boolean,
): Pt[] {
  const pts: Pt[] = [];
  const n = Math.min(s.x.length, s.y.length);
  for (let i = 0; i < n; i++) {
    const x = Number(s.x[i]);
    const y = Number(s.y[i]);
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      notes.nonFinite++;
      continue;
    }
    if ((logX && !(x > 0)) || (logY && !(y > 0))) {
      if (noteNonPositiveY || (logX && !(x > 0))) notes.nonPositive++;
      continue;
    }
    const p: Pt = { x, y };
    if (s.yErr) {
      const e = Math.abs(Number(s.yErr[i] ?? 0));
      if (Number.isFinite(e)) p.e = e;
    }
    pts.push(p);
  }
  // Vega-Lite draws lines in x order; sort here so that clipping sees the same polyline
  return pts
    .map((p, i) => [p, i] as const)
    .sort((a, b) => a[0].x - b[0].x || a[1] - b[1])
    .map(([p]) => p);
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

/** A usable fixed range: finite, increasing, non-zero width, positive on log axes; else undefined. */
function cleanDomain(
  d: [number, number] | undefined,
  log: boolean,
): [number, number] | undefined {
  if (!d) return undefined;
  let [lo, hi] = [Number(d[0]), Number(d[1])];
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return undefined;
  if (hi < lo) [lo, hi] = [hi, lo];
  if (log) {
    if (!(hi > 0)) return undefined;
    if (!(lo > 0)) lo = hi * 1e-3;
    if (!(hi > lo)) [lo, hi] = [lo / 2, hi * 2];
  } else if (!(hi > lo)) {
    const pad = Math.abs(lo) * 0.1 || 1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  return [lo, hi];
}

/** Axis settings for Vega-Lite plus the domain when it is known here (always, except for a niced linear y). */
interface AxisSpec {
  scale: object;
  axis: object;
  domain?: [number, number];
}

/** Log-axis domain padded by 3 % of its span in log space, with its ticks and a label expression. */
function logAxis(values: number[], fixed?: [number, number]): AxisSpec {
  const fx = cleanDomain(fixed, true);
  const ext = fx ??
    extent(values.filter((v) => v > 0 && Number.isFinite(v))) ?? [1, 10];
  let [lo, hi] = ext;
  if (!(hi > lo)) [lo, hi] = [lo / 2, hi * 2];
  if (!fx) {
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
    domain: [lo, hi],
  };
}

/**
 * Linear axis: the fixed range, else the exact extent (`exact`, used for x) or Vega's nice range
 * around the values; a constant or empty set of values gets a small range around it.
 */
function linearAxis(
  values: number[],
  fixed: [number, number] | undefined,
  exact: boolean,
): AxisSpec {
  const fx = cleanDomain(fixed, false);
  if (fx)
    return {
      scale: { domain: fx, nice: false, zero: false },
      axis: {},
      domain: fx,
    };
  const ext = extent(values.filter(Number.isFinite));
  if (!ext)
    return {
      scale: { domain: [0, 1], nice: false, zero: false },
      axis: {},
      domain: [0, 1],
    };
  if (!(ext[1] > ext[0]) || !Number.isFinite(ext[1] - ext[0])) {
    const d = cleanDomain(ext, false)!;
    return {
      scale: { domain: d, nice: !exact, zero: false },
      axis: {},
      domain: exact ? d : undefined,
    };
  }
  return exact
    ? {
        scale: { domain: ext, nice: false, zero: false },
        axis: {},
        domain: ext,
      }
    : { scale: { zero: false }, axis: {} };
}

function refLines(r: LinePlotOptions["refLine"]): RefLine[] {
  if (r === undefined) return [];
  if (typeof r === "number") return [{ y: r }];
  return Array.isArray(r) ? r : [r];
}

/** Position on the axis (log10 on log axes). */
const fwd = (v: number, log: boolean): number => (log ? Math.log10(v) : v);
const inv = (v: number, log: boolean): number => (log ? 10 ** v : v);

/** Liang–Barsky: the parameter range [t0, t1] of the segment a→b inside the box, or undefined. */
function clipSegment(
  ax: number,
  ay: number,
  bx: number,
  by: number,
  box: [number, number, number, number],
): [number, number] | undefined {
  let t0 = 0;
  let t1 = 1;
  const dx = bx - ax;
  const dy = by - ay;
  const edges: [number, number][] = [
    [-dx, ax - box[0]],
    [dx, box[1] - ax],
    [-dy, ay - box[2]],
    [dy, box[3] - ay],
  ];
  for (const [p, q] of edges) {
    if (!Number.isFinite(q)) continue; // unbounded side
    if (p === 0) {
      if (q < 0) return undefined;
    } else {
      const t = q / p;
      if (p < 0) {
        if (t > t1) return undefined;
        if (t > t0) t0 = t;
      } else {
        if (t < t0) return undefined;
        if (t < t1) t1 = t;
      }
    }
  }
  return [t0, t1];
}

/**
 * Corners of a step-after curve in axis space: bin i runs from x_i to x_{i+1} at y_i (the last
 * point only closes the last bin). Bins whose y cannot be drawn (≤ 0 on a log axis, non-finite)
 * become breaks instead of being bridged by a sloped line.
 */
function stepVertices(
  s: Series,
  logX: boolean,
  logY: boolean,
): ([number, number] | null)[] {
  const n = Math.min(s.x.length, s.y.length);
  const idx = Array.from({ length: n }, (_, i) => i)
    .filter((i) => finiteFor(Number(s.x[i]), logX))
    .sort((a, b) => Number(s.x[a]) - Number(s.x[b]) || a - b);
  const out: ([number, number] | null)[] = [];
  for (let j = 0; j + 1 < idx.length; j++) {
    const y = Number(s.y[idx[j]!]);
    if (!finiteFor(y, logY)) {
      out.push(null);
      continue;
    }
    const v = fwd(y, logY);
    out.push(
      [fwd(Number(s.x[idx[j]!]), logX), v],
      [fwd(Number(s.x[idx[j + 1]!]), logX), v],
    );
  }
  return out;
}

interface PanelSpecOptions {
  width: number;
  height: number;
  /** Shared x axis settings (for stacked panels) and whether to show its labels. */
  x?: AxisSpec;
  hideXLabels?: boolean;
  colorDomain: string[];
  curveType?: "linear" | "step-after";
  /** Count y ≤ 0 on a log y axis in the notes (not for histograms, where empty bins are expected). */
  noteNonPositiveY?: boolean;
}

/**
 * The layered Vega-Lite spec of one line panel (no top-level config) and what it left out.
 *
 * Every mark is kept inside the frame in data space: lines are cut where they leave a fixed range
 * (and at the x range), markers outside are dropped, error bars clamped, reference lines outside the
 * range dropped. Besides being what one wants to see, this matters for the PNG renderer: resvg
 * aborts the process on clipped or translucent marks far outside the canvas (see svg-guard.ts).
 */
function linePanel(
  o: LinePlotOptions,
  p: PanelSpecOptions,
): { spec: Record<string, unknown>; notes: PlotNotes } {
  const logX = !!o.logX;
  const logY = !!o.logY;
  const notes = noNotes();
  const clean = o.series.map((s) => ({
    s,
    pts: cleanPoints(s, logX, logY, notes, p.noteNonPositiveY ?? true),
  }));
  const refs = refLines(o.refLine).filter(
    (r) =>
      (r.y === undefined || finiteFor(r.y, logY)) &&
      (r.x === undefined || finiteFor(r.x, logX)) &&
      (r.x !== undefined || r.y !== undefined),
  );
  const xs = clean.flatMap((c) => c.pts.map((q) => q.x));
  const ys: number[] = [];
  for (const c of clean)
    for (const q of c.pts) {
      ys.push(q.y);
      if (q.e !== undefined) {
        ys.push(logY ? Math.max(q.y - q.e, q.y * 1e-3) : q.y - q.e);
        ys.push(q.y + q.e);
      }
    }
  for (const r of refs) if (r.y !== undefined) ys.push(r.y);
  const x =
    p.x ?? (logX ? logAxis(xs, o.xDomain) : linearAxis(xs, o.xDomain, true));
  const y = logY ? logAxis(ys, o.yDomain) : linearAxis(ys, o.yDomain, false);
  const xd = x.domain ?? [-Infinity, Infinity];
  const yd = y.domain ?? [-Infinity, Infinity];
  // the frame in axis space (lines are cut there); markers on its edge (within rounding) stay in
  const frame = (d: [number, number], log: boolean): [number, number] => [
    Number.isFinite(d[0]) ? fwd(d[0], log) : -Infinity,
    Number.isFinite(d[1]) ? fwd(d[1], log) : Infinity,
  ];
  const [fx0, fx1] = frame(xd, logX);
  const [fy0, fy1] = frame(yd, logY);
  const box: [number, number, number, number] = [fx0, fx1, fy0, fy1];
  const tol = (a: number, b: number): number =>
    Number.isFinite(b - a) ? (b - a) * 1e-9 : 0;
  const tx = tol(fx0, fx1);
  const ty = tol(fy0, fy1);
  const inside = (q: Pt): boolean => {
    const u = fwd(q.x, logX);
    const v = fwd(q.y, logY);
    return u >= fx0 - tx && u <= fx1 + tx && v >= fy0 - ty && v <= fy1 + ty;
  };
  const clamp = (v: number, d: [number, number]): number =>
    Math.min(Math.max(v, d[0]), d[1]);
  const rows: Row[] = [];
  const step = p.curveType === "step-after";
  for (const [si, { s, pts }] of clean.entries()) {
    const dashed = !!s.dashed;
    notes.outside += pts.filter((q) => !inside(q)).length; // only with a fixed range
    // the line: vertices in axis space (steps expanded into their corners), cut at the frame
    // (null: a break, e.g. an empty histogram bin on a log axis)
    const verts: ([number, number] | null)[] = step
      ? stepVertices(s, logX, logY)
      : pts.map((q) => [fwd(q.x, logX), fwd(q.y, logY)]);
    let part = 0;
    let open = false;
    const emit = (u: number, v: number): void => {
      rows.push({
        series: s.name,
        kind: "line",
        part: `${si}:${part}`,
        x: clamp(inv(u, logX), xd),
        y: clamp(inv(v, logY), yd),
        dashed,
      });
    };
    if (!step && pts.length === 1 && inside(pts[0]!))
      emit(verts[0]![0], verts[0]![1]);
    for (let i = 0; i + 1 < verts.length; i++) {
      const a = verts[i];
      const b = verts[i + 1];
      const t = a && b ? clipSegment(a[0], a[1], b[0], b[1], box) : undefined;
      if (!t) {
        if (open) part++;
        open = false;
        continue;
      }
      const [ax, ay] = a!;
      const [bx, by] = b!;
      const [t0, t1] = t;
      if (!open || t0 > 0) {
        if (open) part++;
        emit(ax + t0 * (bx - ax), ay + t0 * (by - ay));
      }
      emit(ax + t1 * (bx - ax), ay + t1 * (by - ay));
      open = t1 >= 1;
      if (!open) part++;
    }
    // markers and error bars: points inside the frame, bars clamped to it
    if (s.points || s.yErr) {
      for (const q of pts) {
        if (!inside(q)) continue;
        const row: Row = {
          series: s.name,
          kind: "point",
          x: q.x,
          y: q.y,
          dashed,
        };
        if (q.e !== undefined) {
          let lo = logY ? Math.max(q.y - q.e, q.y * 1e-3) : q.y - q.e;
          let hi = q.y + q.e;
          if (y.domain) {
            lo = Math.max(lo, y.domain[0]);
            hi = Math.min(hi, y.domain[1]);
          }
          if (hi > lo) [row.lo, row.hi] = [lo, hi];
        }
        rows.push(row);
      }
    }
  }
  const visibleRefs = refs.filter(
    (r) =>
      (r.y === undefined || (r.y >= yd[0] && r.y <= yd[1])) &&
      (r.x === undefined || (r.x >= xd[0] && r.x <= xd[1])),
  );
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
  for (const r of visibleRefs) {
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
    transform: [{ filter: "datum.kind == 'line'" }],
    mark: {
      type: "line",
      interpolate: "linear",
      clip: true,
      strokeWidth: 2,
    },
    encoding: {
      x: xEnc,
      y: yEnc,
      color,
      strokeDash,
      detail: { field: "part" },
    },
  });
  const withErr = rows.some((r) => r.lo !== undefined);
  if (withErr) {
    layers.push({
      transform: [{ filter: "datum.kind == 'point' && isValid(datum.lo)" }],
      mark: { type: "rule", strokeWidth: 1.4, clip: true },
      encoding: {
        x: { field: "x", type: "quantitative" },
        y: { field: "lo", type: "quantitative" },
        y2: { field: "hi" },
        color,
      },
    });
  }
  if (rows.some((r) => r.kind === "point")) {
    layers.push({
      transform: [{ filter: "datum.kind == 'point'" }],
      mark: { type: "point", filled: true, size: 28, clip: true },
      encoding: {
        x: { field: "x", type: "quantitative" },
        y: { field: "y", type: "quantitative" },
        color,
      },
    });
  }
  return {
    spec: {
      width: p.width,
      height: p.height,
      ...(o.title ? { title: { text: wrapTitle(o.title, titleChars(p.width)) } } : {}),
      data: { values: rows },
      layer: layers,
    },
    notes,
  };
}

/**
 * A long title broken at spaces into lines of at most `max` characters: vega sizes the image to fit the title, so a
 * one-line title longer than the plot leaves an empty band beside it.
 */
export function wrapTitle(title: string, max: number): string | string[] {
  if (title.length <= max) return title;
  const lines: string[] = [];
  let line = "";
  for (const word of title.split(" ")) {
    if (line && line.length + 1 + word.length > max) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Characters of a bold title line that fit over a plot `width` pixels wide (about 8 px each). */
function titleChars(width: number): number {
  return Math.max(40, Math.floor(width / 8));
}

/** A title with the notes as its subtitle (or the plain title when nothing was left out). */
function titleWithNotes(
  title: string | undefined,
  notes: PlotNotes,
  noun?: string,
  width = DEFAULT_W,
): Record<string, unknown> {
  const sub = notesText(notes, noun);
  const text = title ? wrapTitle(title, titleChars(width)) : undefined;
  if (!sub) return text ? { title: { text } } : {};
  return {
    title: {
      text: text ?? " ",
      subtitle: sub,
      subtitleFontSize: 11,
      subtitleColor: "#a33",
    },
  };
}

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

function namesOf(series: { name: string }[]): string[] {
  return [...new Set(series.map((s) => s.name))];
}

function linePlotParts(o: LinePlotOptions): {
  spec: TopLevelSpec;
  notes: PlotNotes;
} {
  const { spec, notes } = linePanel(
    { ...o, title: undefined },
    {
      width: o.width ?? DEFAULT_W,
      height: o.height ?? DEFAULT_H,
      colorDomain: namesOf(o.series),
    },
  );
  return {
    spec: {
      $schema: SCHEMA,
      ...spec,
      ...titleWithNotes(o.title, notes, undefined, o.width ?? DEFAULT_W),
    } as TopLevelSpec,
    notes,
  };
}

/**
 * Vega-Lite spec of `linePlot` (exposed for tests and for callers that want the SVG). Non-finite
 * points, points ≤ 0 on log axes and points outside a fixed range are left out and counted in the
 * subtitle.
 */
export function linePlotSpec(o: LinePlotOptions): TopLevelSpec {
  return linePlotParts(o).spec;
}

/**
 * Line plot (P(k), ratios, r(k), loss curves, mass functions with error bars) written as PNG.
 * Returns what was left out (also noted in the subtitle).
 */
export async function linePlot(
  o: LinePlotOptions,
  outPng: string,
): Promise<PlotNotes> {
  const { spec, notes } = linePlotParts(o);
  await renderVegaLiteToPng(spec, outPng);
  return notes;
}

/** Bin edges: `bins` equal steps over [lo, hi], in log10 when `log`. */
export function binEdges(
  lo: number,
  hi: number,
  bins: number,
  log = false,
): Float64Array {
  if (!Number.isFinite(lo) || !Number.isFinite(hi))
    throw new Error(`bins need a finite range, got [${lo}, ${hi}]`);
  if (!(bins >= 1)) bins = 1;
  bins = Math.round(bins);
  if (!(hi > lo))
    [lo, hi] = log && lo > 0 ? [lo / 2, hi * 2] : [lo - 0.5, hi + 0.5];
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

/** Binning range: `o.range` when usable, else the finite (positive with logX) min/max over all series. */
function histogramRange(o: HistogramOptions): [number, number] {
  const r = cleanDomain(o.range, !!o.logX);
  if (r) return r;
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

/** Samples that cannot be binned: non-finite, or ≤ 0 with log bins. */
function unbinnable(o: HistogramOptions): PlotNotes {
  const n = noNotes();
  for (const s of o.series) {
    if (!s.values || (s.edges && s.counts)) continue;
    for (let i = 0; i < s.values.length; i++) {
      const v = Number(s.values[i]);
      if (!Number.isFinite(v)) n.nonFinite++;
      else if (o.logX && !(v > 0)) n.nonPositive++;
    }
  }
  return n;
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

function histogramParts(o: HistogramOptions): {
  spec: TopLevelSpec;
  notes: PlotNotes;
} {
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
  };
  const panel = linePanel(lp, {
    width: o.width ?? DEFAULT_W,
    height: o.height ?? DEFAULT_H,
    colorDomain: namesOf(series),
    curveType: "step-after",
    noteNonPositiveY: false,
  });
  const notes = addNotes(panel.notes, unbinnable(o));
  return {
    spec: {
      $schema: SCHEMA,
      ...panel.spec,
      ...titleWithNotes(o.title, notes, "value", o.width ?? DEFAULT_W),
    } as TopLevelSpec,
    notes,
  };
}

/** Vega-Lite spec of `histogramPlot`. */
export function histogramPlotSpec(o: HistogramOptions): TopLevelSpec {
  return histogramParts(o).spec;
}

/**
 * Histograms / PDFs of several series as step lines, written as PNG. Returns the samples left out
 * (non-finite, ≤ 0 with logX; also noted in the subtitle).
 */
export async function histogramPlot(
  o: HistogramOptions,
  outPng: string,
): Promise<PlotNotes> {
  const { spec, notes } = histogramParts(o);
  await renderVegaLiteToPng(spec, outPng);
  return notes;
}

function multiPanelParts(o: MultiPanelOptions): {
  spec: TopLevelSpec;
  notes: PlotNotes;
} {
  if (o.panels.length === 0)
    throw new Error("multiPanel needs at least one panel");
  const first = o.panels[0]!;
  const logX = !!first.logX;
  const xs = o.panels.flatMap((p) =>
    p.series.flatMap((s) =>
      cleanPoints(s, logX, !!p.logY, noNotes(), true).map((q) => q.x),
    ),
  );
  const x = logX
    ? logAxis(xs, first.xDomain)
    : linearAxis(xs, first.xDomain, true);
  const colorDomain = namesOf(o.panels.flatMap((p) => p.series));
  const width = o.width ?? DEFAULT_W;
  let notes = noNotes();
  const panels = o.panels.map((p, i) => {
    const panel = linePanel(
      { ...p, logX, title: i === 0 ? p.title : undefined },
      {
        width,
        height: o.heights?.[i] ?? (i === 0 ? DEFAULT_H : 130),
        x,
        hideXLabels: i < o.panels.length - 1,
        colorDomain,
      },
    );
    notes = addNotes(notes, panel.notes);
    return panel.spec;
  });
  return {
    spec: {
      $schema: SCHEMA,
      ...titleWithNotes(o.title, notes, undefined, width),
      vconcat: panels,
      spacing: 6,
      resolve: { scale: { x: "shared", y: "independent" } },
    } as unknown as TopLevelSpec,
    notes,
  };
}

/** Vega-Lite spec of `multiPanel`. */
export function multiPanelSpec(o: MultiPanelOptions): TopLevelSpec {
  return multiPanelParts(o).spec;
}

/**
 * Stacked panels sharing x, e.g. P(k) on top and the ratio to the truth below, written as PNG.
 * Returns what was left out over all panels (also noted in the subtitle).
 */
export async function multiPanel(
  o: MultiPanelOptions,
  outPng: string,
): Promise<PlotNotes> {
  const { spec, notes } = multiPanelParts(o);
  await renderVegaLiteToPng(spec, outPng);
  return notes;
}
