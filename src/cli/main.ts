#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands/index.js';

const program = new Command();
program
  .name('lodi')
  .description('Dark-matter-only simulations to 21 cm (HI) intensity maps: fields, statistics, simulated worlds, HALOgen')
  .version('0.1.0')
  .showHelpAfterError('(run lodi <command> --help for usage)')
  .configureOutput({ outputError: (message, write) => write(`lodi: ${message}`) })
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`lodi: error: ${message.split('\n')[0]}\n`);
  if (process.env.LODI_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
}
