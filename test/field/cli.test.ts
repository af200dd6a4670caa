import { test } from 'node:test';
import { referenceDir } from '../reference-dir.js';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeNpy, saveGrid, loadGrid } from '../../src/io/index.js';
import { runPower } from '../../src/cli/commands/power.js';
import { runPrepare } from '../../src/pipeline/prepare.js';
import { randomNormal, sum64, relClose } from './helpers.js';

const REF = join(referenceDir(), 'gadget4-hydro32');

test('lodi power: CSV headers, box from the sidecar or --box, errors without either, refuses to overwrite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-power-'));
  const n = 16;
  const a = randomNormal(n ** 3, 1);
  const bare = join(dir, 'bare.npy');
  writeNpy(bare, a, [n, n, n]);
  await assert.rejects(runPower(bare, { mas: 'none', axis: 2 }), /no sidecar .*bare\.json.*pass --box/);
  await assert.rejects(runPower(join(dir, 'missing.npy'), { mas: 'none', axis: 2, box: 25 }), /missing\.npy: file: not found; expected/);
  const r = await runPower(bare, { mas: 'none', axis: 2, box: 25, out: join(dir, 'pk.csv') });
  const lines = readFileSync(r.csv, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'k,Pk,Nmodes');
  assert.equal(lines.length - 1, r.rows);
  await assert.rejects(runPower(bare, { mas: 'none', axis: 2, box: 25, out: join(dir, 'pk.csv') }), /already exists/);
  const withSide = join(dir, 'a.npy');
  saveGrid(withSide, { data: a, shape: [n, n, n], meta: { boxSize: 25, quantity: 'x', unit: '1' } });
  const other = join(dir, 'b.npy');
  saveGrid(other, { data: randomNormal(n ** 3, 2), shape: [n, n, n], meta: { boxSize: 25, quantity: 'x', unit: '1' } });
  const x = await runPower(withSide, { mas: 'CIC', axis: 2, cross: other, out: join(dir, 'x.csv') });
  assert.equal(readFileSync(x.csv, 'utf8').split('\n')[0], 'k,P11,P22,P12,r,Nmodes');
  await assert.rejects(runPower(withSide, { mas: 'CIC', axis: 2, box: 30, out: join(dir, 'y.csv') }), /box size mismatch/);
  const small = join(dir, 's.npy');
  saveGrid(small, { data: randomNormal(8 ** 3, 3), shape: [8, 8, 8], meta: { boxSize: 25, quantity: 'x', unit: '1' } });
  await assert.rejects(runPower(withSide, { mas: 'CIC', axis: 2, cross: small, out: join(dir, 'z.csv') }), /box\/grid mismatch/);
  const m = await runPower(withSide, { mas: 'CIC', axis: 2, multipoles: true, out: join(dir, 'm.csv'), plot: join(dir, 'm.png') });
  assert.equal(readFileSync(m.csv, 'utf8').split('\n')[0], 'k,Pk,P2,Nmodes');
  assert.ok(existsSync(join(dir, 'm.png')));
});

test('lodi power --channel picks one channel of a [C,N,N,N] grid and requires it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-power-ch-'));
  const n = 8;
  const data = new Float32Array(4 * n ** 3);
  const ch2 = randomNormal(n ** 3, 7);
  data.set(ch2, 2 * n ** 3);
  const multi = join(dir, 'halos.npy');
  saveGrid(multi, { data, shape: [4, n, n, n], meta: { boxSize: 25, quantity: 'rho_h', unit: 'Msun/h/(Mpc/h)^3' } });
  const single = join(dir, 'c2.npy');
  saveGrid(single, { data: ch2, shape: [n, n, n], meta: { boxSize: 25, quantity: 'x', unit: '1' } });
  await assert.rejects(runPower(multi, { mas: 'none', axis: 2, out: join(dir, 'p.csv') }), /4 channels.*--channel/);
  await assert.rejects(runPower(multi, { mas: 'none', axis: 2, channel: 4, out: join(dir, 'p.csv') }), /out of range/);
  const a = await runPower(multi, { mas: 'none', axis: 2, channel: 2, out: join(dir, 'a.csv') });
  const b = await runPower(single, { mas: 'none', axis: 2, out: join(dir, 'b.csv') });
  assert.equal(readFileSync(a.csv, 'utf8'), readFileSync(b.csv, 'utf8'));
  await assert.rejects(runPower(single, { mas: 'none', axis: 2, channel: 1, out: join(dir, 'c.csv') }), /single channel/);
});

test('lodi prepare on the GADGET-4 hydro32 snapshot writes the four grids with sidecars', async () => {
  const out = mkdtempSync(join(tmpdir(), 'lodi-prepare-'));
  const opts = {
    snapshot: join(REF, 'snapshot_002.hdf5'), groups: join(REF, 'fof_subhalo_tab_002.hdf5'), grid: 32, out,
    smoothing: 0, massUnit: 'Msun' as const, massDefinition: 'fof' as const, halos: 'groups' as const, chunk: 10_000, plots: false,
  };
  await runPrepare(opts);
  const hi = loadGrid(join(out, 'hi.npy'));
  relClose(sum64(hi.data) * (25 / 32) ** 3, 6.0015e10, 1e-4, 'M_HI');
  const halos = loadGrid(join(out, 'halos.npy'), { expectChannels: 4 });
  assert.equal(halos.meta.channels?.length, 4);
  assert.equal(loadGrid(join(out, 'tb.npy')).meta.unit, 'mK');
  assert.ok(existsSync(join(out, 'report.md')));
  await assert.rejects(runPrepare(opts), /already exists/);
  await runPrepare({ ...opts, force: true, smoothing: 0.2, plots: true });
  relClose(sum64(loadGrid(join(out, 'hi.npy')).data) * (25 / 32) ** 3, 6.0015e10, 1e-4, 'M_HI smoothed');
  assert.ok(existsSync(join(out, 'pk.png')) && existsSync(join(out, 'tb.png')));
});
