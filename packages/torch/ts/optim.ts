import { noGrad } from './autograd.js';
import { keep, tidy } from './scope.js';
import { Tensor } from './tensor.js';
import * as F from './functional.js';

/**
 * Optimizers implemented with in-place ATen ops, following PyTorch's update formulas exactly so
 * weights trained here can be compared with a PyTorch run. State (step count and per-parameter
 * moment tensors) can be saved in checkpoints via `stateTensors()` / `loadStateTensors()`.
 */
export abstract class Optimizer {
  lr: number;
  /** Number of `step()` calls. */
  step_ = 0;
  /** Updates applied to each parameter (PyTorch keeps this per parameter: one without a gradient is skipped). */
  protected readonly counts: number[];
  protected readonly state: Map<string, Tensor>[];

  constructor(
    readonly params: Tensor[],
    lr: number,
  ) {
    this.lr = lr;
    this.state = params.map(() => new Map());
    this.counts = params.map(() => 0);
  }

  /** One update from the gradients currently stored on the parameters. */
  step(): void {
    this.step_++;
    noGrad(() => {
      this.params.forEach((p, i) => {
        const g = p.grad;
        if (!g) return;
        this.counts[i]!++;
        tidy(() => this.update(p, g, this.state[i]!, i));
        g.dispose();
      });
    });
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  protected abstract update(p: Tensor, g: Tensor, state: Map<string, Tensor>, index: number): void;

  protected slot(state: Map<string, Tensor>, name: string, like: Tensor): Tensor {
    let t = state.get(name);
    if (!t) {
      t = keep(F.zerosLike(like));
      state.set(name, t);
    }
    return t;
  }

  /**
   * Flat name -> tensor map ("<paramIndex>.<slot>", plus "steps": the per-parameter update counts)
   * and the step count, for checkpoints.
   */
  stateTensors(): { tensors: Map<string, Tensor>; meta: { step: number; lr: number } } {
    const tensors = new Map<string, Tensor>([['steps', F.tensor(Float64Array.from(this.counts))]]);
    this.state.forEach((s, i) => {
      for (const [k, t] of s) tensors.set(`${i}.${k}`, t);
    });
    return { tensors, meta: { step: this.step_, lr: this.lr } };
  }

  loadStateTensors(tensors: Map<string, Tensor>, meta: { step: number; lr: number }): void {
    this.step_ = meta.step;
    this.lr = meta.lr;
    const steps = tensors.get('steps');
    if (steps) {
      if (steps.numel !== this.params.length)
        throw new Error(`optimizer state has ${steps.numel} step counts for ${this.params.length} parameters`);
      steps.toFloat64Array().forEach((c, i) => (this.counts[i] = c));
    } else {
      this.counts.fill(meta.step); // checkpoints written before per-parameter counts
    }
    noGrad(() => {
      for (const [key, t] of tensors) {
        if (key === 'steps') continue;
        const dot = key.indexOf('.');
        const i = Number(key.slice(0, dot));
        const name = key.slice(dot + 1);
        const p = this.params[i];
        if (!p) throw new Error(`optimizer state '${key}' refers to parameter ${i}, but there are ${this.params.length}`);
        this.slot(this.state[i]!, name, p).copy_(t);
      }
    });
  }

  dispose(): void {
    for (const s of this.state) {
      for (const t of s.values()) t.dispose();
      s.clear();
    }
  }
}

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** Decoupled weight decay (AdamW) instead of L2 added to the gradient (Adam). */
  decoupled?: boolean;
}

export class Adam extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  constructor(params: Tensor[], o: AdamOptions = {}) {
    super(params, o.lr ?? 1e-3);
    this.betas = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
    this.decoupled = o.decoupled ?? false;
  }
  protected update(p: Tensor, g: Tensor, s: Map<string, Tensor>, index: number): void {
    const [b1, b2] = this.betas;
    if (this.weightDecay) {
      if (this.decoupled) p.mul_(1 - this.lr * this.weightDecay);
      else g = g.add(p, this.weightDecay);
    }
    const m = this.slot(s, 'exp_avg', p).lerp_(g, 1 - b1);
    const v = this.slot(s, 'exp_avg_sq', p).mul_(b2).addcmul_(g, g, 1 - b2);
    const t = this.counts[index]!;
    const bc1 = 1 - b1 ** t;
    const bc2 = 1 - b2 ** t;
    const denom = v.sqrt().div(Math.sqrt(bc2)).add(this.eps);
    p.addcdiv_(m, denom, -this.lr / bc1);
  }
}

