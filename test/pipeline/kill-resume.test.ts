/**
 * Kill tests: `lodi train lodi`, `lodi generate` and `lodi run` are killed with SIGKILL (no handler
 * runs, as when the machine loses power or the kernel's OOM killer strikes) once they have written
 * their first checkpoint or finished output, then continued with `--resume`. The final files must
 * equal those of an uninterrupted run with the same seed: .npy grids and split.json byte for byte,
 * checkpoints tensor for tensor, and JSON metadata and history.csv up to the fields that record wall
 * time or the command line (the only things allowed to differ). Everything runs as child processes
 * of the built CLI: training on a 32^3 synthetic world with the `tiny` LODI preset, generation on a
 * 16^3 one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSafetensors } from '@lodi/torch';
import { loadGrid } from '../../src/io/grid.js';
import { writeWorld } from '../../src/io/world.js';
import { syntheticWorld, writeSyntheticTbWorld } from '../halogen/helpers.js';
import { narrowTbTransform } from '../lodi/helpers.js';
import { repoRoot } from '../reference-dir.js';

const MAIN = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** Runs `lodi args`; when `killWhen` is given, polls it and sends SIGKILL as soon as it holds. */
function lodi(args: string[], killWhen?: () => boolean): Promise<Exit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = killWhen
      ? setInterval(() => {
          if (killWhen()) {
            clearInterval(timer);
            child.kill('SIGKILL');
          }
        }, 20)
      : undefined;
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      resolve({ code, signal, stderr });
    });
  });
}

async function ok(args: string[]): Promise<void> {
  const r = await lodi(args);
  assert.equal(r.code, 0, `lodi ${args.join(' ')}: ${r.stderr}`);
}

/** Runs until `when` holds, kills it, and checks that the kill (not a normal exit) ended it. */
async function killed(args: string[], when: () => boolean): Promise<void> {
  const r = await lodi(args, when);
  assert.equal(r.signal, 'SIGKILL', `lodi ${args.join(' ')} ended before the kill (code ${r.code}): ${r.stderr}`);
}

/** Visible files of a folder (temporary siblings of an interrupted write start with a dot). */
const listing = (dir: string): string[] => readdirSync(dir).filter((f) => !f.startsWith('.')).sort();

/** JSON without the fields that record wall time or the command line. */
function stripVolatile(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripVolatile);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!['seconds', 'command', 'timings'].includes(k)) o[k] = stripVolatile(x);
    return o;
  }
  return v;
}

const json = (path: string): unknown => stripVolatile(JSON.parse(readFileSync(path, 'utf8')));

/** Safetensors files: every tensor bit-identical, metadata equal up to time and command. */
function sameCheckpoint(a: string, b: string): void {
  const fa = loadSafetensors(a);
  const fb = loadSafetensors(b);
  try {
    assert.deepEqual([...fa.tensors.keys()].sort(), [...fb.tensors.keys()].sort(), b);
    for (const [k, t] of fa.tensors) {
      const u = fb.tensors.get(k)!;
      assert.deepEqual(u.shape, t.shape, k);
      assert.ok(Buffer.from(t.toFloat32Array().buffer).equals(Buffer.from(u.toFloat32Array().buffer)), `${b}: tensor ${k} differs`);
    }
    const meta = (f: typeof fa): Record<string, unknown> =>
      Object.fromEntries(Object.entries(f.metadata).map(([k, v]) => [k, k === 'format' ? v : stripVolatile(JSON.parse(v))]));
    assert.deepEqual(meta(fb), meta(fa), `${b}: metadata`);
  } finally {
    for (const f of [fa, fb]) for (const t of f.tensors.values()) t.dispose();
  }
}

/** history.csv without its wall-time column. */
function historyWithoutTime(path: string): string[][] {
  const rows = readFileSync(path, 'utf8').trim().split('\n').map((l) => l.split(','));
  const s = rows[0]!.indexOf('seconds');
  assert.ok(s >= 0, 'history.csv has a seconds column');
  return rows.map((r) => r.filter((_, i) => i !== s));
}

/**
 * Every visible file of `b` equals its twin in `a` (grids and split byte for byte); JSON files may
 * differ only in times, command lines and paths into their own folder (`a` or `b`).
 */
/**
 * The files of run `b` equal those of `a`. With `npyRelTol`, the .npy grids may differ by that fraction of the largest
 * |value|: a run resumed inside a stage batches the stage's remaining sub-volumes differently, and batched
 * convolutions round differently in the last bits (a map made afresh with another seed differs by O(1)).
 */
