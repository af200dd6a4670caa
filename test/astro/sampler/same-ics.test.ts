import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV } from '../../../src/cosmo/params.js';
import { LinearPower } from '../../../src/cosmo/power.js';
import { crossPowerSpectrum, paint } from '../../../src/field/index.js';
import { initialConditions } from '../../../src/nbody/ic.js';
import { runPM } from '../../../src/nbody/pm.js';
import { findHalos } from '../../../src/nbody/fof.js';
import { sampleHaloField } from '../../../src/astro/sampler/halo-field.js';

/** Number overdensity of points on a mesh^3 CIC grid. */
function overdensity(pos: Float32Array | Float64Array, mesh: number, L: number): Float32Array {
  const g = paint(pos, { grid: mesh, boxSize: L, mas: 'CIC' });
  const m = g.reduce((a, b) => a + b, 0) / g.length;
  return g.map((v) => v / m - 1);
}

test('sampled halos trace the FoF halos of an N-body run from the same seed (and not of another seed)', () => {
  // A 64^3-particle, 25 Mpc/h run to z = 4 (the `lodi simulate` recipe: 2LPT at z = 49, 20 PM steps, FoF b = 0.2)
  // and the sampler with its fine grid on the particle lattice: one linear field, so the two halo sets must be
  // the same structures on large scales. Measured: 127 FoF halos; in the first k bin (0.25-0.5 h/Mpc, 7 modes)
  // r = 0.88 against 0.004 for the sampler on another seed (other ICs); bias ratio 1.03.
  const L = 25;
  const n = 64;
  const z = 4;
  const power = new LinearPower(CAMELS_CV);
  const state = initialConditions({ boxSize: L, n, zInit: 49, seed: 7, cosmo: CAMELS_CV, power, order: 2 });
  runPM(state, { cosmo: CAMELS_CV, steps: 20, outputs: [z], pmFactor: 2 });
  const fof = findHalos(state.positions, L, { particleMass: state.particleMass });
  const mTh = 20 * state.particleMass;
  const sample = (seed: number) => {
    const c = sampleHaloField({ cosmology: CAMELS_CV, boxSize: L, grid: 16, zLowest: z, zMax: z, minMass: mTh, seed, hiresFactor: 4, power }).catalogues[0]!;
    return c.pos;
  };
  const mesh = 16;
  const opts = { boxSize: L, mas: 'CIC' as const };
  const dF = overdensity(fof.positions, mesh, L);
  const dM = overdensity(state.positions, mesh, L);
  const same = overdensity(sample(7), mesh, L);
  const other = overdensity(sample(1007), mesh, L);
  const rSame = crossPowerSpectrum(same, dF, mesh, opts).r[0]!;
  const rOther = crossPowerSpectrum(other, dF, mesh, opts).r[0]!;
  assert.ok(fof.masses.length > 80, `FoF halos ${fof.masses.length}`);
  assert.ok(rSame > 0.7, `r(sampled, FoF) in the first bin ${rSame}`);
  assert.ok(Math.abs(rOther) < 0.4, `r(other seed, FoF) ${rOther}`);
  // Large-scale bias against the N-body matter: within 30% of the FoF halos' (Gaussian error ~10% per set here).
  const bias = (d: Float32Array) => {
    const x = crossPowerSpectrum(d, dM, mesh, opts);
    return x.p12[0]! / x.p22[0]!;
  };
  const ratio = bias(same) / bias(dF);
  assert.ok(ratio > 0.7 && ratio < 1.3, `bias ratio ${ratio}`);
});
