/**
 * LODI generation beyond one process: a plan, 8 stages, 3 shard processes per stage on one work file,
 * and the finish, against the one-process run with the same seed; a shard killed (SIGKILL) midway and
 * run again; the refusals (unfinished stages, a plan that differs, existing outputs); the Slurm script
 * (its job chain and the exact argv of each task, through a stand-in sbatch); the file-backed
 * one-process run.
 *
 * The shard processes are test/lodi/shard-child.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { setNumThreads } from '@lodi/torch';
import { registerCommands } from '../../src/cli/commands/index.js';
import { loadGrid, saveGrid } from '../../src/io/grid.js';
import { encodeNpy, readNpy } from '../../src/io/npy.js';
import { loadLodi } from '../../src/lodi/checkpoint.js';
import { NpyVolume, npyHeaderF32, readNpyLayout } from '../../src/io/npy-file.js';
import { generateStandardised, memoryCond, memoryStore } from '../../src/lodi/generate.js';
import { Rng } from '../../src/util/rng.js';
import { haloForward, tbInverse } from '../../src/lodi/transform.js';
import { finishedBoxes, readPlanFile, shardBoxes, workPaths } from '../../src/lodi/shards.js';
import { generateRun } from '../../src/pipeline/generate.js';
import { finishSharded, planSharded, runShard, type ShardedRunOptions } from '../../src/pipeline/generate-shards.js';
import { writeSlurmScript } from '../../src/pipeline/generate-slurm.js';
import { narrowTbTransform, syntheticPair, tinyModel } from './helpers.js';
import type { ChildJob } from './shard-child.js';

/** Sampling steps: few, the property does not depend on them and the file must stay fast. */
const STEPS = 2;
const SEED = 5;

interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'shard-child.js');

