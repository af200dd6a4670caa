/**
 * The conditional variational diffusion model of LODI (LODI paper Sec. 2.2.3; Kingma et al. 2021):
 * the denoiser, the learned linear schedule, the loss, and one ancestral sampling step.
 *
 * Loss per crop (nats per voxel: each term is summed over the D voxels, then divided by D):
 *   diffusion (discrete time, VDM Eq. 16 — the paper's Eq. 13 is misprinted):
 *     L_T = (T/2) E_{i~U{1..T}, ε} [ expm1(γ(t) − γ(s)) ‖ε − ε̂(z_t; t)‖² ],  t = i/T, s = (i−1)/T,
 *     z_t = α_t x + σ_t ε;  i drawn antithetically across the batch (VDM reference code);
 *   prior:  KL(q(z_1|x) ‖ N(0, I)) = ½ Σ (σ_1² + α_1² x² − log σ_1² − 1);
 *   reconstruction (Gaussian, continuous data): −log N(x; z_0/α_0, σ_0/α_0), z_0 = α_0 x + σ_0 ε_0.
 *
 * Ancestral step (VDM App. A.4 — the paper's Eq. 14 is misprinted):
 *   c = −expm1(γ(s) − γ(t)),  z_s = (α_s/α_t)(z_t − σ_t c ε̂(z_t; t)) + σ_s √c ε.
 * After the last step the data estimate is x̂ = z_0/α_0.
 */
import { F, Generator, nn, tidy, type Tensor } from '@lodi/torch';
import type { LodiConfig } from './config.js';
import { LinearGamma, alphaAt, alphaOf, expm1, sigmaAt, sigmaOf } from './schedule.js';
import { LodiUNet } from './unet.js';

export interface LossTerms {
  /** Total = diffusion + prior + reconstruction, mean over the batch, nats per voxel (differentiable). */
  total: Tensor;
  diffusion: number;
  prior: number;
  reconstruction: number;
}

export interface LossNoise {
  /** u_0 ∈ [0, 1) of the antithetic time draw. */
  u0: number;
  /** ε [B,1,n,n,n] and ε_0 (reconstruction). */
  eps: Tensor;
  eps0: Tensor;
  /**
   * Data-parallel training: the batch is rows [start, start + B) of a global batch of `total`, and
   * the antithetic times are those of the global batch (src/train/data-parallel.ts).
   */
  rows?: { start: number; total: number };
}

/** Antithetic discrete times: i_b = floor(((u0 + b/B) mod 1) T) + 1 ∈ {1..T}. */
export function antitheticSteps(u0: number, batch: number, T: number): number[] {
  return Array.from({ length: batch }, (_, b) => Math.min(T, Math.floor((((u0 + b / batch) % 1) * T)) + 1));
}

export class LodiModel extends nn.Module {
  readonly net: LodiUNet;
  readonly gamma: LinearGamma;
  constructor(
    readonly cfg: LodiConfig,
    gen: Generator,
  ) {
    super();
    this.net = this.child('net', new LodiUNet(cfg.net, gen));
    this.gamma = this.child('gamma', new LinearGamma(cfg.schedule));
  }

  /** ε̂(z; γ) with γ [B] (tensor) and cond [B,4,n,n,n]. */
  epsHat(z: Tensor, gamma: Tensor, cond: Tensor): Tensor {
    return tidy(() => this.net.forward(z, this.gamma.normalise(gamma), cond));
  }

  /**
   * Draws the noise of one loss evaluation from `gen` (so a loss can be recomputed exactly). A CPU
   * `gen` with `x` on another device draws on the host and copies the noise over, so that a seed
   * gives the same noise on every device.
   */
  drawNoise(x: Tensor, gen: Generator): LossNoise {
    const u0 = tidy(() => F.rand([1], gen, { dtype: 'float64' }).item());
    if (gen.device !== 'cpu' || x.device === 'cpu') return { u0, eps: F.randnLike(x, gen), eps0: F.randnLike(x, gen) };
    const draw = (): Tensor => tidy(() => F.randn(x.shape, gen, { dtype: x.dtype }).to(x.device));
    return { u0, eps: draw(), eps0: draw() };
  }

