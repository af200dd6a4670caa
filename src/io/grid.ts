/**
 * 3D grids with physical metadata on disk: `name.npy` (float32, C order [x][y][z], or [C][x][y][z]
 * for multi-channel grids) plus a JSON sidecar `name.json` with box size, redshift, quantity, unit
 * and provenance.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { assertWritable, withAtomicPath, writeFileAtomic } from '../util/atomic.js';
import { LodiIOError, fmtShape } from './errors.js';
import { readNpy, writeNpy } from './npy.js';

export interface Provenance {
  command?: string;
  seed?: number;
  version?: string;
  inputs?: string[];
  [key: string]: unknown;
}

export interface GridMeta {
  /** Side of the periodic box in Mpc/h. */
  boxSize: number;
  redshift?: number;
  /** What the grid holds, e.g. 'dm_density', 'T_b', 'halo_mass'. */
  quantity: string;
  /** e.g. 'mK', 'Msun/h', '1' (dimensionless). */
  unit: string;
  /** Channel names for [C,N,N,N] grids. */
  channels?: string[];
  provenance?: Provenance;
}

export interface Grid {
  /** float32, C order. */
  data: Float32Array;
  /** [N,N,N] or [C,N,N,N]. */
  shape: number[];
  meta: GridMeta;
}

export interface LoadGridOptions {
  /** Box size in Mpc/h; required without a sidecar, must agree with the sidecar when both exist. */
  boxSize?: number;
  /** Required grid size N. */
  expectN?: number;
  /** Required number of channels (0 or undefined: a single [N,N,N] cube unless the file has channels). */
  expectChannels?: number;
  /** Skip the NaN/Inf check (default: checked). */
  allowNonFinite?: boolean;
}

/** The sidecar path for a grid path (`x.npy` → `x.json`). */
export function sidecarPath(path: string): string {
  return path.replace(/\.npy$/i, '') + '.json';
}

/** Grid size N of a [N,N,N] or [C,N,N,N] shape. */
export function gridN(shape: readonly number[]): number {
  return shape[shape.length - 1] as number;
}

/** Checks shape (cubic, optionally multi-channel) and size consistency; throws LodiIOError. */
export function validateGrid(grid: Grid, file: string, opts: { allowNonFinite?: boolean } = {}): void {
  const s = grid.shape;
  const cubic = (s.length === 3 || s.length === 4) && s[s.length - 1] === s[s.length - 2] && s[s.length - 2] === s[s.length - 3];
  if (!cubic) throw new LodiIOError(file, `expected a cubic grid of shape [N,N,N] or [C,N,N,N], got ${fmtShape(s)}`, 'shape');
  if (s.some((d) => d === 0)) throw new LodiIOError(file, `empty grid of shape ${fmtShape(s)}, expected N >= 1 cells per side${s.length === 4 ? ' and C >= 1 channels' : ''}`, 'shape');
  const count = s.reduce((a, b) => a * b, 1);
  if (grid.data.length !== count) throw new LodiIOError(file, `grid data has ${grid.data.length} values, expected ${count} for shape ${fmtShape(s)}`, 'shape');
  if (!(grid.meta.boxSize > 0) || !Number.isFinite(grid.meta.boxSize)) throw new LodiIOError(file, `box size is ${grid.meta.boxSize}, expected a positive number of Mpc/h`, 'boxSize');
  if (grid.meta.channels && s.length === 4 && grid.meta.channels.length !== s[0]) {
    throw new LodiIOError(file, `metadata lists ${grid.meta.channels.length} channels, expected ${s[0]} as the grid has`, 'channels');
  }
  if (!opts.allowNonFinite) {
    const d = grid.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i] as number)) {
        const idx: number[] = [];
        let r = i;
        for (let k = s.length - 1; k >= 0; k--) {
          idx.unshift(r % (s[k] as number));
          r = Math.floor(r / (s[k] as number));
        }
        throw new LodiIOError(file, `non-finite value ${d[i]} at index ${fmtShape(idx)} (flat ${i}), expected finite values`, 'data');
      }
    }
  }
}

/** Writes `path` (.npy) and its JSON sidecar; refuses to overwrite either unless `force`. */
export function saveGrid(path: string, grid: Grid, opts: { force?: boolean } = {}): void {
  if (!/\.npy$/i.test(path)) throw new LodiIOError(path, 'grid file name must end in .npy');
  validateGrid(grid, path, { allowNonFinite: true });
  const force = opts.force ?? false;
  const side = sidecarPath(path);
  assertWritable(path, force);
  assertWritable(side, force);
  writeNpy(path, grid.data, grid.shape, { force });
  writeFileAtomic(side, gridSidecarText(grid.shape, grid.meta), { force });
}

