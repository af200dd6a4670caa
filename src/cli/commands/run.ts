import type { Command } from 'commander';
import { refuseGiven } from '../option-checks.js';
import { runPipeline } from '../../pipeline/run.js';
import { choice, commandLine, deviceOption, noiseOption, precisionOption, forceOption, parseBoxSize, parseLengthUnit, parsePositiveInteger, parseSeed, quietOption } from '../options.js';

const METHODS = ['overlap', 'tiling', 'average'] as const;

export function register(program: Command): void {
  program
    .command('run')
    .description(
      'the main job: DM density grid → HALOgen halo channels → LODI T_b maps (latent overlap), with the bundled models unless ' +
        '--halogen/--lodi are given. Writes halos.npy, tb_0.npy … (mK), run.json and run.log to --out. ' +
        'A 64^3 box takes about 2 minutes per realisation on 2 cores, a 128^3 box 12-18 minutes; HALOgen and LODI stream the box from and to disk, so memory grows only as N^2: 2.2 GB at 64^3, 2.5 GB at 128^3, about 3 GB at 512^3 (BENCHMARKS.md). ' +
        'A killed run continues with --resume.',
    )
    .option('--dm <file.npy>', 'DM density grid [N,N,N] with its JSON sidecar (e.g. a world\'s dm.npy); or --snapshot')
    .option('--snapshot <path>', 'a simulation snapshot (Gadget/AREPO HDF5 or binary, file, piece or base name) gridded first into <out>/world/dm.npy as lodi prepare does, at the LODI model\'s voxel and smoothing; instead of --dm')
    .option('--length-unit <unit>', 'with --snapshot: length unit of files without UnitLength_in_cm (kpc/h or Mpc/h)', parseLengthUnit)
    .option('--box <Mpc/h>', 'with --snapshot: box size for binary snapshots whose header BoxSize is 0', parseBoxSize)
    .requiredOption('--out <dir>', 'run directory')
    .option('--halos <file.npy>', 'condition on these halo channels [4,N,N,N] instead of running HALOgen (e.g. true halos, to validate LODI alone)')
    .option('--halogen <path>', 'HALOgen model (run directory or .safetensors; default: bundled)')
    .option('--lodi <path>', 'LODI model (run directory or .safetensors; default: bundled)')
    .option('--realizations <n>', 'T_b realisations', parsePositiveInteger, 5)
    .option('--seed <int>', 'seed of the first realisation (then seed+1, ...)', parseSeed, 1)
    .option('--method <m>', 'overlap (latent overlap), tiling or average', choice(METHODS), 'overlap' as (typeof METHODS)[number])
    .option('--batch <n>', 'sub-volumes per denoiser call (the same stage of every realisation shares the batches)', parsePositiveInteger, 8)
    .option('--steps <n>', 'sampling steps (default: the training T, 50)', parsePositiveInteger)
    .option('--baselines', 'also generate realisation 0 by tiling and by averaging (for stitching diagnostics)')
    .option('--ignore-contract', "run even if the DM grid's voxel size or unit differs from what the models were trained on (refused otherwise)")
    .option('--resume', 'continue a killed run (the halo prediction, finished realisations and the finished sub-volumes of the interrupted map are kept)')
    .addOption(forceOption('an existing run'))
    .addOption(deviceOption())
    .addOption(precisionOption())
    .addOption(noiseOption())
    .addOption(quietOption('run.log'))
    .action(async (o, cmd: Command) => {
      if (o.halos !== undefined) refuseGiven(cmd, ['halogen'], 'with --halos (the given halo channels replace HALOgen)');
      if (o.dm !== undefined) refuseGiven(cmd, ['snapshot', 'lengthUnit', 'box'], 'with --dm (the grid is given)');
      if ((o.dm === undefined) === (o.snapshot === undefined)) throw new Error('give the DM grid (--dm file.npy) or a snapshot to grid (--snapshot path)');
      const r = await runPipeline({
        dm: o.dm,
        snapshot: o.snapshot,
        lengthUnit: o.lengthUnit,
        box: o.box,
        halos: o.halos,
        halogen: o.halogen,
        lodi: o.lodi,
        out: o.out,
        realizations: o.realizations,
        seed: o.seed,
        method: o.method,
        batch: o.batch,
        steps: o.steps,
        baselines: o.baselines === true,
        ignoreContract: o.ignoreContract === true,
        resume: o.resume === true,
        force: o.force === true,
        quiet: o.quiet === true,
        device: o.device,
        precision: o.precision,
        noise: o.noise,
        command: commandLine(),
      });
      const t = Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ');
      process.stdout.write(`${o.out}: halos.npy + ${r.realizations} T_b realisation(s) (${t}); next: lodi evaluate --run ${o.out} --truth WORLD --out REPORT\n`);
    });
}
