/**
 * HDF5 files of per-halo galaxy properties (`galaxies.h5` of `lodi reionize`), one group per chosen redshift, each
 * aligned entry by entry with the halo catalogue of the same index in the merger history (`halos.h5`,
 * src/io/halo-catalogue.ts):
 *   /                      attrs format = "lodi-galaxy-catalogues", version, boxSize [Mpc/h],
 *                          order = "ascending redshift", halos (the merger-history file the groups align with),
 *                          provenance (JSON, optional)
 *   /redshifts             float64 [n]   the chosen redshifts, ascending
 *   /halo_index            int32   [n]   index of each in the merger history (its group there), increasing
 *   /z_012, ...            one group per chosen redshift, named as its halo group in halos.h5; attrs z, count, halo_index
 *       stellar_mass, ...  float64 [count] each, in the order of the halos of that group; attribute `unit`
 *                          ({@link GALAXY_DATASETS} lists the names, fields and units)
 * Written through a temporary name and renamed when complete ({@link GalaxyCatalogueWriter}, one group at a time, so
 * that a caller drawing the galaxies redshift by redshift never holds more than one catalogue).
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { assertWritable, tempSibling } from '../util/atomic.js';
import { LodiIOError, assertFinite } from './errors.js';
import type { H5File } from './hdf5.js';
import { attrNumber, attrString, createH5, getDataset, getGroup, readNumeric, setAttr, withH5 } from './hdf5.js';

export const GALAXY_CATALOGUE_FORMAT = 'lodi-galaxy-catalogues';
export const GALAXY_CATALOGUE_VERSION = 1;

/** The per-halo properties of one redshift, each a Float64Array [count] (the fields of src/astro/galaxy `GalaxyProperties`). */
export interface GalaxyCatalogueRecord {
  /** Redshift of the halos (equal to the merger history's redshift of catalogue `haloIndex`). */
  z: number;
  /** Index of the halo catalogue in the merger history whose halos these galaxies belong to, entry by entry. */
  haloIndex: number;
  /** Number of halos (= galaxies). */
  count: number;
  /** Stellar mass of the atomic-cooling galaxy [Msun]. */
  stellarMass: Float64Array;
  /** Stellar mass of the molecular-cooling galaxy [Msun] (zeros without minihalos). */
  stellarMassMini: Float64Array;
  /** Star-formation rate of the atomic-cooling galaxy [Msun/yr]. */
  sfr: Float64Array;
  /** Star-formation rate of the molecular-cooling galaxy [Msun/yr] (zeros without minihalos). */
  sfrMini: Float64Array;
  /** Gas-phase metallicity [Z_sun]. */
  metallicity: Float64Array;
  /** Soft-band X-ray luminosity [erg/s]. */
  lx: Float64Array;
  /** Ionising escape fraction of the atomic-cooling component [1]. */
  fesc: Float64Array;
  /** Escaped ionising photons produced so far, N_γ f_esc M_* / m_p [photons]. */
  nIon: Float64Array;
  /** Escaped ionising photon rate, N_γ f_esc SFR / m_p [photons/s]. */
  nIonDot: Float64Array;
  /** UV luminosity SFR/κ_UV [erg s^-1 Hz^-1]. */
  luv: Float64Array;
  /** UV AB magnitude; +Infinity where the SFR is 0. */
  muv: Float64Array;
  /** Standard normal deviates of the stellar mass, SFR and L_X scatter [1]. */
  deviateStar: Float64Array;
  deviateSfr: Float64Array;
  deviateXray: Float64Array;
}

/** Field of {@link GalaxyCatalogueRecord} holding one per-halo array. */
export type GalaxyField = Exclude<keyof GalaxyCatalogueRecord, 'z' | 'haloIndex' | 'count'>;

