/**
 * Streaming scale: HALOgen inference (`lodi predict-halos --file-backed`) and LODI generation
 * (`lodi generate --file-backed`) of periodic boxes of 128^3, 256^3, 512^3 on the CPU with the bundled
 * `cpu` models, each phase in a fresh process: wall time and peak RSS against volume, next to the size
 * of the grid the phase writes. HALOgen in memory (`predictHalos`) is measured too, up to
 * `--in-memory-max`, for the saving. The DM grids are seeded log-normal fields (timing and memory do
 * not depend on the values); the voxel is the bundled models' 25/128 Mpc/h.
 *
 *   npm run bench -- stream [--sizes 128,256,512] [--stride 32] [--steps 1] [--in-memory-max 256]
 *
 * `--stride` (HALOgen windows) and `--steps` (LODI sampling steps) set the work per voxel, not the
 * memory; times scale with (crop/stride)^3 and with the steps (×50 for the full sampler).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNumThreads } from '@lodi/torch';
import { loadHalogen } from '../src/halogen/checkpoint.js';
import { predictHalos } from '../src/halogen/infer.js';
import { predictHalosFile } from '../src/halogen/infer-file.js';
import { gridSidecarText, loadGrid } from '../src/io/grid.js';
import { WORLD_MEMBERS } from '../src/io/world.js';
import { NpyVolume, createZeroNpyF32 } from '../src/io/npy-file.js';
import { loadLodi } from '../src/lodi/checkpoint.js';
import { parseShard } from '../src/lodi/shards.js';
import { planSharded, runShard } from '../src/pipeline/generate-shards.js';
import { Rng } from '../src/util/rng.js';
import { arg, machineLine, machineLoad, maxRssMB, mdTable, repoRoot, writeSection } from './lib.js';

const HALOGEN = join(repoRoot, 'models', 'halogen-cpu');
const LODI = join(repoRoot, 'models', 'lodi-cpu');
const VOXEL = 25 / 128;
const DM_UNIT = WORLD_MEMBERS.dm.unit;


type Phase = 'halogen-memory' | 'halogen-file' | 'lodi-file';

interface Measured {
  phase: Phase;
  n: number;
  /** Windows (HALOgen) or sub-volumes (LODI). */
  units: number;
  seconds: number;
  /** Peak RSS with the model loaded, before the phase ran [MB]. */
  baseMB: number;
  peakMB: number;
  /** Size of the grid the phase writes [MB]. */
  outputMB: number;
}

/** A seeded log-normal DM grid [N,N,N] written plane by plane (the parent never holds N^3 values). */
function writeDm(file: string, n: number, seed: number): void {
  const vol = new NpyVolume(createZeroNpyF32(file, [n, n, n]), 'r+');
  const rng = new Rng(seed);
  const plane = new Float32Array(n * n);
  for (let x = 0; x < n; x++) {
    for (let i = 0; i < plane.length; i++) plane[i] = 4e10 * Math.exp(1.2 * rng.normal() - 0.72);
    vol.writePlanes(0, x, plane);
  }
  vol.sync();
  vol.close();
  writeFileSync(file.replace(/\.npy$/, '.json'), gridSidecarText([n, n, n], { boxSize: n * VOXEL, quantity: 'dm_density', unit: DM_UNIT }));
}

async function child(phase: Phase, n: number, dir: string): Promise<void> {
  const dm = join(dir, `dm-${n}.npy`);
  const halos = join(dir, `halos-${n}.npy`);
  const stride = Number(arg('stride', '32'));
  let r: Measured;
  if (phase === 'lodi-file') {
    // plan and every stage as the only shard, as `lodi generate --file-backed` runs them, without the
    // finish (T_b from the work file in 16 MiB chunks): a few sampling steps leave y outside T_b's range
    const lodi = loadLodi(LODI);
    const baseMB = maxRssMB();
    const t0 = performance.now();
    const o = { halos, model: lodi, out: join(dir, `tb-${n}.npy`), seed: 1, steps: Number(arg('steps', '1')), quiet: true, force: true };
    const { planFile } = planSharded(o);
    let units = 0;
    for (let stage = 0; stage < planFile.stages.length; stage++) units += (await runShard({ ...o, stage, shard: parseShard('0/1') })).generated.length;
    const seconds = (performance.now() - t0) / 1000;
    lodi.model.dispose();
    r = { phase, n, units, seconds, baseMB, peakMB: maxRssMB(), outputMB: (4 * n ** 3) / 2 ** 20 };
  } else {
    const { model, meta } = loadHalogen(HALOGEN);
    const windows = Math.ceil(n / stride) ** 3;
    const baseMB = maxRssMB();
    const t0 = performance.now();
    if (phase === 'halogen-file') predictHalosFile(model, meta, dm, halos, { stride });
    else {
      const grid = loadGrid(dm);
      predictHalos(model, meta, grid.data, n, { stride });
    }
    const seconds = (performance.now() - t0) / 1000;
    model.dispose();
    r = { phase, n, units: windows, seconds, baseMB, peakMB: maxRssMB(), outputMB: (16 * n ** 3) / 2 ** 20 };
  }
  process.stdout.write(JSON.stringify(r) + '\n');
}

