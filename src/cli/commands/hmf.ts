import type { Command } from 'commander';
import { DELTA_C, MASS_FUNCTION_MODELS, dndlog10M, type MassFunctionModel } from '../../cosmo/massfunction.js';
import { SigmaM } from '../../cosmo/sigma.js';
import { assertWritable, writeFileAtomic } from '../../util/atomic.js';
import { addPowerSourceOptions, buildLinearPower, resolveCosmology, type PowerSourceOptions } from '../cosmology.js';
import { checkRange, logSpace } from '../log-grid.js';
import { choice, forceOption, parsePositive, parsePositiveInteger, parseRedshift } from '../options.js';

export interface HmfCommandOptions extends PowerSourceOptions {
  z: number;
  model: MassFunctionModel;
  mmin: number;
  mmax: number;
  n: number;
  deltaC?: number;
  out: string;
  force?: boolean;
}

/**
 * Computes dn/dlog10M on a log mass grid and writes `M,dndlog10M,sigma` CSV (Msun/h, (h/Mpc)^3). `warning`:
 * set when sigma(M) at the masses asked for reaches past a `--pk-table` (LinearPower.extrapolationWarning).
 */
export function runHmf(opts: HmfCommandOptions): { path: string; rows: number; warning?: string } {
  checkRange(opts.mmin, opts.mmax, opts.n, 'hmf', ['--mmin', '--mmax']);
  if (!(opts.z > -1)) throw new Error(`hmf: redshift must be > -1, got ${opts.z}`);
  if (!(MASS_FUNCTION_MODELS as readonly string[]).includes(opts.model)) {
    throw new Error(`hmf: unknown model "${opts.model}" (use ${MASS_FUNCTION_MODELS.join(', ')})`);
  }
  const deltaC = opts.deltaC ?? DELTA_C;
  if (!(deltaC > 0)) throw new Error(`hmf: delta_c must be > 0, got ${deltaC}`);
  assertWritable(opts.out, opts.force === true);
  const lp = buildLinearPower(resolveCosmology(opts.cosmo), opts);
  const lo = Math.min(0, Math.floor(Math.log10(opts.mmin)));
  const hi = Math.max(18, Math.ceil(Math.log10(opts.mmax)));
  const sig = new SigmaM(lp, { log10Mmin: lo, log10Mmax: hi });
  const lines = ['M,dndlog10M,sigma'];
  const Ms = logSpace(opts.mmin, opts.mmax, opts.n);
  for (const M of Ms) {
    const n = dndlog10M(sig, M, opts.z, { model: opts.model, deltaC });
    lines.push(`${M.toExponential(9)},${n.toExponential(9)},${sig.sigma(M, opts.z).toExponential(9)}`);
  }
  writeFileAtomic(opts.out, lines.join('\n') + '\n', { force: opts.force === true });
  return { path: opts.out, rows: Ms.length, warning: lp.extrapolationWarning() };
}

export function register(program: Command): void {
  const cmd = program
    .command('hmf')
    .description('halo mass function as CSV: M [Msun/h], dndlog10M [(h/Mpc)^3], sigma(M, z)');
  addPowerSourceOptions(cmd)
    .option('--z <z>', 'redshift', parseRedshift, 0)
    .option('--model <model>', 'mass function: st (Sheth-Tormen) or ps (Press-Schechter)', choice(MASS_FUNCTION_MODELS), 'st' as MassFunctionModel)
    .option('--mmin <M>', 'smallest mass [Msun/h]', parsePositive, 1e8)
    .option('--mmax <M>', 'largest mass [Msun/h]', parsePositive, 1e16)
    .option('--n <n>', 'number of log-spaced masses', parsePositiveInteger, 200)
    .option('--delta-c <dc>', `linear collapse threshold (default ${DELTA_C})`, parsePositive)
    .requiredOption('--out <file>', 'output CSV')
    .addOption(forceOption('an existing output'))
    .action((o: HmfCommandOptions) => {
      const res = runHmf(o);
      if (res.warning) process.stderr.write(`hmf: warning: ${res.warning}\n`);
      process.stdout.write(`wrote ${res.rows} rows to ${res.path}\n`);
    });
}
