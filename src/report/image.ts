import { writeFileAtomic } from "../util/atomic.js";
import { applyColormap, colormapLut, type ColormapName } from "./colormap.js";
import { chooseFont } from "./fonts.js";
import { pngDataUri, upscaleNearest, type Rgba } from "./png.js";
import { svgToPng } from "./raster.js";
import {
  colorScale,
  extractSlice,
  keptAxes,
  normalizeAll,
  projectSlab,
  type Axis,
  type ColorScale,
  type Map2D,
  type Shape3,
} from "./slice.js";
import { image, line, rect, svgDocument, text, textWidth } from "./svg.js";
import {
  formatNumber,
  linearTicks,
  logTickLabels,
  logTicks,
  prettyUnits,
} from "./ticks.js";

/** How to cut a 3D grid and draw the resulting map. */
export interface SliceOptions {
  /** Axis perpendicular to the map (0 = x, 1 = y, 2 = z). */
  axis: Axis;
  /** Plane index in cells (default: the middle plane), or 'project' for a slab average. */
  index?: number | "project";
  /** With 'project': first plane of the slab in cells (default 0). */
  start?: number;
  /** With 'project': slab thickness in cells (default: the whole box). */
  thickness?: number;
  /** With 'project': average (default) or sum the planes. */
  reduce?: "mean" | "sum";
  /** Logarithmic colour scale; values ≤ 0 are drawn at the floor colour (see LOG_DYNAMIC_RANGE in slice.ts). */
  log?: boolean;
  /** Default 'viridis'. */
  colormap?: ColormapName;
  /** Colour-scale bounds in data units (defaults: the map's finite min/max). */
  vmin?: number;
  vmax?: number;
  title?: string;
  /** Second title line; defaults to a description of the cut, '' for none. */
  subtitle?: string;
  /** Colour-bar title, e.g. "T_b [mK]" (`^n` exponents become superscripts). */
  colorbarLabel?: string;
  /** Box side in Mpc/h: axes are then labelled in Mpc/h instead of cells. */
  boxSize?: number;
  /** Names of the three grid axes (default x, y, z). */
  axisNames?: [string, string, string];
  /** Displayed size of the longer map side in SVG units (default 300; PNG is twice that). */
  imageSize?: number;
}

/** A panel for `panelImages`: a 3D grid plus how to cut it, or a ready 2D map. */
export type ImagePanel =
  | ({ data: ArrayLike<number>; shape: Shape3 } & SliceOptions)
  | ({ map: Map2D } & Omit<
      SliceOptions,
      "axis" | "index" | "start" | "thickness" | "reduce"
    > & { axis?: Axis });

export interface PanelLayout {
  /** One colour scale (and one colour bar) for all panels; default false. */
  sharedScale?: boolean;
  /** Panels per row (default: all in one row). */
  columns?: number;
  /** Figure title above all panels. */
  title?: string;
}

const RASTER_SCALE = 2;
const FONT = { title: 15, subtitle: 11.5, label: 12.5, tick: 11 };

/** Cuts a 3D grid as described by `opts` and returns the map with a default subtitle. */
export function mapFromGrid(
  data: ArrayLike<number>,
  shape: Shape3,
  opts: SliceOptions,
): { map: Map2D; subtitle: string } {
  const names = opts.axisNames ?? ["x", "y", "z"];
  const n = shape[opts.axis];
  const unit = opts.boxSize ? " Mpc/h" : "";
  const cellPos = (i: number): string =>
    opts.boxSize ? formatNumber((i * opts.boxSize) / n, 3) : String(i);
  if (opts.index === "project") {
    const thickness = opts.thickness ?? n;
    const start = opts.start ?? 0;
    const map = projectSlab(data, shape, opts.axis, {
      start,
      thickness,
      reduce: opts.reduce,
    });
    const what = (opts.reduce ?? "mean") === "mean" ? "mean" : "sum";
    const subtitle =
      thickness === n
        ? `${what} along ${names[opts.axis]} (full box)`
        : // a position along an axis named z would read as a redshift in "z ∈ [..)": say depth along the axis
          opts.boxSize
          ? `${what} over depth ${cellPos(start)}–${cellPos(start + thickness)}${unit} along ${names[opts.axis]}`
          : `${what} over cells ${start}–${start + thickness - 1} along ${names[opts.axis]}`;
    return { map, subtitle };
  }
  const index = opts.index ?? Math.floor(n / 2);
  const map = extractSlice(data, shape, opts.axis, index);
  const subtitle = opts.boxSize
    ? `slice at depth ${cellPos(index)}${unit} along ${names[opts.axis]}`
    : `slice at cell ${index} of ${n} along ${names[opts.axis]}`;
  return { map, subtitle };
}

