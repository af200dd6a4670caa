import { InvalidArgumentError, type Command } from 'commander';
import { refuseGiven } from '../option-checks.js';
import { generateRun } from '../../pipeline/generate.js';
import { finishSharded, planSharded, runShard, type ShardedRunOptions } from '../../pipeline/generate-shards.js';
import { shardedArgs, shellQuote, writeSlurmScript } from '../../pipeline/generate-slurm.js';
import { parseShard, type Shard } from '../../lodi/shards.js';
import { choice, commandLine, deviceOption, noiseOption, precisionOption, forceOption, parseNonNegativeInteger, parsePositiveInteger, parseSeed, quietOption } from '../options.js';

const METHODS = ['overlap', 'tiling', 'average', 'single'] as const;

/** `--shard I/N` (0 <= I < N). */
function shardOption(value: string): Shard {
  try {
    return parseShard(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Options that only the one-process run uses, with the reason each has no effect in a sharded step. */
const ONE_PROCESS_ONLY = ['realizations', 'fileBacked'];

export function register(program: Command): void {
  program
    .command('generate')
    .description(
      'generate 21 cm brightness-temperature maps T_b [mK] from halo channels [4,N,N,N] with a trained LODI model: ' +
        '32^3 sub-volumes stitched by latent overlap (or tiling / averaging baselines), any box size. ' +
        'The cpu model takes about 4-8 s per sub-volume (all sampling steps) on 2 cores (a 64^3 periodic box has 27, a 128^3 box 125); memory stays under 1 GB. ' +
        'Beyond one process: --plan-only, then --stage S --shard I/N for every stage (shards of a stage in parallel), then --finish; ' +
        'or --slurm job.sh --shards N writes a Slurm script that does all of it (docs/lodi.md).',
    )
    .requiredOption('--halos <file.npy>', 'halo-mass channels [4,N,N,N] (with sidecar), e.g. from lodi predict-halos')
    .requiredOption('--model <path>', 'LODI run directory (best.safetensors) or .safetensors file')
    .requiredOption('--out <file.npy>', 'output T_b grid; with --realizations R > 1: <out>_0.npy ... <out>_{R-1}.npy')
    .option('--method <m>', 'overlap (latent overlap), tiling, average, or single (the whole box in one pass; small boxes only)', choice(METHODS), 'overlap' as (typeof METHODS)[number])
    .option('--realizations <n>', 'number of independent maps (seeds seed, seed+1, ...)', parsePositiveInteger, 1)
    .option('--seed <int>', 'seed of the first realisation', parseSeed, 1)
    .option('--batch <n>', 'sub-volumes per denoiser call (the same stage of every realisation shares the batches)', parsePositiveInteger, 8)
    .option('--steps <n>', 'sampling steps (default: the training T, 50)', parsePositiveInteger)
    .option('--resample <J>', 'RePaint resampling: repeat each step J times', parsePositiveInteger, 1)
    .option('--fresh-known-noise', 'draw the noise of the overlap region afresh at every step')
    .option('--no-periodic', 'treat the box as non-periodic (no wrap-around overlap)')
    .option('--ignore-contract', "generate even if the halo grid's voxel size, channels or unit differ from the model's training data")
    .option('--file-backed', 'keep the map in a work file beside the output (<out>.work/) instead of memory: bounded memory for boxes of any size; continue a killed run with --resume')
    .option('--plan-only', 'sharded run, step 1: allocate the work files beside the output (<out>.work/: plan.json, y.npy, done/) and print the commands of the stages')
    .option('--stage <S>', 'sharded run, step 2: generate stage S (0-based) of the plan; every earlier stage must be finished', parseNonNegativeInteger)
    .option('--shard <I/N>', 'with --stage: generate the boxes of the stage that belong to shard I of N (box k of the stage when k mod N = I; default 0/1, all)', shardOption)
    .option('--finish', 'sharded run, step 3: write the T_b map and its sidecar once every box is finished, and remove the work files')
    .option('--slurm <job.sh>', 'write a Slurm script (not run) that plans, submits one job array of --shards tasks per stage chained by afterok, and finishes')
    .option('--shards <N>', 'with --slurm: array tasks per stage', parsePositiveInteger)
    .option('--sbatch <options>', "with --slurm: sbatch options of every job, e.g. '--partition=gpu --gres=gpu:1 --time=02:00:00'")
    .option('--resume', 'keep realisations already written by the same model and seed; with --plan-only or --file-backed: continue the existing plan, keeping its finished boxes')
    .addOption(forceOption('existing outputs (with --plan-only: also an existing plan and its finished boxes)'))
    .addOption(deviceOption())
    .addOption(precisionOption())
    .addOption(noiseOption())
    .addOption(quietOption())
    .action(async (o, cmd: Command) => {
      const modes = [
        ['planOnly', o.planOnly === true],
        ['stage', o.stage !== undefined],
        ['finish', o.finish === true],
        ['slurm', o.slurm !== undefined],
      ] as const;
      const chosen = modes.filter(([, on]) => on).map(([name]) => name);
      if (chosen.length > 1) throw new Error(`${chosen.map((n) => cmd.options.find((x) => x.attributeName() === n)!.long).join(', ')}: choose one of --plan-only, --stage, --finish, --slurm`);
      const mode = chosen[0];
      if (mode !== 'stage') refuseGiven(cmd, ['shard'], 'without --stage');
      if (mode !== 'slurm') refuseGiven(cmd, ['shards', 'sbatch'], 'without --slurm');
      if (o.method === 'single') refuseGiven(cmd, ['batch', 'resample', 'freshKnownNoise', 'periodic'], 'with --method single (the whole box in one pass: no sub-volumes, no overlap)');
      else if (o.method !== 'overlap') refuseGiven(cmd, ['freshKnownNoise'], `with --method ${o.method} (only latent overlap has a known region)`);
      const sharded: ShardedRunOptions = {
        halos: o.halos,
        model: o.model,
        out: o.out,
        method: o.method,
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
        device: o.device,
        precision: o.precision,
        noise: o.noise,
      };
      if (mode) refuseGiven(cmd, ONE_PROCESS_ONLY, `with --${mode === 'planOnly' ? 'plan-only' : mode} (a sharded run makes one map, file-backed; plan each realisation with its own --seed and --out)`);
      if (mode === 'planOnly') {
        refuseGiven(cmd, ['batch'], 'with --plan-only (give it to the --stage commands)');
        const r = planSharded(sharded);
        const n = r.planFile.stages.length;
        const args = shardedArgs({ ...sharded, model: o.model, batch: undefined })
          .map(shellQuote)
          .join(' ');
        const lines = [
          `${r.workDir}: ${r.kept ? `plan kept, ${r.finished} of ${r.planFile.stages.flat().length} boxes finished` : 'planned'}: ${r.planFile.stages.flat().length} sub-volumes in ${n} stages (${r.planFile.stages.map((s) => s.length).join(', ')} boxes).`,
          `Run the stages in order, each after the previous one has finished; the N shards of a stage (I = 0 .. N-1) may run at the same time, on any machines that see ${r.workDir}:`,
          `  lodi generate ${args} --stage S --shard I/N      (S = 0 .. ${n - 1})`,
          `then write the map and remove the work files:`,
          `  lodi generate ${args} --finish`,
          `A failed or killed shard is simply run again: it skips its finished boxes. On Slurm, --slurm job.sh --shards N writes a script that does all of this.`,
        ];
        process.stdout.write(lines.join('\n') + '\n');
        return;
      }
      if (mode === 'stage') {
        refuseGiven(cmd, ['resume', 'force', 'ignoreContract'], 'with --stage (finished boxes are always kept; the plan decided the contract and the output)');
        const shard: Shard = o.shard ?? { index: 0, count: 1 };
        const r = await runShard({ ...sharded, stage: o.stage, shard });
        process.stdout.write(
          `stage ${r.stage} shard ${shard.index}/${shard.count}: ${r.generated.length} sub-volumes generated, ${r.skipped.length} already finished, ${r.seconds.toFixed(1)} s\n`,
        );
        return;
      }
      if (mode === 'finish') {
        refuseGiven(cmd, ['resume', 'ignoreContract', 'batch'], 'with --finish');
        const r = finishSharded(sharded);
        process.stdout.write(`${r.file}: T_b [mK], ${r.seconds.toFixed(1)} s\n`);
        return;
      }
      if (mode === 'slurm') {
        refuseGiven(cmd, ['resume'], 'with --slurm (the script always continues an existing plan)');
        if (o.shards === undefined) throw new Error('--slurm: expected --shards N, the number of array tasks per stage');
        const r = writeSlurmScript({
          ...sharded,
          model: o.model,
          batch: cmd.getOptionValueSource('batch') === 'cli' ? o.batch : undefined,
          script: o.slurm,
          shards: o.shards,
          sbatch: o.sbatch,
        });
        process.stdout.write(`${r.script}: Slurm script for ${r.boxes} sub-volumes in ${r.stages} stages x ${o.shards} shards; submit with: bash ${shellQuote(r.script)}\n`);
        return;
      }
      const r = await generateRun({
        ...sharded,
        realizations: o.realizations,
        fileBacked: o.fileBacked === true,
      });
      process.stdout.write(`${r.files.join(', ')}: T_b [mK], ${r.seconds.toFixed(1)} s (model ${r.modelSha256.slice(0, 12)})\n`);
    });
}
