import { native, type NativeGenerator } from './native.js';
import { op, opMulti, asList, Tensor, type DType, type Device, type TypedArray, type TensorLike } from './tensor.js';

export interface CreateOptions {
  dtype?: DType;
  device?: Device | string;
  requiresGrad?: boolean;
}

function finish(t: Tensor, o: CreateOptions): Tensor {
  if (o.requiresGrad) t.requiresGrad = true;
  return t;
}

// ---- creation -------------------------------------------------------------------------------

/**
 * Copies data into a new tensor of the given shape. A typed array keeps its dtype unless `dtype` is
 * given; a plain number array becomes float32 (PyTorch's default) unless `dtype` is given, and is
 * then converted from float64 so float64/int64 values are exact.
 */
export function tensor(data: TypedArray | number[], shape?: number[], o: CreateOptions = {}): Tensor {
  const arr: TypedArray = Array.isArray(data)
    ? o.dtype && o.dtype !== 'float32'
      ? Float64Array.from(data)
      : Float32Array.from(data)
    : data;
  let t = new Tensor(native.fromTypedArray(arr, shape ?? [arr.length]));
  if (o.dtype && o.dtype !== t.dtype) {
    const c = t.to(o.dtype);
    t.dispose();
    t = c;
  }
  if (o.device && o.device !== 'cpu') {
    const c = t.to(o.device);
    t.dispose();
    t = c;
  }
  return finish(t, o);
}

export function scalar(value: number, o: CreateOptions = {}): Tensor {
  return finish(op('scalar_tensor', [value], { dtype: o.dtype ?? 'float32', device: o.device ?? 'cpu' }), o);
}
export function zeros(shape: number[], o: CreateOptions = {}): Tensor {
  return finish(op('zeros', [shape], { dtype: o.dtype ?? 'float32', device: o.device ?? 'cpu' }), o);
}
export function ones(shape: number[], o: CreateOptions = {}): Tensor {
  return finish(op('ones', [shape], { dtype: o.dtype ?? 'float32', device: o.device ?? 'cpu' }), o);
}
export function full(shape: number[], value: number, o: CreateOptions = {}): Tensor {
  return finish(op('full', [shape, value], { dtype: o.dtype ?? 'float32', device: o.device ?? 'cpu' }), o);
}
export function empty(shape: number[], o: CreateOptions = {}): Tensor {
  return finish(op('empty.memory_format', [shape], { dtype: o.dtype ?? 'float32', device: o.device ?? 'cpu' }), o);
}
/** Options of the `*Like` creators: dtype and device default to those of the model tensor. */
function likeKw(t: Tensor, o: CreateOptions): Record<string, unknown> {
  return { dtype: o.dtype ?? t.dtype, device: o.device ?? t.device };
}
export function zerosLike(t: Tensor, o: CreateOptions = {}): Tensor {
  return finish(op('zeros_like', [t], likeKw(t, o)), o);
}
export function onesLike(t: Tensor, o: CreateOptions = {}): Tensor {
  return finish(op('ones_like', [t], likeKw(t, o)), o);
}
export function fullLike(t: Tensor, value: number, o: CreateOptions = {}): Tensor {
  return finish(op('full_like', [t, value], likeKw(t, o)), o);
}
/**
 * Values start, start+step, ... < end; `arange(n)` gives 0..n-1. As in PyTorch the dtype is int64
 * when start, end and step are all integers, float32 otherwise (unless `dtype` is given).
 */
export function arange(start: number, end?: number, step = 1, o: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0) throw new Error('arange: step must be non-zero');
  const integral = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  return op('arange.start_step', [start, end, step], {
    dtype: o.dtype ?? (integral ? 'int64' : 'float32'),
    device: o.device ?? 'cpu',
  });
}
export function linspace(start: number, end: number, steps: number, o: CreateOptions = {}): Tensor {
  return op('linspace', [start, end, steps], { dtype: o.dtype ?? 'float32', device: o.device ?? 'cpu' });
}

// ---- random ---------------------------------------------------------------------------------

/** A seeded random stream; pass it to every random op so results depend only on the seed. */
export class Generator {
  readonly _g: NativeGenerator;
  constructor(
    seed: number,
    readonly device: string = 'cpu',
  ) {
    if (!Number.isInteger(seed) || seed < 0) throw new Error(`Generator: seed must be a non-negative integer, got ${seed}`);
    this._g = new native.GeneratorHandle(seed, device);
  }
  manualSeed(seed: number): this {
    this._g.seed(seed);
    return this;
  }
  /** Opaque state (uint8 tensor) for checkpoints. */
  getState(): Tensor {
    return new Tensor(this._g.getState());
  }
  setState(state: Tensor): void {
    this._g.setState(state._h);
  }
}

/** Device to sample on: `device` if given, else the generator's; the two must be of the same kind. */
function genDevice(what: string, gen: Generator, device?: string): string {
  const d = device ?? gen.device;
  if (d.split(':')[0] !== gen.device.split(':')[0])
    throw new Error(
      `${what}: the Generator is on '${gen.device}' but device '${d}' was requested; ` +
        `create the Generator with device '${d}', or sample on '${gen.device}' and move the result with .to()`,
    );
  return d;
}

