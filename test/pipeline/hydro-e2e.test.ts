// "Train on my own hydrodynamic simulation", end to end on real files: the GADGET-4 SPH + star-formation
// outputs in ../shared/reference/gadget4-hydro32 go through the commands a user types —
// lodi prepare → lodi train halogen → lodi train lodi → lodi run → lodi evaluate — as child processes, with
// tiny presets and a 32^3 grid so that the suite stays fast. The numbers a user would look at are
// checked for consistency with the inputs (grid shape, redshift, box, file checksums), not for accuracy:
// a model trained for four steps is not expected to be good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadGrid } from '../../src/io/grid.js';
import { referenceDir, repoRoot } from '../reference-dir.js';

const run = promisify(execFile);
const CLI = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const REF = join(referenceDir(), 'gadget4-hydro32');

async function lodi(args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, LODI_NUM_THREADS: '1' }, maxBuffer: 1 << 24 });
    return stdout + stderr;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`lodi ${args.join(' ')} failed: ${err.stderr ?? ''}${err.stdout ?? ''}${err.message}`);
  }
}

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

test('real GADGET-4 hydro outputs: prepare → train halogen → train lodi → run → evaluate, all from the CLI', async () => {
  const root = mkdtempSync(join(tmpdir(), 'lodi-hydro-e2e-'));
  try {
    const world = join(root, 'world');
    // no smoothing: at 0.78 Mpc/h voxels the default 0.2 Mpc/h Gaussian would be sub-voxel anyway
    await lodi(['prepare', '--snapshot', join(REF, 'snapshot_002.hdf5'), '--groups', join(REF, 'fof_subhalo_tab_002.hdf5'), '--grid', '32', '--smoothing', '0', '--out', world, '--no-plots']);
    const tb = loadGrid(join(world, 'tb.npy'));
    assert.deepEqual(tb.shape, [32, 32, 32]);
    assert.equal(tb.meta.unit, 'mK');
    let tbSum = 0;
    for (const v of tb.data) tbSum += v;
    assert.ok(tbSum > 0, 'the star-forming gas of snapshot_002 gives a non-zero T_b');
    assert.deepEqual(loadGrid(join(world, 'halos.npy'), { expectChannels: 4 }).shape, [4, 32, 32, 32]);

    const halogen = join(root, 'halogen');
    await lodi(['train', 'halogen', '--worlds', world, '--preset', 'tiny', '--epochs', '1', '--seed', '1', '--out', halogen, '--quiet', '--no-plot']);
    const lodiRun = join(root, 'lodi');
    await lodi(['train', 'lodi', '--worlds', world, '--preset', 'tiny', '--steps', '4', '--seed', '1', '--out', lodiRun, '--quiet', '--no-plot']);
    for (const f of ['best.safetensors', 'checkpoint.safetensors', 'history.csv', 'split.json']) assert.ok(existsSync(join(lodiRun, f)), f);

    const out = join(root, 'run');
    await lodi(['run', '--dm', join(world, 'dm.npy'), '--halogen', halogen, '--lodi', lodiRun, '--realizations', '2', '--steps', '4', '--seed', '5', '--out', out, '--quiet']);
    const runJson = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as {
      seeds: number[];
      files: { tb: string[] };
      models: { lodi: { sha256: string }; halogen?: { sha256: string } };
    };
    assert.deepEqual(runJson.seeds, [5, 6]);
    assert.equal(runJson.models.lodi.sha256, sha256(join(lodiRun, 'best.safetensors')), 'run.json records the LODI weights used');
    assert.equal(runJson.models.halogen?.sha256, sha256(join(halogen, 'best.safetensors')), 'run.json records the HALOgen weights used');
    for (const f of runJson.files.tb) {
      const g = loadGrid(join(out, f));
      assert.deepEqual(g.shape, [32, 32, 32], f);
      assert.ok(g.data.every(Number.isFinite), `${f} is finite`);
      assert.ok(Math.abs((g.meta.boxSize ?? NaN) - 25) < 1e-9, `${f}: box 25 Mpc/h from the snapshot header`);
    }

    // the same main job straight from the snapshot: gridded as prepare did (the model's voxel and smoothing),
    // so the DM grid and, with the same seed and realisations (generated together, so batched alike), the T_b maps
    // are identical
    const out2 = join(root, 'run-snap');
    await lodi(['run', '--snapshot', join(REF, 'snapshot_002.hdf5'), '--halogen', halogen, '--lodi', lodiRun, '--realizations', '2', '--steps', '4', '--seed', '5', '--out', out2, '--quiet']);
    assert.deepEqual(loadGrid(join(out2, 'world', 'dm.npy')).data, loadGrid(join(world, 'dm.npy')).data, 'snapshot gridded as lodi prepare grids it');
    for (const f of runJson.files.tb) assert.deepEqual(loadGrid(join(out2, f)).data, loadGrid(join(out, f)).data, `same DM, models and seed: same T_b (${f})`);
    await assert.rejects(lodi(['run', '--out', join(root, 'x'), '--quiet']), /--dm .*--snapshot/);

    // the world trained both models: evaluate refuses it unless told, then reports on it with a warning
    const report = join(root, 'report');
    await assert.rejects(lodi(['evaluate', '--run', out, '--truth', world, '--out', report, '--quiet']), /train/);
    assert.equal(existsSync(report), false, 'a refused evaluation leaves no report folder');
    await lodi(['evaluate', '--run', out, '--truth', world, '--out', report, '--allow-train-data', '--bootstrap', '50', '--quiet']);
    const metrics = JSON.parse(readFileSync(join(report, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    for (const key of ['mean_abs_residual_k_le_10', 'max_abs_residual_k_le_10', 'r_at_k_1']) assert.equal(typeof metrics[key], 'number', key);
    assert.ok(existsSync(join(report, 'report.html')), 'the HTML report');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
