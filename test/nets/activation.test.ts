import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, tidy } from '@lodi/torch';
import { ACTIVATIONS, LEAKY_SLOPE, activate, type Activation } from '../../src/nets/activation.js';
import { erf, maxAbsDiff } from './reference.js';

const F64: Record<Activation, (x: number) => number> = {
  silu: (x) => x / (1 + Math.exp(-x)),
  gelu: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  leaky_relu: (x) => (x >= 0 ? x : LEAKY_SLOPE * x),
  relu: (x) => Math.max(0, x),
};

test('named activations match their float64 definitions', () => {
  const xs = Float32Array.from({ length: 121 }, (_, i) => -3 + i * 0.05);
  for (const a of ACTIVATIONS) {
    const got = tidy(() => activate(F.tensor(xs), a).toFloat32Array());
    const want = Array.from(xs, F64[a]);
    // float32 evaluation of values ≤ 3 in size: a few ulp (2.4e-7 each at 1–2) of rounding
    const d = maxAbsDiff(got, want);
    assert.ok(d < 2e-6, `${a}: max |Δ| ${d}`);
  }
});

test('an unknown activation name is refused with the name in the message', () => {
  tidy(() => assert.throws(() => activate(F.tensor([1]), 'tanh' as Activation), /'tanh' is not one of silu, gelu, leaky_relu, relu/));
});
