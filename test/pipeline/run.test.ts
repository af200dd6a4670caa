import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preset } from '../../src/halogen/config.js';
import { trainHalogen } from '../../src/halogen/train.js';
import { loadGrid, saveGrid } from '../../src/io/grid.js';
import { decodeNpy } from '../../src/io/npy.js';
import { writeWorld } from '../../src/io/world.js';
import { lodiPreset } from '../../src/lodi/config.js';
import { trainLodi } from '../../src/lodi/train.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { syntheticWorld } from '../halogen/helpers.js';

test('lodi run: DM → HALOgen → LODI into a run directory; resume keeps finished outputs; given halos skip HALOgen', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lodi-run-'));
  try {
    const world = syntheticWorld(32, 3, join(root, 'world'));
    const n3 = 32 ** 3;
    const tb = new Float32Array(n3);
    for (let i = 0; i < n3; i++) for (let c = 0; c < 4; c++) tb[i]! += 1e-12 * world.halos[c * n3 + i]!;
    writeWorld(join(root, 'world'), { ...world, tb });
    const hcfg = preset('tiny');
    hcfg.train.epochs = 1;
    await trainHalogen({ worlds: [join(root, 'world')], config: hcfg, out: join(root, 'halogen'), seed: 1, quiet: true });
    const lcfg = lodiPreset('tiny');
    lcfg.train.steps = 4;
    lcfg.train.evalEvery = 4;
    await trainLodi({ worlds: [join(root, 'world')], config: lcfg, out: join(root, 'lodi'), seed: 1, quiet: true });
    const common = { dm: join(root, 'world', 'dm.npy'), halogen: join(root, 'halogen'), lodi: join(root, 'lodi'), realizations: 2, seed: 7, steps: 4, quiet: true };
    const out = join(root, 'run');
    const run = await runPipeline({ ...common, out, baselines: true });
    assert.deepEqual(run.seeds, [7, 8]);
    assert.deepEqual(run.files.tb, ['tb_0.npy', 'tb_1.npy']);
    assert.deepEqual(Object.keys(run.files.baselines).sort(), ['average', 'single', 'tiling']);
    assert.equal(run.models.lodi.trainWorlds[0]!.seed, 3);
    assert.equal(run.device, 'cpu');
    await assert.rejects(() => runPipeline({ ...common, out: join(root, 'run-gpu'), device: 'gpu' }), /device 'gpu': expected cpu, cuda, cuda:N or auto/);
    assert.equal(existsSync(join(root, 'run-gpu')), false);
    assert.match(run.models.halogen!.sha256, /^[0-9a-f]{64}$/);
    const halos = loadGrid(join(out, 'halos.npy'));
    assert.deepEqual(halos.shape, [4, 32, 32, 32]);
    for (const f of ['tb_0.npy', 'tb_1.npy', 'tb_tiling_0.npy', 'tb_average_0.npy', 'tb_single_0.npy', 'run.json', 'run.log']) assert.ok(existsSync(join(out, f)), f);
    // a second run into the same directory is refused; a killed run resumes, keeping what is done
    await assert.rejects(() => runPipeline({ ...common, out }), /--resume/);
    const before = readFileSync(join(out, 'tb_1.npy'));
    const haloTime = statSync(join(out, 'halos.npy')).mtimeMs;
    rmSync(join(out, 'tb_1.npy'));
    rmSync(join(out, 'tb_1.json'));
    await runPipeline({ ...common, out, baselines: true, resume: true });
    assert.equal(statSync(join(out, 'halos.npy')).mtimeMs, haloTime, 'halos kept');
    // generated alone this time (realisation 0 was kept), together with it before: the same map up to the
    // rounding of batched convolutions
    const again = loadGrid(join(out, 'tb_1.npy')).data;
    const was = decodeNpy(before, 'tb_1.npy').data as Float32Array;
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < was.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(again[i]! - was[i]!));
      maxAbs = Math.max(maxAbs, Math.abs(was[i]!));
    }
    assert.ok(maxAbs > 0 && maxDiff <= 1e-4 * maxAbs, `the regenerated realisation: max |ΔT_b| ${maxDiff} of max ${maxAbs}`);
    // true halos instead of HALOgen
    const given = await runPipeline({ ...common, halogen: undefined, halos: join(root, 'world', 'halos.npy'), out: join(root, 'run-true'), realizations: 1 });
    assert.equal(given.models.halogen, undefined);
    assert.deepEqual(loadGrid(join(root, 'run-true', 'halos.npy')).data, world.halos);
    // --force into a folder holding another run's maps (same seeds and model) makes every map afresh: with other
    // halos the maps must change, and equal those of a new run with the same inputs
    const other = join(root, 'other-halos.npy');
    const hal = loadGrid(join(root, 'world', 'halos.npy'));
    saveGrid(other, { ...hal, data: hal.data.map((v) => 3 * v) });
    const oldMap = readFileSync(join(root, 'run-true', 'tb_0.npy'));
    await runPipeline({ ...common, halogen: undefined, halos: other, out: join(root, 'run-true'), realizations: 1, force: true });
    await runPipeline({ ...common, halogen: undefined, halos: other, out: join(root, 'run-other'), realizations: 1 });
    const forced = readFileSync(join(root, 'run-true', 'tb_0.npy'));
    assert.notDeepEqual(forced, oldMap, '--force regenerated the map');
    assert.deepEqual(forced, readFileSync(join(root, 'run-other', 'tb_0.npy')), 'and made it as a new run does');
    // a failed start leaves nothing behind
    await assert.rejects(() => runPipeline({ ...common, lodi: join(root, 'nope'), out: join(root, 'run-fail') }), /not found/);
    assert.equal(existsSync(join(root, 'run-fail')), false);
    // a DM grid at another voxel (same cells, twice the box) breaks both models' contracts: refused
    // before anything runs, naming the grid, its voxel and the model's
    const dm = loadGrid(common.dm);
    const coarse = join(root, 'coarse', 'dm.npy');
    mkdirSync(join(root, 'coarse'));
    saveGrid(coarse, { ...dm, meta: { ...dm.meta, boxSize: 2 * dm.meta.boxSize } });
    const voxel = dm.meta.boxSize / 32;
    const msg = new RegExp(`coarse/dm\\.npy: voxel: ${(2 * voxel).toFixed(4)} Mpc/h .*expected ${voxel.toFixed(4)} Mpc/h, the voxel HALOgen was trained at.*--ignore-contract`);
    await assert.rejects(() => runPipeline({ ...common, dm: coarse, out: join(root, 'run-coarse') }), msg);
    // with the true halos only LODI's contract applies
    await assert.rejects(() => runPipeline({ ...common, dm: coarse, halogen: undefined, halos: join(root, 'world', 'halos.npy'), out: join(root, 'run-coarse') }), /the voxel LODI was trained at/);
    assert.equal(existsSync(join(root, 'run-coarse')), false);
    // and the DM unit must be the training worlds'
    saveGrid(coarse, { ...dm, meta: { ...dm.meta, unit: 'Msun/kpc^3' } }, { force: true });
    await assert.rejects(() => runPipeline({ ...common, dm: coarse, out: join(root, 'run-coarse') }), /unit: DM density unit 'Msun\/kpc\^3', expected/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
