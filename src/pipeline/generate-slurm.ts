/**
 * `lodi generate --slurm job.sh --shards N`: writes (does not run) a submission script that spreads a
 * sharded generation (src/pipeline/generate-shards.ts) over a Slurm cluster: it runs `--plan-only
 * --resume` on the submitting node, submits one job array per stage (`--array=0-(N-1)`, task i runs
 * `--stage S --shard i/N`), each after the previous one succeeded (`--dependency=afterok:<job id>`,
 * ids from `sbatch --parsable`), and a last job that runs `--finish`. The scheduler does the
 * scheduling; the script only chains the jobs. Rerunning the script after a failure keeps the
 * finished boxes (each task skips its recorded boxes).
 */
import { chmodSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadLodi } from '../lodi/checkpoint.js';
import { readNpyLayout } from '../io/npy-file.js';
import { planStages } from '../lodi/planner.js';
import { writeFileAtomic } from '../util/atomic.js';
import type { ShardedRunOptions } from './generate-shards.js';

/** A word quoted for POSIX sh: `'...'` with embedded quotes as `'\''` (plain words stay bare). */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * The arguments after `generate` that every step of a sharded run repeats: inputs, output and the
 * options a plan records (paths absolute, so jobs may start in any directory), plus `--batch` when
 * given (for the --stage steps only).
 */
export function shardedArgs(o: ShardedRunOptions & { model: string }): string[] {
  const a = [
    '--halos',
    resolve(o.halos),
    '--model',
    resolve(o.model),
    '--out',
    resolve(o.out),
    '--seed',
    String(o.seed),
  ];
  if (o.method && o.method !== 'overlap') a.push('--method', o.method);
  if (o.steps !== undefined) a.push('--steps', String(o.steps));
  if (o.resample !== undefined && o.resample !== 1) a.push('--resample', String(o.resample));
  if (o.freshKnownNoise) a.push('--fresh-known-noise');
  if (o.periodic === false) a.push('--no-periodic');
  if (o.overlap !== undefined && o.overlap !== 4)
    throw new Error(`overlap: ${o.overlap}, expected 4 (the command line has no --overlap)`);
  if (o.batch !== undefined) a.push('--batch', String(o.batch));
  // the choice, not its resolution here: each task resolves it on its own node
  if (o.device !== undefined && o.device !== 'auto') a.push('--device', o.device);
  if (o.precision !== undefined && o.precision !== 'auto') a.push('--precision', o.precision);
  if (o.noise !== undefined && o.noise !== 'auto') a.push('--noise', o.noise);
  return a;
}

/** Text for a script comment: line breaks would end the comment. */
const oneLine = (s: string): string => s.replace(/[\r\n]+/g, ' ');

export interface SlurmOptions extends ShardedRunOptions {
  model: string;
  /** Path of the script to write. */
  script: string;
  /** Array tasks per stage. */
  shards: number;
  /** Extra sbatch options for every job (partition, GPUs, time limit, account), whitespace-separated. */
  sbatch?: string;
  /** How the jobs start lodi (words); default: this Node binary and this CLI entry point. */
  lodi?: string[];
}

export interface SlurmResult {
  script: string;
  stages: number;
  boxes: number;
}

/**
 * Writes the Slurm submission script (mode 0755) for generating `o.out` in `o.shards` shards per stage.
 * The stage count comes from the planner for the halo grid's size and the model's crop.
 *
 * @throws one line when the halo grid or model cannot be read, `shards` is not a positive integer, or
 *   the script exists (unless `force`).
 */
export function writeSlurmScript(o: SlurmOptions): SlurmResult {
  if (!Number.isInteger(o.shards) || o.shards < 1)
    throw new Error(`--shards: ${o.shards}, expected a positive integer`);
  if (!existsSync(o.halos))
    throw new Error(`${o.halos}: not found; expected halo channels [C,N,N,N] (.npy with sidecar)`);
  const shape = readNpyLayout(o.halos).shape;
  if (shape.length !== 4)
    throw new Error(`${o.halos}: shape: [${shape.join(', ')}], expected halo channels [C, N, N, N]`);
  const loaded = loadLodi(o.model);
  let crop: number;
  try {
    crop = loaded.model.cfg.data.crop;
  } finally {
    loaded.model.dispose();
  }
  const plan = planStages({
    size: [shape[1]!, shape[2]!, shape[3]!],
    box: crop,
    overlap: o.overlap ?? 4,
    periodic: o.periodic ?? true,
  });
  const lodi = o.lodi ?? [process.execPath, resolve(process.argv[1] ?? 'lodi')];
  const gen = [...lodi, 'generate', ...shardedArgs({ ...o, batch: undefined })].map(shellQuote).join(' ');
  const batch = o.batch !== undefined ? ` --batch ${o.batch}` : '';
  const sbatch = (o.sbatch ?? '').split(/\s+/).filter((w) => w.length > 0);
  const N = o.shards;
  const planFlags = [
    '--plan-only',
    '--resume',
    ...(o.ignoreContract ? ['--ignore-contract'] : []),
    ...(o.force ? ['--force'] : []),
  ].join(' ');
  const lines = [
    '#!/bin/bash',
    `# LODI generation of ${oneLine(resolve(o.out))}: ${plan.boxes.length} sub-volumes in ${plan.stages.length} stages`,
    `# (${plan.stages.map((s) => s.length).join(', ')} boxes), each stage as a Slurm job array of ${N} tasks.`,
    `# Written by: ${oneLine(o.command ?? 'lodi generate --slurm')}`,
    '#',
    '# Run it on the submitting node:  bash ' + oneLine(shellQuote(o.script)),
    '# It plans the run here (allocates the work files beside the output), then submits one job array per',
    '# stage, each starting after the previous one succeeded, and a last job that writes the T_b map.',
    '# When a task fails (out of time, a node lost), the later jobs are cancelled (--kill-on-invalid-dep);',
    '# fix the cause and run this script again: the plan is kept and every task skips the boxes already',
    '# recorded as finished. Set the options of every job (partition, CPUs, time limit, account) in',
    '# SBATCH_ARGS.',
    'set -euo pipefail',
    `SBATCH_ARGS=(${sbatch.map(shellQuote).join(' ')})`,
    `GEN=${shellQuote(gen)}`,
    '',
    `eval "$GEN ${planFlags}"`,
  ];
  plan.stages.forEach((_, s) => {
    const dep = s === 0 ? '' : ' --dependency=afterok:$prev --kill-on-invalid-dep=yes';
    lines.push(
      `prev=$(sbatch --parsable "\${SBATCH_ARGS[@]}"${dep} --job-name=lodi-stage${s} --array=0-${N - 1} --wrap "$GEN${batch} --stage ${s} --shard \\$SLURM_ARRAY_TASK_ID/${N}")`,
      'prev=${prev%%;*}',
      `echo "stage ${s}: job array $prev"`,
    );
  });
  lines.push(
    `prev=$(sbatch --parsable "\${SBATCH_ARGS[@]}" --dependency=afterok:$prev --kill-on-invalid-dep=yes --job-name=lodi-finish --wrap "$GEN --finish${o.force ? ' --force' : ''}")`,
    'prev=${prev%%;*}',
    `echo "finish: job $prev (writes ${resolve(o.out).replace(/["$`\\]/g, '\\$&')})"`,
    '',
  );
  writeFileAtomic(o.script, lines.join('\n'), { force: o.force === true });
  chmodSync(o.script, 0o755);
  return { script: o.script, stages: plan.stages.length, boxes: plan.boxes.length };
}
