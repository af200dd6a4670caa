/**
 * `lodi prepare`: a snapshot (+ group catalogue) → a world directory (io/world.ts) with the LODI grids,
 * slices, a P(k) plot and report.md.
 *
 * Inputs are opened and checked before anything is written: the snapshot (any format the shared
 * resolver recognises: HDF5, Gadget binary format 1 or 2; a file, a piece or a base name), the whole
 * group catalogue, and which gas fields exist. Grids that cannot be made (no gas, or gas without
 * NeutralHydrogenAbundance/StarFormationRate) are skipped and the report says why; the others are
 * still written. Particle data are only read while painting, so a bad value found then (a NaN
 * coordinate, say) fails the run, and everything this run created is removed (outputs.ts).
 */
import { join } from 'node:path';
import {
  openSnapshot,
  readFofCatalogue,
  sidecarPath,
  WORLD_JSON,
  WORLD_MEMBERS,
  WORLD_MEMBER_NAMES,
  LodiIOError,
  type FofCatalogue,
  type GadgetField,
  type LengthUnit,
  type MassBins,
  type MassDefinition,
  type Snapshot,
} from '../io/index.js';
import { assertWritable } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import {
  prepareGrids,
  PAPER_MASS_BINS_MSUN,
  type DmParticles,
  type GasParticles,
  type PreparedGrids,
} from '../field/prepare.js';
import { withOutputGuard } from './outputs.js';
import { writePrepared } from './prepare-write.js';

export interface PrepareOptions {
  snapshot: string;
  groups?: string;
  grid: number;
  out: string;
  smoothing: number;
  massBins?: number[];
  massUnit: 'Msun' | 'Msun/h';
  massDefinition: MassDefinition;
  halos: 'groups' | 'subhalos';
  chunk: number;
  plots: boolean;
  force?: boolean;
  /** Length unit of inputs without UnitLength_in_cm (default: guessed from the box size, and recorded). */
  lengthUnit?: LengthUnit;
  /** Box size in Mpc/h for binary snapshots whose header BoxSize is 0 (must agree with any header value). */
  box?: number;
  /**
   * Cosmology for snapshots whose header does not state it (HubbleParam or Omega0 of 0, as in many
   * initial-condition files); must agree with a header that does.
   */
  cosmology?: { Omega_m: number; h: number; Omega_b?: number };
  /** Command line recorded in the provenance. */
  command?: string;
  /** No progress lines on stderr (the log file is still written). */
  quiet?: boolean;
}

export interface PrepareResult {
  dir: string;
  grids: PreparedGrids;
  /** One line per grid or input that was skipped, with the reason. */
  skipped: string[];
  /** Lines about guessed units, for the caller to show. */
  notes: string[];
  /** Groups (or subhalos) in the catalogue; undefined without --groups. */
  haloCount?: number;
}

const GAS_FIELDS: readonly GadgetField[] = ['positions', 'masses', 'neutralHydrogen', 'sfr'];

const fileName = (p: string): string => p.split('/').pop() ?? p;

/** Opened and checked inputs of a prepare run. */
interface Inputs {
  snap: Snapshot;
  /** From the header, or from the options when the header has none. */
  cosmology: { Omega_m: number; h: number; Omega_b?: number };
  cat?: FofCatalogue;
  halos?: { positions: Float32Array; masses: Float64Array };
  gas: boolean;
  skipped: string[];
  notes: string[];
}

/**
 * The cosmology to use: the header's when it states one (h and Omega0 > 0), which a given one must
 * match (to 1e-4), else the given one; neither is an error.
 */
