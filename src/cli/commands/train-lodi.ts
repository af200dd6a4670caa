import type { Command } from 'commander';
import { resolveDevice } from '@lodi/torch';
import { dataParallelOptions, distributedFromOptions } from '../data-parallel.js';
import { refuseGiven } from '../option-checks.js';
import { commandLine, deviceOption, forceOption, parseNonNegativeInteger, parsePositive, parsePositiveInteger, parseSeed, quietOption } from '../options.js';
import { trainCommand } from '../train-command.js';
import { LODI_KIND, type LodiMeta } from '../../lodi/checkpoint.js';
import { lodiPreset } from '../../lodi/config.js';
import { readCheckpointMeta, resolveModelFile } from '../../train/checkpoint.js';
import { trainLodiRun } from '../../pipeline/train-lodi.js';

export function register(program: Command): void {
  const dp = dataParallelOptions();
  trainCommand(program)
    .command('lodi')
    .description(
      'train LODI (conditional variational diffusion model, LODI paper Sec. 2.2) on worlds with tb.npy + halos.npy; ' +
        'writes checkpoint.safetensors (resumable), best.safetensors (EMA weights), train.log, history.csv, split.json, loss.png. ' +
        'The cpu preset takes about 2-4 s per step on 2 cores (batch 8 of 32^3 crops) and about 1.7 GB of memory.',
    )
    .requiredOption('--worlds <dir...>', 'training world directories (each with tb.npy and halos.npy)')
    .requiredOption('--out <dir>', 'run directory')
    .option('--preset <name>', 'hyper-parameter preset (paper, cpu, tiny)', 'cpu')
    .option('--steps <n>', 'total optimiser steps (default: the preset); with --resume the new total, not an extension (default: the run\'s own)', parseNonNegativeInteger)
    .option('--batch <n>', 'batch size (default: the preset)', parsePositiveInteger)
    .option('--seed <int>', 'seed of the weights, the split, the crops and the noise', parseSeed, 0)
    .option('--resume', 'continue from <out>/checkpoint.safetensors')
    .option('--init <model>', 'fine-tune: start from a trained LODI (run directory or .safetensors) with its preset, weights and normalisation (and its split on the same worlds); needs --steps')
    .option('--halos-file <name>', 'train on this halo-channel file in each world instead of halos.npy, e.g. HALOgen\'s prediction of the world (lodi predict-halos --dm W/dm.npy --out W/halos_halogen.npy), so that LODI learns the conditioning it gets in lodi run')
    .option('--lr <rate>', 'peak learning rate (default: the preset; warm-up then cosine decay to 0.1x)', parsePositive)
    .addOption(forceOption('an existing run in <out> (its files are discarded)'))
    .addOption(dp.worldSize)
    .addOption(dp.rank)
    .addOption(dp.rendezvous)
    .addOption(dp.timeout)
    .addOption(deviceOption())
    .option('--no-plot', 'skip the loss-curve PNG')
    .addOption(quietOption('the log file'))
    .action(async (o, cmd: Command) => {
      if (o.resume) refuseGiven(cmd, ['preset', 'batch', 'seed', 'force', 'init', 'halosFile', 'lr'], 'with --resume (the run continues with its own configuration, data and seeds; --steps sets its new total)');
      if (o.init !== undefined) {
        refuseGiven(cmd, ['preset'], 'with --init (the run takes the preset of the model it starts from)');
        if (o.steps === undefined) throw new Error('--steps: missing; with --init give the number of fine-tuning steps');
      }
      const distributed = distributedFromOptions(cmd, o);
      const cfg = o.init !== undefined ? structuredClone(readCheckpointMeta<LodiMeta>(resolveModelFile(o.init), LODI_KIND).config) : lodiPreset(o.preset);
      if (o.lr !== undefined) cfg.train.lr = o.lr;
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
        ...(o.halosFile === undefined ? {} : { halosFile: o.halosFile }),
        ...(o.init === undefined ? {} : { init: o.init }),
        device: resolveDevice(o.device),
        ...(distributed ? { distributed } : {}),
      });
      const m = res.meta;
      const how = res.stopped ? `stopped at step ${m.step} of ${m.config.train.steps} (continue with --resume)` : `${m.step} steps`;
      const best = m.bestVal === null ? 'no validation yet' : `best validation loss ${m.bestVal.toPrecision(5)} at step ${m.bestStep}`;
      process.stdout.write(`${o.out}${o.worldSize > 1 ? ` (rank ${o.rank} of ${o.worldSize})` : ''}: ${how}, ${best}\n`);
    });
}
