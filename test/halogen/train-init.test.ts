/**
 * Continuing a trained HALOgen in a new run (`init`): weights, normalisation and the split of the
 * shared worlds carried over; new worlds split with the run's seed; refusals.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveTensors } from '@lodi/torch';
import { preset } from '../../src/halogen/config.js';
import { splitSubVolumes } from '../../src/halogen/dataset.js';
import { halogenTrainedWorlds, inheritSplit } from '../../src/halogen/init.js';
import { loadHalogen, trainHalogen } from '../../src/halogen/train.js';
import { syntheticWorld } from './helpers.js';

/** The tiny preset; `lr` sets every rate of the schedule (1e-30: the weights cannot move measurably). */
function config(epochs: number, lr?: number) {
  const cfg = preset('tiny');
  cfg.train.epochs = epochs;
  if (lr !== undefined) {
    cfg.train.warmEpochs = 0;
    cfg.train.lrInitial = cfg.train.lrMax = cfg.train.lrMin = lr;
  }
  return cfg;
}

function weightsOf(dir: string): Map<string, number[]> {
  const m = loadHalogen(dir);
  try {
    return new Map([...m.model.stateDict()].map(([k, t]) => [k, [...t.toFloat32Array()]]));
  } finally {
    m.model.dispose();
  }
}

test('inheritSplit: matched worlds keep the model\'s membership in any order; the others are split like a new run', () => {
  const model = splitSubVolumes(16, 0.75, 1); // two worlds of 8 sub-volumes
  // the model's two worlds, then a new one
  const s = inheritSplit(model, [8, 8], [8, 8, 8], [0, 1, null], 0.75, 9);
  assert.deepEqual(s.train.filter((i) => i < 16), model.train);
  assert.deepEqual(s.val.filter((i) => i < 16), model.val);
  const fresh = splitSubVolumes(8, 0.75, 9);
  assert.deepEqual(s.train.filter((i) => i >= 16), fresh.train.map((i) => i + 16));
  assert.deepEqual(s.val.filter((i) => i >= 16), fresh.val.map((i) => i + 16));
  // the model's worlds in the other order: each keeps its own membership
  const swapped = inheritSplit(model, [8, 8], [8, 8], [1, 0], 0.75, 9);
  const shift = (xs: number[], from: number, by: number): number[] => xs.filter((i) => i >= from && i < from + 8).map((i) => i + by);
  assert.deepEqual(swapped.val, [...shift(model.val, 8, -8), ...shift(model.val, 0, 8)].sort((a, b) => a - b));
  // nothing matched: a new run's split
  assert.deepEqual(inheritSplit(model, [8, 8], [16], [null], 0.75, 9), splitSubVolumes(16, 0.75, 9));
  // a model split that does not hold a matched world's sub-volume is refused
  assert.throws(() => inheritSplit(splitSubVolumes(4, 0.75, 1), [8], [8], [0], 0.75, 9), /does not hold sub-volume 4 of its world 0/);
});

