import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, Generator, cuda, nn, resolveDevice, tensor, tidy, dispose, liveTensors, saveSafetensors, loadSafetensors, loadSafetensorsMetadata, type Tensor } from '@lodi/torch';

/** Runs `fn` in a tidy scope and checks that it leaves no tensors behind. */
function clean(fn: () => void): void {
  const before = liveTensors();
  tidy(fn);
  assert.equal(liveTensors(), before, 'tensors leaked');
}

test('tensor(): a number array with dtype float64/int64 is exact, bool means non-zero', () =>
  clean(() => {
    assert.equal(tensor([0.1], undefined, { dtype: 'float64' }).toFloat64Array()[0], 0.1);
    assert.equal(tensor([2 ** 40 + 1], undefined, { dtype: 'int64' }).item(), 2 ** 40 + 1);
    assert.equal(tensor([1, 2]).dtype, 'float32');
    const b = tensor([0, 1, 2], undefined, { dtype: 'bool' });
    assert.equal(b.dtype, 'bool');
    assert.deepEqual(b.toList(), [0, 1, 1]);
    assert.deepEqual(tensor(new Uint8Array([0, 3]), undefined, { dtype: 'bool' }).toList(), [0, 1]);
  }));

test('arange: arange(n), int64 for integer arguments as in PyTorch', () =>
  clean(() => {
    const a = F.arange(4);
    assert.equal(a.dtype, 'int64');
    assert.deepEqual(a.toList(), [0, 1, 2, 3]);
    assert.deepEqual(F.arange(2, 8, 3).toList(), [2, 5]);
    assert.equal(F.arange(0, 1, 0.25).dtype, 'float32');
    assert.equal(F.arange(0, 3, 1, { dtype: 'float64' }).dtype, 'float64');
    assert.throws(() => F.arange(0, 3, 0), /step/);
  }));

test('*Like creators keep dtype/device and accept overrides', () =>
  clean(() => {
    const x = F.zeros([2, 3], { dtype: 'float64' });
    const f = F.fullLike(x, 2.5);
    assert.equal(f.dtype, 'float64');
    assert.deepEqual(f.shape, [2, 3]);
    assert.equal(f.sum().item(), 15);
    assert.equal(F.zerosLike(x, { dtype: 'int32' }).dtype, 'int32');
    assert.equal(F.onesLike(x).dtype, 'float64');
    const g = new Generator(1);
    const r = F.randnLike(x, g);
    assert.equal(r.dtype, 'float64');
    assert.deepEqual(r.shape, [2, 3]);
    assert.equal(F.randLike(x, g, { dtype: 'float32' }).dtype, 'float32');
  }));

test('new elementwise ops: reciprocal, ne, logicalOr/Xor, isnan, maximum/minimum with numbers', () =>
  clean(() => {
    assert.deepEqual(tensor([2, 4]).reciprocal().toList(), [0.5, 0.25]);
    assert.deepEqual(tensor([1, 2]).ne(1).toList(), [0, 1]);
    assert.deepEqual(tensor([1, 2]).ne(tensor([1, 3])).toList(), [0, 1]);
    const a = tensor([1, 1, 0, 0]).gt(0);
    const b = tensor([1, 0, 1, 0]).gt(0);
    assert.deepEqual(a.logicalOr(b).toList(), [1, 1, 1, 0]);
    assert.deepEqual(a.logicalXor(b).toList(), [0, 1, 1, 0]);
    assert.deepEqual(tensor([NaN, 1]).isnan().toList(), [1, 0]);
    assert.deepEqual(tensor([-1, 2]).maximum(0).toList(), [0, 2]);
    assert.deepEqual(tensor([-1, 2]).minimum(0).toList(), [-1, 0]);
    assert.deepEqual(tensor([-1, 2]).maximum(tensor([0, 3])).toList(), [0, 3]);
  }));

test('reductions over dims: prod and norm with keepdim', () =>
  clean(() => {
    const x = tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    assert.equal(x.prod().item(), 720);
    assert.deepEqual(x.prod(1).toList(), [6, 120]);
    assert.deepEqual(x.prod(1, true).shape, [2, 1]);
    const n = x.norm(2, 1, true);
    assert.deepEqual(n.shape, [2, 1]);
    assert.ok(Math.abs((n.toList() as unknown as number[][])[0]![0]! - Math.sqrt(14)) < 1e-5);
    assert.ok(Math.abs(x.norm().item() - Math.sqrt(91)) < 1e-5);
    assert.deepEqual(x.sum(1, true).shape, [2, 1]);
    assert.deepEqual(x.mean([0, 1], true).shape, [1, 1]);
  }));

