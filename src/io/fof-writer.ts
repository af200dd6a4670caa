/**
 * Writer for FoF group catalogues with GADGET-4 key names (`Header`, `Parameters`, `Group/`), so
 * lodi's own halo finder produces files that readFofCatalogue (and other GADGET-4 tools) read like
 * real ones. Lengths in Mpc/h (UnitLength_in_cm = 3.085678e24), masses in 1e10 Msun/h.
 */
import { withAtomicPath, assertWritable } from '../util/atomic.js';
import { createH5, setAttr, writeCosmologyAndUnits, type CosmologyToWrite } from './hdf5.js';
import { assertFinite, LodiIOError } from './errors.js';

export interface FofCatalogueToWrite extends CosmologyToWrite {
  /** Mpc/h. */
  boxSize: number;
  redshift: number;
  groups: {
    /** Mpc/h, flat [n*3]. */
    positions: Float32Array;
    /** Msun/h (FoF mass). */
    masses: Float32Array | Float64Array;
    /** Particles per group. */
    len: Int32Array;
    /** km/s, flat [n*3]. */
    velocities?: Float32Array;
    /** Msun/h, M200c (0 where undefined). */
    mCrit200?: Float32Array | Float64Array;
  };
  provenance?: Record<string, unknown>;
}

/** Writes a single-file catalogue. */
export async function writeFofCatalogue(path: string, c: FofCatalogueToWrite, opts: { force?: boolean } = {}): Promise<void> {
  const n = c.groups.len.length;
  const g = c.groups;
  if (g.positions.length !== 3 * n || g.masses.length !== n || (g.velocities && g.velocities.length !== 3 * n) || (g.mCrit200 && g.mCrit200.length !== n)) {
    throw new LodiIOError(path, `inconsistent group array lengths (len has ${n} groups)`);
  }
  assertFinite(g.positions, path, 'Group/GroupPos', 3);
  assertFinite(g.masses, path, 'Group/GroupMass');
  assertWritable(path, opts.force ?? false);
  await withAtomicPath(
    path,
    async (tmp) => {
      const f = await createH5(tmp);
      try {
        const h = f.create_group('Header');
        setAttr(h, 'BoxSize', c.boxSize, '<d');
        setAttr(h, 'Redshift', c.redshift, '<d');
        setAttr(h, 'Time', 1 / (1 + c.redshift), '<d');
        setAttr(h, 'Ngroups_ThisFile', n, '<Q');
        setAttr(h, 'Ngroups_Total', n, '<Q');
        setAttr(h, 'Nsubhalos_ThisFile', 0, '<Q');
        setAttr(h, 'Nsubhalos_Total', 0, '<Q');
        setAttr(h, 'Nids_ThisFile', 0, '<Q');
        setAttr(h, 'Nids_Total', 0, '<Q');
        setAttr(h, 'NumFiles', 1, '<i');
        if (c.provenance) h.create_attribute('lodi_provenance', JSON.stringify(c.provenance));
        const p = f.create_group('Parameters');
        setAttr(p, 'BoxSize', c.boxSize, '<d');
        writeCosmologyAndUnits(p, c);
        const grp = f.create_group('Group');
        f.create_group('Subhalo');
        f.create_group('IDs');
        if (n > 0) {
          grp.create_dataset({ name: 'GroupPos', data: Float32Array.from(g.positions), shape: [n, 3], dtype: '<f' });
          grp.create_dataset({ name: 'GroupMass', data: Float32Array.from(g.masses, (m) => m / 1e10), shape: [n], dtype: '<f' });
          grp.create_dataset({ name: 'GroupLen', data: Int32Array.from(g.len), shape: [n], dtype: '<i' });
          if (g.velocities) grp.create_dataset({ name: 'GroupVel', data: Float32Array.from(g.velocities), shape: [n, 3], dtype: '<f' });
          if (g.mCrit200) grp.create_dataset({ name: 'Group_M_Crit200', data: Float32Array.from(g.mCrit200, (m) => m / 1e10), shape: [n], dtype: '<f' });
        }
      } finally {
        f.close();
      }
    },
    { force: true },
  );
}
