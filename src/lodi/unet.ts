/**
 * The LODI denoiser (LODI paper Sec. 2.2.1, Fig. 4; VDM ScoreUNet of Kingma et al. 2021 in 3D):
 *
 *   input   concat(z_t [B,1], halo channels [B,4]) → 3^3 conv → widths[0]
 *   encoder per level ℓ: blocksPerLevel residual blocks (width widths[ℓ]); a strided 2^3 conv
 *           (kernel 2, stride 2) down to level ℓ+1
 *   middle  residual block → self-attention → residual block at the coarsest level
 *   decoder per level ℓ (coarse to fine): transposed 2^3 conv up (kernel 2, stride 2), concatenate
 *           the encoder activation of the level, blocksPerLevel residual blocks
 *   output  GroupNorm → SiLU → zero-initialised 3^3 conv → 1 channel;  ε̂ = output + z_t
 *
 * Under bfloat16 autocast the time embedding (and the blocks' projections of it), the input and the
 * output convolution run in float32 (`inFloat32`).
 *
 * Residual blocks: GroupNorm(8) + SiLU + three 3^3 convolutions, a zero-initialised bias-free
 * projection of the time embedding, dropout. Time embedding: sinusoidal features of the normalised
 * γ(t) → MLP (E → 4E → 4E, SiLU). Circular padding throughout, fully convolutional: the same
 * weights run on 32^3 and on any side that is a multiple of 2^(levels−1).
 */
import { F, Generator, nn, tidy, type Tensor } from '@lodi/torch';
import { ConvTranspose3d, ResBlock3d, SelfAttention3d, TimeEmbedding, periodicConv, zeroInit } from '../nets/blocks.js';
import type { LodiNetConfig } from './config.js';
import { inFloat32 } from '../nets/precision.js';

export class LodiUNet extends nn.Module {
  readonly inConv: nn.Conv3d;
  readonly temb: TimeEmbedding;
  readonly enc: ResBlock3d[][] = [];
  readonly down: nn.Conv3d[] = [];
  readonly mid1: ResBlock3d;
  readonly attn: SelfAttention3d;
  readonly mid2: ResBlock3d;
  readonly up: ConvTranspose3d[] = [];
  readonly dec: ResBlock3d[][] = [];
  readonly outNorm: nn.GroupNorm;
  readonly outConv: nn.Conv3d;
  /** Generator for dropout during training (set by the trainer; its state is checkpointed). */
  dropoutGen: Generator | null = null;

  constructor(
    readonly cfg: LodiNetConfig,
    gen: Generator,
  ) {
    super();
    const W = cfg.widths;
    const E = W[0]!;
    const embDim = 4 * E;
    const rb = { convs: cfg.convsPerBlock, normGroups: cfg.normGroups, dropout: cfg.dropout, embDim };
    this.inConv = this.child('in_conv', periodicConv(1 + cfg.condChannels, E, gen));
    this.temb = this.child('temb', new TimeEmbedding(E, embDim, gen));
    let c = E;
    W.forEach((w, l) => {
      const blocks: ResBlock3d[] = [];
      for (let i = 0; i < cfg.blocksPerLevel; i++) {
        blocks.push(this.child(`enc.${l}.${i}`, new ResBlock3d(c, w, rb, gen)));
        c = w;
      }
      this.enc.push(blocks);
      if (l < W.length - 1) this.down.push(this.child(`down.${l}`, new nn.Conv3d(w, w, gen, { kernel: 2, stride: 2, padding: 0 })));
    });
    const Wb = W[W.length - 1]!;
    this.mid1 = this.child('mid1', new ResBlock3d(Wb, Wb, rb, gen));
    this.attn = this.child('attn', new SelfAttention3d(Wb, cfg.attentionHeads, cfg.normGroups, gen));
    this.mid2 = this.child('mid2', new ResBlock3d(Wb, Wb, rb, gen));
    c = Wb;
    for (let l = W.length - 1; l >= 0; l--) {
      const w = W[l]!;
      if (l < W.length - 1) {
        this.up.push(this.child(`up.${l}`, new ConvTranspose3d(c, w, gen)));
        c = w;
      }
      const blocks: ResBlock3d[] = [];
      for (let i = 0; i < cfg.blocksPerLevel; i++) {
        blocks.push(this.child(`dec.${l}.${i}`, new ResBlock3d(i === 0 ? c + w : w, w, rb, gen)));
        c = w;
      }
      this.dec.push(blocks);
    }
    this.outNorm = this.child('out_norm', new nn.GroupNorm(Math.min(cfg.normGroups, E), E));
    this.outConv = this.child('out_conv', periodicConv(E, 1, gen));
    zeroInit(this.outConv.weight);
    zeroInit(this.outConv.bias);
  }

