import { Resvg } from "@resvg/resvg-js";
import { writeFileAtomic } from "../util/atomic.js";
import { chooseFont } from "./fonts.js";
import { guardSvg } from "./svg-guard.js";

export interface RasterOptions {
  /** Pixels per SVG unit (2 gives crisp ~150 dpi figures at the usual sizes). Default 2. */
  scale?: number;
  /** Background colour; default white (PNG without transparency). */
  background?: string;
}

/**
 * Rasterises an SVG string to PNG bytes with resvg, using the font chosen by `chooseFont()`. The SVG
 * first goes through `guardSvg`, which drops elements that would make resvg abort the process
 * (invisible elements far outside the canvas, non-finite geometry).
 */
export function svgToPng(svg: string, opts: RasterOptions = {}): Buffer {
  const font = chooseFont();
  const resvg = new Resvg(guardSvg(svg).svg, {
    background: opts.background ?? "white",
    fitTo: { mode: "zoom", value: opts.scale ?? 2 },
    font: {
      fontFiles: font.files,
      loadSystemFonts: font.files.length === 0,
      defaultFontFamily: font.family,
      sansSerifFamily: font.family,
    },
  });
  return resvg.render().asPng();
}

/** Rasterises `svg` and writes the PNG atomically to `outPng`. */
export function writeSvgAsPng(
  svg: string,
  outPng: string,
  opts: RasterOptions = {},
): void {
  writeFileAtomic(outPng, svgToPng(svg, opts));
}