/** The datasets of a group: name in the file, field of the record, unit attribute. */
export const GALAXY_DATASETS: readonly { name: string; field: GalaxyField; unit: string }[] = Object.freeze([
  { name: 'stellar_mass', field: 'stellarMass', unit: 'Msun' },
  { name: 'stellar_mass_mini', field: 'stellarMassMini', unit: 'Msun' },
  { name: 'sfr', field: 'sfr', unit: 'Msun/yr' },
  { name: 'sfr_mini', field: 'sfrMini', unit: 'Msun/yr' },
  { name: 'metallicity', field: 'metallicity', unit: 'Z_sun' },
  { name: 'lx', field: 'lx', unit: 'erg/s' },
  { name: 'fesc', field: 'fesc', unit: '1' },
  { name: 'n_ion', field: 'nIon', unit: 'photons' },
  { name: 'n_ion_dot', field: 'nIonDot', unit: 'photons/s' },
  { name: 'luv', field: 'luv', unit: 'erg/s/Hz' },
  { name: 'muv', field: 'muv', unit: 'AB mag' },
  { name: 'deviate_star', field: 'deviateStar', unit: '1' },
  { name: 'deviate_sfr', field: 'deviateSfr', unit: '1' },
  { name: 'deviate_xray', field: 'deviateXray', unit: '1' },
]);

/** Bytes per halo of a galaxy file (the float64 datasets), for size estimates. */
export const GALAXY_BYTES_PER_HALO = 8 * GALAXY_DATASETS.length;

function groupName(haloIndex: number): string {
  return `z_${String(haloIndex).padStart(3, '0')}`;
}

/** Checks one value array: finite, except M_UV, which may be +Infinity (no star formation) but not NaN or -Infinity. */
function checkValues(v: Float64Array, field: GalaxyField, path: string, dataset: string): void {
  if (field !== 'muv') return assertFinite(v, path, dataset);
  for (let i = 0; i < v.length; i++) {
    if (!(Number.isFinite(v[i]!) || v[i] === Infinity)) throw new LodiIOError(path, `value ${v[i]} at index ${i}, expected a finite magnitude or +Infinity (no star formation)`, dataset);
  }
}

/**
 * Writes galaxy catalogues one redshift at a time: `create`, `append` per redshift (ascending, each group written at
 * once), then `close` (renames the temporary file to the path) or, on failure, `abort` (removes it).
 */
