/**
 * The broken-input corpus: for each kind of bad input, the `lodi` command (run as a child process,
 * `node dist/src/cli/main.js`) must (1) print one line `lodi: error: ...` naming the file, the field
 * and what was expected, suggesting only flags the command has, (2) exit non-zero and (3) leave no
 * output behind. Inputs are generated here, into a temporary folder, from the fixtures' good files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import h5wasm from 'h5wasm/node';
import { registerCommands } from '../../src/cli/commands/index.js';
import { saveGrid, writeNpy } from '../../src/io/index.js';
import { writeWorld } from '../../src/io/world.js';
import { syntheticWorld } from '../halogen/helpers.js';
import { repoRoot } from '../reference-dir.js';
import { tempDir } from '../io/helpers.js';
import { gasPiece, uniformPositions, writeBinary, writeCatalogue, writeSnapshot, type SnapshotSpec } from './fixtures.js';

const MAIN = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const MODEL = join(repoRoot(), 'models', 'halogen-cpu');
const LODI_MODEL = join(repoRoot(), 'models', 'lodi-cpu');
const MPC = 3.085678e24;

interface Case {
  /** The kind of fault, as listed in the report. */
  kind: string;
  args: string[];
  /** Paths that must not exist after the run (the run's outputs). */
  outputs: string[];
  /** An existing output folder (e.g. a run given to --resume) that the failed run must leave as it was. */
  unchanged?: string;
  /** Basename of the file the message must name, the field, and a pattern for what was expected. */
  file: string;
  field: string;
  expected: RegExp;
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as NodeJS.ErrnoException & { code?: number }).code as unknown as number) ?? 1 : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

