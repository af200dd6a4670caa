import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  tensor,
  tidy,
  keep,
  nn,
  F,
  Generator,
  Adam,
  AdamW,
  RMSprop,
  SGD,
  EMA,
  clipGradNorm,
  liveTensors,
  saveSafetensors,
  loadSafetensors,
  CosineAnnealingWarmRestarts,
  ConstantWarmup,
  SequentialSchedule,
  getNumThreads,
  op,
  Tensor,
} from '@lodi/torch';

class TinyNet extends nn.Module {
  readonly c1: nn.Conv3d;
  readonly n1: nn.GroupNorm;
  readonly c2: nn.Conv3d;
  constructor(gen: Generator) {
    super();
    this.c1 = this.child('c1', new nn.Conv3d(1, 8, gen, { paddingMode: 'circular' }));
    this.n1 = this.child('n1', new nn.GroupNorm(4, 8));
    this.c2 = this.child('c2', new nn.Conv3d(8, 1, gen, { paddingMode: 'circular' }));
  }
  forward(x: Tensor): Tensor {
    return this.c2.forward(this.n1.forward(this.c1.forward(x)).silu());
  }
}

test('a tiny conv net trained for 200 steps reaches a loss it could not reach untrained', () => {
  const gen = new Generator(7);
  const net = new TinyNet(gen);
  const opt = new Adam(net.parameters(), { lr: 3e-3 });
  // Target: a fixed local stencil of the input (learnable exactly by a 3x3x3 conv).
  const x = keep(F.randn([4, 1, 8, 8, 8], gen));
  const y = keep(tidy(() => x.roll(1, 2).add(x.roll(-1, 3)).mul(0.5).sub(x.mul(0.3))));
  const lossOf = (): number => tidy(() => F.mseLoss(net.forward(x), y).item());
  const initial = lossOf();
  let last = initial;
  for (let i = 0; i < 200; i++) {
    last = tidy(() => {
      const loss = F.mseLoss(net.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      return loss.item();
    });
  }
  assert.ok(last < 0.05 * initial, `loss ${initial} -> ${last}`);
  net.dispose();
  opt.dispose();
  x.dispose();
  y.dispose();
});

test('1000 training steps do not grow the number of live tensors or memory', () => {
  const gen = new Generator(1);
  const net = new TinyNet(gen);
  const opt = new RMSprop(net.parameters(), { lr: 1e-4 });
  const x = keep(F.randn([2, 1, 8, 8, 8], gen));
  const step = (): void =>
    tidy(() => {
      const loss = net.forward(x).square().mean();
      opt.zeroGrad();
      loss.backward();
      clipGradNorm(net.parameters(), 1.0);
      opt.step();
    });
  for (let i = 0; i < 50; i++) step(); // optimizer state is created during the first steps
  const live0 = liveTensors();
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 1000; i++) step();
  const live1 = liveTensors();
  const rss1 = process.memoryUsage().rss;
  assert.equal(live1, live0, 'live tensor count changed');
  // Each step allocates ~1 MB of activations; a leak of one step's tensors would add ~1 GB.
  assert.ok(rss1 - rss0 < 64 * 2 ** 20, `RSS grew by ${((rss1 - rss0) / 2 ** 20).toFixed(1)} MiB`);
  net.dispose();
  opt.dispose();
  x.dispose();
});

test('tidy disposes intermediates, keeps returned tensors, and cleans up on throw', () => {
  const before = liveTensors();
  const kept = tidy(() => {
    const a = F.ones([3]);
    const b = a.mul(2);
    return { b, c: [b.add(1)] };
  });
  assert.equal(liveTensors(), before + 2);
  assert.deepEqual(Array.from(kept.b.toFloat32Array()), [2, 2, 2]);
  kept.b.dispose();
  kept.c[0]!.dispose();
  assert.equal(liveTensors(), before);
  assert.throws(() =>
    tidy(() => {
      F.ones([3]);
      throw new Error('boom');
    }),
  );
  assert.equal(liveTensors(), before);
});

