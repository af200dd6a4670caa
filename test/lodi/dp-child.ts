/**
 * A rank of test/lodi/train-dp.test.ts: trains the tiny synthetic LODI as rank `rank` of a
 * data-parallel group and prints one JSON line: its final step and the sha256 of its final live
 * weights, or the error. It does nothing without LODI_DP_CHILD (the test runner runs every file
 * under test/).
 */
export interface DpJob {
  rank: number;
  worldSize: number;
  /** A rendezvous file, or `tcp:PORT` for a TCP store on 127.0.0.1. */
  rendezvous: string;
  out: string;
  steps: number;
  batch: number;
  dropout: number;
  seed: number;
  /** Seeds of the synthetic worlds this rank loads (default those of dpPairs). */
  worlds?: number[];
}

const env = process.env.LODI_DP_CHILD;
if (env) {
  const job = JSON.parse(env) as DpJob;
  const { trainLodi } = await import('../../src/lodi/train.js');
  const { dpConfig, dpPairs, weightsSha } = await import('./dp-setup.js');
  try {
    let sha = '';
    const r = await trainLodi({
      worlds: dpPairs(job.worlds),
      config: dpConfig(job.steps, job.batch, job.dropout),
      out: job.out,
      seed: job.seed,
      quiet: true,
      distributed: {
        rank: job.rank,
        worldSize: job.worldSize,
        rendezvous: job.rendezvous.startsWith('tcp:') ? { host: '127.0.0.1', port: Number(job.rendezvous.slice(4)) } : { file: job.rendezvous },
        deviceHost: '127.0.0.1',
        timeoutMs: 60_000,
      },
      onDone: (params) => (sha = weightsSha(params)),
    });
    process.stdout.write(JSON.stringify({ ok: true, step: r.meta.step, sha }) + '\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ ok: false, error: (err as Error).message }) + '\n');
  }
}