/** Starts a shard process; one libtorch thread each, as the test machine has few cores for three. */
function spawnChild(job: ChildJob): Promise<ChildExit> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CHILD], {
      env: { ...process.env, LODI_SHARD_CHILD: JSON.stringify(job), LODI_NUM_THREADS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs `lodi <args>` in this process; returns what it printed, or the error it threw. */
async function cli(args: string[]): Promise<{ out: string; err?: Error }> {
  const program = new Command()
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerCommands(program);
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => (
    (out += chunk.toString()),
    true
  )) as typeof process.stdout.write;
  try {
    await program.parseAsync(args, { from: 'user' });
    return { out };
  } catch (err) {
    return { out, err: err as Error };
  } finally {
    process.stdout.write = write;
  }
}

function saveHalos(path: string, n: number, seed: number): void {
  const halos = syntheticPair(n, seed).halos;
  saveGrid(path, {
    data: halos,
    shape: [4, n, n, n],
    meta: { boxSize: n * 0.2, redshift: 0, quantity: 'halo_mass_density', unit: '(Msun/h)/(Mpc/h)^3' },
  });
}

const sidecar = (p: string): Record<string, unknown> =>
  JSON.parse(readFileSync(p.replace(/\.npy$/, '.json'), 'utf8')) as Record<string, unknown>;

{
  // one libtorch thread here and in each shard process: on a machine with few, shared cores more
  // threads only add synchronisation time to the tiny model's small convolutions
  setNumThreads(1);
  const dir = mkdtempSync(join(tmpdir(), 'lodi-shards-'));
  const model = await tinyModel(dir);
  narrowTbTransform(model, 0.01);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

  test('3 shard processes x 8 stages equal the one-process run; a shard killed midway continues from its records', async (t) => {
    // 40^3 periodic with crop 16 and overlap 4: 4 boxes per axis (stride <= 12), 64 boxes in 8 stages of 8
    const n = 40;
    const halos = join(dir, 'halos.npy');
    saveHalos(halos, n, 9);
    const loaded = loadLodi(model);
    const norm = loaded.meta.normalisation;
    let t0 = Date.now();
    const cond = haloForward(loadGrid(halos).data, 4, norm);
    const single = (await generateStandardised(loaded.model, cond, [n, n, n], { seed: SEED, steps: STEPS, batch: 8 }))
      .y;
    const singleSeconds = (Date.now() - t0) / 1000;
    loaded.model.dispose();

    const out = join(dir, 'tb.npy');
    const base = [
      'generate',
      '--halos',
      halos,
      '--model',
      model,
      '--out',
      out,
      '--seed',
      String(SEED),
      '--steps',
      String(STEPS),
    ];
    const planned = await cli([...base, '--plan-only']);
    assert.equal(planned.err, undefined, planned.err?.message);
    assert.match(planned.out, /64 sub-volumes in 8 stages \(8, 8, 8, 8, 8, 8, 8, 8 boxes\)/);
    assert.match(planned.out, /--stage S --shard I\/N {6}\(S = 0 \.\. 7\)/);
    assert.match(planned.out, / --finish\n/);
    const paths = workPaths(out);
    const plan = readPlanFile(paths.plan);
    assert.deepEqual(
      [plan.size, plan.crop, plan.overlap, plan.periodic, plan.method, plan.seed, plan.steps],
      [[n, n, n], 16, 4, true, 'overlap', SEED, STEPS],
    );
    assert.equal(plan.stages.flat().length, 64);
    assert.equal(statSync(paths.values).size, npyHeaderF32([n, n, n]).length + 4 * n ** 3, 'y.npy is preallocated');
    assert.equal(finishedBoxes(paths.done).size, 0);

    // refusals before any box is finished: each names the file, the field and what was expected
    const opts: ShardedRunOptions = { halos, model, out, seed: SEED, steps: STEPS, quiet: true };
    await assert.rejects(
      () => runShard({ ...opts, stage: 3, shard: { index: 0, count: 2 } }),
      /done: stages: stage 3 cannot start: stage 0 lacks boxes 0, 1, 2, 3, 4, 5, 6, 7 \(8 of 8\); stage 1 lacks .*; expected every box of the earlier stages finished: run those stages first$/,
    );
    await assert.rejects(
      () => runShard({ ...opts, seed: 6, stage: 0, shard: { index: 0, count: 2 } }),
      /plan\.json: seed: the plan has 5, this command gives 6; expected the model, halos and options of --plan-only/,
    );
    // the plan records the precision and noise source resolved at planning; a stage that would run
    // otherwise is refused; a plan written before these fields existed reads as float32 and host noise
    assert.deepEqual([plan.precision, plan.noise], ['float32', 'host']);
    await assert.rejects(
      () => runShard({ ...opts, precision: 'bfloat16', stage: 0, shard: { index: 0, count: 2 } }),
      /plan\.json: precision: the plan has "float32", this command gives "bfloat16"/,
    );
    {
      const old = join(dirname(paths.plan), 'old-plan.json');
      const j = JSON.parse(readFileSync(paths.plan, 'utf8')) as Record<string, unknown>;
      delete j.precision;
      delete j.noise;
      writeFileSync(old, JSON.stringify(j));
      const read = readPlanFile(old);
      assert.deepEqual([read.precision, read.noise], ['float32', 'host']);
      rmSync(old);
    }
    await assert.rejects(
      () => runShard({ ...opts, steps: 5, stage: 0, shard: { index: 0, count: 2 } }),
      new RegExp(`plan\\.json: steps: the plan has ${STEPS}, this command gives 5`),
    );
    await assert.rejects(
      () => runShard({ ...opts, stage: 8, shard: { index: 0, count: 2 } }),
      /--stage: 8, expected 0 to 7/,
    );
    assert.throws(() => finishSharded(opts), /done: cannot finish: stage 0 lacks boxes/);
    assert.throws(
      () => planSharded(opts),
      /tb\.work: exists \(a plan with 0 of 64 boxes finished\); pass --resume to continue it or --force/,
    );
    assert.throws(
      () => planSharded({ ...opts, seed: 7, resume: true }),
      /plan\.json: seed: the plan has 5, this command gives 7/,
    );
    // the quick check (plan.halosStat): while the halo file keeps the size, mtime and inode recorded at planning, a
    // stage or finish takes the plan's sha256 without reading the file; once the file is touched it is hashed again
    const st = statSync(halos);
    const big = statSync(halos, { bigint: true });
    assert.deepEqual(plan.halosStat, { size: String(big.size), mtimeNs: String(big.mtimeNs), ctimeNs: String(big.ctimeNs), ino: String(big.ino) });
    assert.equal(plan.version, 2);
    const planText = readFileSync(paths.plan, 'utf8');
    writeFileSync(paths.plan, planText.replace(plan.halosSha256, 'f'.repeat(64)));
    assert.throws(() => finishSharded(opts), /done: cannot finish/, 'the recorded sha256 is taken as it is');
    utimesSync(halos, st.atime, new Date(st.mtimeMs + 1000));
    assert.throws(() => finishSharded(opts), /plan\.json: halosSha256: the plan has "f{64}", this command gives "[0-9a-f]{64}"/);
    writeFileSync(paths.plan, planText);
    assert.throws(() => finishSharded(opts), /done: cannot finish/, 'hashed again: the same bytes');
    // a plan of the former version is refused, not mixed with the new box streams
    writeFileSync(paths.plan, planText.replace('"version": 2', '"version": 1'));
    assert.throws(() => finishSharded(opts), /plan\.json: format: "lodi-generate-plan" version 1, expected 'lodi-generate-plan' version 2 \(a plan of an older lodi: make a new one with --plan-only --force\)/);
    writeFileSync(paths.plan, planText);
    const other = join(dir, 'other-halos.npy');
    saveHalos(other, n, 10); // same shape, other values
    await assert.rejects(
      () => runShard({ ...opts, halos: other, stage: 0, shard: { index: 0, count: 2 } }),
      /plan\.json: halosSha256: the plan has "[0-9a-f]{64}", this command gives "[0-9a-f]{64}"/,
    );
    assert.match(
      (await cli([...base, '--stage', '0', '--shard', '2/2'])).err?.message ?? '',
      /option '--shard <I\/N>' argument '2\/2' is invalid\. expected I\/N with integers 0 <= I < N/,
    );
    assert.match(
      (await cli([...base, '--plan-only', '--finish'])).err?.message ?? '',
      /^--plan-only, --finish: choose one of/,
    );
    assert.match(
      (await cli([...base, '--stage', '0', '--realizations', '2'])).err?.message ?? '',
      /^--realizations has no effect with --stage/,
    );
    assert.match(
      (await cli([...base, '--plan-only', '--method', 'average'])).err?.message ?? '',
      /^--method: average, expected overlap or tiling/,
    );

    // three shards, batch 2; shard 1 kills itself (SIGKILL) once the first batch of its stage-2 boxes is recorded
    t0 = Date.now();
    const job = (index: number, from = 0): ChildJob => ({
      halos,
      model,
      out,
      seed: SEED,
      steps: STEPS,
      shard: { index, count: 3 },
      from,
      batch: 2,
    });
    const kids = [spawnChild(job(0)), spawnChild({ ...job(1), killAt: { stage: 2, boxes: 2 } }), spawnChild(job(2))];
    const killed = await kids[1]!;
    assert.equal(killed.signal, 'SIGKILL', `shard 1 ended before its kill: ${killed.stderr}`);
    const mine2 = shardBoxes(plan.stages[2]!, { index: 1, count: 3 });
    assert.equal(mine2.length, 3);
    const before = finishedBoxes(paths.done);
    assert.deepEqual(
      mine2.filter((id) => before.has(id)),
      mine2.slice(0, 2),
      'the killed shard recorded its first batch only',
    );
    const rerun = await spawnChild(job(1, 2));
    assert.equal(rerun.code, 0, rerun.stderr);
    const first = JSON.parse(rerun.stdout.split('\n')[0]!) as { stage: number; generated: number[]; skipped: number[] };
    assert.deepEqual(
      [first.stage, first.skipped, first.generated],
      [2, mine2.slice(0, 2), mine2.slice(2)],
      'the rerun keeps the recorded boxes and generates the rest',
    );
    for (const k of [kids[0]!, kids[2]!]) {
      const e = await k;
      assert.equal(e.code, 0, e.stderr);
    }
    assert.equal(finishedBoxes(paths.done).size, 64);
    const sharded = readNpy(paths.values).data as Float32Array;
    const shardedSeconds = (Date.now() - t0) / 1000;
    const fin = await cli([...base, '--finish']);
    assert.equal(fin.err, undefined, fin.err?.message);
    assert.ok(!existsSync(paths.dir), 'the work files are removed');
    t.diagnostic(
      `40^3, 64 boxes, ${STEPS} steps: one process ${singleSeconds.toFixed(1)} s; 3 shard processes (one killed and rerun) ${shardedSeconds.toFixed(1)} s`,
    );

    // Every box draws its noise from its own seeded generator and reads the same known values, so the
    // two maps may differ only by the rounding of batched kernels: a box shares its denoiser calls with
    // other boxes here (batch 2 within a shard) than in one process (batch 8 within a stage). That
    // rounding is a few float32 ulps (~1e-7) of the activations per kernel, so it scales with the
    // field: through the U-Net's ~20 layers, the steps and the known values that carry it into later
    // stages it reaches a few 1e-6 of rms(y) (measured 3e-6 at 2 steps and 8e-6 at 4 steps between
    // batch 8 and batch 2 in one process; with equal batches the file-backed store is bit-identical,
    // see the next test). The bound 1e-4 rms(y) leaves a margin above 10; a box seeded, conditioned or
    // placed wrongly, or a known region read before it was written, changes y by O(rms(y)). (The
    // 6-step model is poor: rms(y) ~ 100 here, against ~1 for a trained one.)
    let worst = 0;
    let sq = 0;
    for (let i = 0; i < single.length; i++) {
      worst = Math.max(worst, Math.abs(single[i]! - sharded[i]!));
      sq += single[i]! ** 2;
    }
    const rms = Math.sqrt(sq / single.length);
    t.diagnostic(
      `max |Δy| sharded vs one process = ${worst.toExponential(2)} = ${(worst / rms).toExponential(2)} rms(y)`,
    );
    assert.ok(worst < 1e-4 * rms, `sharded vs one process: max |Δy| = ${worst}, rms(y) = ${rms}`);
    // the map is T_b of the work values, written as saveGrid writes it
    assert.deepEqual(readFileSync(out), Buffer.from(encodeNpy(tbInverse(sharded, norm), [n, n, n])));
    // the output is not overwritten without --force
    assert.match((await cli([...base, '--plan-only'])).err?.message ?? '', /tb\.npy already exists; pass --force/);
  });

  test('positional I/O: a box read from and written into a .npy in place equals the in-memory gather and masked scatter, wrap included', () => {
    const size = [5, 6, 7] as const;
    const n3 = size[0] * size[1] * size[2];
    const rng = new Rng(11);
    const base = Float32Array.from({ length: n3 }, () => rng.uniform());
    const work = join(dir, 'io-work.npy');
    writeFileSync(work, encodeNpy(base, size));
    const vol = new NpyVolume(readNpyLayout(work), 'r+');
    const mem = Float32Array.from(base);
    const store = memoryStore(mem, size);
    // boxes of 4 voxels per axis from several origins, wrapping around every axis
    for (const origin of [
      [0, 0, 0],
      [3, 4, 5],
      [4, 5, 6],
    ]) {
      const coords = origin.map((o, a) => Int32Array.from({ length: 4 }, (_, l) => (o + l) % size[a]!));
      const vals = Float32Array.from({ length: 64 }, () => rng.uniform() + 2);
      const mask = Uint8Array.from({ length: 64 }, () => (rng.uniform() < 0.5 ? 1 : 0));
      vol.writeMasked(coords, vals, mask);
      store.write(coords, vals, mask);
      const a = new Float32Array(64);
      const b = new Float32Array(64);
      vol.readBox(coords, a);
      store.read(coords, b);
      assert.deepEqual(a, b);
    }
    vol.close();
    // only masked voxels changed, each to the value the in-memory scatter wrote
    assert.deepEqual(readNpy(work).data, mem);
    // float64 channels [C, X, Y, Z] are read as their float32 rounding, as loadGrid reads them
    const f64 = Float64Array.from({ length: 2 * n3 }, () => rng.uniform() * 1e10);
    const halos = join(dir, 'io-f64.npy');
    writeFileSync(halos, encodeNpy(f64, [2, ...size]));
    const hv = new NpyVolume(readNpyLayout(halos), 'r');
    const coords = [3, 4, 5].map((o, a) => Int32Array.from({ length: 4 }, (_, l) => (o + l) % size[a]!));
    const got = new Float32Array(128);
    hv.readBox(coords, got);
    hv.close();
    const want = new Float32Array(128);
    memoryCond(Float32Array.from(f64), 2, size)(coords, want);
    assert.deepEqual(got, want);
    // what positional access cannot read is refused, naming the file and the field
    const bytes = Buffer.from(encodeNpy(base, size));
    const variant = (name: string, from: string, to: string): string => {
      const f = join(dir, name);
      writeFileSync(f, Buffer.from(bytes.toString('latin1').replace(from, to), 'latin1'));
      return f;
    };
    assert.throws(
      () => readNpyLayout(variant('io-fortran.npy', "'fortran_order': False", "'fortran_order': True ")),
      /io-fortran\.npy: fortran_order: True, expected a C-order array/,
    );
    assert.throws(
      () => readNpyLayout(variant('io-big.npy', "'<f4'", "'>f4'")),
      /io-big\.npy: dtype: '>f4', expected little-endian float32/,
    );
    const cut = join(dir, 'io-cut.npy');
    writeFileSync(cut, bytes.subarray(0, bytes.length - 4));
    assert.throws(
      () => readNpyLayout(cut),
      new RegExp(`io-cut\\.npy: size: ${bytes.length - 4} bytes, expected ${bytes.length} for shape \\[5, 6, 7\\] <f4`),
    );
  });

  test('file-backed one-process run equals the in-memory one byte for byte; --resume continues a plan', async () => {
    const n = 24;
    const halos = join(dir, 'small.npy');
    saveHalos(halos, n, 3);
    const mem = join(dir, 'mem.npy');
    const file = join(dir, 'file.npy');
    await generateRun({ halos, model, out: mem, seed: 2, steps: STEPS, quiet: true });
    // a plan with two boxes recorded, as a killed --file-backed run leaves it; --resume keeps them
    planSharded({ halos, model, out: file, seed: 2, steps: STEPS });
    await runShard({
      halos,
      model,
      out: file,
      seed: 2,
      steps: STEPS,
      quiet: true,
      stage: 0,
      shard: { index: 0, count: 1 },
    });
    await assert.rejects(
      () => generateRun({ halos, model, out: file, seed: 2, steps: STEPS, quiet: true, fileBacked: true }),
      /file\.work: exists \(a plan with 1 of 8 boxes finished\); pass --resume/,
    );
    await generateRun({ halos, model, out: file, seed: 2, steps: STEPS, quiet: true, fileBacked: true, resume: true });
    // same batches (stage by stage, 8 per call) in both: identical bytes, header included
    assert.deepEqual(readFileSync(file), readFileSync(mem));
    assert.deepEqual(sidecar(file), sidecar(mem));
    assert.ok(!existsSync(workPaths(file).dir));
    // killed between renaming the finished map into place and removing its work file: --resume keeps the map and
    // removes the residue
    const mapBytes = readFileSync(file);
    planSharded({ halos, model, out: join(dir, 'residue.npy'), seed: 2, steps: STEPS });
    renameSync(workPaths(join(dir, 'residue.npy')).dir, workPaths(file).dir);
    await generateRun({ halos, model, out: file, seed: 2, steps: STEPS, quiet: true, fileBacked: true, resume: true });
    assert.ok(!existsSync(workPaths(file).dir), 'the residue of a finished map is removed');
    assert.deepEqual(readFileSync(file), mapBytes);
    assert.deepEqual(
      npyHeaderF32([n, n, n]),
      encodeNpy(new Float32Array(n ** 3), [n, n, n]).subarray(0, npyHeaderF32([n, n, n]).length),
      "the work header is encodeNpy's",
    );
    // one-process methods without sub-volumes or with summed overlaps are refused file-backed
    await assert.rejects(
      () =>
        generateRun({
          halos,
          model,
          out: join(dir, 'avg.npy'),
          seed: 2,
          method: 'average',
          quiet: true,
          fileBacked: true,
        }),
      /--method: average, expected overlap or tiling/,
    );
  });

  test('realisations together, file-backed: the in-memory run byte for byte; a killed run resumes every map from its own records', async () => {
    const n = 24;
    const halos = join(dir, 'many.npy');
    saveHalos(halos, n, 5);
    const mem = join(dir, 'many-mem.npy');
    const file = join(dir, 'many-file.npy');
    await generateRun({ halos, model, out: mem, realizations: 3, seed: 2, steps: STEPS, quiet: true });
    await generateRun({ halos, model, out: file, realizations: 3, seed: 2, steps: STEPS, quiet: true, fileBacked: true });
    for (let r = 0; r < 3; r++) {
      // the same jobs in the same batches (stage by stage, the maps' copies of a box side by side)
      assert.deepEqual(readFileSync(file.replace('.npy', `_${r}.npy`)), readFileSync(mem.replace('.npy', `_${r}.npy`)), `map ${r}`);
      assert.deepEqual(sidecar(file.replace('.npy', `_${r}.npy`)), sidecar(mem.replace('.npy', `_${r}.npy`)));
      assert.equal((sidecar(file.replace('.npy', `_${r}.npy`)) as { provenance: { seed: number } }).provenance.seed, 2 + r);
    }
    // tiling: the boxes of every stage batched together (independent boxes), file-backed as in memory
    const tMem = join(dir, 'many-tiling-mem.npy');
    const tFile = join(dir, 'many-tiling-file.npy');
    await generateRun({ halos, model, out: tMem, realizations: 2, seed: 2, method: 'tiling', steps: STEPS, quiet: true });
    await generateRun({ halos, model, out: tFile, realizations: 2, seed: 2, method: 'tiling', steps: STEPS, quiet: true, fileBacked: true });
    for (let r = 0; r < 2; r++) assert.deepEqual(readFileSync(tFile.replace('.npy', `_${r}.npy`)), readFileSync(tMem.replace('.npy', `_${r}.npy`)), `tiling map ${r}`);
    // killed with map 1 through stage 0 and map 2 through stages 0-1 (map 0 finished and renamed into place):
    // --resume keeps map 0, continues maps 1 and 2 from their records, and leaves no work directory
    const killed = join(dir, 'many-killed.npy');
    const at = (r: number): string => killed.replace('.npy', `_${r}.npy`);
    await generateRun({ halos, model, out: at(0), seed: 2, steps: STEPS, quiet: true, fileBacked: true });
    for (const [r, stages] of [[1, 1], [2, 2]] as const) {
      planSharded({ halos, model, out: at(r), seed: 2 + r, steps: STEPS });
      for (let stage = 0; stage < stages; stage++)
        await runShard({ halos, model, out: at(r), seed: 2 + r, steps: STEPS, quiet: true, stage, shard: { index: 0, count: 1 } });
    }
    // a map that cannot start (its work directory exists, no --resume) leaves no new work directory of the others behind
    const blocked = join(dir, 'many-blocked.npy');
    const blockedAt = (r: number): string => blocked.replace('.npy', `_${r}.npy`);
    planSharded({ halos, model, out: blockedAt(1), seed: 3, steps: STEPS });
    await assert.rejects(
      () => generateRun({ halos, model, out: blocked, realizations: 2, seed: 2, steps: STEPS, quiet: true, fileBacked: true }),
      /many-blocked_1\.work: exists \(a plan with 0 of \d+ boxes finished\); pass --resume/,
    );
    assert.ok(!existsSync(workPaths(blockedAt(0)).dir), "the other map's new work directory is removed");
    assert.ok(existsSync(workPaths(blockedAt(1)).dir), 'the existing one is kept');
    const before = readFileSync(at(0));
    await generateRun({ halos, model, out: killed, realizations: 3, seed: 2, steps: STEPS, quiet: true, fileBacked: true, resume: true });
    assert.deepEqual(readFileSync(at(0)), before, 'the finished map is kept');
    for (let r = 0; r < 3; r++) {
      assert.ok(!existsSync(workPaths(at(r)).dir));
      const a = loadGrid(at(r)).data;
      const b = loadGrid(mem.replace('.npy', `_${r}.npy`)).data;
      let d = 0;
      let m = 0;
      for (let i = 0; i < a.length; i++) {
        d = Math.max(d, Math.abs(a[i]! - b[i]!));
        m = Math.max(m, Math.abs(b[i]!));
      }
      // batched differently (kept stages alone, the rest together): equal up to float rounding
      assert.ok(d <= 1e-4 * m, `map ${r}: max |ΔT_b| ${d} of max ${m}`);
    }
  });

  test('--slurm writes a script that plans, chains one job array per stage by afterok, and finishes', async () => {
    // a path with a space and a quote: every task must still receive it as one argument
    const sub = join(dir, "my 'runs'");
    mkdirSync(sub);
    const halos = join(sub, 'halos.npy');
    saveHalos(halos, 40, 9);
    const script = join(sub, 'job.sh');
    const out = join(sub, 'tb.npy');
    // printf stands in for lodi: each step prints the argv it was given, one word per line
    const r = writeSlurmScript({
      halos,
      model,
      out,
      seed: 3,
      steps: 7,
      batch: 4,
      script,
      shards: 3,
      sbatch: '--partition=gpu --time=01:00:00',
      lodi: ['printf', '%s\\n'],
    });
    assert.deepEqual([r.stages, r.boxes], [8, 64]);
    assert.ok((statSync(script).mode & 0o111) !== 0, 'executable');
    assert.throws(
      () => writeSlurmScript({ halos, model, out, seed: 3, script, shards: 3 }),
      /job\.sh already exists; pass --force/,
    );
    // a stand-in sbatch: logs its arguments, runs each array task of --wrap through sh with its task id
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    const log = join(dir, 'sbatch.log');
    writeFileSync(
      join(bin, 'sbatch'),
      `#!/bin/bash
n=$(( $(cat "${log}.n" 2>/dev/null || echo 1000) + 1 )); echo $n > "${log}.n"
wrap=""; tasks=0
args=("$@"); for ((i=0;i<\${#args[@]};i++)); do
  case "\${args[$i]}" in --wrap) wrap="\${args[$((i+1))]}";; --array=*) a="\${args[$i]#--array=0-}"; tasks=$((a+1));; esac
done
echo "JOB $n: \${args[*]}" >> "${log}"
for ((k=0;k<(tasks>0?tasks:1);k++)); do SLURM_ARRAY_TASK_ID=$k sh -c "$wrap" | tr '\\n' ' ' >> "${log}"; echo >> "${log}"; done
echo "$n;cluster"
`,
    );
    chmodSync(join(bin, 'sbatch'), 0o755);
    const res = spawnSync('bash', [script], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      encoding: 'utf8',
    });
    assert.equal(res.status, 0, res.stderr);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    const jobs = lines.filter((l) => l.startsWith('JOB '));
    assert.equal(jobs.length, 9, '8 stage arrays and the finish job');
    const common = `generate --halos ${halos} --model ${model} --out ${out} --seed 3 --steps 7 --batch 4`;
    for (let s = 0; s < 8; s++) {
      const j = jobs[s]!;
      assert.ok(j.startsWith(`JOB ${1001 + s}: --parsable --partition=gpu --time=01:00:00`), j);
      assert.ok(j.includes(`--array=0-2`), j);
      if (s > 0)
        assert.ok(j.includes(`--dependency=afterok:${1000 + s} `), `stage ${s} waits for job ${1000 + s}: ${j}`);
      else assert.ok(!j.includes('--dependency'), j);
      // the three tasks of the stage receive exactly these arguments
      const i = lines.indexOf(j);
      for (let k = 0; k < 3; k++) assert.equal(lines[i + 1 + k]!.trim(), `${common} --stage ${s} --shard ${k}/3`);
    }
    assert.ok(jobs[8]!.includes('--dependency=afterok:1008 ') && !jobs[8]!.includes('--array'), jobs[8]);
    assert.equal(lines[lines.indexOf(jobs[8]!) + 1]!.trim(), `${common.replace(' --batch 4', '')} --finish`);
    // the planning step ran on the submitting node, before any job
    assert.match(res.stdout, new RegExp(`^generate\\n--halos\\n${halos.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`));
    assert.match(res.stdout, /--steps\n7\n--plan-only\n--resume\nstage 0: job array 1001\n/);
    assert.match(
      (await cli(['generate', '--halos', halos, '--model', model, '--out', out, '--slurm', script])).err?.message ?? '',
      /--slurm: expected --shards N/,
    );
  });
}
