/**
 * Halo sampler benchmark (`npm run bench -- sources`): halos sampled per second and peak memory of
 * sampleHaloField (src/astro/sampler) versus box size and minimum halo mass, z = 6 and two progenitor steps
 * (z_prog = 1.02 (1 + z) - 1), sampler cells of 2 Mpc/h, fine grid 3x (the code's DIM / HII_DIM), CAMELS
 * cosmology. Each configuration runs in its own process so that its peak RSS is its own. Writes the 'sources'
 * section of BENCHMARKS.md; `--print` only prints it. LODI_BENCH_SOURCES="L:Mmin,..." (Mpc/h : Msun) overrides
 * the configurations.
 */
import { execFileSync } from 'node:child_process';
import { CAMELS_CV } from '../src/cosmo/params.js';
import { sampleHaloField, type StageTimes } from '../src/astro/sampler/halo-field.js';
import { machineLine, mdTable, writeSection } from './lib.js';

interface Result {
  box: number;
  minMassMsun: number;
  grid: number;
  halos: number[];
  timings: StageTimes;
  cpu: StageTimes;
  total: number;
  totalCpu: number;
  maxRssMiB: number;
}

function runOne(box: number, minMassMsun: number): Result {
  const grid = Math.round(box / 2);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const f = sampleHaloField({ cosmology: CAMELS_CV, boxSize: box, grid, zLowest: 6, zMax: 6.3, minMass: minMassMsun * CAMELS_CV.h, seed: 1 });
  const total = (performance.now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  return {
    box,
    minMassMsun,
    grid,
    halos: f.catalogues.map((c) => c.count),
    timings: f.timings,
    cpu: f.cpuTimings,
    total,
    totalCpu: (c1.user + c1.system) / 1e6,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

const args = process.argv.slice(2);
const child = args.indexOf('--one');
if (child >= 0) {
  const [box, mmin] = args[child + 1]!.split(':').map(Number) as [number, number];
  process.stdout.write(JSON.stringify(runOne(box, mmin)) + '\n');
} else {
  const configs = (process.env.LODI_BENCH_SOURCES ?? '25:1e9,50:1e9,25:1e8,50:1e8').split(',');
  const rows: (string | number)[][] = [];
  for (const c of configs) {
    const out = execFileSync(process.execPath, [process.argv[1]!, '--one', c], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const r = JSON.parse(out.trim().split('\n').pop()!) as Result;
    const t = r.cpu;
    const steps = r.halos.slice(1).reduce((a, b) => a + b, 0);
    rows.push([
      `${r.box}`,
      `${r.grid}^3`,
      r.minMassMsun.toExponential(0),
      r.halos[0]!,
      +(r.halos[0]! / t.cells / 1e6).toFixed(2),
      +(steps / t.progenitors / 1e6).toFixed(2),
      +t.tables.toFixed(2),
      +(t.initialConditions + t.finder).toFixed(2),
      +t.positions.toFixed(2),
      +r.totalCpu.toFixed(1),
      +r.total.toFixed(1),
      Math.round(r.maxRssMiB),
    ]);
    process.stderr.write(`L=${r.box} Mmin=${r.minMassMsun}: ${r.total.toFixed(1)} s, ${r.halos.join('/')} halos\n`);
  }
  const body = `${machineLine()}, one thread.

\`sampleHaloField\` (src/astro/sampler): z = 6 (number-limited cells, DexM finder) and two mass-limited progenitor
steps to z = 6.28, cells of 2 Mpc/h, fine grid 3x per side, 2LPT positions, CAMELS cosmology, seed 1. Rates are
halos per CPU second of the draws alone (cells at z = 6; progenitors over both steps); tables = all CHMF tables;
ICs = initial conditions, displacements and the finder (libtorch FFTs); stage times are CPU seconds (all threads),
robust to other load on the machine; "wall" is the elapsed time of the whole call. Peak RSS of the whole process
(Node + libtorch).

${mdTable(['L [Mpc/h]', 'cells', 'M_min [Msun]', 'halos z=6', 'cells [M halos/s]', 'progenitors [M halos/s]', 'tables [s]', 'ICs+finder [s]', '2LPT [s]', 'total CPU [s]', 'wall [s]', 'peak RSS [MiB]'], rows)}
`;
  process.stdout.write(body);
  if (!args.includes('--print')) writeSection('BENCHMARKS.md', 'sources', body);
}
