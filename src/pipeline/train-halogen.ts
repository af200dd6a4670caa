/**
 * `lodi train halogen`: HALOgen training (src/halogen/train.ts) plus its loss-curve plot, drawn after
 * every epoch into <out>/loss.png. The CLI runs `trainHalogenRun` in a worker thread.
 */
import { join, resolve } from 'node:path';
import { trainHalogen, type EpochRecord, type TrainOptions, type TrainResult } from '../halogen/train.js';
import { linePlot } from '../report/index.js';

export interface HalogenRunOptions extends Omit<TrainOptions, 'onEpoch'> {
  /** Write loss.png after each epoch (default true). */
  plot?: boolean;
}

/** Trains (or resumes) HALOgen and keeps <out>/loss.png up to date. */
export async function trainHalogenRun(o: HalogenRunOptions): Promise<TrainResult> {
  const { plot, ...train } = o;
  const png = join(resolve(o.out), 'loss.png');
  return trainHalogen({ ...train, onEpoch: plot === false ? undefined : (_r, meta) => plotLoss(meta.history, png) });
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
