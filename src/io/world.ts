/**
 * The world directory: the one definition of what `lodi simulate` and `lodi prepare` write and what
 * every trainer reads.
 *
 *   dm.npy    ρ_DM [N,N,N]                    (Msun/h)/(Mpc/h)^3
 *   halos.npy ρ_h per halo-mass bin [C,N,N,N]  (Msun/h)/(Mpc/h)^3 (bin edges and their unit in the sidecar)
 *   hi.npy    ρ_HI [N,N,N]                     (Msun/h)/(Mpc/h)^3
 *   tb.npy    T_b [N,N,N]                      mK
 *   *.json    sidecar of each grid (box, redshift, quantity, unit, provenance; see io/grid.ts)
 *   world.json  format and version, grid size, box [Mpc/h], redshift, cosmology, mass-bin edges with
 *             their unit (and in Msun/h), smoothing radius [Mpc/h], mass assignment, T_b factor,
 *             provenance (generator, command, code version, seed or inputs) and the writer's summary
 *
 * Every member is optional on disk (`lodi prepare` without a catalogue writes no halos.npy), but every
 * member that is there must agree with world.json and with the others. Version 1 directories
 * (`lodi simulate` before world.json described the grids) and directories without world.json (older
 * `lodi prepare`) are read from their sidecars.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { assertWritable, writeFileAtomic } from '../util/atomic.js';
import { LodiIOError, fmtShape } from './errors.js';
import { loadGrid, saveGrid, sidecarPath, type Grid, type Provenance } from './grid.js';
import { massBinEdgesMsunH, type MassBins } from './units.js';

export const WORLD_FORMAT = 'lodi-world';
/** Version of world.json written by this code; readers accept this and every earlier one. */
export const WORLD_VERSION = 2;
export const WORLD_JSON = 'world.json';

/** Unit of every mass density in a world. */
export const MASS_DENSITY_UNIT = '(Msun/h)/(Mpc/h)^3';

export type WorldMember = 'dm' | 'halos' | 'hi' | 'tb';
export const WORLD_MEMBER_NAMES: readonly WorldMember[] = ['dm', 'halos', 'hi', 'tb'];

export interface WorldMemberSpec {
  file: string;
  quantity: string;
  unit: string;
  /** Symbol for labels, e.g. 'ρ_DM'. */
  symbol: string;
}

/** File name, quantity and unit of every grid of a world. */
export const WORLD_MEMBERS: Readonly<Record<WorldMember, WorldMemberSpec>> = {
  dm: { file: 'dm.npy', quantity: 'dm_density', unit: MASS_DENSITY_UNIT, symbol: 'ρ_DM' },
  halos: { file: 'halos.npy', quantity: 'halo_mass_density', unit: MASS_DENSITY_UNIT, symbol: 'ρ_h' },
  hi: { file: 'hi.npy', quantity: 'hi_density', unit: MASS_DENSITY_UNIT, symbol: 'ρ_HI' },
  tb: { file: 'tb.npy', quantity: 'T_b', unit: 'mK', symbol: 'T_b' },
};

/** Axis or colour-bar label of a member, e.g. 'ρ_DM [(Msun/h)/(Mpc/h)^3]'. */
export function memberLabel(m: WorldMember): string {
  return `${WORLD_MEMBERS[m].symbol} [${WORLD_MEMBERS[m].unit}]`;
}

/** Background cosmology of a world (flat; Ω_Λ = 1 − Ω_m − Ω_r). */
export interface WorldCosmology {
  Omega_m: number;
  h: number;
  Omega_b?: number;
  n_s?: number;
  sigma8?: number;
  Omega_r?: number;
  T_cmb?: number;
}

export interface WorldProvenance extends Provenance {
  /** 'lodi simulate', 'lodi prepare', ... */
  generator: string;
  /** Initial-condition seed of a simulated world. */
  seed?: number;
  /** Input files of a prepared world. */
  inputs?: string[];
  /**
   * HI-painting options of a simulated world given to paintHI besides box, redshift, seed and cosmology
   * (src/astro/hi-paint.ts HiPaintOptions; absent in worlds written before it was recorded).
   */
  hiPaint?: Record<string, unknown>;
}

