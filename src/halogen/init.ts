/**
 * Continuing the training of a trained HALOgen in a new run (`lodi train halogen --init MODEL`):
 * the model's weights (output affine map included), its normalisation and loss thresholds, and the
 * split of the worlds it shares with the new run, so that none of its validation sub-volumes
 * becomes a training one and the new run's best checkpoint is still chosen on unseen crops.
 * Worlds it did not train on are split with the new run's seed. A fresh optimiser and schedule.
 */
import type { Tensor } from '@lodi/torch';
import { sha256Stream } from '../io/npy-file.js';
import { WORLD_MEMBERS, type WorldGrids } from '../io/world.js';
import { disposeGroups, resolveModelFile } from '../train/checkpoint.js';
import { halogenContractProblems, modelWeights, readHalogenCheckpoint, type HalogenMeta } from './checkpoint.js';
import type { HalogenConfig } from './config.js';
import { splitSubVolumes, type Split } from './dataset.js';

/** A trained HALOgen that a run starts from. `groups` are freed by the caller once the weights are loaded. */
export interface HalogenInit {
  file: string;
  sha256: string;
  meta: HalogenMeta;
  weights: Map<string, Tensor>;
  groups: Map<string, Map<string, Tensor>>;
  /** How many of the run's first worlds are the model's first worlds (same seed, grid and box), in order. */
  sharedWorlds: number;
}

/** What `meta.init` of a run records about the model it started from. */
export interface HalogenInitRecord {
  file: string;
  sha256: string;
  /** Epochs the model had trained and the epoch its weights come from (best checkpoint). */
  epochsDone: number;
  bestEpoch: number | null;
  /** Leading worlds whose sub-volumes keep the model's split. */
  sharedWorlds: number;
}

function sameWorld(w: WorldGrids, m: HalogenMeta['worlds'][number]): boolean {
  const seed = w.provenance.seed;
  return typeof seed === 'number' && m.seed === seed && m.n === w.grid && Math.abs(m.boxSize - w.boxSize) <= 1e-6 * w.boxSize;
}

/**
 * Reads the model a run starts from and checks that it fits the run: the same network
 * (`config.model`) and crop as `cfg`, and worlds at its voxel, DM unit and halo channels.
 *
 * @throws Error one line naming the file and the field that differs
 */
export function readHalogenInit(path: string, cfg: HalogenConfig, worlds: WorldGrids[]): HalogenInit {
  const file = resolveModelFile(path);
  const ck = readHalogenCheckpoint(file);
  try {
    const m = ck.meta;
    if (JSON.stringify(m.config.model) !== JSON.stringify(cfg.model))
      throw new Error(`--init ${file}: config.model ${JSON.stringify(m.config.model)} differs from this run's ${JSON.stringify(cfg.model)}; continue with the model's own preset`);
    if (m.config.data.crop !== cfg.data.crop) throw new Error(`--init ${file}: config.data.crop ${m.config.data.crop}, this run's ${cfg.data.crop}`);
    const want = m.worlds[0]?.channels;
    for (const w of worlds) {
      const dir = w.dir ?? 'world';
      const problems = halogenContractProblems(m, { file: `${dir}/dm.npy`, boxSize: w.boxSize, n: w.grid, unit: WORLD_MEMBERS.dm.unit });
      if (problems.length > 0) throw new Error(`--init ${file}: ${problems[0]}`);
      if (want && w.channels && JSON.stringify(w.channels) !== JSON.stringify(want))
        throw new Error(`--init ${file}: ${dir}/halos.npy: channels ${JSON.stringify(w.channels)}, the model was trained on ${JSON.stringify(want)}`);
    }
    const weights = modelWeights(ck, file);
    let shared = 0;
    while (shared < worlds.length && shared < m.worlds.length && sameWorld(worlds[shared]!, m.worlds[shared]!)) shared++;
    return { file, sha256: sha256Stream(file), meta: m, weights, groups: ck.groups, sharedWorlds: shared };
  } catch (err) {
    disposeGroups(ck.groups);
    throw err;
  }
}

/**
 * The split of a run that starts from a model: the first `sharedCount` sub-volumes (those of the
 * shared worlds, world-major as `subVolumes` orders them) keep the model's train/validation
 * membership; the remaining `count − sharedCount` are split as a new run splits (seeded shuffle,
 * `trainFraction`), their indices offset by `sharedCount`. The result's `seed` is the new part's.
 *
 * Sub-volumes of the model's other worlds (beyond `sharedCount`) are not part of this run and drop out.
 *
 * @throws Error when the model's split does not cover every shared sub-volume, or the result has no
 *   validation sub-volume
 */
export function extendSplit(model: Split, sharedCount: number, count: number, trainFraction: number, seed: number): Split {
  const keptTrain = model.train.filter((i) => i < sharedCount);
  const keptVal = model.val.filter((i) => i < sharedCount);
  if (keptTrain.length + keptVal.length !== sharedCount) throw new Error(`--init: the model's split covers ${keptTrain.length + keptVal.length} of the ${sharedCount} sub-volumes of the worlds it shares with this run`);
  const rest = count - sharedCount;
  const fresh = rest >= 2 ? splitSubVolumes(rest, trainFraction, seed) : { train: Array.from({ length: rest }, (_, i) => i), val: [] as number[] };
  const train = [...keptTrain, ...fresh.train.map((i) => i + sharedCount)].sort((a, b) => a - b);
  const val = [...keptVal, ...fresh.val.map((i) => i + sharedCount)].sort((a, b) => a - b);
  if (val.length === 0) throw new Error(`--init: no validation sub-volume among the ${count} of these worlds`);
  return { seed, trainFraction, train, val };
}
