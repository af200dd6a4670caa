/**
 * `lodi simulate`: a simulated universe. Gaussian ICs → 2LPT → PM N-body (src/nbody) → FoF halos → HI
 * painting (src/astro) → the prepared grids (dm, halos [4,N,N,N], hi, T_b) through src/field
 * prepareGrids, the same path `lodi prepare` uses for real simulations, written as a world directory
 * (src/io/world.ts). Files written to the output directory:
 *
 *   particles.hdf5   Gadget-like HDF5 snapshot (PartType1; positions Mpc/h, velocities km/s Gadget convention)
 *   fof.hdf5         FoF catalogue with GADGET-4 key names (Group/GroupPos, GroupMass, GroupLen, GroupVel)
 *   hi_particles.npy HI particles [n,4]: x, y, z [Mpc/h], M_HI [Msun/h]
 *   dm.npy, halos.npy, hi.npy, tb.npy, world.json   the world (io/world.ts), + .json sidecars
 *   plots/*.png      slices and P(k) of every field, halo mass function
 *   report.md, simulate.log
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CAMELS_CV, LinearPower, dndlog10M, SigmaM, omegaLambda, halofitPower, growthFactor, type Cosmology } from '../cosmo/index.js';
import { prepareGrids, powerSpectrum, haloMassFunction, mean, overdensity } from '../field/index.js';
import { memberLabel, updateWorldSummary, writeNpy, writeGadgetHdf5, writeFofCatalogue, writeWorld, WORLD_JSON, WORLD_MEMBERS, WORLD_MEMBER_NAMES, type WorldGrids, type WorldProvenance } from '../io/index.js';
import { linePlot, sliceImage, writeReport, type ReportSection } from '../report/index.js';
import { assertWritable } from '../util/atomic.js';
import { withOutputGuard } from './outputs.js';
import { Progress } from '../util/progress.js';
import { initialConditions, gadgetVelocityFactor, type ParticleState } from '../nbody/ic.js';
import { runPM } from '../nbody/pm.js';
import { findHalos, type FofResult } from '../nbody/fof.js';
import { paintHI, type HiParticles, type HiPaintOptions } from '../astro/hi-paint.js';

export interface SimulateOptions {
  /** Box side [Mpc/h] (default 25). */
  boxSize?: number;
  /** Particles per side (default 128). */
  particles?: number;
  /** Grid cells per side of the prepared grids (default = particles). */
  grid?: number;
  /** Output redshift (default 0). */
  redshift?: number;
  seed: number;
  /** PM steps (default 20). */
  steps?: number;
  /** Initial redshift (default 49). */
  zInit?: number;
  /** Force mesh / particle grid (default 2). */
  pmFactor?: number;
  cosmo?: Cosmology;
  /** Gaussian smoothing radius of the prepared grids [Mpc/h] (default 0.2, as `lodi prepare`). */
  smoothingR?: number;
  /** HI painting options (seed and box are set by the world). */
  hi?: Partial<Omit<HiPaintOptions, 'boxSize' | 'redshift' | 'seed' | 'cosmo'>>;
  /** Output directory; without it nothing is written (the world is only returned). */
  out?: string;
  force?: boolean;
  /** Skip the PNG plots and report (faster). */
  noPlots?: boolean;
  /** Suppress the progress bar (the log file is still written). */
  quiet?: boolean;
  /** Command line recorded in the provenance. */
  command?: string;
}

/** Everything a simulation produced: particles, halos, HI particles and the world's grids. */
export interface Simulation {
  options: Required<Pick<SimulateOptions, 'boxSize' | 'particles' | 'grid' | 'redshift' | 'seed' | 'steps' | 'zInit' | 'pmFactor' | 'smoothingR'>>;
  cosmo: Cosmology;
  particles: ParticleState;
  halos: FofResult;
  hi: HiParticles;
  /** The world (every grid present). */
  grids: WorldGrids & { dm: Float32Array; halos: Float32Array; hi: Float32Array; tb: Float32Array; channels: string[] };
  /** Wall-clock seconds per stage. */
  timings: Record<string, number>;
}

const VERSION = '0.1.0';

/** Files of a simulated world directory (besides plots/ and the log), checked before a run starts. */
const SIMULATION_FILES: readonly string[] = [
  'particles.hdf5',
  'fof.hdf5',
  'hi_particles.npy',
  WORLD_JSON,
  ...WORLD_MEMBER_NAMES.flatMap((m) => [WORLD_MEMBERS[m].file, WORLD_MEMBERS[m].file.replace(/\.npy$/, '.json')]),
];