/**
 * RGBA raster of a map in display orientation: first kept axis to the right, second kept axis upwards
 * (origin at the lower left, as in a plot).
 */
export function mapToRgba(
  map: Map2D,
  scale: ColorScale,
  cmap: ColormapName,
): Rgba {
  const norm = normalizeAll(map.data, scale);
  const colors = applyColormap(norm, cmap);
  const width = map.nu;
  const height = map.nv;
  const rgba = new Uint8Array(4 * width * height);
  for (let r = 0; r < height; r++) {
    const v = height - 1 - r;
    for (let c = 0; c < width; c++) {
      const src = 4 * (c * map.nv + v);
      const dst = 4 * (r * width + c);
      rgba[dst] = colors[src]!;
      rgba[dst + 1] = colors[src + 1]!;
      rgba[dst + 2] = colors[src + 2]!;
      rgba[dst + 3] = 255;
    }
  }
  return { width, height, rgba };
}

function colorbarRgba(cmap: ColormapName): Rgba {
  const lut = colormapLut(cmap);
  const rgba = new Uint8Array(4 * 256);
  for (let i = 0; i < 256; i++) {
    const k = 3 * (255 - i); // top row = top of the scale
    rgba.set([lut[k]!, lut[k + 1]!, lut[k + 2]!, 255], 4 * i);
  }
  return { width: 1, height: 256, rgba };
}

interface Resolved {
  map: Map2D;
  subtitle: string;
  opts: Omit<SliceOptions, "axis"> & { axis?: Axis };
}

function resolvePanel(p: ImagePanel): Resolved {
  if ("map" in p) return { map: p.map, subtitle: p.subtitle ?? "", opts: p };
  const { map, subtitle } = mapFromGrid(p.data, p.shape, p);
  return { map, subtitle: p.subtitle ?? subtitle, opts: p };
}

/** Geometry of one drawn panel (map + optional colour bar). */
interface PanelBox {
  width: number;
  height: number;
  body: string[];
}

const MARGIN = {
  left: 58,
  top: 12,
  bottom: 46,
  titleLine: 20,
  subtitleLine: 16,
};
const BAR = { gap: 12, width: 16 };

function axisTicks(
  n: number,
  extent: number,
): { pos: number[]; labels: string[] } {
  const ticks = linearTicks(0, extent, 4);
  return {
    pos: ticks.map((t) => t / extent),
    labels: ticks.map((t) => formatNumber(t)),
  };
}

function colorbarTicks(s: ColorScale): { pos: number[]; labels: string[] } {
  if (s.log) {
    const ticks = logTicks(s.vmin, s.vmax);
    const l0 = Math.log10(s.vmin);
    const l1 = Math.log10(s.vmax);
    return {
      pos: ticks.map((t) => (Math.log10(t) - l0) / (l1 - l0)),
      labels: logTickLabels(ticks),
    };
  }
  const ticks = linearTicks(s.vmin, s.vmax, 5);
  return {
    pos: ticks.map((t) => (t - s.vmin) / (s.vmax - s.vmin)),
    labels: ticks.map((t) => formatNumber(t)),
  };
}

/** Draws the colour bar with its top-left corner at (x, y); returns the elements and the width used. */
function drawColorbar(
  x: number,
  y: number,
  h: number,
  s: ColorScale,
  cmap: ColormapName,
  label?: string,
) {
  const body: string[] = [];
  body.push(
    image(x, y, BAR.width, h, pngDataUri(colorbarRgba(cmap))).replace(
      "optimizeSpeed",
      "optimizeQuality",
    ),
  );
  body.push(rect(x, y, BAR.width, h));
  const t = colorbarTicks(s);
  let maxW = 0;
  t.pos.forEach((p, i) => {
    const ty = y + h * (1 - p);
    body.push(line(x + BAR.width, ty, x + BAR.width + 4, ty));
    body.push(
      text(x + BAR.width + 7, ty, t.labels[i]!, {
        size: FONT.tick,
        baseline: "middle",
      }),
    );
    maxW = Math.max(maxW, textWidth(t.labels[i]!, FONT.tick));
  });
  let width = BAR.width + 7 + maxW + 6;
  if (label) {
    const lx = x + width + FONT.label * 1.1;
    body.push(
      text(lx, y + h / 2, prettyUnits(label), {
        size: FONT.label,
        anchor: "middle",
        rotate: -90,
      }),
    );
    width += FONT.label + 6;
  }
  return { body, width };
}

