/**
 * Memory of long HALOgen loops: sliding-window inference and training steps must not keep anything
 * per window or per step. The cpu preset runs on 32^3 windows here (the net is fully convolutional)
 * so that ~60 windows and ~16 training steps take a few seconds each on 2 cores.
 *
 * Three things are checked after a warm-up, which lets the allocator's cache, oneDNN's primitive
 * cache and V8 reach their working size:
 *  - the number of live tensors does not change (nothing escapes `tidy`);
 *  - the addon's cache of large CPU blocks serves every request from the blocks of earlier steps
 *    (no new mappings: `misses` stays put, so memory and page faults stop growing) and holds no
 *    more bytes in use than after the warm-up;
 *  - the process RSS grows by less than a tolerance. What still legitimately drifts is garbage that
 *    V8 and glibc release lazily (JS wrappers of dead tensor handles, their N-API bookkeeping);
 *    measured at about 0.2 MB per window and 0.5 MB per training step here. The fault this guards
 *    against kept about 60 MB per 32^3 window and 5 MB per step (the brk heap of the big tensor
 *    blocks, split by small objects that outlive them, grew at every step), so a tolerance of about
 *    five times the measured drift (24 MB over 8 steps, 48 MB over 56 windows) still fails it.
 *    Training runs first: after the inference loop had grown the heap, its first steps would fit
 *    in the space the inference left free.
 *
 * Under LODI_MALLOC=system (libtorch's allocator and glibc's defaults, kept for comparisons) only
 * the live-tensor count is checked: glibc then grows its heap too, which is why it is not the
 * default.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, RMSprop, liveTensors, memoryStats, tidy, type MemoryStats } from '@lodi/torch';
import { preset } from '../../src/halogen/config.js';
import { slidingWindow } from '../../src/halogen/infer.js';
import { halogenLoss, weightedMask } from '../../src/halogen/loss.js';
import { HalogenNet } from '../../src/halogen/model.js';

const MB = 1 << 20;

interface Sample {
  rss: number;
  live: number;
  stats: MemoryStats | null;
}

function sample(): Sample {
  return { rss: process.memoryUsage().rss, live: liveTensors(), stats: memoryStats() };
}

/** Deterministic pseudo-random values in [0, 1) (the data do not matter, only their sizes). */
function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

/** Asserts that nothing grew between the sample after warm-up and every later one. */
function assertFlat(what: string, samples: Sample[], warm: number, rssTolerance: number): void {
  const base = samples[warm - 1]!;
  const later = samples.slice(warm);
  for (const [i, s] of later.entries())
    assert.equal(s.live, base.live, `${what} ${warm + i + 1}: ${s.live} live tensors, ${base.live} after warm-up`);
  if (base.stats) {
    const last = later.at(-1)!.stats!;
    assert.equal(last.misses, base.stats.misses, `${what}: ${last.misses - base.stats.misses} large blocks newly mapped after warm-up (cache: ${JSON.stringify(last)})`);
    for (const s of later) assert.ok(s.stats!.inUse <= base.stats.inUse, `${what}: ${s.stats!.inUse} bytes of large blocks in use, ${base.stats.inUse} after warm-up`);
  }
  if (process.env.LODI_MALLOC === 'system') return;
  const growth = Math.max(...later.map((s) => s.rss)) - base.rss;
  const trace = samples.map((s) => (s.rss / MB).toFixed(0)).join(' ');
  assert.ok(growth < rssTolerance, `${what}: RSS grew by ${(growth / MB).toFixed(1)} MB after warm-up (tolerance ${rssTolerance / MB} MB); RSS per ${what} [MB]: ${trace}`);
}

test('training steps keep no memory per step', () => {
  const cfg = preset('cpu');
  const model = new HalogenNet(cfg.model, 6);
  const opt = new RMSprop(model.parameters(), { lr: 1e-4, alpha: cfg.train.rmspropAlpha, eps: cfg.train.rmspropEps });
  model.train();
  const B = 2;
  const c = 32;
  const C = cfg.model.outChannels;
  const xs = values(B * c ** 3, 2);
  const ys = values(B * C * c ** 3, 3).map((v) => 9 + 3 * v);
  const samples: Sample[] = [];
  try {
    // the body of trainHalogen's step loop
    for (let step = 0; step < 12; step++) {
      const loss = tidy(() => {
        const x = F.tensor(xs, [B, 1, c, c, c]);
        const y = F.tensor(ys, [B, C, c, c, c]);
        const mask = weightedMask(y, [10, 10.5, 11, 11.5]);
        const terms = halogenLoss(model.forward(x), y, mask, cfg.loss, model.l1());
        opt.zeroGrad();
        terms.total.backward();
        opt.step();
        return terms.total.item();
      });
      assert.ok(Number.isFinite(loss));
      samples.push(sample());
    }
  } finally {
    opt.dispose();
    model.dispose();
  }
  assertFlat('step', samples, 4, 24 * MB);
});

test('sliding-window inference keeps no memory per window', () => {
  const cfg = preset('cpu');
  const model = new HalogenNet(cfg.model, 5);
  model.eval();
  const n = 32;
  const input = values(n ** 3, 1);
  const samples: Sample[] = [];
  try {
    // 4^3 = 64 windows of 32^3, one per forward pass (batch 1 was the worst case: ~60 MB each)
    slidingWindow(input, n, (x) => model.forward(x), {
      crop: 32,
      stride: 8,
      batch: 1,
      channels: cfg.model.outChannels,
      onProgress: () => samples.push(sample()),
    });
  } finally {
    model.dispose();
  }
  assert.equal(samples.length, 64);
  assertFlat('window', samples, 8, 48 * MB);
});
