// Generation and HALOgen inference in bfloat16 (autocast) on the CPU: close to float32 but not the
// same numbers, recorded in the sidecars, and a map of one precision is not kept for the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors } from '@lodi/torch';
import { loadGrid } from '../../src/io/grid.js';
import { generateRun } from '../../src/pipeline/generate.js';
import { resolvePrecision } from '../../src/nets/precision.js';
import { resolveNoise } from '../../src/lodi/generate.js';
import { tinyModel, writeSyntheticHalos } from './helpers.js';

/** Pearson correlation and relative RMS difference of two maps. */
function compare(a: Float32Array, b: Float32Array): { r: number; rel: number } {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]! / n;
    mb += b[i]! / n;
  }
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  let d2 = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
    d2 += (a[i]! - b[i]!) ** 2;
  }
  return { r: sab / Math.sqrt(saa * sbb), rel: Math.sqrt(d2 / n) / Math.sqrt(saa / n) };
}

test('resolvePrecision: auto is bfloat16 on CUDA and float32 on the CPU; a choice is kept', () => {
  assert.equal(resolvePrecision('auto', 'cpu'), 'float32');
  assert.equal(resolvePrecision('auto', 'cuda'), 'bfloat16');
  assert.equal(resolvePrecision('auto', 'cuda:1'), 'bfloat16');
  assert.equal(resolvePrecision('bfloat16', 'cpu'), 'bfloat16');
  assert.equal(resolvePrecision('float32', 'cuda'), 'float32');
});

test('generate --precision bfloat16: the same map as float32 to bfloat16 rounding, recorded, not kept for float32 on resume', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-bf16-'));
  try {
    const model = await tinyModel(dir);
    const hp = writeSyntheticHalos(dir, 24, 9).path;
    const live = liveTensors();
    const common = { halos: hp, model, seed: 5, steps: 10, quiet: true };
    await generateRun({ ...common, out: join(dir, 'f32.npy') });
    await generateRun({ ...common, out: join(dir, 'bf16.npy'), precision: 'bfloat16' });
    await generateRun({ ...common, out: join(dir, 'bf16-file.npy'), precision: 'bfloat16', fileBacked: true });
    assert.equal(liveTensors(), live, 'no tensors left alive');
    const a = loadGrid(join(dir, 'f32.npy')).data;
    const b = loadGrid(join(dir, 'bf16.npy')).data;
    assert.deepEqual(loadGrid(join(dir, 'bf16-file.npy')).data, b, 'file-backed: the same bfloat16 map');
    const c = compare(a, b);
    // bfloat16 keeps 8 bits of mantissa: each denoiser call is off by ~1e-3 relative, and ten steps
    // of the sampler carry that into the map at the percent level, not more
    assert.ok(c.rel > 0, 'bfloat16 changed the numbers');
    assert.ok(c.r > 0.99 && c.rel < 0.1, `r ${c.r}, relative rms difference ${c.rel}`);
    const side = (f: string) => JSON.parse(readFileSync(join(dir, f.replace('.npy', '.json')), 'utf8')).provenance;
    assert.equal(side('bf16.npy').precision, 'bfloat16');
    assert.equal(side('bf16-file.npy').precision, 'bfloat16');
    assert.equal(side('f32.npy').precision, 'float32');
    // --resume keeps a map only when it was made in the same precision
    await generateRun({ ...common, out: join(dir, 'f32.npy'), precision: 'bfloat16', resume: true });
    assert.equal(side('f32.npy').precision, 'bfloat16', 'the float32 map was made again in bfloat16');
    assert.deepEqual(loadGrid(join(dir, 'f32.npy')).data, b);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--noise: auto is the device\'s generators on CUDA and the host\'s on the CPU; on the CPU both give the same map; recorded', async () => {
  assert.equal(resolveNoise('auto', 'cpu'), 'host');
  assert.equal(resolveNoise('auto', 'cuda:0'), 'device');
  assert.equal(resolveNoise('host', 'cuda'), 'host');
  const dir = mkdtempSync(join(tmpdir(), 'lodi-noise-'));
  try {
    const model = await tinyModel(dir);
    const hp = writeSyntheticHalos(dir, 24, 9).path;
    const common = { halos: hp, model, seed: 5, steps: 10, quiet: true };
    await generateRun({ ...common, out: join(dir, 'host.npy'), noise: 'host' });
    await generateRun({ ...common, out: join(dir, 'device.npy'), noise: 'device' });
    assert.deepEqual(loadGrid(join(dir, 'device.npy')).data, loadGrid(join(dir, 'host.npy')).data);
    const side = (f: string) => JSON.parse(readFileSync(join(dir, f), 'utf8')).provenance;
    assert.equal(side('host.json').noise, 'host');
    assert.equal(side('device.json').noise, 'host', 'on the CPU the device is the host');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
