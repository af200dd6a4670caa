/**
 * HDF5 files of halo merger histories (the halo sampler's output): one group per redshift,
 *   /                      attrs format = "lodi-halo-merger-history", version, boxSize [Mpc/h], mass_unit,
 *                          length_unit, order = "ascending redshift", provenance (JSON, optional; `lodi sample-halos`
 *                          records the cosmology and the resolved sampler parameters there)
 *   /redshifts             float64 [n_z], ascending
 *   /z_000, /z_001, ...    attrs z, count
 *       mass               float64 [count]     Msun/h
 *       pos                float32 [count, 3]  Eulerian, Mpc/h, in [0, boxSize)
 *       descendant         int32   [count]     index into the group of the next-lower redshift, -1 in /z_000
 *       lagrangian_pos     float32 [count, 3]  (optional) Mpc/h
 * The shapes here mirror `HaloCatalogue` / `MergerHistory` of src/astro/sampler/catalogue.ts (this ground
 * module cannot import that layer; the types are structurally identical).
 */
import { withAtomicPath, assertWritable } from '../util/atomic.js';
import { LodiIOError, assertFinite } from './errors.js';
import { attrNumber, attrString, createH5, getDataset, getGroup, readNumeric, setAttr, withH5 } from './hdf5.js';

export const HALO_HISTORY_FORMAT = 'lodi-halo-merger-history';
export const HALO_HISTORY_VERSION = 1;

/** The halos of one redshift (masses Msun/h, positions Mpc/h). */
export interface HaloCatalogueRecord {
  /** Redshift of the halos. */
  z: number;
  /** Box side [Mpc/h]. */
  boxSize: number;
  /** Number of halos. */
  count: number;
  /** Halo masses [Msun/h], [count]. */
  mass: Float64Array;
  /** Eulerian positions [Mpc/h], [count * 3] (x, y, z per halo), in [0, boxSize). */
  pos: Float32Array;
  /**
   * Index of each halo's descendant in the catalogue of the next-lower redshift of the merger history,
   * [count]; -1 in the catalogue of the lowest redshift.
   */
  descendant: Int32Array;
  /**
   * Lagrangian (initial-condition) positions [Mpc/h], [count * 3], in [0, boxSize): where the sampler
   * placed the halo before the 2LPT displacement; the progenitors of a halo are drawn around it.
   */
  lagrangianPos?: Float32Array;
}

/** Catalogues in ascending redshift, linked by descendant index. */
export interface MergerHistoryRecord {
  redshifts: number[];
  catalogues: HaloCatalogueRecord[];
}

function groupName(i: number): string {
  return `z_${String(i).padStart(3, '0')}`;
}

function checkRecord(path: string, h: MergerHistoryRecord): number {
  if (h.catalogues.length === 0) throw new LodiIOError(path, 'merger history has no catalogues');
  if (h.redshifts.length !== h.catalogues.length) throw new LodiIOError(path, `${h.redshifts.length} redshifts for ${h.catalogues.length} catalogues`);
  const boxSize = h.catalogues[0]!.boxSize;
  h.catalogues.forEach((c, i) => {
    const g = groupName(i);
    if (c.z !== h.redshifts[i]) throw new LodiIOError(path, `catalogue z = ${c.z} differs from redshifts[${i}] = ${h.redshifts[i]}`, g);
    if (i > 0 && !(c.z > h.redshifts[i - 1]!)) throw new LodiIOError(path, `redshift ${c.z} after ${h.redshifts[i - 1]}: expected ascending redshifts`, g);
    if (c.boxSize !== boxSize) throw new LodiIOError(path, `boxSize ${c.boxSize} differs from ${boxSize} Mpc/h`, g);
    if (c.mass.length !== c.count || c.pos.length !== 3 * c.count || c.descendant.length !== c.count || (c.lagrangianPos && c.lagrangianPos.length !== 3 * c.count)) {
      throw new LodiIOError(path, `array lengths do not match count = ${c.count}`, g);
    }
    assertFinite(c.mass, path, `${g}/mass`);
    assertFinite(c.pos, path, `${g}/pos`, 3);
  });
  return boxSize;
}

