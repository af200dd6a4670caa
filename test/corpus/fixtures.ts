/**
 * Small synthetic inputs written at test time: GADGET-4-style HDF5 snapshots (DM + gas, one or
 * several pieces), FoF/Subfind catalogues (including empty ones without `Group/`, as GADGET-4 writes
 * them before the first halo forms), and Gadget binary snapshots in format 1 and 2. Every writer can
 * leave out or spoil one thing, so the corpus and the reader tests can build broken inputs from
 * good ones. Positions are drawn with a seeded Rng.
 */
import { writeFileSync } from 'node:fs';
import h5wasm from 'h5wasm/node';
import { Rng } from '../../src/util/rng.js';

type H5File = InstanceType<typeof h5wasm.File>;
type H5Group = InstanceType<typeof h5wasm.Group>;

/** Uniform positions in [0, box) (code units), flat [n*3]. */
export function uniformPositions(n: number, box: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: 3 * n }, () => rng.uniform() * box);
}

export interface GasPiece {
  positions: Float32Array;
  /** Code mass units (1e10 Msun/h). */
  masses: Float32Array;
  nh: Float32Array;
  sfr: Float32Array;
}

export interface SnapshotSpec {
  /** Box side in code units. */
  box: number;
  /** UnitLength_in_cm written to Parameters; undefined writes none (the reader must guess). */
  unitLengthCm?: number;
  redshift?: number;
  /** DM particle mass in code units (MassTable[1]). */
  dmMass?: number;
  pieces: { dm: Float32Array; gas?: GasPiece }[];
  /** Datasets (e.g. 'PartType0/NeutralHydrogenAbundance') or groups (e.g. 'PartType1') not to write. */
  omit?: readonly string[];
  /** Pieces (by number) not to write at all, as if lost. */
  skipPieces?: readonly number[];
}

const COSMO = { Omega0: 0.3, OmegaLambda: 0.7, OmegaBaryon: 0.049, HubbleParam: 0.6711 };

function attrs(g: H5Group, values: Record<string, number>): void {
  for (const [k, v] of Object.entries(values)) g.create_attribute(k, v, [], '<d');
}

/** Names of the pieces of `base` (`base.hdf5`, or `base.i.hdf5` for several). */
export function snapshotNames(base: string, pieces: number): string[] {
  return pieces === 1 ? [`${base}.hdf5`] : Array.from({ length: pieces }, (_, i) => `${base}.${i}.hdf5`);
}

/** Writes a GADGET-4-layout snapshot (cosmology and units in Parameters); returns the file names. */
export async function writeSnapshot(base: string, s: SnapshotSpec): Promise<string[]> {
  await h5wasm.ready;
  const names = snapshotNames(base, s.pieces.length);
  const totals = [0, 0, 0, 0, 0, 0];
  for (const p of s.pieces) {
    totals[1]! += p.dm.length / 3;
    totals[0]! += p.gas ? p.gas.masses.length : 0;
  }
  const omit = new Set(s.omit ?? []);
  s.pieces.forEach((p, i) => {
    if (s.skipPieces?.includes(i)) return;
    const f: H5File = new h5wasm.File(names[i]!, 'w');
    try {
      const h = f.create_group('Header');
      attrs(h, { BoxSize: s.box, Redshift: s.redshift ?? 1, Time: 1 / (1 + (s.redshift ?? 1)) });
      h.create_attribute('MassTable', Float64Array.from([0, s.dmMass ?? 1, 0, 0, 0, 0]), [6], '<d');
      const nThis = [p.gas ? p.gas.masses.length : 0, p.dm.length / 3, 0, 0, 0, 0];
      h.create_attribute('NumPart_ThisFile', Uint32Array.from(nThis), [6], '<I');
      h.create_attribute('NumPart_Total', Uint32Array.from(totals), [6], '<I');
      h.create_attribute('NumFilesPerSnapshot', s.pieces.length, [], '<i');
      const par = f.create_group('Parameters');
      attrs(par, COSMO);
      if (s.unitLengthCm !== undefined) attrs(par, { UnitLength_in_cm: s.unitLengthCm, UnitMass_in_g: 1.989e43 });
      const put = (g: H5Group, group: string, name: string, data: Float32Array, width: number): void => {
        if (omit.has(`${group}/${name}`)) return;
        g.create_dataset({ name, data, shape: width === 1 ? [data.length] : [data.length / width, width], dtype: '<f' });
      };
      if (nThis[1]! > 0 && !omit.has('PartType1')) put(f.create_group('PartType1'), 'PartType1', 'Coordinates', p.dm, 3);
      if (p.gas && nThis[0]! > 0 && !omit.has('PartType0')) {
        const g = f.create_group('PartType0');
        put(g, 'PartType0', 'Coordinates', p.gas.positions, 3);
        put(g, 'PartType0', 'Masses', p.gas.masses, 1);
        put(g, 'PartType0', 'NeutralHydrogenAbundance', p.gas.nh, 1);
        put(g, 'PartType0', 'StarFormationRate', p.gas.sfr, 1);
      }
    } finally {
      f.close();
    }
  });
  return names;
}

