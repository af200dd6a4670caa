/**
 * Data-parallel LODI training over two processes (c10d/Gloo through a rendezvous file): it follows
 * the single-process run with the same global batch, the ranks end with identical weights, and a
 * failure of rank 0 before training reaches the other rank as one line instead of a hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { F, ProcessGroup, distributedAvailable, tidy } from '@lodi/torch';
import { readCheckpoint, disposeGroups } from '../../src/train/checkpoint.js';
import { LODI_KIND, type LodiMeta } from '../../src/lodi/checkpoint.js';
import { trainLodi } from '../../src/lodi/train.js';
import { averageGradients, rankRows, rankStepSeed, shareJson } from '../../src/train/data-parallel.js';
import type { DpJob } from './dp-child.js';
import { dpConfig, dpPairs } from './dp-setup.js';
import { writeSyntheticTbWorld } from '../halogen/helpers.js';
import { runJsonChild, runLodi } from '../child-process.js';

const CHILD = fileURLToPath(new URL('./dp-child.js', import.meta.url));

interface ChildResult {
  ok: boolean;
  step?: number;
  sha?: string;
  error?: string;
}

function rank(job: DpJob): Promise<ChildResult> {
  return runJsonChild<ChildResult>(CHILD, 'LODI_DP_CHILD', job);
}

function ranks(
  dir: string,
  name: string,
  o: Omit<DpJob, 'rank' | 'worldSize' | 'rendezvous' | 'out'>,
  rendezvous = join(dir, `${name}.rendezvous`),
  rank1: Partial<DpJob> = {},
): Promise<ChildResult[]> {
  const common = { worldSize: 2, rendezvous, out: join(dir, name), ...o };
  return Promise.all([rank({ ...common, rank: 0 }), rank({ ...common, rank: 1, ...rank1 })]);
}

test('the engine has c10d/Gloo collectives (libgloo-dev at build time)', () => {
  assert.equal(distributedAvailable(), true);
  assert.throws(() => new ProcessGroup({ rank: 2, worldSize: 2, rendezvous: { file: '/nonexistent/x' } }), /rank 2, expected an integer in \[0, 2\)/);
});

test('data-parallel helpers: rank rows, per-step seeds, and a one-rank group is the identity', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-dp1-'));
  const g = new ProcessGroup({ rank: 0, worldSize: 1, rendezvous: { file: join(dir, 'r') }, deviceHost: '127.0.0.1', timeoutMs: 10_000 });
  try {
    assert.deepEqual(rankRows(g, 8), { start: 0, count: 8 });
    assert.deepEqual(shareJson(g, { a: [1, 'b'] }), { a: [1, 'b'] });
    const seeds = new Set<number>();
    for (let step = 0; step < 50; step++) for (let r = 0; r < 4; r++) seeds.add(rankStepSeed(12345, step, r));
    assert.equal(seeds.size, 200, 'distinct seeds per (step, rank)');
    assert.ok([...seeds].every((s) => Number.isSafeInteger(s) && s >= 0));
    tidy(() => {
      const p = F.tensor(Float32Array.from([1, 2, 3]), [3]);
      p.grad = F.tensor(Float32Array.from([0.5, -1, 2]), [3]);
      const v = averageGradients(g, [p], [3.5, 1]);
      assert.deepEqual(v, [3.5, 1]);
      assert.deepEqual(Array.from(p.grad!.toFloat32Array()), [0.5, -1, 2]);
    });
  } finally {
    g.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two ranks with half the batch each follow the one-process run; their weights stay identical, also with dropout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-dp-'));
  try {
    const steps = 6;
    // one process, the whole batch of 4, no dropout (its masks depend on how the batch is split)
    await trainLodi({ worlds: dpPairs(), config: dpConfig(steps, 4, 0), out: join(dir, 'single'), seed: 5, quiet: true });
    const [a, b] = await ranks(dir, 'dp', { steps, batch: 4, dropout: 0, seed: 5 });
    assert.ok(a!.ok && b!.ok, `ranks failed: ${a!.error ?? ''} ${b!.error ?? ''}`);
    assert.equal(a!.step, steps);
    assert.equal(a!.sha, b!.sha, 'the ranks hold the same weights');
    assert.notEqual(a!.sha, '', 'weights were hashed');
    // against the one-process run: the same batches, noise and times; only the order of the gradient
    // sums differs (mean of 4 rows vs mean of two means of 2), so float32 rounding and no more
    const one = readCheckpoint<LodiMeta>(join(dir, 'single', 'checkpoint.safetensors'), LODI_KIND);
    const two = readCheckpoint<LodiMeta>(join(dir, 'dp', 'checkpoint.safetensors'), LODI_KIND);
    try {
      let worst = 0;
      let scale = 0;
      for (const [name, t] of one.groups.get('model')!) {
        const u = two.groups.get('model')!.get(name)!;
        const x = t.toFloat32Array();
        const y = u.toFloat32Array();
        for (let i = 0; i < x.length; i++) {
          worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
          scale = Math.max(scale, Math.abs(x[i]!));
        }
      }
      // Adam moves each weight by at most ~lr per step; the rounding differences (measured 1.6e-5) stay
      // below 1% of that, a sum over the ranks taken for their mean moves weights by 2.5e-3
      const lr = dpConfig(steps, 4, 0).train.lr;
      assert.ok(worst < 1e-2 * lr * steps, `max |Δw| = ${worst} (weights up to ${scale}, lr ${lr})`);
      // Adam's moments see the gradients themselves: a sum over the ranks instead of their mean would
      // make exp_avg 2x and exp_avg_sq 4x those of the one-process run
      let momentWorst = 0;
      let compared = 0;
      for (const [name, t] of one.groups.get('optim')!) {
        if (!/exp_avg/.test(name)) continue;
        compared++;
        const x = t.toFloat32Array();
        const y = two.groups.get('optim')!.get(name)!.toFloat32Array();
        let num = 0;
        let den = 0;
        for (let i = 0; i < x.length; i++) {
          num += Math.abs(x[i]! - y[i]!);
          den += Math.abs(x[i]!);
        }
        if (den > 0) momentWorst = Math.max(momentWorst, num / den);
      }
      assert.ok(compared >= 2, `moments compared: ${compared}`);
      assert.ok(momentWorst < 1e-3, `relative |Δ moment| = ${momentWorst}`);
      const h1 = one.meta.history.map((r) => [r.train.total, r.val.total]);
      const h2 = two.meta.history.map((r) => [r.train.total, r.val.total]);
      assert.equal(h2.length, h1.length);
      h1.forEach((r, i) => r.forEach((v, j) => assert.ok(Math.abs(v - h2[i]![j]!) < 1e-4 * Math.abs(v), `history ${i}.${j}: ${v} vs ${h2[i]![j]}`)));
    } finally {
      disposeGroups(one.groups);
      disposeGroups(two.groups);
    }
    // with dropout each rank draws its own masks, and the averaged update keeps the ranks identical
    const [c, d] = await ranks(dir, 'dropout', { steps: 4, batch: 4, dropout: 0.1, seed: 6 });
    assert.ok(c!.ok && d!.ok, `ranks failed: ${c!.error ?? ''} ${d!.error ?? ''}`);
    assert.equal(c!.sha, d!.sha);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a batch that does not split over the ranks stops both ranks with one line each (ranks met through a TCP store)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-dp-bad-'));
  try {
    // a port the system just handed out (closed again, so rank 0's store can take it)
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const a = srv.address();
        srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
      });
    });
    const [a, b] = await ranks(dir, 'bad', { steps: 2, batch: 3, dropout: 0, seed: 1 }, `tcp:${port}`);
    assert.equal(a!.ok, false);
    assert.match(a!.error!, /batch 3 is not a multiple of the world size 2/);
    assert.equal(b!.ok, false);
    assert.match(b!.error!, /rank 1: rank 0 stopped before training: .*batch 3 is not a multiple of the world size 2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a rank whose worlds are not rank 0's stops every rank with one line instead of training on other data", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-dp-worlds-'));
  try {
    const [a, b] = await ranks(dir, 'worlds', { steps: 2, batch: 4, dropout: 0, seed: 1 }, undefined, { worlds: [1, 3] });
    assert.equal(b!.ok, false);
    assert.match(b!.error!, /^data-parallel rank 1: synthetic-3: seed: .*, expected .* as in rank 0's world 1/);
    assert.equal(a!.ok, false);
    assert.match(a!.error!, /^data-parallel rank 0: 1 other rank\(s\) could not start/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lodi train lodi --world-size 2: two processes train one run that rank 0 writes, and the options are checked', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-dp-cli-'));
  const cli = runLodi;
  try {
    const worldDir = join(dir, 'world');
    writeSyntheticTbWorld(worldDir, 32, 3);
    const out = join(dir, 'run');
    const base = ['train', 'lodi', '--worlds', worldDir, '--out', out, '--preset', 'tiny', '--batch', '4', '--steps', '4', '--seed', '2', '--quiet', '--no-plot', '--world-size', '2', '--rendezvous', `file:${join(dir, 'rv')}`];
    const [r0, r1] = await Promise.all([cli([...base, '--rank', '0']), cli([...base, '--rank', '1'])]);
    assert.equal(r0.code, 0, r0.err);
    assert.equal(r1.code, 0, r1.err);
    assert.match(r0.out, /run \(rank 0 of 2\): 4 steps, best validation loss/);
    assert.match(r1.out, /run \(rank 1 of 2\): 4 steps/);
    const meta = readCheckpoint<LodiMeta>(join(out, 'checkpoint.safetensors'), LODI_KIND);
    assert.equal(meta.meta.step, 4);
    disposeGroups(meta.groups);
    // the refusals: --rank or --dp-timeout without a world size, a world size without a rendezvous, a bad rendezvous or timeout
    const noWorld = await cli(['train', 'lodi', '--worlds', worldDir, '--out', join(dir, 'x'), '--rank', '1']);
    assert.match(noWorld.err, /--rank .*without --world-size > 1/);
    const noRv = await cli(['train', 'lodi', '--worlds', worldDir, '--out', join(dir, 'x'), '--world-size', '2']);
    assert.match(noRv.err, /--rendezvous: missing; expected HOST:PORT or file:PATH/);
    const badRv = await cli(['train', 'lodi', '--worlds', worldDir, '--out', join(dir, 'x'), '--world-size', '2', '--rendezvous', 'node1']);
    assert.match(badRv.err, /HOST:PORT \(port 1-65535\) or file:PATH/);
    const noTimeout = await cli(['train', 'lodi', '--worlds', worldDir, '--out', join(dir, 'x'), '--dp-timeout', '5']);
    assert.match(noTimeout.err, /--dp-timeout .*without --world-size > 1/);
    const badTimeout = await cli(['train', 'lodi', '--worlds', worldDir, '--out', join(dir, 'x'), '--world-size', '2', '--rendezvous', 'file:rv', '--dp-timeout', '0']);
    assert.match(badTimeout.err, /--dp-timeout/);
    assert.ok(!existsSync(join(dir, 'x')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
