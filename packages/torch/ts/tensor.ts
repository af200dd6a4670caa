import { native, type NativeTensor } from './native.js';
import { track } from './scope.js';

export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int32'
  | 'int64'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool'
  | 'complex64'
  | 'complex128';
export type Device = 'cpu' | 'cuda' | `cuda:${number}`;
export type TypedArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Int16Array | Int8Array | Uint8Array;
export type Scalar = number | boolean;
export type TensorLike = Tensor | number;

/** Calls an ATen op by schema name and wraps every tensor in the result. */
export function op(name: string, args: unknown[], kwargs?: Record<string, unknown>): Tensor {
  return wrapResult(native.call(name, args, kwargs)) as Tensor;
}

/** Like `op` for ops returning several values (tuples). */
export function opMulti(name: string, args: unknown[], kwargs?: Record<string, unknown>): unknown[] {
  return wrapResult(native.call(name, args, kwargs)) as unknown[];
}

/** Calls an in-place op; its result aliases `self`, so the returned handle is released at once. */
function inplace(name: string, args: unknown[], kwargs?: Record<string, unknown>): void {
  const r = native.call(name, args, kwargs) as NativeTensor | null;
  r?.dispose();
}

function wrapResult(r: unknown): unknown {
  if (r instanceof native.TensorHandle) return new Tensor(r as NativeTensor);
  if (Array.isArray(r)) return r.map(wrapResult);
  return r;
}

/**
 * A libtorch tensor. Memory is released deterministically: by `dispose()`, or by the enclosing
 * `tidy()` scope; garbage collection is only a fallback.
 */
export class Tensor {
  /** Native handle; read by the addon when a Tensor is passed as an argument. */
  readonly _h: NativeTensor;

  constructor(handle: NativeTensor) {
    this._h = handle;
    track(this);
  }

  // ---- metadata -------------------------------------------------------------------------
  get shape(): number[] {
    return this._h.shape();
  }
  get dtype(): DType {
    return this._h.dtype() as DType;
  }
  get device(): string {
    return this._h.device();
  }
  get ndim(): number {
    return this._h.shape().length;
  }
  get numel(): number {
    return this._h.numel();
  }
  get isDisposed(): boolean {
    return this._h.isDisposed();
  }
  size(dim: number): number {
    const s = this.shape;
    const d = dim < 0 ? s.length + dim : dim;
    if (!Number.isInteger(d) || d < 0 || d >= s.length)
      throw new RangeError(`size(${dim}): dimension out of range for a ${s.length}-d tensor [${s.join(',')}]`);
    return s[d]!;
  }

  dispose(): void {
    this._h.dispose();
  }

  // ---- autograd -------------------------------------------------------------------------
  get requiresGrad(): boolean {
    return this._h.requiresGrad();
  }
  set requiresGrad(on: boolean) {
    this._h.setRequiresGrad(on);
  }
  requiresGrad_(on = true): this {
    this._h.setRequiresGrad(on);
    return this;
  }
  /**
   * Gradient accumulated by `backward()`, or null. A new handle each call (dispose it or use tidy);
   * use `hasGrad` for a plain presence test.
   */
  get grad(): Tensor | null {
    const g = this._h.grad();
    return g ? new Tensor(g) : null;
  }
  /** Whether a gradient is stored, without creating a handle (safe outside `tidy`). */
  get hasGrad(): boolean {
    const g = this._h.grad();
    if (!g) return false;
    g.dispose();
    return true;
  }
  set grad(g: Tensor | null) {
    this._h.setGrad(g ? g._h : null);
  }
  get isLeaf(): boolean {
    return this._h.isLeaf();
  }
  backward(grad?: Tensor, opts: { retainGraph?: boolean } = {}): void {
    this._h.backward(grad ? grad._h : null, opts.retainGraph ?? false);
  }
  retainGrad(): this {
    this._h.retainGrad();
    return this;
  }
  detach(): Tensor {
    return op('detach', [this]);
  }