/** A world: its grids (those present) and the facts needed to use them. */
export interface WorldGrids {
  /** Directory it was read from (set by readWorld). */
  dir?: string;
  /** Cells per side N. */
  grid: number;
  /** Side of the periodic box [Mpc/h]. */
  boxSize: number;
  redshift: number;
  /** Absent only in directories written before world.json version 2 that did not record it. */
  cosmology?: WorldCosmology;
  /** Halo mass-bin edges as given, with their unit (present with halos). */
  massBins?: MassBins;
  /** Channel names of halos.npy. */
  channels?: string[];
  /** Gaussian smoothing radius of every grid [Mpc/h] (0: none); absent only in old directories. */
  smoothingR?: number;
  /** Mass assignment used to paint the grids (e.g. 'CIC'). */
  mas?: string;
  /** T_b [mK] per unit ρ_HI [(Msun/h)/(Mpc/h)^3]. */
  tbFactor?: number;
  provenance: WorldProvenance;
  dm?: Float32Array;
  halos?: Float32Array;
  hi?: Float32Array;
  tb?: Float32Array;
}

/** Number of halo channels of a world (from the halo grid, else from the mass bins); 0 without halos. */
export function haloChannels(w: WorldGrids): number {
  if (w.halos) return w.halos.length / w.grid ** 3;
  return w.massBins ? w.massBins.edges.length - 1 : 0;
}

/** Mass-bin edges of a world in Msun/h (needs its cosmology when the edges are in Msun). */
export function worldMassBinsMsunH(w: WorldGrids): number[] | undefined {
  if (!w.massBins) return undefined;
  if (w.massBins.unit === 'Msun/h') return [...w.massBins.edges];
  if (!w.cosmology) throw new LodiIOError(join(w.dir ?? '.', WORLD_JSON), `no cosmology to convert mass bins from Msun to Msun/h`, 'cosmology');
  return massBinEdgesMsunH(w.massBins, w.cosmology.h);
}

const jsonEdges = (e: readonly number[]): (number | null)[] => e.map((v) => (Number.isFinite(v) ? v : null));
const fromJsonEdges = (e: readonly (number | null)[]): number[] => e.map((v) => (v === null ? Infinity : v));

function fail(path: string, field: string, detail: string, dir: string): never {
  throw new LodiIOError(path, `${detail} (world ${dir})`, field);
}

function shapeOf(w: WorldGrids, m: WorldMember): number[] {
  const n = w.grid;
  return m === 'halos' ? [haloChannels(w), n, n, n] : [n, n, n];
}

export interface WriteWorldOptions {
  force?: boolean;
  /** Extra fields for world.json (the writer's summary: counts, totals, timings, ...). */
  summary?: Record<string, unknown>;
}

/** The world.json object of a world (without its grids). */
export function worldJson(w: WorldGrids, summary: Record<string, unknown> = {}): Record<string, unknown> {
  const members = WORLD_MEMBER_NAMES.filter((m) => w[m] !== undefined);
  let massBins: Record<string, unknown> | undefined;
  if (w.massBins) {
    const h = w.cosmology?.h;
    massBins = {
      edges: jsonEdges(w.massBins.edges),
      unit: w.massBins.unit,
      ...(h !== undefined || w.massBins.unit === 'Msun/h' ? { edgesMsunH: jsonEdges(worldMassBinsMsunH(w)!) } : {}),
    };
  }
  return {
    ...summary,
    format: WORLD_FORMAT,
    version: WORLD_VERSION,
    members,
    grid: w.grid,
    boxSize: w.boxSize,
    redshift: w.redshift,
    cosmology: w.cosmology,
    massBins,
    channels: w.channels,
    smoothingR: w.smoothingR,
    mas: w.mas,
    tbFactor: w.tbFactor,
    provenance: w.provenance,
  };
}

