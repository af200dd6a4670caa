/**
 * `lodi train lodi`: trains the LODI diffusion model in a worker thread (progress forwarded, Ctrl-C
 * saves a checkpoint) and draws the loss curves of the run (loss.png).
 */
import { join } from 'node:path';
import type { LodiMeta } from '../lodi/checkpoint.js';
import type { LodiConfig } from '../lodi/config.js';
import type { LodiTrainOptions, LodiTrainResult } from '../lodi/train.js';
import { linePlot } from '../report/index.js';
import { runInWorker } from '../util/worker.js';

export interface TrainLodiRun {
  worlds: string[];
  config: LodiConfig;
  out: string;
  seed: number;
  resume: boolean;
  force: boolean;
  plot: boolean;
  quiet: boolean;
  command: string;
  distributed?: LodiTrainOptions['distributed'];
  halosFile?: string;
  init?: string;
  /** A resolved device ('cpu', 'cuda', 'cuda:N'). */
  device?: string;
}

/** Loss curves (train and validation totals and diffusion terms against step) as PNG. */
export async function plotLodiLoss(meta: LodiMeta, png: string): Promise<void> {
  const h = meta.history;
  if (!h.length) return;
  const x = h.map((r) => r.step);
  const pts = h.length < 30;
  await linePlot(
    {
      series: [
        { name: 'train total', x, y: h.map((r) => r.train.total), points: pts },
        { name: 'validation total (EMA)', x, y: h.map((r) => r.val.total), dashed: true, points: pts },
        { name: 'train diffusion', x, y: h.map((r) => r.train.diffusion), points: pts },
        { name: 'validation diffusion (EMA)', x, y: h.map((r) => r.val.diffusion), dashed: true, points: pts },
      ],
      xLabel: 'optimiser step',
      yLabel: 'loss [nats per voxel]',
      title: `LODI training (${meta.config.preset} preset)`,
    },
    png,
  );
}

export async function trainLodiRun(o: TrainLodiRun): Promise<LodiTrainResult> {
  const res = await runInWorker<LodiTrainResult>(new URL('../lodi/train.js', import.meta.url).href, 'trainLodi', {
    worlds: o.worlds,
    config: o.config,
    out: o.out,
    seed: o.seed,
    resume: o.resume,
    force: o.force,
    quiet: o.quiet,
    command: o.command,
    distributed: o.distributed,
    halosFile: o.halosFile,
    init: o.init,
    device: o.device,
  } satisfies LodiTrainOptions);
  // in a data-parallel run rank 0 alone writes the run directory
  if (o.plot && (o.distributed?.rank ?? 0) === 0) await plotLodiLoss(res.meta, join(o.out, 'loss.png'));
  return res;
}
