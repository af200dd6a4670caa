import type { Command } from 'commander';
import { loadGrid, saveGrid, sidecarPath } from '../../io/grid.js';
import { assertWritable } from '../../util/atomic.js';
import { Progress } from '../../util/progress.js';
import { predictHalos } from '../../halogen/infer.js';
import { halogenContractProblems, loadHalogen } from '../../halogen/checkpoint.js';
import { withOutputGuard } from '../../pipeline/outputs.js';
import { remedyAction } from '../remedy.js';
import { refuseGiven } from '../option-checks.js';
import { commandLine, forceOption, parseBoxSize, parseNumber, parsePositiveInteger, quietOption } from '../options.js';

export function register(program: Command): void {
  program
    .command('predict-halos')
    .description(
      'predict the four halo-mass density channels [4,N,N,N] of a periodic DM box with a trained HALOgen model ' +
        '(sliding window, overlaps averaged, log10 rho_h below the floor set to 0)',
    )
    .requiredOption('--model <path>', 'run directory (uses best.safetensors) or a .safetensors file')
    .requiredOption('--dm <file.npy>', 'DM density grid [N,N,N] (box size from its JSON sidecar, or --box)')
    .option('--box <Mpc/h>', 'box size in Mpc/h (required without a sidecar; must agree with it)', parseBoxSize)
    .requiredOption('--out <file.npy>', 'output halo grid [4,N,N,N]')
    .option('--stride <n>', 'window stride in voxels (default: the model config, 16)', parsePositiveInteger)
    .option('--batch <n>', 'windows per forward pass', parsePositiveInteger)
    .option('--floor <log10rho>', 'log10 rho_h below which the output is 0 (default 9.5)', parseNumber)
    .option('--ignore-contract', "predict even if the grid's voxel size or unit differs from the training worlds' (refused otherwise)")
    .option('--log', 'write log10 rho_h (averaged, not floored) instead of rho_h')
    .addOption(quietOption())
    .addOption(forceOption('an existing output'))
    .action(
      remedyAction({ 'box-size': 'pass --box <Mpc/h>' }, async (o, cmd: Command) => {
        if (o.log) refuseGiven(cmd, ['floor'], 'with --log (the log10 output is not floored)');
        assertWritable(o.out, o.force === true);
        assertWritable(sidecarPath(o.out), o.force === true);
        const dm = loadGrid(o.dm, o.box !== undefined ? { boxSize: o.box } : {});
        if (dm.shape.length !== 3) throw new Error(`${o.dm}: shape: expected a [N,N,N] grid, got [${dm.shape}]`);
        const { model, meta, file } = loadHalogen(o.model);
        const n = dm.shape[0]!;
        const trainBox = meta.worlds[0];
        const problems = halogenContractProblems(meta, { file: o.dm, boxSize: dm.meta.boxSize, n, unit: dm.meta.unit });
        if (problems.length && o.ignoreContract !== true) {
          model.dispose();
          throw new Error(`${problems[0]} (pass --ignore-contract to predict anyway)`);
        }
        let progress: Progress | null = null;
        const t0 = Date.now();
        const p = predictHalos(model, meta, dm.data, n, {
          stride: o.stride,
          batch: o.batch,
          floorLog: o.floor,
          onProgress: (done, total) => {
            progress ??= new Progress('predict-halos windows', total, { quiet: o.quiet === true });
            progress.update(done);
          },
        });
        model.dispose();
        const cfg = meta.config;
        await withOutputGuard([o.out, sidecarPath(o.out)], () =>
          saveGrid(
            o.out,
            {
              data: o.log ? p.log : p.density,
              shape: [cfg.model.outChannels, n, n, n],
              meta: {
                boxSize: dm.meta.boxSize,
                redshift: dm.meta.redshift,
                quantity: o.log ? 'log10_halo_mass_density' : 'halo_mass_density',
                unit: o.log
                  ? 'log10 of ' + (trainBox?.haloUnit ?? 'training unit')
                  : (trainBox?.haloUnit ?? 'training unit'),
                channels:
                  meta.worlds[0]?.channels ??
                  cfg.data.massBins
                    .slice(0, -1)
                    .map((m, i) => `M in [${m}, ${cfg.data.massBins[i + 1]}) ${cfg.data.massBinsUnit ?? 'Msun'}`),
                provenance: {
                  command: commandLine(),
                  inputs: [o.dm, file],
                  ...(o.box !== undefined ? { boxSize: o.box } : {}),
                  model: file,
                  stride: o.stride ?? cfg.infer.stride,
                  floorLog: o.floor ?? cfg.infer.floorLog,
                },
              },
            },
            { force: o.force === true },
          ),
        );
        process.stdout.write(
          `${o.out}: [${cfg.model.outChannels},${n},${n},${n}] in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
        );
      }),
    );
}
