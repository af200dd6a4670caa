/**
 * The references of test/halogen/bundled.test.ts: a HALOgen model predicting one 64^3 window of a
 * seeded synthetic DM field, sub-sampled to 4096 values, for two models:
 *
 * - `v1`: the first bundled model (2026-11-29; `cpu` preset widths [8, 16, 32, 64]), kept as
 *   test/halogen/fixtures/halogen-cpu-v1.safetensors. Its fixture bundled-64.npy was written by the
 *   HALOgen code *before* its network and training moved onto src/nets and src/train (commit a468fe2
 *   of main), so the test compares today's code against the forward pass as it was then.
 * - `v2`: the second bundled model (2026-11-30, sha256 f2ff70a3…), kept as
 *   test/halogen/fixtures/halogen-cpu-v2.safetensors; its fixture bundled-64-v2.npy was written by the
 *   code it was trained with (2026-11-30).
 * - `v3`: the third bundled model (v2 continued on ten worlds with `--init`, 2026-12-01, sha256
 *   6cebdf4f…), kept as test/halogen/fixtures/halogen-cpu-v3.safetensors; its fixture bundled-64-v3.npy
 *   was written by the code it was trained with.
 * - `v4`: the fourth bundled model (v3 continued on fifteen worlds with `--init`, 2026-12-01, sha256
 *   1f24c771…), kept as test/halogen/fixtures/halogen-cpu-v4.safetensors; its fixture bundled-64-v4.npy
 *   was written by the code it was trained with.
 * - `bundled`: models/halogen-cpu/best.safetensors (MODELS.md: v4 continued on twenty-one worlds with
 *   `--init`, 2026-12-01), whose fixture bundled-64-v5.npy was written by the code it was trained with
 *   (the same function, run from that code's build), as with
 *
 *     npx tsc -p tsconfig.json && node dist/test/halogen/bundled-fixture.js --write bundled
 *
 * Do not rewrite a fixture to make the test pass: a difference means a changed forward pass or
 * loader. Write one only for a newly bundled model, from the code that trained it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeNpy } from '../../src/io/npy.js';
import { predictHalos } from '../../src/halogen/infer.js';
import { loadHalogen } from '../../src/halogen/checkpoint.js';
import { repoRoot } from '../reference-dir.js';
import { syntheticWorld } from './helpers.js';

/** Side of the input box: one window of the cpu preset's 64^3 crop. */
export const N = 64;
/** Seed of the synthetic DM field (test/halogen/helpers.ts, pure-TypeScript Rng: same on every platform). */
export const SEED = 2024;
/** Values kept: output index i * STRIDE for i < COUNT (251 is prime, so every channel and axis is visited). */
export const COUNT = 4096;
export const STRIDE = 251;

export interface BundledCase {
  name: 'v1' | 'v2' | 'v3' | 'v4' | 'bundled';
  model: string;
  fixture: string;
  /** Leading hex digits of the model file's sha256 (MODELS.md gives the full one of the bundled model). */
  sha256Prefix: string;
}

const fixtures = (): string => join(repoRoot(), 'test', 'halogen', 'fixtures');
export const CASES = (): BundledCase[] => [
  { name: 'v1', model: join(fixtures(), 'halogen-cpu-v1.safetensors'), fixture: join(fixtures(), 'bundled-64.npy'), sha256Prefix: '8c543868171ad51e' },
  { name: 'v2', model: join(fixtures(), 'halogen-cpu-v2.safetensors'), fixture: join(fixtures(), 'bundled-64-v2.npy'), sha256Prefix: 'f2ff70a3a6527184' },
  { name: 'v3', model: join(fixtures(), 'halogen-cpu-v3.safetensors'), fixture: join(fixtures(), 'bundled-64-v3.npy'), sha256Prefix: '6cebdf4f066aa5ec' },
  { name: 'v4', model: join(fixtures(), 'halogen-cpu-v4.safetensors'), fixture: join(fixtures(), 'bundled-64-v4.npy'), sha256Prefix: '1f24c7712014334e' },
  { name: 'bundled', model: join(repoRoot(), 'models', 'halogen-cpu', 'best.safetensors'), fixture: join(fixtures(), 'bundled-64-v5.npy'), sha256Prefix: 'be3ad755aef0a0ca' },
];

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Predicted log10 ρ_h [4,64,64,64] of a model on the seeded field, sub-sampled to [COUNT]. */
export function fixturePrediction(modelFile: string): Float32Array {
  const world = syntheticWorld(N, SEED);
  const { model, meta } = loadHalogen(modelFile);
  try {
    const { log } = predictHalos(model, meta, world.dm, N, { stride: N, batch: 1 });
    return Float32Array.from({ length: COUNT }, (_, i) => log[i * STRIDE]!);
  } finally {
    model.dispose();
  }
}

const w = process.argv.indexOf('--write');
if (w >= 0 && import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const c = CASES().find((x) => x.name === process.argv[w + 1]);
  if (!c) throw new Error(`--write: expected one of ${CASES().map((x) => x.name).join(', ')}`);
  writeNpy(c.fixture, fixturePrediction(c.model), [COUNT], { force: true });
  process.stdout.write(`wrote ${c.fixture} from ${c.model} (sha256 ${sha256(c.model)})\n`);
}