function measure(phase: Phase, n: number, dir: string): Measured {
  const r = spawnSync(process.execPath, [process.argv[1]!, '--child', phase, '--n', String(n), '--dir', dir, ...process.argv.slice(2)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`${phase} ${n}^3 failed (status ${r.status})`);
  const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as Measured;
  process.stderr.write(`  ${phase} ${n}^3: ${m.seconds.toFixed(1)} s, peak RSS ${m.peakMB.toFixed(0)} MB (model loaded ${m.baseMB.toFixed(0)} MB)\n`);
  return m;
}

async function main(): Promise<void> {
  const sizes = arg('sizes', '128,256,512').split(',').map(Number);
  const inMemoryMax = Number(arg('in-memory-max', '256'));
  const stride = Number(arg('stride', '32'));
  const steps = Number(arg('steps', '1'));
  const dir = mkdtempSync(join(tmpdir(), 'lodi-bench-stream-'));
  const loadBefore = machineLoad();
  const results: Measured[] = [];
  try {
    for (const n of sizes) {
      process.stderr.write(`stream benchmark ${n}^3 (${getNumThreads()} engine threads)\n`);
      writeDm(join(dir, `dm-${n}.npy`), n, n);
      if (n <= inMemoryMax) results.push(measure('halogen-memory', n, dir));
      results.push(measure('halogen-file', n, dir));
      writeFileSync(join(dir, `halos-${n}.json`), gridSidecarText([4, n, n, n], { boxSize: n * VOXEL, quantity: WORLD_MEMBERS.halos.quantity, unit: WORLD_MEMBERS.halos.unit }));
      results.push(measure('lodi-file', n, dir));
      process.stderr.write(`  disk: halos ${(statSync(join(dir, `halos-${n}.npy`)).size / 2 ** 20).toFixed(0)} MB\n`);
      for (const f of [`dm-${n}`, `halos-${n}`, `tb-${n}`]) for (const e of ['.npy', '.json']) rmSync(join(dir, f + e), { force: true });
      rmSync(join(dir, `tb-${n}.work`), { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const first = new Map<Phase, Measured>();
  for (const r of results) if (!first.has(r.phase)) first.set(r.phase, r);
  const label: Record<Phase, string> = {
    'halogen-memory': 'HALOgen, in memory',
    'halogen-file': 'HALOgen, --file-backed',
    'lodi-file': 'LODI, --file-backed',
  };
  const rows = results.map((r) => {
    const f = first.get(r.phase)!;
    const vol = (r.n / f.n) ** 3;
    return [
      label[r.phase],
      `${r.n}^3`,
      r.units,
      r.seconds,
      r.seconds / f.seconds / vol,
      r.baseMB,
      r.peakMB,
      r.peakMB - r.baseMB,
      r.outputMB,
      (r.peakMB - r.baseMB) / r.outputMB,
    ];
  });
  const body = [
    `Machine: ${machineLine()}; ${getNumThreads()} engine thread(s); ${loadBefore} at the start, ${machineLoad()} at the end.`,
    '',
    `Command: \`npm run bench -- stream --sizes ${sizes.join(',')} --stride ${stride} --steps ${steps} --in-memory-max ${inMemoryMax}\`. Bundled \`cpu\` models; seeded log-normal DM grids at the models' voxel (25/128 Mpc/h); each phase in a fresh process. HALOgen: windows of 64^3 at stride ${stride} (the default stride 16 runs ${(stride / 16) ** 3}× the windows, and its float64 sums stay open on up to 2·64 − 16 = 112 x-planes of 4 channels instead of ${128 - stride}: ${(112 - (128 - stride)) * 32} bytes more per voxel of one plane, e.g. ${(((112 - (128 - stride)) * 32 * 512 ** 2) / 2 ** 20).toFixed(0)} MB more at 512^3). LODI: plan and all stages of a ${steps}-step sampler over every sub-volume, latent overlap, periodic (memory does not depend on the steps; time is linear in them, so ×${50 / steps} for the T = 50 sampler), without the finish that maps the work file to T_b in 16 MiB chunks. 'model loaded' is the peak RSS before the phase ran; 'output' is the grid the phase writes (HALOgen: 4 float32 channels; LODI: float32 T_b).`,
    '',
    mdTable(
      ['phase', 'size', 'windows / sub-volumes', 'time [s]', 'time per voxel / smallest size', 'RSS model loaded [MB]', 'peak RSS [MB]', 'peak − loaded [MB]', 'output [MB]', '(peak − loaded) / output'],
      rows,
    ),
  ];
  const [lo, hi] = sizes.slice(-2);
  if (lo !== undefined && hi !== undefined) {
    const growth = (phase: Phase): string => {
      const a = results.find((r) => r.phase === phase && r.n === lo);
      const b = results.find((r) => r.phase === phase && r.n === hi);
      return a && b ? `${(((b.peakMB - a.peakMB) * 2 ** 20) / (hi ** 3 - lo ** 3)).toFixed(1)} bytes` : 'not measured';
    };
    body.push(
      '',
      `From ${lo}^3 to ${hi}^3 the peak RSS grows by ${growth('halogen-memory')} per added voxel for HALOgen in memory, ${growth('halogen-file')} for HALOgen file-backed ` +
        `(the float64 sums of the open x-planes, O(crop N²)) and ${growth('lodi-file')} for LODI file-backed (one batch of sub-volumes, independent of N); ` +
        'the rest of the peak is the model and the activations of one batch of windows or sub-volumes.',
    );
  }
  writeSection('BENCHMARKS.md', 'Streaming scale (file-backed HALOgen and LODI)', body.join('\n'));
  process.stderr.write('wrote BENCHMARKS.md section "Streaming scale (file-backed HALOgen and LODI)"\n');
}

if (process.argv.includes('--child')) await child(arg('child', '') as Phase, Number(arg('n', '0')), arg('dir', ''));
else await main();
