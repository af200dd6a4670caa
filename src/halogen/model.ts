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
 *
 * Built from the shared blocks of src/nets: GroupedConv3d, ResBlock3d and SelfAttention3d with
 * `grouped` options, catGroups, upsamplePeriodic, maxPool2. State-dict names (PyTorch's; the same in
 * every checkpoint since the first, and in bench/py/halogen.py), in parameter order:
 *   stem · enc{l}_{b} (l = 0..3; norm1, conv1, norm2, conv2, skip) · attn (norm, qkv, proj) · mid ·
 *   up{l}, dec{l}_{b} for l = 2, 1, 0 · headNorm · head1 · head2; buffers outShift, outScale.
 */
import { F, Generator, nn, Tensor, tidy } from '@lodi/torch';
import { activate } from '../nets/activation.js';
import { ResBlock3d, SelfAttention3d, type ResBlockOptions } from '../nets/blocks.js';
import { GroupedConv3d, catGroups, type GroupedConvOptions } from '../nets/grouped.js';
import { maxPool2, upsamplePeriodic } from '../nets/resample.js';
import type { HalogenModelConfig } from './config.js';

export interface ModelDescription {
  parameters: number;
  /** Forward FLOPs (multiply-add = 2) for one crop of side `n`, convolutions and attention matmuls. */
  flopsPerCrop: number;
  crop: number;
  text: string;
}

export class HalogenNet extends nn.Module {
  readonly stem: GroupedConv3d;
  readonly enc: ResBlock3d[][] = [];
  readonly attn: SelfAttention3d;
  readonly mid: ResBlock3d;
  readonly upConv: GroupedConv3d[] = [];
  readonly dec: ResBlock3d[][] = [];
  readonly headNorm: nn.GroupNorm;
  readonly head1: GroupedConv3d;
  readonly head2: GroupedConv3d;
  readonly outShift: Tensor;
  readonly outScale: Tensor;

  /**
   * Builds the network with weights drawn from a Generator seeded with `seed` (PyTorch's default
   * initialisation; module order as listed in the file comment). Throws when a width is not
   * divisible into the streams, norm groups or heads (validateConfig gives the friendlier message).
   */
  constructor(
    readonly cfg: HalogenModelConfig,
    seed: number,
  ) {
    super();
    const gen = new Generator(seed);
    const g = cfg.groups;
    const ch = cfg.channels;
    const k = cfg.kernel;
    const bm = cfg.blockDiagonalMin;
    const normGroups = g * cfg.normGroupsPerStream;
    const grouped = { groups: g, blockDiagonalMin: bm };
    const conv = (cin: number, cout: number, o: Pick<GroupedConvOptions, 'kernel' | 'groups' | 'circular'>): GroupedConv3d =>
      new GroupedConv3d(cin, cout, gen, { ...o, blockDiagonalMin: bm });
    // ResNet blocks: GroupNorm → activation → k^3 conv, twice, grouped by stream, PyTorch init (no zero init)
    const rb: ResBlockOptions = { convs: 2, normGroups, dropout: 0, embDim: 0, activation: cfg.activation, kernel: k, zeroInitLast: false, grouped };
    const block = (cin: number, cout: number): ResBlock3d => new ResBlock3d(cin, cout, rb, gen);
    // Stem: the single input channel feeds every stream (groups = 1 here does not mix streams).
    this.stem = this.child('stem', conv(cfg.inChannels, ch[0], { kernel: k, groups: 1, circular: true }));
    for (let l = 0; l < 4; l++) {
      const blocks: ResBlock3d[] = [];
      const nb = l === 3 ? 1 : cfg.blocksPerStage;
      for (let b = 0; b < nb; b++) blocks.push(this.child(`enc${l}_${b}`, block(b === 0 ? ch[Math.max(0, l - 1)]! : ch[l]!, ch[l]!)));
      this.enc.push(blocks);
    }
    this.attn = this.child('attn', new SelfAttention3d(ch[3], g * cfg.headsPerStream, normGroups, gen, { grouped, zeroInitProj: false }));
    this.mid = this.child('mid', block(ch[3], ch[3]));
    for (let l = 2; l >= 0; l--) {
      this.upConv.push(this.child(`up${l}`, conv(ch[l + 1]!, ch[l]!, { kernel: k, groups: g, circular: true })));
      const blocks: ResBlock3d[] = [];
      for (let b = 0; b < cfg.blocksPerStage; b++) blocks.push(this.child(`dec${l}_${b}`, block(b === 0 ? 2 * ch[l]! : ch[l]!, ch[l]!)));
      this.dec.push(blocks);
    }
    this.headNorm = this.child('headNorm', new nn.GroupNorm(normGroups, ch[0]));
    this.head1 = this.child('head1', conv(ch[0], ch[0], { kernel: k, groups: g, circular: true }));
    this.head2 = this.child('head2', conv(ch[0], cfg.outChannels, { kernel: 1, groups: g, circular: false }));
    this.outShift = this.buffer('outShift', F.zeros([cfg.outChannels]));
    this.outScale = this.buffer('outScale', F.ones([cfg.outChannels]));
  }

