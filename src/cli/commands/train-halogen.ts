import type { Command } from 'commander';
import { resolveDevice } from '@lodi/torch';
import { refuseGiven } from '../option-checks.js';
import { commandLine, deviceOption, forceOption, parseNonNegativeInteger, parsePositive, parsePositiveInteger, parseRendezvous, parseSeed, quietOption } from '../options.js';
import { trainCommand } from '../train-command.js';
import { HALOGEN_KIND, type HalogenMeta } from '../../halogen/checkpoint.js';
import { preset, PRESETS, type HalogenConfig } from '../../halogen/config.js';
import { readCheckpointMeta, resolveModelFile } from '../../train/checkpoint.js';
import type { TrainResult } from '../../halogen/train.js';
import type { HalogenRunOptions } from '../../pipeline/train-halogen.js';
import { runInWorker } from '../../util/worker.js';

export function register(program: Command): void {
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
    .option('--world-size <n>', 'data-parallel training over n processes (one per machine or per core group; Gloo over TCP); each runs this command with its own --rank', parsePositiveInteger, 1)
    .option('--rank <r>', 'with --world-size: this process\'s rank, 0 to n-1; rank 0 writes the run directory', parseNonNegativeInteger, 0)
    .option('--rendezvous <where>', 'with --world-size: where the ranks meet: HOST:PORT (a TCP store served by rank 0 on HOST, e.g. the first node of a Slurm job) or file:PATH (a new file on a file system all ranks share)', parseRendezvous)
    .option('--dp-timeout <s>', 'with --world-size: how long the rendezvous and each collective wait for the other ranks before the run fails, in seconds (raise it when ranks start far apart, e.g. nodes of a job that queue separately)', parsePositive, 600)
    .addOption(deviceOption())
    .option('--no-plot', 'skip the loss-curve PNG')
    .addOption(quietOption('the log file'))
    .action(async (o, cmd: Command) => {
      if (o.resume) refuseGiven(cmd, ['preset', 'batch', 'seed', 'force', 'init'], 'with --resume (the run continues with its own configuration and seeds; --epochs sets its new total)');
      if (o.init !== undefined) {
        refuseGiven(cmd, ['preset'], 'with --init (the run takes the preset of the model it starts from)');
        if (o.epochs === undefined || o.epochs < 1) throw new Error('--epochs: missing; with --init give the number of epochs of the new run (at least 1)');
      }
      if (o.worldSize === 1) refuseGiven(cmd, ['rank', 'rendezvous', 'dpTimeout'], 'without --world-size > 1');
      else if (o.rendezvous === undefined) throw new Error('--rendezvous: missing; expected HOST:PORT or file:PATH where the ' + o.worldSize + ' ranks meet');
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
        ...(o.worldSize > 1 ? { distributed: { rank: o.rank, worldSize: o.worldSize, rendezvous: o.rendezvous, timeoutMs: o.dpTimeout * 1000 } } : {}),
      } satisfies HalogenRunOptions);
      const m = res.meta;
      const how = res.stopped ? `stopped after ${m.epochsDone} of ${m.config.train.epochs} epochs (continue with --resume)` : `${m.epochsDone} epochs`;
      const best = m.bestVal === null ? 'no validation yet' : `best validation loss ${m.bestVal.toPrecision(5)} at epoch ${(m.bestEpoch ?? -1) + 1}`;
      process.stdout.write(`${o.out}${o.worldSize > 1 ? ` (rank ${o.rank} of ${o.worldSize})` : ''}: ${how}, ${best}\n`);
    });
}