function drawPanel(
  r: Resolved,
  scale: ColorScale,
  withColorbar: boolean,
  titleRows: number,
): PanelBox {
  const { map, opts } = r;
  const cmap = opts.colormap ?? "viridis";
  const size = opts.imageSize ?? 300;
  const w = map.nu >= map.nv ? size : (size * map.nu) / map.nv;
  const h = map.nv >= map.nu ? size : (size * map.nv) / map.nu;
  const x0 = MARGIN.left;
  const y0 =
    MARGIN.top +
    titleRows * MARGIN.titleLine +
    (r.subtitle || titleRows ? MARGIN.subtitleLine : 0) +
    6;
  const body: string[] = [];
  if (opts.title)
    body.push(
      text(x0, MARGIN.top + FONT.title, opts.title, {
        size: FONT.title,
        weight: "bold",
        fill: "#111",
      }),
    );
  if (r.subtitle) {
    body.push(
      text(
        x0,
        MARGIN.top + titleRows * MARGIN.titleLine + FONT.subtitle,
        r.subtitle,
        { size: FONT.subtitle, fill: "#555" },
      ),
    );
  }
  // the map, upscaled so that the embedded raster has at least the displayed resolution
  const rgba = mapToRgba(map, scale, cmap);
  const factor = Math.max(
    1,
    Math.ceil((RASTER_SCALE * Math.max(w, h)) / Math.max(map.nu, map.nv)),
  );
  body.push(image(x0, y0, w, h, pngDataUri(upscaleNearest(rgba, factor))));
  body.push(rect(x0, y0, w, h));
  // axes
  const names = opts.axisNames ?? ["x", "y", "z"];
  const [a, b] = map.axes;
  const unit = opts.boxSize ? "Mpc/h" : "cells";
  const ext = (n: number) => (opts.boxSize ? opts.boxSize : n);
  const xt = axisTicks(map.nu, ext(map.nu));
  xt.pos.forEach((p, i) => {
    const tx = x0 + w * p;
    body.push(line(tx, y0 + h, tx, y0 + h + 4));
    body.push(
      text(tx, y0 + h + 6 + FONT.tick, xt.labels[i]!, {
        size: FONT.tick,
        anchor: "middle",
      }),
    );
  });
  body.push(
    text(x0 + w / 2, y0 + h + 38, `${names[a]} [${unit}]`, {
      size: FONT.label,
      anchor: "middle",
    }),
  );
  const yt = axisTicks(map.nv, ext(map.nv));
  yt.pos.forEach((p, i) => {
    const ty = y0 + h * (1 - p);
    body.push(line(x0 - 4, ty, x0, ty));
    body.push(
      text(x0 - 7, ty, yt.labels[i]!, {
        size: FONT.tick,
        anchor: "end",
        baseline: "middle",
      }),
    );
  });
  body.push(
    text(x0 - 40, y0 + h / 2, `${names[b]} [${unit}]`, {
      size: FONT.label,
      anchor: "middle",
      rotate: -90,
    }),
  );
  let width = x0 + w + 10;
  if (withColorbar) {
    const cb = drawColorbar(
      x0 + w + BAR.gap,
      y0,
      h,
      scale,
      cmap,
      opts.colorbarLabel,
    );
    body.push(...cb.body);
    width = x0 + w + BAR.gap + cb.width + 10;
  }
  const titleWidth =
    Math.max(
      textWidth(opts.title ?? "", FONT.title),
      textWidth(r.subtitle, FONT.subtitle),
    ) +
    x0 +
    10;
  return {
    width: Math.max(width, titleWidth),
    height: y0 + h + MARGIN.bottom,
    body,
  };
}

function scaleFor(r: Resolved): ColorScale {
  return colorScale(r.map.data, {
    log: r.opts.log,
    vmin: r.opts.vmin,
    vmax: r.opts.vmax,
  });
}

/** SVG of one map with axes, title and colour bar. */
export function mapImageSvg(panel: ImagePanel): string {
  const r = resolvePanel(panel);
  const box = drawPanel(r, scaleFor(r), true, r.opts.title ? 1 : 0);
  return svgDocument(box.width, box.height, box.body, chooseFont().family);
}

/** SVG of a slice or projection of a 3D grid `data` (C order, `shape` = [Nx, Ny, Nz]). */
export function sliceImageSvg(
  data: ArrayLike<number>,
  shape: Shape3,
  opts: SliceOptions,
): string {
  return mapImageSvg({ data, shape, ...opts });
}

