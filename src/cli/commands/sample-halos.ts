import type { Command } from 'commander';
import { loadSamplerParams, sampleHalos } from '../../pipeline/sources.js';
import { resolveCosmology } from '../cosmology.js';
import { commandLine, forceOption, parseBoxSize, parsePositive, parsePositiveInteger, parseRedshift, parseSeed, quietOption } from '../options.js';

export function register(program: Command): void {
  program
    .command('sample-halos')
    .description(
      'Sample the halo field and its merger history with the 21cmFAST-v4 discrete source model (Davies et al. 2025, Sec. 2): ' +
        'Gaussian initial conditions, halos from conditional mass functions in every cell at the lowest redshift, progenitors ' +
        'backward in time in steps 1 + z -> 1.02 (1 + z), 2LPT positions. Writes DIR/halos.h5 (masses Msun/h, positions Mpc/h, ' +
        'descendant indices; its provenance attribute holds the cosmology and every resolved sampler parameter), DIR/linear_density.npy (+ .json; the z = 0 linear field, for lodi reionize), DIR/sources.json, ' +
        'DIR/hmf.png (sampled HMF vs Sheth-Tormen), DIR/report.md and DIR/sample-halos.log.',
    )
    .requiredOption('--out <dir>', 'output directory (the "sources directory" that lodi reionize --halos reads)')
    .option('--box <Mpc/h>', 'box side in comoving Mpc/h', parseBoxSize, 100)
    .option('--grid <n>', 'sampler cells per side (the code\'s HII_DIM); also the grid of lodi reionize. Cell side = box/grid', parsePositiveInteger, 64)
    .option('--hires <n>', 'fine initial-condition grid per cell and side (the code\'s DIM/HII_DIM); fine grid = grid x hires', parsePositiveInteger, 3)
    .option('--z <z>', 'lowest redshift (where the cells are sampled; the history runs backwards from it)', parseRedshift, 5.5)
    .option('--zmax <z>', 'highest redshift of the merger history', parseRedshift, 20)
    .option('--min-mass <Msun>', 'smallest halo mass kept, in Msun, no h (default 1e9; the public code uses 1e8)', parsePositive)
    .option('--seed <int>', 'seed of the initial conditions and of every sampler draw', parseSeed, 1)
    .option('--cosmo <file.json>', 'cosmology JSON (Omega_m, Omega_b, h, n_s, sigma8); default CAMELS CV')
    .option('--sampler <file.json>', 'sampler parameters other than the minimum mass (haloMassCorrection, zStepFactor, progenitorMethod, ...; docs/astro-sampler.md); default the public code\'s')
    .option('--no-plots', 'skip hmf.png')
    .addOption(quietOption('the log file'))
    .addOption(forceOption('the files of an existing output directory'))
    .addHelpText(
      'after',
      `
Units: lengths comoving Mpc/h; --min-mass in Msun (stored also in Msun/h in sources.json); halo masses in the files Msun/h.
Cost with the defaults (100 Mpc/h, 64^3 cells, fine grid 192^3, z 5.5-20 = 60 redshifts, 1e9 Msun), measured on 2 shared cores:
  35.6 million halos over all redshifts (2.36 million at z = 5.5), 71 s of CPU (1m45s wall), peak memory 2.6 GB,
  halos.h5 0.86 GB. Halo counts (and time, memory, file size) scale with the box volume and roughly as M_min^-0.9.
Example: lodi sample-halos --box 50 --grid 32 --z 6 --zmax 15 --min-mass 3e9 --seed 1 --out sources/s1`,
    )
    .action(async (opts) => {
      const res = await sampleHalos({
        out: opts.out,
        boxSize: opts.box,
        grid: opts.grid,
        hiresFactor: opts.hires,
        zLowest: opts.z,
        zMax: opts.zmax,
        minMassMsun: opts.minMass ?? 1e9,
        seed: opts.seed,
        cosmo: resolveCosmology(opts.cosmo),
        sampler: opts.sampler ? loadSamplerParams(opts.sampler) : undefined,
        noPlots: opts.plots === false,
        quiet: opts.quiet === true,
        force: opts.force === true,
        command: commandLine(),
      });
      const s = res.summary;
      const total = s.counts.reduce((a, b) => a + b, 0);
      process.stdout.write(`${opts.out}: ${s.counts[0]} halos at z = ${s.zLowest}, ${total} over ${s.redshifts.length} redshifts\n`);
    });
}
