import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dndlog10M } from '../../src/cosmo/massfunction.js';
import { CAMELS_CV, makeCosmology } from '../../src/cosmo/params.js';
import { LinearPower, PowerSpectrumTable, REACH_FACTOR, type HighKContinuation } from '../../src/cosmo/power.js';
import { SigmaM } from '../../src/cosmo/sigma.js';

// An analytic spectrum (EH98 no-wiggle) tabulated like CAMB/CLASS output, 10 rows per dex from k = 1e-4
// to 10 h/Mpc, against the same spectrum evaluated without a table.
const full = new LinearPower(CAMELS_CV, { transfer: 'eh-nowiggle' });
const sigFull = new SigmaM(full);
const ks: number[] = [];
const Ps: number[] = [];
for (let i = 0; i <= 50; i++) {
  const k = 10 ** (-4 + i / 10);
  ks.push(k);
  Ps.push(full.P0(k));
}
const tabled = (highK?: HighKContinuation, k = ks, P = Ps): LinearPower =>
  new LinearPower(CAMELS_CV, { table: PowerSpectrumTable.fromArrays(k, P, 'pk.txt', highK ? { highK } : {}) });

function errors(highK: HighKContinuation): { s4: number; s6: number; n8: number; n4: number } {
  const s = new SigmaM(tabled(highK));
  const rel = (a: number, b: number): number => a / b - 1;
  return {
    s4: rel(s.sigma(1e4), sigFull.sigma(1e4)),
    s6: rel(s.sigma(1e6), sigFull.sigma(1e6)),
    n8: rel(dndlog10M(s, 1e8, 0), dndlog10M(sigFull, 1e8, 0)),
    n4: rel(dndlog10M(s, 1e4, 0), dndlog10M(sigFull, 1e4, 0)),
  };
}

test('P(k) table to k = 10 h/Mpc: sigma(M) and n(M) at small M with each high-k continuation', () => {
  // The power law through the last two rows (the former behaviour): sigma 11.7% high at 1e4 Msun/h,
  // 4.2% at 1e6, n(M) 4.5% high at 1e8 (measured).
  const pl = errors('power-law');
  assert.ok(pl.s4 > 0.1 && pl.s6 > 0.035 && pl.n8 > 0.04, JSON.stringify(pl));
  // CCL's constant-curvature Taylor expansion bends too fast: sigma -3.2% at 1e4, n(M) -13% at 1e4.
  const q = errors('quadratic');
  assert.ok(q.s4 < -0.025 && q.n4 < -0.1, JSON.stringify(q));
  // The default (CDM-shaped) one: measured +0.40% / +0.13% / +0.20% / +1.1%. Bounds leave ~50% headroom.
  const cdm = errors('cdm');
  assert.ok(Math.abs(cdm.s4) < 0.006, `sigma(1e4): ${cdm.s4}`);
  assert.ok(Math.abs(cdm.s6) < 0.002, `sigma(1e6): ${cdm.s6}`);
  assert.ok(Math.abs(cdm.n8) < 0.003, `n(1e8): ${cdm.n8}`);
  assert.ok(Math.abs(cdm.n4) < 0.017, `n(1e4): ${cdm.n4}`);
});

test('the CDM continuation is exact for P = A k^b ln^2(k/k_s) and agrees with the quadratic one to second order', () => {
  const A = 3e4, b = -3.1, ksh = 0.05;
  const P = (k: number): number => A * k ** b * Math.log(k / ksh) ** 2;
  const k: number[] = [];
  for (let i = 0; i <= 30; i++) k.push(10 ** (-1 + i / 15)); // 0.1 .. 10 h/Mpc
  const t = PowerSpectrumTable.fromArrays(k, k.map(P), 'model');
  for (const kk of [12, 100, 1e4]) assert.ok(Math.abs(t.at(kk) / P(kk) - 1) < 1e-6, `k=${kk}: ${t.at(kk) / P(kk)}`);
  // Taylor agreement: for d = ln(k/k_max) the two differ by O(d^3)
  const tq = PowerSpectrumTable.fromArrays(k, k.map(P), 'model', { highK: 'quadratic' });
  const diff = (d: number): number => Math.abs(Math.log(t.at(10 * Math.exp(d)) / tq.at(10 * Math.exp(d))));
  assert.ok(diff(0.01) < 1e-6 && diff(0.02) / diff(0.01) > 7 && diff(0.02) / diff(0.01) < 9, `${diff(0.01)}, ${diff(0.02)}`);
  // A tail without curvature (an exact power law) or with positive curvature is continued as a power law.
  const pl = PowerSpectrumTable.fromArrays(k, k.map((x) => 5 * x ** -2.5), 'pl');
  assert.ok(Math.abs(pl.at(1e3) / (5 * 1e3 ** -2.5) - 1) < 1e-9);
  const convex = PowerSpectrumTable.fromArrays(k, k.map((x) => x ** -2 * Math.exp(0.1 * Math.log(x) ** 2)), 'convex');
  const slope = Math.log(convex.at(20) / convex.at(10)) / Math.log(2);
  assert.ok(Math.abs(Math.log(convex.at(200) / convex.at(20)) / Math.log(10) - slope) < 1e-9);
  assert.match(convex.describeHighK(), /power law/);
  assert.throws(() => PowerSpectrumTable.fromArrays(k, k.map(P), 'x.txt', { highK: 'spline' as HighKContinuation }), /x\.txt: highK must be one of/);
});

