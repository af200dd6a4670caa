/**
 * Options that would be silently dropped in a combination: every option of a command either acts or
 * makes the command fail with one line naming it and why. Only options typed on the command line count
 * (defaults never trigger a refusal).
 */
import type { Command } from 'commander';

/** The flags (as typed, e.g. `--batch`) of the options among `names` (attribute names) given on the command line. */
export function givenFlags(cmd: Command, names: readonly string[]): string[] {
  const out: string[] = [];
  for (const name of names) {
    if (cmd.getOptionValueSource(name) !== 'cli') continue;
    const opt = cmd.options.find((o) => o.attributeName() === name);
    out.push(opt?.long ?? `--${name}`);
  }
  return out;
}

/**
 * Throws `<flags> <has|have> no effect <context>` when any option among `names` was given on the command
 * line, e.g. refuseGiven(cmd, ['batch'], 'with --method single (the whole box in one pass)').
 */
export function refuseGiven(cmd: Command, names: readonly string[], context: string): void {
  const flags = givenFlags(cmd, names);
  if (flags.length === 0) return;
  throw new Error(`${flags.join(', ')} ${flags.length === 1 ? 'has' : 'have'} no effect ${context}; drop ${flags.length === 1 ? 'it' : 'them'}`);
}
