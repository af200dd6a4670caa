/**
 * One-point statistics of fields (histogram / PDF of the values or of their log10, median and
 * 16–84 percentiles) and the halo mass function dn/dlog10M of a catalogue with Poisson errors.
 */

export interface FieldHistogram {
  /** Bin edges in the histogrammed variable (log10 of the field when `log10`). */
  edges: Float64Array;
  counts: Float64Array;
  /** Normalised so that Σ pdf · Δ = 1 over the used values. */
  pdf: Float64Array;
  median: number;
  p16: number;
  p84: number;
  /** Values used (finite, and > 0 when `log10`). */
  used: number;
  /** Values skipped (non-finite, or <= floor when `log10`). */
  skipped: number;
  log10: boolean;
}

export interface HistogramOptions {
  /** Histogram log10 of the field (values <= floor are skipped). */
  log10?: boolean;
  /** With log10: values <= floor are skipped (default 0). */
  floor?: number;
  bins?: number;
  /** [min, max] of the histogrammed variable; default: the data range. */
  range?: [number, number];
}

/** Quantile q in [0, 1] of sorted values, linear interpolation (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
}

/** Histogram / PDF of a field's values (or log10 values) with median and 16–84 percentiles. */
export function fieldHistogram(data: ArrayLike<number>, opts: HistogramOptions = {}): FieldHistogram {
  const log = opts.log10 ?? false;
  const floor = opts.floor ?? 0;
  const vals = new Float64Array(data.length);
  let m = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) continue;
    if (log) {
      if (v <= floor || v <= 0) continue;
      vals[m++] = Math.log10(v);
    } else vals[m++] = v;
  }
  const used = vals.subarray(0, m).sort();
  const bins = opts.bins ?? 50;
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`bins must be a positive integer, got ${bins}`);
  const range = opts.range ?? [m ? used[0]! : 0, m ? used[m - 1]! : 1];
  const lo = range[0];
  let hi = range[1];
  if (!(hi > lo)) hi = lo + 1;
  const edges = Float64Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
  const counts = new Float64Array(bins);
  const w = (hi - lo) / bins;
  let inRange = 0;
  for (let i = 0; i < m; i++) {
    const v = used[i]!;
    if (v < lo || v > hi) continue;
    let b = Math.floor((v - lo) / w);
    if (b >= bins) b = bins - 1;
    counts[b]!++;
    inRange++;
  }
  const pdf = counts.map((c) => (inRange ? c / (inRange * w) : 0));
  return {
    edges,
    counts,
    pdf,
    median: quantileSorted(used, 0.5),
    p16: quantileSorted(used, 0.16),
    p84: quantileSorted(used, 0.84),
    used: m,
    skipped: data.length - m,
    log10: log,
  };
}

export interface MassFunction {
  /** Bin edges in Msun/h (log-spaced). */
  edges: Float64Array;
  /** Geometric bin centres in Msun/h. */
  mass: Float64Array;
  counts: Float64Array;
  /** dn/dlog10M in (h/Mpc)^3 per dex. */
  dndlog10m: Float64Array;
  /** Poisson error sqrt(counts) / (V Δlog10M), same unit. */
  error: Float64Array;
}

/**
 * Halo mass function dn/dlog10M [(h/Mpc)^3 / dex] of a catalogue of masses [Msun/h] in a box of
 * volume [(Mpc/h)^3], with Poisson errors. Bins are log-spaced between mMin and mMax (default: the
 * catalogue's range among positive masses), or given as `edges`.
 */
export function haloMassFunction(
  masses: ArrayLike<number>,
  volume: number,
  opts: { bins?: number; mMin?: number; mMax?: number; edges?: ArrayLike<number> } = {},
): MassFunction {
  if (!(volume > 0)) throw new Error(`volume must be positive (Mpc/h)^3, got ${volume}`);
  let edges: Float64Array;
  if (opts.edges) {
    edges = Float64Array.from(opts.edges);
  } else {
    let lo = Infinity, hi = -Infinity;
    for (let i = 0; i < masses.length; i++) {
      const v = masses[i]!;
      if (v > 0 && Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
    lo = opts.mMin ?? lo;
    hi = opts.mMax ?? hi * (1 + 1e-9);
    if (!(lo > 0) || !(hi > lo)) throw new Error('haloMassFunction: no positive masses to bin');
    const nb = opts.bins ?? 15;
    edges = Float64Array.from({ length: nb + 1 }, (_, i) => 10 ** (Math.log10(lo) + ((Math.log10(hi) - Math.log10(lo)) * i) / nb));
  }
  const nb = edges.length - 1;
  const le = edges.map(Math.log10);
  const counts = new Float64Array(nb);
  for (let i = 0; i < masses.length; i++) {
    const v = masses[i]!;
    if (!(v > 0)) continue;
    const l = Math.log10(v);
    // binary search for the bin [le[b], le[b+1])
    let a = 0, b = nb;
    if (l < le[0]! || l >= le[nb]!) continue;
    while (b - a > 1) {
      const c = (a + b) >> 1;
      if (l >= le[c]!) a = c;
      else b = c;
    }
    counts[a]!++;
  }
  const mass = Float64Array.from({ length: nb }, (_, i) => Math.sqrt(edges[i]! * edges[i + 1]!));
  const dl = Float64Array.from({ length: nb }, (_, i) => le[i + 1]! - le[i]!);
  return {
    edges,
    mass,
    counts,
    dndlog10m: counts.map((c, i) => c / (volume * dl[i]!)),
    error: counts.map((c, i) => Math.sqrt(c) / (volume * dl[i]!)),
  };
}
