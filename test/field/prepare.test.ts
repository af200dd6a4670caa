import { test } from 'node:test';
import { referenceDir } from '../reference-dir.js';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readGadgetHdf5, readFofCatalogue } from '../../src/io/index.js';
import { prepareGrids, gasHiMass, PAPER_MASS_BINS_MSUN } from '../../src/field/prepare.js';
import { massBinEdgesMsunH } from '../../src/io/units.js';
import { brightnessTemperatureFactor, CAMELS_CV } from '../../src/cosmo/index.js';
import { sum64, relClose } from './helpers.js';

const REF = join(referenceDir(), 'gadget4-hydro32');
const SNAP = join(REF, 'snapshot_002.hdf5');
const GROUPS = join(REF, 'fof_subhalo_tab_002.hdf5');

test('mass-bin edges: Msun converted with h, Msun/h kept; HI rule x_HI := 1 where SFR > 0', () => {
  assert.deepEqual(massBinEdgesMsunH({ edges: [1e10, 1e11], unit: 'Msun' }, 0.5), [5e9, 5e10]);
  assert.deepEqual(massBinEdgesMsunH({ edges: [1e10, 1e11], unit: 'Msun/h' }, 0.5), [1e10, 1e11]);
  assert.throws(() => massBinEdgesMsunH({ edges: [1e11, 1e10], unit: 'Msun' }, 0.7), /increase/);
  const { mHI, starForming } = gasHiMass({
    positions: new Float32Array(6),
    masses: Float32Array.from([1e10, 2e10]),
    xHI: Float32Array.from([0.5, 0.01]),
    sfr: Float32Array.from([0, 3]),
  });
  assert.equal(starForming, 1);
  relClose(mHI[0]!, 0.5e10 * 0.76, 1e-6, 'non-star-forming');
  relClose(mHI[1]!, 2e10 * 0.76, 1e-6, 'star-forming');
});

test('synthetic input: totals, halo channels and T_b factor', async () => {
  const L = 10, n = 8;
  const halos = { positions: Float32Array.from([1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]), masses: [1e10, 5e10, 2e11, 5e12] };
  const g = await prepareGrids({
    boxSize: L, redshift: 1, grid: n, cosmology: { Omega_m: 0.3, h: 0.7 },
    dm: { positions: Float32Array.from([0.5, 0.5, 0.5, 9.9, 9.9, 9.9]), particleMass: 1e9 },
    halos, hiParticles: { positions: Float32Array.from([5, 5, 5]), mHI: Float32Array.from([1e9]) }, smoothingR: 0,
  });
  const cv = (L / n) ** 3;
  relClose(sum64(g.dm!) * cv, 2e9, 1e-6, 'dm');
  // edges in Msun/h: 2.1e10, 7e10, 3.5e11, 7e11: 1e10 dropped; 5e10 → 0; 2e11 → 1; 5e12 → 3
  assert.equal(g.meta.counts.halosBelowFirstEdge, 1);
  assert.deepEqual(g.meta.counts.halos, [1, 1, 0, 1]);
  const n3 = n ** 3;
  relClose(sum64(g.halos!.subarray(0, n3)) * cv, 5e10, 1e-6, 'bin 0');
  relClose(sum64(g.halos!.subarray(3 * n3)) * cv, 5e12, 1e-6, 'bin 3');
  assert.equal(sum64(g.halos!.subarray(2 * n3, 3 * n3)), 0);
  relClose(g.meta.tbFactor, brightnessTemperatureFactor({ ...CAMELS_CV, Omega_m: 0.3, h: 0.7 }, 1), 1e-12, 'T_b factor');
  relClose(sum64(g.tb!), sum64(g.hi!) * g.meta.tbFactor, 1e-6, 'T_b = factor × ρ_HI');
  assert.equal(g.meta.channels.length, 4);
  assert.deepEqual(PAPER_MASS_BINS_MSUN, [3e10, 1e11, 5e11, 1e12, Infinity]);
});

test('GADGET-4 hydro32 snapshot: total M_HI = 6.0015e10 Msun/h before smoothing, conserved by smoothing', async () => {
  const snap = await readGadgetHdf5(SNAP, { partTypes: [0, 1], fields: ['positions', 'masses', 'neutralHydrogen', 'sfr'] });
  const fof = await readFofCatalogue(GROUPS);
  const h = snap.header;
  const gas = snap.particles[0]!, dm = snap.particles[1]!;
  const base = {
    boxSize: h.boxSize, redshift: h.redshift, grid: 32,
    cosmology: { Omega_m: h.cosmology.omegaM, h: h.cosmology.h },
    dm: { positions: dm.positions!, masses: dm.masses! },
    halos: { positions: fof.groups.positions, masses: fof.groups.masses },
    gas: { positions: gas.positions!, masses: gas.masses!, xHI: gas.neutralHydrogen!, sfr: gas.sfr! },
  };
  const raw = await prepareGrids({ ...base, smoothingR: 0 });
  const cv = raw.meta.cellVolume;
  assert.equal(raw.meta.counts.starForming, 12);
  relClose(raw.meta.totals.hi, 6.0015e10, 1e-4, 'particle M_HI');
  relClose(sum64(raw.hi!) * cv, 6.0015e10, 1e-4, 'gridded M_HI');
  relClose(sum64(raw.dm!) * cv, 32768 * h.massTable[1]!, 1e-6, 'DM mass');
  const sm = await prepareGrids(base);
  assert.equal(sm.meta.smoothingR, 0.2);
  relClose(sum64(sm.hi!) * cv, sum64(raw.hi!) * cv, 1e-5, 'smoothing conserves M_HI');
  relClose(sum64(sm.dm!), sum64(raw.dm!), 1e-5, 'smoothing conserves DM');
  relClose(sum64(sm.halos!), sum64(raw.halos!), 1e-5, 'smoothing conserves halo mass');
  relClose(sum64(sm.tb!), sum64(sm.hi!) * sm.meta.tbFactor, 1e-6, 'T_b');
  assert.ok(sm.tb!.every(Number.isFinite));
});
