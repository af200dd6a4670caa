/** The tiny synthetic LODI run shared by test/lodi/train-dp.test.ts and its rank processes. */
import { createHash } from 'node:crypto';
import type { Tensor } from '@lodi/torch';
import { lodiPreset, type LodiConfig } from '../../src/lodi/config.js';
import type { LodiPair } from '../../src/lodi/dataset.js';
import { syntheticPair } from './helpers.js';

export function dpPairs(seeds: number[] = [1, 2]): LodiPair[] {
  return seeds.map((s) => syntheticPair(32, s));
}

export function dpConfig(steps: number, batch: number, dropout: number): LodiConfig {
  const cfg = lodiPreset('tiny');
  cfg.train.steps = steps;
  cfg.train.evalEvery = 3;
  cfg.data.batchSize = batch;
  cfg.net.dropout = dropout;
  // no clipping: clipped gradients would hide a sum over the ranks taken for their mean
  cfg.train.clipNorm = 0;
  return cfg;
}

/** sha256 of the float32 bytes of `params`, in order. */
export function weightsSha(params: Tensor[]): string {
  const h = createHash('sha256');
  for (const p of params) h.update(Buffer.from(p.toFloat32Array().buffer));
  return h.digest('hex');
}