  /** Sets the per-channel output affine map (mean and std of the training log-densities). */
  setOutputStats(mean: number[], std: number[]): void {
    this.outShift.copyFromArray(Float32Array.from(mean));
    this.outScale.copyFromArray(Float32Array.from(std));
  }

  /**
   * [B,1,n,n,n] standardised log DM density → [B,4,n,n,n] log10 halo mass density. Throws when a
   * side is not a multiple of 8 (three 2x2x2 poolings).
   */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const n = x.shape.slice(2);
      if (n.some((s) => s % 8 !== 0)) throw new Error(`HalogenNet: spatial size [${n}] must be a multiple of 8`);
      const g = this.cfg.groups;
      const act = this.cfg.activation;
      const skips: Tensor[] = [];
      let h = this.stem.forward(x);
      for (let l = 0; l < 4; l++) {
        if (l > 0) h = maxPool2(h);
        for (const b of this.enc[l]!) h = b.forward(h, null, null);
        if (l < 3) skips.push(h);
      }
      h = this.mid.forward(this.attn.forward(h), null, null);
      for (let i = 0; i < 3; i++) {
        h = this.upConv[i]!.forward(upsamplePeriodic(h));
        h = catGroups(h, skips[2 - i]!, g);
        for (const b of this.dec[i]!) h = b.forward(h, null, null);
      }
      h = this.head1.forward(activate(this.headNorm.forward(h), act));
      h = this.head2.forward(activate(h, act));
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

  /** Forward FLOPs (multiply-add = 2) of one crop of side `crop`: convolutions (grouped weights only) and attention. */
  flopsPerCrop(crop: number): number {
    const vox = (l: number): number => (crop / 2 ** l) ** 3;
    let f = (this.stem.flopsPerVoxel() + this.head1.flopsPerVoxel() + this.head2.flopsPerVoxel()) * vox(0);
    this.enc.forEach((blocks, l) => blocks.forEach((b) => (f += b.flopsPerVoxel() * vox(l))));
    for (let i = 0; i < 3; i++) {
      const l = 2 - i;
      f += this.upConv[i]!.flopsPerVoxel() * vox(l);
      for (const b of this.dec[i]!) f += b.flopsPerVoxel() * vox(l);
    }
    return f + this.mid.flopsPerVoxel() * vox(3) + this.attn.flops(vox(3));
  }

  describe(crop = 64): ModelDescription {
    const flops = this.flopsPerCrop(crop);
    const parameters = this.numParameters();
    const c = this.cfg;
    const text =
      `HALOgen attention ResUNet: widths [${c.channels.join(', ')}], ${c.groups} independent streams, ` +
      `${c.blocksPerStage} ResNet block(s)/stage, ${c.headsPerStream * c.groups} attention heads at ${crop / 8}^3; ` +
      `${parameters.toLocaleString('en-US')} parameters, ${(flops / 1e9).toFixed(2)} GFLOP forward per ${crop}^3 crop`;
    return { parameters, flopsPerCrop: flops, crop, text };
  }
}
