/**
 * `lodi demo`: the main job end to end on the bundled models: an unseen simulated world (a seed no
 * bundled model trained on) → `lodi run` (HALOgen → LODI with latent overlap, several realisations,
 * tiling and single-pass baselines) → `lodi evaluate` against the world's own T_b, with a report.
 * `runWorldDemo` keeps the statistics of a simulated world alone (`lodi demo --world-only`).
 */
import type { PrecisionChoice } from '../nets/precision.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { copyFileSync } from 'node:fs';
import { simulateWorld } from './simulate.js';
import { evaluateRun } from './evaluate.js';
import { runPipeline } from './run.js';
import { modelPath } from './models.js';
import { HALOGEN_KIND, type HalogenMeta } from '../halogen/checkpoint.js';
import { halogenTrainedWorlds } from '../halogen/init.js';
import { LODI_KIND, lodiTrainedWorlds, type LodiMeta } from '../lodi/checkpoint.js';
import { readCheckpointMeta, resolveModelFile } from '../train/checkpoint.js';
import { LinearPower, SigmaM, dndlog10M } from '../cosmo/index.js';
import { crossPowerSpectrum, haloMassFunction, overdensity, powerSpectrum } from '../field/index.js';
import { memberLabel } from '../io/index.js';
import { linePlot, panelImages, writeReport, type ReportSection } from '../report/index.js';

/** First of DIR, DIR-1, DIR-2, ... that does not exist, so re-running the demo never clobbers a result. */
function freshDir(base: string): string {
  if (!existsSync(base)) return base;
  for (let i = 1; ; i++) if (!existsSync(`${base}-${i}`)) return `${base}-${i}`;
}

export interface DemoOptions {
  out: string;
  particles: number;
  box: number;
  z: number;
  seed: number;
}

/**
 * The bundled end-to-end run: a small simulated world (ICs -> PM -> FoF -> HI painting -> grids),
 * then the statistics a 21 cm user looks at first (P(k) of every field, the T_b-matter
 * cross-correlation, the halo mass function against Sheth-Tormen), with plots and a report.
 */
