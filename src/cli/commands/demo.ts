import { join } from 'node:path';
import type { Command } from 'commander';
import { runDemo } from '../../pipeline/demo.js';
import { parseInteger, parsePositive, parseRedshift, parseSeed } from './linear-power.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('Bundled end-to-end run: build a small world, measure its statistics, write plots and a report')
    .option('--out <dir>', 'output directory (a new DIR-1, DIR-2, ... if it exists)', 'out/demo')
    .option('--particles <n>', 'particles per side', parseInteger, 64)
    .option('--box <Mpc/h>', 'box side in Mpc/h', parsePositive, 25)
    .option('--z <z>', 'redshift', parseRedshift, 1)
    .option('--seed <int>', 'seed of the world', parseSeed, 42)
    .action(async (opts) => {
      const out = await runDemo({ out: opts.out, particles: opts.particles, box: opts.box, z: opts.z, seed: opts.seed });
      process.stdout.write(`demo: done. Open ${join(out, 'report.html')} (or report.md) for the plots and numbers.\n`);
    });
}
