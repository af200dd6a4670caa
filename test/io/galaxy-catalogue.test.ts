/**
 * galaxies.h5 (src/io/galaxy-catalogue.ts): a round trip bit for bit (views into larger buffers, an empty catalogue,
 * M_UV = +Infinity), the streaming writer leaving nothing behind when aborted, and bad files and bad records refused
 * with the file, the group or dataset and the expectation named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attrString, createH5, getDataset, setAttr, withH5 } from '../../src/io/hdf5.js';
import { GALAXY_DATASETS, GalaxyCatalogueWriter, readGalaxyCatalogues, writeGalaxyCatalogues, type GalaxyCatalogueRecord } from '../../src/io/galaxy-catalogue.js';
import { Rng } from '../../src/util/rng.js';
import { tempDir } from './helpers.js';

/** A record of `count` galaxies with every field drawn (log-uniform positive values, normal deviates). */
function record(z: number, haloIndex: number, count: number, seed: number): GalaxyCatalogueRecord {
  const rng = new Rng(seed);
  const r = { z, haloIndex, count } as GalaxyCatalogueRecord;
  for (const d of GALAXY_DATASETS) {
    r[d.field] = d.field.startsWith('deviate')
      ? Float64Array.from({ length: count }, () => rng.normal())
      : Float64Array.from({ length: count }, () => 10 ** (40 * rng.uniform() - 10));
  }
  r.muv = Float64Array.from({ length: count }, () => -10 - 12 * rng.uniform());
  if (count > 2) r.muv[2] = Infinity; // no star formation
  return r;
}

const HALOS = { redshifts: [6, 6.14, 6.2828, 6.4285], counts: [50, 40, 0, 7] };

test('galaxy catalogues: HDF5 round trip bit for bit, aligned with the halo catalogues', async () => {
  const { dir, cleanup } = tempDir('lodi-galaxies-');
  try {
    const recs = [record(6, 0, 50, 1), record(6.2828, 2, 0, 2), record(6.4285, 3, 7, 3)];
    // a view into a larger buffer, as the galaxy model's arrays may be
    const big = new Float64Array(80).fill(-1);
    big.set(recs[0]!.sfr, 20);
    recs[0]!.sfr = big.subarray(20, 70);
    const path = join(dir, 'galaxies.h5');
    const prov = { seed: 3, cosmology: { h: 0.6711 }, astro: { F_STAR10: -1.3 } };
    await writeGalaxyCatalogues(path, recs, { boxSize: 25, halos: '/some/where/halos.h5', provenance: prov });
    const r = await readGalaxyCatalogues(path, { halos: HALOS });
    assert.equal(r.boxSize, 25);
    assert.equal(r.halos, '/some/where/halos.h5');
    assert.deepEqual(r.redshifts, [6, 6.2828, 6.4285]);
    assert.deepEqual(r.haloIndex, [0, 2, 3]);
    assert.deepEqual(r.provenance, prov);
    r.catalogues.forEach((c, i) => {
      const w = recs[i]!;
      assert.deepEqual([c.z, c.haloIndex, c.count], [w.z, w.haloIndex, w.count]);
      for (const d of GALAXY_DATASETS) {
        assert.ok(c[d.field] instanceof Float64Array, d.name);
        // bit for bit: the bytes of every value, including +Infinity
        assert.deepEqual(new Uint8Array(c[d.field].buffer, c[d.field].byteOffset, c[d.field].byteLength), new Uint8Array(w[d.field].slice().buffer), `${i}/${d.name}`);
      }
    });
    assert.equal(r.catalogues[0]!.muv[2], Infinity);
    // the unit of every dataset is stored with it
    await withH5(path, (f) => {
      for (const d of GALAXY_DATASETS) assert.equal(attrString(getDataset(f, `z_003/${d.name}`), 'unit'), d.unit);
    });
    // not overwritten without force; with force it is
    await assert.rejects(writeGalaxyCatalogues(path, recs, { boxSize: 25, halos: 'h' }), /already exists; pass --force/);
    await writeGalaxyCatalogues(path, recs.slice(0, 1), { boxSize: 25, halos: 'h', force: true });
    assert.deepEqual((await readGalaxyCatalogues(path)).redshifts, [6]);
  } finally {
    cleanup();
  }
});

test('galaxy catalogues: the streaming writer writes nothing under the name until closed, and nothing at all when aborted', async () => {
  const { dir, cleanup } = tempDir('lodi-galaxies-');
  try {
    const path = join(dir, 'galaxies.h5');
    const w = await GalaxyCatalogueWriter.create(path, { boxSize: 10, halos: 'h' });
    w.append(record(6, 0, 5, 1));
    assert.equal(existsSync(path), false);
    // out of order: refused, naming the group
    assert.throws(() => w.append(record(5.9, 1, 5, 2)), /galaxies\.h5: z_001: z = 5\.9 \(halo index 1\) after z = 6 \(halo index 0\): expected ascending/);
    // wrong length, non-finite values
    const short = record(6.2, 1, 5, 3);
    short.lx = new Float64Array(4);
    assert.throws(() => w.append(short), /z_001\/lx: lx has 4 values, expected a Float64Array of count = 5/);
    const nan = record(6.2, 1, 5, 3);
    nan.metallicity[1] = NaN;
    assert.throws(() => w.append(nan), /z_001\/metallicity: non-finite value NaN at index 1/);
    const minusInf = record(6.2, 1, 5, 3);
    minusInf.muv[0] = -Infinity;
    assert.throws(() => w.append(minusInf), /z_001\/muv: value -Infinity at index 0, expected a finite magnitude or \+Infinity/);
    w.abort();
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    cleanup();
  }
});

