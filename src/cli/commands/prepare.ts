import { InvalidArgumentError, type Command } from 'commander';
import { MASS_DEFINITIONS, type LengthUnit, type MassDefinition } from '../../io/index.js';
import { loadCosmology } from '../../cosmo/params.js';
import { PAPER_MASS_BINS_MSUN } from '../../field/prepare.js';
import { runPrepare, type PrepareOptions } from '../../pipeline/prepare.js';
import { remedyAction } from '../remedy.js';

function parseIntArg(v: string): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return x;
}

function parseSmoothing(v: string): number {
  const x = Number(v);
  if (!(x >= 0) || !Number.isFinite(x))
    throw new InvalidArgumentError(`smoothing radius must be >= 0 Mpc/h, got "${v}"`);
  return x;
}

function parseEdges(v: string): number[] {
  const e = v.split(',').map((s) => (/^(inf|infinity|max)$/i.test(s.trim()) ? Infinity : Number(s)));
  if (e.length < 2 || e.some((x) => Number.isNaN(x) || x <= 0))
    throw new InvalidArgumentError(`mass bins must be comma-separated positive edges (last may be inf), got "${v}"`);
  if (e.some((x, i) => i > 0 && !(x > e[i - 1]!)))
    throw new InvalidArgumentError(`mass-bin edges must increase, got "${v}"`);
  return e;
}

function parseUnit(v: string): 'Msun' | 'Msun/h' {
  if (v === 'Msun' || v === 'Msun/h') return v;
  throw new InvalidArgumentError(`mass unit must be Msun or Msun/h, got "${v}"`);
}

export function parseLengthUnit(v: string): LengthUnit {
  if (v === 'kpc/h' || v === 'Mpc/h') return v;
  throw new InvalidArgumentError(`length unit must be kpc/h or Mpc/h, got "${v}"`);
}

export function parseBox(v: string): number {
  const x = Number(v);
  if (!(x > 0) || !Number.isFinite(x))
    throw new InvalidArgumentError(`box size must be a positive number of Mpc/h, got "${v}"`);
  return x;
}

function parseDef(v: string): MassDefinition {
  if (v in MASS_DEFINITIONS) return v as MassDefinition;
  throw new InvalidArgumentError(`unknown mass definition "${v}" (use ${Object.keys(MASS_DEFINITIONS).join(', ')})`);
}

/** Flags of `lodi prepare` that fix each kind of reader error. */
const PREPARE_REMEDIES = {
  'box-size': 'pass --box <Mpc/h>',
  'length-unit': 'check --length-unit (kpc/h or Mpc/h) and --box',
  cosmology: 'pass --cosmo <file.json>',
} as const;

export function register(program: Command): void {
  program
    .command('prepare')
    .description(
      'LODI training grids from a snapshot (Gadget/AREPO/GADGET-4 HDF5, or Gadget binary format 1/2) and its FoF/Subfind catalogue: ' +
        'dm, halos [4,N,N,N], hi, tb (.npy + sidecars); grids that cannot be made are skipped and listed',
    )
    .requiredOption(
      '--snapshot <path>',
      'snapshot: a file, any piece (snap_033.0.hdf5) or the base name (snap_033, as in Pylians); format read from the file',
    )
    .option('--groups <path>', 'FoF/Subfind catalogue (file, piece or base name; halos.npy is only written with it)')
    .option('--grid <N>', 'cells per side', parseIntArg, 256)
    .requiredOption('--out <dir>', 'output folder')
    .option('--smoothing <R>', 'Gaussian smoothing radius in Mpc/h (0 disables)', parseSmoothing, 0.2)
    .option(
      '--mass-bins <edges>',
      `halo mass-bin edges, comma-separated, last may be inf (default ${PAPER_MASS_BINS_MSUN.join(',')})`,
      parseEdges,
    )
    .option(
      '--mass-unit <unit>',
      'unit of the mass-bin edges: Msun (as in the paper) or Msun/h',
      parseUnit,
      'Msun' as const,
    )
    .option(
      '--mass-definition <def>',
      `halo mass: ${Object.keys(MASS_DEFINITIONS).join(', ')}`,
      parseDef,
      'fof' as MassDefinition,
    )
    .option(
      '--halos <kind>',
      'halo positions and masses from FoF groups or Subfind subhalos',
      (v: string) => {
        if (v !== 'groups' && v !== 'subhalos')
          throw new InvalidArgumentError(`--halos must be groups or subhalos, got "${v}"`);
        return v;
      },
      'groups',
    )
    .option(
      '--length-unit <unit>',
      'length unit of inputs without UnitLength_in_cm: kpc/h or Mpc/h (default: guessed from the box size, and recorded)',
      parseLengthUnit,
    )
    .option(
      '--box <Mpc/h>',
      'box size in Mpc/h, for binary snapshots whose header BoxSize is 0 (initial conditions)',
      parseBox,
    )
    .option(
      '--cosmo <file.json>',
      'cosmology JSON (Omega_m, Omega_b, h, n_s, sigma8) for snapshots whose header has none (h or Omega0 of 0); must agree with one that has',
    )
    .option('--chunk <n>', 'particles read and painted per chunk', parseIntArg, 1 << 20)
    .option('--no-plots', 'skip the PNG slices and the P(k) plot')
    .option('--quiet', 'no progress lines (the log file is still written)')
    .option('--force', 'overwrite existing outputs')
    .action(
      remedyAction(PREPARE_REMEDIES, async (o: PrepareOptions & { cosmo?: string }) => {
        const { cosmo, ...rest } = o;
        const cosmology = cosmo !== undefined ? loadCosmology(cosmo) : undefined;
        const res = await runPrepare({
          ...rest,
          ...(cosmology ? { cosmology } : {}),
          command: `lodi prepare ${process.argv.slice(3).join(' ')}`.trim(),
        });
        for (const line of res.notes) process.stderr.write(`note: ${line}\n`);
        for (const line of res.skipped) process.stderr.write(`skipped: ${line}\n`);
        const m = res.grids.meta;
        const made = ['dm', ...(res.grids.halos ? ['halos'] : []), ...(res.grids.hi ? ['hi', 'tb'] : [])].join(', ');
        const halos = res.haloCount !== undefined ? `, ${res.haloCount} ${o.halos}` : '';
        process.stdout.write(
          `wrote ${made}, report.md to ${res.dir} (N=${m.grid}, L=${m.boxSize} Mpc/h, z=${m.redshift.toFixed(4)}${halos}${res.grids.hi ? `, M_HI=${m.totals.hi.toExponential(4)} Msun/h` : ''})\n`,
        );
      }),
    );
}
