/**
 * The model-agnostic training loop of every lodi model. A model supplies a `TrainTask` (its
 * optimiser step, its validation, its checkpoint writer); the loop owns what all models share:
 * evaluation periods (an epoch for HALOgen, `evalEvery` steps for LODI), the running mean of the
 * loss terms, best-checkpoint selection on the validation total, atomic checkpoints after every
 * period, progress with ETA, Ctrl-C (a checkpoint, then a clean stop), and the test hook that
 * stops a run as if killed.
 *
 * Why periods: both models checkpoint where their random streams are at a well-defined point, so
 * a resumed run continues on exactly the trajectory of an uninterrupted one. On Ctrl-C a task that
 * implements `saveMidPeriod` also saves inside a period, with the loop's `PeriodState` (steps done,
 * running sums), and hands that state back through `resumePeriod` after the resumed `beginPeriod`:
 * LODI's data stream is a counter, HALOgen keeps the generator state of the epoch's start and draws
 * the same epoch again. The resumed period then logs the same mean as an uninterrupted one. A task
 * without `saveMidPeriod` repeats the interrupted period.
 */
import { interruptRequested as signalled } from '../util/interrupt.js';
import type { Progress } from '../util/progress.js';

/** Loss terms of one step or one evaluation: `total` selects the best checkpoint; all are logged. */
export type Terms = { total: number } & Record<string, number>;

export interface StepResult {
  terms: Terms;
  /** Samples in the step's batch (weights the period mean; a short last batch counts less). */
  samples: number;
}

export interface PeriodEnd {
  /** Validation total of the period (lower is better). */
  valTotal: number;
  /** The log line of the period, given whether it set a new best. */
  line: (best: boolean) => string;
}

/** Where an interrupted period stood: steps done, the sample-weighted sums of its terms, its seconds. */
export interface PeriodState {
  done: number;
  sum: Record<string, number>;
  count: number;
  seconds: number;
}

export interface TrainTask {
  /** Whether every period of the run is done. */
  finished(): boolean;
  /**
   * Starts the next evaluation period (sets its learning rate, draws its samples) and returns its
   * full number of optimiser steps (at least 1), also when it resumes inside it. Called only while
   * not `finished()`.
   */
  beginPeriod(): number;
  /**
   * After `beginPeriod`: the state of that period when the run resumed inside it (its first `done`
   * steps are then skipped), else null. Returns it once.
   */
  resumePeriod?(): PeriodState | null;
  /** Runs optimiser step `i` (0-based) of the current period. Throws when the loss is not finite. */
  step(i: number): StepResult;
  /** Progress-bar text after a step, from the period's running mean so far. */
  status(mean: Terms): string;
  /**
   * Ends the period: validates, appends the history record and advances the counters of the
   * metadata (before the loop saves it). `trainMean` is the period's sample-weighted mean.
   */
  endPeriod(trainMean: Terms, seconds: number): PeriodEnd;
  /** The lowest validation total so far (null before the first evaluation). */
  bestVal(): number | null;
  /** Records the period just ended as the best one (called before `save('best')`). */
  markBest(valTotal: number): void;
  /** Writes `best` (weights for inference) or `checkpoint` (everything resume needs), atomically. */
  save(which: 'best' | 'checkpoint'): void;
  /** Saves a resumable checkpoint inside a period, with `p`; absent when only period ends can be resumed. */
  saveMidPeriod?(p: PeriodState): void;
  /** After the period's checkpoints are written: CSV log, plots, callbacks. */
  afterPeriod?(best: boolean): void | Promise<void>;
  /** The test hook: stop (as if killed) now? `periodEnded` tells whether a period just ended. */
  stopRequested?(periodEnded: boolean): boolean;
  /**
   * Whether to stop as on Ctrl-C, instead of this process's own signal: data-parallel ranks agree on
   * it in each step's all-reduce, so that all of them stop after the same step.
   */
  interrupted?(): boolean;
}

export interface LoopResult {
  /** True when the run stopped before completing (Ctrl-C or the test hook). */
  stopped: boolean;
  /** Optimiser steps run in this call. */
  steps: number;
}

/**
 * Runs `task` period by period until it is finished or a stop is requested.
 * `progress.update` receives `firstStep` + the steps run so far.
 */
export async function runTraining(task: TrainTask, progress: Progress, firstStep = 0): Promise<LoopResult> {
  const interruptRequested = (): boolean => (task.interrupted ? task.interrupted() : signalled());
  let steps = 0;
  while (!task.finished()) {
    const n = task.beginPeriod();
    const resumed = task.resumePeriod?.() ?? null;
    if (resumed && !(resumed.done >= 0 && resumed.done < n)) throw new Error(`internal: resumed at step ${resumed.done} of a ${n}-step period`);
    const t0 = Date.now() - (resumed?.seconds ?? 0) * 1000;
    const sum: Record<string, number> = { ...resumed?.sum };
    let count = resumed?.count ?? 0;
    const mean = (): Terms => {
      const m: Record<string, number> = {};
      for (const [k, v] of Object.entries(sum)) m[k] = v / count;
      return m as Terms;
    };
    for (let i = resumed?.done ?? 0; i < n; i++) {
      const r = task.step(i);
      for (const [k, v] of Object.entries(r.terms)) sum[k] = (sum[k] ?? 0) + v * r.samples;
      count += r.samples;
      steps++;
      // Yield to the event loop: N-API finalizers of dead tensor handles run only between turns,
      // and a loop that never yields keeps their allocations alive (and the heap growing).
      await new Promise<void>((res) => setImmediate(res));
      progress.update(firstStep + steps, task.status(mean()));
      const last = i === n - 1;
      if (!last && (interruptRequested() || task.stopRequested?.(false))) {
        if (task.saveMidPeriod) {
          task.saveMidPeriod({ done: i + 1, sum: { ...sum }, count, seconds: (Date.now() - t0) / 1000 });
          if (interruptRequested()) progress.log(`interrupted; continue with the same command and --resume`);
        } else if (interruptRequested()) {
          progress.log(`interrupted; --resume continues from the last completed period (this one is repeated)`);
        }
        return { stopped: true, steps };
      }
    }
    const end = task.endPeriod(mean(), (Date.now() - t0) / 1000);
    const prev = task.bestVal();
    const best = prev === null || end.valTotal < prev;
    if (best) task.markBest(end.valTotal);
    progress.log(end.line(best));
    if (best) task.save('best');
    task.save('checkpoint');
    await task.afterPeriod?.(best);
    if (interruptRequested() || task.stopRequested?.(true)) {
      // a run whose last period just ended is complete, not stopped
      if (task.finished()) break;
      if (interruptRequested()) progress.log(`interrupted; continue with the same command and --resume`);
      return { stopped: true, steps };
    }
  }
  return { stopped: false, steps };
}
