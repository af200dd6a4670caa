/**
 * `lodi train halogen`: HALOgen training (src/halogen/train.ts) plus its loss-curve plot, drawn after
 * every epoch into <out>/loss.png. The CLI runs `trainHalogenRun` in a worker thread.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadHalogenWorld } from '../halogen/dataset.js';
import { trainHalogen, CHECKPOINT, type EpochRecord, type TrainOptions, type TrainResult } from '../halogen/train.js';
import { linePlot } from '../report/index.js';
import { OutputGuard } from './outputs.js';

export interface HalogenRunOptions extends Omit<TrainOptions, 'onEpoch'> {
  /** Write loss.png after each epoch (default true). */
  plot?: boolean;
}

/**
 * Trains (or resumes) HALOgen and keeps <out>/loss.png up to date. The worlds are read and checked
 * before the run directory is made. When training fails, what this run created is removed, unless
 * it saved a checkpoint, which is kept (with a note in the error) so that `--resume` can continue.
 */
export async function trainHalogenRun(o: HalogenRunOptions): Promise<TrainResult> {
  const { plot, ...train } = o;
  const out = resolve(o.out);
  const png = join(out, 'loss.png');
  const worlds = o.worlds.map((w) => (typeof w === 'string' ? loadHalogenWorld(w) : w));
  const ck = join(out, CHECKPOINT);
  const hadCheckpoint = existsSync(ck);
  // a data-parallel follower never writes the run directory (rank 0 does): it has nothing to roll back
  const follower = (o.distributed?.worldSize ?? 1) > 1 && (o.distributed?.rank ?? 0) > 0;
  const guard = new OutputGuard(follower ? [] : [out]);
  try {
    return await trainHalogen({ ...train, worlds, onEpoch: plot === false ? undefined : (_r, meta) => plotLoss(meta.history, png) });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!hadCheckpoint && existsSync(ck)) {
      throw new Error(`${message} (the checkpoint of the last finished epoch is kept in ${o.out}; --resume continues from it)`);
    }
    guard.rollback();
    throw err;
  }
}

/** Writes the loss-curve PNG (train and validation loss against epoch). */
export async function plotLoss(history: EpochRecord[], png: string): Promise<void> {
  if (history.length < 1) return;
  const ep = history.map((r) => r.epoch + 1);
  await linePlot(
    {
      series: [
        { name: 'train', x: ep, y: history.map((r) => r.trainLoss), points: history.length < 30 },
        { name: 'validation', x: ep, y: history.map((r) => r.valLoss), dashed: true, points: history.length < 30 },
      ],
      xLabel: 'epoch',
      yLabel: 'loss (Eq. 5)',
      logY: history.every((r) => r.trainLoss > 0 && r.valLoss > 0),
      title: 'HALOgen training',
    },
    png,
  );
}
