import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, referenceDir } from '../reference-dir.js';

export { repoRoot, referenceDir };

/** Numeric rows of a whitespace-separated reference table, skipping `#` lines. */
export function readTable(name: string): number[][] {
  return readFileSync(join(referenceDir(), name), 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(/\s+/).map(Number));
}
