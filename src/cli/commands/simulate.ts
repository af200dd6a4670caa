import type { Command } from 'commander';
import { simulateWorld } from '../../pipeline/simulate.js';
import { resolveCosmology } from '../cosmology.js';
import {
  commandLine,
  forceOption,
  parseBoxSize,
  parseNonNegative,
  parsePositive,
  parsePositiveInteger,
  parseRedshift,
  parseSeed,
  quietOption,
} from '../options.js';

export function register(program: Command): void {
  program
    .command('simulate')
    .description(
      'Build a simulated world: 2LPT initial conditions, particle-mesh N-body, FoF halos, HI painted on halos, ' +
        'and the prepared grids (dm.npy, halos.npy [4,N,N,N], hi.npy, tb.npy) with plots and a report',
    )
    .requiredOption('--out <dir>', 'output directory')
    .option('--box <Mpc/h>', 'box side in Mpc/h', parseBoxSize, 25)
    .option('--particles <n>', 'particles per side (n^3 particles)', parsePositiveInteger, 128)
    .option('--grid <n>', 'cells per side of the prepared grids (default: --particles)', parsePositiveInteger)
    .option('--z <z>', 'output redshift', parseRedshift, 0)
    .option('--seed <int>', 'seed of the initial conditions and of the HI painting', parseSeed, 7)
    .option('--steps <n>', 'particle-mesh steps (linear in a)', parsePositiveInteger, 20)
    .option('--z-init <z>', 'starting redshift of the 2LPT initial conditions', parseRedshift, 49)
    .option('--pm-factor <f>', 'force mesh cells per side / particles per side', parsePositive, 2)
    .option('--cosmo <file.json>', 'cosmology JSON (Omega_m, Omega_b, h, n_s, sigma8); default CAMELS CV')
    .option('--smoothing <Mpc/h>', 'Gaussian smoothing radius of the prepared grids (0 disables)', parseNonNegative, 0.2)
    .option('--hi-scatter <dex>', 'log-normal scatter of M_HI at fixed halo mass', parseNonNegative, 0.3)
    .option('--no-plots', 'skip the PNG plots and the report')
    .addOption(quietOption('the log file'))
    .addOption(forceOption('an existing world'))
    .action(async (opts) => {
      const mesh = Math.round(opts.particles * opts.pmFactor);
      if (mesh < 2) throw new Error(`--pm-factor ${opts.pmFactor} gives a ${mesh}^3 force mesh for ${opts.particles}^3 particles; it needs at least 2 cells per side`);
      const world = await simulateWorld({
        out: opts.out,
        boxSize: opts.box,
        particles: opts.particles,
        grid: opts.grid ?? opts.particles,
        redshift: opts.z,
        seed: opts.seed,
        steps: opts.steps,
        zInit: opts.zInit,
        pmFactor: opts.pmFactor,
        cosmo: resolveCosmology(opts.cosmo),
        smoothingR: opts.smoothing,
        hi: { scatterDex: opts.hiScatter },
        noPlots: opts.plots === false,
        quiet: opts.quiet === true,
        force: opts.force === true,
        command: commandLine(),
      });
      const total = Object.values(world.timings).reduce((a, b) => a + b, 0);
      process.stdout.write(`${opts.out}: ${world.halos.len.length} halos, ${world.hi.masses.length} HI particles, ${total.toFixed(1)} s\n`);
    });
}
