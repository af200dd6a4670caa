import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveGrid } from '../../src/io/index.js';
import { MASS_DENSITY_UNIT } from '../../src/io/world.js';
import { paint } from '../../src/field/mas.js';
import { overdensity } from '../../src/field/ops.js';
import { crossPowerSpectrum, powerSpectrum } from '../../src/field/power.js';
import { runPower } from '../../src/pipeline/power.js';
import { Rng } from '../../src/util/rng.js';

const n = 16;
const L = 40;

function lognormal(seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n ** 3 }, () => Math.exp(0.6 * r.normal()));
}

function csv(path: string): { header: string; rows: number[][] } {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  return { header: lines[0]!, rows: lines.slice(1).map((l) => l.split(',').map(Number)) };
}

/** Columns agree with arrays to the CSV's 9 significant digits. */
function sameColumn(rows: number[][], col: number, ref: ArrayLike<number>, what: string): void {
  assert.equal(rows.length, ref.length, what);
  for (let i = 0; i < ref.length; i++) {
    const a = rows[i]![col]!;
    const b = ref[i]!;
    assert.ok(Math.abs(a - b) <= 1e-8 * Math.abs(b) + 1e-30, `${what} row ${i}: ${a} vs ${b}`);
  }
}

const density = (data: Float32Array, shape = [n, n, n], channels?: string[]) => ({
  data,
  shape,
  meta: { boxSize: L, quantity: shape.length === 4 ? 'halo_mass_density' : 'dm_density', unit: MASS_DENSITY_UNIT, ...(channels ? { channels } : {}) },
});

test('power: a density grid becomes δ by default (said in the notes), --raw keeps ρ; a grid that already is δ is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-power-'));
  const rho = lognormal(1);
  const dm = join(dir, 'dm.npy');
  saveGrid(dm, density(rho));
  const d = await runPower(dm, { mas: 'CIC', axis: 2, out: join(dir, 'd.csv') });
  assert.match(d.notes[0]!, /dm\.npy: the sidecar says dm_density .*overdensity δ = ρ\/ρ̄ − 1.*--raw/);
  sameColumn(csv(d.csv).rows, 1, powerSpectrum(overdensity(rho), n, { boxSize: L, mas: 'CIC' }).pk, 'P of δ');
  const r = await runPower(dm, { mas: 'CIC', axis: 2, raw: true, out: join(dir, 'r.csv') });
  sameColumn(csv(r.csv).rows, 1, powerSpectrum(rho, n, { boxSize: L, mas: 'CIC' }).pk, 'P of ρ');
  await assert.rejects(runPower(dm, { mas: 'CIC', axis: 2, raw: true, overdensity: true, out: join(dir, 'x.csv') }), /--raw and --overdensity exclude each other/);
  // a T_b map is not a density: used as stored unless --overdensity
  const tb = join(dir, 'tb.npy');
  saveGrid(tb, { data: rho, shape: [n, n, n], meta: { boxSize: L, quantity: 'T_b', unit: 'mK' } });
  const t = await runPower(tb, { mas: 'CIC', axis: 2, out: join(dir, 't.csv') });
  assert.match(t.notes[0]!, /values as stored \[mK\]/);
  sameColumn(csv(t.csv).rows, 1, powerSpectrum(rho, n, { boxSize: L, mas: 'CIC' }).pk, 'P of T_b');
  // an overdensity grid: mean ~1e-8 of its rms. --overdensity used to give P ~ 1e17 and exit 0.
  const delta = overdensity(rho);
  const dg = join(dir, 'delta.npy');
  saveGrid(dg, { data: delta, shape: [n, n, n], meta: { boxSize: L, quantity: 'delta', unit: '1' } });
  await assert.rejects(runPower(dg, { mas: 'CIC', axis: 2, overdensity: true, out: join(dir, 'o.csv') }), /delta\.npy: mean .* is ~0 relative to its rms .*looks like an overdensity .* already.*drop --overdensity/);
  assert.ok(!existsSync(join(dir, 'o.csv')));
  // the same δ under a sidecar that calls it a density is refused too, pointing at --raw
  const mis = join(dir, 'mislabelled.npy');
  saveGrid(mis, density(delta));
  await assert.rejects(runPower(mis, { mas: 'CIC', axis: 2, out: join(dir, 'm.csv') }), /looks like an overdensity .*pass --raw/);
  const ok = await runPower(mis, { mas: 'CIC', axis: 2, raw: true, out: join(dir, 'm.csv') });
  sameColumn(csv(ok.csv).rows, 1, powerSpectrum(delta, n, { boxSize: L, mas: 'CIC' }).pk, 'P of δ as stored');
});

