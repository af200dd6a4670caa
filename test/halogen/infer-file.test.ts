/**
 * HALOgen inference streamed by x-planes: the plane core against a brute-force window average, its
 * bounded number of open planes, and the file-backed prediction (library and `lodi predict-halos
 * --file-backed`) against the in-memory one on the bundled model, to the bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { F, tidy, type Tensor } from '@lodi/torch';
import { loadHalogen } from '../../src/halogen/checkpoint.js';
import { predictHalos, slidingWindowPlanes, windowOrigins } from '../../src/halogen/infer.js';
import { predictHalosFile } from '../../src/halogen/infer-file.js';
import { readNpy, saveGrid, writeNpy } from '../../src/io/index.js';
import { syntheticWorld } from './helpers.js';
import { repoRoot } from '../reference-dir.js';
import { tempDir } from '../io/helpers.js';
import { withAtomicPath } from '../../src/util/atomic.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const MODEL = join(repoRoot(), 'models', 'halogen-cpu');

/** A predictor that depends on the whole window: channel c is (c + 1) x + the window's mean. */
const windowMean = (x: Tensor): Tensor => {
  const m = x.mean([2, 3, 4], true);
  return F.cat([x.add(m), x.mul(2).add(m), x.mul(3).add(m)], 1);
};

/** The same average computed window by window in float64 over a box held in memory. */
function bruteForce(input: Float32Array, n: number, crop: number, stride: number): Float64Array {
  const n3 = n ** 3;
  const sum = new Float64Array(3 * n3);
  const count = new Float64Array(n3);
  const origins = windowOrigins(n, stride);
  const at = (i: number, j: number, k: number): number => (((i % n) * n + (j % n)) * n + (k % n));
  for (const a of origins)
    for (const b of origins)
      for (const c of origins) {
        let m = 0;
        for (let i = 0; i < crop; i++) for (let j = 0; j < crop; j++) for (let k = 0; k < crop; k++) m += input[at(a + i, b + j, c + k)]!;
        m /= crop ** 3;
        for (let i = 0; i < crop; i++)
          for (let j = 0; j < crop; j++)
            for (let k = 0; k < crop; k++) {
              const t = at(a + i, b + j, c + k);
              count[t]!++;
              for (let ch = 0; ch < 3; ch++) sum[ch * n3 + t] += (ch + 1) * input[t]! + m;
            }
      }
  for (let ch = 0; ch < 3; ch++) for (let t = 0; t < n3; t++) sum[ch * n3 + t]! /= count[t]!;
  return sum;
}

for (const [n, crop, stride, batch] of [
  [20, 8, 6, 3],
  [6, 8, 4, 5],
  [40, 8, 4, 7],
  [41, 8, 3, 9],
] as const) {
  test(`streamed planes equal a brute-force window average (N = ${n}, crop ${crop}, stride ${stride}, batch ${batch})`, () => {
    const n2 = n * n;
    const input = Float32Array.from({ length: n ** 3 }, (_, i) => Math.sin(0.37 * i) + 0.01 * (i % 17));
    const out = new Float32Array(3 * n ** 3);
    const written = new Uint8Array(n);
    let reads = 0;
    let maxOpen = 0;
    const touched = new Set<number>();
    tidy(() =>
      slidingWindowPlanes(
        n,
        (x0, count, dst) => {
          reads++;
          for (let x = x0; x < x0 + count; x++) touched.add(x);
          maxOpen = Math.max(maxOpen, touched.size);
          dst.set(input.subarray(x0 * n2, (x0 + count) * n2));
        },
        (x, plane) => {
          written[x]!++;
          touched.delete(x);
          for (let ch = 0; ch < 3; ch++) out.set(plane.subarray(ch * n2, (ch + 1) * n2), ch * n ** 3 + x * n2);
        },
        windowMean,
        { crop, stride, batch, channels: 3 },
      ),
    );
    assert.deepEqual([...written], new Array(n).fill(1), 'every plane written exactly once');
    const want = bruteForce(input, n, crop, stride);
    let worst = 0;
    for (let t = 0; t < want.length; t++) worst = Math.max(worst, Math.abs(out[t]! - want[t]!));
    // float32 network arithmetic (means over crop^3 values) against float64
    assert.ok(worst < 1e-5, `max |streamed - brute force| = ${worst}`);
    // one slab per window origin (two reads where it wraps); planes read and not yet written: the
    // crop - stride planes waiting for the windows that wrap to them, the current origin's slab and,
    // in a batch that spans two origins, the next one's: memory O(crop N^2), not O(N^3)
    const origins = windowOrigins(n, stride).length;
    assert.ok(reads >= origins && reads <= 2 * origins + (crop > n ? 2 * origins * Math.ceil(crop / n) : 0), `reads ${reads}`);
    if (n > 3 * crop) assert.ok(maxOpen <= 3 * crop - stride, `open planes ${maxOpen} > 3 crop - stride`);
  });
}