/**
 * Writes the grids of `w` that are present (with sidecars) and world.json into `dir`; refuses to
 * overwrite any of them unless `force`, checking every path before writing the first.
 */
export function writeWorld(dir: string, w: WorldGrids, o: WriteWorldOptions = {}): string[] {
  const force = o.force ?? false;
  const members = WORLD_MEMBER_NAMES.filter((m) => w[m] !== undefined);
  for (const m of members) {
    const path = join(dir, WORLD_MEMBERS[m].file);
    const want = shapeOf(w, m).reduce((a, b) => a * b, 1);
    if (w[m]!.length !== want) fail(path, m, `expected ${fmtShape(shapeOf(w, m))} = ${want} values, got ${w[m]!.length}`, dir);
    assertWritable(path, force);
    assertWritable(sidecarPath(path), force);
  }
  if (w.halos) {
    const path = join(dir, WORLD_MEMBERS.halos.file);
    if (!w.massBins) fail(path, 'massBins', 'expected mass-bin edges with their unit for the halo channels, got none', dir);
    if (w.massBins.edges.length - 1 !== haloChannels(w)) fail(path, 'massBins', `expected ${haloChannels(w) + 1} edges for ${haloChannels(w)} channels, got ${w.massBins.edges.length}`, dir);
  }
  assertWritable(join(dir, WORLD_JSON), force);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const m of members) {
    const spec = WORLD_MEMBERS[m];
    const path = join(dir, spec.file);
    const extra: Record<string, unknown> = {};
    if (m === 'halos') {
      extra.channels = w.channels;
      extra.massBins = { edges: jsonEdges(w.massBins!.edges), unit: w.massBins!.unit };
      const eh = w.cosmology || w.massBins!.unit === 'Msun/h' ? worldMassBinsMsunH(w) : undefined;
      if (eh) extra.massBinsMsunH = jsonEdges(eh);
    }
    if (m === 'tb' && w.tbFactor !== undefined) extra.tbFactor = w.tbFactor;
    const grid: Grid = {
      data: w[m]!,
      shape: shapeOf(w, m),
      meta: { boxSize: w.boxSize, redshift: w.redshift, quantity: spec.quantity, unit: spec.unit, ...extra, smoothingR: w.smoothingR, provenance: w.provenance } as Grid['meta'],
    };
    saveGrid(path, grid, { force });
    written.push(path);
  }
  const wj = join(dir, WORLD_JSON);
  writeFileAtomic(wj, JSON.stringify(worldJson(w, o.summary), null, 2) + '\n', { force });
  written.push(wj);
  return written;
}

/** Merges `fields` into an existing world.json (e.g. timings known only after the plots). */
export function updateWorldSummary(dir: string, fields: Record<string, unknown>): void {
  const path = join(dir, WORLD_JSON);
  const j = readWorldJson(dir);
  if (!j) throw new LodiIOError(path, 'missing: expected world.json written by writeWorld');
  writeFileAtomic(path, JSON.stringify({ ...j, ...fields }, null, 2) + '\n', { force: true });
}

function readWorldJson(dir: string): Record<string, unknown> | undefined {
  const path = join(dir, WORLD_JSON);
  if (!existsSync(path)) return undefined;
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new LodiIOError(path, `invalid JSON: ${(err as Error).message}`);
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) fail(path, 'format', `expected a JSON object, got ${JSON.stringify(j)?.slice(0, 40)}`, dir);
  const o = j as Record<string, unknown>;
  if (o.format !== WORLD_FORMAT) fail(path, 'format', `expected '${WORLD_FORMAT}', got ${JSON.stringify(o.format)}`, dir);
  if (!Number.isInteger(o.version) || (o.version as number) < 1 || (o.version as number) > WORLD_VERSION) {
    fail(path, 'version', `expected 1..${WORLD_VERSION}, got ${JSON.stringify(o.version)} (written by a newer lodi?)`, dir);
  }
  return o;
}

