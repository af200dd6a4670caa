import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTraining, type PeriodState, type TrainTask } from '../../src/train/loop.js';
import { requestInterrupt } from '../../src/util/interrupt.js';
import { Progress } from '../../src/util/progress.js';

/**
 * A scripted task: `periods` periods of `perPeriod` steps; step i of period p has loss
 * 10·p + i with batch size 1 + i (so the weighted mean is checkable); validation totals come from
 * `vals`. Every call is recorded in `events`.
 */
function scripted(periods: number, perPeriod: number, vals: number[], extra: Partial<TrainTask> = {}) {
  const events: string[] = [];
  const means: number[] = [];
  let done = 0;
  let best: number | null = null;
  const task: TrainTask = {
    finished: () => done >= periods,
    beginPeriod: () => {
      events.push(`begin ${done}`);
      return perPeriod;
    },
    step: (i) => {
      events.push(`step ${done}.${i}`);
      return { terms: { total: 10 * done + i, other: 1 }, samples: 1 + i };
    },
    status: (m) => `loss ${m.total}`,
    endPeriod: (train) => {
      means.push(train.total);
      const v = vals[done]!;
      done++;
      return { valTotal: v, line: (b) => `period ${done}${b ? ' best' : ''}` };
    },
    bestVal: () => best,
    markBest: (v) => {
      best = v;
      events.push(`best ${done}`);
    },
    save: (w) => events.push(`save ${w}`),
    ...extra,
  };
  return { task, events, means, best: () => best };
}

const quiet = (): Progress => new Progress('test', 100, { quiet: true });

test('runTraining: every period runs its steps, validates, saves best only when it improves, then the checkpoint', async () => {
  const s = scripted(3, 2, [5, 7, 4]);
  const r = await runTraining(s.task, quiet());
  assert.deepEqual(r, { stopped: false, steps: 6 });
  assert.deepEqual(s.events, [
    'begin 0', 'step 0.0', 'step 0.1', 'best 1', 'save best', 'save checkpoint',
    'begin 1', 'step 1.0', 'step 1.1', 'save checkpoint',
    'begin 2', 'step 2.0', 'step 2.1', 'best 3', 'save best', 'save checkpoint',
  ]);
  assert.equal(s.best(), 4);
  // sample-weighted means: (0·1 + 1·2)/3, (10·1 + 11·2)/3, (20 + 42)/3
  assert.deepEqual(s.means, [2 / 3, 32 / 3, 62 / 3]);
});

test('runTraining: a stop inside a period saves there when the task can, and reports the run as stopped', async () => {
  let saved = 0;
  const s = scripted(3, 4, [1, 1, 1], { saveMidPeriod: () => saved++, stopRequested: (end) => !end });
  const r = await runTraining(s.task, quiet());
  assert.deepEqual(r, { stopped: true, steps: 1 });
  assert.equal(saved, 1);
  assert.ok(!s.events.includes('save checkpoint'), 'no period ended, so no period checkpoint');
});

test('runTraining: a stop at a period end keeps that checkpoint; a stop after the last period is a completed run', async () => {
  const s = scripted(3, 1, [3, 2, 1], { stopRequested: (end) => end });
  assert.deepEqual(await runTraining(s.task, quiet()), { stopped: true, steps: 1 });
  assert.equal(s.events.at(-1), 'save checkpoint');
  const t = scripted(1, 1, [3], { stopRequested: (end) => end });
  assert.deepEqual(await runTraining(t.task, quiet()), { stopped: false, steps: 1 });
});

test('runTraining: Ctrl-C inside a period of a task that cannot save there stops without writing anything', async () => {
  const s = scripted(2, 3, [1, 1], {
    step: (i) => {
      if (i === 1) requestInterrupt(true);
      return { terms: { total: 1 }, samples: 1 };
    },
  });
  try {
    const r = await runTraining(s.task, quiet());
    assert.deepEqual(r, { stopped: true, steps: 2 });
    assert.ok(!s.events.some((e) => e.startsWith('save')));
  } finally {
    requestInterrupt(false);
  }
});

test('runTraining: a finished task runs nothing', async () => {
  const s = scripted(0, 3, []);
  assert.deepEqual(await runTraining(s.task, quiet()), { stopped: false, steps: 0 });
  assert.deepEqual(s.events, []);
});

test('runTraining: a stop inside a period hands the period state to saveMidPeriod; a resume skips the steps done and keeps the sums', async () => {
  let saved: PeriodState | null = null;
  const a = scripted(1, 4, [1], { saveMidPeriod: (p) => (saved = p), stopRequested: (end) => !end && a.events.length === 3 });
  assert.deepEqual(await runTraining(a.task, quiet()), { stopped: true, steps: 2 });
  // steps 0.0 (loss 0, weight 1) and 0.1 (loss 1, weight 2)
  assert.deepEqual({ ...saved!, seconds: 0 }, { done: 2, sum: { total: 2, other: 3 }, count: 3, seconds: 0 });
  let handed = saved as PeriodState | null;
  const b = scripted(1, 4, [1], { resumePeriod: () => [handed, (handed = null)][0]! });
  assert.deepEqual(await runTraining(b.task, quiet()), { stopped: false, steps: 2 });
  assert.deepEqual(b.events.slice(0, 3), ['begin 0', 'step 0.2', 'step 0.3']);
  // the mean of the whole period: (0·1 + 1·2 + 2·3 + 3·4) / 10, as if never interrupted
  assert.deepEqual(b.means, [20 / 10]);
  const c = scripted(1, 4, [1]);
  await runTraining(c.task, quiet());
  assert.deepEqual(c.means, b.means);
});
