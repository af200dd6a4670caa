/**
 * HALOgen network (LODI paper, Sec. 2.1.1, Fig. 2): an attention ResUNet mapping a standardised
 * log DM density [B,1,n,n,n] to four log10 halo-mass-density channels [B,4,n,n,n].
 *
 * - ResNet blocks (GroupNorm → activation → 3^3 conv, twice, plus a residual path) whose convolutions
 *   are grouped by `groups` (= 4): the network is `groups` independent streams after the stem, and
 *   output channel i depends only on stream i (GroupNorm groups and attention heads never straddle
 *   two streams; skip concatenations interleave per stream).
 * - Three encoder stages with 2x2x2 max-pooling (64^3 → 8^3), self-attention at the bottleneck.
 * - Decoder: periodic trilinear upsampling (x2) then a 3^3 conv, skip connection (concatenation)
 *   after upsampling, ResNet block(s); final grouped convs to the output channels.
 * - Circular padding everywhere, so on a periodic box the network is translation equivariant.
 *   Fully convolutional: any cubic size that is a multiple of 8 works.
 * - The output is `head(x) * outScale + outShift` with per-channel buffers set from the training
 *   targets, so the raw network starts near the mean log-density.
 */
import { F, Generator, nn, Tensor, op, tidy } from '@lodi/torch';
import type { HalogenModelConfig } from './config.js';

/**
 * Grouped 3D convolution with PyTorch's parameter layout (weight [out, in/groups, k, k, k], bias
 * [out]), circular padding, and two equivalent kernels: libtorch's grouped conv, or one dense conv
 * with a block-diagonal weight built from the grouped one (exact zeros off the diagonal blocks, so
 * streams stay exactly independent). On CPU libtorch 1.13 the grouped backward pass is slow for
 * wider groups; `blockMin` picks the dense form when in/groups ≥ blockMin.
 */
export class GConv3d extends nn.Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly kernel: number;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    gen: Generator,
    readonly opts: { kernel: number; groups: number; circular: boolean; blockMin: number },
  ) {
    super();
    const k = opts.kernel;
    const g = opts.groups;
    if (inChannels % g || outChannels % g) throw new Error(`GConv3d: channels ${inChannels}->${outChannels} not divisible by groups=${g}`);
    const fanIn = (inChannels / g) * k ** 3;
    this.kernel = k;
    this.weight = this.param('weight', nn.uniformInit([outChannels, inChannels / g, k, k, k], fanIn, gen));
    this.bias = this.param('bias', nn.uniformInit([outChannels], fanIn, gen));
  }
  /** True when this layer runs as a dense conv with a block-diagonal weight. */
  get dense(): boolean {
    return this.opts.groups > 1 && this.inChannels / this.opts.groups >= this.opts.blockMin;
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const p = (this.kernel - 1) / 2;
      const xin = this.opts.circular && p > 0 ? F.pad(x, [p, p, p, p, p, p], 'circular') : x;
      const pad = this.opts.circular ? 0 : p;
      const g = this.opts.groups;
      if (!this.dense) return F.conv3d(xin, this.weight, this.bias, { padding: pad, groups: g });
      const k = this.kernel;
      const co = this.outChannels / g;
      const ci = this.inChannels / g;
      const eye = op('eye', [g], { dtype: 'float32' }).reshape([g, 1, g, 1, 1, 1, 1]);
      const w = this.weight.reshape([g, co, 1, ci, k, k, k]).mul(eye).reshape([this.outChannels, this.inChannels, k, k, k]);
      return F.conv3d(xin, w, this.bias, { padding: pad });
    });
  }
  /** FLOPs per output voxel counting only the grouped (non-zero) multiply-adds. */
  flopsPerVoxel(): number {
    return 2 * (this.inChannels / this.opts.groups) * this.kernel ** 3 * this.outChannels;
  }
}

function activate(x: Tensor, kind: HalogenModelConfig['activation']): Tensor {
  switch (kind) {
    case 'silu':
      return x.silu();
    case 'gelu':
      return x.gelu();
    case 'leaky_relu':
      return x.leakyRelu(0.01);
    case 'relu':
      return x.relu();
  }
}

/** Concatenates two [B,C,...] tensors per stream: [a_0, b_0, a_1, b_1, ...] for `groups` streams. */
export function catStreams(a: Tensor, b: Tensor, groups: number): Tensor {
  const [B, Ca, ...sp] = a.shape as [number, number, ...number[]];
  const Cb = b.shape[1]!;
  const av = a.reshape([B, groups, Ca / groups, ...sp]);
  const bv = b.reshape([B, groups, Cb / groups, ...sp]);
  const c = F.cat([av, bv], 2);
  return c.reshape([B, Ca + Cb, ...sp]);
}

/** Trilinear x2 upsampling that treats the volume as periodic (circular pad 1, upsample, crop). */
export function upsamplePeriodic(x: Tensor): Tensor {
  const n = x.shape.slice(2) as [number, number, number];
  const p = F.pad(x, [1, 1, 1, 1, 1, 1], 'circular');
  const u = F.interpolate(p, { scale: 2, mode: 'trilinear' });
  return u.narrow(2, 2, 2 * n[0]).narrow(3, 2, 2 * n[1]).narrow(4, 2, 2 * n[2]);
}