/** Runs all cases, `width` at a time. */
async function runAll(cases: Case[], width: number): Promise<Result[]> {
  const out: Result[] = new Array(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      out[i] = await run(cases[i]!.args);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return out;
}

/** Long flags of each subcommand (`train halogen` as "train halogen"). */
function commandFlags(): Map<string, Set<string>> {
  const program = new Command();
  registerCommands(program);
  const flags = new Map<string, Set<string>>();
  const walk = (c: Command, prefix: string): void => {
    for (const sub of c.commands) {
      const name = `${prefix}${sub.name()}`;
      flags.set(name, new Set(sub.options.map((o) => o.long).filter((l): l is string => l !== undefined)));
      walk(sub, `${name} `);
    }
  };
  walk(program, '');
  return flags;
}

/** Adds a dataset (left out when the file was written) with a chosen type and shape. */
async function addDataset(file: string, group: string, name: string, data: Float32Array | Int32Array, shape: number[]): Promise<void> {
  await h5wasm.ready;
  const f = new h5wasm.File(file, 'a');
  try {
    const g = f.get(group) as InstanceType<typeof h5wasm.Group>;
    g.create_dataset({ name, data, shape, dtype: data instanceof Int32Array ? '<i' : '<f' });
  } finally {
    f.close();
  }
}

async function buildCorpus(dir: string): Promise<Case[]> {
  const cases: Case[] = [];
  const p = (name: string): string => join(dir, name);
  const out = (name: string): string => join(dir, `out-${name}`);
  const prepare = (kind: string, snapshot: string, name: string, exp: Omit<Case, 'kind' | 'args' | 'outputs'>, extra: string[] = []): void => {
    const o = out(name);
    cases.push({ kind, args: ['prepare', '--snapshot', snapshot, '--out', o, '--grid', '8', '--no-plots', '--quiet', ...extra], outputs: [o], ...exp });
  };
  const box = 20;
  const good = (): SnapshotSpec => ({ box, unitLengthCm: MPC, pieces: [{ dm: uniformPositions(300, box, 1), gas: gasPiece(200, box, 2) }] });

  // --- HDF5 snapshots -------------------------------------------------------------------------
  await writeSnapshot(p('trunc'), good());
  truncateSync(p('trunc.hdf5'), Math.floor(statSync(p('trunc.hdf5')).size / 2));
  prepare('truncated HDF5 snapshot', p('trunc.hdf5'), 'trunc', { file: 'trunc.hdf5', field: 'size', expected: /expected the whole file/ });

  const three = { box, unitLengthCm: MPC, pieces: [0, 1, 2].map((i) => ({ dm: uniformPositions(100, box, 10 + i) })) };
  await writeSnapshot(p('lost'), { ...three, skipPieces: [1] });
  prepare('multi-file snapshot with a piece missing', p('lost'), 'lost', { file: 'lost.0.hdf5', field: 'Header/NumFilesPerSnapshot', expected: /piece lost\.1\.hdf5 missing: expected all 3 pieces/ });

  await writeSnapshot(p('hollow'), three);
  writeFileSync(p('hollow.2.hdf5'), '');
  prepare('multi-file snapshot with an empty (0-byte) piece', p('hollow'), 'hollow', { file: 'hollow.2.hdf5', field: 'signature', expected: /\(0 bytes\): expected the HDF5 signature/ });

  const nan = good();
  nan.pieces[0]!.dm[3 * 123 + 2] = NaN;
  await writeSnapshot(p('nan'), nan);
  prepare('NaN dark-matter coordinate (found while painting)', p('nan'), 'nan', { file: 'nan.hdf5', field: 'PartType1/Coordinates', expected: /non-finite value NaN at row 123, column 2 .*expected finite numbers/ });

  const inf = good();
  inf.pieces[0]!.gas!.positions[3 * 57] = Infinity;
  await writeSnapshot(p('inf'), inf);
  prepare('Inf gas coordinate (found while painting gas)', p('inf'), 'inf', { file: 'inf.hdf5', field: 'PartType0/Coordinates', expected: /non-finite value Infinity at row 57, column 0 .*expected finite numbers/ });

  await writeSnapshot(p('dtype'), { ...good(), omit: ['PartType0/NeutralHydrogenAbundance'] });
  await addDataset(p('dtype.hdf5'), 'PartType0', 'NeutralHydrogenAbundance', new Int32Array(200), [200]);
  prepare('wrong dtype (integer NeutralHydrogenAbundance)', p('dtype'), 'dtype', { file: 'dtype.hdf5', field: 'PartType0/NeutralHydrogenAbundance', expected: /expected float \[n\], got int32 \[200\]/ });

  await writeSnapshot(p('shape'), { ...good(), omit: ['PartType1/Coordinates'] });
  await addDataset(p('shape.hdf5'), 'PartType1', 'Coordinates', new Float32Array(600), [300, 2]);
  prepare('wrong shape (Coordinates [n,2])', p('shape'), 'shape', { file: 'shape.hdf5', field: 'PartType1/Coordinates', expected: /expected numeric \[n,3\], got float32 \[300,2\]/ });

  await writeSnapshot(p('nogroup'), { ...good(), omit: ['PartType1'] });
  prepare('header promises particles the file lacks', p('nogroup'), 'nogroup', { file: 'nogroup.hdf5', field: 'PartType1', expected: /group missing; expected it for the 300 dark-matter particles/ });

  // coordinates in kpc/h in a file whose header says Mpc/h
  const kpc = good();
  kpc.pieces[0]!.dm.forEach((_, i, a) => (a[i] = a[i]! * 1000));
  await writeSnapshot(p('units'), kpc);
  prepare('positions outside the box (wrong length unit)', p('units'), 'units', {
    file: 'units.hdf5',
    field: 'PartType1/Coordinates',
    expected: /is outside the box \[0, 20\) Mpc\/h; expected positions inside it \(wrong length unit or box size\?\); check --length-unit/,
  });

  // --- group catalogues -----------------------------------------------------------------------
  await writeSnapshot(p('snap'), good());
  const groups = (n: number) => ({ positions: uniformPositions(n, box, 40), masses: new Float32Array(n).fill(100) });
  const cat = (kind: string, base: string, exp: Omit<Case, 'kind' | 'args' | 'outputs'>): void =>
    prepare(kind, p('snap'), base, exp, ['--groups', p(base)]);

  const gnan = groups(5);
  gnan.positions[4] = NaN;
  await writeCatalogue(p('fof_nan'), { box, unitLengthCm: MPC, pieces: [{ groups: gnan }] });
  cat('NaN group position', 'fof_nan', { file: 'fof_nan.hdf5', field: 'Group/GroupPos', expected: /non-finite value NaN at row 1, column 1 .*expected finite numbers/ });

  await writeCatalogue(p('fof_lost'), { box, unitLengthCm: MPC, pieces: [{ groups: groups(2) }, {}, { groups: groups(3) }] });
  rmSync(p('fof_lost.1.hdf5'));
  cat('multi-file catalogue with a piece missing', 'fof_lost', { file: 'fof_lost.0.hdf5', field: 'Header/NumFiles', expected: /piece fof_lost\.1\.hdf5 missing: expected all 3 pieces/ });

  await writeCatalogue(p('fof_box'), { box: 30, unitLengthCm: MPC, pieces: [{ groups: groups(2) }] });
  cat('catalogue box disagrees with the snapshot', 'fof_box', { file: 'fof_box.hdf5', field: 'Header', expected: /BoxSize is 30 Mpc\/h .*expected 20 Mpc\/h as the snapshot snap\.hdf5/ });

  // --- Gadget binary snapshots ----------------------------------------------------------------
  const bin = { format: 1 as const, little: true, box, dm: uniformPositions(300, box, 5), dmMass: 1 };
  writeBinary(p('gtrunc.dat'), bin);
  truncateSync(p('gtrunc.dat'), 264 + 2000);
  prepare('truncated format-1 binary', p('gtrunc.dat'), 'gtrunc', { file: 'gtrunc.dat', field: 'POS', expected: /truncated file: record at byte 264 declares 3600 bytes .*expected the whole record/ });

  const bnan = uniformPositions(300, box, 6);
  bnan[3 * 200] = NaN;
  writeBinary(p('gnan.dat'), { ...bin, little: false, dm: bnan });
  prepare('NaN coordinate in a big-endian format-1 binary', p('gnan.dat'), 'gnan', { file: 'gnan.dat', field: 'POS', expected: /non-finite value NaN at row 200, column 0 .*expected finite numbers/ });

  writeBinary(p('g2.0'), { ...bin, format: 2, omit: ['POS'] });
  prepare('format-2 binary without its POS block', p('g2'), 'g2', { file: 'g2.0', field: 'POS', expected: /block missing; expected it \(labels found: HEAD, VEL, ID\)/ });

  writeBinary(p('ics.dat'), { ...bin, box: 0 });
  prepare('binary header BoxSize 0 and no --box', p('ics.dat'), 'ics', { file: 'ics.dat', field: 'HEAD', expected: /header BoxSize is 0 .*expected the box size in Mpc\/h.*; pass --box <Mpc\/h>$/ });

  // --- grids (.npy with sidecars) -------------------------------------------------------------
  const n = 8;
  const cube = Float32Array.from({ length: n ** 3 }, (_, i) => 1 + (i % 5));
  const power = (kind: string, grid: string, exp: Omit<Case, 'kind' | 'args' | 'outputs'>, extra: string[] = []): void => {
    const csv = out(`${kind.replace(/\W+/g, '_')}.csv`);
    cases.push({ kind, args: ['power', grid, '--out', csv, ...extra], outputs: [csv], ...exp });
  };
  saveGrid(p('gt.npy'), { data: cube, shape: [n, n, n], meta: { boxSize: 25, quantity: 'x', unit: '1' } });
  truncateSync(p('gt.npy'), statSync(p('gt.npy')).size - 100);
  power('truncated .npy', p('gt.npy'), { file: 'gt.npy', field: 'data', expected: /needs 2048 data bytes, found 1948; expected the whole array/ });

  writeNpy(p('gi.npy'), cube, [n, n, n]);
  const bytes = readFileSync(p('gi.npy'));
  writeFileSync(p('gi.npy'), Buffer.from(bytes.toString('latin1').replace("'<f4'", "'<i4'"), 'latin1'));
  power('wrong dtype .npy (int32)', p('gi.npy'), { file: 'gi.npy', field: 'dtype', expected: /expected a float32\/float64 array, got int32 \[8,8,8\]/ }, ['--box', '25']);

  writeNpy(p('g0.npy'), new Float32Array(0), [0, 0, 0]);
  power('zero-size grid', p('g0.npy'), { file: 'g0.npy', field: 'shape', expected: /empty grid of shape \[0,0,0\], expected N >= 1 cells per side/ }, ['--box', '25']);

  saveGrid(p('gb.npy'), { data: cube, shape: [n, n, n], meta: { boxSize: 25, quantity: 'dm_density', unit: '(Msun/h)/(Mpc/h)^3' } });
  const ph = out('halos.npy');
  cases.push({
    kind: 'grid whose sidecar box disagrees with --box',
    args: ['predict-halos', '--model', MODEL, '--dm', p('gb.npy'), '--box', '30', '--out', ph, '--quiet'],
    outputs: [ph, ph.replace(/\.npy$/, '.json')],
    file: 'gb.npy',
    field: 'boxSize',
    expected: /sidecar gb\.json says 25 Mpc\/h, expected 30 Mpc\/h as given$/,
  });
  copyFileSync(p('gb.npy'), p('bare.npy'));
  cases.push({
    kind: '.npy without sidecar and no --box',
    args: ['predict-halos', '--model', MODEL, '--dm', p('bare.npy'), '--out', ph, '--quiet'],
    outputs: [ph, ph.replace(/\.npy$/, '.json')],
    file: 'bare.npy',
    field: 'boxSize',
    expected: /no sidecar bare\.json, expected one giving the box size.*; pass --box <Mpc\/h>$/,
  });
  writeNpy(p('gnc.npy'), cube.subarray(0, n * n * 4), [n, n, 4]);
  cases.push({
    kind: 'non-cubic DM grid given to predict-halos',
    args: ['predict-halos', '--model', MODEL, '--dm', p('gnc.npy'), '--box', '25', '--out', ph, '--quiet'],
    outputs: [ph, ph.replace(/\.npy$/, '.json')],
    file: 'gnc.npy',
    field: 'shape',
    expected: /expected a cubic grid of shape \[N,N,N\] or \[C,N,N,N\], got \[8,8,4\]/,
  });

  // HALOgen's data contract: the voxel of its training worlds (25/128 Mpc/h) and the DM unit
  const dm16 = Float32Array.from({ length: 16 ** 3 }, (_, i) => 1e10 * (1 + (i % 5)));
  saveGrid(p('gv.npy'), { data: dm16, shape: [16, 16, 16], meta: { boxSize: 6.25, quantity: 'dm_density', unit: '(Msun/h)/(Mpc/h)^3' } });
  cases.push({
    kind: 'DM grid of another voxel size given to predict-halos (data contract)',
    args: ['predict-halos', '--model', MODEL, '--dm', p('gv.npy'), '--out', ph, '--quiet'],
    outputs: [ph, ph.replace(/\.npy$/, '.json')],
    file: 'gv.npy',
    field: 'voxel',
    expected: /0\.3906 Mpc\/h \(box 6\.25 Mpc\/h \/ 16\), expected 0\.1953 Mpc\/h, the voxel HALOgen was trained at \(pass --ignore-contract to predict anyway\)$/,
  });
  saveGrid(p('gu.npy'), { data: dm16, shape: [16, 16, 16], meta: { boxSize: 3.125, quantity: 'dm_density', unit: 'Msun/kpc^3' } });
  cases.push({
    kind: 'DM grid in another unit given to predict-halos (data contract)',
    args: ['predict-halos', '--model', MODEL, '--dm', p('gu.npy'), '--out', ph, '--quiet'],
    outputs: [ph, ph.replace(/\.npy$/, '.json')],
    file: 'gu.npy',
    field: 'unit',
    expected: /DM density unit 'Msun\/kpc\^3', expected '\(Msun\/h\)\/\(Mpc\/h\)\^3', the unit HALOgen was trained on/,
  });

  // an interrupted write: the writer was killed before renaming its temporary file
  writeFileSync(p('.tbk.npy.tmp-4242-1700000000000'), bytes.subarray(0, 100));
  power('interrupted write (only the temporary file is left)', p('tbk.npy'), { file: 'tbk.npy', field: 'file', expected: /not found \(only the unfinished \.tbk\.npy\.tmp-4242-1700000000000 lies beside it: the program writing it was interrupted; run that again\); expected a \.npy grid/ });

  // --- P(k) tables ----------------------------------------------------------------------------
  const hmf = (kind: string, table: string, text: string, exp: Omit<Case, 'kind' | 'args' | 'outputs'>): void => {
    writeFileSync(p(table), text);
    const csv = out(`${table}.csv`);
    cases.push({ kind, args: ['hmf', '--pk-table', p(table), '--out', csv], outputs: [csv], ...exp });
  };
  hmf('NaN in a P(k) table', 'pk_nan.txt', '# k P\n0.01 1000\n0.1 nan\n1 10\n', { file: 'pk_nan.txt', field: 'line 3', expected: /expected two numbers "k P", got "0\.1 nan"/ });
  hmf('negative P in a P(k) table', 'pk_neg.txt', '0.01 1000\n0.1 -5\n1 10\n', { file: 'pk_neg.txt', field: 'row 2', expected: /expected positive finite k \[h\/Mpc\] and P \[\(Mpc\/h\)\^3\], got k = 0\.1, P = -5$/ });

  // --- training worlds (a 16^3 world: dm, halos and T_b) --------------------------------------
  const world = (name: string, spoil: (w: ReturnType<typeof syntheticWorld> & { tb: Float32Array }) => void): string => {
    const dir = p(name);
    const w = { ...syntheticWorld(16, 3, dir), tb: new Float32Array(16 ** 3).fill(10) };
    spoil(w);
    writeWorld(dir, w);
    return dir;
  };
  const tbNan = world('w_nan', (w) => (w.tb[1000] = NaN));
  const wl = out('train-lodi');
  cases.push({ kind: 'NaN in a training world\'s T_b grid (train lodi)', args: ['train', 'lodi', '--worlds', tbNan, '--out', wl, '--preset', 'tiny', '--quiet', '--no-plot'], outputs: [wl], file: 'tb.npy', field: 'data', expected: /non-finite value NaN at index \[3,14,8\] \(flat 1000\), expected finite values/ });
  const noHalos = world('w_lost', () => undefined);
  rmSync(join(noHalos, 'halos.npy'));
  const wh = out('train-halogen');
  cases.push({ kind: 'world with a member listed but missing (train halogen)', args: ['train', 'halogen', '--worlds', noHalos, '--out', wh, '--preset', 'tiny', '--quiet', '--no-plot'], outputs: [wh], file: 'halos.npy', field: 'halos', expected: /listed in world\.json but missing: expected halo_mass_density/ });
  const boxMix = world('w_box', () => undefined);
  const side = JSON.parse(readFileSync(join(boxMix, 'dm.json'), 'utf8'));
  writeFileSync(join(boxMix, 'dm.json'), JSON.stringify({ ...side, boxSize: 30 }));
  cases.push({ kind: 'grid sidecar box disagrees with world.json (train halogen)', args: ['train', 'halogen', '--worlds', boxMix, '--out', wh, '--preset', 'tiny', '--quiet', '--no-plot'], outputs: [wh], file: 'dm.json', field: 'boxSize', expected: /expected 1\.6 Mpc\/h \(as world\.json\), got 30 Mpc\/h/ });
  // --resume on a run directory holding a checkpoint of the other model: the run is left as it was
  const wrongRun = p('run-wrong');
  mkdirSync(wrongRun);
  copyFileSync(join(LODI_MODEL, 'best.safetensors'), join(wrongRun, 'checkpoint.safetensors'));
  cases.push({ kind: 'checkpoint of the wrong model given to --resume (train halogen)', args: ['train', 'halogen', '--worlds', world('w_good', () => undefined), '--out', wrongRun, '--resume', '--quiet', '--no-plot'], outputs: [], unchanged: wrongRun, file: 'checkpoint.safetensors', field: 'format', expected: /expected a halogen checkpoint, got a 'lodi-vdm' checkpoint$/ });

  // --- generate: halo channels against the LODI model's data contract --------------------------
  const m = 16;
  const voxel = 0.1953125; // the bundled LODI model's training voxel (Mpc/h)
  const hal = Float32Array.from({ length: 4 * m ** 3 }, (_, i) => (i % 7) * 1e10);
  const halosGrid = (name: string, data: Float32Array, box: number, unit = '(Msun/h)/(Mpc/h)^3'): string => {
    saveGrid(p(name), { data, shape: [4, m, m, m], meta: { boxSize: box, quantity: 'halo_mass_density', unit } });
    return p(name);
  };
  const gen = (kind: string, halos: string, model: string, exp: Omit<Case, 'kind' | 'args' | 'outputs'>): void => {
    const o = out(`${kind.replace(/\W+/g, '_')}.npy`);
    cases.push({ kind, args: ['generate', '--halos', halos, '--model', model, '--out', o, '--quiet'], outputs: [o, o.replace(/\.npy$/, '.json')], ...exp });
  };
  const okHalos = halosGrid('h_ok.npy', hal, m * voxel);
  gen('halo grid of another voxel size (data contract)', halosGrid('h_vox.npy', hal, 2 * m * voxel), LODI_MODEL, { file: 'h_vox.npy', field: 'voxel', expected: /voxel 0\.3906 Mpc\/h \(box 6\.25 Mpc\/h \/ 16\), expected 0\.1953 Mpc\/h, the voxel the model was trained at/ });
  gen('halo grid in the wrong unit (data contract)', halosGrid('h_unit.npy', hal, m * voxel, 'Msun/h'), LODI_MODEL, { file: 'h_unit.npy', field: 'unit', expected: /halo density unit 'Msun\/h', expected '\(Msun\/h\)\/\(Mpc\/h\)\^3', the unit the model was trained on/ });
  const hinf = hal.slice();
  hinf[100] = Infinity;
  gen('Inf in halo channels', halosGrid('h_inf.npy', hinf, m * voxel), LODI_MODEL, { file: 'h_inf.npy', field: 'data', expected: /non-finite value Infinity at index \[0,0,6,4\] \(flat 100\), expected finite values/ });
  gen('HALOgen checkpoint given as the LODI model', okHalos, MODEL, { file: 'best.safetensors', field: 'format', expected: /expected a lodi-vdm checkpoint, got a 'halogen' checkpoint/ });
  // a checkpoint without the `format` entry (the first HALOgen files) names no model kind
  gen('checkpoint without a format entry given as the LODI model', okHalos, join(repoRoot(), 'test', 'halogen', 'fixtures', 'halogen-cpu-v1.safetensors'), { file: 'halogen-cpu-v1.safetensors', field: 'format', expected: /expected a lodi-vdm checkpoint, got a safetensors file without lodi metadata/ });
  // generation beyond one process: a stage without a plan, a stage before its predecessors, a plan mismatch
  const m40 = 40;
  const hal40 = Float32Array.from({ length: 4 * m40 ** 3 }, (_, i) => (i % 7) * 1e10);
  saveGrid(p('h40.npy'), { data: hal40, shape: [4, m40, m40, m40], meta: { boxSize: m40 * voxel, quantity: 'halo_mass_density', unit: '(Msun/h)/(Mpc/h)^3' } });
  const planned = out('sharded.npy');
  const plan = await run(['generate', '--halos', p('h40.npy'), '--model', LODI_MODEL, '--out', planned, '--plan-only', '--quiet']);
  assert.equal(plan.code, 0, `--plan-only failed: ${plan.stderr}`);
  const unplanned = out('unplanned.npy');
  const shardArgs = (o: string, stage: number, extra: string[] = []): string[] => ['generate', '--halos', p('h40.npy'), '--model', LODI_MODEL, '--out', o, '--stage', String(stage), '--shard', '0/2', '--quiet', ...extra];
  cases.push({ kind: 'generate --stage without a plan', args: shardArgs(unplanned, 0), outputs: [unplanned, unplanned.replace(/\.npy$/, '.work')], file: 'plan.json', field: 'file', expected: /not found; expected the plan written by lodi generate --plan-only with the same --out$/ });
  cases.push({ kind: 'generate --stage before the earlier stages are done', args: shardArgs(planned, 1), outputs: [planned], file: 'done', field: 'stages', expected: /stage 1 cannot start: stage 0 lacks boxes .*; expected every box of the earlier stages finished: run those stages first$/ });
  cases.push({ kind: 'generate --stage with options other than the plan\'s', args: shardArgs(planned, 0, ['--seed', '5']), outputs: [planned], file: 'plan.json', field: 'seed', expected: /the plan has 1, this command gives 5; expected the model, halos and options of --plan-only/ });
  copyFileSync(join(LODI_MODEL, 'best.safetensors'), p('cut.safetensors'));
  truncateSync(p('cut.safetensors'), 5000);
  gen('truncated checkpoint', okHalos, p('cut.safetensors'), { file: 'cut.safetensors', field: 'header', expected: /header length \d+ exceeds file size 5000; expected a complete lodi-vdm checkpoint/ });
  return cases;
}

test('broken-input corpus: one-line error naming file, field and expectation; non-zero exit; no output left', async (t) => {
  const { dir, cleanup } = tempDir('lodi-corpus-');
  try {
    const cases = await buildCorpus(dir);
    assert.ok(cases.length >= 30, `${cases.length} cases`);
    const flags = commandFlags();
    const snapshot = (d: string): string => readdirSync(d).sort().map((f) => `${f}:${readFileSync(join(d, f)).toString('base64')}`).join('\n');
    const before = cases.map((c) => (c.unchanged ? snapshot(c.unchanged) : ''));
    const results = await runAll(cases, Math.max(2, Math.min(4, availableParallelism())));
    for (let i = 0; i < cases.length; i++) {
      const c = cases[i]!;
      const r = results[i]!;
      await t.test(c.kind, () => {
        const lines = r.stderr.split('\n').filter((l) => l.length > 0);
        assert.equal(lines.length, 1, `stderr: ${r.stderr}`);
        const line = lines[0]!;
        assert.ok(line.startsWith('lodi: error: '), line);
        assert.ok(line.includes(c.file), `names the file ${c.file}: ${line}`);
        assert.ok(line.includes(`: ${c.field}: `), `names the field ${c.field}: ${line}`);
        assert.match(line, c.expected);
        assert.match(line, /expected/);
        // only flags that the command has
        const cmd = c.args[0]!;
        for (const f of line.match(/--[a-z][a-z-]*/g) ?? []) assert.ok(flags.get(cmd)?.has(f), `${cmd} has no ${f}: ${line}`);
        assert.notEqual(r.code, 0);
        assert.equal(r.stdout, '');
        for (const o of c.outputs) assert.equal(existsSync(o), false, `left ${o}`);
        if (c.unchanged) assert.equal(snapshot(c.unchanged), before[i], `${c.unchanged} changed`);
      });
    }
  } finally {
    cleanup();
  }
});
