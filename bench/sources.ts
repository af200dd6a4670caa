/**
 * Halo sampler benchmark (`npm run bench -- sources`): halos sampled per second and peak memory of
 * sampleHaloField (src/astro/sampler) versus box size and minimum halo mass, z = 6 and two progenitor steps
 * (z_prog = 1.02 (1 + z) - 1), sampler cells of 2 Mpc/h, fine grid 3x (the code's DIM / HII_DIM), CAMELS
 * cosmology. Each configuration runs in its own process so that its peak RSS is its own. Writes the 'sources'
 * section of BENCHMARKS.md; `--print` only prints it. LODI_BENCH_SOURCES="L:Mmin,..." (Mpc/h : Msun) overrides
 * the configurations.
 *
 * `--hmf` instead draws the figure of docs/astro-sampler.md (docs/astro-sampler-hmf.png): the merger history of a
 * 30 Mpc/h box from z = 6 to 20 (M_min = 1e8 Msun, as the paper) against the code's Sheth-Tormen mass function
 * (Davies et al. 2025, Fig. 4), and prints the ratios per mass decade for it, for M_min = 5e8 Msun and without
 * the mass correction.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { dndlnM } from '../src/cosmo/massfunction.js';
import { CAMELS_CV } from '../src/cosmo/params.js';
import { LinearPower } from '../src/cosmo/power.js';
import { SigmaM } from '../src/cosmo/sigma.js';
import { massHistogram } from '../src/astro/sampler/catalogue.js';
import { sampleHaloField, type SampledHaloField, type StageTimes } from '../src/astro/sampler/halo-field.js';
import { ST_HMF_21CMFAST } from '../src/astro/sampler/params.js';
import { multiPanel, type Series } from '../src/report/plots.js';
import { machineLine, mdTable, repoRoot, writeSection } from './lib.js';

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

/** Sampled and expected (code's ST) halos per 0.25 dex bin at each redshift of `zs`. */
function hmfRows(f: SampledHaloField, sig: SigmaM, zs: number[], edges: number[]) {
  const V = f.catalogues[0]!.boxSize ** 3;
  return zs.map((zWant) => {
    const c = f.catalogues.reduce((a, b) => (Math.abs(b.z - zWant) < Math.abs(a.z - zWant) ? b : a));
    const obs = massHistogram(c.mass, edges);
    const exp = edges.slice(0, -1).map((lo, b) => {
      const hi = edges[b + 1]!;
      let e = 0;
      for (let k = 0; k < 16; k++) {
        const M = lo * Math.pow(hi / lo, (k + 0.5) / 16);
        e += (dndlnM(sig, M, c.z, { model: 'st', st: ST_HMF_21CMFAST, deltaC: 1.686 }) * Math.log(hi / lo)) / 16;
      }
      return e * V;
    });
    return { z: c.z, obs, exp, V };
  });
}

async function hmfFigure(): Promise<void> {
  const sig = new SigmaM(new LinearPower(CAMELS_CV));
  const h = CAMELS_CV.h;
  const box = 30;
  const run = (minMassMsun: number, corr: number, zMax: number): SampledHaloField =>
    sampleHaloField({ cosmology: CAMELS_CV, sigma: sig, boxSize: box, grid: 15, hiresFactor: 2, zLowest: 6, zMax, minMass: minMassMsun * h, seed: 3, sampler: { haloMassCorrection: corr } });
  const zs = [6, 8, 10, 12, 15, 20];
  const zsFigure = [6, 8, 10, 15, 20];
  const edgesFor = (minMassMsun: number): number[] => Array.from({ length: 17 }, (_, b) => minMassMsun * h * Math.pow(10, 0.25 * b));
  const edges = edgesFor(1e8);
  const main = run(1e8, 0.89, 20);
  const rows = hmfRows(main, sig, zs, edges);
  const figRows = hmfRows(main, sig, zsFigure, edges);
  const mid = edges.slice(0, -1).map((e, b) => Math.sqrt(e * edges[b + 1]!));
  const dlog = 0.25;
  const top: Series[] = [];
  const bottom: Series[] = [];
  for (const r of figRows) {
    const keep = Array.from(r.obs, (o, b) => o > 0 && r.exp[b]! >= 1);
    const pick = <T>(a: ArrayLike<T>): T[] => Array.from(a).filter((_, b) => keep[b]);
    const name = `z = ${r.z.toFixed(1)}`;
    top.push({ name, x: pick(mid), y: pick(r.obs).map((o) => o / r.V / dlog), yErr: pick(r.obs).map((o) => Math.sqrt(o) / r.V / dlog) });
    top.push({ name: `${name} ST`, x: pick(mid), y: pick(r.exp).map((e) => e / r.V / dlog), dashed: true });
    bottom.push({ name, x: pick(mid), y: pick(r.obs).map((o, i) => o / pick(r.exp)[i]!), yErr: pick(r.exp).map((e) => 1 / Math.sqrt(e)), points: true });
  }
  const png = join(repoRoot, 'docs', 'astro-sampler-hmf.png');
  await multiPanel(
    {
      title: `Halo sampler: ${box} Mpc/h box, z = 6 to 20, M_min = 1e8 Msun, vs the code's Sheth-Tormen`,
      panels: [
        { series: top, xLabel: 'M [Msun/h]', yLabel: 'dn/dlog10 M [(h/Mpc)^3]', logX: true, logY: true },
        { series: bottom, xLabel: 'M [Msun/h]', yLabel: 'sampled / ST', logX: true, refLine: 1, yDomain: [0.5, 1.5] },
      ],
    },
    png,
  );
  // ratios per mass decade: the figure's run, a higher M_min, and no mass correction (Appendix B)
  const variants: [string, ReturnType<typeof hmfRows>][] = [
    ['1e8, 0.89', rows],
    ['5e8, 0.89', hmfRows(run(5e8, 0.89, 20), sig, zs, edgesFor(5e8))],
    ['1e8, 1', hmfRows(run(1e8, 1, 10), sig, zs.filter((z) => z <= 10), edges)],
  ];
  const table: (string | number)[][] = [];
  for (const [label, rs] of variants) {
    for (const r of rs) {
      const cells: (string | number)[] = [label, r.z.toFixed(1)];
      for (let d = 0; d < 3; d++) {
        let o = 0;
        let e = 0;
        for (let b = 4 * d; b < 4 * d + 4; b++) {
          o += r.obs[b]!;
          e += r.exp[b]!;
        }
        cells.push(e >= 3 ? `${(o / e).toFixed(3)} ± ${(Math.sqrt(e) / e).toFixed(3)} (${o})` : '-');
      }
      table.push(cells);
    }
  }
  process.stdout.write(
    `${machineLine()}\n\nsampled / ST (code parameters) per decade above M_min; ± is the Poisson error of the expectation, (n) the halos\n\n` +
      mdTable(['M_min [Msun], correction', 'z', 'M_min - 10 M_min', '10 - 100 M_min', '100 - 1e3 M_min'], table) +
      `\n\nwrote ${png}\n`,
  );
}

const args = process.argv.slice(2);
const child = args.indexOf('--one');
if (args.includes('--hmf')) {
  await hmfFigure();
} else if (child >= 0) {
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
