/**
 * Periodic 3D building blocks shared by the networks of lodi (the LODI denoiser and HALOgen; the
 * grouped convolution is in grouped.ts, the nonlinearities in activation.ts, resampling in
 * resample.ts). Every block is fully convolutional, so the same weights run on 32^3 crops and on
 * larger inputs, and uses circular padding, so on a periodic box the network is translation
 * equivariant.
 *
 * Layouts are PyTorch's (weights [out, in, k, k, k], activations [B, C, X, Y, Z]) and parameter
 * names follow PyTorch's `state_dict`, so the weights load into the reference modules of bench/py.
 */
import { F, Generator, nn, noGrad, tidy, type Tensor } from '@lodi/torch';
import { activate, type Activation } from './activation.js';
import { GroupedConv3d, type GroupedConvOptions } from './grouped.js';
import { inFloat32 } from './precision.js';

/** Sets a parameter to zero in place (zero-initialised projections and output layers, as in VDM). */
export function zeroInit(t: Tensor | null): void {
  if (t) noGrad(() => t.zero_());
}

/** Circular-padded 3^3 (or k^3) convolution. */
export function periodicConv(cin: number, cout: number, gen: Generator, kernel = 3, bias = true): nn.Conv3d {
  return new nn.Conv3d(cin, cout, gen, { kernel, paddingMode: 'circular', bias });
}

/**
 * Transposed 3D convolution (PyTorch's nn.ConvTranspose3d layout: weight [in, out, k, k, k]).
 * With kernel = stride = 2 the output voxels never overlap, so no padding question arises.
 */
export class ConvTranspose3d extends nn.Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    gen: Generator,
    readonly kernel = 2,
    readonly stride = 2,
  ) {
    super();
    // PyTorch computes fan_in of a transposed conv from weight.size(1) * k^3 = out * k^3.
    const fanIn = outChannels * kernel ** 3;
    this.weight = this.param('weight', nn.uniformInit([inChannels, outChannels, kernel, kernel, kernel], fanIn, gen));
    this.bias = this.param('bias', nn.uniformInit([outChannels], fanIn, gen));
  }
  forward(x: Tensor): Tensor {
    return F.convTranspose3d(x, this.weight, this.bias, { stride: this.stride });
  }
  flopsPerVoxel(): number {
    // per *input* voxel: every input voxel feeds k^3 outputs with `out` channels each
    return 2 * this.inChannels * this.outChannels * this.kernel ** 3;
  }
}

/**
 * Sinusoidal features of a scalar per batch element (Vaswani et al. 2017, as in the VDM reference
 * code): t [B] → [B, dim] = [sin(1000 t ω_j), cos(1000 t ω_j)], ω_j = 10000^(−j/(dim/2 − 1)).
 */
export function sinusoidalEmbedding(t: Tensor, dim: number): Tensor {
  if (dim % 2 || dim < 4) throw new Error(`sinusoidalEmbedding: dim must be even and >= 4, got ${dim}`);
  return tidy(() => {
    const half = dim / 2;
    const freqs = F.arange(0, half, 1, { dtype: 'float32', device: t.device }).mul(-Math.log(10000) / (half - 1)).exp();
    const arg = t.reshape([-1, 1]).mul(1000).mul(freqs.reshape([1, half]));
    return F.cat([arg.sin(), arg.cos()], 1);
  });
}

/** Time embedding: sinusoidal features (dim E) → Linear(E, 4E) → SiLU → Linear(4E, 4E) → SiLU. */
export class TimeEmbedding extends nn.Module {
  readonly lin1: nn.Linear;
  readonly lin2: nn.Linear;
  constructor(
    readonly dim: number,
    readonly outDim: number,
    gen: Generator,
  ) {
    super();
    this.lin1 = this.child('lin1', new nn.Linear(dim, outDim, gen));
    this.lin2 = this.child('lin2', new nn.Linear(outDim, outDim, gen));
  }
  /** t [B] (normalised time in [0, 1]) → [B, outDim]. */
  forward(t: Tensor): Tensor {
    return tidy(() => this.lin2.forward(this.lin1.forward(sinusoidalEmbedding(t, this.dim)).silu()).silu());
  }
}

/** A convolution of a block: the engine's dense nn.Conv3d or a GroupedConv3d. */
export type BlockConv = nn.Conv3d | GroupedConv3d;

