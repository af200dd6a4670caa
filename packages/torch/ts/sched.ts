/**
 * Learning-rate schedules as pure functions of the epoch (or step) count, so resuming from a
 * checkpoint only needs the counter. Formulas follow PyTorch's schedulers of the same names.
 */
export interface LrSchedule {
  /** Learning rate to use during epoch `epoch` (0-based). */
  lrAt(epoch: number): number;
  describe(): string;
}

/** Linear warm-up from `startFactor*lr` over `warmup` epochs, then constant `lr`. */
export class ConstantWarmup implements LrSchedule {
  constructor(
    readonly lr: number,
    readonly warmup = 0,
    readonly startFactor = 1 / 3,
  ) {}
  lrAt(epoch: number): number {
    if (epoch >= this.warmup) return this.lr;
    return this.lr * (this.startFactor + ((1 - this.startFactor) * epoch) / this.warmup);
  }
  describe(): string {
    return `constant ${this.lr}${this.warmup ? ` after ${this.warmup}-epoch warm-up` : ''}`;
  }
}

/** SGDR (Loshchilov & Hutter 2017) as torch.optim.lr_scheduler.CosineAnnealingWarmRestarts. */
export class CosineAnnealingWarmRestarts implements LrSchedule {
  constructor(
    readonly lrMax: number,
    readonly T0: number,
    readonly etaMin = 0,
    readonly Tmult = 1,
  ) {
    if (T0 <= 0 || !Number.isInteger(T0)) throw new Error(`CosineAnnealingWarmRestarts: T0 must be a positive integer`);
  }
  lrAt(epoch: number): number {
    let tCur = epoch;
    let tI = this.T0;
    if (this.Tmult === 1) {
      tCur = epoch % this.T0;
    } else {
      while (tCur >= tI) {
        tCur -= tI;
        tI *= this.Tmult;
      }
    }
    return this.etaMin + ((this.lrMax - this.etaMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2;
  }
  describe(): string {
    return `cosine annealing with warm restarts ${this.lrMax} -> ${this.etaMin}, cycle ${this.T0}${this.Tmult !== 1 ? ` x${this.Tmult}` : ''}`;
  }
}

/** Runs `first` for `switchAt` epochs, then `second` with its epoch counter restarted at 0. */
export class SequentialSchedule implements LrSchedule {
  constructor(
    readonly first: LrSchedule,
    readonly switchAt: number,
    readonly second: LrSchedule,
  ) {}
  lrAt(epoch: number): number {
    return epoch < this.switchAt ? this.first.lrAt(epoch) : this.second.lrAt(epoch - this.switchAt);
  }
  describe(): string {
    return `${this.first.describe()} for ${this.switchAt} epochs, then ${this.second.describe()}`;
  }
}
