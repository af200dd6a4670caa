/**
 * A rank of test/halogen/train-dp.test.ts: trains the tiny synthetic HALOgen as rank `rank` of a
 * data-parallel group and prints one JSON line: its epochs and the sha256 of its final live weights,
 * or the error. It does nothing without HALOGEN_DP_CHILD (the test runner runs every file under test/).
 */
import { createHash } from 'node:crypto';
import type { Tensor } from '@lodi/torch';
import { preset, type HalogenConfig } from '../../src/halogen/config.js';
import type { WorldGrids } from '../../src/io/world.js';
import { syntheticWorld } from './helpers.js';

export interface HalogenDpJob {
  rank: number;
  worldSize: number;
  rendezvous: string;
  out: string;
  epochs: number;
  batch: number;
  seed: number;
  /** Seeds of the synthetic worlds this rank loads (default [2, 5]). */
  worlds?: number[];
}

export function dpWorlds(seeds: number[] = [2, 5]): WorldGrids[] {
  return seeds.map((s) => syntheticWorld(32, s, `synthetic-${s}`));
}

/** The tiny preset with `epochs` and `batch` (batch 3 over 12 training crops: shares of 1 and 2 samples on two ranks). */
export function dpConfig(epochs: number, batch: number): HalogenConfig {
  const cfg = preset('tiny');
  cfg.train.epochs = epochs;
  cfg.data.batchSize = batch;
  return cfg;
}

/** sha256 of the float32 bytes of `params`, in order. */
export function weightsSha(params: Tensor[]): string {
  const h = createHash('sha256');
  for (const p of params) h.update(Buffer.from(p.toFloat32Array().buffer));
  return h.digest('hex');
}

const env = process.env.HALOGEN_DP_CHILD;
if (env) {
  const job = JSON.parse(env) as HalogenDpJob;
  const { trainHalogen } = await import('../../src/halogen/train.js');
  try {
    let sha = '';
    const r = await trainHalogen({
      worlds: dpWorlds(job.worlds),
      config: dpConfig(job.epochs, job.batch),
      out: job.out,
      seed: job.seed,
      quiet: true,
      distributed: { rank: job.rank, worldSize: job.worldSize, rendezvous: { file: job.rendezvous }, deviceHost: '127.0.0.1', timeoutMs: 60_000 },
      onDone: (params) => (sha = weightsSha(params)),
    });
    process.stdout.write(JSON.stringify({ ok: true, epochs: r.meta.epochsDone, sha }) + '\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ ok: false, error: (err as Error).message }) + '\n');
  }
}
