import type { Command } from 'commander';

/** The `lodi train` command group (created once; model-specific subcommands attach to it). */
export function trainCommand(program: Command): Command {
  return (
    program.commands.find((c) => c.name() === 'train') ??
    program.command('train').description('train a model (halogen: DM density → halo-mass channels; lodi: halo channels → T_b maps)')
  );
}
