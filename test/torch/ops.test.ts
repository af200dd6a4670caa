/**
 * Forward results of the engine's ops against plain-TypeScript float64 references on random
 * inputs. Both sides run in float64, so agreement is expected to ~1e-12 relative; the tolerance
 * 1e-9 leaves room for different summation orders in long reductions and FFTs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tensor, tidy, F, Tensor, op, Generator } from '@lodi/torch';
import * as R from './reference.js';

const TOL = 1e-9;
const T = (a: R.Arr): Tensor => tensor(a.data, a.shape);
function close(t: Tensor, ref: R.Arr | ArrayLike<number>, tol = TOL, what = ''): void {
  const refData = 'data' in (ref as R.Arr) ? (ref as R.Arr).data : (ref as ArrayLike<number>);
  if ('shape' in (ref as R.Arr)) assert.deepEqual(t.shape, (ref as R.Arr).shape, `${what} shape`);
  const got = t.toFloat64Array();
  const scale = Math.max(1, ...Array.from(refData, Math.abs));
  const d = R.maxAbsDiff(got, refData);
  assert.ok(d <= tol * scale, `${what}: max |diff| ${d} > ${tol * scale}`);
}

test('elementwise unary ops match float64 references', () =>
  tidy(() => {
    const a = R.randArr([3, 4, 5], 1, -3, 3);
    const pos = R.randArr([3, 4, 5], 2, 0.1, 4);
    const map = (x: R.Arr, f: (v: number) => number): R.Arr => ({ data: x.data.map(f), shape: x.shape });
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));
    close(T(a).exp(), map(a, Math.exp), TOL, 'exp');
    close(T(a).expm1(), map(a, Math.expm1), TOL, 'expm1');
    close(T(pos).log(), map(pos, Math.log), TOL, 'log');
    close(T(pos).log10(), map(pos, Math.log10), TOL, 'log10');
    close(T(pos).sqrt(), map(pos, Math.sqrt), TOL, 'sqrt');
    close(T(a).sigmoid(), map(a, sig), TOL, 'sigmoid');
    close(T(a).softplus(), map(a, (v) => Math.log1p(Math.exp(v))), TOL, 'softplus');
    close(T(a).silu(), map(a, (v) => v * sig(v)), TOL, 'silu');
    close(T(a).gelu(), map(a, (v) => 0.5 * v * (1 + R.erf(v / Math.SQRT2))), 1e-8, 'gelu');
    close(T(a).tanh(), map(a, Math.tanh), TOL, 'tanh');
    close(T(a).clamp(-0.5, 0.7), map(a, (v) => Math.min(0.7, Math.max(-0.5, v))), TOL, 'clamp');
    close(T(a).abs(), map(a, Math.abs), TOL, 'abs');
    close(T(a).pow(3), map(a, (v) => v ** 3), TOL, 'pow');
    close(T(a).relu(), map(a, (v) => Math.max(0, v)), TOL, 'relu');
  }));

test('broadcasting binary ops and where', () =>
  tidy(() => {
    const a = R.randArr([2, 3, 4], 3);
    const b = R.randArr([3, 1], 4, 0.5, 2);
    close(T(a).add(T(b)), R.broadcast2(a, b, (x, y) => x + y), TOL, 'add');
    close(T(a).sub(T(b)), R.broadcast2(a, b, (x, y) => x - y), TOL, 'sub');
    close(T(a).mul(T(b)), R.broadcast2(a, b, (x, y) => x * y), TOL, 'mul');
    close(T(a).div(T(b)), R.broadcast2(a, b, (x, y) => x / y), TOL, 'div');
    close(T(a).maximum(T(b)), R.broadcast2(a, b, Math.max), TOL, 'maximum');
    const w = F.where(T(a).gt(0), T(a), T(b));
    close(w, R.broadcast2(a, b, (x, y) => (x > 0 ? x : y)), TOL, 'where');
    close(F.where(T(a).gt(0), T(a), 0), { data: a.data.map((v) => (v > 0 ? v : 0)), shape: a.shape }, TOL, 'where scalar');
  }));

test('reductions over dims', () =>
  tidy(() => {
    const a = R.randArr([3, 4, 5], 5);
    const sum = (xs: number[]): number => xs.reduce((s, v) => s + v, 0);
    const mean = (xs: number[]): number => sum(xs) / xs.length;
    const varU = (xs: number[]): number => {
      const m = mean(xs);
      return sum(xs.map((v) => (v - m) ** 2)) / (xs.length - 1);
    };
    close(T(a).sum([0, 2]), R.reduce(a, [0, 2], sum), TOL, 'sum');
    close(T(a).mean(1), R.reduce(a, [1], mean), TOL, 'mean');
    close(T(a).amax([2]), R.reduce(a, [2], (xs) => Math.max(...xs)), TOL, 'amax');
    close(T(a).amin([0]), R.reduce(a, [0], (xs) => Math.min(...xs)), TOL, 'amin');
    close(T(a).var([1, 2]), R.reduce(a, [1, 2], varU), TOL, 'var');
    close(T(a).std(0, { correction: 0 }), R.reduce(a, [0], (xs) => Math.sqrt(varU(xs) * (xs.length - 1) / xs.length)), TOL, 'std');
    assert.ok(Math.abs(T(a).max().item() - Math.max(...a.data)) < 1e-15);
    assert.ok(Math.abs(T(a).sum().item() - sum([...a.data])) < 1e-12);
  }));

test('shape ops: reshape, permute, flip, roll, slice, narrow, cat, stack, circular pad', () =>
  tidy(() => {
    const a = R.randArr([2, 3, 4], 6);
    close(T(a).permute([2, 0, 1]), R.permute(a, [2, 0, 1]), 0, 'permute');
    close(T(a).reshape([6, 4]), { data: a.data, shape: [6, 4] }, 0, 'reshape');
    close(T(a).flip([1, 2]), R.remap(a, [2, 3, 4], ([i, j, k]) => [i!, 2 - j!, 3 - k!]), 0, 'flip');
    close(T(a).roll([1, -1], [1, 2]), R.remap(a, [2, 3, 4], ([i, j, k]) => [i!, (j! + 2) % 3, (k! + 1) % 4]), 0, 'roll');
    close(T(a).slice(2, 1, 4, 2), R.remap(a, [2, 3, 2], ([i, j, k]) => [i!, j!, 1 + 2 * k!]), 0, 'slice');
    close(T(a).narrow(1, 1, 2), R.remap(a, [2, 2, 4], ([i, j, k]) => [i!, j! + 1, k!]), 0, 'narrow');
    const cat = F.cat([T(a), T(a).mul(2)], 1);
    close(cat, R.remap({ data: a.data, shape: a.shape }, [2, 6, 4], ([i, j, k]) => [i!, j! % 3, k!]).data.map((v, idx) => (Math.floor(idx / 4) % 6 >= 3 ? 2 * v : v)), 0, 'cat');
    const st = F.stack([T(a), T(a)], 0);
    assert.deepEqual(st.shape, [2, 2, 3, 4]);
    const x = R.randArr([1, 1, 3, 4, 5], 7);
    const padded = F.pad(T(x), [1, 1, 2, 2, 1, 1], 'circular');
    const mod = (v: number, n: number): number => ((v % n) + n) % n;
    close(padded, R.remap(x, [1, 1, 5, 8, 7], ([b, c, i, j, k]) => [b!, c!, mod(i! - 1, 3), mod(j! - 2, 4), mod(k! - 1, 5)]), 0, 'pad circular');
    const zp = F.pad(T(x), [1, 1, 1, 1, 1, 1]);
    close(zp, R.remap(x, [1, 1, 5, 6, 7], ([b, c, i, j, k]) => (i! < 1 || i! > 3 || j! < 1 || j! > 4 || k! < 1 || k! > 5 ? null : [b!, c!, i! - 1, j! - 1, k! - 1])), 0, 'pad zeros');
  }));

test('matmul, bmm, linear, softmax', () =>
  tidy(() => {
    const a = R.randArr([5, 7], 8);
    const b = R.randArr([7, 3], 9);
    close(T(a).matmul(T(b)), R.matmul(a, b), TOL, 'matmul');
    const A = R.randArr([2, 5, 7], 10);
    const B = R.randArr([2, 7, 3], 11);
    const ref = new Float64Array(2 * 5 * 3);
    for (let i = 0; i < 2; i++) {
      const r = R.matmul({ data: A.data.subarray(i * 35, (i + 1) * 35), shape: [5, 7] }, { data: B.data.subarray(i * 21, (i + 1) * 21), shape: [7, 3] });
      ref.set(r.data, i * 15);
    }
    close(T(A).bmm(T(B)), { data: ref, shape: [2, 5, 3] }, TOL, 'bmm');
    const w = R.randArr([3, 7], 12);
    const bias = R.randArr([3], 13);
    const lin = R.matmul(a, R.permute(w, [1, 0]));
    close(F.linear(T(a), T(w), T(bias)), R.broadcast2(lin, bias, (x, y) => x + y), TOL, 'linear');
    const s = F.softmax(T(a), 1);
    const refS = new Float64Array(35);
    for (let i = 0; i < 5; i++) {
      const row = Array.from(a.data.subarray(i * 7, i * 7 + 7));
      const m = Math.max(...row);
      const e = row.map((v) => Math.exp(v - m));
      const z = e.reduce((x, y) => x + y, 0);
      e.forEach((v, j) => (refS[i * 7 + j] = v / z));
    }
    close(s, { data: refS, shape: [5, 7] }, TOL, 'softmax');
  }));

test('conv3d (stride, padding, groups), conv_transpose3d, pooling, interpolation', () =>
  tidy(() => {
    const x = R.randArr([2, 4, 5, 6, 5], 14);
    const w = R.randArr([6, 2, 3, 3, 3], 15);
    const b = R.randArr([6], 16);
    close(F.conv3d(T(x), T(w), T(b), { padding: 1, groups: 2 }), R.conv3d(x, w, b, 1, 1, 2), TOL, 'conv3d groups');
    const w1 = R.randArr([3, 4, 3, 3, 3], 17);
    close(F.conv3d(T(x), T(w1), null, { stride: 2, padding: 1 }), R.conv3d(x, w1, null, 2, 1, 1), TOL, 'conv3d stride');
    const xt = R.randArr([1, 2, 2, 3, 2], 18);
    const wt = R.randArr([2, 3, 2, 2, 2], 19);
    close(F.convTranspose3d(T(xt), T(wt), null, { stride: 2 }), R.convTranspose3d(xt, wt, 2), TOL, 'conv_transpose3d');
    const p = R.randArr([1, 2, 4, 4, 6], 20);
    close(F.maxPool3d(T(p), 2), R.pool3d(p, 2, (xs) => Math.max(...xs)), 0, 'max_pool3d');
    close(F.avgPool3d(T(p), 2), R.pool3d(p, 2, (xs) => xs.reduce((s, v) => s + v, 0) / xs.length), TOL, 'avg_pool3d');
    const u = R.randArr([1, 2, 3, 4, 3], 21);
    close(F.interpolate(T(u), { scale: 2, mode: 'trilinear' }), R.upsampleTrilinear2(u), TOL, 'trilinear');
    close(
      F.interpolate(T(u), { scale: 2, mode: 'nearest' }),
      R.remap(u, [1, 2, 6, 8, 6], ([a, c, i, j, k]) => [a!, c!, i! >> 1, j! >> 1, k! >> 1]),
      0,
      'nearest',
    );
  }));

test('group_norm and layer_norm', () =>
  tidy(() => {
    const x = R.randArr([2, 4, 3, 3, 2], 22);
    const gamma = R.randArr([4], 23);
    const beta = R.randArr([4], 24);
    const out = F.groupNorm(T(x), 2, T(gamma), T(beta), 1e-5);
    const ref = new Float64Array(x.data.length);
    const per = 2 * 18; // 2 channels per group x 18 voxels
    for (let b = 0; b < 2; b++)
      for (let g = 0; g < 2; g++) {
        const off = (b * 4 + g * 2) * 18;
        const xs = Array.from(x.data.subarray(off, off + per));
        const m = xs.reduce((s, v) => s + v, 0) / per;
        const v = xs.reduce((s, t) => s + (t - m) ** 2, 0) / per;
        for (let i = 0; i < per; i++) {
          const c = g * 2 + Math.floor(i / 18);
          ref[off + i] = ((xs[i]! - m) / Math.sqrt(v + 1e-5)) * gamma.data[c]! + beta.data[c]!;
        }
      }
    close(out, { data: ref, shape: x.shape }, TOL, 'group_norm');
    const y = R.randArr([3, 5], 25);
    const ln = F.layerNorm(T(y), [5], null, null, 1e-5);
    const refL = new Float64Array(15);
    for (let i = 0; i < 3; i++) {
      const xs = Array.from(y.data.subarray(i * 5, i * 5 + 5));
      const m = xs.reduce((s, v) => s + v, 0) / 5;
      const v = xs.reduce((s, t) => s + (t - m) ** 2, 0) / 5;
      xs.forEach((t, j) => (refL[i * 5 + j] = (t - m) / Math.sqrt(v + 1e-5)));
    }
    close(ln, { data: refL, shape: [3, 5] }, TOL, 'layer_norm');
  }));

test('indexing: index_select, gather, index_add, bincount', () =>
  tidy(() => {
    const a = R.randArr([4, 5], 26);
    const idx = tensor(new BigInt64Array([3n, 0n, 3n]), [3]);
    close(T(a).indexSelect(0, idx), R.remap(a, [3, 5], ([i, j]) => [[3, 0, 3][i!]!, j!]), 0, 'index_select');
    const gi = tensor(new BigInt64Array([0n, 4n, 2n, 1n, 1n, 3n, 0n, 0n]), [4, 2]);
    const gref = [0, 4, 2, 1, 1, 3, 0, 0];
    close(T(a).gather(1, gi), R.remap(a, [4, 2], ([i, j]) => [i!, gref[i! * 2 + j!]!]), 0, 'gather');
    const src = R.randArr([3, 5], 27);
    const added = F.zeros([4, 5], { dtype: 'float64' }).indexAdd(0, idx, T(src));
    const refAdd = new Float64Array(20);
    [3, 0, 3].forEach((r, i) => {
      for (let j = 0; j < 5; j++) refAdd[r * 5 + j]! += src.data[i * 5 + j]!;
    });
    close(added, { data: refAdd, shape: [4, 5] }, TOL, 'index_add');
    const bins = tensor(new BigInt64Array([0n, 2n, 2n, 5n]), [4]);
    const wts = tensor(new Float64Array([0.5, 1, 2, 3]), [4]);
    close(F.bincount(bins, wts), [0.5, 0, 3, 0, 0, 3], 0, 'bincount weighted');
    close(F.bincount(bins, undefined, 8), [1, 0, 2, 0, 0, 1, 0, 0], 0, 'bincount minlength');
  }));

test('FFTs match a direct DFT; irfftn inverts rfftn; complex abs/real/imag', () =>
  tidy(() => {
    const x = R.randArr([4, 6, 5], 28);
    const { re, im } = R.dftn(x);
    const f = F.fftn(T(x));
    close(f.real(), { data: re, shape: x.shape }, 1e-9, 'fftn real');
    close(f.imag(), { data: im, shape: x.shape }, 1e-9, 'fftn imag');
    close(f.abs(), { data: re.map((r, i) => Math.hypot(r, im[i]!)), shape: x.shape }, 1e-9, 'abs');
    const rf = F.rfftn(T(x));
    assert.deepEqual(rf.shape, [4, 6, 3]);
    const reHalf = R.remap({ data: re, shape: x.shape }, [4, 6, 3], (i) => i);
    close(rf.real(), reHalf, 1e-9, 'rfftn real');
    close(F.irfftn(rf, [4, 6, 5]), x, 1e-12, 'irfftn(rfftn)');
    close(F.ifftn(f).real(), x, 1e-12, 'ifftn(fftn)');
  }));

test('seeded random streams are reproducible and independent of the global seed', () =>
  tidy(() => {
    const a = F.randn([1000], new Generator(123)).toFloat64Array();
    op('randn', [[10]]); // consume the global generator in between
    const b = F.randn([1000], new Generator(123)).toFloat64Array();
    const c = F.randn([1000], new Generator(124)).toFloat64Array();
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const v = a.reduce((s, t) => s + (t - mean) ** 2, 0) / a.length;
    // 1000 normal draws: mean within 4 sigma (0.13), variance within ~4 sigma (0.18) of 1.
    assert.ok(Math.abs(mean) < 0.13 && Math.abs(v - 1) < 0.18, `mean ${mean} var ${v}`);
    const u = F.rand([1000], new Generator(5)).toFloat64Array();
    assert.ok(u.every((t) => t >= 0 && t < 1));
  }));