  /**
   * The three loss terms for standardised targets x [B,1,n,n,n] and conditioning cond [B,4,n,n,n].
   * `denoiser` overrides ε̂ (tests). Shapes are checked by the U-Net.
   */
  loss(x: Tensor, cond: Tensor, noise: LossNoise, denoiser?: (z: Tensor, gamma: Tensor, cond: Tensor) => Tensor): LossTerms {
    return tidy(() => {
      const B = x.shape[0]!;
      const D = x.numel / B;
      const T = this.cfg.schedule.steps;
      const bcast = (v: Tensor): Tensor => v.reshape([B, 1, 1, 1, 1]);
      const steps = noise.rows
        ? antitheticSteps(noise.u0, noise.rows.total, T).slice(noise.rows.start, noise.rows.start + B)
        : antitheticSteps(noise.u0, B, T);
      const device = x.device;
      const t = F.tensor(Float32Array.from(steps, (i) => i / T), undefined, { device });
      const s = F.tensor(Float32Array.from(steps, (i) => (i - 1) / T), undefined, { device });
      const gt = this.gamma.forward(t);
      const gs = this.gamma.forward(s);
      const zt = bcast(alphaOf(gt)).mul(x).add(bcast(sigmaOf(gt)).mul(noise.eps));
      const eh = denoiser ? denoiser(zt, gt, cond) : this.epsHat(zt, gt, cond);
      const sq = noise.eps.sub(eh).square().sum([1, 2, 3, 4]); // [B]
      const diffusion = expm1(gt.sub(gs)).mul(sq).mul(T / 2); // [B]
      const ones = F.ones([1], { device });
      const g1 = this.gamma.forward(ones);
      const g0 = this.gamma.forward(F.zeros([1], { device }));
      const var1 = g1.sigmoid();
      // KL per voxel: ½(σ1² + α1² x² − log σ1² − 1), α1² = 1 − σ1²
      const prior = x.square().sum([1, 2, 3, 4]).mul(ones.sub(var1)).add(var1.sub(var1.log()).sub(1).mul(D)).mul(0.5);
      // −log N(x; z0/α0, σ0/α0): with z0 = α0 x + σ0 ε0 the residual is −(σ0/α0) ε0 and σ0/α0 = exp(γ0/2)
      const z0 = alphaOf(g0).mul(x).add(sigmaOf(g0).mul(noise.eps0));
      const scale = g0.mul(0.5).exp();
      const resid = x.sub(z0.div(alphaOf(g0))).div(scale);
      const recon = resid.square().mul(0.5).sum([1, 2, 3, 4]).add(g0.mul(0.5).add(0.5 * Math.log(2 * Math.PI)).mul(D));
      const total = diffusion.add(prior).add(recon).mean().div(D);
      return {
        total,
        diffusion: diffusion.mean().item() / D,
        prior: prior.mean().item() / D,
        reconstruction: recon.mean().item() / D,
      };
    });
  }

  /**
   * One ancestral step from discrete time i (t = i/T) to i − 1 for a batch z [B,1,n,n,n]; `noise`
   * is ε of the step (same shape). Returns z_s. The schedule is evaluated in float64 in JS;
   * `denoiser` overrides ε̂ (tests with a known posterior). `steps` (default T of training) sets the
   * sampling grid t = i/steps: the denoiser takes any γ(t), so sampling may use more steps than
   * training. With the posterior-mean ε̂ every discrete ancestral step drops the variance of x
   * given z_t, so the sample variance is biased low (for unit-variance Gaussian data with the
   * initial schedule by 22% at 50 steps, 6% at 200, 1.3% at 1000: see the sampler test).
   */
  ancestralStep(
    z: Tensor,
    cond: Tensor,
    i: number,
    noise: Tensor,
    denoiser?: (z: Tensor, gamma: Tensor, cond: Tensor) => Tensor,
    steps = this.cfg.schedule.steps,
  ): Tensor {
    return tidy(() => {
      const T = steps;
      const gt = this.gamma.at(i / T);
      const gs = this.gamma.at((i - 1) / T);
      const B = z.shape[0]!;
      const g = F.full([B], gt, { device: z.device });
      const eh = denoiser ? denoiser(z, g, cond) : this.epsHat(z, g, cond);
      const c = -Math.expm1(gs - gt);
      const at = alphaAt(gt);
      const as = alphaAt(gs);
      const st = sigmaAt(gt);
      const ss = sigmaAt(gs);
      return z.sub(eh.mul(st * c)).mul(as / at).add(noise.mul(ss * Math.sqrt(c)));
    });
  }

  /** x̂ = z_0/α_0. */
  finalEstimate(z0: Tensor): Tensor {
    return z0.div(alphaAt(this.gamma.at(0)));
  }

  /** α_t and σ_t at discrete time i (float64), for the latent-overlap replacement. */
  alphaSigma(i: number, steps = this.cfg.schedule.steps): { alpha: number; sigma: number } {
    const g = this.gamma.at(i / steps);
    return { alpha: alphaAt(g), sigma: sigmaAt(g) };
  }
}
