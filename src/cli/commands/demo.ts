import { join } from 'node:path';
import type { Command } from 'commander';
import { refuseGiven } from '../option-checks.js';
import { runDemo, runWorldDemo } from '../../pipeline/demo.js';
import { commandLine, deviceOption, precisionOption, parseBoxSize, parsePositiveInteger, parseRedshift, parseSeed, quietOption } from '../options.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'the main job on the bundled models (or --halogen/--lodi): build an unseen simulated world (DM, halos, T_b), run HALOgen -> LODI on its dark matter ' +
        '(3 T_b realisations with latent overlap, plus tiling and single-pass baselines), and evaluate them against the world\'s own T_b ' +
        '(report.html, metrics.json). About 10-15 minutes and under 3 GB on 2 cores. --world-only: just a world and its statistics.',
    )
    .option('--out <dir>', 'output directory (a new DIR-1, DIR-2, ... if it exists)', 'out/demo')
    .option('--particles <n>', 'particles (and grid cells) per side (the box keeps the LODI model\'s voxel: 0.195 Mpc/h for the bundled one)', parsePositiveInteger, 64)
    .option('--realizations <n>', 'T_b realisations', parsePositiveInteger, 3)
    .option('--seed <int>', 'seed of the world; not one of the worlds the models trained or validated on (MODELS.md lists the bundled ones; refused before anything runs)', parseSeed, 301)
    .option('--halogen <path>', 'HALOgen model (run directory or .safetensors; default: bundled)')
    .option('--lodi <path>', 'LODI model (run directory or .safetensors; default: bundled); the world is made at its voxel')
    .addOption(quietOption("each stage's log"))
    .addOption(deviceOption())
    .addOption(precisionOption())
    .option('--world-only', 'only build a world and show its statistics (no models)')
    .option('--box <Mpc/h>', 'with --world-only: box side in Mpc/h', parseBoxSize, 25)
    .option('--z <z>', 'with --world-only: redshift', parseRedshift, 1)
    .action(async (opts, cmd: Command) => {
      if (opts.worldOnly) refuseGiven(cmd, ['realizations', 'quiet', 'device', 'precision', 'halogen', 'lodi'], 'with --world-only (no models run)');
      else refuseGiven(cmd, ['box', 'z'], 'without --world-only (the models fix the voxel size and the redshift)');
      if (opts.worldOnly) {
        const out = await runWorldDemo({ out: opts.out, particles: opts.particles, box: opts.box, z: opts.z, seed: opts.seed });
        process.stdout.write(`demo: done. Open ${join(out, 'report.html')} (or report.md) for the plots and numbers.\n`);
        return;
      }
      const out = await runDemo({ out: opts.out, particles: opts.particles, seed: opts.seed, halogen: opts.halogen, lodi: opts.lodi, command: commandLine(), realizations: opts.realizations, quiet: opts.quiet === true, device: opts.device, precision: opts.precision });
      process.stdout.write(`demo: done. Open ${join(out, 'report', 'report.html')} (numbers in ${join(out, 'metrics.json')}).\n`);
    });
}
