/**
 * Learning-rate schedules, pure functions of the optimiser step or the epoch (so resume needs only
 * the counter). Formulas follow PyTorch's schedulers of the same names.
 */

/** Linear warm-up from lr/warmup to lr over `warmup` steps, then cosine decay to lr·minFactor at `total`. */
export function warmupCosine(step: number, lr: number, warmup: number, total: number, minFactor: number): number {
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const p = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return lr * (minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * p)));
}

/** A learning rate per epoch (or step) t = 0, 1, 2, ... */
export interface LrSchedule {
  /** Learning rate to use during epoch `t` (0-based). */
  lrAt(t: number): number;
  /** One line for logs. */
  describe(): string;
}

/** The same learning rate at every epoch. Throws unless lr > 0. */
export function constantLr(lr: number): LrSchedule {
  if (!(lr > 0)) throw new Error(`constantLr: lr must be > 0, got ${lr}`);
  return { lrAt: () => lr, describe: () => `constant ${lr}` };
}

/**
 * SGDR (Loshchilov & Hutter 2017, Eq. 5) as torch.optim.lr_scheduler.CosineAnnealingWarmRestarts:
 * lr(t) = lrMin + (lrMax − lrMin)(1 + cos(π t_cur / T_i))/2, where t_cur counts epochs since the last
 * restart and the cycle length T_i starts at `period` and is multiplied by `mult` after each restart.
 * Throws unless `period` is a positive integer and `mult` an integer ≥ 1.
 */
export function cosineWarmRestarts(lrMax: number, period: number, lrMin = 0, mult = 1): LrSchedule {
  if (!(period > 0) || !Number.isInteger(period)) throw new Error(`cosineWarmRestarts: period must be a positive integer, got ${period}`);
  if (!(mult >= 1) || !Number.isInteger(mult)) throw new Error(`cosineWarmRestarts: mult must be an integer >= 1, got ${mult}`);
  return {
    lrAt(t: number): number {
      let tCur = t;
      let tI = period;
      if (mult === 1) tCur = t % period;
      else
        while (tCur >= tI) {
          tCur -= tI;
          tI *= mult;
        }
      return lrMin + ((lrMax - lrMin) * (1 + Math.cos((Math.PI * tCur) / tI))) / 2;
    },
    describe: () => `cosine annealing with warm restarts ${lrMax} -> ${lrMin}, cycle ${period}${mult !== 1 ? ` x${mult}` : ''}`,
  };
}

/** `first` for epochs 0..switchAt−1, then `second` with its epoch counter restarted at 0 (PyTorch's SequentialLR). */
export function sequentialLr(first: LrSchedule, switchAt: number, second: LrSchedule): LrSchedule {
  if (!(switchAt >= 0) || !Number.isInteger(switchAt)) throw new Error(`sequentialLr: switchAt must be a non-negative integer, got ${switchAt}`);
  return {
    lrAt: (t) => (t < switchAt ? first.lrAt(t) : second.lrAt(t - switchAt)),
    describe: () => `${first.describe()} for ${switchAt} epochs, then ${second.describe()}`,
  };
}