function checkCosmology(
  head: { omegaM: number; h: number; omegaB?: number },
  given: PrepareOptions['cosmology'],
  file: string,
  headerName: string,
): { Omega_m: number; h: number; Omega_b?: number } {
  const stated = head.h > 0 && head.omegaM > 0;
  if (!stated) {
    if (!given) {
      const what = !(head.h > 0) ? `HubbleParam is ${head.h}` : `Omega0 is ${head.omegaM}`;
      throw new LodiIOError(
        file,
        `${what} (not set in the file), expected h = H0/(100 km/s/Mpc) > 0 and Omega0 > 0 from the caller`,
        headerName,
        'cosmology',
      );
    }
    return given;
  }
  if (!(head.h < 10))
    throw new LodiIOError(file, `HubbleParam is ${head.h}, expected h = H0/(100 km/s/Mpc) in (0, 10)`, headerName);
  if (!(head.omegaM <= 1))
    throw new LodiIOError(file, `Omega0 is ${head.omegaM}, expected a matter density in (0, 1]`, headerName);
  if (given) {
    for (const [k, a, b] of [
      ['HubbleParam', head.h, given.h],
      ['Omega0', head.omegaM, given.Omega_m],
    ] as const) {
      if (Math.abs(a - b) > 1e-4 * Math.abs(b))
        throw new LodiIOError(file, `${k} is ${a}, expected ${b} as the cosmology given`, headerName, 'cosmology');
    }
  }
  return {
    Omega_m: head.omegaM,
    h: head.h,
    ...(head.omegaB !== undefined
      ? { Omega_b: head.omegaB }
      : given?.Omega_b !== undefined
        ? { Omega_b: given.Omega_b }
        : {}),
  };
}

/** Opens the snapshot and the catalogue and decides what can be made; throws on anything fatal. */
async function openInputs(o: PrepareOptions): Promise<Inputs> {
  const unit = o.lengthUnit ? { lengthUnit: o.lengthUnit } : {};
  const snap = await openSnapshot(o.snapshot, { ...unit, ...(o.box !== undefined ? { boxSize: o.box } : {}) });
  const info = snap.info;
  const first = info.files[0] ?? o.snapshot;
  const headerName = info.format === 'hdf5' ? 'Header' : 'HEAD';
  const nDm = info.numPartTotal[1] ?? 0;
  if (nDm === 0)
    throw new LodiIOError(
      first,
      'no dark-matter particles: NumPart_Total[1] = 0, expected PartType1 particles to paint',
      headerName,
    );
  const cosmology = checkCosmology(info.cosmology, o.cosmology, first, headerName);
  if (!(info.redshift > -1e-6) || !Number.isFinite(info.redshift))
    throw new LodiIOError(first, `Redshift is ${info.redshift}, expected z >= 0`, headerName);
  const missingDm = await snap.missingFields(1, ['positions', 'masses']);
  if (missingDm.length > 0) {
    const m = missingDm[0]!;
    throw new LodiIOError(
      m.file,
      `${m.reason ?? 'dataset missing'}; expected it for the ${nDm} dark-matter particles (NumPart_Total[1] = ${nDm})`,
      m.dataset,
    );
  }
  const skipped: string[] = [];
  const notes: string[] = [];
  if (info.lengthUnit.source === 'box-size guess')
    notes.push(`${fileName(first)}: length unit ${info.lengthUnit.note}; set it with --length-unit if wrong`);
  const nGas = info.numPartTotal[0] ?? 0;
  let gas = false;
  if (nGas === 0) {
    skipped.push(`hi.npy and tb.npy: ${fileName(first)} holds no gas particles (NumPart_Total[0] = 0)`);
  } else {
    const missing = await snap.missingFields(0, GAS_FIELDS);
    if (missing.length > 0) {
      const reasons = [...new Set(missing.map((m) => m.reason).filter((r): r is string => r !== undefined))];
      const what = `${missing.map((m) => m.dataset).join(', ')}${reasons.length ? ` (${reasons.join('; ')})` : ''}`;
      skipped.push(
        `hi.npy and tb.npy: ${fileName(missing[0]!.file)} lacks ${what} for its ${nGas} gas particles; expected n_HI/n_H and the star-formation rate to paint HI`,
      );
    } else gas = true;
  }
  let cat: FofCatalogue | undefined;
  let halos: Inputs['halos'];
  if (o.groups !== undefined) {
    cat = await readFofCatalogue(o.groups, {
      massDefinition: o.massDefinition,
      subhalos: o.halos === 'subhalos',
      requireComplete: true,
      ...unit,
    });
    const cfile = cat.files[0] ?? o.groups;
    if (Math.abs(cat.boxSize - info.boxSize) > 1e-6 * info.boxSize) {
      throw new LodiIOError(
        cfile,
        `BoxSize is ${cat.boxSize} Mpc/h (${cat.lengthUnit.note}), expected ${info.boxSize} Mpc/h as the snapshot ${fileName(first)}`,
        'Header',
        'length-unit',
      );
    }
    if (Math.abs(cat.redshift - info.redshift) > 1e-4 * (1 + info.redshift)) {
      throw new LodiIOError(
        cfile,
        `Redshift is ${cat.redshift}, expected ${info.redshift} as the snapshot ${fileName(first)} (catalogue of another output?)`,
        'Header',
      );
    }
    if (cat.lengthUnit.source === 'box-size guess')
      notes.push(`${fileName(cfile)}: length unit ${cat.lengthUnit.note}; set it with --length-unit if wrong`);
    const src = o.halos === 'subhalos' ? cat.subhalos! : cat.groups;
    halos = { positions: src.positions, masses: src.masses };
  }
  return { snap, cosmology, cat, halos, gas, skipped, notes };
}