test('size() rejects an out-of-range dim; toList() gives [re, im] pairs for complex', () =>
  clean(() => {
    const x = F.zeros([2, 3]);
    assert.equal(x.size(-1), 3);
    assert.throws(() => x.size(2), /out of range/);
    assert.deepEqual(F.complex(tensor([1, 2]), tensor([3, 4])).toList(), [
      [1, 3],
      [2, 4],
    ]);
  }));

test('hasGrad tests for a gradient without creating a handle', () => {
  const before = liveTensors();
  const p = tensor([1, 2]).requiresGrad_();
  assert.equal(p.hasGrad, false);
  tidy(() => p.mul(2).sum().backward());
  const mid = liveTensors();
  assert.equal(p.hasGrad, true);
  assert.equal(liveTensors(), mid);
  p.dispose();
  assert.equal(liveTensors(), before);
});

test('tidy keeps returned tensors at any depth, in Sets and in class instances', () => {
  class Box {
    constructor(readonly t: Tensor) {}
  }
  const before = liveTensors();
  const deep = tidy(() => ({ a: { b: { c: { d: { e: { f: { g: { h: { i: { j: tensor([1]) } } } } } } } } } }));
  assert.equal(deep.a.b.c.d.e.f.g.h.i.j.isDisposed, false);
  const set = tidy(() => new Set([tensor([2])]));
  assert.equal([...set][0]!.isDisposed, false);
  const box = tidy(() => {
    tensor([9]); // a temporary: released
    return new Box(tensor([3]));
  });
  assert.equal(box.t.item(), 3);
  const cyclic: { t?: Tensor; self?: unknown } = {};
  cyclic.self = cyclic;
  tidy(() => {
    cyclic.t = tensor([4]);
    return cyclic;
  });
  assert.equal(cyclic.t!.isDisposed, false);
  assert.equal(liveTensors(), before + 4);
  dispose([deep, set, cyclic]);
  box.t.dispose();
  assert.equal(liveTensors(), before);
});

test('random ops name a generator/device mismatch clearly', () =>
  clean(() => {
    const g = new Generator(1);
    assert.throws(() => F.randn([2], g, { device: 'cuda' }), /Generator is on 'cpu' but device 'cuda'/);
    assert.throws(() => F.dropout(F.ones([2]), 1.5, true, g), /p must be in \[0, 1\)/);
    assert.throws(() => F.interpolate(F.zeros([1, 1, 2, 2, 2]), { mode: 'nearest' }), /size or a positive scale/);
  }));

test('safetensors: empty, 0-d, bool, int64, float16 and bfloat16 tensors round-trip', () =>
  clean(() => {
    const dir = mkdtempSync(join(tmpdir(), 'lodi-st-'));
    const path = join(dir, 'edge.safetensors');
    const m = new Map<string, Tensor>([
      ['empty', F.zeros([0, 3])],
      ['scalar', F.scalar(3, { dtype: 'float64' })],
      ['mask', tensor([1, 0, 1], undefined, { dtype: 'bool' })],
      ['idx', tensor(new BigInt64Array([2n ** 40n, -2n]))],
      ['half', tensor([1.5, -2, 65504]).to('float16')],
      ['bf', tensor([1.5, -2, 3e38]).to('bfloat16')],
    ]);
    saveSafetensors(path, m, { note: 'edge cases' });
    const { tensors, metadata } = loadSafetensors(path);
    assert.equal(metadata.note, 'edge cases');
    for (const [k, t] of m) {
      const r = tensors.get(k)!;
      assert.equal(r.dtype, t.dtype, k);
      assert.deepEqual(r.shape, t.shape, k);
      assert.ok(r.eq(t).logicalNot().sum().item() === 0, `${k} values differ`);
    }
    assert.equal(tensors.get('idx')!.toArray()[0], 2n ** 40n);
  }));