function sameRun(a: string, b: string, npyRelTol = 0): void {
  assert.deepEqual(listing(b), listing(a), `${b}: files`);
  const relative = (path: string, dir: string): unknown => JSON.parse(JSON.stringify(json(path)).replaceAll(dir, '<out>'));
  for (const f of listing(a)) {
    const [pa, pb] = [join(a, f), join(b, f)];
    if (f.endsWith('.safetensors')) sameCheckpoint(pa, pb);
    else if (f.endsWith('.json') && f !== 'split.json') assert.deepEqual(relative(pb, b), relative(pa, a), pb);
    else if (f === 'history.csv') assert.deepEqual(historyWithoutTime(pb), historyWithoutTime(pa), pb);
    else if (f.endsWith('.log') || f.endsWith('.png')) continue; // progress lines and plots carry times
    else if (npyRelTol > 0 && f.endsWith('.npy')) {
      const [ga, gb] = [loadGrid(pa), loadGrid(pb)];
      assert.deepEqual(gb.shape, ga.shape, pb);
      let scale = 0;
      let diff = 0;
      for (let i = 0; i < ga.data.length; i++) {
        scale = Math.max(scale, Math.abs(ga.data[i]!));
        diff = Math.max(diff, Math.abs(ga.data[i]! - gb.data[i]!));
      }
      assert.ok(diff <= npyRelTol * scale, `${pb}: max |Δ| ${diff} against max |value| ${scale}`);
    } else assert.ok(readFileSync(pa).equals(readFileSync(pb)), `${pb} differs from ${pa}`);
  }
}

test('kill -9 then --resume gives the files of an uninterrupted run: train lodi, generate, run', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'lodi-kill-'));
  try {
    // a 32^3 world whose T_b follows its halo channels (as in the pipeline tests)
    const worldDir = join(root, 'world');
    writeSyntheticTbWorld(worldDir, 32, 3);
    // generation runs on a 16^3 world at the same voxel (0.1 Mpc/h), the model's data contract
    const small = join(root, 'world16');
    writeWorld(small, syntheticWorld(16, 4, small));
    const halos = join(small, 'halos.npy');

    // tiny preset: a checkpoint every 10 steps; batch 2 keeps each step cheap
    const train = ['train', 'lodi', '--worlds', worldDir, '--quiet', '--no-plot'];
    const model = join(root, 'train-a');
    await t.test('train lodi', async () => {
      await ok([...train, '--out', model, '--preset', 'tiny', '--batch', '2', '--steps', '20', '--seed', '5']);
      const b = join(root, 'train-b');
      await killed([...train, '--out', b, '--preset', 'tiny', '--batch', '2', '--steps', '20', '--seed', '5'], () => existsSync(join(b, 'checkpoint.safetensors')));
      // the run continues with its own preset, batch, seed and total of steps
      await ok([...train, '--out', b, '--resume']);
      sameRun(model, b);
      // a 20-step model samples y of ~40 with 2 steps, beyond its T_b transform's float32 range (tbInverse refuses);
      // the kill tests compare files, not T_b values
      narrowTbTransform(model, 0.01);
    });

    const gen = (out: string): string[] => ['generate', '--halos', halos, '--model', model, '--out', out, '--realizations', '3', '--steps', '2', '--seed', '9', '--quiet'];
    await t.test('generate', async () => {
      const a = join(root, 'gen-a');
      const b = join(root, 'gen-b');
      await ok(gen(join(a, 'tb.npy')));
      await killed(gen(join(b, 'tb.npy')), () => existsSync(join(b, 'tb_0.json')));
      await ok([...gen(join(b, 'tb.npy')), '--resume']);
      sameRun(a, b);
    });

    const run = (out: string): string[] => ['run', '--dm', join(small, 'dm.npy'), '--halos', halos, '--lodi', model, '--out', out, '--realizations', '3', '--steps', '2', '--seed', '4', '--quiet'];
    await t.test('run', async () => {
      const a = join(root, 'run-a');
      const b = join(root, 'run-b');
      await ok(run(a));
      await killed(run(b), () => existsSync(join(b, 'tb_0.json')));
      await ok([...run(b), '--resume']);
      sameRun(a, b);
    });

    // killed inside a map: a 40^3 world holds 27 sub-volumes of the tiny model's 16^3, and the resumed run keeps
    // those its work file recorded as finished; the map equals the uninterrupted one to float rounding (see sameRun)
    const big = join(root, 'world40');
    writeWorld(big, syntheticWorld(40, 6, big));
    // batches of 2 and 8 steps: 14 batches of a few hundred ms, so the kill (polled every 20 ms) lands inside the map
    // even on a loaded machine
    const runBig = (out: string): string[] => ['run', '--dm', join(big, 'dm.npy'), '--halos', join(big, 'halos.npy'), '--lodi', model, '--out', out, '--realizations', '1', '--steps', '8', '--batch', '2', '--seed', '4', '--quiet'];
    await t.test('run, killed inside a realisation', async () => {
      const a = join(root, 'runbig-a');
      const b = join(root, 'runbig-b');
      await ok(runBig(a));
      const done = join(b, 'tb_0.work', 'done');
      await killed(runBig(b), () => existsSync(done) && readdirSync(done).length >= 2);
      await ok([...runBig(b), '--resume']);
      const kept = /kept (\d+) of (\d+) finished sub-volumes/.exec(readFileSync(join(b, 'run.log'), 'utf8'));
      assert.ok(kept, 'the resumed run reports the sub-volumes it kept');
      assert.ok(Number(kept[1]) >= 2 && Number(kept[1]) < Number(kept[2]), `kept ${kept[1]} of ${kept[2]}`);
      sameRun(a, b, 1e-4);
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
