import type { Command } from 'commander';
import { reionizeSources } from '../../pipeline/sources-reionize.js';
import { SOURCE_MODELS } from '../../pipeline/sources-models.js';
import { GALAXY_BYTES_PER_HALO } from '../../io/galaxy-catalogue.js';
import { choice, commandLine, forceOption, listOf, parseAxis, parseRedshift, parseSeed, quietOption } from '../options.js';

/** `--galaxies`: `all`, or a comma-separated list of redshifts. */
function parseRedshiftsOrAll(value: string): number[] | 'all' {
  return value.trim().toLowerCase() === 'all' ? 'all' : listOf(parseRedshift)(value);
}

export function register(program: Command): void {
  program
    .command('reionize')
    .description(
      'Reionise the sampled sources of lodi sample-halos (21cmFAST-v4 model, Davies et al. 2025, Sec. 3-4): galaxy ' +
        'properties on every halo (correlated with their descendants), ionising photons gridded, the density evolved by 2LPT ' +
        'from the stored linear field, the excursion set with recombinations, and the saturated 21 cm signal. Writes coeval ' +
        'x_HI and dTb boxes per redshift (coeval/), history.csv, a dTb lightcone, the 21 cm power spectrum at the midpoint, ' +
        'the UV LF at z = 8, astro.json and reion.json (the parameters used), reionize.json (the run, with the cosmology and ' +
        'every parameter set), report.md and report.html; on request galaxy catalogues (galaxies.h5) and Δ²_21 and UV LFs ' +
        'at chosen redshifts.',
    )
    .requiredOption('--halos <dir>', 'sources directory written by lodi sample-halos')
    .requiredOption('--out <dir>', 'output directory')
    .option('--astro <file.json>', 'galaxy parameters (F_STAR10, ALPHA_STAR, F_ESC10, ...; docs/astro-galaxies.md, in the code\'s units); missing fields take the 21cmFAST defaults')
    .option('--reion <file.json>', 'reionisation parameters (filter, mfp [Mpc/h], rBubbleMaxMpc [Mpc], recombinations, ...; docs/astro-reionisation.md); default the 21cmFAST ones')
    .option('--seed <int>', 'seed of the galaxy scatter (default: the seed of the halos)', parseSeed)
    .option('--spin', 'inhomogeneous spin temperature (21cmFAST USE_TS_FLUCT): X-ray and Lyman-alpha backgrounds from the SFR and L_X of the galaxies (v3-default: of the CHMF of the filtered density) over the past lightcone, T_K, x_e and T_s per cell, the full 21 cm signal with its cosmic-dawn absorption trough (docs/astro-spin.md). Run lodi sample-halos with --zmax 35 for the whole cosmic dawn')
    .option('--spin-params <file.json>', 'spin-temperature parameters (zHeatMax, nStepTs, rMaxTsMpc, clumpingFactor, ...; docs/astro-spin.md); only with --spin')
    .option('--source-model <name>', `source model of Davies et al. 2025 Table 2: ${SOURCE_MODELS.join(', ')} (default: the galaxy parameters as given, which is v4-mean-norm with the 21cmFAST defaults; docs/astro-stochasticity.md)`)
    .option('--chmf-density <kind>', 'cell CHMF of chmf-on-grid (default eulerian) or of the halos below the sampler of a sampled model (default lagrangian): eulerian conditions on the evolved cell density times (1 + delta); lagrangian on the linear one, each cell\'s integrals moved to its Eulerian position by 2LPT (the code\'s set_fixed_grids)', choice(['eulerian', 'lagrangian'] as const))
    .option('--no-below-sampler', 'sampled models: leave out the halos below the sampler\'s minimum mass (by default their mean contribution, the cell CHMF from M_turn/50 up to that mass, is added as the public code does)')
    .option('--lightcone-axis <axis>', 'line of sight of the lightcone and of the velocity-gradient term: x, y or z (default z)', parseAxis)
    .option(
      '--galaxies <z,...|all>',
      'write OUT/galaxies.h5: the galaxy properties of every halo of the catalogues nearest these redshifts (or of all of them), ' +
        'one group per redshift aligned entry by entry with that catalogue of halos.h5: stellar mass [Msun], SFR [Msun/yr], ' +
        'metallicity [Z_sun], soft-band L_X (docs/astro-galaxies.md) [erg/s], f_esc, n_ion [photons], n_ion_dot [photons/s], L_UV [erg/s/Hz], ' +
        `M_UV [AB mag] and the scatter deviates, ${GALAXY_BYTES_PER_HALO} bytes per halo. Default: none (they follow from ` +
        'halos.h5, astro.json and the seed). Sampled source models only',
      parseRedshiftsOrAll,
    )
    .option(
      '--ps-z <z,...>',
      'also write the 21 cm power spectrum Δ²_21(k) of δT_b at the catalogue redshifts nearest these: OUT/ps21_z<z>.csv ' +
        '(k [h/Mpc], Δ² [mK^2], P [mK^2 (Mpc/h)^3], modes per bin) and OUT/ps21_redshifts.png with all of them ' +
        '(the spectrum at the midpoint, ps21_midpoint.csv, is always written)',
      listOf(parseRedshift),
    )
    .option(
      '--uvlf-z <z,...>',
      'also write the UV luminosity function at the catalogue redshifts nearest these: OUT/uvlf_z<z>.csv (M_UV bin centre ' +
        '[AB mag], φ sampled ± Poisson and analytic [Mpc^-3 mag^-1, no h], galaxies per bin) and OUT/uvlf_z<z>.png ' +
        '(the one at z ≈ 8, uvlf_z8.csv, is always written when in range). Sampled source models only',
      listOf(parseRedshift),
    )
    .addOption(quietOption('the log file'))
    .addOption(forceOption('the files of an existing output directory'))
    .addHelpText(
      'after',
      `
Units: lengths comoving Mpc/h, δT_b in mK, Δ²_21 in mK^2, k in h/Mpc, φ(M_UV) in Mpc^-3 mag^-1 (no h), galaxy
  masses in Msun (no h). Redshifts asked for with --galaxies, --ps-z and --uvlf-z go to the nearest catalogue redshift
  (<z> in the file names, three decimals); one more than half a sampler step outside the halos' range is refused.
Cost with the 21cmFAST defaults on a 100 Mpc/h, 64^3 box from z = 5 to 20 (64 redshifts, 46 million halos above
  1e9 Msun), measured on 2 shared cores: 550 s of CPU (11m46s wall), peak memory 2.6 GB: the excursion set takes
  about 5.6 s of CPU per redshift (about 40 filter radii, growing as N^3 log N), the galaxies about 3 CPU seconds per
  million halos, the halos below the sampler about 0.5 s per redshift; output about 150 MB.
Reproduce a run: lodi reionize --halos DIR --astro OUT/astro.json --reion OUT/reion.json --seed <seed of OUT/reionize.json>
  (and --no-below-sampler when its belowSampler is null)`,
    )
    .action(async (opts) => {
      const res = await reionizeSources({
        halos: opts.halos,
        out: opts.out,
        astroFile: opts.astro,
        reionFile: opts.reion,
        seed: opts.seed,
        lightconeAxis: opts.lightconeAxis ?? 2,
        spin: opts.spin === true,
        spinFile: opts.spinParams,
        sourceModel: opts.sourceModel,
        chmfDensity: opts.chmfDensity,
        belowSampler: opts.belowSampler !== false,
        galaxies: opts.galaxies,
        psRedshifts: opts.psZ,
        uvlfRedshifts: opts.uvlfZ,
        quiet: opts.quiet === true,
        force: opts.force === true,
        command: commandLine(),
      });
      const h = res.history;
      process.stdout.write(
        `${opts.out}: ${h.length} redshifts, <x_HI> = ${h[h.length - 1]!.xHI.toFixed(3)} at z = ${h[h.length - 1]!.z.toFixed(2)} to ${h[0]!.xHI.toFixed(3)} at z = ${h[0]!.z.toFixed(2)}` +
          (res.zEnd !== null ? `; below 0.01 from z = ${res.zEnd.toFixed(2)}` : '') + '\n',
      );
    });
}
