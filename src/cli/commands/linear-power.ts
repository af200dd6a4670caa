import type { Command } from 'commander';
import { assertWritable, writeFileAtomic } from '../../util/atomic.js';
import { addPowerSourceOptions, buildLinearPower, resolveCosmology, type PowerSourceOptions } from '../cosmology.js';
import { checkRange, logSpace } from '../log-grid.js';
import { forceOption, parsePositive, parsePositiveInteger, parseRedshift } from '../options.js';

export interface LinearPowerCommandOptions extends PowerSourceOptions {
  z: number;
  kmin: number;
  kmax: number;
  n: number;
  out: string;
  force?: boolean;
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

export function register(program: Command): void {
  const cmd = program
    .command('linear-power')
    .description('linear matter power spectrum P(k, z) as CSV: k [h/Mpc], Pk [(Mpc/h)^3]');
  addPowerSourceOptions(cmd)
    .option('--z <z>', 'redshift', parseRedshift, 0)
    .option('--kmin <k>', 'smallest k [h/Mpc]', parsePositive, 1e-3)
    .option('--kmax <k>', 'largest k [h/Mpc]', parsePositive, 10)
    .option('--n <n>', 'number of log-spaced k values', parsePositiveInteger, 200)
    .requiredOption('--out <file>', 'output CSV')
    .addOption(forceOption('an existing output'))
    .action((o: LinearPowerCommandOptions) => {
      const res = runLinearPower(o);
      if (res.warning) process.stderr.write(`linear-power: warning: ${res.warning}\n`);
      process.stdout.write(`wrote ${res.rows} rows to ${res.path}\n`);
    });
}