/** Grouping of the convolutions of a block (independent channel streams). */
export type BlockGrouping = Pick<GroupedConvOptions, 'groups' | 'blockDiagonalMin'>;

export interface ResBlockOptions {
  /** Number of k^3 convolutions in the block (2 in VDM and HALOgen, 3 in the LODI paper). */
  convs: number;
  /** GroupNorm groups (capped at the channel count). */
  normGroups: number;
  dropout: number;
  /** Width of the conditioning (time) embedding; 0 for none. */
  embDim: number;
  /** Nonlinearity after each GroupNorm (default 'silu'). */
  activation?: Activation;
  /** Cubic kernel of the convolutions, odd (default 3). */
  kernel?: number;
  /** Zero-initialise the last convolution, so the block starts as its skip path (default true, as in VDM). */
  zeroInitLast?: boolean;
  /**
   * Grouped convolutions (GroupedConv3d, also on the skip path): with `groups` streams and
   * `normGroups` a multiple of `groups`, the block maps each stream on its own. Default: dense.
   */
  grouped?: BlockGrouping;
}

/**
 * Residual block: [GroupNorm → activation → conv] × `convs`, with a zero-initialised, bias-free
 * projection of the embedding added after the first conv, dropout before the last conv, and a
 * 1^3 conv on the skip path when the width changes. By default starts as the identity on the
 * residual branch of the last conv (zero-initialised), as in the VDM reference code.
 *
 * Parameters (PyTorch names): norm1, conv1, ..., norm{convs}, conv{convs}, emb (when embDim > 0),
 * skip (when cin ≠ cout); drawn from `gen` in that order.
 */
export class ResBlock3d extends nn.Module {
  readonly norms: nn.GroupNorm[] = [];
  readonly convs: BlockConv[] = [];
  readonly emb: nn.Linear | null;
  readonly skip: BlockConv | null;
  readonly activation: Activation;
  constructor(
    readonly cin: number,
    readonly cout: number,
    readonly o: ResBlockOptions,
    gen: Generator,
  ) {
    super();
    if (o.convs < 1) throw new Error(`ResBlock3d: needs at least one convolution, got ${o.convs}`);
    const kernel = o.kernel ?? 3;
    if (kernel % 2 !== 1) throw new Error(`ResBlock3d: kernel must be odd, got ${kernel}`);
    this.activation = o.activation ?? 'silu';
    const g = o.grouped;
    const conv = (a: number, b: number, k: number): BlockConv =>
      g
        ? new GroupedConv3d(a, b, gen, { kernel: k, groups: g.groups, circular: true, blockDiagonalMin: g.blockDiagonalMin })
        : k === 1
          ? new nn.Conv3d(a, b, gen, { kernel: 1, padding: 0 })
          : periodicConv(a, b, gen, k);
    for (let i = 0; i < o.convs; i++) {
      const c = i === 0 ? cin : cout;
      this.norms.push(this.child(`norm${i + 1}`, new nn.GroupNorm(Math.min(o.normGroups, c), c)));
      this.convs.push(this.child(`conv${i + 1}`, conv(c, cout, kernel)));
    }
    if (o.zeroInitLast ?? true) {
      zeroInit(this.convs[o.convs - 1]!.weight);
      zeroInit(this.convs[o.convs - 1]!.bias);
    }
    this.emb = o.embDim > 0 ? this.child('emb', new nn.Linear(o.embDim, cout, gen, { bias: false })) : null;
    if (this.emb) zeroInit(this.emb.weight);
    this.skip = cin === cout ? null : this.child('skip', conv(cin, cout, 1));
  }
  /** x [B, cin, n, n, n], emb [B, embDim] → [B, cout, n, n, n]. */
  forward(x: Tensor, emb: Tensor | null, dropoutGen: Generator | null): Tensor {
    return tidy(() => {
      let h = x;
      const last = this.o.convs - 1;
      for (let i = 0; i <= last; i++) {
        h = activate(this.norms[i]!.forward(h), this.activation);
        if (i === last && i > 0 && this.o.dropout > 0 && this.training) {
          if (!dropoutGen) throw new Error('ResBlock3d: training with dropout needs a seeded Generator');
          h = F.dropout(h, this.o.dropout, true, dropoutGen);
        }
        h = this.convs[i]!.forward(h);
        if (i === 0 && this.emb && emb) {
          // float32 under autocast (src/nets/precision.ts): the time conditioning is not rounded to bfloat16
          const lin = this.emb;
          const e = inFloat32(emb, (x) => lin.forward(x));
          h = h.add(e.reshape([e.shape[0]!, this.cout, 1, 1, 1]));
        }
      }
      return h.add(this.skip ? this.skip.forward(x) : x);
    });
  }
  flopsPerVoxel(): number {
    let f = 0;
    for (const c of this.convs) f += c.flopsPerVoxel();
    return f + (this.skip ? this.skip.flopsPerVoxel() : 0);
  }
}

