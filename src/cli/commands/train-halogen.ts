import type { Command } from 'commander';
import { resolveDevice } from '@lodi/torch';
import { dataParallelOptions, distributedFromOptions } from '../data-parallel.js';
import { refuseGiven } from '../option-checks.js';
import { commandLine, deviceOption, forceOption, parseNonNegativeInteger, parsePositiveInteger, parseSeed, quietOption } from '../options.js';
import { trainCommand } from '../train-command.js';
import { HALOGEN_KIND, type HalogenMeta } from '../../halogen/checkpoint.js';
import { preset, PRESETS, type HalogenConfig } from '../../halogen/config.js';
import { readCheckpointMeta, resolveModelFile } from '../../train/checkpoint.js';
import type { TrainResult } from '../../halogen/train.js';
import type { HalogenRunOptions } from '../../pipeline/train-halogen.js';
import { runInWorker } from '../../util/worker.js';

export function register(program: Command): void {
  const dp = dataParallelOptions();
  trainCommand(program)
    .command('halogen')
    .description(
      'train HALOgen (attention ResUNet, LODI paper Sec. 2.1) on worlds with dm.npy + halos.npy; ' +
        'writes checkpoint.safetensors (resumable), best.safetensors, train.log, history.csv, loss.png. ' +
        'The cpu preset on five 128^3 worlds (30 training crops of 64^3, batch 4: 8 steps per epoch) takes about 1 min per ' +
        'epoch on one core and 34 epochs (about 40 min), with a peak of about 4.4 GB of memory (MODELS.md); the paper preset needs a GPU.',
    )
    .requiredOption('--worlds <dir...>', 'training world directories (each with dm.npy and halos.npy)')
    .requiredOption('--out <dir>', 'run directory')
    .option('--preset <name>', `hyper-parameter preset (${Object.keys(PRESETS).join(', ')})`, 'cpu')
    .option('--epochs <n>', 'number of epochs (default: the preset); with --resume this is the new total, not an extension (default: the run\'s own total)', parseNonNegativeInteger)
    .option('--seed <int>', 'seed of the weights, the train/validation split and the augmentation', parseSeed, 0)
    .option('--batch <n>', 'batch size (default: the preset\'s: cpu 4, paper 16)', parsePositiveInteger)
    .option(
      '--init <model>',
      'continue training a trained HALOgen (run directory or .safetensors) in a new run: its preset, weights and normalisation, the split of the worlds it ' +
        'trained on (matched by IC seed, grid and box; new worlds get a split of their own), a fresh optimiser and one cosine cycle over --epochs from the preset peak rate (no constant-rate warm-up); needs --epochs',
    )
    .option('--resume', 'continue from <out>/checkpoint.safetensors')
    .addOption(forceOption('an existing run in <out> (its files are discarded)'))
    .addOption(dp.worldSize)
    .addOption(dp.rank)
    .addOption(dp.rendezvous)
    .addOption(dp.timeout)
    .addOption(deviceOption())
    .option('--no-plot', 'skip the loss-curve PNG')
    .addOption(quietOption('the log file'))
    .action(async (o, cmd: Command) => {
      if (o.resume) refuseGiven(cmd, ['preset', 'batch', 'seed', 'force', 'init'], 'with --resume (the run continues with its own configuration and seeds; --epochs sets its new total)');
      if (o.init !== undefined) {
        refuseGiven(cmd, ['preset'], 'with --init (the run takes the preset of the model it starts from)');
        if (o.epochs === undefined || o.epochs < 1) throw new Error('--epochs: missing; with --init give the number of epochs of the new run (at least 1)');
      }
      const distributed = distributedFromOptions(cmd, o);
      // a data-parallel follower takes rank 0's configuration: only rank 0 reads the --init model
      const follower = o.worldSize > 1 && o.rank > 0;
      const cfg: HalogenConfig = o.init !== undefined && !follower ? structuredClone(readCheckpointMeta<HalogenMeta>(resolveModelFile(o.init), HALOGEN_KIND).config) : preset(o.preset);
      // the model is past its warm-up: the new run is one cosine cycle over its epochs, from the peak rate
      if (o.init !== undefined && !follower) {
        cfg.train.warmEpochs = 0;
        cfg.train.cycle = o.epochs;
      }
      // a resumed run keeps its own epoch count unless --epochs sets a new one (0 tells the trainer so)
      if (o.epochs !== undefined) cfg.train.epochs = o.epochs;
      else if (o.resume) cfg.train.epochs = 0;
      if (o.batch !== undefined) cfg.data.batchSize = o.batch;
      // Training runs in a worker thread; its progress output is forwarded to this terminal.
      const res = await runInWorker<TrainResult>(new URL('../../pipeline/train-halogen.js', import.meta.url).href, 'trainHalogenRun', {
        worlds: o.worlds,
        config: cfg,
        out: o.out,
        seed: o.seed,
        ...(o.init === undefined || follower ? {} : { init: o.init }),
        resume: o.resume === true,
        force: o.force === true,
        plot: o.plot !== false,
        quiet: o.quiet === true,
        command: commandLine(),
        device: resolveDevice(o.device),
        ...(distributed ? { distributed } : {}),
      } satisfies HalogenRunOptions);
      const m = res.meta;
      const how = res.stopped ? `stopped after ${m.epochsDone} of ${m.config.train.epochs} epochs (continue with --resume)` : `${m.epochsDone} epochs`;
      const best = m.bestVal === null ? 'no validation yet' : `best validation loss ${m.bestVal.toPrecision(5)} at epoch ${(m.bestEpoch ?? -1) + 1}`;
      process.stdout.write(`${o.out}${o.worldSize > 1 ? ` (rank ${o.rank} of ${o.worldSize})` : ''}: ${how}, ${best}\n`);
    });
}
