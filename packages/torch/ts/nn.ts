import { keep, tidy } from './scope.js';
import { noGrad } from './autograd.js';
import { Tensor, opMulti } from './tensor.js';
import * as F from './functional.js';
import type { Generator, PadMode } from './functional.js';

/**
 * Base class of network modules. Parameters and buffers live outside `tidy` scopes (they are
 * kept) and are released by `dispose()`.
 */
export abstract class Module {
  training = true;
  private readonly _params = new Map<string, Tensor>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _children = new Map<string, Module>();

  protected param(name: string, t: Tensor): Tensor {
    keep(t);
    t.requiresGrad = true;
    this._params.set(name, t);
    return t;
  }
  protected buffer(name: string, t: Tensor): Tensor {
    keep(t);
    this._buffers.set(name, t);
    return t;
  }
  protected child<M extends Module>(name: string, m: M): M {
    this._children.set(name, m);
    return m;
  }

  /** [name, tensor] for every parameter, depth first, names joined with '.' as in PyTorch. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, p] of this._params) out.push([prefix + n, p]);
    for (const [n, c] of this._children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, b] of this._buffers) out.push([prefix + n, b]);
    for (const [n, c] of this._children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }
  numParameters(): number {
    return this.parameters().reduce((a, p) => a + p.numel, 0);
  }
  /** Parameters and buffers by name (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }
  /** Copies values in; with `strict`, names and shapes must match exactly. */
  loadStateDict(state: Map<string, Tensor>, strict = true): void {
    const mine = this.stateDict();
    if (strict) {
      const missing = [...mine.keys()].filter((k) => !state.has(k));
      const extra = [...state.keys()].filter((k) => !mine.has(k));
      if (missing.length || extra.length)
        throw new Error(`loadStateDict: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`);
    }
    noGrad(() => {
      for (const [k, t] of mine) {
        const src = state.get(k);
        if (!src) continue;
        if (src.shape.join(',') !== t.shape.join(','))
          throw new Error(`loadStateDict: '${k}' has shape [${src.shape}] but the model expects [${t.shape}]`);
        t.copy_(src);
      }
    });
  }
  /**
   * Moves every parameter and buffer to `device` in place, as PyTorch's `module.to(device)` does
   * (`param.data = param.to(device)`): each tensor keeps its identity, so the fields of submodules
   * that refer to it stay valid. Create optimisers and EMA copies after moving.
   */
  to(device: string): this {
    noGrad(() => {
      for (const t of [...this._params.values(), ...this._buffers.values()])
        if (t.device !== device) tidy(() => void opMulti('set_data', [t, t.to(device)]));
    });
    for (const c of this._children.values()) c.to(device);
    return this;
  }
  /** The device of the first parameter (or buffer); 'cpu' for a module without tensors. */
  get device(): string {
    const t = this.namedParameters()[0]?.[1] ?? this.namedBuffers()[0]?.[1];
    return t?.device ?? 'cpu';
  }
  train(on = true): this {
    this.training = on;
    for (const c of this._children.values()) c.train(on);
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }
  /** Releases every parameter and buffer (the module is unusable afterwards). */
  dispose(): void {
    for (const p of this._params.values()) p.dispose();
    for (const b of this._buffers.values()) b.dispose();
    for (const c of this._children.values()) c.dispose();
  }
}

/** PyTorch's default init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases. */
export function uniformInit(shape: number[], fanIn: number, gen: Generator, device = 'cpu'): Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  // tidy: the draw and the intermediate product are released, only the result survives
  return tidy(() => F.rand(shape, gen, { device }).mul(2 * bound).sub(bound));
}

export interface Conv3dOptions {
  /** Cubic kernel size (default 3). */
  kernel?: number;
  stride?: number;
  /** Default floor(kernel/2) ("same" size for odd kernels); unlike PyTorch's nn.Conv3d, whose default is 0. */
  padding?: number;
  paddingMode?: 'zeros' | 'circular';
  groups?: number;
  bias?: boolean;
  device?: string;
}

export class Conv3d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    gen: Generator,
    readonly opts: Conv3dOptions = {},
  ) {
    super();
    const k = opts.kernel ?? 3;
    const groups = opts.groups ?? 1;
    if (inChannels % groups || outChannels % groups)
      throw new Error(`Conv3d: channels ${inChannels}->${outChannels} not divisible by groups=${groups}`);
    const fanIn = (inChannels / groups) * k * k * k;
    this.weight = this.param('weight', uniformInit([outChannels, inChannels / groups, k, k, k], fanIn, gen, opts.device));
    this.bias = opts.bias === false ? null : this.param('bias', uniformInit([outChannels], fanIn, gen, opts.device));
  }
  forward(x: Tensor): Tensor {
    const p = this.opts.padding ?? Math.floor((this.opts.kernel ?? 3) / 2);
    const stride = this.opts.stride ?? 1;
    const groups = this.opts.groups ?? 1;
    if (this.opts.paddingMode === 'circular' && p > 0) {
      const padded = F.pad(x, [p, p, p, p, p, p], 'circular');
      const y = F.conv3d(padded, this.weight, this.bias, { stride, padding: 0, groups });
      padded.dispose();
      return y;
    }
    return F.conv3d(x, this.weight, this.bias, { stride, padding: p, groups });
  }
  /** Multiply-adds per output voxel x 2 = FLOPs per output voxel. */
  flopsPerVoxel(): number {
    const k = this.opts.kernel ?? 3;
    return 2 * (this.inChannels / (this.opts.groups ?? 1)) * k * k * k * this.outChannels;
  }
}

export class GroupNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(
    readonly groups: number,
    readonly channels: number,
    readonly eps = 1e-5,
    device = 'cpu',
  ) {
    super();
    if (channels % groups) throw new Error(`GroupNorm: ${channels} channels not divisible into ${groups} groups`);
    this.weight = this.param('weight', F.ones([channels], { device }));
    this.bias = this.param('bias', F.zeros([channels], { device }));
  }
  forward(x: Tensor): Tensor {
    return F.groupNorm(x, this.groups, this.weight, this.bias, this.eps);
  }
}

export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(
    readonly shape: number[],
    readonly eps = 1e-5,
    device = 'cpu',
  ) {
    super();
    this.weight = this.param('weight', F.ones(shape, { device }));
    this.bias = this.param('bias', F.zeros(shape, { device }));
  }
  forward(x: Tensor): Tensor {
    return F.layerNorm(x, this.shape, this.weight, this.bias, this.eps);
  }
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    gen: Generator,
    opts: { bias?: boolean; device?: string } = {},
  ) {
    super();
    this.weight = this.param('weight', uniformInit([outFeatures, inFeatures], inFeatures, gen, opts.device));
    this.bias = opts.bias === false ? null : this.param('bias', uniformInit([outFeatures], inFeatures, gen, opts.device));
  }
  forward(x: Tensor): Tensor {
    return F.linear(x, this.weight, this.bias);
  }
}

export type { PadMode };