test('power --cross --multipoles writes the cross multipoles (XPk); channels: --channel / --cross-channel, all-zero refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-power-x-'));
  const rho = lognormal(2);
  const dm = join(dir, 'dm.npy');
  saveGrid(dm, density(rho));
  const halos = new Float32Array(4 * n ** 3);
  const ch1 = lognormal(3).map((v, i) => v + 0.5 * rho[i]!);
  halos.set(lognormal(4), 0);
  halos.set(ch1, n ** 3);
  halos.set(lognormal(5), 2 * n ** 3); // channel 3 stays all zeros
  const hp = join(dir, 'halos.npy');
  saveGrid(hp, density(halos, [4, n, n, n], ['c0', 'M in [1e11, 1e12) Msun/h', 'c2', 'c3']));
  const x = await runPower(dm, { mas: 'CIC', axis: 1, multipoles: true, cross: hp, crossChannel: 1, out: join(dir, 'x.csv') });
  const { header, rows } = csv(x.csv);
  assert.equal(header, 'k,P11,P22,P12,r,P11_2,P22_2,P12_2,Nmodes');
  const ref = crossPowerSpectrum(overdensity(rho), overdensity(ch1), n, { boxSize: L, mas: 'CIC', axis: 1, multipoles: true });
  sameColumn(rows, 3, ref.p12, 'P12');
  sameColumn(rows, 4, ref.r, 'r');
  sameColumn(rows, 5, ref.p11_2!, 'P11_2');
  sameColumn(rows, 6, ref.p22_2!, 'P22_2');
  sameColumn(rows, 7, ref.p12_2!, 'P12_2');
  assert.match(x.notes[1]!, /halos\.npy channel 1 \(M in \[1e11, 1e12\) Msun\/h\)/);
  // the channel of one grid no longer applies to the other
  await assert.rejects(runPower(dm, { mas: 'CIC', axis: 2, cross: hp, channel: 1, out: join(dir, 'y.csv') }), /dm\.npy: --channel 1 given, but the grid has a single channel \(--cross-channel picks/);
  await assert.rejects(runPower(dm, { mas: 'CIC', axis: 2, cross: hp, out: join(dir, 'y.csv') }), /halos\.npy: grid has 4 channels .*--cross-channel 0\.\.3 \(numbered from 0\)/);
  await assert.rejects(runPower(dm, { mas: 'CIC', axis: 2, crossChannel: 1, out: join(dir, 'y.csv') }), /--cross-channel 1 needs --cross/);
  const hh = await runPower(hp, { mas: 'CIC', axis: 2, channel: 2, cross: hp, crossChannel: 1, out: join(dir, 'hh.csv') });
  sameColumn(csv(hh.csv).rows, 3, crossPowerSpectrum(overdensity(halos.subarray(2 * n ** 3, 3 * n ** 3)), overdensity(ch1), n, { boxSize: L, mas: 'CIC' }).p12, 'channel 2 × channel 1');
  // an all-zero channel: P = 0 and r = NaN in every bin used to be written without a word
  await assert.rejects(runPower(hp, { mas: 'CIC', axis: 2, channel: 3, out: join(dir, 'z.csv') }), /halos\.npy: channel 3 is all zeros, so its P\(k\) is 0 at every k; choose another channel with --channel \(numbered from 0\)/);
  await assert.rejects(runPower(dm, { mas: 'CIC', axis: 2, cross: hp, crossChannel: 3, out: join(dir, 'z.csv') }), /channel 3 is all zeros, .* and r\(k\) undefined; .*--cross-channel/);
  assert.ok(!existsSync(join(dir, 'z.csv')));
});

