import type { Command } from 'commander';
import { refuseGiven } from '../option-checks.js';
import { commandLine, forceOption, parseNonNegativeInteger, parsePositiveInteger, parseSeed, quietOption } from '../options.js';
import { trainCommand } from '../train-command.js';
import { lodiPreset } from '../../lodi/config.js';
import { trainLodiRun } from '../../pipeline/train-lodi.js';

export function register(program: Command): void {
  trainCommand(program)
    .command('lodi')
    .description(
      'train LODI (conditional variational diffusion model, LODI paper Sec. 2.2) on worlds with tb.npy + halos.npy; ' +
        'writes checkpoint.safetensors (resumable), best.safetensors (EMA weights), train.log, history.csv, split.json, loss.png. ' +
        'The cpu preset takes about 2-4 s per step on 2 cores (batch 8 of 32^3 crops) and about 1.5 GB of memory.',
    )
    .requiredOption('--worlds <dir...>', 'training world directories (each with tb.npy and halos.npy)')
    .requiredOption('--out <dir>', 'run directory')
    .option('--preset <name>', 'hyper-parameter preset (paper, cpu, tiny)', 'cpu')
    .option('--steps <n>', 'total optimiser steps (default: the preset); with --resume the new total, not an extension (default: the run\'s own)', parseNonNegativeInteger)
    .option('--batch <n>', 'batch size (default: the preset)', parsePositiveInteger)
    .option('--seed <int>', 'seed of the weights, the split, the crops and the noise', parseSeed, 0)
    .option('--resume', 'continue from <out>/checkpoint.safetensors')
    .addOption(forceOption('an existing run in <out> (its files are discarded)'))
    .option('--no-plot', 'skip the loss-curve PNG')
    .addOption(quietOption('the log file'))
    .action(async (o, cmd: Command) => {
      if (o.resume) refuseGiven(cmd, ['preset', 'batch', 'seed', 'force'], 'with --resume (the run continues with its own configuration and seeds; --steps sets its new total)');
      const cfg = lodiPreset(o.preset);
      // a resumed run keeps its own total unless --steps sets a new one (0 tells the trainer so)
      if (o.steps !== undefined) cfg.train.steps = o.steps;
      else if (o.resume) cfg.train.steps = 0;
      if (o.batch !== undefined) cfg.data.batchSize = o.batch;
      const res = await trainLodiRun({
        worlds: o.worlds,
        config: cfg,
        out: o.out,
        seed: o.seed,
        resume: o.resume === true,
        force: o.force === true,
        plot: o.plot !== false,
        quiet: o.quiet === true,
        command: commandLine(),
      });
      const m = res.meta;
      const how = res.stopped ? `stopped at step ${m.step} of ${m.config.train.steps} (continue with --resume)` : `${m.step} steps`;
      const best = m.bestVal === null ? 'no validation yet' : `best validation loss ${m.bestVal.toPrecision(5)} at step ${m.bestStep}`;
      process.stdout.write(`${o.out}: ${how}, ${best}\n`);
    });
}
