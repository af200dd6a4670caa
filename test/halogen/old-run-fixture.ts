/**
 * Run directories written by the HALOgen trainer before it moved onto src/train (format
 * 'lodi-halogen' version 1, metadata under the safetensors key `halogen`): test/halogen/train.test.ts
 * checks that today's trainer resumes them and ends where the old trainer ended.
 *
 * test/halogen/fixtures/run-v1/{part,full}/checkpoint.safetensors were written at commit a468fe2
 * of main (the old trainer), with
 *
 *   npx tsc -p tsconfig.json && node dist/test/halogen/old-run-fixture.js --write
 *
 * `part` stopped after epoch 2 of 4 (as if killed), `full` ran all 4 epochs uninterrupted; tiny
 * preset, seed 11, the synthetic 32^3 world of seed 3. Only the checkpoints are kept (the logs and
 * best.safetensors are not needed for a resume).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { preset, type HalogenConfig } from '../../src/halogen/config.js';
import { CHECKPOINT, trainHalogen } from '../../src/halogen/train.js';
import { repoRoot } from '../reference-dir.js';
import { syntheticWorld } from './helpers.js';

export const OLD_SEED = 11;
export const OLD_EPOCHS = 4;
export const OLD_STOP = 2;
/** The world of the old runs; its `dir` is recorded in their metadata and checked on resume. */
export const oldWorld = (): ReturnType<typeof syntheticWorld> => syntheticWorld(32, 3, 'synthetic-3');
export const oldConfig = (): HalogenConfig => {
  const c = preset('tiny');
  c.train.epochs = OLD_EPOCHS;
  return c;
};
export const oldRunDir = (which: 'part' | 'full'): string => join(repoRoot(), 'test', 'halogen', 'fixtures', 'run-v1', which);

if (process.argv.includes('--write') && import.meta.url === pathToFileURL(process.argv[1]!).href) {
  const tmp = mkdtempSync(join(tmpdir(), 'halogen-v1-'));
  try {
    const common = { worlds: [oldWorld()], seed: OLD_SEED, quiet: true, config: oldConfig() };
    await trainHalogen({ ...common, out: join(tmp, 'part'), stopAfterEpoch: OLD_STOP });
    await trainHalogen({ ...common, out: join(tmp, 'full') });
    for (const which of ['part', 'full'] as const) {
      mkdirSync(oldRunDir(which), { recursive: true });
      copyFileSync(join(tmp, which, CHECKPOINT), join(oldRunDir(which), CHECKPOINT));
    }
    process.stdout.write(`wrote ${oldRunDir('part')} and ${oldRunDir('full')}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