test('optimizers follow the PyTorch update formulas (one step on a quadratic, checked by hand)', () =>
  tidy(() => {
    const run = (make: (p: Tensor[]) => { step(): void; zeroGrad(): void }, steps: number): number[] => {
      const p = tensor(new Float64Array([1, -2])).requiresGrad_();
      const opt = make([p]);
      for (let i = 0; i < steps; i++) {
        tidy(() => {
          opt.zeroGrad();
          p.square().sum().backward(); // grad = 2p
          opt.step();
        });
      }
      return Array.from(p.detach().toFloat64Array());
    };
    // SGD: p - lr * 2p
    assert.deepEqual(run((p) => new SGD(p, { lr: 0.1 }), 1), [0.8, -1.6]);
    // Adam step 1: m_hat = g, v_hat = g^2 -> p - lr * g/(|g| + eps) = p - lr*sign(g)
    const adam = run((p) => new Adam(p, { lr: 0.01 }), 1);
    assert.ok(Math.abs(adam[0]! - 0.99) < 1e-9 && Math.abs(adam[1]! + 1.99) < 1e-9, `${adam}`);
    // AdamW: decoupled decay first: p(1 - lr*wd) then the Adam step.
    const adamw = run((p) => new AdamW(p, { lr: 0.01, weightDecay: 0.1 }), 1);
    assert.ok(Math.abs(adamw[0]! - (1 * (1 - 0.001) - 0.01)) < 1e-9, `${adamw}`);
    // RMSprop step 1: v = (1-alpha) g^2 -> p - lr * g / (sqrt(v) + eps)
    const rms = run((p) => new RMSprop(p, { lr: 0.01, alpha: 0.99 }), 1);
    const expect0 = 1 - (0.01 * 2) / (Math.sqrt(0.01 * 4) + 1e-8);
    assert.ok(Math.abs(rms[0]! - expect0) < 1e-9, `${rms} vs ${expect0}`);
    // SGD with momentum, two steps: buf1 = g1, buf2 = mu*g1 + g2.
    const mom = run((p) => new SGD(p, { lr: 0.1, momentum: 0.9 }), 2);
    const p1 = 1 - 0.1 * 2;
    const p2 = p1 - 0.1 * (0.9 * 2 + 2 * p1);
    assert.ok(Math.abs(mom[0]! - p2) < 1e-12, `${mom} vs ${p2}`);
  }));

test('gradient clipping and EMA', () =>
  tidy(() => {
    const p = tensor(new Float64Array([3, 4])).requiresGrad_();
    p.mul(p).sum().backward(); // grad = (6, 8), norm 10
    const norm = clipGradNorm([p], 1);
    assert.ok(Math.abs(norm - 10) < 1e-9);
    const g = p.grad!.toFloat64Array();
    assert.ok(Math.abs(Math.hypot(g[0]!, g[1]!) - 1) < 1e-6);
    const ema = new EMA([p], 0.5);
    tidy(() => op('mul_.Scalar', [p.detach(), 3])); // p -> (9, 12) without autograd
    ema.update();
    assert.deepEqual(Array.from(ema.shadow[0]!.toFloat64Array()), [6, 8]);
    ema.dispose();
  }));

test('LR schedules match PyTorch formulas', () => {
  const cos = new CosineAnnealingWarmRestarts(1e-4, 50, 3e-5);
  assert.ok(Math.abs(cos.lrAt(0) - 1e-4) < 1e-15);
  assert.ok(Math.abs(cos.lrAt(25) - (3e-5 + 0.5 * 7e-5)) < 1e-15);
  assert.ok(Math.abs(cos.lrAt(50) - 1e-4) < 1e-15, 'restart');
  const seq = new SequentialSchedule(new ConstantWarmup(2e-4), 10, cos);
  assert.equal(seq.lrAt(9), 2e-4);
  assert.equal(seq.lrAt(10), 1e-4);
  const mult = new CosineAnnealingWarmRestarts(1, 2, 0, 2);
  // cycles of length 2, 4, 8: epoch 2 starts the second cycle, epoch 6 the third.
  assert.equal(mult.lrAt(2), 1);
  assert.equal(mult.lrAt(6), 1);
  assert.ok(Math.abs(mult.lrAt(4) - 0.5) < 1e-12);
});

test('safetensors round trip, byte layout, and corrupt-file errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-st-'));
  const path = join(dir, 'w.safetensors');
  tidy(() => {
    const gen = new Generator(3);
    const tensors = new Map<string, Tensor>([
      ['a.weight', F.randn([2, 3, 4], gen)],
      ['b', tensor(new Float64Array([1.5, -2.5]))],
      ['idx', tensor(new BigInt64Array([7n, -1n]), [2])],
      ['mask', tensor(new Uint8Array([1, 0, 1]), [3], { dtype: 'bool' })],
    ]);
    saveSafetensors(path, tensors, { epoch: '3' });
    const back = loadSafetensors(path);
    assert.equal(back.metadata.epoch, '3');
    for (const [k, t] of tensors) {
      const u = back.tensors.get(k)!;
      assert.equal(u.dtype, t.dtype, k);
      assert.deepEqual(u.shape, t.shape, k);
      assert.deepEqual(Array.from(u.toArray() as ArrayLike<unknown>), Array.from(t.toArray() as ArrayLike<unknown>), k);
    }
    // Layout: u64 header length, JSON header, data; header keys sorted, offsets contiguous.
    const buf = readFileSync(path);
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    assert.equal(header['b'].dtype, 'F64');
    assert.deepEqual(header['a.weight'].data_offsets, [0, 96]);
    assert.equal(8 + n + 96 + 16 + 3 + 16, buf.byteLength);
  });
  writeFileSync(join(dir, 'trunc.safetensors'), readFileSync(path).subarray(0, 100));
  assert.throws(() => loadSafetensors(join(dir, 'trunc.safetensors')), /trunc\.safetensors.*(past the end|exceeds)/);
  writeFileSync(join(dir, 'junk.safetensors'), Buffer.from('not a safetensors file at all'));
  assert.throws(() => loadSafetensors(join(dir, 'junk.safetensors')), /junk\.safetensors: not a valid safetensors file/);
  assert.ok(!existsSync(join(dir, '.w.safetensors.tmp-' + process.pid)), 'temporary file left behind');
});