/** Writes a merger history (atomically; refuses to overwrite unless `force`). */
export async function writeMergerHistory(
  path: string,
  h: MergerHistoryRecord,
  opts: { force?: boolean; provenance?: Record<string, unknown> } = {},
): Promise<void> {
  const boxSize = checkRecord(path, h);
  assertWritable(path, opts.force ?? false);
  await withAtomicPath(
    path,
    async (tmp) => {
      const f = await createH5(tmp);
      try {
        f.create_attribute('format', HALO_HISTORY_FORMAT);
        f.create_attribute('version', Int32Array.of(HALO_HISTORY_VERSION), [], '<i');
        f.create_attribute('boxSize', Float64Array.of(boxSize), [], '<d');
        f.create_attribute('mass_unit', 'Msun/h');
        f.create_attribute('length_unit', 'Mpc/h');
        f.create_attribute('order', 'ascending redshift');
        if (opts.provenance) f.create_attribute('provenance', JSON.stringify(opts.provenance));
        f.create_dataset({ name: 'redshifts', data: Float64Array.from(h.redshifts), shape: [h.redshifts.length], dtype: '<d' });
        h.catalogues.forEach((c, i) => {
          const g = f.create_group(groupName(i));
          setAttr(g, 'z', c.z, '<d');
          setAttr(g, 'count', c.count, '<Q');
          g.create_dataset({ name: 'mass', data: c.mass, shape: [c.count], dtype: '<d' });
          g.create_dataset({ name: 'pos', data: c.pos, shape: [c.count, 3], dtype: '<f' });
          g.create_dataset({ name: 'descendant', data: c.descendant, shape: [c.count], dtype: '<i' });
          if (c.lagrangianPos) g.create_dataset({ name: 'lagrangian_pos', data: c.lagrangianPos, shape: [c.count, 3], dtype: '<f' });
        });
      } finally {
        f.close();
      }
    },
    { force: true },
  );
}

/** Reads a file written by {@link writeMergerHistory}; errors name the file, the group and the field. */
export async function readMergerHistory(path: string): Promise<MergerHistoryRecord & { provenance?: Record<string, unknown> }> {
  return withH5(path, (f) => {
    const format = attrString(f, 'format');
    if (format !== HALO_HISTORY_FORMAT) throw new LodiIOError(path, `format attribute is ${JSON.stringify(format)}, expected "${HALO_HISTORY_FORMAT}"`);
    const version = attrNumber(f, 'version');
    if (version !== HALO_HISTORY_VERSION) throw new LodiIOError(path, `version ${version}, expected ${HALO_HISTORY_VERSION}`);
    const boxSize = attrNumber(f, 'boxSize');
    if (!(boxSize !== undefined && boxSize > 0)) throw new LodiIOError(path, `boxSize attribute ${boxSize}, expected a positive length in Mpc/h`);
    const redshifts = Array.from(readNumeric(f, path, 'redshifts', { kind: 'float' }), Number);
    const counts: number[] = [];
    const catalogues: HaloCatalogueRecord[] = redshifts.map((zExpected, i) => {
      const name = groupName(i);
      const g = getGroup(f, name);
      if (!g) throw new LodiIOError(path, 'group missing', name);
      const z = attrNumber(g, 'z');
      const count = attrNumber(g, 'count');
      if (z !== zExpected) throw new LodiIOError(path, `attribute z = ${z} differs from redshifts[${i}] = ${zExpected}`, name);
      if (count === undefined || !Number.isInteger(count) || count < 0) throw new LodiIOError(path, `attribute count = ${count}, expected a non-negative integer`, name);
      const num = (ds: string, width: number, kind: 'float' | 'int'): ReturnType<typeof readNumeric> =>
        count === 0 ? new Float64Array(0) : readNumeric(f, path, `${name}/${ds}`, { rows: count, width, kind });
      const massRaw = num('mass', 1, 'float');
      const posRaw = num('pos', 3, 'float');
      const descRaw = num('descendant', 1, 'int');
      const hasLag = count > 0 && getDataset(f, `${name}/lagrangian_pos`) !== null;
      const c: HaloCatalogueRecord = {
        z,
        boxSize,
        count,
        mass: massRaw instanceof Float64Array ? massRaw : Float64Array.from(massRaw),
        pos: posRaw instanceof Float32Array ? posRaw : Float32Array.from(posRaw),
        descendant: descRaw instanceof Int32Array ? descRaw : Int32Array.from(descRaw),
      };
      if (hasLag) {
        const lag = num('lagrangian_pos', 3, 'float');
        c.lagrangianPos = lag instanceof Float32Array ? lag : Float32Array.from(lag);
      }
      const lower = i > 0 ? counts[i - 1]! : 0;
      for (let k = 0; k < count; k++) {
        const d = c.descendant[k]!;
        if (i === 0 ? d !== -1 : !(d >= 0 && d < lower)) {
          throw new LodiIOError(path, `descendant[${k}] = ${d}, expected ${i === 0 ? '-1 at the lowest redshift' : `an index in [0, ${lower})`}`, `${name}/descendant`);
        }
      }
      counts[i] = count;
      return c;
    });
    const prov = attrString(f, 'provenance');
    let provenance: Record<string, unknown> | undefined;
    if (prov !== undefined) {
      try {
        provenance = JSON.parse(prov) as Record<string, unknown>;
      } catch {
        throw new LodiIOError(path, 'provenance attribute is not JSON, expected a JSON object', 'provenance');
      }
    }
    return { redshifts, catalogues, ...(provenance ? { provenance } : {}) };
  });
}
