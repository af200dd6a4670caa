/**
 * HALOgen inference streamed from and to disk, for boxes whose grids do not fit in memory: the DM
 * grid [N,N,N] is read by x-planes from its `.npy` and the halo channels [C,N,N,N] are written plane by
 * plane into a new float32 `.npy` (positional I/O, src/io/npy-file.ts). Memory is O(crop N²)
 * (`slidingWindowPlanes`) instead of the in-memory path's ~40 bytes per voxel (float64 sums of the
 * four channels and the outputs; BENCHMARKS.md, "Streaming scale").
 */
import { CHUNK, NpyVolume, createZeroNpyF32, readNpyLayout } from '../io/npy-file.js';
import type { HalogenMeta } from './checkpoint.js';
import { boxMean, logDmInto, sumF32 } from './dataset.js';
import { devicePredictor, slidingOptions, slidingWindowPlanes, standardiseDm, toHaloDensity, type PredictOptions } from './infer.js';
import type { HalogenNet } from './model.js';

export interface PredictFileOptions extends PredictOptions {
  /** Write log10 ρ_h (averaged, not floored) instead of ρ_h. */
  log?: boolean;
}

/** The side N of a cubic DM grid file [N,N,N]. */
export function cubicSide(file: string, shape: readonly number[]): number {
  if (shape.length !== 3 || shape[0] !== shape[1] || shape[1] !== shape[2] || !(shape[0]! >= 1))
    throw new Error(`${file}: shape: [${shape.join(', ')}], expected a cubic DM grid [N, N, N]`);
  return shape[0]!;
}

function assertFinite(file: string, values: Float32Array, offset: number): void {
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i]!))
      throw new Error(`${file}: data: non-finite value at flat index ${offset + i}, expected a finite DM density`);
}

/**
 * Predicts the halo channels of the DM grid `dmFile` (.npy [N,N,N], float32 or float64, C order) into
 * the new float32 `.npy` `out` [C,N,N,N]: ρ_h in the training unit, floored as `predictHalos` floors
 * it, or log10 ρ_h with `log`. The values equal `predictHalos` on the loaded grid to the bit (same
 * windows, batches and order of sums). Reads the DM twice when the model normalises by the box mean.
 *
 * @throws one line naming `dmFile` and the field (magic, dtype, fortran_order, shape, data) for a grid
 *   that is not a cubic little-endian float C-order array or holds a non-finite value; an error when
 *   `out` exists (it is created exclusively: the caller writes to a temporary name and renames).
 */
export function predictHalosFile(model: HalogenNet, meta: HalogenMeta, dmFile: string, out: string, o: PredictFileOptions = {}): { n: number } {
  const layout = readNpyLayout(dmFile);
  const n = cubicSide(dmFile, layout.shape);
  const n2 = n * n;
  const cfg = meta.config;
  const C = cfg.model.outChannels;
  const dm = new NpyVolume(layout, 'r');
  let dest: NpyVolume | null = null;
  try {
    let mean = 1;
    if (cfg.data.dmNormalise === 'box-mean') {
      const per = Math.max(1, Math.floor(CHUNK / n2));
      const buf = new Float32Array(per * n2);
      let sum = 0;
      for (let x = 0; x < n; x += per) {
        const count = Math.min(per, n - x);
        const part = buf.subarray(0, count * n2);
        dm.readPlanes(0, x, count, part);
        assertFinite(dmFile, part, x * n2);
        sum = sumF32(part, sum);
      }
      mean = boxMean(sum, n2 * n);
    }
    dest = new NpyVolume(createZeroNpyF32(out, [C, n, n, n]), 'r+');
    const target = dest;
    const floorLog = o.floorLog ?? cfg.infer.floorLog;
    model.eval();
    slidingWindowPlanes(
      n,
      (x0, count, into) => {
        dm.readPlanes(0, x0, count, into);
        assertFinite(dmFile, into, x0 * n2);
        standardiseDm(logDmInto(into, mean, cfg.data.dmOffset, into), meta.normalisation);
      },
      (x, plane) => {
        for (let ch = 0; ch < C; ch++) {
          const y = plane.subarray(ch * n2, (ch + 1) * n2);
          target.writePlanes(ch, x, o.log ? y : toHaloDensity(y, cfg.data.haloOffset, floorLog));
        }
      },
      devicePredictor(model, o.precision),
      slidingOptions(meta, o),
    );
    dest.sync();
  } finally {
    dm.close();
    dest?.close();
  }
  return { n };
}