test('safetensors: bad headers and metadata fail with the file name, bool bytes > 1 read as true', () =>
  clean(() => {
    const dir = mkdtempSync(join(tmpdir(), 'lodi-st-'));
    const write = (name: string, header: unknown, data: Uint8Array): string => {
      const json = Buffer.from(JSON.stringify(header));
      const head = Buffer.alloc(8);
      head.writeBigUInt64LE(BigInt(json.byteLength));
      const p = join(dir, name);
      writeFileSync(p, Buffer.concat([head, json, data]));
      return p;
    };
    const noShape = write('a.safetensors', { x: { dtype: 'F32', data_offsets: [0, 4] } }, new Uint8Array(4));
    assert.throws(() => loadSafetensors(noShape), /a\.safetensors: not a valid safetensors file \(tensor 'x' has an invalid shape\)/);
    const badMeta = write('b.safetensors', { __metadata__: { n: 3 } }, new Uint8Array(0));
    assert.throws(() => loadSafetensors(badMeta), /__metadata__ must map strings to strings/);
    const bools = write('c.safetensors', { m: { dtype: 'BOOL', shape: [3], data_offsets: [0, 3] } }, new Uint8Array([0, 1, 7]));
    assert.deepEqual(loadSafetensors(bools).tensors.get('m')!.toList(), [0, 1, 1]);
    assert.throws(
      () => saveSafetensors(join(dir, 'd.safetensors'), new Map([['x', F.zeros([1])]]), { n: 3 as unknown as string }),
      /metadata 'n' must be a string/,
    );
  }));

test('safetensors: the metadata alone comes from the header; a header past the end of the file is an error', () =>
  clean(() => {
    const dir = mkdtempSync(join(tmpdir(), 'lodi-st-'));
    const path = join(dir, 'm.safetensors');
    saveSafetensors(path, new Map([['w', F.ones([1000])]]), { format: 'x', x: '{"a":1}' });
    assert.deepEqual(loadSafetensorsMetadata(path), loadSafetensors(path).metadata);
    assert.deepEqual(loadSafetensorsMetadata(path), { format: 'x', x: '{"a":1}' });
    // the tensor bytes are not read: a file cut inside them still gives its metadata
    const size = statSync(path).size;
    truncateSync(path, size - 100);
    assert.equal(loadSafetensorsMetadata(path).format, 'x');
    assert.throws(() => loadSafetensors(path), /runs past the end of the file/);
    truncateSync(path, 20);
    assert.throws(() => loadSafetensorsMetadata(path), /m\.safetensors: not a valid safetensors file \(header length \d+ exceeds file size 20\)/);
    truncateSync(path, 4);
    assert.throws(() => loadSafetensorsMetadata(path), /shorter than the 8-byte header length/);
    const badMeta = join(dir, 'b.safetensors');
    const json = Buffer.from(JSON.stringify({ __metadata__: { n: 3 } }));
    const head = Buffer.alloc(8);
    head.writeBigUInt64LE(BigInt(json.byteLength));
    writeFileSync(badMeta, Buffer.concat([head, json]));
    assert.throws(() => loadSafetensorsMetadata(badMeta), /__metadata__ must map strings to strings/);
  }));

test('resolveDevice: auto falls back to the CPU; CUDA asked of an engine without it is refused in one line', () => {
  const n = cuda.isAvailable() ? cuda.deviceCount() : 0;
  assert.equal(resolveDevice('cpu'), 'cpu');
  assert.equal(resolveDevice('auto'), n > 0 ? 'cuda' : 'cpu');
  assert.throws(() => resolveDevice('gpu'), /^Error: device 'gpu': expected cpu, cuda, cuda:N or auto$/);
  if (n === 0) assert.throws(() => resolveDevice('cuda'), /^Error: device 'cuda': no CUDA device \(libtorch .*\); use cpu, or build the addon against a CUDA libtorch \(README\)$/);
  else assert.throws(() => resolveDevice(`cuda:${n}`), new RegExp(`only ${n} CUDA device`));
});

test('Module.to moves parameters in place: the same tensors (fields of submodules stay valid), values kept', () => {
  const m = new nn.Conv3d(2, 3, new Generator(1));
  try {
    const w = m.weight;
    const before = w.toFloat32Array();
    assert.equal(m.to('cpu'), m);
    assert.equal(m.weight, w);
    assert.equal(m.device, 'cpu');
    assert.deepEqual(m.weight.toFloat32Array(), before);
    assert.equal(m.weight.requiresGrad, true);
    if (cuda.isAvailable()) {
      m.to('cuda');
      assert.equal(m.weight, w, 'same tensor object after moving');
      assert.match(m.weight.device, /^cuda/);
      assert.match(m.bias!.device, /^cuda/);
      assert.deepEqual(m.weight.toFloat32Array(), before);
      assert.equal(m.weight.requiresGrad, true);
      m.to('cpu');
      assert.equal(m.device, 'cpu');
    }
  } finally {
    m.dispose();
  }
});