export class GalaxyCatalogueWriter {
  private readonly redshifts: number[] = [];
  private readonly haloIndices: number[] = [];
  private done = false;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly file: H5File,
  ) {}

  /**
   * Opens the temporary file and writes the header.
   * @param o.boxSize box side [Mpc/h]; o.halos the merger-history file the groups align with; o.force overwrite `path`
   * @throws OutputExistsError when `path` exists and `force` is not set
   */
  static async create(path: string, o: { boxSize: number; halos: string; provenance?: Record<string, unknown>; force?: boolean }): Promise<GalaxyCatalogueWriter> {
    if (!(Number.isFinite(o.boxSize) && o.boxSize > 0)) throw new LodiIOError(path, `boxSize ${o.boxSize}, expected a positive length in Mpc/h`);
    assertWritable(path, o.force ?? false);
    mkdirSync(dirname(path), { recursive: true });
    const tmp = tempSibling(path);
    const f = await createH5(tmp);
    try {
      f.create_attribute('format', GALAXY_CATALOGUE_FORMAT);
      f.create_attribute('version', Int32Array.of(GALAXY_CATALOGUE_VERSION), [], '<i');
      f.create_attribute('boxSize', Float64Array.of(o.boxSize), [], '<d');
      f.create_attribute('order', 'ascending redshift');
      f.create_attribute('halos', o.halos);
      if (o.provenance) f.create_attribute('provenance', JSON.stringify(o.provenance));
    } catch (err) {
      f.close();
      rmSync(tmp, { force: true });
      throw err;
    }
    return new GalaxyCatalogueWriter(path, tmp, f);
  }

  /** Writes the group of one redshift; redshifts and halo indices must increase from call to call. */
  append(r: GalaxyCatalogueRecord): void {
    if (this.done) throw new LodiIOError(this.path, 'append after close');
    const g = groupName(r.haloIndex);
    const last = this.redshifts.length - 1;
    if (!Number.isInteger(r.haloIndex) || r.haloIndex < 0) throw new LodiIOError(this.path, `halo index ${r.haloIndex}, expected an integer >= 0`, g);
    if (!Number.isFinite(r.z)) throw new LodiIOError(this.path, `z = ${r.z}, expected a finite redshift`, g);
    if (last >= 0 && !(r.z > this.redshifts[last]! && r.haloIndex > this.haloIndices[last]!)) {
      throw new LodiIOError(this.path, `z = ${r.z} (halo index ${r.haloIndex}) after z = ${this.redshifts[last]} (halo index ${this.haloIndices[last]}): expected ascending redshifts and halo indices`, g);
    }
    if (!Number.isInteger(r.count) || r.count < 0) throw new LodiIOError(this.path, `count ${r.count}, expected an integer >= 0`, g);
    for (const d of GALAXY_DATASETS) {
      const v = r[d.field];
      if (!(v instanceof Float64Array) || v.length !== r.count) throw new LodiIOError(this.path, `${d.field} has ${v?.length} values, expected a Float64Array of count = ${r.count}`, `${g}/${d.name}`);
      checkValues(v, d.field, this.path, `${g}/${d.name}`);
    }
    const grp = this.file.create_group(g);
    setAttr(grp, 'z', r.z, '<d');
    setAttr(grp, 'count', r.count, '<Q');
    setAttr(grp, 'halo_index', r.haloIndex, '<i');
    for (const d of GALAXY_DATASETS) {
      const ds = grp.create_dataset({ name: d.name, data: r[d.field], shape: [r.count], dtype: '<d' });
      ds.create_attribute('unit', d.unit);
    }
    this.redshifts.push(r.z);
    this.haloIndices.push(r.haloIndex);
  }

  /** Writes the index datasets, closes the file and renames it to its path. */
  close(): void {
    if (this.done) return;
    try {
      this.file.create_dataset({ name: 'redshifts', data: Float64Array.from(this.redshifts), shape: [this.redshifts.length], dtype: '<d' });
      this.file.create_dataset({ name: 'halo_index', data: Int32Array.from(this.haloIndices), shape: [this.haloIndices.length], dtype: '<i' });
      this.file.close();
      this.done = true;
      renameSync(this.tmp, this.path);
    } catch (err) {
      this.abort();
      throw err;
    }
  }

  /** Closes and removes the temporary file (nothing is left under the path). */
  abort(): void {
    if (!this.done) {
      this.done = true;
      try {
        this.file.close();
      } catch {
        /* already closed */
      }
    }
    rmSync(this.tmp, { force: true });
  }
}

/** Writes whole catalogues at once (ascending redshift); see {@link GalaxyCatalogueWriter}. */
export async function writeGalaxyCatalogues(
  path: string,
  records: readonly GalaxyCatalogueRecord[],
  o: { boxSize: number; halos: string; provenance?: Record<string, unknown>; force?: boolean },
): Promise<void> {
  const w = await GalaxyCatalogueWriter.create(path, o);
  try {
    for (const r of records) w.append(r);
  } catch (err) {
    w.abort();
    throw err;
  }
  w.close();
}

/** A galaxy file read back. */
export interface GalaxyCatalogues {
  boxSize: number;
  /** The merger-history file the groups align with, as recorded. */
  halos: string;
  redshifts: number[];
  haloIndex: number[];
  catalogues: GalaxyCatalogueRecord[];
  provenance?: Record<string, unknown>;
}

/**
 * Reads a file written by {@link GalaxyCatalogueWriter}; errors name the file, the group or dataset and what was
 * expected. With `halos` (the merger history the file claims to align with: its redshifts and halo counts per
 * catalogue) every group is checked against its halo catalogue.
 */
