/**
 * The cosmology and linear power spectrum of the commands that need one (linear-power, hmf, simulate,
 * sample-halos): `--cosmo`, and the shared `--transfer` / `--pk-table` / `--pk-renormalize` options.
 */
import type { Command } from 'commander';
import { CAMELS_CV, loadCosmology, type Cosmology } from '../cosmo/params.js';
import { LinearPower, PowerSpectrumTable } from '../cosmo/power.js';
import { TRANSFER_MODELS, type TransferModel } from '../cosmo/transfer.js';
import { choice } from './options.js';

/** Options shared by commands that need a linear power spectrum. */
export interface PowerSourceOptions {
  /** Cosmology JSON file (default: CAMELS CV set). */
  cosmo?: string;
  /** Transfer function (default `eh`); an error together with `pkTable`. */
  transfer?: TransferModel;
  /** Two-column z = 0 P(k) table [h/Mpc, (Mpc/h)^3] used instead of the transfer function. */
  pkTable?: string;
  /** Rescale the table to the cosmology's sigma8 (default: keep the table's amplitude). */
  pkRenormalize?: boolean;
}

/** Loads the cosmology of `--cosmo`, or the CAMELS CV default. */
export function resolveCosmology(path?: string): Cosmology {
  return path ? loadCosmology(path) : CAMELS_CV;
}

/**
 * Builds the linear power spectrum selected by the shared options. Throws when options that exclude each
 * other are combined (`--transfer` with `--pk-table`, `--pk-renormalize` without it).
 */
export function buildLinearPower(cosmo: Cosmology, opts: PowerSourceOptions): LinearPower {
  if (opts.pkTable && opts.transfer !== undefined) {
    throw new Error(`--transfer ${opts.transfer} and --pk-table ${opts.pkTable} exclude each other: the table replaces the transfer function`);
  }
  if (opts.pkRenormalize && !opts.pkTable) {
    throw new Error('--pk-renormalize rescales a --pk-table spectrum; without a table the spectrum is already normalised to the cosmology sigma8');
  }
  if (opts.pkTable) {
    return new LinearPower(cosmo, { table: PowerSpectrumTable.load(opts.pkTable), renormalize: opts.pkRenormalize === true });
  }
  return new LinearPower(cosmo, { transfer: opts.transfer ?? 'eh' });
}

/** Adds the shared power-spectrum options to a command. */
export function addPowerSourceOptions(cmd: Command): Command {
  return cmd
    .option('--cosmo <file>', 'cosmology JSON (Omega_m, Omega_b, h, n_s, sigma8[, T_cmb, Omega_r]); default CAMELS CV')
    .option('--transfer <model>', `transfer function: ${TRANSFER_MODELS.join(', ')} (default eh; not with --pk-table)`, choice(TRANSFER_MODELS))
    .option(
      '--pk-table <file>',
      'z = 0 linear P(k) table: columns k [h/Mpc], P [(Mpc/h)^3]; replaces the transfer function. Beyond its last row it is continued ' +
        'as P ∝ k^b ln²(k/k_s) fitted to its last 0.2 dex, with a warning when a result reaches past it',
    )
    .option('--pk-renormalize', 'rescale the --pk-table spectrum to the cosmology sigma8 (default: keep its amplitude)');
}