/** PNG of a slice or projection of a 3D grid, with axes, title and colour bar (written atomically). */
export function sliceImage(
  data: ArrayLike<number>,
  shape: Shape3,
  opts: SliceOptions,
  outPng: string,
): void {
  writeFileAtomic(
    outPng,
    svgToPng(sliceImageSvg(data, shape, opts), { scale: RASTER_SCALE }),
  );
}

/** PNG of a ready 2D map (e.g. a 2D T_b map), drawn like `sliceImage`. */
export function mapImage(
  map: Map2D,
  opts: Omit<SliceOptions, "axis"> & { axis?: Axis },
  outPng: string,
): void {
  writeFileAtomic(
    outPng,
    svgToPng(mapImageSvg({ map, ...opts }), { scale: RASTER_SCALE }),
  );
}

/** A 2D map from plain rows: `rows[u][v]` with `axes` naming the grid axes (default x, y). */
export function map2D(
  data: Float32Array,
  nu: number,
  nv: number,
  axes: [Axis, Axis] = keptAxes(2),
): Map2D {
  if (data.length !== nu * nv)
    throw new Error(`map2D: ${data.length} values for ${nu}×${nv}`);
  return { data, nu, nv, axes };
}

/** SVG of several panels side by side (or in rows of `columns`), each with its own colour bar or one shared. */
export function panelImagesSvg(
  panels: ImagePanel[],
  layout: PanelLayout = {},
): string {
  if (panels.length === 0)
    throw new Error("panelImages needs at least one panel");
  const resolved = panels.map(resolvePanel);
  const shared = layout.sharedScale ?? false;
  let sharedScale: ColorScale | undefined;
  if (shared) {
    const all = new Float32Array(
      resolved.reduce((n, r) => n + r.map.data.length, 0),
    );
    let off = 0;
    for (const r of resolved) {
      all.set(r.map.data, off);
      off += r.map.data.length;
    }
    const first = resolved[0]!.opts;
    sharedScale = colorScale(all, {
      log: first.log,
      vmin: first.vmin,
      vmax: first.vmax,
    });
  }
  const titleRows = resolved.some((r) => r.opts.title) ? 1 : 0;
  const boxes = resolved.map((r) =>
    drawPanel(r, sharedScale ?? scaleFor(r), !shared, titleRows),
  );
  const columns = Math.max(
    1,
    Math.min(layout.columns ?? boxes.length, boxes.length),
  );
  const colWidth = Math.max(...boxes.map((b) => b.width));
  const rowHeight = Math.max(...boxes.map((b) => b.height));
  const top = layout.title ? 30 : 0;
  const body: string[] = [];
  if (layout.title)
    body.push(
      text(MARGIN.left, 22, layout.title, {
        size: 17,
        weight: "bold",
        fill: "#111",
      }),
    );
  boxes.forEach((b, i) => {
    const x = (i % columns) * colWidth;
    const y = top + Math.floor(i / columns) * rowHeight;
    body.push(`<g transform="translate(${x} ${y})">`, ...b.body, "</g>");
  });
  let width = columns * colWidth;
  const rows = Math.ceil(boxes.length / columns);
  if (shared && sharedScale) {
    // one bar spanning the first row's map height, right of the last column
    const r0 = resolved[0]!;
    const size = r0.opts.imageSize ?? 300;
    const h = r0.map.nv >= r0.map.nu ? size : (size * r0.map.nv) / r0.map.nu;
    const y0 =
      top +
      MARGIN.top +
      titleRows * MARGIN.titleLine +
      (r0.subtitle || titleRows ? MARGIN.subtitleLine : 0) +
      6;
    const cb = drawColorbar(
      width,
      y0,
      rows === 1 ? h : rows * rowHeight - (rowHeight - h),
      sharedScale,
      r0.opts.colormap ?? "viridis",
      r0.opts.colorbarLabel,
    );
    body.push(...cb.body);
    width += cb.width + 12;
  }
  return svgDocument(width, top + rows * rowHeight, body, chooseFont().family);
}

/** PNG of several panels (e.g. DM | halo channels | T_b, or truth | prediction), written atomically. */
export function panelImages(
  panels: ImagePanel[],
  outPng: string,
  layout: PanelLayout = {},
): void {
  writeFileAtomic(
    outPng,
    svgToPng(panelImagesSvg(panels, layout), { scale: RASTER_SCALE }),
  );
}
