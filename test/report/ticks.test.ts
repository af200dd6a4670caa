import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatNumber,
  linearTicks,
  logTickLabels,
  logTicks,
  prettyUnits,
} from "../../src/report/ticks.js";

test("prettyUnits writes exponents as superscripts", () => {
  assert.equal(prettyUnits("P(k) [(Mpc/h)^3]"), "P(k) [(Mpc/h)³]");
  assert.equal(prettyUnits("n [(Mpc/h)^-3]"), "n [(Mpc/h)⁻³]");
  assert.equal(prettyUnits("k [h/Mpc]"), "k [h/Mpc]");
});

test("linear and log ticks", () => {
  assert.deepEqual(linearTicks(0, 25, 4), [0, 5, 10, 15, 20, 25]);
  assert.deepEqual(linearTicks(0.1, 0.9, 4), [0.2, 0.4, 0.6, 0.8]);
  assert.deepEqual(logTicks(0.01, 1000), [0.01, 0.1, 1, 10, 100, 1000]);
  assert.deepEqual(logTicks(0.02, 1.2), [0.02, 0.05, 0.1, 0.2, 0.5, 1]);
  assert.deepEqual(logTickLabels([1e-6, 1e-3, 1]), ["10⁻⁶", "10⁻³", "10⁰"]);
  assert.deepEqual(logTickLabels([0.1, 1, 10]), ["0.1", "1", "10"]);
  assert.equal(formatNumber(12.5), "12.5");
  assert.equal(formatNumber(2e10), "2×10¹⁰");
});
