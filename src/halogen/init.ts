/**
 * Continuing the training of a trained HALOgen in a new run (`lodi train halogen --init MODEL`):
 * the model's weights (output affine map included), its normalisation and loss thresholds, and the
 * split of the worlds it shares with the new run (matched by IC seed, grid and box, in any order),
 * so that none of its training sub-volumes becomes a validation one (the new run's best checkpoint
 * is still chosen on crops the weights never trained on) and none of its validation sub-volumes a
 * training one. Worlds it did not train on are split with the new run's seed. A fresh optimiser and
 * schedule.
 */
import type { Tensor } from '@lodi/torch';
import { sha256Stream } from '../io/npy-file.js';
import { WORLD_MEMBERS, type WorldGrids } from '../io/world.js';
import { disposeGroups, resolveModelFile } from '../train/checkpoint.js';
import { trainedWorlds } from '../train/lineage.js';
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
  /** For each of the run's worlds, the index of the same world (IC seed, grid, box) among the model's, or null. */
  match: (number | null)[];
}

/** What `meta.init` of a run records about the model it started from. */
export interface HalogenInitRecord {
  file: string;
  sha256: string;
  /** Epochs the model had trained and the epoch its weights come from (best checkpoint). */
  epochsDone: number;
  bestEpoch: number | null;
  /** Worlds of the run whose sub-volumes keep the model's split (the others are split anew). */
  sharedWorlds: number;
  /**
   * Every world the model's weights had trained on (its own worlds and those of the model it started
   * from, and so on), so that the continued model still counts them as training data.
   */
  worlds?: HalogenMeta['worlds'];
}

/**
 * Every world a HALOgen's weights have trained on: its own `worlds` and, for a continued model, those
 * of the model it started from (`init.worlds`), without repeats (same directory and seed).
 */
export function halogenTrainedWorlds(meta: Pick<HalogenMeta, 'worlds' | 'init'>): HalogenMeta['worlds'] {
  return trainedWorlds(meta.worlds, meta.init?.worlds);
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
    const used = new Set<number>();
    const match = worlds.map((w) => {
      const i = m.worlds.findIndex((mw, k) => !used.has(k) && sameWorld(w, mw));
      if (i < 0) return null;
      used.add(i);
      return i;
    });
    return { file, sha256: sha256Stream(file), meta: m, weights, groups: ck.groups, match };
  } catch (err) {
    disposeGroups(ck.groups);
    throw err;
  }
}

/**
 * The split of a run that starts from a model. `modelCounts` / `runCounts`: sub-volumes per world of
 * the model's and of this run's worlds (world-major, as `subVolumes` orders them); `match[j]`: the
 * model's index of this run's world j, or null. A matched world's sub-volumes keep the model's
 * train/validation membership; the sub-volumes of the other worlds are split as a new run splits
 * (seeded shuffle, `trainFraction`). The result's `seed` is the new part's.
 *
 * @throws Error when the model's split does not cover a matched world's sub-volumes, or the result
 *   has no validation sub-volume
 */
export function inheritSplit(model: Split, modelCounts: number[], runCounts: number[], match: (number | null)[], trainFraction: number, seed: number): Split {
  const offsets = (counts: number[]): number[] => counts.map((_, i) => counts.slice(0, i).reduce((a, b) => a + b, 0));
  const mOff = offsets(modelCounts);
  const rOff = offsets(runCounts);
  const mTrain = new Set(model.train);
  const mVal = new Set(model.val);
  const train: number[] = [];
  const val: number[] = [];
  const fresh: number[] = [];
  runCounts.forEach((n, j) => {
    const i = match[j];
    for (let l = 0; l < n; l++) {
      const r = rOff[j]! + l;
      if (i === null || i === undefined) fresh.push(r);
      else if (mTrain.has(mOff[i]! + l)) train.push(r);
      else if (mVal.has(mOff[i]! + l)) val.push(r);
      else throw new Error(`--init: the model's split does not hold sub-volume ${l} of its world ${i}`);
    }
  });
  if (fresh.length >= 2) {
    const s = splitSubVolumes(fresh.length, trainFraction, seed);
    s.train.forEach((k) => train.push(fresh[k]!));
    s.val.forEach((k) => val.push(fresh[k]!));
  } else train.push(...fresh);
  if (val.length === 0) throw new Error(`--init: no validation sub-volume among the ${rOff.length ? rOff[rOff.length - 1]! + runCounts[runCounts.length - 1]! : 0} of these worlds`);
  return { seed, trainFraction, train: train.sort((a, b) => a - b), val: val.sort((a, b) => a - b) };
}
