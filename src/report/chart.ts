import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import { writeFileAtomic } from "../util/atomic.js";
import { chooseFont } from "./fonts.js";
import { svgToPng, type RasterOptions } from "./raster.js";

/** House style for every Vega-Lite figure: readable sizes, the chosen font, light grid. */
export function chartConfig(): Record<string, unknown> {
  const font = chooseFont().family;
  return {
    font,
    background: "white",
    padding: 8,
    view: { stroke: "#444" },
    axis: {
      labelFontSize: 12,
      titleFontSize: 13,
      titleFontWeight: "normal",
      grid: true,
      gridColor: "#e6e6e6",
      domainColor: "#444",
      tickColor: "#444",
      labelColor: "#222",
      titleColor: "#111",
      tickSize: 5,
      labelFlush: false,
    },
    legend: {
      labelFontSize: 12,
      titleFontSize: 12,
      symbolStrokeWidth: 2.5,
      symbolSize: 120,
      labelLimit: 320,
    },
    title: { fontSize: 15, fontWeight: "bold", anchor: "start", offset: 10 },
    line: { strokeWidth: 2 },
    range: {
      // Tableau-10 (colour-blind friendlier than the default category order for the first few)
      category: [
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#d62728",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#7f7f7f",
        "#bcbd22",
        "#17becf",
      ],
    },
  };
}

/** Compiles a Vega-Lite spec (house config merged under the spec's own) and renders it to an SVG string. */
export async function renderVegaLiteToSvg(spec: TopLevelSpec): Promise<string> {
  const withConfig = {
    ...spec,
    config: { ...chartConfig(), ...(spec.config ?? {}) },
  } as TopLevelSpec;
  const vgSpec = compile(withConfig).spec;
  const view = new vega.View(vega.parse(vgSpec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders a Vega-Lite spec to PNG bytes. */
export async function renderVegaLiteToPngBuffer(
  spec: TopLevelSpec,
  opts: RasterOptions = {},
): Promise<Buffer> {
  return svgToPng(await renderVegaLiteToSvg(spec), opts);
}

/** Renders a Vega-Lite spec to a PNG file (written atomically). */
export async function renderVegaLiteToPng(
  spec: TopLevelSpec,
  outPng: string,
  opts: RasterOptions = {},
): Promise<void> {
  writeFileAtomic(outPng, await renderVegaLiteToPngBuffer(spec, opts));
}

/** Renders a Vega-Lite spec to an SVG file (written atomically). */
export async function renderVegaLiteToSvgFile(
  spec: TopLevelSpec,
  outSvg: string,
): Promise<void> {
  writeFileAtomic(outSvg, await renderVegaLiteToSvg(spec));
}
