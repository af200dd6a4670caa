/**
 * Data-parallel HALOgen training over two processes (c10d/Gloo through a rendezvous file): it
 * follows the single-process run with the same batches (uneven shares of a batch included), the
 * ranks end with identical weights, rank 0 alone writes the run, and a rank with other worlds stops
 * both with one line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readHalogenCheckpoint, trainHalogen } from '../../src/halogen/train.js';
import { disposeGroups } from '../../src/train/checkpoint.js';
import { dpConfig, dpWorlds, weightsSha, type HalogenDpJob } from './dp-child.js';
import { writeSyntheticTbWorld } from './helpers.js';
import { runJsonChild, runLodi } from '../child-process.js';

const CHILD = fileURLToPath(new URL('./dp-child.js', import.meta.url));

interface ChildResult {
  ok: boolean;
  epochs?: number;
  sha?: string;
  error?: string;
}

function rank(job: HalogenDpJob): Promise<ChildResult> {
  return runJsonChild<ChildResult>(CHILD, 'HALOGEN_DP_CHILD', job);
}

/** Largest |Δ| between the `model.*` weights of two run directories' checkpoints. */
function weightDiff(a: string, b: string): { diff: number; scale: number } {
  const ca = readHalogenCheckpoint(join(a, 'checkpoint.safetensors'));
  const cb = readHalogenCheckpoint(join(b, 'checkpoint.safetensors'));
  try {
    let diff = 0;
    let scale = 0;
    for (const [k, t] of ca.groups.get('model')!) {
      const x = t.toFloat64Array();
      const y = cb.groups.get('model')!.get(k)!.toFloat64Array();
      x.forEach((v, i) => {
        diff = Math.max(diff, Math.abs(v - y[i]!));
        scale = Math.max(scale, Math.abs(v));
      });
    }
    return { diff, scale };
  } finally {
    disposeGroups(ca.groups);
    disposeGroups(cb.groups);
  }
}

test('data-parallel HALOgen over two processes follows the one-process run; the ranks agree bit for bit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'halogen-dp-'));
  try {
    const epochs = 2;
    const batch = 3;
    let single = '';
    const one = await trainHalogen({ worlds: dpWorlds(), config: dpConfig(epochs, batch), out: join(dir, 'one'), seed: 4, quiet: true, onDone: (p) => (single = weightsSha(p)) });
    const common = { worldSize: 2, rendezvous: join(dir, 'r'), out: join(dir, 'dp'), epochs, batch, seed: 4 };
    const [r0, r1] = await Promise.all([rank({ ...common, rank: 0 }), rank({ ...common, rank: 1 })]);
    assert.ok(r0!.ok && r1!.ok, `${r0!.error ?? ''} ${r1!.error ?? ''}`);
    assert.equal(r0!.epochs, epochs);
    assert.equal(r0!.sha, r1!.sha, 'both ranks hold the same weights');
    // same batches, same averaged gradients up to float summation order. RMSprop divides each gradient
    // by its running rms, so a weight whose gradients are near zero can move by up to ~lr from rounding
    // alone (measured: 1.6e-3 here, 0.1 lr per step); weighting the shares wrongly (the plain mean of the
    // two ranks' means with shares of 1 and 2 samples) moved the weights by 0.13, 8 lr per step
    const steps = one.meta.optimizer.step;
    const lr = one.meta.history[0]!.lr;
    const d = weightDiff(join(dir, 'one'), join(dir, 'dp'));
    assert.ok(d.diff < 0.25 * lr * steps, `weights differ by ${d.diff} (bound ${0.25 * lr * steps}, ${steps} steps)`);
    assert.notEqual(single, '', 'the one-process run reported its weights');
    // rank 0 wrote the run; rank 1 wrote nothing
    assert.ok(existsSync(join(dir, 'dp', 'best.safetensors')));
    assert.deepEqual(readdirSync(dir).sort(), ['dp', 'one', 'r'].filter((n) => existsSync(join(dir, n))).sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('data-parallel HALOgen: a rank with other worlds stops both ranks with one line each', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'halogen-dp-bad-'));
  try {
    const common = { worldSize: 2, rendezvous: join(dir, 'r'), out: join(dir, 'dp'), epochs: 1, batch: 4, seed: 4 };
    const [r0, r1] = await Promise.all([rank({ ...common, rank: 0 }), rank({ ...common, rank: 1, worlds: [2, 6] })]);
    assert.equal(r0!.ok, false);
    assert.equal(r1!.ok, false);
    assert.match(r1!.error!, /^data-parallel rank 1: synthetic-6: seed: 6, expected 5 as in rank 0's world 1/);
    assert.match(r0!.error!, /^data-parallel rank 0: 1 other rank\(s\) could not start/);
    assert.ok(!existsSync(join(dir, 'dp', 'checkpoint.safetensors')), 'no checkpoint');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lodi train halogen --world-size 2: two processes train one run that rank 0 writes; --rank or --dp-timeout alone is refused, a lone rank times out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'halogen-dp-cli-'));
  const cli = runLodi;
  try {
    const worldDir = join(dir, 'world');
    writeSyntheticTbWorld(worldDir, 32, 3);
    const out = join(dir, 'run');
    const base = ['train', 'halogen', '--worlds', worldDir, '--out', out, '--preset', 'tiny', '--epochs', '1', '--seed', '2', '--quiet', '--no-plot', '--world-size', '2', '--rendezvous', `file:${join(dir, 'rv')}`];
    const [r0, r1] = await Promise.all([cli([...base, '--rank', '0']), cli([...base, '--rank', '1'])]);
    assert.equal(r0.code, 0, r0.err);
    assert.equal(r1.code, 0, r1.err);
    assert.match(r0.out, /run \(rank 0 of 2\): 1 epochs, best validation loss/);
    assert.match(r1.out, /run \(rank 1 of 2\): 1 epochs/);
    const ck = readHalogenCheckpoint(join(out, 'checkpoint.safetensors'));
    assert.equal(ck.meta.epochsDone, 1);
    disposeGroups(ck.groups);
    const noWorld = await cli(['train', 'halogen', '--worlds', worldDir, '--out', join(dir, 'x'), '--rank', '1']);
    assert.match(noWorld.err, /--rank .*without --world-size > 1/);
    assert.ok(!existsSync(join(dir, 'x')));
    const noTimeout = await cli(['train', 'halogen', '--worlds', worldDir, '--out', join(dir, 'x'), '--dp-timeout', '5']);
    assert.match(noTimeout.err, /--dp-timeout .*without --world-size > 1/);
    // a rank whose partner never comes gives up after --dp-timeout, saying where and how long it waited
    const alone = await cli(['train', 'halogen', '--worlds', worldDir, '--out', join(dir, 'y'), '--preset', 'tiny', '--epochs', '1', '--quiet', '--no-plot', '--world-size', '2', '--rank', '1', '--rendezvous', `file:${join(dir, 'rv-alone')}`, '--dp-timeout', '1']);
    assert.notEqual(alone.code, 0);
    assert.match(alone.err, /could not meet the others at .* within 1 s/);
    assert.ok(!existsSync(join(dir, 'x')) && !existsSync(join(dir, 'y')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