  // ---- data -----------------------------------------------------------------------------
  /** Copies the data out (CPU, contiguous) into a new typed array. */
  toArray(): TypedArray {
    return this._h.toTypedArray();
  }
  toFloat32Array(): Float32Array {
    const t = this.dtype === 'float32' ? this : this.to('float32');
    const out = t._h.toTypedArray() as Float32Array;
    if (t !== this) t.dispose();
    return out;
  }
  toFloat64Array(): Float64Array {
    const t = this.dtype === 'float64' ? this : this.to('float64');
    const out = t._h.toTypedArray() as Float64Array;
    if (t !== this) t.dispose();
    return out;
  }
  /**
   * Zero-copy view of a contiguous CPU tensor's memory. The view shares memory with the tensor
   * (writes are visible both ways) and keeps it alive until the view is garbage collected.
   */
  dataView(): TypedArray {
    return this._h.view();
  }
  /** Value of a one-element tensor (int64 values beyond 2^53 lose precision). */
  item(): number {
    return Number(this._h.item());
  }
  /** Overwrites this tensor's values from a typed array of the same byte length (no autograd). */
  copyFromArray(data: ArrayBufferView): this {
    this._h.copyFrom(data);
    return this;
  }
  /** Nested JS array, for small tensors (tests, printing). Complex values become [re, im] pairs. */
  toList(): number[] | number {
    const flat = Array.from(this.toArray() as ArrayLike<number | bigint>, Number);
    const shape = this.dtype.startsWith('complex') ? [...this.shape, 2] : this.shape;
    if (shape.length === 0) return flat[0]!;
    const build = (d: number, off: number): unknown[] => {
      const n = shape[d]!;
      const stride = shape.slice(d + 1).reduce((a, b) => a * b, 1);
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(d === shape.length - 1 ? flat[off + i] : build(d + 1, off + i * stride));
      return out;
    };
    return build(0, 0) as number[];
  }
  toString(): string {
    return `Tensor(${this.dtype}[${this.shape.join(',')}] ${this.device}${this.requiresGrad ? ' grad' : ''})`;
  }

  // ---- conversion -----------------------------------------------------------------------
  to(target: DType | Device | string, dtype?: DType): Tensor {
    if (isDType(target)) return op('to.dtype', [this, target]);
    return op('to.device', [this, target, dtype ?? this.dtype]);
  }
  float(): Tensor {
    return this.to('float32');
  }
  double(): Tensor {
    return this.to('float64');
  }
  long(): Tensor {
    return this.to('int64');
  }
  clone(): Tensor {
    return op('clone', [this]);
  }
  contiguous(): Tensor {
    return op('contiguous', [this]);
  }

