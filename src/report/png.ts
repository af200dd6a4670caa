import { PNG } from "pngjs";

/** An RGBA raster: `rgba[4 * (row * width + col) + c]`, row 0 at the top. */
export interface Rgba {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** Enlarges each pixel to a `factor × factor` block (nearest neighbour, keeps cells sharp). */
export function upscaleNearest(img: Rgba, factor: number): Rgba {
  const f = Math.max(1, Math.floor(factor));
  if (f === 1) return img;
  const width = img.width * f;
  const height = img.height * f;
  const rgba = new Uint8Array(4 * width * height);
  const bytes = img.rgba.byteOffset % 4 === 0 ? img.rgba : img.rgba.slice();
  const src = new Uint32Array(
    bytes.buffer,
    bytes.byteOffset,
    img.width * img.height,
  );
  const dst = new Uint32Array(rgba.buffer);
  for (let r = 0; r < height; r++) {
    const sr = Math.floor(r / f) * img.width;
    const dr = r * width;
    for (let c = 0; c < width; c++) dst[dr + c] = src[sr + Math.floor(c / f)]!;
  }
  return { width, height, rgba };
}

/** PNG bytes of an RGBA raster. */
export function encodePng(img: Rgba): Buffer {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(
    img.rgba.buffer,
    img.rgba.byteOffset,
    img.rgba.byteLength,
  );
  return PNG.sync.write(png);
}

/** `data:image/png;base64,...` URI of an RGBA raster (for embedding in SVG/HTML). */
export function pngDataUri(img: Rgba): string {
  return `data:image/png;base64,${encodePng(img).toString("base64")}`;
}

/** Decodes PNG bytes (used by tests and by reports that inspect figures). */
export function decodePng(bytes: Buffer): Rgba {
  const png = PNG.sync.read(bytes);
  return {
    width: png.width,
    height: png.height,
    rgba: new Uint8Array(
      png.data.buffer,
      png.data.byteOffset,
      png.data.byteLength,
    ),
  };
}
