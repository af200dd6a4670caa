/**
 * ChmfGridSources with 'lagrangian' cell densities: each cell's CHMF integrals on its linear density, moved to the
 * cell's Eulerian position by its 2LPT displacement (the code's `set_fixed_grids` + `move_grid_galprops`). Checked
 * on a plane wave, whose displacement is known in closed form: x = q − D (A/k) sin(k q) (Zel'dovich; the 2LPT term of
 * a one-dimensional wave vanishes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAMELS_CV } from '../../src/cosmo/params.js';
import { growthFactor } from '../../src/cosmo/background.js';
import { LinearPower } from '../../src/cosmo/power.js';
import { SigmaM } from '../../src/cosmo/sigma.js';
import { ASTRO_DEFAULTS } from '../../src/astro/params.js';
import { chmfSourceGrids } from '../../src/astro/reion/chmf-sources.js';
import { cellDensity, densityK } from '../../src/astro/sampler/linear-field.js';
import { defaultSamplerParams } from '../../src/astro/sampler/params.js';
import { paint } from '../../src/field/mas.js';
import { ChmfGridSources } from '../../src/pipeline/sources-models.js';
import { HMF_REFERENCE } from '../../src/pipeline/sources-figures.js';
import { dispose } from '@lodi/torch';

const cosmo = CAMELS_CV;
const L = 32;
const grid = 16;
const m = 32; // fine grid of the linear field
const A = 2; // z = 0 amplitude of the wave
const k = (2 * Math.PI) / L;
const Z = 8;
const sampler = defaultSamplerParams(cosmo.h);
const massRange = { min: 1e8, max: 5e9 };

/** δ_L(x) = A cos(k x) on the fine nodes i L/m, C order (x the slowest index). */
const linear = new Float32Array(m ** 3);
for (let i = 0; i < m; i++) linear.fill(A * Math.cos((k * i * L) / m), i * m * m, (i + 1) * m * m);

test("'lagrangian': each cell's integrals sit at its Zel'dovich position, totals kept", () => {
  const src = new ChmfGridSources({ cosmo, boxSize: L, grid, astro: ASTRO_DEFAULTS, sampler, densityKind: 'lagrangian', linear, massRange });
  const got = src.at(Z, new Float32Array(grid ** 3));
  // the same cell integrals, unmoved: the sampler's cell-filtered linear density times D(z)
  const dk = densityK(linear, m);
  let coarse: Float32Array;
  try {
    coarse = cellDensity(dk, m, L, grid);
  } finally {
    dispose(dk);
  }
  const D = growthFactor(cosmo, Z);
  const unmoved = chmfSourceGrids({ density: Float64Array.from(coarse, (v) => v * D), grid, boxSize: L, z: Z, cosmo, sigma: new SigmaM(new LinearPower(cosmo)), astro: ASTRO_DEFAULTS, chmf: sampler, minMass: massRange.min, maxMass: massRange.max, densityKind: 'lagrangian', massFunction: HMF_REFERENCE });
  // the filtered wave's amplitude, read at the node where cos = 1; its displacement −(A_c/k) sin(k q) along x
  const aCell = coarse[0]!;
  assert.ok(aCell > 0.5 * A && aCell < A, `filtered amplitude ${aCell}`);
  const pos = new Float32Array(3 * grid ** 3);
  let o = 0;
  for (let i = 0; i < grid; i++) {
    for (let j = 0; j < grid; j++) {
      for (let l = 0; l < grid; l++) {
        const q = (i * L) / grid;
        pos[o++] = (((q - (D * aCell * Math.sin(k * q)) / k) % L) + L) % L;
        pos[o++] = (j * L) / grid;
        pos[o++] = (l * L) / grid;
      }
    }
  }
  const maxShift = (D * aCell) / k / (L / grid);
  assert.ok(maxShift > 0.3, `the wave moves cells by up to ${maxShift} cells`);
  const want = paint(pos, { grid, boxSize: L, weights: unmoved.sfr, mas: 'CIC' });
  let peak = 0;
  for (const v of want) peak = Math.max(peak, v);
  for (let c = 0; c < want.length; c++) assert.ok(Math.abs(got.sfr[c]! - want[c]!) <= 1e-4 * peak, `cell ${c}: ${got.sfr[c]} vs ${want[c]}`);
  // moving keeps the totals, and the moved field differs from the unmoved one
  const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(sum(got.sfr) / sum(unmoved.sfr) - 1) < 1e-5);
  assert.ok(Math.abs(got.totalSfr / (sum(unmoved.sfr) * (L / grid) ** 3) - 1) < 1e-5);
  let diff = 0;
  for (let c = 0; c < want.length; c++) diff = Math.max(diff, Math.abs(got.sfr[c]! - unmoved.sfr[c]!));
  assert.ok(diff > 0.05 * peak, `moved vs unmoved differ by ${diff} (peak ${peak})`);
  // the cells converge where δ_L > 0 (x = 0): the moved field there is above the unmoved value
  assert.ok(got.sfr[0]! > unmoved.sfr[0]!);
});
