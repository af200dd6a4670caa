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
  return process.env.LODI_REFERENCE_DIR ?? resolve(repoRoot(), '..', 'shared', 'reference');
}
