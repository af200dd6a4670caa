/**
 * Turns a reader's remedy (io/errors.ts `IoRemedy`: what the caller could supply) into the flag of
 * the command at hand, so messages suggest only options that command has.
 */
import { LodiIOError, type IoRemedy } from '../io/errors.js';

/** Flag text per remedy, e.g. `{ 'box-size': 'pass --box <Mpc/h>' }`. */
export type RemedyFlags = Partial<Record<IoRemedy, string>>;

/** The error to show: the original, with the command's flag appended when it has one for the remedy. */
export function withRemedy(err: unknown, flags: RemedyFlags): unknown {
  if (!(err instanceof LodiIOError) || !err.remedy) return err;
  const hint = flags[err.remedy];
  if (!hint) return err;
  const out = new Error(`${err.message}; ${hint}`);
  out.stack = err.stack;
  return out;
}

/** Wraps a command action so that reader errors name the command's own flags. */
export function remedyAction<A extends unknown[]>(
  flags: RemedyFlags,
  action: (...args: A) => unknown,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      throw withRemedy(err, flags);
    }
  };
}
