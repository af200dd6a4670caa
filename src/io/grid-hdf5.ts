/**
 * Several named grids in one HDF5 file: one float32 dataset per grid (shape [N,N,N] or
 * [C,N,N,N]) with the metadata as attributes (boxSize, redshift, quantity, unit, channels,
 * provenance as a JSON string).
 */
import { withAtomicPath, assertWritable } from '../util/atomic.js';
import { createH5, withH5, getDataset, attrNumber, attrString, datasetInfo } from './hdf5.js';
import { LodiIOError } from './errors.js';
import { validateGrid, type Grid, type GridMeta } from './grid.js';

/** Writes grids as datasets named by the keys of `grids`. */
export async function saveGridsHdf5(path: string, grids: Record<string, Grid>, opts: { force?: boolean } = {}): Promise<void> {
  for (const [name, g] of Object.entries(grids)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new LodiIOError(path, `grid name '${name}' must use letters, digits, _ . -`);
    validateGrid(g, path, { allowNonFinite: true });
  }
  assertWritable(path, opts.force ?? false);
  await withAtomicPath(
    path,
    async (tmp) => {
      const f = await createH5(tmp);
      try {
        f.create_attribute('format', 'lodi-grids');
        for (const [name, g] of Object.entries(grids)) {
          const d = f.create_dataset({ name, data: g.data, shape: g.shape, dtype: '<f' });
          d.create_attribute('boxSize', Float64Array.of(g.meta.boxSize), [], '<d');
          if (g.meta.redshift !== undefined) d.create_attribute('redshift', Float64Array.of(g.meta.redshift), [], '<d');
          d.create_attribute('quantity', g.meta.quantity);
          d.create_attribute('unit', g.meta.unit);
          if (g.meta.channels) d.create_attribute('channels', JSON.stringify(g.meta.channels));
          if (g.meta.provenance) d.create_attribute('provenance', JSON.stringify(g.meta.provenance));
        }
      } finally {
        f.close();
      }
    },
    { force: true },
  );
}

/** Reads every grid dataset of a file written by saveGridsHdf5 (or any file of float 3D/4D cubes with a boxSize attribute). */
export async function loadGridsHdf5(path: string, opts: { allowNonFinite?: boolean } = {}): Promise<Record<string, Grid>> {
  return withH5(path, (f) => {
    const out: Record<string, Grid> = {};
    for (const name of f.keys()) {
      const d = getDataset(f, name);
      if (!d) continue;
      const info = datasetInfo(d);
      if (info.kind !== 'float') throw new LodiIOError(path, `expected float32/float64 grid, got ${info.kind}${info.size * 8}`, name);
      const dg = d;
      const boxSize = attrNumber(dg, 'boxSize');
      if (boxSize === undefined) throw new LodiIOError(path, 'missing attribute boxSize (Mpc/h)', name);
      const raw = d.value;
      if (!(raw instanceof Float32Array || raw instanceof Float64Array)) throw new LodiIOError(path, 'could not read float data', name);
      const data = raw instanceof Float32Array ? raw : Float32Array.from(raw);
      const redshift = attrNumber(dg, 'redshift');
      const channels = attrString(dg, 'channels');
      const prov = attrString(dg, 'provenance');
      const meta: GridMeta = {
        boxSize,
        quantity: attrString(dg, 'quantity') ?? 'unknown',
        unit: attrString(dg, 'unit') ?? 'unknown',
        ...(redshift !== undefined ? { redshift } : {}),
        ...(channels ? { channels: JSON.parse(channels) as string[] } : {}),
        ...(prov ? { provenance: JSON.parse(prov) as GridMeta['provenance'] } : {}),
      };
      const grid: Grid = { data, shape: info.shape, meta };
      try {
        validateGrid(grid, path, opts);
      } catch (err) {
        if (err instanceof LodiIOError) throw new LodiIOError(path, err.message.replace(/^[^:]*: /, ''), name);
        throw err;
      }
      out[name] = grid;
    }
    return out;
  });
}
