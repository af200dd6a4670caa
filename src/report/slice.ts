/**
 * 2D maps from 3D grids stored C order `[x][y][z]` (index = (ix * Ny + iy) * Nz + iz).
 * A map cut or projected along `axis` keeps the other two axes in their original order:
 * axis 0 → (y, z), axis 1 → (x, z), axis 2 → (x, y). The result is row-major with the first kept
 * axis as row ("u") and the second as column ("v"): `map.data[u * map.nv + v]`.
 */

export type Shape3 = readonly [number, number, number];
export type Axis = 0 | 1 | 2;

export interface Map2D {
  data: Float32Array;
  /** Length of the first kept axis (rows). */
  nu: number;
  /** Length of the second kept axis (columns). */
  nv: number;
  /** Which grid axes the rows and columns are (e.g. [1, 2] for axis 0). */
  axes: [Axis, Axis];
}

/** The two axes kept when cutting along `axis`, in order. */
export function keptAxes(axis: Axis): [Axis, Axis] {
  return axis === 0 ? [1, 2] : axis === 1 ? [0, 2] : [0, 1];
}

function checkShape(
  data: ArrayLike<number>,
  shape: Shape3,
  axis: number,
): void {
  if (shape.length !== 3 || shape.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new Error(
      `shape must be three positive integers, got [${shape.join(", ")}]`,
    );
  }
  if (data.length !== shape[0] * shape[1] * shape[2]) {
    throw new Error(
      `data has ${data.length} values but shape [${shape.join(", ")}] needs ${shape[0] * shape[1] * shape[2]}`,
    );
  }
  if (axis !== 0 && axis !== 1 && axis !== 2)
    throw new Error(`axis must be 0, 1 or 2, got ${axis}`);
}

function strides(shape: Shape3): [number, number, number] {
  return [shape[1] * shape[2], shape[2], 1];
}

/** The plane `index` (wrapped periodically) perpendicular to `axis`. */
export function extractSlice(
  data: ArrayLike<number>,
  shape: Shape3,
  axis: Axis,
  index: number,
): Map2D {
  checkShape(data, shape, axis);
  const [a, b] = keptAxes(axis);
  const st = strides(shape);
  const n = shape[axis];
  const i0 = ((Math.round(index) % n) + n) % n;
  const nu = shape[a];
  const nv = shape[b];
  const out = new Float32Array(nu * nv);
  const base = i0 * st[axis];
  for (let u = 0; u < nu; u++) {
    for (let v = 0; v < nv; v++)
      out[u * nv + v] = data[base + u * st[a] + v * st[b]]!;
  }
  return { data: out, nu, nv, axes: [a, b] };
}

/**
 * Mean (or sum) over `thickness` planes starting at `start` along `axis`, wrapping periodically.
 * `thickness` defaults to the whole box (a full projection).
 */
export function projectSlab(
  data: ArrayLike<number>,
  shape: Shape3,
  axis: Axis,
  opts: { start?: number; thickness?: number; reduce?: "mean" | "sum" } = {},
): Map2D {
  checkShape(data, shape, axis);
  const n = shape[axis];
  const thickness = Math.round(opts.thickness ?? n);
  if (thickness < 1 || thickness > n)
    throw new Error(`thickness must be in 1..${n}, got ${opts.thickness}`);
  const start = Math.round(opts.start ?? 0);
  const acc = new Float64Array(
    shape[keptAxes(axis)[0]] * shape[keptAxes(axis)[1]],
  );
  let map: Map2D | undefined;
  for (let k = 0; k < thickness; k++) {
    map = extractSlice(data, shape, axis, start + k);
    for (let i = 0; i < acc.length; i++) acc[i]! += map.data[i]!;
  }
  const scale = (opts.reduce ?? "mean") === "mean" ? 1 / thickness : 1;
  const out = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) out[i] = acc[i]! * scale;
  return { data: out, nu: map!.nu, nv: map!.nv, axes: map!.axes };
}

export interface ColorScale {
  /** Value mapped to the bottom of the colour bar (in data units, even for log scales). */
  vmin: number;
  /** Value mapped to the top of the colour bar. */
  vmax: number;
  log: boolean;
}

/**
 * Default floor of log colour scales: values ≤ 0 cannot be shown on a log scale, so they (and any value
 * below the floor) are drawn at the floor colour. The floor is `vmin` when given, else the smallest
 * positive value of the map but never less than `max × LOG_DYNAMIC_RANGE`; if the map has no positive
 * value the scale is [1e-3, 1].
 */
export const LOG_DYNAMIC_RANGE = 1e-6;

/** Colour scale for `values`: explicit bounds win, otherwise finite min/max (see LOG_DYNAMIC_RANGE for log). */
export function colorScale(
  values: ArrayLike<number>,
  opts: { log?: boolean; vmin?: number; vmax?: number },
): ColorScale {
  const log = opts.log ?? false;
  let lo = Infinity;
  let hi = -Infinity;
  let minPos = Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
    if (v > 0 && v < minPos) minPos = v;
  }
  if (log) {
    let vmax = opts.vmax ?? (hi > 0 ? hi : 1);
    const vmin =
      opts.vmin ??
      (Number.isFinite(minPos)
        ? Math.max(minPos, vmax * LOG_DYNAMIC_RANGE)
        : vmax * 1e-3);
    if (!(vmin > 0))
      throw new Error(`log colour scale needs vmin > 0, got ${vmin}`);
    if (!(vmax > vmin)) vmax = vmin * 10;
    return { vmin, vmax, log };
  }
  let vmin = opts.vmin ?? (Number.isFinite(lo) ? lo : 0);
  let vmax = opts.vmax ?? (Number.isFinite(hi) ? hi : 1);
  if (!(vmax > vmin)) {
    const pad = vmin === 0 ? 1 : Math.abs(vmin) * 0.05;
    vmin -= pad;
    vmax += pad;
  }
  return { vmin, vmax, log };
}

/** Position in [0, 1] of `v` on the scale (clamped; log scales clamp values ≤ floor to 0). NaN stays NaN. */
export function normalize(v: number, s: ColorScale): number {
  if (Number.isNaN(v)) return NaN;
  let t: number;
  if (s.log)
    t =
      v > 0
        ? (Math.log10(v) - Math.log10(s.vmin)) /
          (Math.log10(s.vmax) - Math.log10(s.vmin))
        : 0;
  else t = (v - s.vmin) / (s.vmax - s.vmin);
  return t < 0 ? 0 : t > 1 ? 1 : t;
}

/** Normalises every value of a map (see `normalize`). */
export function normalizeAll(
  values: ArrayLike<number>,
  s: ColorScale,
): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = normalize(values[i]!, s);
  return out;
}