export interface ReadWorldOptions {
  /** Grids to load; each must exist (default: every grid present, at least one). */
  members?: readonly WorldMember[];
  /**
   * Another file for a member instead of its standard name (relative to the world directory, or
   * absolute), e.g. `{ halos: 'halos_halogen.npy' }` for predicted halo channels; it is checked
   * against world.json exactly as the standard file would be.
   */
  files?: Partial<Record<WorldMember, string>>;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * Reads a world directory: world.json (when present) and the requested grids, checking every grid
 * against world.json and the others (file name, quantity, unit, shape, N, box, redshift, channels).
 * Throws a one-line LodiIOError naming the file, the field and what was expected.
 */
export function readWorld(dir: string, o: ReadWorldOptions = {}): WorldGrids {
  if (!existsSync(dir)) throw new LodiIOError(dir, 'missing: expected a world directory');
  const j = readWorldJson(dir);
  const wjPath = join(dir, WORLD_JSON);
  const requested = o.members ?? WORLD_MEMBER_NAMES.filter((m) => existsSync(join(dir, WORLD_MEMBERS[m].file)));
  if (requested.length === 0) fail(wjPath, 'members', `expected at least one of ${WORLD_MEMBER_NAMES.map((m) => WORLD_MEMBERS[m].file).join(', ')}, found none`, dir);
  const v2 = j !== undefined && (j.version as number) >= 2;
  const listed = v2 && Array.isArray(j.members) ? (j.members as string[]) : undefined;
  const grids: Partial<Record<WorldMember, Grid>> = {};
  const fileOf = (m: WorldMember): string => {
    const f = o.files?.[m];
    return f === undefined ? join(dir, WORLD_MEMBERS[m].file) : isAbsolute(f) ? f : join(dir, f);
  };
  for (const m of requested) {
    const spec = WORLD_MEMBERS[m];
    const path = fileOf(m);
    if (!existsSync(path)) {
      const why = listed && listed.includes(m) && o.files?.[m] === undefined ? 'listed in world.json but missing' : 'missing';
      fail(path, m, `${why}: expected ${spec.quantity} [${spec.unit}]`, dir);
    }
    const g = loadGrid(path);
    if (g.meta.quantity !== spec.quantity) fail(sidecarPath(path), 'quantity', `expected '${spec.quantity}', got '${g.meta.quantity}'`, dir);
    if (g.meta.unit !== spec.unit) fail(sidecarPath(path), 'unit', `expected '${spec.unit}', got '${g.meta.unit}'`, dir);
    const rank = m === 'halos' ? 4 : 3;
    if (g.shape.length !== rank) fail(path, 'shape', `expected ${m === 'halos' ? '[C,N,N,N]' : '[N,N,N]'}, got ${fmtShape(g.shape)}`, dir);
    grids[m] = g;
  }
  const first = grids[requested[0]!]!;
  const facts = v2 ? factsFromWorldJson(j, wjPath, dir) : legacyFacts(dir, j, first);
  const from = v2 ? WORLD_JSON : WORLD_MEMBERS[requested[0]!].file;
  for (const m of requested) {
    const g = grids[m]!;
    const path = fileOf(m);
    const n = g.shape[g.shape.length - 1]!;
    if (n !== facts.grid) fail(path, 'grid', `expected N = ${facts.grid} (as ${from}), got ${fmtShape(g.shape)}`, dir);
    if (Math.abs(g.meta.boxSize - facts.boxSize) > 1e-6 * facts.boxSize) fail(sidecarPath(path), 'boxSize', `expected ${facts.boxSize} Mpc/h (as ${from}), got ${g.meta.boxSize} Mpc/h`, dir);
    const z = num(g.meta.redshift);
    if (z !== undefined && Math.abs(z - facts.redshift) > 1e-6 * (1 + facts.redshift)) fail(sidecarPath(path), 'redshift', `expected ${facts.redshift} (as ${from}), got ${z}`, dir);
  }
  if (grids.halos) {
    const path = fileOf('halos');
    const c = grids.halos.shape[0]!;
    const mb = facts.massBins;
    if (mb && mb.edges.length - 1 !== c) fail(path, 'channels', `expected ${mb.edges.length - 1} channels for the mass-bin edges [${mb.edges.join(', ')}] ${mb.unit} of ${from}, got ${c}`, dir);
    if (facts.channels && facts.channels.length !== c) fail(path, 'channels', `expected ${facts.channels.length} channels as named in ${from}, got ${c}`, dir);
  }
  const w: WorldGrids = { dir, ...facts };
  for (const m of requested) w[m] = grids[m]!.data;
  return w;
}

type WorldFacts = Omit<WorldGrids, 'dir' | WorldMember>;

function massBinsOf(v: unknown, file: string, dir: string): MassBins | undefined {
  const o = v as { edges?: (number | null)[]; unit?: unknown } | undefined;
  if (!o || !Array.isArray(o.edges)) return undefined;
  if (o.unit !== 'Msun' && o.unit !== 'Msun/h') fail(file, 'massBins.unit', `expected 'Msun' or 'Msun/h', got ${JSON.stringify(o.unit)}`, dir);
  return { edges: fromJsonEdges(o.edges), unit: o.unit };
}

/** Version 2: world.json describes the grids. */
function factsFromWorldJson(j: Record<string, unknown>, path: string, dir: string): WorldFacts {
  const need = (k: string): number => {
    const v = num(j[k]);
    if (v === undefined) fail(path, k, `expected a number, got ${JSON.stringify(j[k])}`, dir);
    return v;
  };
  const prov = (j.provenance ?? {}) as Record<string, unknown>;
  return {
    grid: need('grid'),
    boxSize: need('boxSize'),
    redshift: need('redshift'),
    cosmology: j.cosmology as WorldCosmology | undefined,
    massBins: massBinsOf(j.massBins, path, dir),
    channels: j.channels as string[] | undefined,
    smoothingR: num(j.smoothingR),
    mas: typeof j.mas === 'string' ? j.mas : undefined,
    tbFactor: num(j.tbFactor),
    provenance: { ...prov, generator: typeof prov.generator === 'string' ? prov.generator : 'unknown' },
  };
}

/** Version 1 world.json (`lodi simulate` summary) or none: the facts come from the sidecars. */
function legacyFacts(dir: string, j: Record<string, unknown> | undefined, first: Grid): WorldFacts {
  const side = (m: WorldMember): Record<string, unknown> | undefined => {
    const p = sidecarPath(join(dir, WORLD_MEMBERS[m].file));
    if (!existsSync(p)) return undefined;
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const halos = side('halos');
  const prov = (first.meta.provenance ?? {}) as Record<string, unknown>;
  // the first lodi simulate kept the bins in the sidecar's provenance (provenance.prepare), later ones at the top level
  const prep = ((halos?.provenance as Record<string, unknown> | undefined)?.prepare ?? {}) as Record<string, unknown>;
  let massBins = massBinsOf(halos?.massBins ?? prep.massBins, sidecarPath(join(dir, WORLD_MEMBERS.halos.file)), dir);
  // older sidecars hold only the edges in Msun/h
  const msunH = halos?.massBinsMsunH ?? prep.massBinsMsunH;
  if (!massBins && Array.isArray(msunH)) massBins = { edges: fromJsonEdges(msunH as (number | null)[]), unit: 'Msun/h' };
  const seed = num(j?.seed) ?? num(prov.seed);
  return {
    grid: num(j?.grid) ?? first.shape[first.shape.length - 1]!,
    boxSize: num(j?.boxSize) ?? first.meta.boxSize,
    redshift: num(j?.redshift) ?? num(first.meta.redshift) ?? 0,
    cosmology: j?.cosmology as WorldCosmology | undefined,
    massBins,
    channels: halos?.channels as string[] | undefined,
    smoothingR: num(j?.smoothingR) ?? num(prov.smoothingR),
    mas: typeof prov.mas === 'string' ? prov.mas : undefined,
    tbFactor: num(side('tb')?.tbFactor),
    provenance: { ...prov, generator: typeof prov.generator === 'string' ? prov.generator : 'unknown', ...(seed !== undefined ? { seed } : {}) },
  };
}
