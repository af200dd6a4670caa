/**
 * The grouped forms of the shared blocks: a block with `grouped: { groups: G }` must equal G
 * separate dense blocks, one per stream, holding that stream's slices of the weights. The dense
 * blocks are the ones LODI uses (test/lodi checks them in the full model), so this ties the grouped
 * path to an independent computation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Generator, noGrad, tidy, type Tensor } from '@lodi/torch';
import { activate } from '../../src/nets/activation.js';
import { ResBlock3d, SelfAttention3d, type ResBlockOptions } from '../../src/nets/blocks.js';
import { GroupedConv3d } from '../../src/nets/grouped.js';

const G = 4;

/** Gives every parameter random values (norm weights and biases too, which start at 1 and 0). */
function randomise(m: { namedParameters(): [string, Tensor][] }, seed: number): void {
  const gen = new Generator(seed);
  noGrad(() => {
    for (const [, p] of m.namedParameters()) tidy(() => p.copy_(F.randn(p.shape, gen).mul(0.3)));
  });
}

/** Copies stream s's slice (along dim 0) of every grouped parameter into the dense per-stream module. */
function copyStream(grouped: Map<string, Tensor>, dense: Map<string, Tensor>, s: number): void {
  noGrad(() => {
    for (const [k, t] of dense) {
      const src = grouped.get(k);
      assert.ok(src, `grouped module lacks '${k}'`);
      const rows = t.shape[0]!;
      assert.equal(src.shape[0], G * rows, `'${k}': ${src.shape[0]} rows for ${G} streams of ${rows}`);
      tidy(() => t.copy_(src.narrow(0, s * rows, rows)));
    }
  });
}

function perStream(grouped: Tensor, x: Tensor, streams: ((xs: Tensor) => Tensor)[]): number {
  const cin = x.shape[1]! / G;
  const parts = streams.map((f, s) => f(x.narrow(1, s * cin, cin)));
  return grouped.sub(F.cat(parts, 1)).abs().max().item();
}

test('a grouped ResBlock3d is one dense ResBlock3d per stream (with the skip conv)', () => {
  for (const [blockDiagonalMin, activation] of [[1e9, 'gelu'], [0, 'leaky_relu']] as const) {
    const o: ResBlockOptions = { convs: 2, normGroups: 2 * G, dropout: 0, embDim: 0, activation, zeroInitLast: false };
    const grouped = new ResBlock3d(8, 16, { ...o, grouped: { groups: G, blockDiagonalMin } }, new Generator(1));
    const dense = Array.from({ length: G }, (_, s) => new ResBlock3d(2, 4, { ...o, normGroups: 2 }, new Generator(10 + s)));
    try {
      randomise(grouped, 2);
      dense.forEach((d, s) => copyStream(grouped.stateDict(), d.stateDict(), s));
      assert.ok(grouped.convs.every((c) => c instanceof GroupedConv3d) && grouped.skip instanceof GroupedConv3d);
      noGrad(() =>
        tidy(() => {
          const x = F.randn([2, 8, 4, 4, 4], new Generator(3));
          const y = grouped.forward(x, null, null);
          // same float32 arithmetic up to the summation order of the convs: ~1e-6 on O(1) outputs
          const d = perStream(y, x, dense.map((b) => (xs: Tensor) => b.forward(xs, null, null)));
          assert.ok(d < 2e-5, `${activation}, blockDiagonalMin ${blockDiagonalMin}: max |Δ| ${d}`);
        }),
      );
    } finally {
      grouped.dispose();
      dense.forEach((d) => d.dispose());
    }
  }
});

test('ResBlock3d options: activation, kernel and zero-initialised last conv', () => {
  const o: ResBlockOptions = { convs: 2, normGroups: 2, dropout: 0, embDim: 0 };
  // default (LODI's): last conv zero-initialised, so the block starts as its skip path
  const b0 = new ResBlock3d(4, 4, o, new Generator(1));
  // relu, 1^3 kernel, no zero init: the block is conv2(relu(norm2(conv1(relu(norm1 x))))) + x
  const b1 = new ResBlock3d(4, 4, { ...o, activation: 'relu', kernel: 1, zeroInitLast: false }, new Generator(1));
  try {
    assert.deepEqual(b1.convs[0]!.weight.shape, [4, 4, 1, 1, 1]);
    assert.ok(b1.convs[1]!.weight.abs().max().item() > 0);
    noGrad(() =>
      tidy(() => {
        const x = F.randn([1, 4, 4, 4, 4], new Generator(2));
        assert.equal(b0.forward(x, null, null).sub(x).abs().max().item(), 0);
        let h = b1.convs[0]!.forward(b1.norms[0]!.forward(x).relu());
        h = b1.convs[1]!.forward(b1.norms[1]!.forward(h).relu()).add(x);
        assert.ok(b1.forward(x, null, null).sub(h).abs().max().item() < 1e-6);
        // and a different activation gives a different block
        assert.ok(activate(x, 'gelu').sub(x.relu()).abs().max().item() > 1e-3);
      }),
    );
    assert.throws(() => new ResBlock3d(4, 4, { ...o, kernel: 2 }, new Generator(0)), /kernel must be odd, got 2/);
  } finally {
    b0.dispose();
    b1.dispose();
  }
});

test('a grouped SelfAttention3d is one dense SelfAttention3d per stream (heads stay in their stream)', () => {
  const C = 16;
  const grouped = new SelfAttention3d(C, 2 * G, G, new Generator(1), { grouped: { groups: G, blockDiagonalMin: 4 }, zeroInitProj: false });
  const dense = Array.from({ length: G }, (_, s) => new SelfAttention3d(C / G, 2, 1, new Generator(10 + s), { zeroInitProj: false }));
  try {
    randomise(grouped, 2);
    dense.forEach((d, s) => copyStream(grouped.stateDict(), d.stateDict(), s));
    noGrad(() =>
      tidy(() => {
        const x = F.randn([2, C, 2, 2, 2], new Generator(3));
        const d = perStream(grouped.forward(x), x, dense.map((a) => (xs: Tensor) => a.forward(xs)));
        assert.ok(d < 2e-5, `max |Δ| ${d}`);
      }),
    );
    // qkv and output convs count grouped weights only: 2·(C/G)·4C per voxel, plus QK^T and AV
    assert.equal(grouped.flops(8), 8 * 2 * (C / G) * 4 * C + 4 * 64 * C);
    assert.equal(dense[0]!.flops(8), 8 * 2 * 4 * 16 + 4 * 64 * 4);
  } finally {
    grouped.dispose();
    dense.forEach((d) => d.dispose());
  }
  assert.throws(() => new SelfAttention3d(12, 6, 4, new Generator(0), { grouped: { groups: 4, blockDiagonalMin: 4 } }), /6 heads not divisible into groups=4/);
});

test('SelfAttention3d by default zero-initialises its projection (starts as the identity)', () => {
  const a = new SelfAttention3d(8, 2, 2, new Generator(1));
  try {
    noGrad(() =>
      tidy(() => {
        const x = F.randn([1, 8, 2, 2, 2], new Generator(2));
        assert.equal(a.forward(x).sub(x).abs().max().item(), 0);
      }),
    );
  } finally {
    a.dispose();
  }
});
