import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadGrid, readWorld } from '../../src/io/index.js';
import { runPrepare, type PrepareOptions } from '../../src/pipeline/prepare.js';
import { referenceDir } from '../reference-dir.js';
import { tempDir } from '../io/helpers.js';
import { gasPiece, uniformPositions, writeBinary, writeCatalogue, writeSnapshot } from '../corpus/fixtures.js';

const KPC = 3.085678e21;
const BASE: Omit<PrepareOptions, 'snapshot' | 'out'> = {
  grid: 8,
  smoothing: 0,
  massUnit: 'Msun',
  massDefinition: 'fof',
  halos: 'groups',
  chunk: 500,
  plots: false,
  quiet: true,
};

function sum64(a: Float32Array): number {
  let s = 0;
  for (const v of a) s += v;
  return s;
}

/** Mass on a grid [Msun/h]: Σ ρ × cell volume. */
const gridMass = (path: string, box: number, n: number): number => sum64(loadGrid(path).data) * (box / n) ** 3;

/** Independent float64 HI mass: Σ m x_HI X with x_HI := 1 where SFR > 0, X = 0.76 (LODI paper Eq. 11). */
function hiMass(g: { masses: Float32Array; nh: Float32Array; sfr: Float32Array }): number {
  let s = 0;
  for (let i = 0; i < g.masses.length; i++) s += g.masses[i]! * 1e10 * (g.sfr[i]! > 0 ? 1 : g.nh[i]!) * 0.76;
  return s;
}

test('an empty catalogue (Ngroups_Total = 0, no Group/) gives zero halo channels and a "0 groups" line', async () => {
  const { dir, cleanup } = tempDir('lodi-prep-');
  try {
    const box = 25000;
    const gas = gasPiece(300, box, 2);
    await writeSnapshot(join(dir, 'snap_000'), { box, unitLengthCm: KPC, dmMass: 3, pieces: [{ dm: uniformPositions(500, box, 1), gas }] });
    await writeCatalogue(join(dir, 'fof_subhalo_tab_000'), { box, unitLengthCm: KPC, pieces: [{}] });
    const out = join(dir, 'w');
    const res = await runPrepare({ ...BASE, snapshot: join(dir, 'snap_000'), groups: join(dir, 'fof_subhalo_tab_000'), out });
    assert.equal(res.haloCount, 0);
    const halos = loadGrid(join(out, 'halos.npy'), { expectChannels: 4 });
    assert.ok(halos.data.every((v) => v === 0));
    // painting conserves mass: float32 grid sums against n m (rel 1e-6 covers float32 accumulation over 512 cells)
    assert.ok(Math.abs(gridMass(join(out, 'dm.npy'), 25, 8) / (500 * 3e10) - 1) < 1e-6);
    assert.ok(Math.abs(gridMass(join(out, 'hi.npy'), 25, 8) / hiMass(gas) - 1) < 1e-6);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    assert.match(report, /Catalogue: 0 groups \(halo channels from groups; Ngroups_Total = 0\)\./);
    assert.equal((readWorld(out).provenance.catalogue as { groups: number }).groups, 0);
  } finally {
    cleanup();
  }
});

