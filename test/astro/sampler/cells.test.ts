import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HaloBuffer } from '../../../src/astro/sampler/buffer.js';
import { massHistogram } from '../../../src/astro/sampler/catalogue.js';
import { sampleCells } from '../../../src/astro/sampler/cells.js';
import { SigmaLookup } from '../../../src/astro/sampler/chmf.js';
import { cellTable } from '../../../src/astro/sampler/tables.js';
import { Rng } from '../../../src/util/rng.js';
import { H, directIntegral, optsOf, sigmaCamels, testParams, withinPoisson } from './helpers.js';

const sig = sigmaCamels();
const p = testParams();
const z = 7;
const cellSide = 2 * H; // (2 Mpc)^3 cells [Mpc/h], as in Davies et al. 2025 Fig. 2
const cellMass = sig.rhoM * cellSide ** 3;
const G = 25; // 25^3 = 15 625 cells per condition (the paper's figure uses 10 000)

test('number-limited sampling of cells reproduces the CHMF at z = 7 (Davies et al. 2025, Sec. 2.2, Fig. 2)', () => {
  const sl = new SigmaLookup(sig, p.minMass / 4, 2 * cellMass, 5e-3);
  const table = cellTable(sl, z, cellMass, p.minMass, p);
  const opts = optsOf(p);
  const nCells = G * G * G;
  const nb = 10;
  const edges = Array.from({ length: nb + 1 }, (_, b) => p.minMass * Math.pow(cellMass / p.minMass, b / nb));
  for (const [i, delta] of [-0.9, -0.5, 0, 1, 1.4].entries()) {
    const out = new HaloBuffer();
    sampleCells({
      table,
      delta: new Float32Array(nCells).fill(delta),
      grid: G,
      boxSize: G * cellSide,
      cellMass,
      minMass: p.minMass,
      deltaMin: p.deltaMin,
      deltaCollapsed: table.x1,
      rng: new Rng(100 + i),
      out,
    });
    const { mass, pos, parent } = out.arrays();
    // reference: float64 integrals of the Sheth-Tormen CHMF (Eq. 3), independent of the tables
    const Nexp = directIntegral(sig, p.minMass, cellMass, delta, z, opts) * nCells;
    const Mexp = directIntegral(sig, p.minMass, cellMass, delta, z, opts, true) * nCells;
    let Mtot = 0;
    for (const m of mass) Mtot += m;
    // the 10% requirement; the Poisson error of the total number is <= 3% (>= 1300 halos at delta = -0.9)
    assert.ok(Math.abs(out.count / Nexp - 1) < 0.1 && withinPoisson(out.count, Nexp, 4), `delta=${delta}: N ${out.count} vs ${Nexp}`);
    assert.ok(Math.abs(Mtot / Mexp - 1) < 0.1, `delta=${delta}: M ${Mtot} vs ${Mexp}`);
    const hist = massHistogram(mass, edges);
    for (let b = 0; b < nb; b++) {
      const e = (directIntegral(sig, edges[b]!, cellMass, delta, z, opts) - directIntegral(sig, edges[b + 1]!, cellMass, delta, z, opts)) * nCells;
      const o = hist[b]!;
      // 50% (or 2 halos) wherever that is >= 3 Poisson sigma (expected >= 36 halos; below, 50% of a few
      // halos is a 1-sigma fluctuation), and 4 Poisson sigma (+2 halos for near-empty bins) in every bin
      if (e >= 36) assert.ok(Math.abs(o - e) <= Math.max(0.5 * e, 2), `delta=${delta} bin ${b}: ${o} vs ${e.toFixed(1)}`);
      assert.ok(withinPoisson(o, e, 4, 2), `delta=${delta} bin ${b}: ${o} vs ${e.toFixed(1)} (Poisson)`);
    }
    // positions inside each halo's own cell (cube of side L/G centred on the node)
    for (let h = 0; h < out.count; h += 97) {
      const c = parent[h]!;
      const node = [Math.floor(c / (G * G)), Math.floor(c / G) % G, c % G];
      for (let a = 0; a < 3; a++) {
        let d = pos[3 * h + a]! / cellSide - node[a]!;
        d -= G * Math.round(d / G);
        assert.ok(Math.abs(d) <= 0.5 + 1e-5, `halo ${h} axis ${a}: ${d} cells from its node`);
      }
    }
  }
});

test('collapsed, empty and finder-covered cells', () => {
  const sl = new SigmaLookup(sig, p.minMass / 4, 2 * cellMass, 5e-3);
  const table = cellTable(sl, z, cellMass, p.minMass, p);
  const delta = new Float32Array([table.x1 + 0.1, -1, 0.5, table.x1 + 0.2, 0.5, 0.5, 0.5, 0.5]);
  const overlap = new Float32Array([0.25, 0, 1, 0, 0, 0, 0, 0]);
  const out = new HaloBuffer();
  sampleCells({ table, delta, grid: 2, boxSize: 2 * cellSide, cellMass, overlap, minMass: p.minMass, deltaMin: p.deltaMin, deltaCollapsed: table.x1, rng: new Rng(3), out });
  const { mass, parent } = out.arrays();
  const of = (c: number): number[] => Array.from(mass.filter((_, i) => parent[i] === c));
  // delta >= 0.99 delta_crit: one halo of the remaining mass (1 - overlap) M_cell
  assert.deepEqual(of(0), [0.75 * cellMass]);
  assert.deepEqual(of(3), [cellMass]);
  // delta <= -1 and fully covered cells: nothing
  assert.equal(of(1).length, 0);
  assert.equal(of(2).length, 0);
  assert.ok(of(4).length + of(5).length + of(6).length + of(7).length > 0);
  assert.ok(mass.every((m) => m >= p.minMass && m <= cellMass));
});
