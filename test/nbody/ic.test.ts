import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV, LinearPower, growthFactor } from '../../src/cosmo/index.js';
import { paint, powerSpectrum } from '../../src/field/index.js';
import { gaussianField, initialConditions, particleMass } from '../../src/nbody/ic.js';

const lp = new LinearPower(CAMELS_CV);

test('Gaussian field P(k) matches the input P(k) within cosmic variance on all bins', () => {
  const n = 32;
  const L = 200;
  const d = gaussianField({ n, boxSize: L, seed: 3, power: lp });
  const pk = powerSpectrum(d, n, { boxSize: L });
  let chi2 = 0;
  let bins = 0;
  for (let i = 0; i < pk.k.length; i++) {
    if (pk.k[i]! > (Math.PI * n) / L) continue; // up to the 1D Nyquist frequency
    const sigma = Math.sqrt(1 / pk.nmodes[i]!);
    const r = pk.pk[i]! / lp.P0(pk.k[i]!);
    assert.ok(Math.abs(r - 1) < 4 * sigma + 0.01, `bin ${i}: k=${pk.k[i]} ratio ${r} (σ ${sigma})`);
    chi2 += ((r - 1) / sigma) ** 2;
    bins++;
  }
  assert.ok(chi2 / bins < 2.5, `reduced chi2 ${chi2 / bins}`);
});

test('fixed amplitude gives |δ_k|² = P(k) exactly; paired phases flip the field', () => {
  const n = 16;
  const L = 100;
  const a = gaussianField({ n, boxSize: L, seed: 5, power: lp, fixedAmplitude: true });
  const b = gaussianField({ n, boxSize: L, seed: 5, power: lp, fixedAmplitude: true, pairedPhase: true });
  const pk = powerSpectrum(a, n, { boxSize: L });
  for (let i = 0; i < pk.k.length; i++) {
    if (pk.k[i]! > (Math.PI * n) / L) continue;
    // bin-mean P(k) vs P(bin-mean k): P varies within a bin, allow a few per cent
    assert.ok(Math.abs(pk.pk[i]! / lp.P0(pk.k[i]!) - 1) < 0.06, `bin ${i} ratio ${pk.pk[i]! / lp.P0(pk.k[i]!)}`);
  }
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! + b[i]!) < 1e-5);
});

test('same seed gives identical fields; different seeds differ', () => {
  const o = { n: 16, boxSize: 50, power: lp };
  const a = gaussianField({ ...o, seed: 1 });
  const b = gaussianField({ ...o, seed: 1 });
  const c = gaussianField({ ...o, seed: 2 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('2LPT particles: density P(k) at z_init matches D(z_init)^2 P_lin on large scales; mass and momentum', () => {
  const n = 32;
  const L = 500;
  const zInit = 20;
  const s = initialConditions({ n, boxSize: L, seed: 11, zInit, power: lp });
  assert.equal(s.positions.length, 3 * n ** 3);
  for (const v of s.positions) assert.ok(v >= 0 && v < L);
  assert.ok(Math.abs(s.particleMass / particleMass(CAMELS_CV, L, n) - 1) < 1e-12);
  const rho = paint(s.positions, { grid: n, boxSize: L, mas: 'CIC' });
  const m = n ** 3 / rho.length;
  for (let i = 0; i < rho.length; i++) rho[i] = rho[i]! / m - 1;
  const pk = powerSpectrum(rho, n, { boxSize: L, mas: 'CIC' });
  // the same modes from the linear field: the ratio cancels cosmic variance
  const lin = gaussianField({ n, boxSize: L, seed: 11, power: lp });
  const pl = powerSpectrum(lin, n, { boxSize: L });
  const D = growthFactor(CAMELS_CV, zInit);
  // bins below k_Ny/4 (closer to the Nyquist frequency the lattice CIC aliasing is visible)
  for (let i = 0; pk.k[i]! < (0.25 * Math.PI * n) / L; i++) {
    const r = pk.pk[i]! / (pl.pk[i]! * D * D);
    assert.ok(Math.abs(r - 1) < 0.02, `bin ${i} k=${pk.k[i]}: particle/linear ${r}`);
  }
  // zero-mean displacements ⇒ zero total momentum (to float32 round-off of the fields)
  let px = 0;
  let pabs = 0;
  for (let i = 0; i < s.momenta.length; i += 3) {
    px += s.momenta[i]!;
    pabs += Math.abs(s.momenta[i]!);
  }
  assert.ok(Math.abs(px) < 1e-4 * pabs, `total momentum ${px} vs ${pabs}`);
});