/** Builds one world; writes it to `o.out` when given. */
export async function simulateWorld(o: SimulateOptions): Promise<Simulation> {
  const boxSize = o.boxSize ?? 25;
  const np1 = o.particles ?? 128;
  const grid = o.grid ?? np1;
  const z = o.redshift ?? 0;
  const steps = o.steps ?? 20;
  const zInit = o.zInit ?? 49;
  const pmFactor = o.pmFactor ?? 2;
  const cosmo = o.cosmo ?? CAMELS_CV;
  const seed = o.seed;
  if (!(boxSize > 0)) throw new Error(`--box must be positive (Mpc/h), got ${boxSize}`);
  for (const [name, v] of [['particles', np1], ['grid', grid], ['steps', steps]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
  }
  if (!(zInit > z)) throw new Error(`--z-init (${zInit}) must be above --z (${z})`);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got ${seed}`);
  const out = o.out;
  if (!out) return build();
  // Every file this command writes is checked before the first is made; a failed run removes what it made.
  for (const f of SIMULATION_FILES) assertWritable(join(out, f), o.force === true);
  return withOutputGuard([out], build);

  async function build(): Promise<Simulation> {
    if (out) mkdirSync(out, { recursive: true });
    const logFile = out ? join(out, 'simulate.log') : undefined;
    const prog = new Progress('simulate', steps + 5, { logFile, quiet: o.quiet });
    let done = 0;
    const timings: Record<string, number> = {};
    const stage = async <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
      const t0 = performance.now();
      const r = await fn();
      timings[name] = (performance.now() - t0) / 1000;
      return r;
    };
    prog.log(`lodi simulate: box ${boxSize} Mpc/h, ${np1}^3 particles, grid ${grid}, z ${z}, seed ${seed}, ${steps} steps from z ${zInit}`);
    const power = new LinearPower(cosmo);
    const state = await stage('ic', () => initialConditions({ boxSize, n: np1, zInit, seed, cosmo, power, order: 2 }));
    prog.update(++done, 'initial conditions (2LPT)');
    await stage('pm', () =>
      runPM(state, {
        cosmo,
        steps,
        outputs: [z],
        pmFactor,
        onStep: (s, total, a) => prog.update(done + s, `PM step ${s}/${total} z=${(1 / a - 1).toFixed(2)}`),
      }),
    );
    done += steps;
    const vfac = gadgetVelocityFactor(state.a);
    const velocities = new Float32Array(state.momenta.length);
    for (let i = 0; i < velocities.length; i++) velocities[i] = state.momenta[i]! * vfac;
    const halos = await stage('fof', () => findHalos(state.positions, boxSize, { particleMass: state.particleMass, velocities }));
    prog.update(++done, `FoF: ${halos.len.length} halos`);
    const hi = await stage('hi', () => paintHI({ positions: halos.positions, masses: halos.masses }, { ...(o.hi ?? {}), boxSize, redshift: z, seed, cosmo }));
    prog.update(++done, `HI painted: ${hi.masses.length} HI particles`);
    const prepared = await stage('prepare', () =>
      prepareGrids({
        boxSize,
        redshift: z,
        grid,
        cosmology: cosmo,
        dm: { positions: state.positions, particleMass: state.particleMass },
        halos: { positions: halos.positions, masses: halos.masses },
        hiParticles: { positions: hi.positions, mHI: hi.masses },
        smoothingR: o.smoothingR,
      }),
    );
    prog.update(++done, 'grids prepared');
    const options = { boxSize, particles: np1, grid, redshift: z, seed, steps, zInit, pmFactor, smoothingR: prepared.meta.smoothingR };
    const m = prepared.meta;
    // the HI-painting options given to paintHI (any other takes its default), so that the world's HI can be painted
    // again on its halos exactly (src/pipeline/truth-scatter.ts)
    const provenance: WorldProvenance = { command: o.command, version: VERSION, generator: 'lodi simulate', ...options, hiPaint: { ...(o.hi ?? {}) } };
    const grids = {
      grid,
      boxSize,
      redshift: m.redshift,
      cosmology: cosmo,
      massBins: m.massBins,
      channels: m.channels,
      smoothingR: m.smoothingR,
      mas: m.mas,
      tbFactor: m.tbFactor,
      provenance,
      dm: prepared.dm!,
      halos: prepared.halos!,
      hi: prepared.hi!,
      tb: prepared.tb!,
    };
    const sim: Simulation = { options, cosmo, particles: state, halos, hi, grids, timings };
    if (out) {
      await stage('write', () => writeSimulation(sim, out, { force: o.force, velocities, summary: { ...simulationSummary(sim, o.command), painted: { totals: m.totals, counts: m.counts } } }));
      if (!o.noPlots) await stage('plots', () => plotSimulation(sim, out, power));
      prog.update(++done, 'files written');
      updateWorldSummary(out, { timings });
      prog.log(`world written to ${out} (${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(', ')})`);
    }
    prog.update(steps + 5, 'done');
    return sim;
  }
}

/** The simulation's fields of world.json (besides the world's own facts written by writeWorld). */
function simulationSummary(w: Simulation, command?: string): Record<string, unknown> {
  let mhi = 0;
  for (let i = 0; i < w.hi.haloHI.length; i++) mhi += w.hi.haloHI[i]!;
  const V = w.options.boxSize ** 3;
  return {
    code: `lodi ${VERSION}`,
    command,
    ...w.options,
    cosmology: w.cosmo,
    particleMass: w.particles.particleMass,
    halos: w.halos.len.length,
    linkingLength: w.halos.linkingLength,
    hiParticles: w.hi.masses.length,
    totalHI: mhi,
    omegaHI: mhi / V / 2.77536627e11,
    timings: w.timings,
  };
}

interface WriteOpts {
  force?: boolean;
  velocities: Float32Array;
  summary: Record<string, unknown>;
}

/** Writes the particles, the FoF catalogue, the HI particles and the world. */
async function writeSimulation(w: Simulation, out: string, o: WriteOpts): Promise<void> {
  const force = o.force ?? false;
  const { boxSize, redshift } = w.options;
  const c = w.cosmo;
  const provenance = w.grids.provenance;
  const pos32 = Float32Array.from(w.particles.positions);
  for (let i = 0; i < pos32.length; i++) if (pos32[i]! >= boxSize) pos32[i] = 0;
  await writeGadgetHdf5(
    join(out, 'particles.hdf5'),
    { boxSize, redshift, omegaM: c.Omega_m, omegaL: omegaLambda(c), omegaB: c.Omega_b, h: c.h, positions: pos32, velocities: o.velocities, particleMass: w.particles.particleMass, provenance },
    { force },
  );
  await writeFofCatalogue(
    join(out, 'fof.hdf5'),
    {
      boxSize,
      redshift,
      omegaM: c.Omega_m,
      omegaL: omegaLambda(c),
      omegaB: c.Omega_b,
      h: c.h,
      groups: { positions: w.halos.positions, masses: w.halos.masses, len: w.halos.len, velocities: w.halos.velocities },
      provenance: { ...provenance, linkingLength: w.halos.linkingLength, b: 0.2, minMembers: 20 },
    },
    { force },
  );
  const nhi = w.hi.masses.length;
  const hiTable = new Float64Array(4 * nhi);
  for (let i = 0; i < nhi; i++) {
    hiTable[4 * i] = w.hi.positions[3 * i]!;
    hiTable[4 * i + 1] = w.hi.positions[3 * i + 1]!;
    hiTable[4 * i + 2] = w.hi.positions[3 * i + 2]!;
    hiTable[4 * i + 3] = w.hi.masses[i]!;
  }
  writeNpy(join(out, 'hi_particles.npy'), hiTable, [nhi, 4], { force });
  writeWorld(out, w.grids, { force, summary: o.summary });
}

async function plotSimulation(w: Simulation, out: string, power: LinearPower): Promise<ReportSection[]> {
  const dir = join(out, 'plots');
  mkdirSync(dir, { recursive: true });
  const N = w.options.grid;
  const { boxSize, redshift } = w.options;
  const shape = [N, N, N] as const;
  const slab = Math.max(1, Math.round(N / 16));
  const fields: { name: string; data: Float32Array; label: string; title: string }[] = [
    { name: 'dm', data: w.grids.dm, label: memberLabel('dm'), title: 'Dark matter' },
    { name: 'hi', data: w.grids.hi, label: memberLabel('hi'), title: 'HI density' },
    { name: 'tb', data: w.grids.tb, label: memberLabel('tb'), title: '21 cm brightness temperature' },
  ];
  const C = w.grids.channels.length;
  for (let c = 0; c < C; c++) {
    fields.push({
      name: `halos_${c}`,
      data: w.grids.halos.subarray(c * N ** 3, (c + 1) * N ** 3),
      label: memberLabel('halos'),
      title: `Halos ${w.grids.channels[c]}`,
    });
  }
  const smoothR = w.options.smoothingR;
  const kCut = smoothR > 0 ? 1 / smoothR : Infinity;
  const images: { path: string; caption: string }[] = [];
  const pkSeries: { name: string; x: Float64Array; y: Float64Array; dashed?: boolean }[] = [];
  for (const f of fields) {
    const path = join(dir, `${f.name}_slice.png`);
    sliceImage(f.data, shape, { axis: 2, index: 'project', start: 0, thickness: slab, log: true, colormap: f.name === 'tb' || f.name === 'hi' ? 'magma' : 'viridis', title: f.title, colorbarLabel: f.label, boxSize }, path);
    images.push({ path, caption: `${f.title}: ${slab}-cell slab` });
    // an empty field (e.g. a mass bin without halos in a small box) has no overdensity
    if (!(mean(f.data) > 0)) continue;
    const pk = powerSpectrum(overdensity(f.data), N, { boxSize, mas: 'CIC' });
    // the grids are Gaussian-smoothed (exp(−k²R²) in P): beyond k = 1/R the spectra only fall off
    const keep = Array.from(pk.k, (_, i) => i).filter((i) => pk.k[i]! <= kCut);
    pkSeries.push({ name: f.name, x: Float64Array.from(keep, (i) => pk.k[i]!), y: Float64Array.from(keep, (i) => pk.pk[i]!) });
  }
  const kLin = pkSeries[0]!.x;
  const D = growthFactor(w.cosmo, redshift);
  pkSeries.push({ name: 'linear', x: kLin, y: Float64Array.from(kLin, (k) => power.P0(k) * D * D), dashed: true });
  pkSeries.push({ name: 'halofit', x: kLin, y: halofitPower(power, kLin, redshift), dashed: true });
  const pkPath = join(dir, 'pk.png');
  await linePlot({ series: pkSeries, xLabel: 'k [h/Mpc]', yLabel: 'P(k) [(Mpc/h)^3]', logX: true, logY: true, title: Number.isFinite(kCut) ? `Power spectra of δ = ρ/ρ̄ − 1 (grids smoothed, R = ${smoothR} Mpc/h; k ≤ 1/R)` : 'Power spectra of δ = ρ/ρ̄ − 1' }, pkPath);
  const sections: ReportSection[] = [{ title: 'Fields', images }];
  // what a reader would otherwise misread: a missing HI curve, and halofit far above a small box's P(k)
  const notes = ['P(k) of every field up to k = 1/R_smooth (the prepared grids are Gaussian-smoothed, so their P(k) carries exp(−k²R²)); linear and halofit (Takahashi 2012) matter P(k), unsmoothed, for reference.'];
  if (fields.some((f) => f.name === 'hi') && fields.some((f) => f.name === 'tb'))
    notes.push('HI lies under T_b: T_b is proportional to ρ_HI here (no velocity or spin-temperature terms), so δ_HI = δ_Tb and the two curves coincide.');
  const kF = (2 * Math.PI) / boxSize;
  if (boxSize < 100)
    notes.push(
      `A ${boxSize} Mpc/h box has no modes below k_F = ${kF.toFixed(3)} h/Mpc, so its non-linear power falls short of halofit's (which assumes all the large-scale power); ` +
        'the shortfall is largest at small k and is expected (VALIDATION.md, "PM in a small box"), not a bug of the N-body code.',
    );
  sections.push({ title: 'Power spectra', images: [{ path: pkPath, caption: notes.join(' ') }] });
  if (w.halos.masses.length > 0) {
    const V = boxSize ** 3;
    const mf = haloMassFunction(w.halos.masses, V, { bins: 12 });
    const sig = new SigmaM(power);
    const hmfPath = join(dir, 'hmf.png');
    const ok = Array.from(mf.counts, (c) => c > 0);
    const sel = <T extends ArrayLike<number>>(a: T): number[] => Array.from(a).filter((_, i) => ok[i]);
    await linePlot(
      {
        series: [
          { name: 'FoF', x: sel(mf.mass), y: sel(mf.dndlog10m), yErr: sel(mf.error) },
          { name: 'Sheth–Tormen', x: sel(mf.mass), y: sel(mf.mass).map((M) => dndlog10M(sig, M, redshift)), dashed: true },
        ],
        xLabel: 'M [Msun/h]',
        yLabel: 'dn/dlog10M [(h/Mpc)^3]',
        logX: true,
        logY: true,
        title: 'Halo mass function',
      },
      hmfPath,
    );
    sections.push({ title: 'Halos', images: [{ path: hmfPath, caption: 'FoF (b = 0.2, ≥ 20 particles) vs Sheth–Tormen, Poisson errors' }] });
  }
  const t = w.timings;
  writeReport(
    {
      title: `Simulated world (seed ${w.options.seed})`,
      meta: {
        box: `${boxSize} Mpc/h`,
        particles: `${w.options.particles}^3`,
        grid: N,
        redshift,
        seed: w.options.seed,
        steps: w.options.steps,
        'z init': w.options.zInit,
        halos: w.halos.len.length,
        'HI particles': w.hi.masses.length,
      },
      sections: [
        ...sections,
        { title: 'Timings', tables: [{ headers: ['stage', 'seconds'], rows: Object.entries(t).map(([k, v]) => [k, v]) }] },
      ],
    },
    { markdown: join(out, 'report.md'), force: true },
  );
  return sections;
}