export function randn(shape: number[], gen: Generator, o: CreateOptions = {}): Tensor {
  const device = genDevice('randn', gen, o.device);
  return finish(op('randn.generator', [shape], { generator: gen, dtype: o.dtype ?? 'float32', device }), o);
}
export function rand(shape: number[], gen: Generator, o: CreateOptions = {}): Tensor {
  const device = genDevice('rand', gen, o.device);
  return finish(op('rand.generator', [shape], { generator: gen, dtype: o.dtype ?? 'float32', device }), o);
}
/** Standard normal noise with the shape, dtype and device of `t` (unless overridden). */
export function randnLike(t: Tensor, gen: Generator, o: CreateOptions = {}): Tensor {
  return randn(t.shape, gen, { dtype: o.dtype ?? t.dtype, device: o.device ?? t.device, requiresGrad: o.requiresGrad });
}
/** Uniform [0, 1) noise with the shape, dtype and device of `t` (unless overridden). */
export function randLike(t: Tensor, gen: Generator, o: CreateOptions = {}): Tensor {
  return rand(t.shape, gen, { dtype: o.dtype ?? t.dtype, device: o.device ?? t.device, requiresGrad: o.requiresGrad });
}
/** Integers uniformly in [low, high). */
export function randint(low: number, high: number, shape: number[], gen: Generator, o: CreateOptions = {}): Tensor {
  const device = genDevice('randint', gen, o.device);
  return op('randint.low_generator', [low, high, shape], { generator: gen, dtype: o.dtype ?? 'int64', device });
}
/** Random permutation of 0..n-1. */
export function randperm(n: number, gen: Generator): Tensor {
  return op('randperm.generator', [n], { generator: gen, dtype: 'int64', device: gen.device });
}
/** 0/1 draws with probabilities `p` (same device as the generator). */
export function bernoulli(p: Tensor, gen: Generator): Tensor {
  genDevice('bernoulli', gen, p.device);
  return op('bernoulli', [p], { generator: gen });
}
/** Sets the global seed (ops called without a Generator). Prefer explicit Generators. */
export function manualSeed(seed: number): void {
  native.manualSeed(seed);
}

// ---- combination ----------------------------------------------------------------------------

export function cat(ts: Tensor[], dim = 0): Tensor {
  return op('cat', [ts, dim]);
}
export function stack(ts: Tensor[], dim = 0): Tensor {
  return op('stack', [ts, dim]);
}
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (typeof a === 'number' && typeof b === 'number') return op('where.Scalar', [cond, a, b]);
  if (typeof a === 'number') return op('where.ScalarSelf', [cond, a, b]);
  if (typeof b === 'number') return op('where.ScalarOther', [cond, a, b]);
  return op('where.self', [cond, a, b]);
}
export function complex(re: Tensor, im: Tensor): Tensor {
  return op('complex', [re, im]);
}
/** Counts of each non-negative integer in `x` (int64), optionally weighted, length ≥ minlength. */
export function bincount(x: Tensor, weights?: Tensor, minlength = 0): Tensor {
  return op('bincount', [x, weights ?? null, minlength]);
}

// ---- neural-network functions --------------------------------------------------------------

export type PadMode = 'constant' | 'circular' | 'reflect' | 'replicate';
/** Pads the last dims: `pad` = [lastLeft, lastRight, secondLastLeft, ...] as in PyTorch. */
export function pad(x: Tensor, padding: number[], mode: PadMode = 'constant', value = 0): Tensor {
  return op('pad', [x, padding, mode, mode === 'constant' ? value : null]);
}