/** A gas piece with uniform positions, masses of 0.1 code units, x_HI = 0.5 and every 7th particle star-forming. */
export function gasPiece(n: number, box: number, seed: number): GasPiece {
  return {
    positions: uniformPositions(n, box, seed),
    masses: new Float32Array(n).fill(0.1),
    nh: new Float32Array(n).fill(0.5),
    sfr: Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 1 : 0)),
  };
}

export interface CataloguePiece {
  /** Group positions (code units, flat [n*3]) and masses (code units); omitted or empty for none. */
  groups?: { positions: Float32Array; masses: Float32Array };
  /** Write `Group/` even with no groups (lodi's own writer does; GADGET-4 does not). */
  emptyGroup?: boolean;
  /** Override of Ngroups_ThisFile (to make a header promise what the file lacks). */
  ngroupsThis?: number;
}

export interface CatalogueSpec {
  box: number;
  unitLengthCm?: number;
  redshift?: number;
  pieces: CataloguePiece[];
  /** Override of Ngroups_Total. */
  ngroupsTotal?: number;
}

/** Writes a GADGET-4-layout FoF catalogue (`fof_subhalo_tab` style); returns the file names. */
export async function writeCatalogue(base: string, c: CatalogueSpec): Promise<string[]> {
  await h5wasm.ready;
  const names = snapshotNames(base, c.pieces.length);
  const count = (p: CataloguePiece): number => (p.groups ? p.groups.masses.length : 0);
  const total = c.ngroupsTotal ?? c.pieces.reduce((a, p) => a + count(p), 0);
  c.pieces.forEach((p, i) => {
    const f: H5File = new h5wasm.File(names[i]!, 'w');
    try {
      const h = f.create_group('Header');
      attrs(h, { BoxSize: c.box, Redshift: c.redshift ?? 1, Time: 1 / (1 + (c.redshift ?? 1)) });
      h.create_attribute('Ngroups_ThisFile', BigUint64Array.from([BigInt(p.ngroupsThis ?? count(p))]), [], '<Q');
      h.create_attribute('Ngroups_Total', BigUint64Array.from([BigInt(total)]), [], '<Q');
      h.create_attribute('Nsubhalos_ThisFile', BigUint64Array.from([0n]), [], '<Q');
      h.create_attribute('Nsubhalos_Total', BigUint64Array.from([0n]), [], '<Q');
      h.create_attribute('NumFiles', c.pieces.length, [], '<i');
      const par = f.create_group('Parameters');
      attrs(par, COSMO);
      if (c.unitLengthCm !== undefined) attrs(par, { UnitLength_in_cm: c.unitLengthCm, UnitMass_in_g: 1.989e43 });
      if (count(p) > 0 || p.emptyGroup) {
        const g = f.create_group('Group');
        if (p.groups && count(p) > 0) {
          g.create_dataset({ name: 'GroupPos', data: p.groups.positions, shape: [count(p), 3], dtype: '<f' });
          g.create_dataset({ name: 'GroupMass', data: p.groups.masses, shape: [count(p)], dtype: '<f' });
        }
      }
    } finally {
      f.close();
    }
  });
  return names;
}