export interface SelfAttentionOptions {
  /**
   * Grouped 1^3 qkv and output convolutions: each of the `groups` streams attends over the voxels
   * with its own heads (heads/groups per stream), so streams stay independent. Default: dense.
   */
  grouped?: BlockGrouping;
  /** Zero-initialise the output projection, so the block starts as the identity (default true). */
  zeroInitProj?: boolean;
}

/**
 * Multi-head self-attention over all voxels (used at the bottleneck): GroupNorm → 1^3 qkv conv →
 * softmax(q·k/√d) v → 1^3 output projection (zero-initialised by default), added to the input.
 *
 * Channel layout of the qkv conv output, per stream s (one stream when not grouped):
 * [q | k | v] × heads/groups × d with d = channels/heads, so a grouped qkv conv keeps every head
 * inside its stream. Parameters: norm, qkv, proj (drawn in that order).
 */
export class SelfAttention3d extends nn.Module {
  readonly norm: nn.GroupNorm;
  readonly qkv: BlockConv;
  readonly proj: BlockConv;
  readonly groups: number;
  constructor(
    readonly channels: number,
    readonly heads: number,
    normGroups: number,
    gen: Generator,
    o: SelfAttentionOptions = {},
  ) {
    super();
    if (channels % heads) throw new Error(`SelfAttention3d: ${channels} channels not divisible into ${heads} heads`);
    const g = o.grouped;
    this.groups = g?.groups ?? 1;
    if (heads % this.groups) throw new Error(`SelfAttention3d: ${heads} heads not divisible into groups=${this.groups}`);
    const conv = (a: number, b: number): BlockConv =>
      g ? new GroupedConv3d(a, b, gen, { kernel: 1, groups: g.groups, circular: false, blockDiagonalMin: g.blockDiagonalMin }) : new nn.Conv3d(a, b, gen, { kernel: 1, padding: 0 });
    this.norm = this.child('norm', new nn.GroupNorm(Math.min(normGroups, channels), channels));
    this.qkv = this.child('qkv', conv(channels, 3 * channels));
    this.proj = this.child('proj', conv(channels, channels));
    if (o.zeroInitProj ?? true) {
      zeroInit(this.proj.weight);
      zeroInit(this.proj.bias);
    }
  }
  /** x [B, C, X, Y, Z] → x + attention output, same shape. */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const [B, C, X, Y, Z] = x.shape as [number, number, number, number, number];
      const L = X * Y * Z;
      const d = C / this.heads;
      const G = this.groups;
      const qkv = this.qkv.forward(this.norm.forward(x)).reshape([B, G, 3, this.heads / G, d, L]);
      const pick = (i: number): Tensor => qkv.select(2, i).reshape([B * this.heads, d, L]);
      const q = pick(0);
      const k = pick(1);
      const v = pick(2);
      // the softmax in float32 also when the scores come from a bfloat16 product (autocast)
      const att = F.softmax(q.transpose(1, 2).bmm(k).mul(1 / Math.sqrt(d)).float(), -1); // [BH, Lq, Lk]
      const o = v.bmm(att.transpose(1, 2)).reshape([B, C, X, Y, Z]);
      return x.add(this.proj.forward(o));
    });
  }
  /** Forward FLOPs for `voxels` tokens: the qkv and output convs (grouped weights only), QK^T and AV. */
  flops(voxels: number): number {
    const C = this.channels;
    return voxels * 2 * (C / this.groups) * 4 * C + 2 * 2 * voxels * voxels * C;
  }
}