export async function runWorldDemo(o: DemoOptions): Promise<string> {
  const out = freshDir(o.out);
  const worldDir = join(out, 'world');
  process.stderr.write(`demo: building a ${o.particles}^3-particle world in a ${o.box} Mpc/h box at z = ${o.z} -> ${worldDir}\n`);
  const world = await simulateWorld({
    out: worldDir,
    boxSize: o.box,
    particles: o.particles,
    grid: o.particles,
    redshift: o.z,
    seed: o.seed,
    steps: 16,
    command: `lodi demo --world-only --out ${o.out}`,
  });
  const n = world.options.grid;
  const L = o.box;
  if (world.halos.len.length === 0)
    throw new Error(
      `demo: the ${o.particles}^3-particle world in a ${o.box} Mpc/h box formed no halos, so it has no HI to map; ` +
        `use more --particles (default 64) or a smaller --box`,
    );
  const deltaDm = overdensity(world.grids.dm);
  const deltaTb = overdensity(world.grids.tb);
  const pkDm = powerSpectrum(deltaDm, n, { boxSize: L, mas: 'CIC' });
  const cross = crossPowerSpectrum(deltaTb, deltaDm, n, { boxSize: L, mas: 'CIC' });
  // The maps are smoothed with R = 0.2 Mpc/h; beyond k ~ 1/R the spectra only show the filter.
  const kMax = 1 / 0.2;
  const keep = (k: ArrayLike<number>): number[] => Array.from(k).map((_, i) => i).filter((i) => k[i]! <= kMax);
  const iDm = keep(pkDm.k);
  const iX = keep(cross.k);
  const pick = (a: ArrayLike<number>, idx: number[]): number[] => idx.map((i) => a[i]!);

  const pkPng = join(out, 'pk.png');
  await linePlot(
    {
      title: `Power spectra, z = ${o.z}`,
      xLabel: 'k [h/Mpc]',
      yLabel: 'P(k) [(Mpc/h)^3]',
      logX: true,
      logY: true,
      series: [
        { name: 'dark matter δ', x: pick(pkDm.k, iDm), y: pick(pkDm.pk, iDm) },
        { name: 'T_b / <T_b> - 1', x: pick(cross.k, iX), y: pick(cross.p11, iX) },
      ],
    },
    pkPng,
  );
  const rPng = join(out, 'r.png');
  await linePlot(
    {
      title: 'Cross-correlation of T_b with the dark matter',
      xLabel: 'k [h/Mpc]',
      yLabel: 'r(k)',
      logX: true,
      refLine: 1,
      series: [{ name: 'r(k) = P_Tb,m / sqrt(P_Tb P_m)', x: pick(cross.k, iX), y: pick(cross.r, iX) }],
    },
    rPng,
  );

  const volume = L ** 3;
  const minMass = 20 * world.particles.particleMass;
  const hmf = haloMassFunction(world.halos.masses, volume, { bins: 8, mMin: minMass });
  const sig = new SigmaM(new LinearPower(world.cosmo));
  const hmfPng = join(out, 'hmf.png');
  const used = Array.from(hmf.mass).map((_, i) => i).filter((i) => hmf.counts[i]! > 0);
  await linePlot(
    {
      title: `FoF halo mass function (${world.halos.len.length} halos)`,
      xLabel: 'M [Msun/h]',
      yLabel: 'dn/dlog10M [(h/Mpc)^3]',
      logX: true,
      logY: true,
      series: [
        { name: 'FoF (Poisson errors)', x: pick(hmf.mass, used), y: pick(hmf.dndlog10m, used), yErr: pick(hmf.error, used), points: true },
        { name: 'Sheth-Tormen', x: pick(hmf.mass, used), y: pick(hmf.mass, used).map((m) => dndlog10M(sig, m, o.z, { model: 'st' })), dashed: true },
      ],
    },
    hmfPng,
  );

  const slicesPng = join(out, 'slices.png');
  const shape: [number, number, number] = [n, n, n];
  const n3 = n ** 3;
  const channelSum = new Float32Array(n3);
  for (let c = 0; c < 4; c++) for (let i = 0; i < n3; i++) channelSum[i]! += world.grids.halos[c * n3 + i]!;
  const slab = { axis: 2 as const, index: 'project' as const, thickness: Math.max(1, Math.round(n / 8)), boxSize: L };
  panelImages(
    [
      { data: world.grids.dm, shape, ...slab, log: true, title: 'dark matter', colorbarLabel: memberLabel('dm') },
      { data: channelSum, shape, ...slab, log: true, title: 'halos (4 mass bins summed)', colorbarLabel: memberLabel('halos') },
      { data: world.grids.tb, shape, ...slab, log: true, colormap: 'magma', title: '21 cm brightness temperature', colorbarLabel: memberLabel('tb') },
    ],
    slicesPng,
    { columns: 3, title: `Projected slabs of ${(L / 8).toFixed(1)} Mpc/h` },
  );

  const meanTb = world.grids.tb.reduce((s, v) => s + v, 0) / n3;
  const lowK = cross.r.length ? cross.r[0]! : NaN;
  const sections: ReportSection[] = [
    {
      title: 'The world',
      text:
        `${o.particles}^3 dark-matter particles in a ${L} Mpc/h box (CAMELS CV cosmology), 2LPT initial conditions at ` +
        `z = ${world.options.zInit}, ${world.options.steps} particle-mesh steps to z = ${o.z}, ${world.halos.len.length} FoF halos ` +
        `(≥ 20 particles), HI painted on halos with the Villaescusa-Navarro et al. (2018) relation, grids of ${n}^3 cells ` +
        `smoothed with R = 0.2 Mpc/h. Mean T_b = ${meanTb.toPrecision(3)} mK. Seed ${o.seed}. Files: \`world/\`.`,
      images: [{ path: slicesPng, caption: 'Dark matter, halo channels and T_b (log colour scales).' }],
    },
    {
      title: 'Power spectra',
      text: `Pylians conventions, CIC window deconvolved, k up to 1/R = ${kMax} h/Mpc. r(k) of T_b with matter at the largest scale: ${lowK.toFixed(3)}.`,
      images: [
        { path: pkPng, caption: 'Auto power spectra of the dark-matter and T_b fluctuations.' },
        { path: rPng, caption: 'Cross-correlation coefficient r(k).' },
      ],
    },
    {
      title: 'Halo mass function',
      text: 'FoF halos against the Sheth-Tormen mass function of the same cosmology; a small box has few massive halos.',
      images: [{ path: hmfPng }],
    },
    {
      title: 'Timings',
      tables: [{ headers: ['stage', 'seconds'], rows: Object.entries(world.timings).map(([k, v]) => [k, v]) }],
    },
  ];
  writeReport(
    { title: 'lodi demo', meta: { seed: o.seed, box: `${L} Mpc/h`, particles: `${o.particles}^3`, redshift: o.z }, sections },
    { markdown: join(out, 'report.md'), html: join(out, 'report.html'), force: true },
  );
  return out;
}

export interface MainDemoOptions {
  out: string;
  /** Particles (and grid cells) per side; the box is N × the LODI model's voxel (25/128 Mpc/h for the bundled one). */
  particles: number;
  seed: number;
  /** Models (run directory or .safetensors; default: the bundled ones). */
  halogen?: string;
  lodi?: string;
  /** The command line recorded in the outputs' provenance (default: rebuilt from these options). */
  command?: string;
  realizations: number;
  quiet: boolean;
  /** Where the networks run ('cpu' default, 'cuda', 'cuda:N', 'auto'). */
  device?: string;
  /** Precision of the networks (default float32; src/nets/precision.ts). */
  precision?: PrecisionChoice;
}