async function* dmChunks(snap: Snapshot, chunk: number, onChunk: (n: number) => void): AsyncGenerator<DmParticles> {
  for await (const c of snap.chunks(1, ['positions', 'masses'], chunk)) {
    onChunk(c.count);
    yield { positions: c.positions!, masses: c.masses! };
  }
}

async function* gasChunks(snap: Snapshot, chunk: number): AsyncGenerator<GasParticles> {
  for await (const c of snap.chunks(0, GAS_FIELDS, chunk)) {
    yield { positions: c.positions!, masses: c.masses!, xHI: c.neutralHydrogen!, sfr: c.sfr! };
  }
}

/**
 * Reads a snapshot (+ group catalogue), builds the LODI grids and writes them with sidecars, plots
 * and report.md. Throws (LodiIOError for bad inputs) before creating anything when the inputs are
 * wrong; when painting fails, removes what the run created.
 */
export async function runPrepare(o: PrepareOptions): Promise<PrepareResult> {
  const force = o.force === true;
  if (!Number.isInteger(o.grid) || o.grid < 2) throw new Error(`--grid must be an integer >= 2, got ${o.grid}`);
  if (!Number.isInteger(o.chunk) || o.chunk < 1) throw new Error(`--chunk must be a positive integer, got ${o.chunk}`);
  for (const m of WORLD_MEMBER_NAMES) {
    assertWritable(join(o.out, WORLD_MEMBERS[m].file), force);
    assertWritable(sidecarPath(join(o.out, WORLD_MEMBERS[m].file)), force);
  }
  assertWritable(join(o.out, WORLD_JSON), force);
  assertWritable(join(o.out, 'report.md'), force);
  const inputs = await openInputs(o);
  return withOutputGuard([o.out], () => paintAndWrite(o, inputs));
}

async function paintAndWrite(o: PrepareOptions, inp: Inputs): Promise<PrepareResult> {
  const info = inp.snap.info;
  const nDm = info.numPartTotal[1] ?? 0;
  const bar = new Progress('prepare: painting', nDm, { logFile: join(o.out, 'prepare.log'), quiet: o.quiet });
  bar.log(
    `lodi prepare: ${o.snapshot} (${info.format}, ${info.files.length} file(s)), box ${info.boxSize} Mpc/h, z ${info.redshift}, length unit: ${info.lengthUnit.note}`,
  );
  if (inp.cat)
    bar.log(
      `catalogue ${o.groups}: ${inp.cat.groups.count} groups${inp.cat.subhalos ? `, ${inp.cat.subhalos.count} subhalos` : ''}, length unit: ${inp.cat.lengthUnit.note}`,
    );
  for (const s of inp.skipped) bar.log(`skipped ${s}`);
  let done = 0;
  const bins: MassBins = { edges: o.massBins ?? [...PAPER_MASS_BINS_MSUN], unit: o.massUnit };
  const cosmology = inp.cosmology;
  const grids = await prepareGrids({
    boxSize: info.boxSize,
    redshift: info.redshift,
    grid: o.grid,
    cosmology,
    dm: dmChunks(inp.snap, o.chunk, (n) => bar.update((done = Math.min(nDm, done + n)), 'DM')),
    halos: inp.halos,
    gas: inp.gas ? gasChunks(inp.snap, o.chunk) : undefined,
    massBins: bins,
    smoothingR: o.smoothing,
  });
  bar.update(nDm, 'done');
  await writePrepared(o, inp, grids, cosmology);
  const haloCount = inp.cat ? (o.halos === 'subhalos' ? inp.cat.subhalos!.count : inp.cat.groups.count) : undefined;
  return {
    dir: o.out,
    grids,
    skipped: inp.skipped,
    notes: inp.notes,
    ...(haloCount !== undefined ? { haloCount } : {}),
  };
}

export type { Inputs as PrepareInputs };
