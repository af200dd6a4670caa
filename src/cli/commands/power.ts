import type { Command } from 'commander';
import type { MasCorrection } from '../../field/power.js';
import { runPower, type PowerRunOptions } from '../../pipeline/power.js';
import { choice, forceOption, parseAxis, parseBoxSize, parseNonNegativeInteger } from '../options.js';

export { runPower };
export type PowerCommandOptions = PowerRunOptions;

/** Mass-assignment windows, in any case on the command line (`cic` reads as `CIC`). */
const MAS: readonly MasCorrection[] = ['CIC', 'NGP', 'TSC', 'none'];

export function register(program: Command): void {
  program
    .command('power')
    .description(
      'power spectrum P(k) [(Mpc/h)^3] of a grid (.npy), or cross spectrum and r(k) of two grids, Pylians binning. ' +
        'A grid whose sidecar says it is a density becomes δ = ρ/ρ̄ − 1 (--raw keeps ρ); channels are numbered from 0.',
    )
    .argument('<grid>', 'input grid (.npy, [N,N,N] or [C,N,N,N]; box size from its JSON sidecar or --box)')
    .option('--cross <grid>', 'second grid: write P11, P22, P12 and r(k)')
    .option('--box <L>', 'box size in Mpc/h (required without a sidecar; must agree with it)', parseBoxSize)
    .option('--mas <scheme>', 'mass-assignment window to deconvolve: CIC, NGP, TSC or none', choice(MAS, { ignoreCase: true }), 'CIC' as MasCorrection)
    .option('--axis <axis>', 'line-of-sight axis for multipoles: x, y or z, or 0, 1, 2 (2 is z)', parseAxis, 2 as 0 | 1 | 2)
    .option('--multipoles', 'also write the quadrupole: column P2 (with --cross: P11_2, P22_2, P12_2)')
    .option('--channel <i>', 'channel of the first grid when it has several, e.g. halos.npy [4,N,N,N]: 0..C-1 (numbered from 0)', parseNonNegativeInteger)
    .option('--cross-channel <i>', 'channel of the --cross grid when it has several: 0..C-1 (numbered from 0)', parseNonNegativeInteger)
    .option('--overdensity', 'convert every grid to δ = x/x̄ − 1 (done by default for a density grid)')
    .option('--raw', 'use the values as stored, even for a density grid')
    .option('--out <csv>', 'output CSV (default: <grid>_pk.csv, or <grid>_xpk.csv with --cross)')
    .option('--plot <png>', 'also draw P(k) up to the Nyquist frequency (with --cross: and r(k)) as PNG')
    .addOption(forceOption('existing outputs'))
    .action(async (file: string, o: PowerRunOptions) => {
      const res = await runPower(file, o);
      for (const n of res.notes) process.stdout.write(`${n}\n`);
      process.stdout.write(`wrote ${res.rows} bins to ${res.csv}${o.plot ? ` and ${o.plot}` : ''}\n`);
    });
}
