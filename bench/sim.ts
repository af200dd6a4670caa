/**
 * Simulator benchmark: wall-clock time of whole worlds (ICs, PM, FoF, HI painting, prepared grids,
 * files; no plots) for 64^3 and 128^3 particles in a 25 Mpc/h box, 20 PM steps, force mesh 2×.
 * One run per size (a 128^3 world takes minutes). Writes the 'sim' section of BENCHMARKS.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNumThreads } from '@lodi/torch';
import { simulateWorld } from '../src/pipeline/simulate.js';
import { machineLine, mdTable, writeSection } from './lib.js';

const sizes = (process.env.LODI_BENCH_SIM_SIZES ?? '64,128').split(',').map(Number);
const rows: (string | number)[][] = [];
const dir = mkdtempSync(join(tmpdir(), 'lodi-bench-sim-'));
try {
  for (const n of sizes) {
    const t0 = performance.now();
    const w = await simulateWorld({ boxSize: 25, particles: n, grid: n, seed: 7, steps: 20, out: join(dir, `w${n}`), noPlots: true, quiet: true });
    const total = (performance.now() - t0) / 1000;
    const t = w.timings;
    rows.push([`${n}^3`, +t.ic!.toFixed(2), +t.pm!.toFixed(1), +(t.pm! / 21).toFixed(2), +t.fof!.toFixed(2), +t.hi!.toFixed(2), +t.prepare!.toFixed(2), +t.write!.toFixed(2), +total.toFixed(1), w.halos.len.length]);
    process.stderr.write(`${n}^3: ${total.toFixed(1)} s\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
writeSection(
  'BENCHMARKS.md',
  'sim',
  `${machineLine()}, libtorch threads ${getNumThreads()}.

\`lodi simulate\` worlds without plots: 25 Mpc/h box, grid = particles per side, 20 PM steps from z = 49 (2LPT),
force mesh 2× the particle grid (256^3 for 128^3 particles), FoF b = 0.2, HI painting, prepareGrids, HDF5/npy output.
Seconds, one run per size.

${mdTable(['particles', 'ICs', 'PM total', 'per force eval', 'FoF', 'HI paint', 'grids', 'write', 'total', 'halos'], rows)}
`,
);
