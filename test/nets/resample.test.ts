import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, Generator, tidy } from '@lodi/torch';
import { maxPool2, upsamplePeriodic } from '../../src/nets/resample.js';
import { maxAbsDiff } from './reference.js';

/**
 * Periodic linear x2 upsampling along one axis in float64: output 2j samples the input at j − 1/4
 * and 2j+1 at j + 1/4 (half-voxel centres, align_corners = false), wrapping around the box.
 */
function up1(v: Float64Array, n: number): Float64Array {
  const out = new Float64Array(2 * n);
  for (let j = 0; j < n; j++) {
    out[2 * j] = 0.25 * v[(j - 1 + n) % n]! + 0.75 * v[j]!;
    out[2 * j + 1] = 0.75 * v[j]! + 0.25 * v[(j + 1) % n]!;
  }
  return out;
}

/** The separable trilinear version of up1 for one [n, n, n] channel. */
function up3(x: ArrayLike<number>, n: number): Float64Array {
  let a = Float64Array.from(x);
  let dims = [n, n, n];
  for (let ax = 0; ax < 3; ax++) {
    const next = dims.slice();
    next[ax] = 2 * dims[ax]!;
    const out = new Float64Array(next[0]! * next[1]! * next[2]!);
    const strideIn = [dims[1]! * dims[2]!, dims[2]!, 1];
    const strideOut = [next[1]! * next[2]!, next[2]!, 1];
    const [o1, o2] = [0, 1, 2].filter((d) => d !== ax) as [number, number];
    for (let p = 0; p < dims[o1]!; p++)
      for (let q = 0; q < dims[o2]!; q++) {
        const line = new Float64Array(dims[ax]!);
        for (let i = 0; i < dims[ax]!; i++) line[i] = a[p * strideIn[o1]! + q * strideIn[o2]! + i * strideIn[ax]!]!;
        const u = up1(line, dims[ax]!);
        for (let i = 0; i < u.length; i++) out[p * strideOut[o1]! + q * strideOut[o2]! + i * strideOut[ax]!] = u[i]!;
      }
    a = out;
    dims = next;
  }
  return a;
}

test('upsamplePeriodic is periodic trilinear interpolation at the half-voxel centres', () => {
  tidy(() => {
    const n = 4;
    const x = F.randn([2, 3, n, n, n], new Generator(1));
    const y = upsamplePeriodic(x);
    assert.deepEqual(y.shape, [2, 3, 8, 8, 8]);
    const xv = x.toFloat32Array();
    const yv = y.toFloat32Array();
    for (let c = 0; c < 6; c++) {
      const want = up3(xv.subarray(c * n ** 3, (c + 1) * n ** 3), n);
      const d = maxAbsDiff(yv.subarray(c * 512, (c + 1) * 512), want);
      assert.ok(d < 1e-6, `channel ${c}: max |Δ| ${d}`); // three float32 lerps of O(1) values
    }
    // a periodic shift by 1 input voxel is a shift by 2 output voxels
    const ys = upsamplePeriodic(x.roll([1], [3]));
    assert.ok(ys.sub(y.roll([2], [3])).abs().max().item() < 1e-6);
  });
});

test('maxPool2 halves each side and refuses odd sides', () => {
  tidy(() => {
    const x = F.tensor(Float32Array.from({ length: 8 }, (_, i) => (i * 5) % 8), [1, 1, 2, 2, 2]);
    assert.deepEqual(Array.from(maxPool2(x).toFloat32Array()), [7]);
    assert.throws(() => maxPool2(F.zeros([1, 1, 4, 3, 4])), /spatial size \[4,3,4\] must be even/);
  });
});
