import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

/** Raised when an output exists and the caller did not pass `force`. */
export class OutputExistsError extends Error {
  constructor(public readonly path: string) {
    super(`${path} already exists; pass --force to overwrite it`);
  }
}

/** Refuses to clobber an existing user file unless `force` is set. */
export function assertWritable(path: string, force = false): void {
  if (!force && existsSync(path)) throw new OutputExistsError(path);
}

/** Temporary sibling name: same directory so the final rename is atomic on POSIX. */
export function tempSibling(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
}

/**
 * Temporary siblings of `path` (see `tempSibling`) left by a writer that was killed before its
 * rename: their presence means the file was being written and never finished.
 */
export function leftoverTemps(path: string): string[] {
  const prefix = `.${basename(path)}.tmp-`;
  try {
    return readdirSync(dirname(path)).filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
}

/**
 * Removes the temporary siblings (see `tempSibling`) in `dir` whose writer process is gone: what a
 * killed writer left behind. Called when a run resumes. Temporaries of a live process are kept.
 *
 * @returns the names removed.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = /^\..+\.tmp-(\d+)-\d+$/.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    let alive = pid === process.pid;
    if (!alive) {
      try {
        process.kill(pid, 0);
        alive = true;
      } catch (err) {
        // EPERM: a live process of another user
        alive = (err as NodeJS.ErrnoException).code === 'EPERM';
      }
    }
    if (alive) continue;
    rmSync(join(dir, n), { force: true, recursive: true });
    removed.push(n);
  }
  return removed;
}

/**
 * The message for an input that does not exist: "not found; expected <what>", plus, when an
 * unfinished temporary copy lies beside it, that the program writing it was interrupted.
 */
export function notFoundDetail(path: string, expected: string): string {
  const tmp = leftoverTemps(path);
  const interrupted = tmp.length
    ? ` (only the unfinished ${tmp[0]} lies beside it: the program writing it was interrupted; run that again)`
    : '';
  return `not found${interrupted}; expected ${expected}`;
}

/**
 * Writes `data` to `path` through a temporary file and a rename, so a crash never leaves a
 * half-written output under the final name.
 */
export function writeFileAtomic(
  path: string,
  data: string | NodeJS.ArrayBufferView | readonly NodeJS.ArrayBufferView[],
  opts: { force?: boolean } = {},
): void {
  assertWritable(path, opts.force ?? true);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  try {
    if (Array.isArray(data)) {
      writeFileSync(tmp, Buffer.concat(data.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength))));
    } else {
      writeFileSync(tmp, data as string | NodeJS.ArrayBufferView);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw writeError(path, err);
  }
}

/** Names the user's output path (not the temporary one) in write failures. */
function writeError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  return new Error(`cannot write ${path}${code ? ` (${code})` : ''}: ${err instanceof Error ? err.message.replace(/, open '.*'$/, '') : String(err)}`);
}

/** Runs `write(tmpPath)` and renames the result to `path` on success (for writers that need a path, e.g. HDF5). */
export async function withAtomicPath<T>(
  path: string,
  write: (tmpPath: string) => T | Promise<T>,
  opts: { force?: boolean } = {},
): Promise<T> {
  assertWritable(path, opts.force ?? true);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = tempSibling(path);
  try {
    const result = await write(tmp);
    renameSync(tmp, path);
    return result;
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
