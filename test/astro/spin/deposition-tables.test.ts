import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  X_INT_NENERGY,
  X_INT_NXHII,
  X_INT_XHII,
  clampXHII,
  depositionTables,
  interpDeposition,
  interpFheat,
  locateEnergyIndex,
  locateXHIIIndex,
  type DepositionQuantity,
} from '../../../src/astro/spin/deposition.js';

const QUANTITIES: DepositionQuantity[] = ['fHeat', 'nLya', 'nIonHI', 'nIonHeI', 'nIonHeII'];

test('tables: 14 ionised fractions × 258 energies from 10 eV to 9.94 keV, ascending', () => {
  const t = depositionTables();
  assert.equal(t.energy.length, X_INT_NENERGY);
  assert.equal(t.energy[0], 10);
  assert.equal(t.energy[X_INT_NENERGY - 1], 9937.21);
  for (let k = 1; k < X_INT_NENERGY; k++) assert.ok(t.energy[k]! > t.energy[k - 1]!, `energy ${k}`);
  assert.equal(X_INT_XHII.length, X_INT_NXHII);
  assert.deepEqual([X_INT_XHII[0], X_INT_XHII[9], X_INT_XHII[13]], [1e-4, 0.1, 0.999]);
});

test('energy conservation: f_heat + f_ion + f_exc ≤ 1 at every node, within the tables\' 6-digit rounding', () => {
  const t = depositionTables();
  for (let i = 0; i < X_INT_NXHII * X_INT_NENERGY; i++) {
    const s = t.values.fHeat[i]! + t.values.fIon[i]! + t.values.fExc[i]!;
    // each entry is printed to 6 significant digits: three roundings of ≤ 5e-6 plus f_heat = 1.00001 rows
    assert.ok(s <= 1 + 5e-5, `node ${i}: sum ${s}`);
    assert.ok(s >= 0.99, `node ${i}: sum ${s} (the fractions should account for the energy)`);
  }
});

test('f_heat → 1 as x_e → 1 (Coulomb losses to free electrons dominate) and rises with x_e at every energy', () => {
  for (const E of [50, 300, 1000, 5000, 9000]) {
    assert.ok(interpFheat(E, 0.999) > 0.996, `E ${E}: f_heat(0.999) = ${interpFheat(E, 0.999)}`);
    assert.ok(interpFheat(E, 1e-4) < 0.2, `E ${E}: f_heat(1e-4) = ${interpFheat(E, 1e-4)} (mostly ionisation and excitation when neutral)`);
    let prev = -1;
    for (const x of X_INT_XHII.slice(0, 13)) {
      const f = interpFheat(E, x * 1.0001);
      assert.ok(f > prev, `E ${E}: f_heat not increasing at x ${x}`);
      prev = f;
    }
  }
});

test('nodes are reproduced exactly: bracketing search at every interior node; the code search below 1008.88 eV', () => {
  const t = depositionTables();
  // x nodes 1..12 are inside the clamp range [1.001e-4, 0.998]
  for (let m = 1; m < X_INT_NXHII - 1; m++) {
    for (let k = 0; k < X_INT_NENERGY - 1; k++) {
      for (const q of QUANTITIES) {
        const v = t.values[q][m * X_INT_NENERGY + k]!;
        const b = interpDeposition(q, t.energy[k]!, X_INT_XHII[m]!, 'bracketing');
        assert.ok(Math.abs(b - v) <= 1e-12 * Math.max(1, Math.abs(v)), `${q} m ${m} k ${k}: ${b} vs ${v}`);
        if (t.energy[k]! < 1008.88) {
          // the code's analytic index may land one node low at a rounded node energy: fraction 1, same value
          const c = interpDeposition(q, t.energy[k]!, X_INT_XHII[m]!, 'code');
          assert.ok(Math.abs(c - v) <= 1e-9 * Math.max(1, Math.abs(v)), `${q} code m ${m} k ${k}: ${c} vs ${v}`);
        }
      }
    }
  }
});

test("the code's energy index is one node low from 1008.88 eV on (documented quirk), and is exact below", () => {
  const t = depositionTables();
  assert.equal(locateEnergyIndex(10), 0);
  assert.equal(locateEnergyIndex(t.energy[100]! * 1.001), 100);
  // 1008.88 eV is node 233 of the tables, the code's formula gives 232 there
  assert.equal(t.energy[233], 1008.88);
  assert.equal(locateEnergyIndex(1008.88 * 1.001), 232);
  // f_heat differs by extrapolation only: ≤ 1% relative at the nodes above 1 keV (measured 0.97%)
  for (let k = 233; k < X_INT_NENERGY - 1; k++) {
    const v = t.values.fHeat[5 * X_INT_NENERGY + k]!;
    const c = interpFheat(t.energy[k]!, X_INT_XHII[5]!, 'code');
    assert.ok(Math.abs(c - v) < 0.01 * v, `k ${k}: ${c} vs ${v}`);
  }
});

test('clamping as the code: energies above 0.999 E_max use 0.999 E_max, below 10 eV f_heat = 1 and counts 0; x_e clamped', () => {
  const t = depositionTables();
  const eTop = 0.999 * t.energy[X_INT_NENERGY - 1]!;
  assert.equal(interpFheat(2e4, 0.3), interpFheat(eTop, 0.3));
  assert.equal(interpFheat(5, 0.3), 1);
  assert.equal(interpDeposition('nLya', 5, 0.3), 0);
  assert.equal(clampXHII(0), 1.001e-4);
  assert.equal(clampXHII(1), 0.999 * 0.999);
  assert.equal(interpFheat(500, 0), interpFheat(500, 1.001e-4));
  assert.equal(locateXHIIIndex(0.5), 10);
  assert.equal(locateXHIIIndex(0.4999), 9);
  // linear in x_e between nodes: midpoint = mean of the two node values (at a node energy)
  const k = 150;
  const mid = interpDeposition('nIonHI', t.energy[k]!, 0.3, 'bracketing');
  const lo = t.values.nIonHI[9 * X_INT_NENERGY + k]!;
  const hi = t.values.nIonHI[10 * X_INT_NENERGY + k]!;
  assert.ok(Math.abs(mid - (lo + (hi - lo) * ((0.3 - 0.1) / 0.4))) < 1e-12);
});

test('bad input: one-line error naming the argument', () => {
  assert.throws(() => interpDeposition('fHeat', NaN, 0.1), /interpDeposition: En = NaN eV/);
  assert.throws(() => interpDeposition('fHeat', 100, Infinity), /interpDeposition: xHII = Infinity/);
});
