import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Generator, noGrad, tidy } from '@lodi/torch';
import { GroupedConv3d, blockDiagonal, catGroups } from '../../src/nets/grouped.js';
import { maxAbsDiff, periodicConvF64 } from './reference.js';

/** Runs a GroupedConv3d on a random [1, cin, n^3] input and compares with the float64 periodic convolution. */
function againstF64(cin: number, cout: number, groups: number, k: number, blockDiagonalMin: number, circular: boolean): void {
  const n = 5;
  const conv = new GroupedConv3d(cin, cout, new Generator(1), { kernel: k, groups, circular, blockDiagonalMin });
  try {
    noGrad(() =>
      tidy(() => {
        const x = F.randn([1, cin, n, n, n], new Generator(2));
        const y = conv.forward(x);
        assert.deepEqual(y.shape, [1, cout, n, n, n]);
        const want = periodicConvF64(x.toFloat32Array(), cin, n, conv.weight.toFloat32Array(), conv.bias.toFloat32Array(), cout, k, groups);
        // sums of (cin/groups)·k^3 ≤ 108 float32 products of O(1) values: rounding well below 1e-5
        const d = maxAbsDiff(y.toFloat32Array(), want);
        assert.ok(d < 1e-5, `cin ${cin} cout ${cout} groups ${groups} k ${k} dense ${conv.dense}: max |Δ| ${d}`);
      }),
    );
  } finally {
    conv.dispose();
  }
}

test('GroupedConv3d is the periodic grouped convolution (grouped kernel)', () => {
  againstF64(8, 12, 4, 3, 1e9, true);
  againstF64(3, 6, 1, 3, 1e9, true);
});

test('GroupedConv3d is the periodic grouped convolution (dense block-diagonal kernel)', () => {
  againstF64(8, 12, 4, 3, 0, true);
  againstF64(8, 4, 2, 1, 0, false); // a 1^3 conv: no padding question
});

test('GroupedConv3d: PyTorch layout and initialisation bounds, divisibility checked', () => {
  const conv = new GroupedConv3d(8, 12, new Generator(3), { kernel: 3, groups: 4, circular: true, blockDiagonalMin: 4 });
  try {
    assert.deepEqual(conv.weight.shape, [12, 2, 3, 3, 3]);
    assert.deepEqual(conv.bias.shape, [12]);
    assert.equal(conv.dense, false); // 2 input channels per group < blockDiagonalMin 4
    const bound = 1 / Math.sqrt(2 * 27); // U(±1/√fan_in), fan_in = in/groups · k^3
    const w = conv.weight.toFloat32Array();
    assert.ok(w.every((v) => Math.abs(v) <= bound));
    assert.ok(Math.max(...w.map(Math.abs)) > 0.8 * bound, 'draws fill the interval');
    assert.equal(conv.flopsPerVoxel(), 2 * 2 * 27 * 12);
    assert.deepEqual([...conv.stateDict().keys()], ['weight', 'bias']);
  } finally {
    conv.dispose();
  }
  assert.throws(() => new GroupedConv3d(6, 8, new Generator(0), { kernel: 3, groups: 4, circular: true, blockDiagonalMin: 4 }), /channels 6->8 not divisible by groups=4/);
});

test('blockDiagonal puts each group on the diagonal and exact zeros elsewhere', () => {
  tidy(() => {
    const w = F.randn([6, 2, 1, 1, 1], new Generator(4)); // 3 groups of 2 → 2
    const d = blockDiagonal(w, 3);
    assert.deepEqual(d.shape, [6, 6, 1, 1, 1]);
    const dv = d.toFloat32Array();
    const wv = w.toFloat32Array();
    for (let o = 0; o < 6; o++)
      for (let i = 0; i < 6; i++) {
        const same = Math.floor(o / 2) === Math.floor(i / 2);
        // off the blocks: w·0, an exact (possibly signed) zero
        if (same) assert.equal(dv[o * 6 + i], wv[o * 2 + (i % 2)], `entry (${o}, ${i})`);
        else assert.ok(dv[o * 6 + i] === 0, `entry (${o}, ${i}) is ${dv[o * 6 + i]}`);
      }
  });
});

test('catGroups interleaves per group; with one group it is a plain concatenation', () => {
  tidy(() => {
    const a = F.tensor(Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]), [1, 8, 1, 1, 1]);
    const b = F.tensor(Float32Array.from([10, 11, 12, 13]), [1, 4, 1, 1, 1]);
    assert.deepEqual(Array.from(catGroups(a, b, 4).toFloat32Array()), [0, 1, 10, 2, 3, 11, 4, 5, 12, 6, 7, 13]);
    assert.deepEqual(Array.from(catGroups(a, b, 1).toFloat32Array()), [0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13]);
    assert.throws(() => catGroups(a, F.zeros([1, 3, 1, 1, 1]), 4), /channels 8 and 3 not divisible by groups=4/);
    assert.throws(() => catGroups(a, F.zeros([1, 4, 2, 1, 1]), 4), /differ outside the channel axis/);
  });
});
