/**
 * The reference of test/halogen/bundled.test.ts: the bundled HALOgen model (models/halogen-cpu)
 * predicting one 64^3 window of a seeded synthetic DM field, sub-sampled to 4096 values.
 *
 * The committed fixture test/halogen/fixtures/bundled-64.npy was written by the HALOgen code *before*
 * its network and training moved onto src/nets and src/train (commit a468fe2 of main), with
 *
 *   npx tsc -p tsconfig.json && node dist/test/halogen/bundled-fixture.js --write
 *
 * so the test compares today's code against the forward pass as it was then. Do not rewrite the
 * fixture to make the test pass: a difference means a changed forward pass or loader.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeNpy } from '../../src/io/npy.js';
import { predictHalos } from '../../src/halogen/infer.js';
import { loadHalogen } from '../../src/halogen/train.js';
import { repoRoot } from '../reference-dir.js';
import { syntheticWorld } from './helpers.js';

/** Side of the input box: one window of the cpu preset's 64^3 crop. */
export const N = 64;
/** Seed of the synthetic DM field (test/halogen/helpers.ts, pure-TypeScript Rng: same on every platform). */
export const SEED = 2024;
/** Values kept: output index i * STRIDE for i < COUNT (251 is prime, so every channel and axis is visited). */
export const COUNT = 4096;
export const STRIDE = 251;

export const bundledFile = (): string => join(repoRoot(), 'models', 'halogen-cpu', 'best.safetensors');
export const fixtureFile = (): string => join(repoRoot(), 'test', 'halogen', 'fixtures', 'bundled-64.npy');

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Predicted log10 ρ_h [4,64,64,64] of the bundled model on the seeded field, sub-sampled to [COUNT]. */
export function bundledPrediction(): Float32Array {
  const world = syntheticWorld(N, SEED);
  const { model, meta } = loadHalogen(bundledFile());
  try {
    const { log } = predictHalos(model, meta, world.dm, N, { stride: N, batch: 1 });
    return Float32Array.from({ length: COUNT }, (_, i) => log[i * STRIDE]!);
  } finally {
    model.dispose();
  }
}

if (process.argv.includes('--write') && import.meta.url === pathToFileURL(process.argv[1]!).href) {
  writeNpy(fixtureFile(), bundledPrediction(), [COUNT], { force: true });
  process.stdout.write(`wrote ${fixtureFile()} from ${bundledFile()} (sha256 ${sha256(bundledFile())})\n`);
}
