import { InvalidArgumentError, type Command } from 'commander';
import { existsSync } from 'node:fs';
import { MASS_DEFINITIONS, type MassDefinition } from '../../io/index.js';
import { PAPER_MASS_BINS_MSUN } from '../../field/prepare.js';
import { runPrepare, type PrepareOptions } from '../../pipeline/prepare.js';

function parseIntArg(v: string): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return x;
}

function parseSmoothing(v: string): number {
  const x = Number(v);
  if (!(x >= 0) || !Number.isFinite(x)) throw new InvalidArgumentError(`smoothing radius must be >= 0 Mpc/h, got "${v}"`);
  return x;
}

function parseEdges(v: string): number[] {
  const e = v.split(',').map((s) => (/^(inf|infinity|max)$/i.test(s.trim()) ? Infinity : Number(s)));
  if (e.length < 2 || e.some((x) => Number.isNaN(x) || x <= 0)) throw new InvalidArgumentError(`mass bins must be comma-separated positive edges (last may be inf), got "${v}"`);
  if (e.some((x, i) => i > 0 && !(x > e[i - 1]!))) throw new InvalidArgumentError(`mass-bin edges must increase, got "${v}"`);
  return e;
}

function parseUnit(v: string): 'Msun' | 'Msun/h' {
  if (v === 'Msun' || v === 'Msun/h') return v;
  throw new InvalidArgumentError(`mass unit must be Msun or Msun/h, got "${v}"`);
}

function parseDef(v: string): MassDefinition {
  if (v in MASS_DEFINITIONS) return v as MassDefinition;
  throw new InvalidArgumentError(`unknown mass definition "${v}" (use ${Object.keys(MASS_DEFINITIONS).join(', ')})`);
}

export function register(program: Command): void {
  program
    .command('prepare')
    .description('LODI training grids from a Gadget/AREPO HDF5 snapshot and its group catalogue: dm, halos [4,N,N,N], hi, tb (.npy + sidecars)')
    .requiredOption('--snapshot <file>', 'snapshot (snap_033.hdf5 or the first piece snap_033.0.hdf5)')
    .option('--groups <file>', 'FoF/Subfind catalogue (halos.npy is only written with it)')
    .option('--grid <N>', 'cells per side', parseIntArg, 256)
    .requiredOption('--out <dir>', 'output folder')
    .option('--smoothing <R>', 'Gaussian smoothing radius in Mpc/h (0 disables)', parseSmoothing, 0.2)
    .option('--mass-bins <edges>', `halo mass-bin edges, comma-separated, last may be inf (default ${PAPER_MASS_BINS_MSUN.join(',')})`, parseEdges)
    .option('--mass-unit <unit>', 'unit of the mass-bin edges: Msun (as in the paper) or Msun/h', parseUnit, 'Msun' as const)
    .option('--mass-definition <def>', `halo mass: ${Object.keys(MASS_DEFINITIONS).join(', ')}`, parseDef, 'fof' as MassDefinition)
    .option('--halos <kind>', 'halo positions and masses from FoF groups or Subfind subhalos', (v: string) => {
      if (v !== 'groups' && v !== 'subhalos') throw new InvalidArgumentError(`--halos must be groups or subhalos, got "${v}"`);
      return v;
    }, 'groups')
    .option('--chunk <n>', 'particles read and painted per chunk', parseIntArg, 1 << 20)
    .option('--no-plots', 'skip the PNG slices and the P(k) plot')
    .option('--force', 'overwrite existing outputs')
    .action(async (o: PrepareOptions) => {
      if (!existsSync(o.snapshot) && !existsSync(o.snapshot.replace(/\.hdf5$/, '.0.hdf5'))) throw new Error(`${o.snapshot}: no such snapshot`);
      const res = await runPrepare({ ...o, command: `lodi prepare ${process.argv.slice(3).join(' ')}`.trim() });
      const m = res.grids.meta;
      process.stdout.write(`wrote dm, ${res.grids.halos ? 'halos, ' : ''}${res.grids.hi ? 'hi, tb, ' : ''}report.md to ${res.dir} (N=${m.grid}, L=${m.boxSize} Mpc/h, z=${m.redshift.toFixed(4)}, M_HI=${m.totals.hi.toExponential(4)} Msun/h)\n`);
    });
}