/** A grouped conv record for FLOP counting: FLOPs per output voxel and the level (0 = full size). */
interface ConvRecord {
  conv: GConv3d;
  level: number;
}

class ResBlock extends nn.Module {
  readonly norm1: nn.GroupNorm;
  readonly conv1: GConv3d;
  readonly norm2: nn.GroupNorm;
  readonly conv2: GConv3d;
  readonly skip: GConv3d | null;
  constructor(
    cin: number,
    cout: number,
    readonly cfg: HalogenModelConfig,
    gen: Generator,
    level: number,
    convs: ConvRecord[],
  ) {
    super();
    const g = cfg.groups;
    const ng = g * cfg.normGroupsPerStream;
    const conv = (name: string, a: number, b: number, k: number): GConv3d => {
      const c = this.child(name, new GConv3d(a, b, gen, { kernel: k, groups: g, circular: true, blockMin: cfg.blockDiagonalMin }));
      convs.push({ conv: c, level });
      return c;
    };
    this.norm1 = this.child('norm1', new nn.GroupNorm(ng, cin));
    this.conv1 = conv('conv1', cin, cout, cfg.kernel);
    this.norm2 = this.child('norm2', new nn.GroupNorm(ng, cout));
    this.conv2 = conv('conv2', cout, cout, cfg.kernel);
    this.skip = cin === cout ? null : conv('skip', cin, cout, 1);
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const a = this.cfg.activation;
      let h = this.conv1.forward(activate(this.norm1.forward(x), a));
      h = this.conv2.forward(activate(this.norm2.forward(h), a));
      return h.add(this.skip ? this.skip.forward(x) : x);
    });
  }
}

/** Self-attention over the voxels of each stream separately (heads = groups x headsPerStream). */
class StreamAttention extends nn.Module {
  readonly norm: nn.GroupNorm;
  readonly qkv: GConv3d;
  readonly proj: GConv3d;
  constructor(
    readonly channels: number,
    readonly cfg: HalogenModelConfig,
    gen: Generator,
    level: number,
    convs: ConvRecord[],
  ) {
    super();
    const g = cfg.groups;
    this.norm = this.child('norm', new nn.GroupNorm(g * cfg.normGroupsPerStream, channels));
    const o = { kernel: 1, groups: g, circular: false, blockMin: cfg.blockDiagonalMin };
    this.qkv = this.child('qkv', new GConv3d(channels, 3 * channels, gen, o));
    this.proj = this.child('proj', new GConv3d(channels, channels, gen, o));
    convs.push({ conv: this.qkv, level }, { conv: this.proj, level });
  }
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const [B, C, D, H, W] = x.shape as [number, number, number, number, number];
      const L = D * H * W;
      const heads = this.cfg.groups * this.cfg.headsPerStream;
      const d = C / heads;
      // qkv channels of stream s: [s*3C/g, (s+1)*3C/g) = (q|k|v) x headsPerStream x d
      const qkv = this.qkv.forward(this.norm.forward(x)).reshape([B, this.cfg.groups, 3, this.cfg.headsPerStream, d, L]);
      const pick = (i: number): Tensor => qkv.select(2, i).reshape([B * heads, d, L]);
      const q = pick(0);
      const k = pick(1);
      const v = pick(2);
      const att = F.softmax(q.transpose(1, 2).bmm(k).mul(1 / Math.sqrt(d)), -1); // [BH, Lq, Lk]
      const o = v.bmm(att.transpose(1, 2)).reshape([B, C, D, H, W]); // [BH, d, Lq]
      return x.add(this.proj.forward(o));
    });
  }
}

export interface ModelDescription {
  parameters: number;
  /** Forward FLOPs (multiply-add = 2) for one crop of side `n`, convolutions and attention matmuls. */
  flopsPerCrop: number;
  crop: number;
  text: string;
}

export class HalogenNet extends nn.Module {
  readonly stem: GConv3d;
  readonly enc: ResBlock[][] = [];
  readonly attn: StreamAttention;
  readonly mid: ResBlock;
  readonly upConv: GConv3d[] = [];
  readonly dec: ResBlock[][] = [];
  readonly headNorm: nn.GroupNorm;
  readonly head1: GConv3d;
  readonly head2: GConv3d;
  readonly outShift: Tensor;
  readonly outScale: Tensor;
  private readonly convs: ConvRecord[] = [];