test('module state_dict names and load (strict) behave like PyTorch', () => {
  const a = new TinyNet(new Generator(1));
  const b = new TinyNet(new Generator(2));
  assert.deepEqual([...a.stateDict().keys()], ['c1.weight', 'c1.bias', 'n1.weight', 'n1.bias', 'c2.weight', 'c2.bias']);
  b.loadStateDict(a.stateDict());
  tidy(() => {
    const x = F.randn([1, 1, 4, 4, 4], new Generator(9));
    assert.deepEqual(a.forward(x).toFloat32Array(), b.forward(x).toFloat32Array());
  });
  const wrong = new Map(a.stateDict());
  wrong.delete('c2.bias');
  assert.throws(() => b.loadStateDict(wrong), /missing \[c2\.bias\]/);
  a.dispose();
  b.dispose();
});

test('libtorch errors surface as Errors naming the op and shapes', () =>
  tidy(() => {
    const a = F.ones([2, 3]);
    const b = F.ones([4, 5]);
    assert.throws(() => a.matmul(b), /matmul.*float32\[2,3\], float32\[4,5\]/);
    assert.throws(() => F.conv3d(F.ones([1, 2, 4, 4, 4]), F.ones([3, 5, 3, 3, 3])), /conv3d.*float32\[1,2,4,4,4\]/);
    assert.throws(() => a.add(F.ones([7])), /add\.Tensor.*\[2,3\].*\[7\]/);
    assert.throws(() => op('no_such_op', []), /unknown op 'no_such_op'/);
    assert.throws(() => op('randn', [[2]], { generator: new Generator(1) }), /unknown keyword argument 'generator'/);
    assert.throws(() => tensor(new Float32Array(5), [2, 3]), /needs 6 elements, got 5/);
    assert.throws(() => a.to('float128' as 'float32'), /float128/);
    const d = F.ones([2]);
    d.dispose();
    assert.throws(() => d.add(1), /disposed/);
  }));

test('threads follow LODI_NUM_THREADS and the addon loads in a worker thread', async () => {
  assert.ok(getNumThreads() >= 1);
  const code = `
    import { parentPort } from 'node:worker_threads';
    const t = await import(${JSON.stringify(import.meta.resolve('@lodi/torch'))});
    const s = t.tidy(() => t.F.ones([10]).sum().item());
    parentPort.postMessage({ s, threads: t.getNumThreads() });`;
  const file = join(mkdtempSync(join(tmpdir(), 'lodi-w-')), 'w.mjs');
  writeFileSync(file, code);
  const worker = new Worker(file, { env: { ...process.env, LODI_NUM_THREADS: '1' } });
  const msg = await new Promise<{ s: number; threads: number }>((res, rej) => {
    worker.once('message', res);
    worker.once('error', rej);
  });
  await worker.terminate();
  assert.equal(msg.s, 10);
  assert.equal(msg.threads, 1);
});

test('zero-copy data view shares memory with the tensor', () =>
  tidy(() => {
    const t = F.zeros([4]);
    const v = t.dataView() as Float32Array;
    v[2] = 5;
    assert.equal(t.sum().item(), 5);
    t.add_(1);
    assert.equal(v[0], 1);
  }));

test('Adam counts steps per parameter, as PyTorch does, and the counts survive a checkpoint', () =>
  tidy(() => {
    const a = tensor(new Float64Array([1])).requiresGrad_();
    const b = tensor(new Float64Array([1])).requiresGrad_();
    const opt = new Adam([a, b], { lr: 0.1 });
    // Step 1: only `a` has a gradient; step 2: both. For `b` the second step is its first,
    // so its bias-corrected update is lr * sign(g) = 0.1 exactly.
    tidy(() => a.square().sum().backward());
    opt.step();
    opt.zeroGrad();
    tidy(() => a.add(b).square().sum().backward());
    opt.step();
    assert.ok(Math.abs(b.detach().item() - 0.9) < 1e-9, `b = ${b.detach().item()}`);
    const saved = opt.stateTensors();
    const restored = new Adam([a, b], { lr: 0.1 });
    restored.loadStateTensors(saved.tensors, saved.meta);
    assert.deepEqual(Array.from(restored.stateTensors().tensors.get('steps')!.toFloat64Array()), [2, 1]);
    opt.dispose();
    restored.dispose();
  }));
