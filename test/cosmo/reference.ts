import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root: the nearest ancestor of this file holding a package.json (works from src and dist). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'src'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
}

/** The shared reference-data folder (`../shared/reference` next to the repository, or $LODI_REFERENCE_DIR). */
export function referenceDir(): string {
  return process.env.LODI_REFERENCE_DIR ?? resolve(repoRoot(), '..', 'shared', 'reference');
}


/** Numeric rows of a whitespace-separated reference table, skipping `#` lines. */
export function readTable(name: string): number[][] {
  return readFileSync(join(referenceDir(), name), 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(/\s+/).map(Number));
}
