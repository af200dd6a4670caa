// Mixed precision and math modes of the engine: autocast regions (checked on CPU, where libtorch's
// CPU autocast runs convolutions and matrix products in bfloat16 as CUDA's does), the TF32/cuDNN
// switches and the CUDA memory statistics (null without a GPU).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Generator, autocastState, cuda, cudaMemoryStats, liveTensors, mathMode, nn, randn, setMathMode, tidy, withAutocast, withoutAutocast } from '@lodi/torch';
import { inFloat32 } from '../../src/nets/precision.js';

test('withAutocast: convolutions run in bfloat16 inside, float32 outside; the state is restored, also after a throw', () => {
  const live = liveTensors();
  const gen = new Generator(3);
  const conv = new nn.Conv3d(2, 4, gen, { paddingMode: 'circular' });
  tidy(() => {
    const x = randn([1, 2, 8, 8, 8], gen);
    const full = conv.forward(x);
    assert.equal(full.dtype, 'float32');
    assert.deepEqual(autocastState('cpu').enabled, false);
    const half = withAutocast('cpu', 'bfloat16', () => {
      assert.equal(autocastState('cpu').enabled, true);
      assert.equal(autocastState('cpu').dtype, 'bfloat16');
      // reductions stay in float32 under autocast (PyTorch's fp32 list)
      assert.equal(x.sum().dtype, 'float32');
      return conv.forward(x);
    });
    assert.equal(half.dtype, 'bfloat16');
    assert.equal(autocastState('cpu').enabled, false, 'restored on return');
    // the same numbers to bfloat16's precision (8 bits of mantissa: relative 2^-8 per rounding of
    // inputs and weights, accumulated in float32), and not the float32 result itself
    const a = full.toFloat32Array();
    const b = half.float().toFloat32Array();
    const scale = Math.max(...a.map(Math.abs));
    const err = Math.max(...a.map((v, i) => Math.abs(v - b[i]!))) / scale;
    assert.ok(err > 0 && err < 2e-2, `relative difference ${err}`);
    assert.throws(() => withAutocast('cpu', 'bfloat16', () => {
      throw new Error('inside');
    }), /inside/);
    assert.equal(autocastState('cpu').enabled, false, 'restored after a throw');
    // nested regions restore the outer one
    withAutocast('cpu', 'bfloat16', () => {
      withAutocast('cpu', 'bfloat16', () => undefined);
      assert.equal(autocastState('cpu').enabled, true);
    });
    // CUDA autocast does not touch CPU tensors
    assert.equal(withAutocast('cuda', 'bfloat16', () => conv.forward(x)).dtype, 'float32');
  });
  conv.dispose();
  assert.equal(liveTensors(), live);
});

test('withoutAutocast / inFloat32: float32 inside an autocast region, bit for bit the float32 result; the region restored', () => {
  const live = liveTensors();
  const gen = new Generator(4);
  const conv = new nn.Conv3d(2, 4, gen, { paddingMode: 'circular' });
  tidy(() => {
    const x = randn([1, 2, 8, 8, 8], gen);
    const full = conv.forward(x).toFloat32Array();
    withAutocast('cpu', 'bfloat16', () => {
      const off = withoutAutocast('cpu', () => {
        assert.equal(autocastState('cpu').enabled, false);
        return conv.forward(x);
      });
      assert.equal(autocastState('cpu').enabled, true, 'the region is back on after withoutAutocast');
      assert.equal(off.dtype, 'float32');
      assert.deepEqual(off.toFloat32Array(), full);
      // a bfloat16 input is converted first: the float32 convolution of its rounding
      const xb = conv.forward(x); // bfloat16 inside the region
      assert.equal(xb.dtype, 'bfloat16');
      const y = inFloat32(x.to('bfloat16'), (v) => conv.forward(v));
      assert.equal(y.dtype, 'float32');
      assert.throws(() => withoutAutocast('cpu', () => {
        throw new Error('inside');
      }), /inside/);
      assert.equal(autocastState('cpu').enabled, true, 'back on after a throw');
    });
    // outside a region inFloat32 is the plain call
    assert.deepEqual(inFloat32(x, (v) => conv.forward(v)).toFloat32Array(), full);
    assert.equal(autocastState('cpu').enabled, false);
  });
  conv.dispose();
  assert.equal(liveTensors(), live);
});

test('withAutocast: backward through a bfloat16 region gives float32 gradients of float32 weights', () => {
  const gen = new Generator(4);
  const conv = new nn.Conv3d(1, 2, gen, { paddingMode: 'circular' });
  tidy(() => {
    const x = randn([1, 1, 8, 8, 8], gen);
    const y = withAutocast('cpu', 'bfloat16', () => conv.forward(x));
    y.float().square().mean().backward();
    for (const p of conv.parameters()) {
      assert.equal(p.grad?.dtype, 'float32');
      assert.ok(Number.isFinite(p.grad!.abs().sum().item()));
    }
  });
  conv.dispose();
});

test('withAutocast refuses unknown device types and dtypes, and async functions', () => {
  assert.throws(() => withAutocast('tpu' as 'cpu', 'bfloat16', () => 1), /device type must be 'cpu' or 'cuda', got 'tpu'/);
  assert.throws(() => withAutocast('cpu', 'float32' as 'bfloat16', () => 1), /dtype must be 'bfloat16' or 'float16', got 'float32'/);
  assert.throws(() => withAutocast('cpu', 'bfloat16', async () => 1), /must be synchronous/);
  assert.equal(autocastState('cpu').enabled, false);
});

test('math mode: the TF32 and cuDNN switches are set and restored', () => {
  const before = mathMode();
  const prev = setMathMode({ allowTF32CuBLAS: !before.allowTF32CuBLAS, benchmarkCuDNN: true });
  assert.deepEqual(prev, before);
  assert.deepEqual(mathMode(), { ...before, allowTF32CuBLAS: !before.allowTF32CuBLAS, benchmarkCuDNN: true });
  setMathMode(prev);
  assert.deepEqual(mathMode(), before);
});

test('CUDA memory statistics: null without a GPU, byte counts with one', () => {
  const s = cudaMemoryStats(0);
  if (!cuda.isAvailable()) assert.equal(s, null);
  else if (s) assert.ok(s.reservedPeak >= s.allocatedPeak && s.allocated >= 0);
});