export async function readGalaxyCatalogues(path: string, o: { halos?: { redshifts: readonly number[]; counts: readonly number[] } } = {}): Promise<GalaxyCatalogues> {
  return withH5(path, (f) => {
    const format = attrString(f, 'format');
    if (format !== GALAXY_CATALOGUE_FORMAT) throw new LodiIOError(path, `format attribute is ${JSON.stringify(format)}, expected "${GALAXY_CATALOGUE_FORMAT}"`);
    const version = attrNumber(f, 'version');
    if (version !== GALAXY_CATALOGUE_VERSION) throw new LodiIOError(path, `version ${version}, expected ${GALAXY_CATALOGUE_VERSION}`);
    const boxSize = attrNumber(f, 'boxSize');
    if (!(boxSize !== undefined && boxSize > 0)) throw new LodiIOError(path, `boxSize attribute ${boxSize}, expected a positive length in Mpc/h`);
    const halos = attrString(f, 'halos') ?? '';
    const redshifts = Array.from(readNumeric(f, path, 'redshifts', { kind: 'float' }), Number);
    const haloIndex = Array.from(readNumeric(f, path, 'halo_index', { kind: 'int', rows: redshifts.length }), Number);
    const catalogues = redshifts.map((zExpected, i): GalaxyCatalogueRecord => {
      const hi = haloIndex[i]!;
      if (!(Number.isInteger(hi) && hi >= 0 && (i === 0 || (hi > haloIndex[i - 1]! && zExpected > redshifts[i - 1]!)))) {
        throw new LodiIOError(path, `entry ${i}: halo index ${hi} at z = ${zExpected}, expected increasing indices >= 0 and ascending redshifts`, 'halo_index');
      }
      const name = groupName(hi);
      const g = getGroup(f, name);
      if (!g) throw new LodiIOError(path, `group missing, expected the galaxies of halo catalogue ${hi} (z = ${zExpected})`, name);
      const z = attrNumber(g, 'z');
      const count = attrNumber(g, 'count');
      if (z !== zExpected) throw new LodiIOError(path, `attribute z = ${z} differs from redshifts[${i}] = ${zExpected}`, name);
      if (attrNumber(g, 'halo_index') !== hi) throw new LodiIOError(path, `attribute halo_index = ${attrNumber(g, 'halo_index')}, expected ${hi}`, name);
      if (count === undefined || !Number.isInteger(count) || count < 0) throw new LodiIOError(path, `attribute count = ${count}, expected a non-negative integer`, name);
      if (o.halos) {
        const { redshifts: hz, counts } = o.halos;
        if (!(hi < hz.length)) throw new LodiIOError(path, `halo index ${hi}, but the merger history has ${hz.length} catalogues`, name);
        if (hz[hi] !== z || counts[hi] !== count) throw new LodiIOError(path, `z = ${z} with ${count} galaxies, expected z = ${hz[hi]} with ${counts[hi]} (halo catalogue ${hi})`, name);
      }
      const rec = { z, haloIndex: hi, count } as GalaxyCatalogueRecord;
      for (const d of GALAXY_DATASETS) {
        const ds = `${name}/${d.name}`;
        const unit = attrString(getDataset(f, ds), 'unit');
        const raw = readNumeric(f, path, ds, { kind: 'float', rows: count, finite: false });
        if (count > 0 && !(raw instanceof Float64Array)) throw new LodiIOError(path, `expected float64 [${count}], got ${raw.constructor.name}`, ds);
        if (unit !== d.unit) throw new LodiIOError(path, `unit attribute ${JSON.stringify(unit)}, expected "${d.unit}"`, ds);
        const v = raw instanceof Float64Array ? raw : new Float64Array(0);
        checkValues(v, d.field, path, ds);
        rec[d.field] = v;
      }
      return rec;
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
    return { boxSize, halos, redshifts, haloIndex, catalogues, ...(provenance ? { provenance } : {}) };
  });
}
