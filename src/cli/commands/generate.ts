import type { Command } from 'commander';
import { refuseGiven } from '../option-checks.js';
import { generateRun } from '../../pipeline/generate.js';
import { choice, commandLine, forceOption, parsePositiveInteger, parseSeed, quietOption } from '../options.js';

const METHODS = ['overlap', 'tiling', 'average', 'single'] as const;

export function register(program: Command): void {
  program
    .command('generate')
    .description(
      'generate 21 cm brightness-temperature maps T_b [mK] from halo channels [4,N,N,N] with a trained LODI model: ' +
        '32^3 sub-volumes stitched by latent overlap (or tiling / averaging baselines), any box size. ' +
        'The cpu model takes about 1-2 s per sub-volume on 2 cores (a 64^3 periodic box has 27, a 128^3 box 125); memory stays under 1 GB.',
    )
    .requiredOption('--halos <file.npy>', 'halo-mass channels [4,N,N,N] (with sidecar), e.g. from lodi predict-halos')
    .requiredOption('--model <path>', 'LODI run directory (best.safetensors) or .safetensors file')
    .requiredOption('--out <file.npy>', 'output T_b grid; with --realizations R > 1: <out>_0.npy ... <out>_{R-1}.npy')
    .option('--method <m>', 'overlap (latent overlap), tiling, average, or single (the whole box in one pass; small boxes only)', choice(METHODS), 'overlap' as (typeof METHODS)[number])
    .option('--realizations <n>', 'number of independent maps (seeds seed, seed+1, ...)', parsePositiveInteger, 1)
    .option('--seed <int>', 'seed of the first realisation', parseSeed, 1)
    .option('--batch <n>', 'sub-volumes per denoiser call', parsePositiveInteger, 8)
    .option('--steps <n>', 'sampling steps (default: the training T, 50)', parsePositiveInteger)
    .option('--resample <J>', 'RePaint resampling: repeat each step J times', parsePositiveInteger, 1)
    .option('--fresh-known-noise', 'draw the noise of the overlap region afresh at every step')
    .option('--no-periodic', 'treat the box as non-periodic (no wrap-around overlap)')
    .option('--ignore-contract', "generate even if the halo grid's voxel size, channels or unit differ from the model's training data")
    .option('--resume', 'keep realisations already written by the same model and seed')
    .addOption(forceOption('existing outputs'))
    .addOption(quietOption())
    .action(async (o, cmd: Command) => {
      if (o.method === 'single') refuseGiven(cmd, ['batch', 'resample', 'freshKnownNoise', 'periodic'], 'with --method single (the whole box in one pass: no sub-volumes, no overlap)');
      else if (o.method !== 'overlap') refuseGiven(cmd, ['freshKnownNoise'], `with --method ${o.method} (only latent overlap has a known region)`);
      const r = await generateRun({
        halos: o.halos,
        model: o.model,
        out: o.out,
        method: o.method,
        realizations: o.realizations,
        seed: o.seed,
        batch: o.batch,
        steps: o.steps,
        resample: o.resample,
        freshKnownNoise: o.freshKnownNoise === true,
        periodic: o.periodic !== false,
        ignoreContract: o.ignoreContract === true,
        resume: o.resume === true,
        force: o.force === true,
        quiet: o.quiet === true,
        command: commandLine(),
      });
      process.stdout.write(`${r.files.join(', ')}: T_b [mK], ${r.seconds.toFixed(1)} s (model ${r.modelSha256.slice(0, 12)})\n`);
    });
}
