/** Minimal helpers to compose SVG figures by hand (used for images with colour bars). */

/** Escapes text for SVG/HTML content and attribute values. */
export function esc(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** Rough rendered width of `s` in a sans-serif font of `size` (for layout only). */
export function textWidth(s: string, size: number): number {
  return [...s].length * size * 0.6;
}

export interface TextOpts {
  size?: number;
  anchor?: "start" | "middle" | "end";
  weight?: "normal" | "bold";
  fill?: string;
  rotate?: number;
  baseline?: "auto" | "middle" | "hanging";
}

export function text(
  x: number,
  y: number,
  s: string,
  o: TextOpts = {},
): string {
  const rot = o.rotate ? ` transform="rotate(${o.rotate} ${x} ${y})"` : "";
  const base =
    o.baseline && o.baseline !== "auto"
      ? ` dominant-baseline="${o.baseline === "middle" ? "central" : "hanging"}"`
      : "";
  return (
    `<text x="${x}" y="${y}" font-size="${o.size ?? 12}" text-anchor="${o.anchor ?? "start"}"` +
    ` font-weight="${o.weight ?? "normal"}" fill="${o.fill ?? "#222"}"${base}${rot}>${esc(s)}</text>`
  );
}

export function line(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  stroke = "#444",
  width = 1,
): string {
  return `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${stroke}" stroke-width="${width}"/>`;
}

export function rect(
  x: number,
  y: number,
  w: number,
  h: number,
  stroke = "#444",
  fill = "none",
): string {
  return `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="${fill}" stroke="${stroke}" stroke-width="1"/>`;
}

/** An embedded raster drawn with nearest-neighbour sampling (cells stay sharp). */
export function image(
  x: number,
  y: number,
  w: number,
  h: number,
  href: string,
): string {
  return `<image x="${x}" y="${y}" width="${w}" height="${h}" preserveAspectRatio="none" image-rendering="optimizeSpeed" href="${href}"/>`;
}

/** Wraps body elements into a standalone SVG document with a white background. */
export function svgDocument(
  width: number,
  height: number,
  body: string[],
  fontFamily: string,
): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}"` +
    ` viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" font-family="${esc(fontFamily)}">\n` +
    `<rect width="100%" height="100%" fill="white"/>\n${body.join("\n")}\n</svg>\n`
  );
}