/**
 * Refuses, before anything is simulated, a seed that made a world the demo's models (their metadata `hg`, `ld`;
 * `models`: the paths given, else they are the bundled ones) trained on: `lodi evaluate` would refuse it only after the ~10-minute world and run.
 *
 * @throws Error naming the seed, the training world and the model.
 */
export function assertUnseenSeed(seed: number, hg: HalogenMeta, ld: LodiMeta, models: { halogen?: string; lodi?: string } = {}): void {
  const which = (given?: string): string => (given ? 'given' : 'bundled');
  for (const [name, worlds, given] of [['HALOgen', halogenTrainedWorlds(hg), models.halogen], ['LODI', lodiTrainedWorlds(ld), models.lodi]] as const) {
    const w = worlds.find((x) => x.seed === seed);
    if (w) throw new Error(`lodi demo: --seed ${seed} made ${w.dir}, a world the ${which(given)} ${name} trained on; choose a seed none of the models trained on${given ? '' : ' (the default 301, or e.g. 302)'}`);
  }
}

/** The main-job demo; returns the output directory (holding report/report.html and metrics.json). */
export async function runDemo(o: MainDemoOptions): Promise<string> {
  const lodiMeta = readCheckpointMeta<LodiMeta>(resolveModelFile(modelPath('lodi', o.lodi)), LODI_KIND);
  assertUnseenSeed(o.seed, readCheckpointMeta<HalogenMeta>(resolveModelFile(modelPath('halogen', o.halogen)), HALOGEN_KIND), lodiMeta, o);
  // the world is made at the voxel, redshift and smoothing LODI was trained at (HALOgen's voxel is checked by lodi run)
  const contract = lodiMeta.contract;
  const voxel = contract.voxel;
  const models = o.halogen || o.lodi ? 'the given models' : 'the bundled models';
  const command =
    o.command ??
    `lodi demo --out ${o.out} --particles ${o.particles} --seed ${o.seed} --realizations ${o.realizations}${o.halogen ? ` --halogen ${o.halogen}` : ''}${o.lodi ? ` --lodi ${o.lodi}` : ''}`;
  const out = freshDir(o.out);
  const box = o.particles * voxel;
  const t0 = Date.now();
  const say = (m: string): void => {
    if (!o.quiet) process.stderr.write(`demo: ${m}\n`);
  };
  say(`1/3 building an unseen world: ${o.particles}^3 particles in a ${box.toFixed(2)} Mpc/h box at z = 0, seed ${o.seed} -> ${join(out, 'world')}`);
  await simulateWorld({
    out: join(out, 'world'),
    boxSize: box,
    particles: o.particles,
    grid: o.particles,
    redshift: contract.redshift ?? 0,
    ...(contract.smoothingR != null ? { smoothingR: contract.smoothingR } : {}),
    seed: o.seed,
    noPlots: true,
    quiet: o.quiet,
    command,
  });
  say(`2/3 lodi run: HALOgen -> LODI (latent overlap, ${o.realizations} realisations + tiling and single-pass baselines) with ${models} -> ${join(out, 'run')}`);
  await runPipeline({ dm: join(out, 'world', 'dm.npy'), out: join(out, 'run'), halogen: o.halogen, lodi: o.lodi, realizations: o.realizations, seed: 1, baselines: true, baselineMethods: ['tiling', 'single'], quiet: o.quiet, device: o.device, precision: o.precision, command });
  say(`3/3 lodi evaluate against the world's own T_b -> ${join(out, 'report')}`);
  const { metrics: m } = await evaluateRun({ runs: [join(out, 'run')], truths: [join(out, 'world')], out: join(out, 'report'), quiet: o.quiet, command });
  copyFileSync(join(out, 'report', 'metrics.json'), join(out, 'metrics.json'));
  const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');
  say(
    `mean |P_gen/P_true - 1| = ${f(m.mean_abs_residual_k_le_10)} (target <= 0.10), r(k = 1 h/Mpc) = ${f(m.r_at_k_1)} (target >= 0.9)` +
      ('skipped' in m.truth_scatter ? '' : `; HI repaints of this world's halos (an exact sampler of its p(T_b | halos)) score ${f(m.truth_scatter.mean_abs_residual_k_le_10)} and ${f(m.truth_scatter.r_at_k_1)}`),
  );
  say(`done in ${((Date.now() - t0) / 60000).toFixed(1)} min`);
  return out;
}
