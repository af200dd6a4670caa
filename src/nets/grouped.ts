/**
 * Grouped 3D convolution for networks made of independent channel streams (HALOgen: one stream per
 * halo-mass channel), and the per-stream concatenation of skip connections.
 *
 * Layouts are PyTorch's: weight [out, in/groups, k, k, k], bias [out], activations [B, C, X, Y, Z],
 * stream s owning channels [s·C/groups, (s+1)·C/groups).
 */
import { F, Generator, nn, op, tidy, type Tensor } from '@lodi/torch';

export interface GroupedConvOptions {
  /** Cubic kernel size (odd when `circular`). */
  kernel: number;
  /** Independent channel groups (1 = an ordinary dense convolution). */
  groups: number;
  /** Circular padding of (kernel−1)/2 on every side (periodic boxes); otherwise zero padding. */
  circular: boolean;
  /**
   * Run the layer as one dense conv with a block-diagonal weight when its input channels per group
   * reach this number (0 = always, a huge number = never). Same result: the off-diagonal blocks are
   * exact zeros, so the streams stay exactly independent; on CPU libtorch 1.13 the backward pass of
   * a grouped conv is slow for wider groups.
   */
  blockDiagonalMin: number;
}

/**
 * Grouped, optionally circular-padded 3D convolution with PyTorch's nn.Conv3d parameters
 * (`weight`, `bias`) and initialisation (U(±1/√fan_in), fan_in = in/groups · k^3; weight drawn
 * before bias). Throws when the channel counts are not divisible by `groups`.
 */
export class GroupedConv3d extends nn.Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  readonly kernel: number;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    gen: Generator,
    readonly opts: GroupedConvOptions,
  ) {
    super();
    const k = opts.kernel;
    const g = opts.groups;
    if (inChannels % g || outChannels % g) throw new Error(`GroupedConv3d: channels ${inChannels}->${outChannels} not divisible by groups=${g}`);
    const fanIn = (inChannels / g) * k ** 3;
    this.kernel = k;
    this.weight = this.param('weight', nn.uniformInit([outChannels, inChannels / g, k, k, k], fanIn, gen));
    this.bias = this.param('bias', nn.uniformInit([outChannels], fanIn, gen));
  }
  /** True when this layer runs as a dense conv with a block-diagonal weight. */
  get dense(): boolean {
    return this.opts.groups > 1 && this.inChannels / this.opts.groups >= this.opts.blockDiagonalMin;
  }
  /** x [B, in, X, Y, Z] → [B, out, X, Y, Z] (same size: "same" padding). */
  forward(x: Tensor): Tensor {
    return tidy(() => {
      const p = (this.kernel - 1) / 2;
      const xin = this.opts.circular && p > 0 ? F.pad(x, [p, p, p, p, p, p], 'circular') : x;
      const pad = this.opts.circular ? 0 : p;
      const g = this.opts.groups;
      if (!this.dense) return F.conv3d(xin, this.weight, this.bias, { padding: pad, groups: g });
      return F.conv3d(xin, blockDiagonal(this.weight, g), this.bias, { padding: pad });
    });
  }
  /** FLOPs per output voxel counting only the grouped (non-zero) multiply-adds. */
  flopsPerVoxel(): number {
    return 2 * (this.inChannels / this.opts.groups) * this.kernel ** 3 * this.outChannels;
  }
}

/**
 * The dense weight [out, in, k, k, k] equivalent to a grouped weight [out, in/groups, k, k, k]:
 * block s (rows and columns of group s) holds group s's weight, every other entry is exactly 0.
 */
export function blockDiagonal(weight: Tensor, groups: number): Tensor {
  return tidy(() => {
    const [out, ci, k] = weight.shape as [number, number, number];
    const co = out / groups;
    const eye = op('eye', [groups], { dtype: 'float32', device: weight.device }).reshape([groups, 1, groups, 1, 1, 1, 1]);
    return weight.reshape([groups, co, 1, ci, k, k, k]).mul(eye).reshape([out, ci * groups, k, k, k]);
  });
}

/**
 * Concatenates two [B, C, ...] tensors along channels stream by stream: [a_0, b_0, a_1, b_1, ...]
 * for `groups` streams (a_s: stream s's channels of a), so a grouped conv after it still sees only
 * its own stream. With groups = 1 this is torch.cat([a, b], 1). Throws when a channel count is not
 * divisible by `groups` or the other dimensions differ.
 */
export function catGroups(a: Tensor, b: Tensor, groups: number): Tensor {
  const [B, Ca, ...sp] = a.shape as [number, number, ...number[]];
  const Cb = b.shape[1]!;
  if (Ca % groups || Cb % groups) throw new Error(`catGroups: channels ${Ca} and ${Cb} not divisible by groups=${groups}`);
  if (b.shape[0] !== B || b.shape.slice(2).join(',') !== sp.join(',')) throw new Error(`catGroups: shapes [${a.shape}] and [${b.shape}] differ outside the channel axis`);
  return tidy(() => {
    const av = a.reshape([B, groups, Ca / groups, ...sp]);
    const bv = b.reshape([B, groups, Cb / groups, ...sp]);
    return F.cat([av, bv], 2).reshape([B, Ca + Cb, ...sp]);
  });
}