  // ---- elementwise ----------------------------------------------------------------------
  add(o: TensorLike, alpha = 1): Tensor {
    return typeof o === 'number' ? op('add.Scalar', [this, o, alpha]) : op('add.Tensor', [this, o, alpha]);
  }
  sub(o: TensorLike, alpha = 1): Tensor {
    return typeof o === 'number' ? op('sub.Scalar', [this, o, alpha]) : op('sub.Tensor', [this, o, alpha]);
  }
  mul(o: TensorLike): Tensor {
    return typeof o === 'number' ? op('mul.Scalar', [this, o]) : op('mul.Tensor', [this, o]);
  }
  div(o: TensorLike): Tensor {
    return typeof o === 'number' ? op('div.Scalar', [this, o]) : op('div.Tensor', [this, o]);
  }
  /** Float division even for integer inputs' floor variant: `rounding` 'floor' | 'trunc'. */
  divMode(o: Tensor, rounding: 'floor' | 'trunc'): Tensor {
    return op('div.Tensor_mode', [this, o], { rounding_mode: rounding });
  }
  remainder(o: TensorLike): Tensor {
    return typeof o === 'number' ? op('remainder.Scalar', [this, o]) : op('remainder.Tensor', [this, o]);
  }
  pow(o: TensorLike): Tensor {
    return typeof o === 'number' ? op('pow.Tensor_Scalar', [this, o]) : op('pow.Tensor_Tensor', [this, o]);
  }
  neg(): Tensor {
    return op('neg', [this]);
  }
  exp(): Tensor {
    return op('exp', [this]);
  }
  expm1(): Tensor {
    return op('expm1', [this]);
  }
  log(): Tensor {
    return op('log', [this]);
  }
  log10(): Tensor {
    return op('log10', [this]);
  }
  log1p(): Tensor {
    return op('log1p', [this]);
  }
  sqrt(): Tensor {
    return op('sqrt', [this]);
  }
  rsqrt(): Tensor {
    return op('rsqrt', [this]);
  }
  square(): Tensor {
    return op('square', [this]);
  }
  abs(): Tensor {
    return op('abs', [this]);
  }
  sign(): Tensor {
    return op('sign', [this]);
  }
  sin(): Tensor {
    return op('sin', [this]);
  }
  cos(): Tensor {
    return op('cos', [this]);
  }
  tanh(): Tensor {
    return op('tanh', [this]);
  }
  floor(): Tensor {
    return op('floor', [this]);
  }
  ceil(): Tensor {
    return op('ceil', [this]);
  }
  round(): Tensor {
    return op('round', [this]);
  }
  sigmoid(): Tensor {
    return op('sigmoid', [this]);
  }
  relu(): Tensor {
    return op('relu', [this]);
  }
  leakyRelu(slope = 0.01): Tensor {
    return op('leaky_relu', [this, slope]);
  }
  softplus(beta = 1, threshold = 20): Tensor {
    return op('softplus', [this, beta, threshold]);
  }
  silu(): Tensor {
    return op('silu', [this]);
  }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor {
    return op('gelu', [this], { approximate });
  }
  clamp(min: number | null, max: number | null = null): Tensor {
    return op('clamp', [this, min, max]);
  }
  /** 1 / x. */
  reciprocal(): Tensor {
    return op('reciprocal', [this]);
  }
  /** Elementwise maximum; a number acts as a lower bound (clamp_min). */
  maximum(o: TensorLike): Tensor {
    return typeof o === 'number' ? op('clamp_min', [this, o]) : op('maximum', [this, o]);
  }
  /** Elementwise minimum; a number acts as an upper bound (clamp_max). */
  minimum(o: TensorLike): Tensor {
    return typeof o === 'number' ? op('clamp_max', [this, o]) : op('minimum', [this, o]);
  }
  isfinite(): Tensor {
    return op('isfinite', [this]);
  }
  isnan(): Tensor {
    return op('isnan', [this]);
  }
  gt(o: TensorLike): Tensor {
    return typeof o === 'number' ? op('gt.Scalar', [this, o]) : op('gt.Tensor', [this, o]);
  }
  ge(o: TensorLike): Tensor {
    return typeof o === 'number' ? op('ge.Scalar', [this, o]) : op('ge.Tensor', [this, o]);
  }
  lt(o: TensorLike): Tensor {
    return typeof o === 'number' ? op('lt.Scalar', [this, o]) : op('lt.Tensor', [this, o]);
  }
  le(o: TensorLike): Tensor {
    return typeof o === 'number' ? op('le.Scalar', [this, o]) : op('le.Tensor', [this, o]);
  }
  eq(o: TensorLike): Tensor {
    return typeof o === 'number' ? op('eq.Scalar', [this, o]) : op('eq.Tensor', [this, o]);
  }
  ne(o: TensorLike): Tensor {
    return typeof o === 'number' ? op('ne.Scalar', [this, o]) : op('ne.Tensor', [this, o]);
  }
  logicalAnd(o: Tensor): Tensor {
    return op('logical_and', [this, o]);
  }
  logicalOr(o: Tensor): Tensor {
    return op('logical_or', [this, o]);
  }
  logicalXor(o: Tensor): Tensor {
    return op('logical_xor', [this, o]);
  }
  logicalNot(): Tensor {
    return op('logical_not', [this]);
  }
  maskedFill(mask: Tensor, value: number): Tensor {
    return op('masked_fill.Scalar', [this, mask, value]);
  }

