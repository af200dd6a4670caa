/**
 * The learned linear noise schedule of VDM (Kingma et al. 2021, Sec. 3.3 and App. B; LODI paper
 * Sec. 2.2.3): γ(t) = b + |w| t for t ∈ [0, 1], with
 *   α_t² = sigmoid(−γ(t)),  σ_t² = sigmoid(γ(t))   (so α_t² + σ_t² = 1: variance preserving),
 * initialised at γ(0) = gammaMin, γ(1) = gammaMax. The |w| keeps γ monotonically increasing.
 */
import { F, nn, op, tidy, type Tensor } from '@lodi/torch';
import type { LodiScheduleConfig } from './config.js';

export class LinearGamma extends nn.Module {
  /** Parameters b (γ at t = 0) and w (slope), shape [1] each. */
  readonly b: Tensor;
  readonly w: Tensor;
  constructor(readonly cfg: LodiScheduleConfig) {
    super();
    this.b = this.param('b', F.tensor([cfg.gammaMin]));
    this.w = this.param('w', F.tensor([cfg.gammaMax - cfg.gammaMin]));
    if (!cfg.learned) {
      this.b.requiresGrad = false;
      this.w.requiresGrad = false;
    }
  }
  /** γ(t) for t [B] (any float tensor of times in [0, 1]) → [B]. Differentiable in b and w. */
  forward(t: Tensor): Tensor {
    return tidy(() => this.b.add(this.w.abs().mul(t)));
  }
  /** γ(t) at one time, as a JS number (sampling loop). */
  at(t: number): number {
    return tidy(() => this.b.item() + Math.abs(this.w.item()) * t);
  }
  /** Time normalised for the embedding: (γ − gammaMin)/(gammaMax − gammaMin), fixed config endpoints. */
  normalise(gamma: Tensor): Tensor {
    return gamma.sub(this.cfg.gammaMin).div(this.cfg.gammaMax - this.cfg.gammaMin);
  }
}

/** α = sqrt(sigmoid(−γ)). */
export function alphaOf(gamma: Tensor): Tensor {
  return tidy(() => gamma.neg().sigmoid().sqrt());
}
/** σ = sqrt(sigmoid(γ)). */
export function sigmaOf(gamma: Tensor): Tensor {
  return tidy(() => gamma.sigmoid().sqrt());
}
/** exp(x) − 1 without cancellation near 0 (the weights of Eq. 13 and 14 as corrected). */
export function expm1(x: Tensor): Tensor {
  return op('expm1', [x]);
}

/** Scalar versions for the sampling loop (float64 in JS). */
export const sigmoid = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
export const alphaAt = (gamma: number): number => Math.sqrt(sigmoid(-gamma));
export const sigmaAt = (gamma: number): number => Math.sqrt(sigmoid(gamma));