export interface ConvOptions {
  stride?: number | number[];
  padding?: number | number[];
  dilation?: number | number[];
  groups?: number;
}
export function conv3d(x: Tensor, w: Tensor, b: Tensor | null = null, o: ConvOptions = {}): Tensor {
  return op('conv3d', [x, w, b, o.stride ?? 1, o.padding ?? 0, o.dilation ?? 1, o.groups ?? 1]);
}
export function conv1d(x: Tensor, w: Tensor, b: Tensor | null = null, o: ConvOptions = {}): Tensor {
  return op('conv1d', [x, w, b, o.stride ?? 1, o.padding ?? 0, o.dilation ?? 1, o.groups ?? 1]);
}
export function convTranspose3d(
  x: Tensor,
  w: Tensor,
  b: Tensor | null = null,
  o: ConvOptions & { outputPadding?: number | number[] } = {},
): Tensor {
  return op('conv_transpose3d.input', [
    x,
    w,
    b,
    o.stride ?? 1,
    o.padding ?? 0,
    o.outputPadding ?? 0,
    o.groups ?? 1,
    o.dilation ?? 1,
  ]);
}
export function maxPool3d(x: Tensor, kernel: number | number[], stride?: number | number[], padding = 0): Tensor {
  return op('max_pool3d', [x, kernel, stride ?? kernel, padding]);
}
export function avgPool3d(x: Tensor, kernel: number | number[], stride?: number | number[], padding = 0): Tensor {
  return op('avg_pool3d', [x, kernel, stride ?? kernel, padding]);
}
/** Resizes [B,C,D,H,W] by `scale` or to `size`, trilinear (align_corners=false) or nearest. */
export function interpolate(
  x: Tensor,
  o: { size?: number[]; scale?: number; mode: 'trilinear' | 'nearest'; alignCorners?: boolean },
): Tensor {
  if (!o.size && !(typeof o.scale === 'number' && o.scale > 0))
    throw new Error('interpolate: give either size or a positive scale');
  const scales = o.size ? null : [o.scale!, o.scale!, o.scale!];
  if (o.mode === 'nearest') return op('upsample_nearest3d.vec', [x, o.size ?? null, scales]);
  return op('upsample_trilinear3d.vec', [x, o.size ?? null, o.alignCorners ?? false, scales]);
}
/**
 * Normalisations run in the precision of their weights: an input of lower precision (the bfloat16
 * output of a convolution inside an autocast region) is promoted first, as CUDA autocast does for
 * its float32 list (libtorch's CPU autocast leaves group_norm out and then fails on mixed dtypes).
 */
function normInput(x: Tensor, weight: Tensor | null): Tensor {
  return weight && x.dtype !== weight.dtype && (x.dtype === 'bfloat16' || x.dtype === 'float16') ? x.to(weight.dtype) : x;
}
/** `f` on the promoted input, which is freed afterwards when it is a copy (also outside `tidy`). */
function onNormInput(x: Tensor, weight: Tensor | null, f: (input: Tensor) => Tensor): Tensor {
  const input = normInput(x, weight);
  try {
    return f(input);
  } finally {
    if (input !== x) input.dispose();
  }
}
export function groupNorm(x: Tensor, groups: number, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  return onNormInput(x, weight, (input) => op('group_norm', [input, groups, weight, bias, eps]));
}
export function layerNorm(x: Tensor, shape: number[], weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  return onNormInput(x, weight, (input) => op('layer_norm', [input, shape, weight, bias, eps]));
}
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  return op('linear', [x, w, b]);
}
export function softmax(x: Tensor, dim: number): Tensor {
  return op('softmax.int', [x, dim]);
}
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return op('log_softmax.int', [x, dim]);
}
/** Inverted dropout with an explicit random stream; identity when `training` is false or p = 0. */
export function dropout(x: Tensor, p: number, training: boolean, gen: Generator): Tensor {
  if (!training || p === 0) return op('alias', [x]);
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  genDevice('dropout', gen, x.device);
  const keepProb = op('full_like', [x, 1 - p]);
  const mask = op('bernoulli', [keepProb], { generator: gen });
  keepProb.dispose();
  const out = x.mul(mask).div(1 - p);
  mask.dispose();
  return out;
}
export function mseLoss(a: Tensor, b: Tensor): Tensor {
  return op('mse_loss', [a, b]);
}

// ---- FFT ------------------------------------------------------------------------------------

export type FftNorm = 'backward' | 'forward' | 'ortho';
export function rfftn(x: Tensor, dims?: number[], norm: FftNorm = 'backward'): Tensor {
  return op('fft_rfftn', [x, null, dims ?? null, norm]);
}
/** Inverse of rfftn; `size` gives the real output lengths along `dims` (needed for odd sizes). */
export function irfftn(x: Tensor, size?: number[], dims?: number[], norm: FftNorm = 'backward'): Tensor {
  return op('fft_irfftn', [x, size ?? null, dims ?? null, norm]);
}
export function fftn(x: Tensor, dims?: number[], norm: FftNorm = 'backward'): Tensor {
  return op('fft_fftn', [x, null, dims ?? null, norm]);
}
export function ifftn(x: Tensor, dims?: number[], norm: FftNorm = 'backward'): Tensor {
  return op('fft_ifftn', [x, null, dims ?? null, norm]);
}
/** Sample frequencies in cycles per unit (as numpy.fft.fftfreq). */
export function fftfreq(n: number, d = 1, o: CreateOptions = {}): Tensor {
  return op('fft_fftfreq', [n, d], { dtype: o.dtype ?? 'float32', device: o.device ?? 'cpu' });
}
export function rfftfreq(n: number, d = 1, o: CreateOptions = {}): Tensor {
  return op('fft_rfftfreq', [n, d], { dtype: o.dtype ?? 'float32', device: o.device ?? 'cpu' });
}

// ---- misc -----------------------------------------------------------------------------------

export function quantile(x: Tensor, q: number, dim?: number): Tensor {
  return op('quantile.scalar', [x, q, dim ?? null]);
}
export function meshgrid(ts: Tensor[], indexing: 'ij' | 'xy' = 'ij'): Tensor[] {
  return opMulti('meshgrid.indexing', [ts], { indexing }) as Tensor[];
}
export { asList };