test('init: a run starts from the given model (weights, normalisation, split) and records it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'halogen-init-'));
  try {
    const w1 = syntheticWorld(32, 2, join(dir, 'w1'));
    const w2 = syntheticWorld(32, 5, join(dir, 'w2'));
    const a = await trainHalogen({ worlds: [w1], config: config(2), out: join(dir, 'a'), seed: 3, quiet: true });
    const live = liveTensors();
    const b = await trainHalogen({ worlds: [w1], config: config(1, 1e-30), out: join(dir, 'b'), seed: 9, quiet: true, init: join(dir, 'a') });
    assert.equal(liveTensors(), live, 'no tensors left alive');
    const wa = weightsOf(join(dir, 'a'));
    const wb = weightsOf(join(dir, 'b'));
    assert.equal(wb.size, wa.size);
    // RMSprop moves a weight by about lr/sqrt(1 − α) per step: ~1e-29 here, against weights of ~0.1–1
    const maxDiff = (x: Map<string, number[]>, y: Map<string, number[]>): number => Math.max(...[...x].map(([k, v]) => Math.max(...v.map((e, i) => Math.abs(e - y.get(k)![i]!)))));
    assert.ok(maxDiff(wa, wb) < 1e-20, `weights moved by ${maxDiff(wa, wb)}`);
    assert.deepEqual(b.meta.normalisation, a.meta.normalisation);
    assert.deepEqual([b.meta.split.train, b.meta.split.val], [a.meta.split.train, a.meta.split.val], 'same world: the split of the model it starts from');
    assert.equal(b.meta.init?.epochsDone, 2);
    assert.equal(b.meta.init?.sharedWorlds, 1);
    assert.match(b.meta.init?.sha256 ?? '', /^[0-9a-f]{64}$/);
    assert.match(readFileSync(join(dir, 'b', 'train.log'), 'utf8'), /starting from .*best\.safetensors \(best epoch \d of 2\).*split of its 1 world/);

    // the control: the same run without init does not hold a's weights
    await trainHalogen({ worlds: [w1], config: config(1, 1e-30), out: join(dir, 'c'), seed: 9, quiet: true });
    const wc = weightsOf(join(dir, 'c'));
    assert.ok(maxDiff(wa, wc) > 1e-3, 'random initial weights differ from the model');

    // a new world after the shared one: the first world's sub-volumes keep the model's split, the new one is split with the run's seed
    const d = await trainHalogen({ worlds: [w1, w2], config: config(1, 1e-30), out: join(dir, 'd'), seed: 9, quiet: true, init: join(dir, 'a') });
    assert.equal(d.meta.init?.sharedWorlds, 1);
    assert.deepEqual(d.meta.split.val.filter((i) => i < 8), a.meta.split.val, 'no validation crop of the model becomes a training crop');
    assert.deepEqual(d.meta.split.val.filter((i) => i >= 8), splitSubVolumes(8, 0.75, d.meta.seeds.split).val.map((i) => i + 8));
    assert.deepEqual(d.meta.normalisation, a.meta.normalisation, 'the weights go with their normalisation');

    // the shared world second: it keeps the model's split there, the new world first is split anew
    const e = await trainHalogen({ worlds: [w2, w1], config: config(1, 1e-30), out: join(dir, 'e'), seed: 9, quiet: true, init: join(dir, 'a') });
    assert.equal(e.meta.init?.sharedWorlds, 1);
    assert.deepEqual(e.meta.split.val.filter((i) => i >= 8), a.meta.split.val.map((i) => i + 8));
    assert.deepEqual(e.meta.split.val.filter((i) => i < 8), splitSubVolumes(8, 0.75, e.meta.seeds.split).val);

    // only a new world: the starting model's world stays training data of the continued one, through two generations
    const f = await trainHalogen({ worlds: [w2], config: config(1, 1e-30), out: join(dir, 'f'), seed: 9, quiet: true, init: join(dir, 'a') });
    assert.deepEqual(f.meta.init?.worlds?.map((w) => w.dir), a.meta.worlds.map((w) => w.dir));
    assert.deepEqual(halogenTrainedWorlds(f.meta).map((w) => w.dir), [...f.meta.worlds, ...a.meta.worlds].map((w) => w.dir));
    const g = await trainHalogen({ worlds: [w2], config: config(1, 1e-30), out: join(dir, 'g'), seed: 9, quiet: true, init: join(dir, 'f') });
    assert.deepEqual(halogenTrainedWorlds(g.meta).map((w) => w.dir), halogenTrainedWorlds(f.meta).map((w) => w.dir), 'each world once');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('init: another network or another voxel is refused with one line, and no run directory is left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'halogen-init-bad-'));
  try {
    const w1 = syntheticWorld(32, 2, join(dir, 'w1'));
    await trainHalogen({ worlds: [w1], config: config(1), out: join(dir, 'a'), seed: 3, quiet: true });
    const other = config(1);
    other.model.channels = [4, 8, 8, 16];
    await assert.rejects(() => trainHalogen({ worlds: [w1], config: other, out: join(dir, 'b'), seed: 3, quiet: true, init: join(dir, 'a') }), /^Error: --init .*best\.safetensors: config\.model \{/);
    const coarse = { ...syntheticWorld(32, 2, join(dir, 'w3')), boxSize: 6.4 };
    await assert.rejects(
      () => trainHalogen({ worlds: [coarse], config: config(1), out: join(dir, 'b'), seed: 3, quiet: true, init: join(dir, 'a') }),
      /--init .*: .*w3\/dm\.npy: voxel: 0\.2000 Mpc\/h .* expected 0\.1000 Mpc\/h/,
    );
    assert.throws(() => readFileSync(join(dir, 'b', 'train.log')), /ENOENT/, 'a refused run leaves nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