  constructor(
    readonly cfg: HalogenModelConfig,
    seed: number,
  ) {
    super();
    const gen = new Generator(seed);
    const g = cfg.groups;
    const ch = cfg.channels;
    const k = cfg.kernel;
    const convs = this.convs;
    // Stem: the single input channel feeds every stream (groups = 1 here does not mix streams).
    const bm = cfg.blockDiagonalMin;
    this.stem = this.child('stem', new GConv3d(cfg.inChannels, ch[0], gen, { kernel: k, groups: 1, circular: true, blockMin: bm }));
    convs.push({ conv: this.stem, level: 0 });
    for (let l = 0; l < 4; l++) {
      const blocks: ResBlock[] = [];
      const nb = l === 3 ? 1 : cfg.blocksPerStage;
      for (let b = 0; b < nb; b++) {
        const cin = b === 0 ? ch[Math.max(0, l - 1)]! : ch[l]!;
        blocks.push(this.child(`enc${l}_${b}`, new ResBlock(cin, ch[l]!, cfg, gen, l, convs)));
      }
      this.enc.push(blocks);
    }
    this.attn = this.child('attn', new StreamAttention(ch[3], cfg, gen, 3, convs));
    this.mid = this.child('mid', new ResBlock(ch[3], ch[3], cfg, gen, 3, convs));
    for (let l = 2; l >= 0; l--) {
      const up = this.child(`up${l}`, new GConv3d(ch[l + 1]!, ch[l]!, gen, { kernel: k, groups: g, circular: true, blockMin: bm }));
      convs.push({ conv: up, level: l });
      this.upConv.push(up);
      const blocks: ResBlock[] = [];
      for (let b = 0; b < cfg.blocksPerStage; b++) {
        const cin = b === 0 ? 2 * ch[l]! : ch[l]!;
        blocks.push(this.child(`dec${l}_${b}`, new ResBlock(cin, ch[l]!, cfg, gen, l, convs)));
      }
      this.dec.push(blocks);
    }
    this.headNorm = this.child('headNorm', new nn.GroupNorm(g * cfg.normGroupsPerStream, ch[0]));
    this.head1 = this.child('head1', new GConv3d(ch[0], ch[0], gen, { kernel: k, groups: g, circular: true, blockMin: bm }));
    this.head2 = this.child('head2', new GConv3d(ch[0], cfg.outChannels, gen, { kernel: 1, groups: g, circular: false, blockMin: bm }));
    convs.push({ conv: this.head1, level: 0 }, { conv: this.head2, level: 0 });
    this.outShift = this.buffer('outShift', F.zeros([cfg.outChannels]));
    this.outScale = this.buffer('outScale', F.ones([cfg.outChannels]));
  }

  /** Sets the per-channel output affine map (mean and std of the training log-densities). */
  setOutputStats(mean: number[], std: number[]): void {
    this.outShift.copyFromArray(Float32Array.from(mean));
    this.outScale.copyFromArray(Float32Array.from(std));
  }

  /** [B,1,n,n,n] standardised log DM density → [B,4,n,n,n] log10 halo mass density. */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const n = x.shape.slice(2);
      if (n.some((s) => s % 8 !== 0)) throw new Error(`HalogenNet: spatial size [${n}] must be a multiple of 8`);
      const g = this.cfg.groups;
      const skips: Tensor[] = [];
      let h = this.stem.forward(x);
      for (let l = 0; l < 4; l++) {
        if (l > 0) h = F.maxPool3d(h, 2);
        for (const b of this.enc[l]!) h = b.forward(h);
        if (l < 3) skips.push(h);
      }
      h = this.mid.forward(this.attn.forward(h));
      for (let i = 0; i < 3; i++) {
        const l = 2 - i;
        h = this.upConv[i]!.forward(upsamplePeriodic(h));
        h = catStreams(h, skips[l]!, g);
        for (const b of this.dec[i]!) h = b.forward(h);
      }
      h = this.head1.forward(activate(this.headNorm.forward(h), this.cfg.activation));
      h = this.head2.forward(activate(h, this.cfg.activation));
      const C = this.cfg.outChannels;
      return h.mul(this.outScale.reshape([1, C, 1, 1, 1])).add(this.outShift.reshape([1, C, 1, 1, 1]));
    });
  }

  /** Sum of |θ| over all trainable parameters (the L1 regulariser of Eq. 7). */
  l1(): Tensor {
    return tidy(() => {
      const terms = this.parameters().map((p) => p.abs().sum());
      return F.stack(terms).sum();
    });
  }

  describe(crop = 64): ModelDescription {
    let flops = 0;
    for (const { conv, level } of this.convs) flops += conv.flopsPerVoxel() * (crop / 2 ** level) ** 3;
    // attention: QK^T and AV, each 2*L*L*d per head → 4 L^2 C in total
    const L = (crop / 8) ** 3;
    flops += 4 * L * L * this.cfg.channels[3];
    const parameters = this.numParameters();
    const c = this.cfg;
    const text =
      `HALOgen attention ResUNet: widths [${c.channels.join(', ')}], ${c.groups} independent streams, ` +
      `${c.blocksPerStage} ResNet block(s)/stage, ${c.headsPerStream * c.groups} attention heads at ${crop / 8}^3; ` +
      `${parameters.toLocaleString('en-US')} parameters, ${(flops / 1e9).toFixed(2)} GFLOP forward per ${crop}^3 crop`;
    return { parameters, flopsPerCrop: flops, crop, text };
  }
}
