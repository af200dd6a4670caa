/**
 * Invertible data transforms of LODI (documented in config.ts): T_b ↔ standardised log10, halo
 * channels → standardised log10. Statistics are measured on the training crops and stored with the
 * model, so generation applies exactly the transform the model was trained with.
 */

export interface LodiNormalisation {
  /** Floor f [mK] added to T_b before log10. */
  tbFloor: number;
  tbMean: number;
  tbStd: number;
  /** Floor added to ρ_h before log10, in the halo grid's unit. */
  haloFloor: number;
  haloMean: number[];
  haloStd: number[];
  /** Units of the grids the statistics were measured on. */
  tbUnit: string;
  haloUnit: string;
}

/** T_b [mK] → standardised y (in place into `out`). */
export function tbForward(tb: Float32Array, n: LodiNormalisation, out = new Float32Array(tb.length)): Float32Array {
  for (let i = 0; i < tb.length; i++) out[i] = (Math.log10(Math.max(tb[i]!, 0) + n.tbFloor) - n.tbMean) / n.tbStd;
  return out;
}

/** Largest finite float32. */
const F32_MAX = 3.4028234663852886e38;

/**
 * Standardised y → T_b [mK]: max(10^(y s + μ) − f, 0), computed in float64; results below f·1e-6
 * (the float32 rounding of the floor itself) are snapped to exactly 0, so zero voxels round-trip.
 *
 * @throws RangeError when a y is NaN or maps beyond the float32 range (an untrained or diverged model, or
 *   a sampler of very few steps: the training data span |y| of a few units), instead of writing NaN, 0 or Infinity
 */
export function tbInverse(y: Float32Array, n: LodiNormalisation, out = new Float32Array(y.length)): Float32Array {
  const snap = n.tbFloor * 1e-6;
  for (let i = 0; i < y.length; i++) {
    const v = 10 ** (y[i]! * n.tbStd + n.tbMean) - n.tbFloor;
    if (!(v < F32_MAX)) {
      const yMax = (Math.log10(F32_MAX) - n.tbMean) / n.tbStd;
      throw new RangeError(`LODI output y = ${y[i]} at voxel ${i} has no T_b (expected a finite y below ${yMax.toFixed(1)}; the training maps span |y| of a few units): the model is untrained or has diverged, or the sampler ran too few steps (--steps)`);
    }
    out[i] = v > snap ? v : 0;
  }
  return out;
}

/** Halo channels [C, ...] → standardised log10 per channel. */
export function haloForward(halos: Float32Array, channels: number, n: LodiNormalisation, out = new Float32Array(halos.length)): Float32Array {
  const per = halos.length / channels;
  for (let c = 0; c < channels; c++) {
    const m = n.haloMean[c]!;
    const s = n.haloStd[c]!;
    for (let i = c * per; i < (c + 1) * per; i++) out[i] = (Math.log10(Math.max(halos[i]!, 0) + n.haloFloor) - m) / s;
  }
  return out;
}

/** Mean and standard deviation (float64 accumulation) of log10(v + floor) over the given values. */
export function logStats(values: Iterable<number>, floor: number): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  let k = 0;
  for (const v of values) {
    const l = Math.log10(Math.max(v, 0) + floor);
    s += l;
    s2 += l * l;
    k++;
  }
  if (k === 0) throw new Error('logStats: no values');
  const mean = s / k;
  const std = Math.sqrt(Math.max(s2 / k - mean * mean, 0));
  return { mean, std: std > 0 ? std : 1 };
}
