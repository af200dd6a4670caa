import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { growthFactor } from '../../src/cosmo/background.js';
import { makeCosmology } from '../../src/cosmo/params.js';
import { LinearPower, PowerSpectrumTable } from '../../src/cosmo/power.js';
import { makeTransfer } from '../../src/cosmo/transfer.js';
import { readTable } from './reference.js';

const base = { Omega_m: 0.3, Omega_b: 0.05, h: 0.7, n_s: 0.96, sigma8: 0.8 };
const model1EH = makeCosmology({ ...base, T_cmb: 2.725 });
const model1BBKS = makeCosmology({ ...base, T_cmb: 2.7 });

function maxRelDev(lp: LinearPower, rows: number[][], columns: number): number {
  let worst = 0;
  for (const r of rows) {
    for (let j = 1; j <= columns; j++) worst = Math.max(worst, Math.abs(lp.P(r[0]!, j - 1) / r[j]! - 1));
  }
  return worst;
}

test('EH98 with wiggles matches model1_pk_eh.txt (CCL benchmark)', () => {
  const lp = new LinearPower(model1EH, { transfer: 'eh' });
  const dev = maxRelDev(lp, readTable('model1_pk_eh.txt'), 1);
  assert.ok(dev < 2e-5, `max deviation ${dev}`); // measured 8.8e-6, the table's rounding level
});

test('EH98 no-wiggle matches model1_nowig_pk_eh.txt at z = 0..5', () => {
  const lp = new LinearPower(model1EH, { transfer: 'eh-nowiggle' });
  const rows = readTable('model1_nowig_pk_eh.txt');
  assert.ok(maxRelDev(lp, rows, 1) < 1e-5);
  assert.ok(maxRelDev(lp, rows, 6) < 1e-4); // z > 0 columns through D(z)^2
});

test('BBKS matches model1_pk.txt at z = 0..5 (CCL tolerance 1e-5)', () => {
  const lp = new LinearPower(model1BBKS, { transfer: 'bbks' });
  const dev = maxRelDev(lp, readTable('model1_pk.txt'), 6);
  assert.ok(dev < 1e-5, `max deviation ${dev}`);
});

test('transfer functions tend to 1 at small k and sigma8 is honoured', () => {
  for (const m of ['eh', 'eh-nowiggle', 'bbks'] as const) {
    const T = makeTransfer(model1EH, m);
    assert.ok(Math.abs(T(1e-6) - 1) < 1e-4, `${m}: ${T(1e-6)}`);
    assert.ok(T(10) < 0.01);
    const lp = new LinearPower(model1EH, { transfer: m });
    assert.ok(Math.abs(lp.sigmaR(8) / 0.8 - 1) < 1e-10);
    const D = growthFactor(model1EH, 2);
    assert.ok(Math.abs(lp.sigmaR(8, 2) / (0.8 * D) - 1) < 1e-10);
    assert.ok(Math.abs(lp.P(0.1, 2) / (lp.P0(0.1) * D * D) - 1) < 1e-14);
  }
});

test('PowerSpectrumTable: parsing, log-log interpolation, extrapolation, amplitude choice', () => {
  const ref = new LinearPower(model1EH, { transfer: 'eh-nowiggle' });
  const ks: number[] = [];
  for (let lk = -4; lk <= 2.0001; lk += 0.02) ks.push(Math.pow(10, lk));
  const dir = mkdtempSync(join(tmpdir(), 'lodi-pk-'));
  const file = join(dir, 'pk.txt');
  writeFileSync(file, '# k [h/Mpc]  P [(Mpc/h)^3]\n' + ks.map((k) => `${k} ${ref.P0(k)}  # row\n`).join(''));
  const table = PowerSpectrumTable.load(file);
  assert.equal(table.lnk.length, ks.length);
  for (const k of [1e-3, 0.0123, 0.2, 3.3]) assert.ok(Math.abs(table.at(k) / ref.P0(k) - 1) < 5e-4);
  // Power-law extrapolation beyond the ends.
  const lo = table.at(1e-5);
  const slope = Math.log(table.at(ks[1]!) / table.at(ks[0]!)) / Math.log(ks[1]! / ks[0]!);
  assert.ok(Math.abs(lo / (table.at(ks[0]!) * Math.pow(1e-5 / ks[0]!, slope)) - 1) < 1e-12);
  // Default keeps the table amplitude; sigma8 then agrees with the source spectrum to the table accuracy.
  const kept = new LinearPower(model1EH, { table });
  assert.equal(kept.amplitude, 1);
  assert.ok(Math.abs(kept.sigmaR(8) / 0.8 - 1) < 2e-3);
  // Renormalised to another sigma8.
  const other = makeCosmology({ ...base, sigma8: 0.9, T_cmb: 2.725 });
  const renorm = new LinearPower(other, { table, renormalize: true });
  assert.ok(Math.abs(renorm.sigmaR(8) / 0.9 - 1) < 1e-10);
  assert.ok(Math.abs(renorm.P(0.1, 1) / (table.at(0.1) * renorm.amplitude * growthFactor(other, 1) ** 2) - 1) < 1e-12);
});

test('PowerSpectrumTable rejects bad input with the source in the message', () => {
  assert.throws(() => PowerSpectrumTable.parse('1 2\n0.5 3\n', 'x.txt'), /x.txt: row 2: expected k to increase strictly, got k = 0.5 after 1/);
  assert.throws(() => PowerSpectrumTable.parse('1 2\nfoo bar\n', 'x.txt'), /x.txt: line 2/);
  assert.throws(() => PowerSpectrumTable.parse('1 -2\n2 3\n', 'x.txt'), /positive/);
  assert.throws(() => PowerSpectrumTable.parse('# only a comment\n', 'x.txt'), /at least 2 rows/);
});