export class AdamW extends Adam {
  constructor(params: Tensor[], o: Omit<AdamOptions, 'decoupled'> = {}) {
    super(params, { weightDecay: 1e-2, ...o, decoupled: true });
  }
}

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
}

export class RMSprop extends Optimizer {
  readonly alpha: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly momentum: number;
  readonly centered: boolean;
  constructor(params: Tensor[], o: RMSpropOptions = {}) {
    super(params, o.lr ?? 1e-2);
    this.alpha = o.alpha ?? 0.99;
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
    this.momentum = o.momentum ?? 0;
    this.centered = o.centered ?? false;
  }
  protected update(p: Tensor, g: Tensor, s: Map<string, Tensor>): void {
    if (this.weightDecay) g = g.add(p, this.weightDecay);
    const sq = this.slot(s, 'square_avg', p).mul_(this.alpha).addcmul_(g, g, 1 - this.alpha);
    let avg: Tensor;
    if (this.centered) {
      const ga = this.slot(s, 'grad_avg', p).lerp_(g, 1 - this.alpha);
      avg = sq.sub(ga.square()).sqrt().add(this.eps);
    } else {
      avg = sq.sqrt().add(this.eps);
    }
    if (this.momentum > 0) {
      const buf = this.slot(s, 'momentum_buffer', p).mul_(this.momentum).addcdiv_(g, avg);
      p.add_(buf, -this.lr);
    } else {
      p.addcdiv_(g, avg, -this.lr);
    }
  }
}

export class SGD extends Optimizer {
  constructor(
    params: Tensor[],
    readonly o: { lr: number; momentum?: number; nesterov?: boolean; weightDecay?: number },
  ) {
    super(params, o.lr);
  }
  protected update(p: Tensor, g: Tensor, s: Map<string, Tensor>): void {
    if (this.o.weightDecay) g = g.add(p, this.o.weightDecay);
    const mu = this.o.momentum ?? 0;
    if (mu > 0) {
      const first = !s.has('momentum_buffer');
      const buf = this.slot(s, 'momentum_buffer', p);
      if (first) buf.copy_(g);
      else buf.mul_(mu).add_(g);
      g = this.o.nesterov ? g.add(buf, mu) : buf;
    }
    p.add_(g, -this.lr);
  }
}

/** Scales all gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  return noGrad(() =>
    tidy(() => {
      const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
      if (grads.length === 0) return 0;
      const sq = grads.map((g) => g.double().square().sum());
      const total = Math.sqrt(F.stack(sq).sum().item());
      const coef = maxNorm / (total + 1e-6);
      if (coef < 1) for (const g of grads) g.mul_(coef);
      return total;
    }),
  );
}

/** Exponential moving average of weights: shadow = decay*shadow + (1-decay)*param. */
export class EMA {
  readonly shadow: Tensor[];
  constructor(
    readonly params: Tensor[],
    readonly decay = 0.999,
  ) {
    // tidy releases the detached views; the clones are kept
    this.shadow = noGrad(() => params.map((p) => keep(tidy(() => p.detach().clone()))));
  }
  /** shadow ← decay·shadow + (1 − decay)·param, with `decay` (default: the constructor's) for this update. */
  update(decay = this.decay): void {
    noGrad(() => this.params.forEach((p, i) => this.shadow[i]!.lerp_(p, 1 - decay)));
  }
  /** Copies the averaged weights into the live parameters (e.g. before evaluation). */
  copyTo(params: Tensor[] = this.params): void {
    noGrad(() => params.forEach((p, i) => p.copy_(this.shadow[i]!)));
  }
  dispose(): void {
    for (const t of this.shadow) t.dispose();
  }
}
