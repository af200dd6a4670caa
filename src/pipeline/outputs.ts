/**
 * Failed runs leave nothing behind: `withOutputGuard` notes what the output locations hold before a
 * command writes anything, and when the command fails removes exactly what it added (new files and
 * folders, including folders created on the way to the output), never what was there before. A
 * rerun therefore never needs `--force` because of a failed run. Files that existed and were
 * overwritten (only with `--force`) are not restored.
 */
import { existsSync, lstatSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/** How deep inside an existing output folder new entries are looked for (outputs live at depth <= 2, e.g. plots/x.png). */
const MAX_DEPTH = 3;

interface Watched {
  path: string;
  /** Topmost folder on the way to `path` that did not exist (removed on failure when empty). */
  createdRoot?: string;
  /** Entries under an existing folder before the run. */
  before?: Set<string>;
}

function listTree(dir: string, depth: number, into: Set<string>): void {
  if (depth <= 0) return;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) {
    const p = join(dir, n);
    into.add(p);
    let isDir = false;
    try {
      isDir = lstatSync(p).isDirectory();
    } catch {
      /* vanished */
    }
    if (isDir) listTree(p, depth - 1, into);
  }
}

/** Records the state of output paths (files or folders) before a run. */
export class OutputGuard {
  private readonly watched: Watched[];

  constructor(paths: readonly string[]) {
    this.watched = paths.map((p0) => {
      const path = resolve(p0);
      if (existsSync(path)) {
        if (!lstatSync(path).isDirectory()) return { path };
        const before = new Set<string>();
        listTree(path, MAX_DEPTH, before);
        return { path, before };
      }
      let top = path;
      while (!existsSync(dirname(top)) && dirname(top) !== top) top = dirname(top);
      return { path, createdRoot: top };
    });
  }

  /** Removes what appeared since construction; returns the paths removed. */
  rollback(): string[] {
    const removed: string[] = [];
    for (const w of this.watched) {
      if (w.createdRoot !== undefined) {
        if (existsSync(w.path)) {
          rmSync(w.path, { recursive: true, force: true });
          removed.push(w.path);
        }
        // Folders made on the way go only when empty: another run may be writing beside this one.
        for (let d = dirname(w.path); w.path !== w.createdRoot && d.length >= w.createdRoot.length; d = dirname(d)) {
          if (!existsSync(d) || readdirSync(d).length > 0) break;
          rmdirSync(d);
          removed.push(d);
          if (d === w.createdRoot) break;
        }
        continue;
      }
      if (!w.before) continue;
      const now = new Set<string>();
      listTree(w.path, MAX_DEPTH, now);
      // Parents sort before their children, so a new folder is removed whole and its entries skipped.
      for (const p of [...now].sort()) {
        if (w.before.has(p) || !existsSync(p)) continue;
        rmSync(p, { recursive: true, force: true });
        removed.push(p);
      }
    }
    return removed;
  }
}

/**
 * Runs `fn`; when it throws, removes what it added under `paths` (see OutputGuard) and rethrows the
 * original error.
 */
export async function withOutputGuard<T>(paths: readonly string[], fn: () => T | Promise<T>): Promise<T> {
  const guard = new OutputGuard(paths);
  try {
    return await fn();
  } catch (err) {
    try {
      guard.rollback();
    } catch {
      /* the original error matters more than a failed clean-up */
    }
    throw err;
  }
}
