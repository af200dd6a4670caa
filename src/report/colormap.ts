import { MAGMA_HEX, VIRIDIS_HEX } from "./colormap-data.js";

export type ColormapName = "viridis" | "magma";

/** A 256-entry RGB lookup table: `lut[3*i + c]`, c = 0 red, 1 green, 2 blue, values 0..255. */
export type Lut = Uint8Array;

function parseHexTable(hex: string): Lut {
  const n = hex.length / 6;
  const lut = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++)
      lut[3 * i + c] = parseInt(
        hex.slice(6 * i + 2 * c, 6 * i + 2 * c + 2),
        16,
      );
  }
  return lut;
}

const LUTS: Record<ColormapName, Lut> = {
  viridis: parseHexTable(VIRIDIS_HEX),
  magma: parseHexTable(MAGMA_HEX),
};

/** The 256-entry matplotlib table of `name`. */
export function colormapLut(name: ColormapName): Lut {
  const lut = LUTS[name];
  if (!lut)
    throw new Error(
      `unknown colormap '${String(name)}' (use viridis or magma)`,
    );
  return lut;
}

/** Index 0..255 of a value t in [0, 1] (clamped; NaN maps to 0). */
export function lutIndex(t: number): number {
  if (!(t > 0)) return 0;
  if (t >= 1) return 255;
  return Math.min(255, Math.floor(t * 256));
}

/** RGB triple of the colormap at t in [0, 1]. */
export function colormapRgb(
  name: ColormapName,
  t: number,
): [number, number, number] {
  const lut = colormapLut(name);
  const i = lutIndex(t);
  return [lut[3 * i]!, lut[3 * i + 1]!, lut[3 * i + 2]!];
}

/** `#rrggbb` of the colormap at t in [0, 1]. */
export function colormapHex(name: ColormapName, t: number): string {
  return `#${colormapRgb(name, t)
    .map((v) => v.toString(16).padStart(2, "0"))
    .join("")}`;
}

/**
 * Maps normalised values (0..1, clamped; non-finite → `nanColor`) to RGBA bytes.
 * `norm[i]` becomes pixel i of the returned buffer (4 bytes each, alpha 255).
 */
export function applyColormap(
  norm: ArrayLike<number>,
  name: ColormapName,
  nanColor: [number, number, number] = [200, 200, 200],
): Uint8Array {
  const lut = colormapLut(name);
  const out = new Uint8Array(4 * norm.length);
  for (let i = 0; i < norm.length; i++) {
    const t = norm[i]!;
    if (Number.isFinite(t)) {
      const k = 3 * lutIndex(t);
      out[4 * i] = lut[k]!;
      out[4 * i + 1] = lut[k + 1]!;
      out[4 * i + 2] = lut[k + 2]!;
    } else {
      out[4 * i] = nanColor[0];
      out[4 * i + 1] = nanColor[1];
      out[4 * i + 2] = nanColor[2];
    }
    out[4 * i + 3] = 255;
  }
  return out;
}
