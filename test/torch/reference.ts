/**
 * Plain-TypeScript float64 reference implementations used to check the engine's ops.
 * Arrays are flat, C order, with an explicit shape.
 */
import { Rng } from '../../src/util/rng.js';

export interface Arr {
  data: Float64Array;
  shape: number[];
}

export function randArr(shape: number[], seed: number, lo = -1, hi = 1): Arr {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * rng.uniform();
  return { data, shape };
}

export function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1]! * shape[i + 1]!;
  return s;
}

export function unravel(i: number, shape: number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return idx;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Elementwise with numpy broadcasting. */
export function broadcast2(a: Arr, b: Arr, f: (x: number, y: number) => number): Arr {
  const nd = Math.max(a.shape.length, b.shape.length);
  const pa = [...new Array(nd - a.shape.length).fill(1), ...a.shape];
  const pb = [...new Array(nd - b.shape.length).fill(1), ...b.shape];
  const shape = pa.map((s, i) => Math.max(s, pb[i]!));
  const sa = strides(pa);
  const sb = strides(pb);
  const n = shape.reduce((x, y) => x * y, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const idx = unravel(i, shape);
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < nd; d++) {
      ia += (pa[d] === 1 ? 0 : idx[d]!) * sa[d]!;
      ib += (pb[d] === 1 ? 0 : idx[d]!) * sb[d]!;
    }
    out[i] = f(a.data[ia]!, b.data[ib]!);
  }
  return { data: out, shape };
}

/** Reduction over `dims` (keepdim = false). */
export function reduce(a: Arr, dims: number[], f: (xs: number[]) => number): Arr {
  const keep = a.shape.map((_, d) => !dims.includes(d));
  const outShape = a.shape.filter((_, d) => keep[d]);
  const groups = new Map<number, number[]>();
  const os = strides(outShape);
  for (let i = 0; i < a.data.length; i++) {
    const idx = unravel(i, a.shape).filter((_, d) => keep[d]);
    const o = idx.reduce((acc, v, d) => acc + v * os[d]!, 0);
    let g = groups.get(o);
    if (!g) groups.set(o, (g = []));
    g.push(a.data[i]!);
  }
  const n = outShape.reduce((x, y) => x * y, 1);
  const out = new Float64Array(n);
  for (let o = 0; o < n; o++) out[o] = f(groups.get(o)!);
  return { data: out, shape: outShape };
}

export function permute(a: Arr, perm: number[]): Arr {
  const shape = perm.map((p) => a.shape[p]!);
  const sa = strides(a.shape);
  const out = new Float64Array(a.data.length);
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    let src = 0;
    for (let d = 0; d < perm.length; d++) src += idx[d]! * sa[perm[d]!]!;
    out[i] = a.data[src]!;
  }
  return { data: out, shape };
}

/** Generic gather: out[idx] = a[map(idx)] for an output of `shape`. */
export function remap(a: Arr, shape: number[], map: (idx: number[]) => number[] | null, fill = 0): Arr {
  const sa = strides(a.shape);
  const n = shape.reduce((x, y) => x * y, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const src = map(unravel(i, shape));
    out[i] = src === null ? fill : a.data[src.reduce((acc, v, d) => acc + v * sa[d]!, 0)]!;
  }
  return { data: out, shape };
}

export function matmul(a: Arr, b: Arr): Arr {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const out = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += a.data[i * k + t]! * b.data[t * n + j]!;
      out[i * n + j] = s;
    }
  return { data: out, shape: [m, n] };
}

/** Direct 3D cross-correlation (PyTorch conv3d) with zero padding, stride, groups. */
export function conv3d(x: Arr, w: Arr, bias: Arr | null, stride: number, pad: number, groups: number): Arr {
  const [B, Cin, D, H, W] = x.shape as [number, number, number, number, number];
  const [Cout, Cg, K] = w.shape as [number, number, number];
  const Do = Math.floor((D + 2 * pad - K) / stride) + 1;
  const Ho = Math.floor((H + 2 * pad - K) / stride) + 1;
  const Wo = Math.floor((W + 2 * pad - K) / stride) + 1;
  const out = new Float64Array(B * Cout * Do * Ho * Wo);
  const outPerGroup = Cout / groups;
  let o = 0;
  for (let b = 0; b < B; b++)
    for (let co = 0; co < Cout; co++) {
      const g = Math.floor(co / outPerGroup);
      for (let d = 0; d < Do; d++)
        for (let h = 0; h < Ho; h++)
          for (let ww = 0; ww < Wo; ww++) {
            let s = bias ? bias.data[co]! : 0;
            for (let c = 0; c < Cg; c++) {
              const ci = g * Cg + c;
              for (let kd = 0; kd < K; kd++) {
                const id = d * stride + kd - pad;
                if (id < 0 || id >= D) continue;
                for (let kh = 0; kh < K; kh++) {
                  const ih = h * stride + kh - pad;
                  if (ih < 0 || ih >= H) continue;
                  for (let kw = 0; kw < K; kw++) {
                    const iw = ww * stride + kw - pad;
                    if (iw < 0 || iw >= W) continue;
                    s +=
                      x.data[(((b * Cin + ci) * D + id) * H + ih) * W + iw]! *
                      w.data[(((co * Cg + c) * K + kd) * K + kh) * K + kw]!;
                  }
                }
              }
            }
            out[o++] = s;
          }
    }
  return { data: out, shape: [B, Cout, Do, Ho, Wo] };
}

