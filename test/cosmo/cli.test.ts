import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { runHmf, register as registerHmf } from '../../src/cli/commands/hmf.js';
import { runLinearPower, register as registerLinearPower } from '../../src/cli/commands/linear-power.js';
import { CAMELS_CV } from '../../src/cosmo/params.js';
import { LinearPower } from '../../src/cosmo/power.js';
import { SigmaM } from '../../src/cosmo/sigma.js';

function readCsv(path: string): { header: string; rows: number[][] } {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  return { header: lines[0]!, rows: lines.slice(1).map((l) => l.split(',').map(Number)) };
}

test('linear-power writes k,Pk and refuses to overwrite without force', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-cli-'));
  const out = join(dir, 'pk.csv');
  runLinearPower({ z: 1, kmin: 1e-3, kmax: 10, n: 50, out });
  const { header, rows } = readCsv(out);
  assert.equal(header, 'k,Pk');
  assert.equal(rows.length, 50);
  assert.ok(Math.abs(rows[0]![0]! - 1e-3) < 1e-12 && Math.abs(rows[49]![0]! - 10) < 1e-8);
  const lp = new LinearPower(CAMELS_CV);
  for (const [k, P] of rows) assert.ok(Math.abs(P! / lp.P(k!, 1) - 1) < 1e-8);
  assert.throws(() => runLinearPower({ z: 0, kmin: 1e-3, kmax: 10, n: 5, out }), /already exists/);
  runLinearPower({ z: 0, kmin: 1e-3, kmax: 10, n: 5, out, force: true, transfer: 'bbks' });
  assert.equal(readCsv(out).rows.length, 5);
  // Tabulated spectrum.
  const table = join(dir, 'table.txt');
  writeFileSync(table, '# k P\n1e-4 10\n1e2 1e-6\n');
  const out2 = join(dir, 'pk2.csv');
  runLinearPower({ z: 0, kmin: 1e-2, kmax: 1, n: 3, out: out2, pkTable: table });
  const r = readCsv(out2).rows;
  assert.ok(Math.abs(r[1]![1]! / (10 * Math.pow(1e-1 / 1e-4, -7 / 6)) - 1) < 1e-8);
});

test('hmf writes M,dndlog10M,sigma and refuses to overwrite without force', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-cli-'));
  const out = join(dir, 'hmf.csv');
  runHmf({ z: 0, model: 'st', mmin: 1e8, mmax: 1e16, n: 20, out });
  const { header, rows } = readCsv(out);
  assert.equal(header, 'M,dndlog10M,sigma');
  assert.equal(rows.length, 20);
  for (let i = 1; i < rows.length; i++) {
    assert.ok(rows[i]![1]! < rows[i - 1]![1]!); // decreasing with mass
    assert.ok(rows[i]![2]! < rows[i - 1]![2]!);
  }
  assert.throws(() => runHmf({ z: 0, model: 'ps', mmin: 1e8, mmax: 1e16, n: 5, out }), /already exists/);
  runHmf({ z: 1, model: 'ps', mmin: 1e8, mmax: 1e16, n: 5, out, force: true, deltaC: 1.686 });
  assert.equal(readCsv(out).rows.length, 5);
  assert.throws(() => runHmf({ z: 0, model: 'st', mmin: 1e10, mmax: 1e8, n: 5, out: join(dir, 'x.csv') }), /--mmin < --mmax/);
});

test('commands register with commander and parse options', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-cli-'));
  const program = new Command().exitOverride();
  registerLinearPower(program);
  registerHmf(program);
  const out = join(dir, 'h.csv');
  const cosmo = join(dir, 'c.json');
  writeFileSync(cosmo, JSON.stringify({ Omega_m: 0.3, Omega_b: 0.05, h: 0.7, n_s: 0.96, sigma8: 0.8 }));
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    await program.parseAsync(['hmf', '--cosmo', cosmo, '--z', '0.5', '--model', 'ps', '--n', '7', '--delta-c', '1.686', '--out', out], { from: 'user' });
  } finally {
    process.stdout.write = write;
  }
  assert.equal(readCsv(out).rows.length, 7);
});

test('hmf / linear-power with a P(k) table: a warning naming the k range past it; exclusive options refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-cli-'));
  const full = new LinearPower(CAMELS_CV, { transfer: 'eh-nowiggle' });
  const table = join(dir, 'camb.txt');
  let text = '# k [h/Mpc]  P [(Mpc/h)^3]\n';
  for (let i = 0; i <= 50; i++) text += `${(10 ** (-4 + i / 10)).toExponential(6)} ${full.P0(10 ** (-4 + i / 10)).toExponential(6)}\n`;
  writeFileSync(table, text);
  const low = runHmf({ z: 0, model: 'st', mmin: 1e6, mmax: 1e12, n: 13, out: join(dir, 'h.csv'), pkTable: table });
  assert.match(low.warning ?? '', /sigma\(M\) uses the P\(k\) table .*camb\.txt up to k = \d+ h\/Mpc, past its k_max = 10\.0 h\/Mpc \(continued as P ∝ k\^/);
  // the continued spectrum's sigma(1e6 Msun/h) is within 0.3% of the full one (test/cosmo/power-table.test.ts)
  const row = readCsv(join(dir, 'h.csv')).rows[0]!;
  const sFull = new SigmaM(full).sigma(1e6);
  assert.ok(Math.abs(row[2]! / sFull - 1) < 3e-3, `${row[2]} vs ${sFull}`);
  const high = runHmf({ z: 0, model: 'st', mmin: 1e11, mmax: 1e15, n: 5, out: join(dir, 'h2.csv'), pkTable: table });
  assert.equal(high.warning, undefined);
  assert.match(runLinearPower({ z: 0, kmin: 1, kmax: 100, n: 3, out: join(dir, 'l.csv'), pkTable: table }).warning ?? '', /up to k = 100 h\/Mpc/);
  assert.equal(runLinearPower({ z: 0, kmin: 1e-3, kmax: 10, n: 3, out: join(dir, 'l2.csv'), pkTable: table }).warning, undefined);
  assert.throws(() => runHmf({ z: 0, model: 'st', mmin: 1e8, mmax: 1e15, n: 5, out: join(dir, 'h3.csv'), pkTable: table, transfer: 'bbks' }), /--transfer bbks and --pk-table .* exclude each other/);
  assert.throws(() => runLinearPower({ z: 0, kmin: 1e-3, kmax: 10, n: 3, out: join(dir, 'l3.csv'), pkRenormalize: true }), /--pk-renormalize rescales a --pk-table spectrum/);
});
