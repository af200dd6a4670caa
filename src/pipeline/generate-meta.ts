/**
 * The sidecar of a generated T_b map, shared by one-process (`generateRun`) and sharded
 * (`finishSharded`) generation so that both record the same fields.
 */
import type { Precision } from '../nets/precision.js';
import type { NoiseSource } from '../lodi/generate.js';
import type { GridMeta } from '../io/grid.js';
import { WORLD_MEMBERS } from '../io/world.js';
import type { LoadedLodi } from '../lodi/checkpoint.js';
import type { GenerationMethod } from '../lodi/generate.js';

/** What a T_b map's sidecar records of how it was generated. */
export interface TbProvenanceFields {
  command?: string;
  halos: string;
  seed: number;
  realization: number;
  method: GenerationMethod;
  overlap: number;
  periodic: boolean;
  steps: number;
  resample: number;
  /** The denoiser's precision, resolved (float32 when not given: maps made before it was recorded). */
  precision?: Precision;
  /** Where the sampler's noise was drawn, resolved ('host' when not given: maps made before it was recorded). */
  noise?: NoiseSource;
  modelSha256: string;
}

/**
 * The sidecar metadata of a generated T_b map [mK]: box and redshift of the halo grid (the model's
 * training redshift when the grid has none), and the provenance (inputs, seed, method, crop, overlap,
 * steps, model and its sha256, smoothing radius). The same for one-process and sharded runs.
 */
export function tbGridMeta(
  halosMeta: Pick<GridMeta, 'boxSize' | 'redshift'>,
  loaded: LoadedLodi,
  p: TbProvenanceFields,
): GridMeta {
  return {
    boxSize: halosMeta.boxSize,
    redshift: halosMeta.redshift ?? loaded.meta.contract.redshift,
    quantity: WORLD_MEMBERS.tb.quantity,
    unit: WORLD_MEMBERS.tb.unit,
    provenance: {
      generator: 'lodi generate',
      command: p.command,
      inputs: [p.halos, loaded.file],
      seed: p.seed,
      realization: p.realization,
      method: p.method,
      crop: loaded.model.cfg.data.crop,
      overlap: p.overlap,
      periodic: p.periodic,
      steps: p.steps,
      resample: p.resample,
      precision: p.precision ?? 'float32',
      noise: p.noise ?? 'host',
      model: loaded.file,
      modelSha256: p.modelSha256,
      smoothingR: loaded.meta.contract.smoothingR,
    },
  };
}