test('galaxy catalogues: bad files are refused with the file, the dataset and the expectation named', async () => {
  const { dir, cleanup } = tempDir('lodi-galaxies-');
  try {
    const good = [record(6, 0, 50, 1), record(6.4285, 3, 7, 3)];
    // another lodi HDF5 format
    const other = join(dir, 'other.h5');
    const f = await createH5(other);
    f.create_attribute('format', 'lodi-halo-merger-history');
    f.close();
    await assert.rejects(readGalaxyCatalogues(other), /other\.h5: format attribute is "lodi-halo-merger-history", expected "lodi-galaxy-catalogues"/);
    // not HDF5, truncated
    const text = join(dir, 'text.h5');
    writeFileSync(text, 'z,stellar_mass\n6,1e8\n');
    await assert.rejects(readGalaxyCatalogues(text), /text\.h5: signature: not an HDF5 file/);
    // aligned with other halos: another count, or an index beyond the merger history
    const path = join(dir, 'galaxies.h5');
    await writeGalaxyCatalogues(path, good, { boxSize: 25, halos: 'h' });
    await assert.rejects(readGalaxyCatalogues(path, { halos: { redshifts: HALOS.redshifts, counts: [50, 40, 0, 8] } }), /galaxies\.h5: z_003: z = 6\.4285 with 7 galaxies, expected z = 6\.4285 with 8 \(halo catalogue 3\)/);
    await assert.rejects(readGalaxyCatalogues(path, { halos: { redshifts: [6, 6.14], counts: [50, 40] } }), /z_003: halo index 3, but the merger history has 2 catalogues/);
    // a dataset in another unit, of another type or length, non-finite, or missing: files written by hand in the same
    // layout as the writer's, with one thing changed
    const hand = async (name: string, change: { dataset?: string; data?: Float64Array | Float32Array; unit?: string; skip?: string }): Promise<string> => {
      const p = join(dir, name);
      const file = await createH5(p);
      try {
        file.create_attribute('format', 'lodi-galaxy-catalogues');
        file.create_attribute('version', Int32Array.of(1), [], '<i');
        file.create_attribute('boxSize', Float64Array.of(25), [], '<d');
        file.create_dataset({ name: 'redshifts', data: Float64Array.of(6, 6.4285), shape: [2], dtype: '<d' });
        file.create_dataset({ name: 'halo_index', data: Int32Array.of(0, 3), shape: [2], dtype: '<i' });
        for (const r of good) {
          const gName = `z_00${r.haloIndex}`;
          if (change.skip === gName) continue;
          const g = file.create_group(gName);
          setAttr(g, 'z', r.z, '<d');
          setAttr(g, 'count', r.count, '<Q');
          setAttr(g, 'halo_index', r.haloIndex, '<i');
          for (const d of GALAXY_DATASETS) {
            const path = `${gName}/${d.name}`;
            if (change.skip === path) continue;
            const data = change.dataset === path && change.data ? change.data : r[d.field];
            const ds = g.create_dataset({ name: d.name, data, shape: [data.length], dtype: data instanceof Float32Array ? '<f' : '<d' });
            ds.create_attribute('unit', change.dataset === path && change.unit !== undefined ? change.unit : d.unit);
          }
        }
      } finally {
        file.close();
      }
      return p;
    };
    // the hand-written file with nothing changed reads back as the writer's
    const same = await readGalaxyCatalogues(await hand('same.h5', {}));
    assert.deepEqual(same.catalogues[1]!.lx, good[1]!.lx);
    const unit = await hand('unit.h5', { dataset: 'z_000/lx', unit: 'erg/s/(Msun/yr)' });
    await assert.rejects(readGalaxyCatalogues(unit), /unit\.h5: z_000\/lx: unit attribute "erg\/s\/\(Msun\/yr\)", expected "erg\/s"/);
    const f32 = await hand('float32.h5', { dataset: 'z_003/sfr', data: new Float32Array(7) });
    await assert.rejects(readGalaxyCatalogues(f32), /float32\.h5: z_003\/sfr: expected float64 \[7\], got Float32Array/);
    const rows = await hand('rows.h5', { dataset: 'z_000/fesc', data: new Float64Array(49) });
    await assert.rejects(readGalaxyCatalogues(rows), /rows\.h5: z_000\/fesc: expected 50 rows \(from the header\), got 49/);
    const v = new Float64Array(50).fill(1);
    v[9] = NaN;
    const nonfinite = await hand('nan.h5', { dataset: 'z_000/n_ion', data: v });
    await assert.rejects(readGalaxyCatalogues(nonfinite), /nan\.h5: z_000\/n_ion: non-finite value NaN at index 9/);
    const missing = await hand('missing.h5', { skip: 'z_003/muv' });
    await assert.rejects(readGalaxyCatalogues(missing), /missing\.h5: z_003\/muv: dataset missing, expected float \[n\] with 7 rows/);
    const group = await hand('group.h5', { skip: 'z_003' });
    await assert.rejects(readGalaxyCatalogues(group), /group\.h5: z_003: group missing, expected the galaxies of halo catalogue 3 \(z = 6\.4285\)/);
  } finally {
    cleanup();
  }
});
