/**
 * Writer for Gadget-style HDF5 snapshots of dark-matter particles (PartType1), e.g. from lodi's own
 * simulator. Lengths are written in Mpc/h (UnitLength_in_cm = 3.085678e24), masses in 1e10 Msun/h,
 * velocities in km/s as given. The cosmology and units go both to `Header` (Gadget-2/3, AREPO
 * layout) and to `Parameters` (GADGET-4 layout), so any reader finds them.
 */
import { withAtomicPath, assertWritable } from '../util/atomic.js';
import { createH5, setAttr, writeCosmologyAndUnits, type CosmologyToWrite, type Group } from './hdf5.js';
import { assertFinite, LodiIOError } from './errors.js';

export interface SnapshotToWrite extends CosmologyToWrite {
  /** Mpc/h. */
  boxSize: number;
  redshift: number;
  /** Mpc/h, flat [n*3], in [0, boxSize). */
  positions: Float32Array;
  /** km/s (Gadget velocity variable), flat [n*3]. */
  velocities?: Float32Array;
  /** Particle IDs; default 1..n. */
  ids?: Uint32Array | BigUint64Array;
  /** Mass of every DM particle in Msun/h (goes to MassTable[1]). */
  particleMass: number;
  /** Free-form provenance stored as a JSON string attribute `Header/lodi_provenance`. */
  provenance?: Record<string, unknown>;
}

export interface WriteSnapshotOptions {
  force?: boolean;
  /** Split into this many pieces `<base>.0.hdf5` ... (path must end in .hdf5; default 1 = one file). */
  numFiles?: number;
}

function pieceNames(path: string, numFiles: number): string[] {
  if (numFiles <= 1) return [path];
  if (!path.endsWith('.hdf5')) throw new LodiIOError(path, 'a multi-file snapshot name must end in .hdf5');
  const base = path.slice(0, -'.hdf5'.length);
  return Array.from({ length: numFiles }, (_, i) => `${base}.${i}.hdf5`);
}

/** Writes a DM-only snapshot; returns the file names written. */
export async function writeGadgetHdf5(path: string, s: SnapshotToWrite, opts: WriteSnapshotOptions = {}): Promise<string[]> {
  const n = Math.floor(s.positions.length / 3);
  if (s.positions.length !== 3 * n) throw new LodiIOError(path, `positions length ${s.positions.length} is not a multiple of 3`);
  if (s.velocities && s.velocities.length !== 3 * n) {
    throw new LodiIOError(path, `velocities length ${s.velocities.length}, expected ${3 * n}`);
  }
  if (s.ids && s.ids.length !== n) throw new LodiIOError(path, `ids length ${s.ids.length}, expected ${n}`);
  if (!(s.boxSize > 0) || !(s.particleMass > 0)) throw new LodiIOError(path, 'boxSize and particleMass must be positive');
  assertFinite(s.positions, path, 'positions', 3);
  if (s.velocities) assertFinite(s.velocities, path, 'velocities', 3);
  const numFiles = Math.max(1, Math.floor(opts.numFiles ?? 1));
  const names = pieceNames(path, numFiles);
  for (const name of names) assertWritable(name, opts.force ?? false);
  const ids = s.ids ?? (n < 2 ** 32 ? Uint32Array.from({ length: n }, (_, i) => i + 1) : BigUint64Array.from({ length: n }, (_, i) => BigInt(i + 1)));
  const a = 1 / (1 + s.redshift);
  const totLow = n % 2 ** 32;
  const totHigh = Math.floor(n / 2 ** 32);
  for (let p = 0; p < numFiles; p++) {
    const lo = Math.floor((n * p) / numFiles);
    const hi = Math.floor((n * (p + 1)) / numFiles);
    const count = hi - lo;
    await withAtomicPath(
      names[p] as string,
      async (tmp) => {
        const f = await createH5(tmp);
        try {
          const h = f.create_group('Header');
          setAttr(h, 'BoxSize', s.boxSize, '<d');
          setAttr(h, 'Redshift', s.redshift, '<d');
          setAttr(h, 'Time', a, '<d');
          setAttr(h, 'MassTable', [0, s.particleMass / 1e10, 0, 0, 0, 0], '<d');
          setAttr(h, 'NumPart_ThisFile', [0, count, 0, 0, 0, 0], '<I');
          setAttr(h, 'NumPart_Total', [0, totLow, 0, 0, 0, 0], '<I');
          setAttr(h, 'NumPart_Total_HighWord', [0, totHigh, 0, 0, 0, 0], '<I');
          setAttr(h, 'NumFilesPerSnapshot', numFiles, '<i');
          setAttr(h, 'Flag_DoublePrecision', 0, '<i');
          writeCosmologyAndUnits(h, s);
          if (s.provenance) h.create_attribute('lodi_provenance', JSON.stringify(s.provenance));
          writeCosmologyAndUnits(f.create_group('Parameters'), s);
          setAttr(f.get('Parameters') as Group, 'BoxSize', s.boxSize, '<d');
          const g = f.create_group('PartType1');
          if (count > 0) {
            g.create_dataset({ name: 'Coordinates', data: s.positions.subarray(3 * lo, 3 * hi), shape: [count, 3], dtype: '<f' });
            if (s.velocities) {
              g.create_dataset({ name: 'Velocities', data: s.velocities.subarray(3 * lo, 3 * hi), shape: [count, 3], dtype: '<f' });
            }
            const idPart = ids.subarray(lo, hi);
            g.create_dataset({ name: 'ParticleIDs', data: idPart, shape: [count], dtype: idPart instanceof Uint32Array ? '<I' : '<Q' });
          }
        } finally {
          f.close();
        }
      },
      { force: true },
    );
  }
  return names;
}