test('without --groups the report has no halo rows; a missing gas field skips hi/tb and still writes dm', async () => {
  const { dir, cleanup } = tempDir('lodi-prep-');
  try {
    const box = 25000;
    await writeSnapshot(join(dir, 'snap_001'), {
      box,
      unitLengthCm: KPC,
      pieces: [{ dm: uniformPositions(400, box, 3), gas: gasPiece(200, box, 4) }],
      omit: ['PartType0/NeutralHydrogenAbundance'],
    });
    const out = join(dir, 'w');
    const res = await runPrepare({ ...BASE, snapshot: join(dir, 'snap_001.hdf5'), out });
    assert.deepEqual(res.skipped, [
      'hi.npy and tb.npy: snap_001.hdf5 lacks PartType0/NeutralHydrogenAbundance for its 200 gas particles; expected n_HI/n_H and the star-formation rate to paint HI',
    ]);
    assert.deepEqual(readdirSync(out).sort(), ['dm.json', 'dm.npy', 'prepare.log', 'report.md', 'world.json']);
    const report = readFileSync(join(out, 'report.md'), 'utf8');
    assert.doesNotMatch(report, /M in \[/);
    assert.match(report, /Catalogue: none given \(--groups\), so no halo channels\./);
    assert.match(report, /## Skipped\n\n- hi\.npy and tb\.npy: snap_001\.hdf5 lacks PartType0\/NeutralHydrogenAbundance/);
    const rows = report.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| quantity') && !l.startsWith('| ---'));
    assert.equal(rows.length, 1); // dark matter only
    assert.match(readFileSync(join(out, 'prepare.log'), 'utf8'), /skipped hi\.npy and tb\.npy/);
  } finally {
    cleanup();
  }
});

test('Gadget binary snapshots: format 1 (the reference ICs, by name) and format 2 with gas physics', async () => {
  const { dir, cleanup } = tempDir('lodi-prep-');
  try {
    const ic = join(referenceDir(), 'lcdm_gas_littleendian.dat');
    const cosmology = { Omega_m: 0.3, h: 0.7, Omega_b: 0.04 };
    await assert.rejects(runPrepare({ ...BASE, snapshot: ic, out: join(dir, 'a') }), /lcdm_gas_littleendian\.dat: HEAD: header BoxSize is 0/);
    await assert.rejects(runPrepare({ ...BASE, snapshot: ic, box: 50, out: join(dir, 'a') }), /HEAD: HubbleParam is 0 \(not set in the file\)/);
    assert.equal(existsSync(join(dir, 'a')), false);
    const r1 = await runPrepare({ ...BASE, snapshot: ic, box: 50, cosmology, chunk: 10_000, out: join(dir, 'a') });
    // README: 32768 DM particles of 27.52799650181371e10 Msun/h (massarr[1])
    assert.ok(Math.abs(gridMass(join(dir, 'a', 'dm.npy'), 50, 8) / (32768 * 27.52799650181371e10) - 1) < 1e-6);
    assert.equal(r1.skipped.length, 1);
    assert.match(r1.skipped[0]!, /lacks NH, SFR \(Gadget format-1 binary files have no labelled gas-physics blocks\)/);
    const w = readWorld(join(dir, 'a'));
    assert.equal(w.provenance.snapshotFormat, 'gadget1');
    assert.match(JSON.stringify(w.provenance.lengthUnit), /kpc\/h guessed from the largest coordinate 49999\.\d+ > 1\.5 × 50/);
    // format 2, big-endian, with NH and SFR blocks: hi.npy and tb.npy are made
    const gas = gasPiece(150, 10, 7);
    writeBinary(join(dir, 'snap_005.0'), { format: 2, little: false, box: 10, dm: uniformPositions(250, 10, 6), dmMass: 2, gas, gasPhysics: true });
    const r2 = await runPrepare({ ...BASE, snapshot: join(dir, 'snap_005'), out: join(dir, 'b') });
    assert.deepEqual(r2.skipped, []);
    assert.ok(Math.abs(gridMass(join(dir, 'b', 'hi.npy'), 10, 8) / hiMass(gas) - 1) < 1e-6);
  } finally {
    cleanup();
  }
});

test('--length-unit decides for files without UnitLength_in_cm; the guess is recorded', async () => {
  const { dir, cleanup } = tempDir('lodi-prep-');
  try {
    await writeSnapshot(join(dir, 'snap_002'), { box: 25, pieces: [{ dm: uniformPositions(300, 25, 9) }] });
    const a = await runPrepare({ ...BASE, snapshot: join(dir, 'snap_002'), out: join(dir, 'a') });
    assert.equal(a.grids.meta.boxSize, 25);
    assert.deepEqual(a.notes, ['snap_002.hdf5: length unit Mpc/h guessed from BoxSize 25 <= 5000 (the file has no UnitLength_in_cm); set it with --length-unit if wrong']);
    const pa = readWorld(join(dir, 'a')).provenance.lengthUnit as { snapshot: { source: string } };
    assert.equal(pa.snapshot.source, 'box-size guess');
    assert.match(readFileSync(join(dir, 'a', 'prepare.log'), 'utf8'), /length unit: Mpc\/h guessed from BoxSize 25/);
    const b = await runPrepare({ ...BASE, snapshot: join(dir, 'snap_002'), lengthUnit: 'kpc/h', out: join(dir, 'b') });
    assert.equal(b.grids.meta.boxSize, 0.025);
    assert.deepEqual(b.notes, []);
    assert.equal((readWorld(join(dir, 'b')).provenance.lengthUnit as { snapshot: { source: string } }).snapshot.source, 'override');
  } finally {
    cleanup();
  }
});

test('a failed run leaves nothing behind and never removes what was there; the rerun needs no --force', async () => {
  const { dir, cleanup } = tempDir('lodi-prep-');
  try {
    const box = 20;
    const dm1 = uniformPositions(200, box, 11);
    dm1[3 * 150 + 1] = NaN; // read only while painting, after the output folder exists
    const pieces = [{ dm: uniformPositions(200, box, 10) }, { dm: dm1 }];
    await writeSnapshot(join(dir, 'bad'), { box, unitLengthCm: 3.085678e24, pieces });
    const out = join(dir, 'new', 'w');
    await assert.rejects(runPrepare({ ...BASE, snapshot: join(dir, 'bad'), out }), /^LodiIOError: bad\.1\.hdf5: PartType1\/Coordinates: non-finite value NaN at row 150, column 1 \(flat index 451\), expected finite numbers$/);
    assert.equal(existsSync(join(dir, 'new')), false);
    const kept = join(dir, 'kept');
    mkdirSync(join(kept, 'notes'), { recursive: true });
    writeFileSync(join(kept, 'notes', 'mine.txt'), 'user file');
    await assert.rejects(runPrepare({ ...BASE, snapshot: join(dir, 'bad'), out: kept }), /non-finite value NaN/);
    assert.deepEqual(readdirSync(kept), ['notes']);
    assert.deepEqual(readdirSync(join(kept, 'notes')), ['mine.txt']);
    dm1[3 * 150 + 1] = 1;
    await writeSnapshot(join(dir, 'good'), { box, unitLengthCm: 3.085678e24, pieces });
    await runPrepare({ ...BASE, snapshot: join(dir, 'good'), out: kept });
    assert.ok(existsSync(join(kept, 'dm.npy')) && existsSync(join(kept, 'notes', 'mine.txt')));
    // a catalogue of another box fails before anything is created
    await writeCatalogue(join(dir, 'fof_other'), { box: 30, unitLengthCm: 3.085678e24, pieces: [{}] });
    await assert.rejects(
      runPrepare({ ...BASE, snapshot: join(dir, 'good'), groups: join(dir, 'fof_other'), out: join(dir, 'c') }),
      /^LodiIOError: fof_other\.hdf5: Header: BoxSize is 30 Mpc\/h \(UnitLength_in_cm = 3\.085678e\+24\), expected 20 Mpc\/h as the snapshot good\.0\.hdf5$/,
    );
    assert.equal(existsSync(join(dir, 'c')), false);
  } finally {
    cleanup();
  }
});