test('file-backed prediction equals the in-memory one to the bit (bundled model; float32 and float64 DM; density and log)', async () => {
  const { dir, cleanup } = tempDir('halogen-file-');
  const { model, meta } = loadHalogen(MODEL);
  try {
    for (const [n, stride, dtype] of [
      [20, 16, 'float32'],
      [16, 8, 'float64'],
    ] as const) {
      const dm = syntheticWorld(n, 3).dm;
      const file = join(dir, `dm-${n}.npy`);
      writeNpy(file, dtype === 'float32' ? dm : Float64Array.from(dm), [n, n, n]);
      const loaded = Float32Array.from(dtype === 'float32' ? dm : Float64Array.from(dm));
      const mem = tidy(() => predictHalos(model, meta, loaded, n, { stride, batch: 3 }));
      for (const log of [false, true]) {
        const out = join(dir, `h-${n}-${log}.npy`);
        tidy(() => predictHalosFile(model, meta, file, out, { stride, batch: 3, log }));
        const got = readNpy(out);
        assert.deepEqual(got.shape, [4, n, n, n]);
        const want = log ? mem.log : mem.density;
        assert.ok(Buffer.from((got.data as Float32Array).buffer).equals(Buffer.from(want.buffer)), `N = ${n} ${dtype} log=${log}: bytes differ`);
      }
      assert.ok(mem.density.some((v) => v > 0), 'some voxels hold halos');
    }
    const bad = join(dir, 'nan.npy');
    const dm = syntheticWorld(8, 4).dm;
    dm[77] = NaN;
    writeNpy(bad, dm, [8, 8, 8]);
    assert.throws(() => predictHalosFile(model, meta, bad, join(dir, 'never.npy')), /nan\.npy: data: non-finite value at flat index 77, expected a finite DM density/);
    // a failure once the output exists (here: the network) leaves neither the output nor its temporary file
    const good = join(dir, 'dm-20.npy');
    const forward = model.forward.bind(model);
    let calls = 0;
    model.forward = (x) => {
      if (++calls === 2) throw new Error('network failed');
      return forward(x);
    };
    const sub = join(dir, 'new-dir');
    await assert.rejects(withAtomicPath(join(sub, 'h.npy'), (tmp) => tidy(() => predictHalosFile(model, meta, good, tmp, { stride: 16, batch: 1 }))), /network failed/);
    assert.equal(calls, 2);
    assert.deepEqual(readdirSync(sub), []);
    model.forward = forward;
  } finally {
    model.dispose();
    cleanup();
  }
});

test('lodi predict-halos --file-backed writes the same grid and sidecar as in memory, and nothing when it fails', () => {
  const { dir, cleanup } = tempDir('halogen-file-cli-');
  try {
    const n = 16;
    const dm = syntheticWorld(n, 5).dm;
    // the bundled model's voxel (25/128 Mpc/h) and unit
    saveGrid(join(dir, 'dm.npy'), { data: dm, shape: [n, n, n], meta: { boxSize: 3.125, redshift: 0, quantity: 'dm_density', unit: '(Msun/h)/(Mpc/h)^3' } });
    const run = (out: string, extra: string[]): void => {
      const r = spawnSync(process.execPath, [MAIN, 'predict-halos', '--model', MODEL, '--dm', join(dir, 'dm.npy'), '--out', out, '--stride', '16', '--quiet', ...extra], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    run(join(dir, 'mem.npy'), []);
    run(join(dir, 'new', 'deeper', 'file.npy'), ['--file-backed']);
    assert.ok(readFileSync(join(dir, 'mem.npy')).equals(readFileSync(join(dir, 'new', 'deeper', 'file.npy'))), 'a new output directory');
    run(join(dir, 'file.npy'), ['--file-backed']);
    assert.ok(readFileSync(join(dir, 'mem.npy')).equals(readFileSync(join(dir, 'file.npy'))), 'the .npy files differ');
    const side = (f: string): Record<string, unknown> => {
      const j = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { provenance: Record<string, unknown> };
      delete j.provenance.command;
      return j;
    };
    assert.deepEqual(side('file.json'), side('mem.json'));
    // an existing output is refused without --force; with it, replaced
    const again = spawnSync(process.execPath, [MAIN, 'predict-halos', '--model', MODEL, '--dm', join(dir, 'dm.npy'), '--out', join(dir, 'file.npy'), '--file-backed', '--quiet'], { encoding: 'utf8' });
    assert.notEqual(again.status, 0);
    run(join(dir, 'file.npy'), ['--file-backed', '--force']);
    // a non-finite DM value fails with one line and leaves no output, temporary or final
    const bad = Float32Array.from(dm);
    bad[n * n * 9 + 3] = Infinity;
    saveGrid(join(dir, 'bad.npy'), { data: bad, shape: [n, n, n], meta: { boxSize: 3.125, quantity: 'dm_density', unit: '(Msun/h)/(Mpc/h)^3' } });
    const sub = join(dir, 'out');
    const r = spawnSync(process.execPath, [MAIN, 'predict-halos', '--model', MODEL, '--dm', join(dir, 'bad.npy'), '--out', join(sub, 'h.npy'), '--file-backed', '--quiet'], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr.trim(), /^lodi: error: .*bad\.npy: data: non-finite value at flat index 2307, expected a finite DM density$/);
    assert.ok(!existsSync(sub) || readdirSync(sub).length === 0, `left behind: ${existsSync(sub) ? readdirSync(sub) : ''}`);
  } finally {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