/** Transposed conv3d (stride s, no padding, groups 1): scatter of each input voxel. */
export function convTranspose3d(x: Arr, w: Arr, stride: number): Arr {
  const [B, Cin, D, H, W] = x.shape as [number, number, number, number, number];
  const [, Cout, K] = w.shape as [number, number, number];
  const Do = (D - 1) * stride + K;
  const Ho = (H - 1) * stride + K;
  const Wo = (W - 1) * stride + K;
  const out = new Float64Array(B * Cout * Do * Ho * Wo);
  for (let b = 0; b < B; b++)
    for (let ci = 0; ci < Cin; ci++)
      for (let d = 0; d < D; d++)
        for (let h = 0; h < H; h++)
          for (let ww = 0; ww < W; ww++) {
            const v = x.data[(((b * Cin + ci) * D + d) * H + h) * W + ww]!;
            for (let co = 0; co < Cout; co++)
              for (let kd = 0; kd < K; kd++)
                for (let kh = 0; kh < K; kh++)
                  for (let kw = 0; kw < K; kw++)
                    out[(((b * Cout + co) * Do + d * stride + kd) * Ho + h * stride + kh) * Wo + ww * stride + kw]! +=
                      v * w.data[(((ci * Cout + co) * K + kd) * K + kh) * K + kw]!;
          }
  return { data: out, shape: [B, Cout, Do, Ho, Wo] };
}

/** Pooling with kernel = stride = k over the last three dims. */
export function pool3d(x: Arr, k: number, f: (xs: number[]) => number): Arr {
  const [B, C, D, H, W] = x.shape as [number, number, number, number, number];
  const shape = [B, C, D / k, H / k, W / k];
  return {
    shape,
    data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => {
      const [b, c, d, h, w] = unravel(i, shape) as [number, number, number, number, number];
      const xs: number[] = [];
      for (let a = 0; a < k; a++)
        for (let e = 0; e < k; e++)
          for (let g = 0; g < k; g++) xs.push(x.data[(((b * C + c) * D + d * k + a) * H + h * k + e) * W + w * k + g]!);
      return f(xs);
    }),
  };
}

/** Trilinear x2 upsampling with align_corners = false (PyTorch's half-pixel convention). */
export function upsampleTrilinear2(x: Arr): Arr {
  const [B, C, D, H, W] = x.shape as [number, number, number, number, number];
  const shape = [B, C, 2 * D, 2 * H, 2 * W];
  const src = (o: number, n: number): [number, number, number] => {
    const s = Math.max(0, (o + 0.5) / 2 - 0.5);
    const i0 = Math.min(Math.floor(s), n - 1);
    const i1 = Math.min(i0 + 1, n - 1);
    return [i0, i1, s - i0];
  };
  return {
    shape,
    data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => {
      const [b, c, d, h, w] = unravel(i, shape) as [number, number, number, number, number];
      const [d0, d1, fd] = src(d, D);
      const [h0, h1, fh] = src(h, H);
      const [w0, w1, fw] = src(w, W);
      const at = (dd: number, hh: number, ww: number): number => x.data[(((b * C + c) * D + dd) * H + hh) * W + ww]!;
      let s = 0;
      for (const [dd, wd] of [[d0, 1 - fd], [d1, fd]] as const)
        for (const [hh, wh] of [[h0, 1 - fh], [h1, fh]] as const)
          for (const [ww, wwt] of [[w0, 1 - fw], [w1, fw]] as const) s += wd * wh * wwt * at(dd, hh, ww);
      return s;
    }),
  };
}

/** Discrete Fourier transform over all dims (complex output as [re, im] pairs). */
export function dftn(x: Arr): { re: Float64Array; im: Float64Array } {
  const n = x.data.length;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const kk = unravel(k, x.shape);
    let sr = 0;
    let si = 0;
    for (let j = 0; j < n; j++) {
      const jj = unravel(j, x.shape);
      let phase = 0;
      for (let d = 0; d < x.shape.length; d++) phase += (kk[d]! * jj[d]!) / x.shape[d]!;
      sr += x.data[j]! * Math.cos(-2 * Math.PI * phase);
      si += x.data[j]! * Math.sin(-2 * Math.PI * phase);
    }
    re[k] = sr;
    im[k] = si;
  }
  return { re, im };
}

export const erf = (x: number): number => {
  // Abramowitz-Stegun 7.1.26 is too coarse for 1e-10 checks; use a series / continued fraction.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  // continued fraction for erfc at large |x|
  let f = 0;
  for (let n = 60; n >= 1; n--) f = n / 2 / (t + f);
  const erfc = Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
  return Math.sign(x) * (1 - erfc);
};