  /**
   * ε̂(z_t; t) for z [B,1,n,n,n], the normalised time tNorm [B] and the conditioning [B,4,n,n,n].
   * Throws when n is not a multiple of 2^(levels−1) or the channel counts differ from the config.
   */
  forward(z: Tensor, tNorm: Tensor, cond: Tensor): Tensor {
    return tidy(() => {
      const n = z.shape[2]!;
      const factor = 2 ** (this.cfg.widths.length - 1);
      if (z.shape[1] !== 1 || cond.shape[1] !== this.cfg.condChannels)
        throw new Error(`LodiUNet: expected z [B,1,n,n,n] and cond [B,${this.cfg.condChannels},n,n,n], got [${z.shape}] and [${cond.shape}]`);
      if (n % factor) throw new Error(`LodiUNet: side ${n} is not a multiple of ${factor} (${this.cfg.widths.length} levels)`);
      const g = this.dropoutGen;
      // under bfloat16 autocast the time embedding, the first and the last convolution stay float32: a few
      // per cent of the work, most of the systematic shift of ε̂ that rounding their weights causes
      // (src/nets/precision.ts)
      const emb = inFloat32(tNorm, (t) => this.temb.forward(t));
      let h = inFloat32(F.cat([z, cond], 1), (x) => this.inConv.forward(x));
      const skips: Tensor[] = [];
      this.enc.forEach((blocks, l) => {
        for (const b of blocks) h = b.forward(h, emb, g);
        skips.push(h);
        if (l < this.down.length) h = this.down[l]!.forward(h);
      });
      h = this.mid2.forward(this.attn.forward(this.mid1.forward(h, emb, g)), emb, g);
      this.dec.forEach((blocks, j) => {
        const l = this.cfg.widths.length - 1 - j;
        if (j > 0) h = this.up[j - 1]!.forward(h);
        blocks.forEach((b, i) => {
          h = b.forward(i === 0 ? F.cat([h, skips[l]!], 1) : h, emb, g);
        });
      });
      return inFloat32(this.outNorm.forward(h).silu(), (x) => this.outConv.forward(x)).add(z);
    });
  }

  /** Forward FLOPs (multiply-add = 2) for one crop of side n, convolutions and attention. */
  flopsPerCrop(n: number): number {
    const W = this.cfg.widths;
    let f = this.inConv.flopsPerVoxel() * n ** 3;
    W.forEach((_, l) => {
      const vox = (n / 2 ** l) ** 3;
      for (const b of this.enc[l]!) f += b.flopsPerVoxel() * vox;
      if (l < this.down.length) f += (this.down[l]!.flopsPerVoxel() * vox) / 8;
      const dec = this.dec[W.length - 1 - l]!;
      for (const b of dec) f += b.flopsPerVoxel() * vox;
    });
    this.up.forEach((u, k) => {
      const l = W.length - 2 - k; // up[k] leads from level l+1 to level l
      f += u.flopsPerVoxel() * (n / 2 ** (l + 1)) ** 3;
    });
    const vb = (n / 2 ** (W.length - 1)) ** 3;
    f += (this.mid1.flopsPerVoxel() + this.mid2.flopsPerVoxel()) * vb + this.attn.flops(vb);
    f += this.outConv.flopsPerVoxel() * n ** 3;
    return f;
  }
}