test('a result that reaches past the table is reported with its k range; one inside it is not', () => {
  const lp = tabled();
  const s = new SigmaM(lp); // building the sigma(M) table records nothing
  assert.equal(lp.extrapolationWarning(), undefined);
  s.sigma(1e11);
  s.dlnSigmadlnM(2e10);
  assert.equal(lp.extrapolationWarning(), undefined, 'M >= 2e10 Msun/h stays within 1.25 k_max');
  s.sigma(1e6);
  const w = lp.extrapolationWarning();
  assert.ok(w, 'sigma(1e6 Msun/h) reaches past k = 10 h/Mpc');
  assert.match(w, /sigma\(M\) uses the P\(k\) table pk\.txt up to k = (\d+) h\/Mpc, past its k_max = 10\.0 h\/Mpc/);
  const kHi = Number(/up to k = ([\d.]+) h\/Mpc/.exec(w)![1]);
  // 99% of sigma^2(R = 0.031 Mpc/h) comes from k < ~200 h/Mpc (an independent sum over the full spectrum)
  const R = s.radius(1e6);
  let tot = 0;
  let below = 0;
  for (let lk = Math.log(1e-5); lk < Math.log(400 / R); lk += 1e-3) {
    const k = Math.exp(lk);
    const x = k * R;
    const W = (3 * (Math.sin(x) - x * Math.cos(x))) / x ** 3;
    const y = k ** 3 * full.P0(k) * W * W;
    tot += y;
    if (k <= kHi) below += y;
  }
  assert.ok(Math.abs(below / tot - 0.99) < 0.002, `fraction below ${kHi}: ${below / tot}`);
  // point values past the table (linear-power) and the sigma8 normalisation count too
  const lp2 = tabled();
  lp2.P0(10 * REACH_FACTOR * 0.99);
  assert.equal(lp2.extrapolationWarning(), undefined);
  lp2.P0(100);
  assert.match(lp2.extrapolationWarning() ?? '', /^P\(k\) uses .* up to k = 100 h\/Mpc/);
  const short = ks.filter((k) => k <= 0.3); // 99% of sigma8^2 comes from k < 0.51 h/Mpc
  const renorm = new LinearPower(CAMELS_CV, { table: PowerSpectrumTable.fromArrays(short, Ps.slice(0, short.length), 'short.txt'), renormalize: true });
  assert.match(renorm.extrapolationWarning() ?? '', /the sigma8 normalisation uses the P\(k\) table short\.txt up to k = .* past its k_max = 0\.251/);
  // below the first row: sigma(M) of very large masses with a table starting at k = 0.1
  const lateStart = ks.filter((k) => k >= 0.1);
  const lp3 = tabled('cdm', lateStart, Ps.slice(ks.length - lateStart.length));
  new SigmaM(lp3).sigma(1e16);
  assert.match(lp3.extrapolationWarning() ?? '', /down to k = .* below its k_min = 0\.100 h\/Mpc/);
  // spectra from a transfer function never warn
  const eh = new LinearPower(makeCosmology({ Omega_m: 0.3, Omega_b: 0.05, h: 0.7, n_s: 0.96, sigma8: 0.8 }));
  new SigmaM(eh).sigma(1);
  eh.P0(1e5);
  assert.equal(eh.extrapolationWarning(), undefined);
});
