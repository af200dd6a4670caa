import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comovingDistance, hubble } from '../../../src/cosmo/background.js';
import { CAMELS_CV } from '../../../src/cosmo/params.js';
import { FourierGrid } from '../../../src/astro/reion/filters.js';
import { L_FACTOR, redshiftAtDistance, shellWindow, spinShells } from '../../../src/astro/spin/shells.js';

const c = CAMELS_CV;

/**
 * Mean of cos(k·x) over the points of a spherical shell R_i < |x| < R_o, by direct quadrature in
 * r (Simpson, 4000 intervals, weight r^2) and μ = cos θ (Gauss–Legendre, 64 nodes): the real-space
 * shell average of a plane wave, computed without the closed form of Eq. 22.
 */
function shellAverageOfPlaneWave(k: number, ri: number, ro: number): number {
  // 64-node Gauss–Legendre on [-1, 1] by Newton iteration on P_64.
  const m = 64;
  const nodes: number[] = [];
  const weights: number[] = [];
  for (let i = 1; i <= m; i++) {
    let x = Math.cos((Math.PI * (i - 0.25)) / (m + 0.5));
    let dp = 0;
    for (let it = 0; it < 100; it++) {
      let p0 = 1;
      let p1 = x;
      for (let j = 2; j <= m; j++) {
        const p2 = ((2 * j - 1) * x * p1 - (j - 1) * p0) / j;
        p0 = p1;
        p1 = p2;
      }
      dp = (m * (x * p1 - p0)) / (x * x - 1);
      const dx = p1 / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    nodes.push(x);
    weights.push(2 / ((1 - x * x) * dp * dp));
  }
  const nr = 4000;
  const dr = (ro - ri) / nr;
  let s = 0;
  for (let i = 0; i <= nr; i++) {
    const r = ri + i * dr;
    const w = i === 0 || i === nr ? 1 : i % 2 ? 4 : 2;
    let ang = 0;
    for (let j = 0; j < m; j++) ang += weights[j]! * Math.cos(k * r * nodes[j]!);
    s += w * r * r * (ang / 2); // angular mean over the sphere
  }
  const integral = (s * dr) / 3;
  return integral / ((ro ** 3 - ri ** 3) / 3);
}

test('Eq. 22 shell window equals the real-space shell average of a plane wave (Eq. 21) to 1e-9', () => {
  for (const [ri, ro] of [
    [0, 3],
    [2, 2.5],
    [10, 14],
    [40, 55],
  ] as const) {
    for (const k of [0.01, 0.3, 1.1, 4.7]) {
      // 64 Gauss–Legendre nodes integrate cos(k r μ) exactly enough for k R_o ≤ 60 (error < 1e-12).
      if (k * ro > 60) continue;
      const want = shellAverageOfPlaneWave(k, ri, ro);
      // Simpson with 4000 intervals on an integrand with kΔR ≤ 70 cycles: error ≪ 1e-9.
      assert.ok(Math.abs(shellWindow(k, ri, ro) - want) < 1e-9, `k=${k} R=[${ri},${ro}]: ${shellWindow(k, ri, ro)} vs ${want}`);
    }
  }
});

test('shell window integrates to one (W(k → 0) = 1) and its small-kR expansion joins the closed form', () => {
  assert.equal(shellWindow(0, 1, 2), 1);
  for (const [ri, ro] of [
    [0, 1],
    [1, 2],
    [9, 10],
  ] as const) {
    const k = 0.99e-4 / ro;
    const k2 = 1.01e-4 / ro;
    // Both sides of the switch at kR_o = 1e-4 agree to the truncation error O((kR)^4) ~ 1e-16 plus
    // the cancellation of the closed form (~1e-16 / (kR)^3 ~ 1e-4 relative at worst; we ask 1e-6 as
    // the code's float boxes would not see less).
    assert.ok(Math.abs(shellWindow(k, ri, ro) - shellWindow(k2, ri, ro)) < 1e-6);
    assert.ok(Math.abs(shellWindow(k, ri, ro) - 1) < 1e-8);
  }
});

test('filtering a grid with the shell window keeps the total (normalised window) and scales a Fourier mode by W(k)', () => {
  const n = 16;
  const L = 40;
  const fg = new FourierGrid(n, L);
  const [ri, ro] = [5, 9];
  const w = fg.window((k) => shellWindow(k, ri, ro));
  // A point source: the filtered field sums to the source (photon conservation).
  const point = new Float64Array(n ** 3);
  point[3 * n * n + 5 * n + 7] = 1;
  const pk = fg.forward(point);
  const out = fg.apply(pk, w);
  pk.dispose();
  const total = out.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(total - 1) < 1e-12, `sum ${total}`);
  // A single mode cos(2π·2x/L): comes back times W(2·2π/L) exactly.
  const mode = new Float64Array(n ** 3);
  for (let x = 0; x < n; x++) for (let y = 0; y < n; y++) for (let z = 0; z < n; z++) mode[(x * n + y) * n + z] = Math.cos((2 * Math.PI * 2 * x) / n);
  const mk = fg.forward(mode);
  const m2 = fg.apply(mk, w);
  mk.dispose();
  const wk = shellWindow((2 * Math.PI * 2) / L, ri, ro);
  for (let i = 0; i < mode.length; i += 37) assert.ok(Math.abs(m2[i]! - wk * mode[i]!) < 1e-12);
});

test('spinShells: each outer edge lies R_j of comoving distance beyond z′, radii grow geometrically towards R_MAX_TS', () => {
  const z = 12;
  const s = spinShells(c, z, 50, 32);
  assert.equal(s.count, 40);
  const rMin = (L_FACTOR * 50) / 32;
  const rMax = 500 * c.h;
  const d0 = comovingDistance(c, z);
  for (let j = 0; j < s.count; j++) {
    assert.ok(Math.abs(s.rOuter[j]! - rMin * (rMax / rMin) ** (j / 40)) < 1e-9 * s.rOuter[j]!);
    assert.equal(s.rInner[j], j === 0 ? 0 : s.rOuter[j - 1]);
    assert.ok(Math.abs(comovingDistance(c, s.zEdge[j]!) - d0 - s.rOuter[j]!) < 1e-6, `shell ${j}`);
    const lo = j === 0 ? z : s.zEdge[j - 1]!;
    assert.ok(Math.abs(s.zCentre[j]! - 0.5 * (lo + s.zEdge[j]!)) < 1e-12);
    assert.ok(s.dz[j]! > 0);
    // |dt/dz| = 1/((1+z)H), H in 1/s from km/s/Mpc.
    const want = 3.085677581491367e19 / ((1 + s.zCentre[j]!) * hubble(c, s.zCentre[j]!));
    assert.ok(Math.abs(s.dtdz[j]! / want - 1) < 1e-12);
  }
  assert.ok(Math.abs(redshiftAtDistance(c, comovingDistance(c, 7.3)) - 7.3) < 1e-9);
  assert.throws(() => spinShells(c, -1, 50, 32), /z must be/);
  assert.throws(() => spinShells(c, 10, 50, 32, { rMaxMpc: 0.1 }), /R_MAX_TS/);
});
