import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy, writeNpy, decodeNpy, fortranToC } from '../../src/io/npy.js';
import { LodiIOError } from '../../src/io/errors.js';
import { tempDir } from './helpers.js';

/** Builds .npy bytes by hand (independent of the writer). */
function craft(descr: string, shape: number[], payload: Uint8Array, opts: { fortran?: boolean; version?: 1 | 2 | 3 } = {}): Uint8Array {
  const v = opts.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const pre = v === 1 ? 10 : 12;
  header += ' '.repeat((64 - ((pre + header.length + 1) % 64)) % 64) + '\n';
  const out = new Uint8Array(pre + header.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, v, 0]);
  const dv = new DataView(out.buffer);
  if (v === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[pre + i] = header.charCodeAt(i);
  out.set(payload, pre + header.length);
  return out;
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function swap(b: Uint8Array, size: number): Uint8Array {
  const o = b.slice();
  for (let i = 0; i < o.length; i += size) o.subarray(i, i + size).reverse();
  return o;
}

test('writeNpy/readNpy round-trip float32 and float64, refuses overwrite without force', () => {
  const { dir, cleanup } = tempDir();
  try {
    const f32 = Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3);
    const f64 = Float64Array.from({ length: 24 }, (_, i) => Math.PI * i);
    writeNpy(join(dir, 'a.npy'), f32, [2, 3, 4]);
    writeNpy(join(dir, 'b.npy'), f64, [24]);
    const a = readNpy(join(dir, 'a.npy'), { expectShape: [2, 3, 4], expectDtypes: ['float32'] });
    assert.deepEqual(a.shape, [2, 3, 4]);
    assert.equal(a.dtype, 'float32');
    assert.deepEqual(Array.from(a.data as Float32Array), Array.from(f32));
    const b = readNpy(join(dir, 'b.npy'));
    assert.deepEqual(Array.from(b.data as Float64Array), Array.from(f64));
    assert.throws(() => writeNpy(join(dir, 'a.npy'), f32, [2, 3, 4]), /already exists/);
    writeNpy(join(dir, 'a.npy'), f32, [2, 3, 4], { force: true });
  } finally {
    cleanup();
  }
});

test('reads every supported dtype, both byte orders and header versions', () => {
  const vals = [1, 2, 3, 250];
  const cases: [string, ArrayBufferView, number][] = [
    ['<f4', Float32Array.from([1.5, -2.25, 3, 4]), 4],
    ['<f8', Float64Array.from([1.5, -2.25, 3, 1e300]), 8],
    ['<i4', Int32Array.from([-1, 2, -3, 2 ** 31 - 1]), 4],
    ['<i8', BigInt64Array.from([-1n, 2n, -3n, 2n ** 40n]), 8],
    ['<u4', Uint32Array.from([1, 2, 3, 2 ** 32 - 1]), 4],
    ['|u1', Uint8Array.from(vals), 1],
  ];
  for (const [descr, arr] of cases) {
    for (const version of [1, 2, 3] as const) {
      const r = decodeNpy(craft(descr, [2, 2], bytesOf(arr), { version }), `t${descr}.npy`);
      assert.deepEqual(Array.from(r.data as ArrayLike<unknown>), Array.from(arr as unknown as ArrayLike<unknown>), descr);
      assert.deepEqual(r.shape, [2, 2]);
    }
  }
  // big-endian floats are byte-swapped on read
  const f32 = Float32Array.from([1.5, -2.25, 3e10, 4]);
  const f64 = Float64Array.from([1.5, -2.25, 3e100, 4]);
  const be32 = decodeNpy(craft('>f4', [4], swap(bytesOf(f32), 4)), 'be.npy');
  assert.equal(be32.dtype, 'float32');
  assert.deepEqual(Array.from(be32.data as Float32Array), Array.from(f32));
  const be64 = decodeNpy(craft('>f8', [4], swap(bytesOf(f64), 8)), 'be.npy');
  assert.deepEqual(Array.from(be64.data as Float64Array), Array.from(f64));
});

test('Fortran-order arrays are converted to C order', () => {
  // C-order array A[i][j][k] = 100 i + 10 j + k with shape [2,3,4]
  const shape = [2, 3, 4];
  const c = new Float32Array(24);
  const f = new Float32Array(24);
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) {
    const v = 100 * i + 10 * j + k;
    c[(i * 3 + j) * 4 + k] = v;
    f[i + 2 * (j + 3 * k)] = v;
  }
  const r = decodeNpy(craft('<f4', shape, bytesOf(f), { fortran: true }), 'f.npy');
  assert.equal(r.fortranOrder, true);
  assert.deepEqual(Array.from(r.data as Float32Array), Array.from(c));
  const be = decodeNpy(craft('>f8', shape, swap(bytesOf(Float64Array.from(f)), 8), { fortran: true }), 'f.npy');
  assert.deepEqual(Array.from(be.data as Float64Array), Array.from(c));
  assert.deepEqual(Array.from(fortranToC(Float32Array.from([1, 2, 3]), [3])), [1, 2, 3]);
});

test('shape and dtype expectations give a clear message', () => {
  const bytes = craft('<i8', [3, 4], new Uint8Array(96));
  assert.throws(
    () => decodeNpy(bytes, 'dm.npy', { expectShape: ['N', 'N', 'N'], expectDtypes: ['float32', 'float64'] }),
    (e: unknown) => e instanceof LodiIOError && /^dm\.npy: dtype: expected a float32\/float64 array of shape \[N,N,N\], got int64 \[3,4\]/.test(e.message),
  );
  const cube = craft('<f4', [4, 4, 5], new Uint8Array(320));
  assert.throws(() => decodeNpy(cube, 'c.npy', { expectShape: ['N', 'N', 'N'] }), /^LodiIOError: c\.npy: shape: expected an array of shape \[N,N,N\], got float32 \[4,4,5\] \(axis 2 is 5 but N was 4\)$/);
});

test('truncated and corrupt .npy files are detected', () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = join(dir, 'x.npy');
    writeNpy(p, new Float32Array(1000), [10, 10, 10]);
    const full = readFileSync(p);
    writeFileSync(p, full.subarray(0, full.length - 7));
    assert.throws(() => readNpy(p), (e: unknown) => e instanceof LodiIOError && /x\.npy: data: truncated \.npy file.*needs 4000 data bytes, found 3993/.test(e.message));
    writeFileSync(p, full.subarray(0, 40));
    assert.throws(() => readNpy(p), /x\.npy: (data|header): truncated \.npy file/);
    writeFileSync(p, Buffer.from('hello world, not npy'));
    assert.throws(() => readNpy(p), /x\.npy: header: not a NumPy \.npy file/);
    assert.throws(() => readNpy(join(dir, 'nope.npy')), /nope\.npy: file: not found; expected a \.npy array/);
  } finally {
    cleanup();
  }
});
