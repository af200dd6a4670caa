import type { Command } from 'commander';
import { loadGrid, loadGridMeta, saveGrid, saveGridStreamed, sidecarPath, type GridMeta } from '../../io/grid.js';
import { readNpyLayout } from '../../io/npy-file.js';
import { assertWritable } from '../../util/atomic.js';
import { Progress } from '../../util/progress.js';
import { predictHalos } from '../../halogen/infer.js';
import { cubicSide, predictHalosFile } from '../../halogen/infer-file.js';
import { halogenContractProblems, loadHalogen } from '../../halogen/checkpoint.js';
import { withOutputGuard } from '../../pipeline/outputs.js';
import { remedyAction } from '../remedy.js';
import { refuseGiven } from '../option-checks.js';
import { resolvePrecision } from '../../nets/precision.js';
import { commandLine, deviceOption, precisionOption, forceOption, parseBoxSize, parseNumber, parsePositiveInteger, quietOption } from '../options.js';
import { resolveDevice } from '@lodi/torch';

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
    .option(
      '--file-backed',
      'stream the DM grid from disk and the halo channels to it by x-planes: memory O(crop N^2) for boxes of any size (same values as in memory)',
    )
    .addOption(deviceOption())
    .addOption(precisionOption())
    .addOption(quietOption())
    .addOption(forceOption('an existing output'))
    .action(
      remedyAction({ 'box-size': 'pass --box <Mpc/h>' }, async (o, cmd: Command) => {
        if (o.log) refuseGiven(cmd, ['floor'], 'with --log (the log10 output is not floored)');
        assertWritable(o.out, o.force === true);
        assertWritable(sidecarPath(o.out), o.force === true);
        const fileBacked = o.fileBacked === true;
        const dm = fileBacked ? null : loadGrid(o.dm, o.box !== undefined ? { boxSize: o.box } : {});
        const shape = dm ? dm.shape : readNpyLayout(o.dm).shape;
        const n = cubicSide(o.dm, shape);
        const dmMeta = dm ? dm.meta : loadGridMeta(o.dm, shape, o.box !== undefined ? { boxSize: o.box } : {});
        const { model, meta, file } = loadHalogen(o.model, resolveDevice(o.device));
        const precision = resolvePrecision(o.precision, model.device);
        const trainBox = meta.worlds[0];
        const problems = halogenContractProblems(meta, { file: o.dm, boxSize: dmMeta.boxSize, n, unit: dmMeta.unit });
        if (problems.length && o.ignoreContract !== true) {
          model.dispose();
          throw new Error(`${problems[0]} (pass --ignore-contract to predict anyway)`);
        }
        let progress: Progress | null = null;
        const t0 = Date.now();
        const cfg = meta.config;
        const outShape = [cfg.model.outChannels, n, n, n];
        const options = {
          stride: o.stride,
          batch: o.batch,
          floorLog: o.floor,
          precision,
          onProgress: (done: number, total: number) => {
            progress ??= new Progress('predict-halos windows', total, { quiet: o.quiet === true });
            progress.update(done);
          },
        };
        const gridMeta: GridMeta = {
          boxSize: dmMeta.boxSize,
          redshift: dmMeta.redshift,
          quantity: o.log ? 'log10_halo_mass_density' : 'halo_mass_density',
          unit: o.log ? 'log10 of ' + (trainBox?.haloUnit ?? 'training unit') : (trainBox?.haloUnit ?? 'training unit'),
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
            precision,
            floorLog: o.floor ?? cfg.infer.floorLog,
          },
        };
        try {
          await withOutputGuard([o.out, sidecarPath(o.out)], async () => {
            if (dm) {
              const p = predictHalos(model, meta, dm.data, n, options);
              saveGrid(o.out, { data: o.log ? p.log : p.density, shape: outShape, meta: gridMeta }, { force: o.force === true });
            } else {
              // written under a temporary name and renamed at the end: an interrupted run leaves no output
              await saveGridStreamed(o.out, outShape, gridMeta, (tmp) => predictHalosFile(model, meta, o.dm, tmp, { ...options, log: o.log === true }), { force: o.force === true });
            }
          });
        } finally {
          model.dispose();
        }
        process.stdout.write(
          `${o.out}: [${outShape.join(',')}] in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
        );
      }),
    );
}
