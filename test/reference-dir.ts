import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest ancestor holding the package.json of "lodi" (works from test/ and dist/test/). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'lodi') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root (package.json of lodi) not found');
    dir = up;
  }
}

/** The shared reference-data folder: `../shared/reference` beside the repository, or $LODI_REFERENCE_DIR. */
export function referenceDir(): string {
  const dir = process.env.LODI_REFERENCE_DIR ?? resolve(repoRoot(), '..', 'shared', 'reference');
  // the tests on real simulation files and published tables fail with this line rather than with a missing file deep inside
  if (!existsSync(dir))
    throw new Error(`reference data not found at ${dir}: the tests that read real simulation files and published tables need the shared reference folder beside the clone (../shared/reference) or LODI_REFERENCE_DIR set to it`);
  return dir;
}
