import { basename } from 'node:path';

/**
 * What the caller can supply to get past an error: the box size in Mpc/h, the length unit of a
 * file without unit attributes, or the cosmology of a file whose header does not state it. Commands map each to their own flag (e.g. `--box`, `--length-unit`);
 * the library itself names no option.
 */
export type IoRemedy = 'box-size' | 'length-unit' | 'cosmology';

/**
 * The one error type raised by every reader and writer in `src/io`. The message always starts with
 * the file (and dataset/block, when there is one) and says what was expected and what was found.
 */
export class LodiIOError extends Error {
  constructor(
    public readonly file: string,
    detail: string,
    public readonly dataset?: string,
    /** What the caller could supply to fix it, when anything (see IoRemedy). */
    public readonly remedy?: IoRemedy,
  ) {
    super(`${basename(file)}${dataset ? `: ${dataset}` : ''}: ${detail}`);
    this.name = 'LodiIOError';
  }
}

/** Formats a shape as `[a,b,c]` for messages. */
export function fmtShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Throws when `data` holds a NaN or an infinity; the message names the first bad flat index
 * (and the row for row-major `[n, width]` data).
 */
export function assertFinite(
  data: ArrayLike<number>,
  file: string,
  dataset: string,
  width = 1,
): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i] as number;
    if (!Number.isFinite(v)) {
      const where = width > 1 ? `row ${Math.floor(i / width)}, column ${i % width}` : `index ${i}`;
      throw new LodiIOError(file, `non-finite value ${v} at ${where} (flat index ${i}), expected finite numbers`, dataset);
    }
  }
}

/**
 * Throws when positions (Mpc/h, flat [n*3]) fall far outside the periodic box [0, L): values
 * beyond [-L/2, 3L/2] mean wrong units or corrupt data, not periodic wrapping.
 */
export function assertPositionsInBox(pos: ArrayLike<number>, boxSize: number, file: string, dataset: string): void {
  const lo = -0.5 * boxSize;
  const hi = 1.5 * boxSize;
  for (let i = 0; i < pos.length; i++) {
    const v = pos[i] as number;
    if (!(v >= lo && v <= hi)) {
      throw new LodiIOError(
        file,
        `position ${v} Mpc/h at row ${Math.floor(i / 3)} is outside the box [0, ${boxSize}) Mpc/h; expected positions inside it (wrong length unit or box size?)`,
        dataset,
        'length-unit',
      );
    }
  }
}
