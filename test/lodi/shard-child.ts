/**
 * A shard process of test/lodi/generate-shards.test.ts: runs its shard of every stage from a given
 * one, waiting until the earlier stages are recorded (what the scheduler's afterok dependency does
 * on a cluster), and prints one JSON line per stage. It does nothing without LODI_SHARD_CHILD (the
 * test runner runs every file under test/), and imports only what a shard needs, so it starts fast.
 */
import type { Shard } from '../../src/lodi/shards.js';

export interface ChildJob {
  halos: string;
  model: string;
  out: string;
  seed: number;
  steps: number;
  batch: number;
  shard: Shard;
  /** First stage to run. */
  from: number;
  /** SIGKILL itself once this many boxes of this stage are recorded. */
  killAt?: { stage: number; boxes: number };
}

const env = process.env.LODI_SHARD_CHILD;
if (env) {
  const job = JSON.parse(env) as ChildJob;
  const { loadLodi } = await import('../../src/lodi/checkpoint.js');
  const { finishedBoxes, missingBefore, readPlanFile, workPaths } = await import('../../src/lodi/shards.js');
  const { runShard } = await import('../../src/pipeline/generate-shards.js');
  const loaded = loadLodi(job.model);
  const paths = workPaths(job.out);
  const plan = readPlanFile(paths.plan);
  for (let s = job.from; s < plan.stages.length; s++) {
    while (missingBefore(plan, s, finishedBoxes(paths.done)).length) await new Promise((r) => setTimeout(r, 100));
    const r = await runShard({
      halos: job.halos,
      model: loaded,
      out: job.out,
      seed: job.seed,
      steps: job.steps,
      batch: job.batch,
      quiet: true,
      stage: s,
      shard: job.shard,
      onProgress: (done) => {
        if (job.killAt?.stage === s && done >= job.killAt.boxes) process.kill(process.pid, 'SIGKILL');
      },
    });
    process.stdout.write(JSON.stringify(r) + '\n');
  }
  loaded.model.dispose();
}