test('power --plot: stops at k_Nyquist and names it, r(k) under a cross spectrum, shot noise 1/n̄ for a world halo channel', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-power-plot-'));
  const N = 32;
  const Lp = 50;
  const counts = [20000, 0];
  const r = new Rng(9);
  const pos = Float32Array.from({ length: 3 * counts[0]! }, () => r.uniform() * Lp);
  const mass = new Float32Array(counts[0]!).fill(1e11);
  const cellVolume = (Lp / N) ** 3;
  const ch0 = paint(pos, { grid: N, boxSize: Lp, mas: 'CIC', weights: mass }).map((v) => v / cellVolume);
  const halos = new Float32Array(2 * N ** 3);
  halos.set(ch0, 0);
  halos.set(ch0.map((v, i) => v + (i % 7)), N ** 3);
  const hp = join(dir, 'halos.npy');
  saveGrid(hp, { data: halos, shape: [2, N, N, N], meta: { boxSize: Lp, quantity: 'halo_mass_density', unit: MASS_DENSITY_UNIT } });
  writeFileSync(join(dir, 'world.json'), JSON.stringify({ format: 'lodi-world', version: 2, boxSize: Lp, painted: { counts: { halos: counts } } }));
  const res = await runPower(hp, { mas: 'CIC', axis: 2, channel: 0, out: join(dir, 'p.csv'), plot: join(dir, 'p.png') });
  assert.ok(existsSync(join(dir, 'p.png')));
  const kNyq = (Math.PI * N) / Lp;
  const panel = res.figure!.panels[0]!;
  assert.equal(res.figure!.panels.length, 1);
  for (const s of panel.series) for (let i = 0; i < s.x.length; i++) assert.ok(s.x[i]! <= kNyq * (1 + 1e-12), `${s.name}: k = ${s.x[i]} > k_N`);
  const pk = panel.series[0]!;
  assert.ok(pk.x[pk.x.length - 1]! > 0.9 * kNyq, 'the spectrum runs up to k_N');
  const marker = panel.series.find((s) => /k_Nyquist = πN\/L = 2\.01 h\/Mpc/.test(s.name));
  assert.ok(marker && marker.x[0] === kNyq && marker.x[1] === kNyq);
  // Poisson level of 20000 equal-mass halos: 1/n̄ = L^3/N_h; the measured P(k) agrees at low k
  const shot = panel.series.find((s) => /shot noise 1\/n̄ \(20000 halos\)/.test(s.name));
  assert.ok(shot, panel.series.map((s) => s.name).join('; '));
  assert.equal(shot.y[0], Lp ** 3 / counts[0]!);
  const rows = csv(res.csv).rows.filter((row) => row[0]! < kNyq / 4);
  const modes = rows.reduce((a, row) => a + row[2]!, 0);
  const mean = rows.reduce((a, row) => a + row[1]! * row[2]!, 0) / modes;
  assert.ok(Math.abs(mean / shot.y[0]! - 1) < 4 / Math.sqrt(modes) + 0.01, `low-k P ${mean} vs 1/n̄ ${shot.y[0]} over ${modes} modes`); // 4σ scatter + CIC aliasing
  // the cross spectrum gets an r(k) panel and names both channels; a channel with no halo count gets no level
  const x = await runPower(hp, { mas: 'CIC', axis: 2, channel: 0, cross: hp, crossChannel: 1, out: join(dir, 'x.csv'), plot: join(dir, 'x.png') });
  assert.equal(x.figure!.panels.length, 2);
  assert.match(x.figure!.title!, /1 = halos\.npy channel 0, 2 = halos\.npy channel 1/);
  assert.match(x.figure!.panels[1]!.series[0]!.name, /^r\(k\)/);
  const names = x.figure!.panels[0]!.series.map((s) => s.name);
  assert.equal(names.filter((s) => s.startsWith('shot noise')).length, 1, names.join('; '));
  // a grid outside a world: no shot-noise line, no word about it
  const lone = join(dir, 'lone');
  mkdirSync(lone);
  saveGrid(join(lone, 'h.npy'), { data: ch0, shape: [N, N, N], meta: { boxSize: Lp, quantity: 'halo_mass_density', unit: MASS_DENSITY_UNIT } });
  const l = await runPower(join(lone, 'h.npy'), { mas: 'CIC', axis: 2, out: join(lone, 'p.csv'), plot: join(lone, 'p.png') });
  assert.ok(!l.figure!.panels[0]!.series.some((s) => s.name.startsWith('shot noise')));
});