export interface BinarySpec {
  format: 1 | 2;
  little: boolean;
  /** Header BoxSize (code units; 0 = not set). */
  box: number;
  redshift?: number;
  /** Header cosmology; zeros as in many IC files. */
  omega0?: number;
  hubble?: number;
  dm: Float32Array;
  /** DM mass in code units (massarr[1]). */
  dmMass: number;
  gas?: GasPiece;
  /** Format 2: also write the NH and SFR gas blocks. */
  gasPhysics?: boolean;
  /** Blocks (labels) not to write. */
  omit?: readonly string[];
}

/** Writes a one-file Gadget binary snapshot (format 1 or 2, either byte order). */
export function writeBinary(path: string, s: BinarySpec): void {
  const out: Buffer[] = [];
  const int = (v: number): Buffer => {
    const b = Buffer.alloc(4);
    if (s.little) b.writeInt32LE(v);
    else b.writeInt32BE(v);
    return b;
  };
  const omit = new Set(s.omit ?? []);
  const record = (label: string, payload: Buffer): void => {
    if (omit.has(label)) return;
    if (s.format === 2) {
      const lab = Buffer.alloc(8);
      lab.write(label.padEnd(4, ' '), 0, 'latin1');
      if (s.little) lab.writeInt32LE(payload.length + 8, 4);
      else lab.writeInt32BE(payload.length + 8, 4);
      out.push(int(8), lab, int(8));
    }
    out.push(int(payload.length), payload, int(payload.length));
  };
  const floats = (a: ArrayLike<number>): Buffer => {
    const b = Buffer.alloc(4 * a.length);
    for (let i = 0; i < a.length; i++) {
      if (s.little) b.writeFloatLE(a[i]!, 4 * i);
      else b.writeFloatBE(a[i]!, 4 * i);
    }
    return b;
  };
  const ng = s.gas ? s.gas.masses.length : 0;
  const nd = s.dm.length / 3;
  const h = Buffer.alloc(256);
  const w32 = (v: number, at: number): number => (s.little ? h.writeInt32LE(v, at) : h.writeInt32BE(v, at));
  const wf = (v: number, at: number): number => (s.little ? h.writeDoubleLE(v, at) : h.writeDoubleBE(v, at));
  w32(ng, 0);
  w32(nd, 4);
  wf(s.dmMass, 24 + 8);
  const z = s.redshift ?? 1;
  wf(1 / (1 + z), 72);
  wf(z, 80);
  w32(ng, 96);
  w32(nd, 100);
  w32(1, 124);
  wf(s.box, 128);
  wf(s.omega0 ?? 0.3, 136);
  wf(s.omega0 === 0 ? 0 : 0.7, 144);
  wf(s.hubble ?? 0.6711, 152);
  record('HEAD', h);
  const pos = new Float32Array(3 * (ng + nd));
  if (s.gas) pos.set(s.gas.positions, 0);
  pos.set(s.dm, 3 * ng);
  record('POS', floats(pos));
  record('VEL', floats(new Float32Array(3 * (ng + nd))));
  const ids = Buffer.alloc(4 * (ng + nd));
  for (let i = 0; i < ng + nd; i++) {
    if (s.little) ids.writeUInt32LE(i + 1, 4 * i);
    else ids.writeUInt32BE(i + 1, 4 * i);
  }
  record('ID', ids);
  if (s.gas) {
    record('MASS', floats(s.gas.masses));
    record('U', floats(new Float32Array(ng).fill(100)));
    if (s.format === 2 && s.gasPhysics) {
      record('NH', floats(s.gas.nh));
      record('SFR', floats(s.gas.sfr));
    }
  }
  writeFileSync(path, Buffer.concat(out));
}