  // ---- reductions -----------------------------------------------------------------------
  sum(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined ? op('sum', [this]) : op('sum.dim_IntList', [this, asList(dim), keepdim]);
  }
  mean(dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined ? op('mean', [this]) : op('mean.dim', [this, asList(dim), keepdim]);
  }
  /** Variance; `correction` 1 = unbiased (PyTorch default), 0 = population. */
  var(dim?: number | number[], opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return op('var.correction', [this, dim === undefined ? null : asList(dim)], {
      correction: opts.correction ?? 1,
      keepdim: opts.keepdim ?? false,
    });
  }
  std(dim?: number | number[], opts: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return op('std.correction', [this, dim === undefined ? null : asList(dim)], {
      correction: opts.correction ?? 1,
      keepdim: opts.keepdim ?? false,
    });
  }
  /** Product of all elements, or over `dim`. */
  prod(dim?: number, keepdim = false): Tensor {
    return dim === undefined ? op('prod', [this]) : op('prod.dim_int', [this, dim, keepdim]);
  }
  /** Maximum of all elements (0-d); use `amax(dim)` for a maximum over dims. */
  max(): Tensor {
    return op('max', [this]);
  }
  /** Minimum of all elements (0-d); use `amin(dim)` for a minimum over dims. */
  min(): Tensor {
    return op('min', [this]);
  }
  amax(dim: number | number[], keepdim = false): Tensor {
    return op('amax', [this, asList(dim), keepdim]);
  }
  amin(dim: number | number[], keepdim = false): Tensor {
    return op('amin', [this, asList(dim), keepdim]);
  }
  argmax(dim?: number, keepdim = false): Tensor {
    return op('argmax', [this, dim ?? null, keepdim]);
  }
  /** p-norm of all elements, or over `dim`. */
  norm(p = 2, dim?: number | number[], keepdim = false): Tensor {
    return dim === undefined ? op('norm.Scalar', [this, p]) : op('norm.ScalarOpt_dim', [this, p, asList(dim), keepdim]);
  }
  cumsum(dim: number): Tensor {
    return op('cumsum', [this, dim]);
  }
  logsumexp(dim: number | number[], keepdim = false): Tensor {
    return op('logsumexp', [this, asList(dim), keepdim]);
  }
  /** Sorted values along `dim` (ascending unless `descending`). */
  sort(dim = -1, descending = false): { values: Tensor; indices: Tensor } {
    const [values, indices] = opMulti('sort', [this, dim, descending]) as [Tensor, Tensor];
    return { values, indices };
  }

  // ---- shape ----------------------------------------------------------------------------
  reshape(shape: number[]): Tensor {
    return op('reshape', [this, shape]);
  }
  view(shape: number[]): Tensor {
    return op('view', [this, shape]);
  }
  flatten(start = 0, end = -1): Tensor {
    return op('flatten.using_ints', [this, start, end]);
  }
  permute(dims: number[]): Tensor {
    return op('permute', [this, dims]);
  }
  transpose(a: number, b: number): Tensor {
    return op('transpose.int', [this, a, b]);
  }
  flip(dims: number | number[]): Tensor {
    return op('flip', [this, asList(dims)]);
  }
  /** Periodic shift along dims (elements leaving one end re-enter at the other). */
  roll(shifts: number | number[], dims: number | number[]): Tensor {
    return op('roll', [this, asList(shifts), asList(dims)]);
  }
  /** Python-style slice `[start:end:step]` along `dim` (a view). */
  slice(dim: number, start: number | null, end: number | null, step = 1): Tensor {
    return op('slice.Tensor', [this, dim, start, end, step]);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return op('narrow', [this, dim, start, length]);
  }
  select(dim: number, index: number): Tensor {
    return op('select.int', [this, dim, index]);
  }
  squeeze(dim?: number): Tensor {
    return dim === undefined ? op('squeeze', [this]) : op('squeeze.dim', [this, dim]);
  }
  unsqueeze(dim: number): Tensor {
    return op('unsqueeze', [this, dim]);
  }
  expand(shape: number[]): Tensor {
    return op('expand', [this, shape]);
  }
  repeat(repeats: number[]): Tensor {
    return op('repeat', [this, repeats]);
  }
  chunk(chunks: number, dim = 0): Tensor[] {
    return opMulti('chunk', [this, chunks, dim]) as Tensor[];
  }
  split(size: number | number[], dim = 0): Tensor[] {
    return Array.isArray(size)
      ? (opMulti('split_with_sizes', [this, size, dim]) as Tensor[])
      : (opMulti('split.Tensor', [this, size, dim]) as Tensor[]);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return op('index_select', [this, dim, index]);
  }
  gather(dim: number, index: Tensor): Tensor {
    return op('gather', [this, dim, index]);
  }
  /** Advanced indexing `t[idx0, idx1, ...]` with index tensors (null = full slice). */
  index(indices: (Tensor | null)[]): Tensor {
    return op('index.Tensor', [this, indices]);
  }
  /** Out-of-place `index_add` along `dim`: self + scatter of `source` at `index`. */
  indexAdd(dim: number, index: Tensor, source: Tensor, alpha = 1): Tensor {
    return op('index_add', [this, dim, index, source], { alpha });
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return op('scatter_add', [this, dim, index, src]);
  }

