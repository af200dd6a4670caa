/** Figures and reports shared by every command. */
export * from "./chart.js";
export * from "./colormap.js";
export * from "./image.js";
export * from "./plots.js";
export * from "./report.js";
export * from "./slice.js";
export { decodePng, encodePng, type Rgba } from "./png.js";
export { svgToPng, type RasterOptions } from "./raster.js";
export { guardSvg, type SvgGuardResult } from "./svg-guard.js";
export { chooseFont, type FontChoice } from "./fonts.js";
export { prettyUnits, formatNumber, linearTicks, logTicks } from "./ticks.js";
