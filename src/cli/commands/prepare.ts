import { InvalidArgumentError, type Command } from 'commander';
import { MASS_DEFINITIONS, type MassDefinition } from '../../io/index.js';
import { loadCosmology } from '../../cosmo/params.js';
import { PAPER_MASS_BINS_MSUN } from '../../field/prepare.js';
import { runPrepare, type PrepareOptions } from '../../pipeline/prepare.js';
import { remedyAction } from '../remedy.js';
import {
  choice,
  commandLine,
  forceOption,
  listOf,
  parseBoxSize,
  parseLengthUnit,
  parseNonNegative,
  parsePositive,
  parsePositiveInteger,
  quietOption,
} from '../options.js';

/** One mass-bin edge: a mass > 0, or `inf` (also `infinity`, `max`) for an open last bin. */
function parseEdge(v: string): number {
  if (/^(inf|infinity|max)$/i.test(v)) return Infinity;
  try {
    return parsePositive(v);
  } catch {
    throw new InvalidArgumentError(`expected a mass-bin edge > 0 or inf, got ${JSON.stringify(v)}`);
  }
}

/** `--mass-bins`: at least two increasing edges, e.g. `1e10,1e11,inf`. */
function parseEdges(v: string): number[] {
  const e = listOf(parseEdge)(v);
  if (e.length < 2) throw new InvalidArgumentError(`expected at least two mass-bin edges, got ${JSON.stringify(v)}`);
  if (e.some((x, i) => i > 0 && !(x > e[i - 1]!))) throw new InvalidArgumentError(`expected increasing mass-bin edges, got ${JSON.stringify(v)}`);
  return e;
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
    .option('--grid <N>', 'cells per side', parsePositiveInteger, 256)
    .requiredOption('--out <dir>', 'output folder')
    .option('--smoothing <R>', 'Gaussian smoothing radius in Mpc/h (0 disables)', parseNonNegative, 0.2)
    .option(
      '--mass-bins <edges>',
      `halo mass-bin edges, comma-separated, last may be inf (default ${PAPER_MASS_BINS_MSUN.join(',')})`,
      parseEdges,
    )
    .option(
      '--mass-unit <unit>',
      'unit of the mass-bin edges: Msun (as in the paper) or Msun/h',
      choice(['Msun', 'Msun/h'] as const),
      'Msun' as const,
    )
    .option(
      '--mass-definition <def>',
      `halo mass: ${Object.keys(MASS_DEFINITIONS).join(', ')}`,
      choice(Object.keys(MASS_DEFINITIONS) as MassDefinition[]),
      'fof' as MassDefinition,
    )
    .option(
      '--halos <kind>',
      'halo positions and masses from FoF groups or Subfind subhalos',
      choice(['groups', 'subhalos'] as const),
      'groups' as const,
    )
    .option(
      '--length-unit <unit>',
      'length unit of inputs without UnitLength_in_cm: kpc/h or Mpc/h (default: guessed from the box size, and recorded)',
      parseLengthUnit,
    )
    .option(
      '--box <Mpc/h>',
      'box size in Mpc/h, for binary snapshots whose header BoxSize is 0 (initial conditions)',
      parseBoxSize,
    )
    .option(
      '--cosmo <file.json>',
      'cosmology JSON (Omega_m, Omega_b, h, n_s, sigma8) for snapshots whose header has none (h or Omega0 of 0); must agree with one that has',
    )
    .option('--chunk <n>', 'particles read and painted per chunk', parsePositiveInteger, 1 << 20)
    .option('--no-plots', 'skip the PNG slices and the P(k) plot')
    .addOption(quietOption('prepare.log'))
    .addOption(forceOption('existing outputs'))
    .action(
      remedyAction(PREPARE_REMEDIES, async (o: PrepareOptions & { cosmo?: string }) => {
        const { cosmo, ...rest } = o;
        const cosmology = cosmo !== undefined ? loadCosmology(cosmo) : undefined;
        const res = await runPrepare({
          ...rest,
          ...(cosmology ? { cosmology } : {}),
          command: commandLine(),
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