/**
 * Writes the grid `path` (.npy) through a streaming writer instead of from an array in memory (e.g.
 * `predictHalosFile`): `write(tmp)` fills a temporary sibling, renamed to `path` when it returns (removed
 * when it throws, so an interrupted write leaves no output), then the sidecar of `shape` and `meta` is written.
 *
 * @throws OutputExistsError when `path` exists and not `force`; whatever `write` throws
 */
export async function saveGridStreamed<T>(
  path: string,
  shape: readonly number[],
  meta: GridMeta,
  write: (tmp: string) => T | Promise<T>,
  opts: { force?: boolean } = {},
): Promise<T> {
  const result = await withAtomicPath(path, write, { force: opts.force ?? false });
  writeFileAtomic(sidecarPath(path), gridSidecarText(shape, meta), { force: true });
  return result;
}

/** The JSON sidecar of a float32 C-order grid of `shape` (what `saveGrid` writes beside the `.npy`). */
export function gridSidecarText(shape: readonly number[], meta: GridMeta): string {
  return (
    JSON.stringify({ format: 'lodi-grid', version: 1, shape, dtype: 'float32', order: 'C', ...meta }, null, 2) + '\n'
  );
}

function readSidecar(path: string): (GridMeta & { shape?: number[] }) | undefined {
  const side = sidecarPath(path);
  if (!existsSync(side)) return undefined;
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(side, 'utf8'));
  } catch (err) {
    throw new LodiIOError(side, `invalid JSON (${(err as Error).message}), expected a JSON object with boxSize`, 'sidecar');
  }
  const o = j as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || typeof o.boxSize !== 'number') {
    throw new LodiIOError(side, `expected a JSON object with a numeric boxSize (Mpc/h), got ${JSON.stringify(o)?.slice(0, 60)}`, 'boxSize');
  }
  return o as unknown as GridMeta & { shape?: number[] };
}

/** Reads a grid (.npy + optional sidecar) with shape, finiteness and box/grid consistency checks. */
export function loadGrid(path: string, opts: LoadGridOptions = {}): Grid {
  const arr = readNpy(path, { expectDtypes: ['float32', 'float64'] });
  const data = arr.data instanceof Float32Array ? arr.data : Float32Array.from(arr.data as Float64Array);
  const grid: Grid = { data, shape: arr.shape, meta: loadGridMeta(path, arr.shape, opts) };
  validateGrid(grid, path, opts);
  const n = gridN(arr.shape);
  if (opts.expectN !== undefined && n !== opts.expectN) {
    throw new LodiIOError(path, `box/grid mismatch: expected N=${opts.expectN}, got ${fmtShape(arr.shape)}`, 'shape');
  }
  const channels = arr.shape.length === 4 ? (arr.shape[0] as number) : 0;
  if (opts.expectChannels !== undefined && channels !== opts.expectChannels) {
    throw new LodiIOError(path, `expected ${opts.expectChannels} channels, got shape ${fmtShape(arr.shape)}`, 'shape');
  }
  return grid;
}

/**
 * The metadata of the grid `path` of `shape` from its sidecar (or the caller's box size), with the
 * same checks as `loadGrid` but without reading the data: for grids streamed from disk.
 */
export function loadGridMeta(path: string, shape: readonly number[], opts: Pick<LoadGridOptions, 'boxSize'> = {}): GridMeta {
  const side = readSidecar(path);
  if (!side && opts.boxSize === undefined) {
    throw new LodiIOError(path, `no sidecar ${basename(sidecarPath(path))}, expected one giving the box size (Mpc/h) or the box size from the caller`, 'boxSize', 'box-size');
  }
  if (side && opts.boxSize !== undefined && Math.abs(side.boxSize - opts.boxSize) > 1e-6 * Math.max(side.boxSize, opts.boxSize)) {
    throw new LodiIOError(path, `box size mismatch: sidecar ${basename(sidecarPath(path))} says ${side.boxSize} Mpc/h, expected ${opts.boxSize} Mpc/h as given`, 'boxSize');
  }
  if (side?.shape && fmtShape(side.shape) !== fmtShape(shape)) {
    throw new LodiIOError(path, `shape mismatch: sidecar ${basename(sidecarPath(path))} says ${fmtShape(side.shape)}, expected the .npy's ${fmtShape(shape)}`, 'shape');
  }
  const { shape: _s, ...rest } = side ?? ({} as Partial<GridMeta> & { shape?: number[] });
  const meta: GridMeta = {
    quantity: 'unknown',
    unit: 'unknown',
    ...(rest as Partial<GridMeta>),
    boxSize: side?.boxSize ?? (opts.boxSize as number),
  };
  for (const k of ['format', 'version', 'dtype', 'order']) delete (meta as unknown as Record<string, unknown>)[k];
  return meta;
}
