import type { Command } from 'commander';
import { stochasticity } from '../../pipeline/stochasticity.js';
import { SOURCE_MODELS } from '../../pipeline/sources-models.js';
import { SCATTER_BOOST_MODES, type ScatterBoostMode } from '../../astro/galaxy/scatter-variants.js';
import { choice, commandLine, forceOption, listOf, parseList, parseNonNegative, parseSeed, quietOption } from '../options.js';

export function register(program: Command): void {
  program
    .command('stochasticity')
    .description(
      'The stochasticity study of Davies et al. 2025 (Sec. 6, Table 2, Fig. 9-11) on the sources of lodi sample-halos: runs ' +
        'lodi reionize with each source model into <out>/<model>/ and writes one report with the global histories, the 21 cm ' +
        'power spectra at the EoR midpoint (and with --spin where <dTb> = 0 and at the absorption trough) of all models, and the UV LF at z = 8 for scatter ' +
        'boosts x0, x1, x2, x3 with mean-normalised and median relations.',
    )
    .requiredOption('--halos <dir>', 'sources directory written by lodi sample-halos')
    .requiredOption('--out <dir>', 'output directory')
    .option('--models <a,b,...>', `source models to run (default all: ${SOURCE_MODELS.join(', ')}); docs/astro-stochasticity.md`, parseList)
    .option('--spin', 'inhomogeneous spin temperature in every run (lodi reionize --spin), adds the spectra where <dTb> = 0 and at the absorption trough')
    .option('--astro <file.json>', 'galaxy parameters (as lodi reionize --astro)')
    .option('--reion <file.json>', 'reionisation parameters (as lodi reionize --reion)')
    .option('--spin-params <file.json>', 'spin-temperature parameters; only with --spin')
    .option('--seed <int>', 'seed of the galaxy scatter (default: the seed of the halos)', parseSeed)
    .option('--no-below-sampler', 'sampled models: leave out the mean contribution of the halos below the sampler\'s minimum mass (as lodi reionize --no-below-sampler)')
    .option('--boosts <a,b,...>', 'scatter boosts of the UV LFs, each >= 0 (default 0,1,2,3)', listOf(parseNonNegative))
    .option('--boost-mode <mode>', 'add-log: sigma -> sigma + log10 Y (the paper, default); multiply: sigma -> Y sigma', choice<ScatterBoostMode>(SCATTER_BOOST_MODES))
    .addOption(quietOption('the log file'))
    .addOption(forceOption('the files of an existing output directory'))
    .addHelpText('after', `
Units: lengths comoving Mpc/h, dTb in mK, phi(M_UV) in Mpc^-3 mag^-1 (no h).
Cost: one lodi reionize per model (chmf-on-grid draws no galaxies); measured for a 32^3, 64 Mpc/h box to z = 12 with
  all five models and no --spin: see docs/astro-stochasticity.md.`)
    .action(async (opts) => {
      const res = await stochasticity({
        halos: opts.halos,
        out: opts.out,
        models: opts.models,
        spin: opts.spin === true,
        astroFile: opts.astro,
        reionFile: opts.reion,
        belowSampler: opts.belowSampler !== false,
        spinFile: opts.spinParams,
        seed: opts.seed,
        boosts: opts.boosts,
        boostMode: opts.boostMode,
        quiet: opts.quiet === true,
        force: opts.force === true,
        command: commandLine(),
      });
      for (const r of res.runs) process.stdout.write(`${r.model}: midpoint z = ${r.midpoint.z.toFixed(2)} (<x_HI> = ${r.midpoint.xHI.toFixed(3)}), ${r.wallSeconds.toFixed(1)} s\n`);
      process.stdout.write(`${opts.out}/report.html\n`);
    });
}
