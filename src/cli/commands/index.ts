import type { Command } from 'commander';

/** Each subcommand lives in its own module exporting `register(program)`; add one line per command here. */
export function registerCommands(program: Command): void {
  void program;
}
