import type { Command } from 'commander';
import { evaluateRun } from '../../pipeline/evaluate.js';
import { commandLine, forceOption, parsePositiveInteger, parseSeed, quietOption } from '../options.js';

export function register(program: Command): void {
  program
    .command('evaluate')
    .description(
      'compare runs (lodi run output) with their truth worlds: halo channels, T_b maps, P(k) of T_b/<T_b> over realisations, ' +
        'the residual P_gen/P_true - 1 with bootstrap errors, r(k), the one-point PDF, stitching diagnostics and the data split; ' +
        'writes report.html (self-contained), report.md, PNG plots and metrics.json',
    )
    .requiredOption('--run <dir...>', 'run directories, one per DM field (repeat --run or list several)')
    .requiredOption('--truth <dir...>', 'truth world directories, one per run, in the same order')
    .requiredOption('--out <dir>', 'report directory (must not exist unless --force)')
    .option('--allow-train-data', 'evaluate even on a world that trained or validated a model (the report warns)')
    .option('--bootstrap <n>', 'bootstrap samples for the residual error bars', parsePositiveInteger, 1000)
    .option('--seed <int>', 'seed of the bootstrap', parseSeed, 0)
    .option('--no-truth-scatter', "skip the reference scores of HI repaints of simulated truths (the world's HI painted again on its halos with other seeds: what an exact sampler of p(T_b | halos) gets)")
    .addOption(forceOption('an existing report directory'))
    .addOption(quietOption())
    .action(async (o) => {
      const res = await evaluateRun({
        runs: o.run,
        truths: o.truth,
        out: o.out,
        allowTrainData: o.allowTrainData === true,
        force: o.force === true,
        bootstrap: o.bootstrap,
        seed: o.seed,
        quiet: o.quiet === true,
        truthScatter: o.truthScatter !== false,
        command: commandLine(),
      });
      const m = res.metrics;
      const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
      process.stdout.write(
        `${m.fields} field(s) x ${m.realizationsPerField.join('/')} realisation(s): mean |P_gen/P_true - 1| = ${f(m.mean_abs_residual_k_le_10)} ` +
          `(max ${f(m.max_abs_residual_k_le_10)}) for k <= ${f(m.k_range.k_max)} h/Mpc, r(k=1) = ${f(m.r_at_k_1)}\n` +
          ('skipped' in m.truth_scatter
            ? ''
            : `HI repaints of the truths (exact sampler of p(T_b | halos)), same protocol: ${f(m.truth_scatter.mean_abs_residual_k_le_10)}, r(k=1) = ${f(m.truth_scatter.r_at_k_1)}\n`) +
          `report: ${res.out}/report.html, metrics: ${res.out}/metrics.json\n`,
      );
    });
}
