import { InvalidArgumentError, type Command } from 'commander';
import { CAMELS_CV, loadCosmology, type Cosmology } from '../../cosmo/params.js';
import { LinearPower, PowerSpectrumTable } from '../../cosmo/power.js';
import { TRANSFER_MODELS, type TransferModel } from '../../cosmo/transfer.js';
import { assertWritable, writeFileAtomic } from '../../util/atomic.js';

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

export interface LinearPowerCommandOptions extends PowerSourceOptions {
  z: number;
  kmin: number;
  kmax: number;
  n: number;
  out: string;
  force?: boolean;
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

/** `n` log-spaced values from lo to hi inclusive. */
export function logSpace(lo: number, hi: number, n: number): number[] {
  if (n === 1) return [lo];
  const a = Math.log(lo);
  const b = Math.log(hi);
  return Array.from({ length: n }, (_, i) => Math.exp(a + ((b - a) * i) / (n - 1)));
}

export function checkRange(lo: number, hi: number, n: number, what: string, names: [string, string] = ['min', 'max']): void {
  if (!(lo > 0) || !(hi > lo)) throw new Error(`${what}: need 0 < ${names[0]} < ${names[1]}, got ${names[0]} ${lo} and ${names[1]} ${hi}`);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: the number of points must be a positive integer, got ${n}`);
}

/**
 * Computes the linear P(k, z) on a log k grid and writes `k,Pk` CSV (k in h/Mpc, P in (Mpc/h)^3). `warning`:
 * set when the values reach past a `--pk-table` (LinearPower.extrapolationWarning).
 */
export function runLinearPower(opts: LinearPowerCommandOptions): { path: string; rows: number; warning?: string } {
  checkRange(opts.kmin, opts.kmax, opts.n, 'linear-power', ['--kmin', '--kmax']);
  if (!(opts.z > -1)) throw new Error(`linear-power: redshift must be > -1, got ${opts.z}`);
  assertWritable(opts.out, opts.force === true);
  const lp = buildLinearPower(resolveCosmology(opts.cosmo), opts);
  const ks = logSpace(opts.kmin, opts.kmax, opts.n);
  const lines = ['k,Pk'];
  for (const k of ks) lines.push(`${k.toExponential(9)},${lp.P(k, opts.z).toExponential(9)}`);
  writeFileAtomic(opts.out, lines.join('\n') + '\n', { force: opts.force === true });
  return { path: opts.out, rows: ks.length, warning: lp.extrapolationWarning() };
}

export function parseNumber(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x)) throw new InvalidArgumentError(`not a number: "${value}"`);
  return x;
}

/** A number > 0 (box sizes, factors). */
export function parsePositive(value: string): number {
  const x = parseNumber(value);
  if (!(x > 0)) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return x;
}

/** A number >= 0 (smoothing radii, scatters). */
export function parseNonNegative(value: string): number {
  const x = parseNumber(value);
  if (!(x >= 0)) throw new InvalidArgumentError(`expected a number >= 0, got "${value}"`);
  return x;
}

/** A redshift, > -1. */
export function parseRedshift(value: string): number {
  const x = parseNumber(value);
  if (!(x > -1)) throw new InvalidArgumentError(`redshift must be > -1, got "${value}"`);
  return x;
}

/** A seed: an integer >= 0. */
export function parseSeed(value: string): number {
  const x = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(x) || x < 0) throw new InvalidArgumentError(`not a non-negative integer seed: "${value}"`);
  return x;
}

export function parseInteger(value: string): number {
  const x = parseNumber(value);
  if (!Number.isInteger(x) || x < 1) throw new InvalidArgumentError(`not a positive integer: "${value}"`);
  return x;
}

export function parseTransfer(value: string): TransferModel {
  if (!(TRANSFER_MODELS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`unknown transfer function "${value}" (use ${TRANSFER_MODELS.join(', ')})`);
  }
  return value as TransferModel;
}

/** Adds the shared power-spectrum options to a command. */
export function addPowerSourceOptions(cmd: Command): Command {
  return cmd
    .option('--cosmo <file>', 'cosmology JSON (Omega_m, Omega_b, h, n_s, sigma8[, T_cmb, Omega_r]); default CAMELS CV')
    .option('--transfer <model>', `transfer function: ${TRANSFER_MODELS.join(', ')} (default eh; not with --pk-table)`, parseTransfer)
    .option(
      '--pk-table <file>',
      'z = 0 linear P(k) table: columns k [h/Mpc], P [(Mpc/h)^3]; replaces the transfer function. Beyond its last row it is continued ' +
        'as P ∝ k^b ln²(k/k_s) fitted to its last 0.2 dex, with a warning when a result reaches past it',
    )
    .option('--pk-renormalize', 'rescale the --pk-table spectrum to the cosmology sigma8 (default: keep its amplitude)');
}

export function register(program: Command): void {
  const cmd = program
    .command('linear-power')
    .description('linear matter power spectrum P(k, z) as CSV: k [h/Mpc], Pk [(Mpc/h)^3]');
  addPowerSourceOptions(cmd)
    .option('--z <z>', 'redshift', parseNumber, 0)
    .option('--kmin <k>', 'smallest k [h/Mpc]', parseNumber, 1e-3)
    .option('--kmax <k>', 'largest k [h/Mpc]', parseNumber, 10)
    .option('--n <n>', 'number of log-spaced k values', parseInteger, 200)
    .requiredOption('--out <file>', 'output CSV')
    .option('--force', 'overwrite an existing output')
    .action((o: LinearPowerCommandOptions) => {
      const res = runLinearPower(o);
      if (res.warning) process.stderr.write(`linear-power: warning: ${res.warning}\n`);
      process.stdout.write(`wrote ${res.rows} rows to ${res.path}\n`);
    });
}