  // ---- linear algebra -------------------------------------------------------------------
  matmul(o: Tensor): Tensor {
    return op('matmul', [this, o]);
  }
  bmm(o: Tensor): Tensor {
    return op('bmm', [this, o]);
  }

  // ---- complex --------------------------------------------------------------------------
  real(): Tensor {
    return op('real', [this]);
  }
  imag(): Tensor {
    return op('imag', [this]);
  }
  conj(): Tensor {
    return op('conj_physical', [this]);
  }

  // ---- in place (no autograd history needed: optimizers, buffers) ----------------------
  /** In-place `this += alpha * o`. */
  add_(o: TensorLike, alpha = 1): this {
    if (typeof o === 'number') inplace('add_.Scalar', [this, o, alpha]);
    else inplace('add_.Tensor', [this, o, alpha]);
    return this;
  }
  mul_(o: TensorLike): this {
    if (typeof o === 'number') inplace('mul_.Scalar', [this, o]);
    else inplace('mul_.Tensor', [this, o]);
    return this;
  }
  div_(o: TensorLike): this {
    if (typeof o === 'number') inplace('div_.Scalar', [this, o]);
    else inplace('div_.Tensor', [this, o]);
    return this;
  }
  /** this += value * t1 * t2 */
  addcmul_(t1: Tensor, t2: Tensor, value = 1): this {
    inplace('addcmul_', [this, t1, t2], { value });
    return this;
  }
  /** this += value * t1 / t2 */
  addcdiv_(t1: Tensor, t2: Tensor, value = 1): this {
    inplace('addcdiv_', [this, t1, t2], { value });
    return this;
  }
  /** this += weight * (end - this) */
  lerp_(end: Tensor, weight: number): this {
    inplace('lerp_.Scalar', [this, end, weight]);
    return this;
  }
  copy_(src: Tensor): this {
    inplace('copy_', [this, src]);
    return this;
  }
  fill_(value: number): this {
    inplace('fill_.Scalar', [this, value]);
    return this;
  }
  zero_(): this {
    inplace('zero_', [this]);
    return this;
  }
  clamp_(min: number | null, max: number | null = null): this {
    inplace('clamp_', [this, min, max]);
    return this;
  }
  sqrt_(): this {
    inplace('sqrt_', [this]);
    return this;
  }
  /** In-place `index_add_`: this[index[i]] += alpha * source[i] along dim. */
  indexAdd_(dim: number, index: Tensor, source: Tensor, alpha = 1): this {
    inplace('index_add_', [this, dim, index, source], { alpha });
    return this;
  }
}

const DTYPES: ReadonlySet<string> = new Set<DType>([
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'int32',
  'int64',
  'int16',
  'int8',
  'uint8',
  'bool',
  'complex64',
  'complex128',
]);

export function isDType(s: string): s is DType {
  return DTYPES.has(s);
}

export function asList(x: number | number[]): number[] {
  return Array.isArray(x) ? x : [x];
}
