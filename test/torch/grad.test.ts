/**
 * Gradients of every differentiable op the models use, against central finite differences in
 * float64. With step h = 1e-6 the truncation error is O(h^2 f''') ~ 1e-12 and the rounding error
 * O(eps f / h) ~ 1e-10, so a tolerance of 1e-6 (relative to the gradient scale) is safe and still
 * catches any wrong derivative.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy, noGrad, F, Tensor } from '@lodi/torch';
import * as R from './reference.js';

function gradcheck(name: string, shapes: number[][], fn: (...xs: Tensor[]) => Tensor, seed = 1, lo = -1, hi = 1): void {
  tidy(() => {
    const inputs = shapes.map((s, i) => R.randArr(s, seed + i, lo, hi));
    const xs = inputs.map((a) => tensor(a.data, a.shape).requiresGrad_());
    const out = fn(...xs);
    // Random projection makes the scalar depend on every output element differently.
    const proj = R.randArr(out.shape, seed + 99);
    const projT = tensor(proj.data, proj.shape);
    const loss = out.mul(projT).sum();
    loss.backward();
    const analytic = xs.map((x) => x.grad!.toFloat64Array());
    const h = 1e-6;
    const f = (vals: Float64Array[]): number =>
      noGrad(() => tidy(() => fn(...vals.map((v, i) => tensor(v, inputs[i]!.shape))).mul(projT).sum().item()));
    inputs.forEach((inp, k) => {
      const vals = inputs.map((a) => Float64Array.from(a.data));
      let scale = 1;
      for (const g of analytic[k]!) scale = Math.max(scale, Math.abs(g));
      // Check up to 24 coordinates per input (all, for small inputs).
      const n = inp.data.length;
      const step = Math.max(1, Math.floor(n / 24));
      for (let i = 0; i < n; i += step) {
        const orig = vals[k]![i]!;
        vals[k]![i] = orig + h;
        const fp = f(vals);
        vals[k]![i] = orig - h;
        const fm = f(vals);
        vals[k]![i] = orig;
        const num = (fp - fm) / (2 * h);
        const err = Math.abs(num - analytic[k]![i]!);
        assert.ok(err <= 1e-6 * scale, `${name}: d/dx${k}[${i}] analytic ${analytic[k]![i]} vs numeric ${num}`);
      }
    });
  });
}

test('gradcheck: elementwise and activations', () => {
  gradcheck('mul/add/div', [[3, 4], [4]], (a, b) => a.mul(b).add(a.div(b.add(3))));
  gradcheck('exp/log/sqrt', [[3, 4]], (a) => a.exp().add(a.add(2).log()).add(a.add(2).sqrt()), 2);
  gradcheck('expm1/log1p/pow', [[5]], (a) => a.expm1().add(a.add(1.5).log1p()).add(a.pow(3)), 3);
  gradcheck('sigmoid/softplus/silu/gelu/tanh', [[6]], (a) => a.sigmoid().add(a.softplus()).add(a.silu()).add(a.gelu()).add(a.tanh()), 4);
  gradcheck('where/clamp (away from kinks)', [[8]], (a) => F.where(a.gt(0), a.mul(2), a.mul(-3)).add(a.clamp(-0.5, 0.5)), 5);
});

test('gradcheck: reductions and shape ops', () => {
  gradcheck('sum/mean/var', [[3, 4, 5]], (a) => a.sum([0]).add(a.mean([0])).add(a.var([0])), 6);
  gradcheck('amax', [[4, 5]], (a) => a.amax(1), 7);
  gradcheck('permute/flip/roll/slice', [[2, 3, 4]], (a) => a.permute([2, 1, 0]).flip(0).roll(1, 1).slice(2, 0, 2), 8);
  gradcheck('cat/stack', [[2, 3], [2, 3]], (a, b) => F.cat([a, F.stack([a, b], 0).sum(0)], 1), 9);
  gradcheck('circular pad', [[1, 1, 3, 3, 3]], (a) => F.pad(a, [1, 1, 1, 1, 1, 1], 'circular'), 10);
  gradcheck('gather/index_select', [[4, 5]], (a) =>
    a.indexSelect(0, tensor(new BigInt64Array([1n, 3n, 1n]), [3])).gather(1, tensor(new BigInt64Array([0n, 4n, 2n, 2n, 1n, 0n]), [3, 2])), 11);
});

test('gradcheck: network layers', () => {
  gradcheck('conv3d grouped', [[1, 4, 4, 4, 4], [4, 2, 3, 3, 3], [4]], (x, w, b) => F.conv3d(x, w, b, { padding: 1, groups: 2 }), 12);
  gradcheck('conv_transpose3d', [[1, 2, 2, 2, 2], [2, 2, 2, 2, 2]], (x, w) => F.convTranspose3d(x, w, null, { stride: 2 }), 13);
  gradcheck('avg_pool3d', [[1, 1, 4, 4, 4]], (x) => F.avgPool3d(x, 2), 14);
  gradcheck('max_pool3d', [[1, 1, 4, 4, 4]], (x) => F.maxPool3d(x, 2), 15);
  gradcheck('trilinear', [[1, 2, 2, 3, 2]], (x) => F.interpolate(x, { scale: 2, mode: 'trilinear' }), 16);
  gradcheck('group_norm', [[2, 4, 2, 2, 2], [4], [4]], (x, g, b) => F.groupNorm(x, 2, g, b), 17);
  gradcheck('layer_norm', [[3, 5], [5], [5]], (x, g, b) => F.layerNorm(x, [5], g, b), 18);
  gradcheck('linear/matmul/bmm', [[3, 4], [2, 4], [2, 3, 4]], (x, w, a) => F.linear(x, w).sum().add(a.bmm(a.transpose(1, 2)).sum()), 19);
  gradcheck('softmax', [[3, 5]], (x) => F.softmax(x, 1), 20);
});

test('gradcheck: FFT round trip with a Fourier-space filter', () => {
  gradcheck('rfftn filter', [[4, 4, 4]], (x) => {
    const k = F.rfftn(x);
    const filt = F.linspace(0.2, 1, 3, { dtype: 'float64' });
    return F.irfftn(k.mul(filt), [4, 4, 4]);
  }, 21);
  gradcheck('|fftn|^2', [[3, 4]], (x) => F.fftn(x).abs().square(), 22);
});

test('backward accumulates and noGrad records nothing', () =>
  tidy(() => {
    const x = tensor(new Float64Array([1, 2, 3])).requiresGrad_();
    x.mul(x).sum().backward();
    x.mul(x).sum().backward();
    assert.deepEqual(Array.from(x.grad!.toFloat64Array()), [4, 8, 12]);
    const y = noGrad(() => x.mul(2));
    assert.equal(y.requiresGrad, false);
    const d = x.mul(2).detach();
    assert.equal(d.requiresGrad, false);
  }));
