/**
 * GPU device check: everything a short run on a GPU machine should measure,
 * in one run that records every result (or its error) and never lets one failed step stop the
 * later ones. Started by bench/gpu.sh, which builds the addon against the machine's PyTorch and
 * samples the GPU memory; the compiled script travels in .gpu-bundle (bench/gpu-bundle.sh).
 *
 * a. engine facts: libtorch version, CUDA available, device count, libtorch's build configuration;
 *    PyTorch's versions and TF32 settings.
 * b. conv3d, matmul and an FFT on the device against the CPU in float32: max relative difference.
 * c. the bundled HALOgen (models/halogen-cpu) on a seeded 64^3 log-normal DM grid, on the CPU and on
 *    the device: max |Δ log10 ρ_h| and the times.
 * d. the bundled LODI (models/lodi-cpu): 8 sub-volumes of random standardised conditioning, 50
 *    ancestral steps (sampleBoxes), on the CPU and on the device: max |Δ| and std(Δ)/std(y). The noise is
 *    drawn on the host from the same per-box generators, so the difference is float rounding (TF32
 *    convolutions on the GPU included) amplified over the 50 steps.
 * e. timing with random weights of the paper presets: HALOgen (predictHalos) on an N^3 box at stride
 *    16, and LODI generation of an N^3 map (generateTb: latent overlap, 50 steps, large batches), by
 *    lodi and by the identical PyTorch models (bench/py/halogen.py, bench/py/lodi.py) on the same
 *    device, one after the other. Each timed run stops when its share of `--budget-s` is spent and is
 *    extrapolated from its batches after the first: t1 + (tk − t1)(total − d1)/(dk − d1).
 *
 * Every step runs in a child process (a crash or a hung CUDA call costs that step only; the GPU
 * memory of each step can be told apart in nvidia-smi's samples); this process never loads the
 * engine, so the PyTorch jobs run even when the addon does not load.
 *
 *   node dist/bench/gpu-check.js --out DIR [--device cuda] [--dry] [--budget-s 300] [--hard-s S]
 *       [--repo .] [--python python3] [--steps 50] [--lodi-n 256] [--lodi-batch 64]
 *       [--halogen-n 256] [--halogen-stride 16] [--halogen-batch 8]
 *   node dist/bench/gpu-check.js --finalize --out DIR      adds DIR/gpu-mem.csv (bench/gpu.sh)
 *
 * --dry: the cpu presets, 64^3 boxes, 5 steps, 2 sub-volumes × 3 steps for (d), budget 90 s: the whole
 * flow in a few minutes on a CPU. --hard-s: wall time after which no step may still run (bench/gpu.sh
 * passes what is left of the device command's limit). Writes DIR/gpu-check.json (after every step)
 * and DIR/gpu-check.md; children's and Python's stderr go to DIR/logs/.
 *
 * Imports: only node built-ins, '@lodi/torch' and compiled modules of dist/src (the check runs from the
 * bundle, without node_modules), and './lib.js' (node built-ins only).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import type { Tensor } from '@lodi/torch';
import type { HalogenMeta } from '../src/halogen/checkpoint.js';
import { preset as halogenPreset } from '../src/halogen/config.js';
import { lodiPreset } from '../src/lodi/config.js';
import { planStages } from '../src/lodi/planner.js';
import type { LodiNormalisation } from '../src/lodi/transform.js';
import { readNpy, writeNpy } from '../src/io/npy.js';
import { Rng } from '../src/util/rng.js';
import { arg, flag, MATCHING_MALLOC_ENV, maxAbsDiff, maxRssMB, mdTable, median } from './lib.js';

// ------------------------------------------------------------------ options
const DRY = flag('dry');
const PRESET = DRY ? 'cpu' : 'paper';

const O = {
  out: resolve(arg('out', 'out/gpu-check')),
  device: arg('device', 'cuda'),
  dry: DRY,
  budgetS: Number(arg('budget-s', DRY ? 90 : 300)),
  /** Seconds after the start at which nothing may still run (0: budget + 240). */
  hardS: Number(arg('hard-s', 0)),
  repo: resolve(arg('repo', '.')),
  python: arg('python', process.env.LODI_PYTHON || 'python3'),
  preset: PRESET,
  steps: Number(arg('steps', DRY ? 5 : 50)),
  lodiN: Number(arg('lodi-n', DRY ? 64 : 256)),
  lodiBatch: Number(arg('lodi-batch', DRY ? 8 : 64)),
  halogenN: Number(arg('halogen-n', DRY ? 64 : 256)),
  halogenStride: Number(arg('halogen-stride', DRY ? 32 : 16)),
  halogenBatch: Number(arg('halogen-batch', halogenPreset(PRESET).infer.batch)),
  bundledN: 64,
  bundledStride: Number(arg('bundled-stride', DRY ? 64 : 32)),
  bundledBoxes: Number(arg('bundled-boxes', DRY ? 2 : 8)),
  bundledSteps: Number(arg('bundled-steps', DRY ? 3 : 50)),
  /** Precision of the timed runs, lodi and PyTorch alike (bfloat16: autocast around the U-Nets). */
  precision: arg('precision', 'bfloat16') as 'float32' | 'bfloat16',
  /** Where the timed LODI runs draw their noise, lodi and PyTorch alike (device: per-box generators on the GPU). */
  noise: arg('noise', 'device') as 'host' | 'device',
  tmp: arg('tmp', ''),
};
/** The options a child step gets (the same run). */
const PASS = [
  'out',
  'device',
  'repo',
  'python',
  'steps',
  'lodi-n',
  'lodi-batch',
  'halogen-n',
  'halogen-stride',
  'halogen-batch',
  'bundled-stride',
  'bundled-boxes',
  'bundled-steps',
  'precision',
  'noise',
].flatMap((k) => (process.argv.includes(`--${k}`) ? [`--${k}`, arg(k, '')] : []));

const log = (s: string): void =>
  void process.stderr.write(`[gpu-check ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
const now = (): number => Date.now() / 1000;
const errText = (e: unknown): string =>
  (e instanceof Error ? e.message : String(e)).split('\n').slice(0, 6).join(' | ').slice(0, 1000);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const sec = (t0: number): number => (performance.now() - t0) / 1000;

// ------------------------------------------------------------------ budgets and extrapolation
class BudgetStop extends Error {
  constructor() {
    super('budget spent');
  }
}

interface TimedRun {
  /** The whole run: measured when it finished, else extrapolated. */
  seconds: number;
  measuredS: number;
  done: number;
  total: number;
  extrapolated: boolean;
  /** Time to the end of the first batch (carries the warm-up of the batch shape). */
  firstS?: number;
}

/**
 * Progress of a timed run (units: windows or sub-volumes): records (seconds, done) per batch and
 * throws BudgetStop from the progress callback once `limitS` passed with work left (every caller's
 * callback runs between batches, outside any tensor scope).
 */
class Progress {
  readonly t0 = performance.now();
  readonly points: [number, number][] = [];
  total = 0;
  constructor(readonly limitS: number) {}
  tick = (done: number, total: number): void => {
    const t = sec(this.t0);
    this.points.push([t, done]);
    this.total = total;
    if (done < total && t > this.limitS) throw new BudgetStop();
  };
  /** `seconds`: the finished call's time (undefined when it was stopped). */
  result(seconds?: number): TimedRun {
    if (seconds !== undefined)
      return {
        seconds,
        measuredS: seconds,
        done: this.total,
        total: this.total,
        extrapolated: false,
        firstS: this.points[0]?.[0],
      };
    const [t1, d1] = this.points[0]!;
    const [tk, dk] = this.points[this.points.length - 1]!;
    const est = dk > d1 ? t1 + ((tk - t1) * (this.total - d1)) / (dk - d1) : (tk * this.total) / dk;
    return { seconds: est, measuredS: tk, done: dk, total: this.total, extrapolated: true, firstS: t1 };
  }
}

/** Runs `fn` with a Progress of `limitS`; a BudgetStop ends the run early (extrapolated). */
async function timed(limitS: number, fn: (p: Progress) => Promise<unknown> | unknown): Promise<TimedRun> {
  const p = new Progress(limitS);
  try {
    await fn(p);
    return p.result(sec(p.t0));
  } catch (e) {
    if (e instanceof BudgetStop) return p.result();
    throw e;
  }
}

// ------------------------------------------------------------------ child steps (these load the engine)
type Torch = typeof import('@lodi/torch');
const torch = async (): Promise<Torch> => import('@lodi/torch');

function relDiff(a: Float32Array, b: Float32Array): { maxAbsDiff: number; maxAbs: number; maxRelDiff: number } {
  const { diff, scale } = maxAbsDiff(a, b);
  return { maxAbsDiff: diff, maxAbs: scale, maxRelDiff: scale > 0 ? diff / scale : diff };
}

/** std(a − b) / std(a). */
function relStd(a: Float32Array, b: Float32Array): number {
  let sa = 0;
  let sa2 = 0;
  let sd = 0;
  let sd2 = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    sa += a[i]!;
    sa2 += a[i]! * a[i]!;
    sd += d;
    sd2 += d * d;
  }
  const n = a.length;
  const va = sa2 / n - (sa / n) ** 2;
  const vd = sd2 / n - (sd / n) ** 2;
  return Math.sqrt(Math.max(vd, 0) / Math.max(va, 1e-300));
}

async function stepEngine(): Promise<Record<string, unknown>> {
  const t = await torch();
  const out: Record<string, unknown> = {
    libtorch: t.libtorchVersion(),
    cudaAvailable: t.cuda.isAvailable(),
    cudaDeviceCount: t.cuda.deviceCount(),
    threads: t.getNumThreads(),
    config: t.native.configInfo().slice(0, 4000),
  };
  try {
    out.device = t.resolveDevice(O.device);
  } catch (e) {
    out.deviceError = errText(e);
  }
  return out;
}

async function stepOps(): Promise<Record<string, unknown>> {
  const t = await torch();
  const { F, Generator, op, tidy, noGrad } = t;
  const dev = O.device;
  const sync = (): void => (dev === 'cpu' ? undefined : t.cuda.synchronize());
  const gen = new Generator(1);
  const cases: { name: string; shape: string; run: (x: Tensor[]) => Tensor; inputs: () => Tensor[] }[] = [
    {
      name: 'conv3d',
      shape: 'x [2,16,32,32,32], w [32,16,3,3,3], padding 1',
      inputs: () => [F.randn([2, 16, 32, 32, 32], gen), F.randn([32, 16, 3, 3, 3], gen).mul(0.1), F.randn([32], gen)],
      run: ([x, w, b]) => F.conv3d(x!, w!, b!, { padding: 1 }),
    },
    {
      name: 'matmul',
      shape: '[1024,1024] × [1024,1024]',
      inputs: () => [F.randn([1024, 1024], gen), F.randn([1024, 1024], gen)],
      run: ([a, b]) => a!.matmul(b!),
    },
    {
      name: 'rfftn',
      shape: '[128,128,128] → complex, as (re, im)',
      inputs: () => [F.randn([128, 128, 128], gen)],
      run: ([x]) => op('view_as_real', [F.rfftn(x!)]),
    },
  ];
  const rows: Record<string, unknown>[] = [];
  for (const c of cases) {
    try {
      const row = noGrad(() =>
        tidy(() => {
          const xs = c.inputs();
          const time = (ins: Tensor[], onDev: boolean): { y: Float32Array; ms: number } => {
            const y = c.run(ins).toFloat32Array(); // warm-up, and the values
            const ts: number[] = [];
            for (let r = 0; r < 5; r++) {
              const t0 = performance.now();
              tidy(() => void c.run(ins));
              if (onDev) sync();
              ts.push(performance.now() - t0);
            }
            return { y, ms: median(ts) };
          };
          const cpu = time(xs, false);
          const dxs = xs.map((x) => x.to(dev));
          const gpu = time(dxs, true);
          return { op: c.name, shape: c.shape, ...relDiff(cpu.y, gpu.y), cpuMs: cpu.ms, deviceMs: gpu.ms };
        }),
      );
      rows.push(row);
    } catch (e) {
      rows.push({ op: c.name, shape: c.shape, error: errText(e) });
    }
  }
  return { device: dev, ops: rows };
}

/** Seeded log-normal DM density [n^3] with mean 1e10 (Msun/h)/(Mpc/h)^3 (HALOgen normalises by the box mean). */
function lognormalDm(t: Torch, n: number, seed: number): Float32Array {
  const s = 1.5;
  return t.tidy(() =>
    t.F.randn([n ** 3], new t.Generator(seed))
      .mul(s)
      .sub((s * s) / 2)
      .exp()
      .mul(1e10)
      .toFloat32Array(),
  );
}

async function stepHalogenBundled(): Promise<Record<string, unknown>> {
  const t = await torch();
  const { loadHalogen } = await import('../src/halogen/checkpoint.js');
  const { predictHalos } = await import('../src/halogen/infer.js');
  const path = join(O.repo, 'models', 'halogen-cpu', 'best.safetensors');
  const n = O.bundledN;
  const dm = lognormalDm(t, n, 11);
  const run = (device: string): { log: Float32Array; s: number } => {
    const { model, meta } = loadHalogen(path, device);
    try {
      const t0 = performance.now();
      const { log } = predictHalos(model, meta, dm, n, { stride: O.bundledStride });
      return { log, s: sec(t0) };
    } finally {
      model.dispose();
    }
  };
  const cpu = run('cpu');
  const cold = run(O.device);
  const warm = run(O.device);
  const crop = halogenPreset('cpu').data.crop;
  return {
    model: path,
    grid: `${n}^3 log-normal (σ_ln 1.5, mean 1e10)`,
    stride: O.bundledStride,
    windows: Math.ceil(n / O.bundledStride) ** 3,
    crop,
    ...relDiff(cpu.log, warm.log),
    coldVsWarmMaxAbsDiff: maxAbsDiff(cold.log, warm.log).diff,
    cpuS: cpu.s,
    deviceColdS: cold.s,
    deviceS: warm.s,
  };
}

async function stepLodiBundled(): Promise<Record<string, unknown>> {
  const t = await torch();
  const { loadLodi } = await import('../src/lodi/checkpoint.js');
  const { sampleBoxes } = await import('../src/lodi/generate.js');
  const path = join(O.repo, 'models', 'lodi-cpu', 'best.safetensors');
  const B = O.bundledBoxes;
  const steps = O.bundledSteps;
  const ids = Array.from({ length: B }, (_, i) => i);
  const run = (device: string, precision: 'float32' | 'bfloat16' = 'float32'): { y: Float32Array; s: number; warmS: number } => {
    const { model } = loadLodi(path, device);
    try {
      const crop = model.cfg.data.crop;
      const C = model.cfg.net.condChannels;
      const cond = t.tidy(() => t.F.randn([B * C * crop ** 3], new t.Generator(3)).toFloat32Array());
      const w0 = performance.now();
      sampleBoxes(model, [0], cond.subarray(0, C * crop ** 3), null, { seed: 1, steps: 1, precision }); // warm-up
      const warmS = sec(w0);
      const t0 = performance.now();
      const y = sampleBoxes(model, ids, cond, null, { seed: 1, steps, precision });
      return { y, s: sec(t0), warmS };
    } finally {
      model.dispose();
    }
  };
  const cpu = run('cpu');
  const dev = run(O.device);
  // the same boxes in bfloat16 on the device, against float32 on the CPU
  const half = run(O.device, 'bfloat16');
  const h = relDiff(cpu.y, half.y);
  return {
    model: path,
    boxes: B,
    steps,
    ...relDiff(cpu.y, dev.y),
    relStd: relStd(cpu.y, dev.y),
    cpuS: cpu.s,
    deviceS: dev.s,
    deviceWarmupS: dev.warmS,
    bf16MaxRelDiff: h.maxRelDiff,
    bf16RelStd: relStd(cpu.y, half.y),
    bf16DeviceS: half.s,
  };
}

/** Normalisation for timing with random weights: halo channels 10^(c + 9) − 1 map back to c exactly enough. */
const TIMING_NORM: LodiNormalisation = {
  tbFloor: 1e-3,
  tbMean: 0,
  tbStd: 1,
  haloFloor: 1,
  haloMean: [9, 9, 9, 9],
  haloStd: [1, 1, 1, 1],
  tbUnit: 'mK',
  haloUnit: '(Msun/h)/(Mpc/h)^3',
};

/** HALOgen meta of the timing runs (the same as bench/py/halogen.py's `infer` job). */
function timingHalogenMeta(): HalogenMeta {
  const cfg = halogenPreset(O.preset);
  cfg.data.dmNormalise = 'none';
  cfg.data.dmOffset = 1;
  cfg.data.haloOffset = 1e8;
  cfg.infer.floorLog = 9.5;
  return {
    config: cfg,
    normalisation: {
      dmMean: 0,
      dmStd: 1,
      haloMean: [10, 10, 10, 10],
      haloStd: [1, 1, 1, 1],
      thresholds: [10, 10, 10, 10],
    },
  } as unknown as HalogenMeta;
}

async function stepHalogenTime(limitS: number): Promise<Record<string, unknown>> {
  const t = await torch();
  const { HalogenNet } = await import('../src/halogen/model.js');
  const { predictHalos } = await import('../src/halogen/infer.js');
  const s0 = performance.now();
  const meta = timingHalogenMeta();
  const cfg = meta.config;
  const crop = cfg.data.crop;
  const net = new HalogenNet(cfg.model, 0);
  const d = net.describe(crop);
  if (O.device !== 'cpu') net.to(O.device);
  net.eval();
  const n = O.halogenN;
  const rng = new Rng(0);
  const dm = new Float32Array(n ** 3);
  for (let i = 0; i < dm.length; i++) dm[i] = rng.uniform();
  const setupS = sec(s0);
  const w0 = performance.now();
  predictHalos(net, meta, dm.subarray(0, crop ** 3), crop, { stride: crop / 2, batch: O.halogenBatch, precision: O.precision }); // warm-up: 8 windows (a full batch of the paper's 8)
  if (O.device !== 'cpu') t.cuda.synchronize();
  const warmupS = sec(w0);
  log(
    `halogen-time: ${O.preset} preset, ${n}^3, stride ${O.halogenStride}, batch ${O.halogenBatch}, budget ${limitS.toFixed(0)} s`,
  );
  const r = await timed(limitS, (p) =>
    predictHalos(net, meta, dm, n, { stride: O.halogenStride, batch: O.halogenBatch, precision: O.precision, onProgress: p.tick }),
  );
  net.dispose();
  return {
    ...r,
    precision: O.precision,
    cudaMemory: t.cudaMemoryStats(0),
    mathMode: t.mathMode(),
    setupS,
    warmupS,
    params: d.parameters,
    flopsPerUnit: d.flopsPerCrop,
    unit: `window of ${crop}^3`,
    maxRssMB: maxRssMB(),
  };
}

async function stepLodiTime(limitS: number): Promise<Record<string, unknown>> {
  const t = await torch();
  const { LodiModel } = await import('../src/lodi/vdm.js');
  const { boxSeed, generateStandardised, generateTb } = await import('../src/lodi/generate.js');
  const s0 = performance.now();
  const cfg = lodiPreset(O.preset);
  const crop = cfg.data.crop;
  const C = cfg.net.condChannels;
  const n = O.lodiN;
  // the plan with lodi's per-box seeds, for the PyTorch job (same plan as generateStandardised)
  writeFileSync(join(O.tmp, 'plan.json'), planJson(n, crop, 1, boxSeed));
  const model = new LodiModel(cfg, new t.Generator(0));
  if (O.device !== 'cpu') model.to(O.device);
  model.eval();
  const cond = readNpy(join(O.tmp, 'cond.npy')).data as Float32Array;
  // halo channels whose transform (haloForward) gives back the standardised conditioning
  const halos = new Float32Array(cond.length);
  for (let i = 0; i < cond.length; i++) halos[i] = 10 ** (cond[i]! + 9) - 1;
  const setupS = sec(s0);
  const w0 = performance.now();
  await generateStandardised(model, cond.subarray(0, C * crop ** 3), [crop, crop, crop], { seed: 1, steps: 1, precision: O.precision }); // warm-up: one box, one step
  if (O.device !== 'cpu') t.cuda.synchronize();
  const warmupS = sec(w0);
  log(`lodi-time: ${O.preset} preset, ${n}^3, ${O.steps} steps, batch ${O.lodiBatch}, budget ${limitS.toFixed(0)} s`);
  const r = await timed(limitS, (p) =>
    generateTb(model, TIMING_NORM, halos, [n, n, n], {
      seed: 1,
      steps: O.steps,
      batch: O.lodiBatch,
      method: 'overlap',
      precision: O.precision,
      noise: O.noise,
      onProgress: (d, tot) => p.tick(d, tot),
    }),
  );
  const out = {
    ...r,
    precision: O.precision,
    noise: O.noise,
    cudaMemory: t.cudaMemoryStats(0),
    mathMode: t.mathMode(),
    setupS,
    warmupS,
    params: model.numParameters(),
    flopsPerUnit: model.net.flopsPerCrop(crop) * O.steps,
    unit: `sub-volume of ${crop}^3 × ${O.steps} steps`,
    maxRssMB: maxRssMB(),
  };
  model.dispose();
  return out;
}

/** The stage plan as bench/py/lodi.py reads it (stages of boxes with origin and noise seed). */
function planJson(n: number, crop: number, seed: number, boxSeed: (s: number, id: number) => number): string {
  const plan = planStages({ size: [n, n, n], box: crop, overlap: 4, periodic: true });
  return JSON.stringify({
    box: crop,
    size: [n, n, n],
    periodic: true,
    boxes: plan.boxes.length,
    stages: plan.stages.map((s) => s.map((b) => ({ origin: b.origin, seed: boxSeed(seed, b.id) }))),
  });
}

const STEPS: Record<string, (limitS: number) => Promise<Record<string, unknown>>> = {
  engine: async () => ({ ...(await stepEngine()), ...(await stepOps()) }),
  'halogen-bundled': stepHalogenBundled,
  'lodi-bundled': stepLodiBundled,
  'halogen-time': stepHalogenTime,
  'lodi-time': stepLodiTime,
};

async function childMain(name: string): Promise<void> {
  const fn = STEPS[name];
  if (!fn) throw new Error(`unknown step '${name}'`);
  const res = await fn(Number(arg('limit-s', 60)));
  process.stdout.write(JSON.stringify(res) + '\n');
}

// ------------------------------------------------------------------ orchestration (no engine here)
interface StepRecord {
  name: string;
  title: string;
  ok: boolean;
  skipped?: boolean;
  error?: string;
  start: number;
  end: number;
  wallS: number;
  limitS?: number;
  result?: Record<string, unknown>;
}

interface Report {
  kind: 'lodi-gpu-check';
  version: 1;
  started: string;
  finished: string | null;
  wallS: number;
  options: typeof O;
  machine: Record<string, unknown>;
  shell: Record<string, unknown> | null;
  python: Record<string, unknown> | null;
  steps: StepRecord[];
  gpuMemory?: Record<string, unknown>;
}

const jsonPath = (): string => join(O.out, 'gpu-check.json');
const mdPath = (): string => join(O.out, 'gpu-check.md');

function readJson(path: string): Record<string, unknown> | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function save(r: Report): void {
  writeFileSync(jsonPath(), JSON.stringify(r, null, 1) + '\n');
  writeFileSync(mdPath(), renderMd(r));
}

/**
 * The error in a process's stderr: from the last line naming an error (Node's `Error: ...` above its
 * stack, Python's `RuntimeError: ...` below its traceback, g++'s `error:`), else the last lines.
 */
function errorSummary(s: string): string {
  const lines = s.split('\n').filter((l) => l.trim());
  let i = -1;
  for (let k = lines.length - 1; k >= 0 && i < 0; k--)
    if (/(^|[\s.])(\w*Error|error)\b|Aborted|Segmentation fault/.test(lines[k]!) && !/^\s+at /.test(lines[k]!)) i = k;
  const pick = i >= 0 ? lines.slice(i, i + 3) : lines.slice(-6);
  return pick.join(' | ').slice(0, 1500);
}

interface ProcResult {
  ok: boolean;
  result?: Record<string, unknown>;
  error?: string;
}

/** Runs a process to completion (or kills it after `timeoutS`); its last stdout line is its JSON result. */
function runProc(
  label: string,
  cmd: string,
  args: string[],
  timeoutS: number,
  env: Record<string, string> = {},
): ProcResult {
  mkdirSync(join(O.out, 'logs'), { recursive: true });
  // stderr straight into the log file, so that it survives a kill of this process too
  const logFile = join(O.out, 'logs', `${label}.log`);
  const fd = openSync(logFile, 'w');
  let r: SpawnSyncReturns<string>;
  try {
    r = spawnSync(cmd, args, {
      encoding: 'utf8',
      env: { ...process.env, ...env },
      timeout: Math.max(1, timeoutS) * 1000,
      killSignal: 'SIGKILL',
      maxBuffer: 1 << 26,
      stdio: ['ignore', 'pipe', fd],
    });
  } finally {
    closeSync(fd);
  }
  const stderr = readFileSync(logFile, 'utf8');
  if (stderr) process.stderr.write(stderr.replace(/^(?=.)/gm, `  ${label}| `) + (stderr.endsWith('\n') ? '' : '\n'));
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  if (r.error || r.status !== 0) {
    const why =
      r.error && (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT'
        ? `killed after ${timeoutS.toFixed(0)} s`
        : r.error
          ? r.error.message
          : r.signal
            ? `killed by ${r.signal}`
            : `exit status ${r.status}`;
    return { ok: false, error: `${why}: ${errorSummary(stderr) || '(no stderr)'}` };
  }
  try {
    return { ok: true, result: JSON.parse(last) as Record<string, unknown> };
  } catch {
    return { ok: false, error: `no JSON result (stdout ends '${last.slice(-200)}'); stderr: ${errorSummary(stderr)}` };
  }
}

function pyEnv(job: Record<string, unknown>, name: 'LODI_JOB' | 'HALOGEN_JOB'): Record<string, string> {
  const threads = String(availableParallelism());
  return {
    ...MATCHING_MALLOC_ENV,
    OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE',
    OMP_NUM_THREADS: threads,
    [name]: JSON.stringify({ threads: Number(threads), ...job }),
  };
}

const PY_PROBE = `
import json, sys
d = {"python": sys.version.split()[0], "executable": sys.executable}
try:
    import numpy
    d["numpy"] = numpy.__version__
except ImportError:
    d["numpy"] = None
import torch
d.update({"torch": torch.__version__, "cuda": torch.version.cuda, "cudaAvailable": torch.cuda.is_available(),
          "cxx11abi": torch.compiled_with_cxx11_abi(), "threads": torch.get_num_threads(),
          "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
          "cudnnAllowTf32": torch.backends.cudnn.allow_tf32, "matmulAllowTf32": torch.backends.cuda.matmul.allow_tf32})
if torch.cuda.is_available():
    d["devices"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
print(json.dumps(d))
`;

async function orchestrate(): Promise<void> {
  mkdirSync(O.out, { recursive: true });
  const t0 = now();
  const hard = t0 + (O.hardS > 0 ? O.hardS : O.budgetS + 240);
  const deadline = t0 + O.budgetS;
  O.tmp = mkdtempSync(join(tmpdir(), 'lodi-gpu-check-'));
  const report: Report = {
    kind: 'lodi-gpu-check',
    version: 1,
    started: new Date().toISOString(),
    finished: null,
    wallS: 0,
    options: O,
    machine: {
      host: hostname(),
      cpus: cpus().length,
      available: availableParallelism(),
      cpu: cpus()[0]?.model ?? '?',
      memGiB: +(totalmem() / 2 ** 30).toFixed(1),
      node: process.version,
    },
    shell: readJson(join(O.out, 'shell.json')),
    python: null,
    steps: [],
  };
  save(report);
  const script = process.argv[1]!;
  const record = (
    name: string,
    title: string,
    start: number,
    p: ProcResult & { skipped?: boolean },
    limitS?: number,
  ): StepRecord => {
    const end = now();
    const rec: StepRecord = {
      name,
      title,
      ok: p.ok,
      start,
      end,
      wallS: +(end - start).toFixed(2),
      ...(limitS !== undefined ? { limitS } : {}),
    };
    if (p.result) rec.result = p.result;
    if (p.error) rec.error = p.error;
    if (p.skipped) rec.skipped = true;
    report.steps.push(rec);
    report.wallS = +(end - t0).toFixed(1);
    save(report);
    log(
      `${name}: ${p.ok ? 'ok' : p.skipped ? 'skipped' : 'FAILED'} in ${rec.wallS} s${p.error ? ` (${p.error.slice(0, 300)})` : ''}`,
    );
    return rec;
  };
  /** Seconds a process may still run before the hard limit. */
  const hardLeft = (): number => hard - now() - 5;
  /** Runs one step's process with the time left before the hard limit, or records it as skipped when too little is left. */
  const launch = (
    name: string,
    title: string,
    timeoutS: number,
    limitS: number | undefined,
    run: (to: number) => ReturnType<typeof runProc>,
  ): StepRecord => {
    const start = now();
    const to = Math.min(timeoutS, hardLeft());
    if (to < 10)
      return record(
        name,
        title,
        start,
        { ok: false, skipped: true, error: 'no time left before the hard limit' },
        limitS,
      );
    log(`${name}: ${title}`);
    return record(name, title, start, run(to), limitS);
  };
  const child = (name: string, title: string, timeoutS: number, limitS?: number): StepRecord => {
    const args = [
      script,
      '--step',
      name,
      '--tmp',
      O.tmp,
      ...(O.dry ? ['--dry'] : []),
      ...PASS,
      ...(limitS !== undefined ? ['--limit-s', String(limitS)] : []),
    ];
    return launch(name, title, timeoutS, limitS, (to) => runProc(name, process.execPath, args, to));
  };
  const python = (
    name: string,
    title: string,
    file: string,
    env: Record<string, string>,
    timeoutS: number,
    limitS?: number,
  ): StepRecord =>
    launch(name, title, timeoutS, limitS, (to) =>
      runProc(name, O.python, [join(O.repo, 'bench', 'py', file)], to, env),
    );

  try {
    // a. PyTorch's facts (its own process: the versions are known even when the engine fails)
    {
      const start = now();
      const p = runProc('python-probe', O.python, ['-c', PY_PROBE], Math.min(120, hardLeft()));
      report.python = p.result ?? { error: p.error };
      record('python', `PyTorch (${O.python}): versions, TF32 settings`, start, p);
    }
    // a + b. engine facts and ops on the device
    child('engine', `engine facts; conv3d, matmul, rfftn on ${O.device} against the CPU`, O.dry ? 120 : 150);
    // c, d. bundled models, CPU against the device
    child(
      'halogen-bundled',
      `bundled HALOgen (models/halogen-cpu), ${O.bundledN}^3 grid, CPU and ${O.device}`,
      O.dry ? 150 : 180,
    );
    child(
      'lodi-bundled',
      `bundled LODI (models/lodi-cpu), ${O.bundledBoxes} sub-volumes × ${O.bundledSteps} steps, CPU and ${O.device}`,
      O.dry ? 150 : 180,
    );

    // e. timing, lodi and PyTorch one after the other, each with its share of what is left of the budget
    const hcfg = halogenPreset(O.preset);
    const lcfg = lodiPreset(O.preset);
    const crop = lcfg.data.crop;
    const C = lcfg.net.condChannels;
    {
      // standardised conditioning for both LODI runs, written once: seeded normal deviates, a block of
      // 1048573 (prime) repeated (drawing all 67M of a 256^3 box would take seconds of the budget)
      const n = O.lodiN;
      const cond = new Float32Array(C * n ** 3);
      const rng = new Rng(21);
      const block = Float32Array.from({ length: Math.min(cond.length, 1048573) }, () => rng.normal());
      for (let i = 0; i < cond.length; i += block.length)
        cond.set(block.subarray(0, Math.min(block.length, cond.length - i)), i);
      writeNpy(join(O.tmp, 'cond.npy'), cond, [C, n, n, n], { force: true });
    }
    const overhead = O.dry ? 10 : 25; // process start, CUDA context, model build, warm-up (outside the timed loop)
    const slack = O.dry ? 30 : 90; // added to each job's share before it is killed
    let left = 4;
    const share = (): number => {
      const s = Math.max(O.dry ? 5 : 10, (deadline - now()) / left - overhead);
      left--;
      return +s.toFixed(1);
    };
    const hjob = {
      mode: 'infer',
      model: hcfg.model,
      crop: hcfg.data.crop,
      batch: 1,
      reps: 1,
      n: O.halogenN,
      stride: O.halogenStride,
      inferBatch: O.halogenBatch,
      device: O.device,
      warmup: true,
      autocast: O.precision === 'bfloat16',
    };
    const hTitle = `HALOgen ${O.preset} preset (random weights), ${O.halogenN}^3, stride ${O.halogenStride}, batch ${O.halogenBatch}`;
    let s = share();
    child('halogen-time', `lodi: ${hTitle}`, s + slack, s);
    s = share();
    python(
      'halogen-time-pytorch',
      `PyTorch: ${hTitle}`,
      'halogen.py',
      pyEnv({ ...hjob, budget_s: s }, 'HALOGEN_JOB'),
      s + slack,
      s,
    );

    const lTitle = `LODI ${O.preset} preset (random weights), ${O.lodiN}^3 map, overlap, ${O.steps} steps, batch ${O.lodiBatch}`;
    s = share();
    child('lodi-time', `lodi (generateTb): ${lTitle}`, s + slack, s);
    if (!existsSync(join(O.tmp, 'plan.json')))
      writeFileSync(
        join(O.tmp, 'plan.json'),
        planJson(O.lodiN, crop, 1, (_s, id) => id),
      ); // lodi did not start: seeds by box id
    s = share();
    const ljob = {
      mode: 'generate',
      config: lcfg,
      plan: join(O.tmp, 'plan.json'),
      cond: join(O.tmp, 'cond.npy'),
      steps: O.steps,
      batch: O.lodiBatch,
      device: O.device,
      autocast: O.precision === 'bfloat16',
      device_noise: O.noise === 'device',
      budget_s: s,
    };
    python('lodi-time-pytorch', `PyTorch (generate): ${lTitle}`, 'lodi.py', pyEnv(ljob, 'LODI_JOB'), s + slack, s);
  } finally {
    rmSync(O.tmp, { recursive: true, force: true });
    report.finished = new Date().toISOString();
    report.wallS = +(now() - t0).toFixed(1);
    save(report);
    log(`done in ${report.wallS} s: ${jsonPath()}, ${mdPath()}`);
  }
}

// ------------------------------------------------------------------ GPU memory (bench/gpu.sh's samples)
/** Adds the nvidia-smi samples of DIR/gpu-mem.csv (epoch s, MiB used, utilisation %) per step, and the shell facts. */
function finalize(): void {
  const r = readJson(jsonPath()) as Report | null;
  if (!r) throw new Error(`${jsonPath()}: missing or unreadable`);
  r.shell = readJson(join(O.out, 'shell.json')) ?? r.shell;
  const csv = join(O.out, 'gpu-mem.csv');
  if (existsSync(csv)) {
    const rows = readFileSync(csv, 'utf8')
      .split('\n')
      .map((l) => l.split(',').map((v) => Number(v.trim())))
      .filter((v) => v.length >= 2 && v.every(Number.isFinite)) as number[][];
    if (rows.length) {
      const peak = (xs: number[][]): number => Math.max(...xs.map((x) => x[1]!));
      r.gpuMemory = {
        samples: rows.length,
        baselineMiB: rows[0]![1],
        peakMiB: peak(rows),
        steps: r.steps.map((st) => {
          const inside = rows.filter((x) => x[0]! >= st.start && x[0]! <= st.end);
          const before = rows.filter((x) => x[0]! < st.start).pop();
          const util = inside.map((x) => x[2] ?? NaN).filter(Number.isFinite);
          return {
            name: st.name,
            samples: inside.length,
            peakMiB: inside.length ? peak(inside) : null,
            atStartMiB: before ? before[1] : null,
            meanUtilisation: util.length ? +(util.reduce((a, b) => a + b, 0) / util.length).toFixed(1) : null,
          };
        }),
      };
    }
  }
  save(r);
}

// ------------------------------------------------------------------ Markdown
const f = (v: unknown, digits = 3): string => {
  const x = num(v);
  if (x === null) return v === undefined || v === null ? '–' : String(v);
  if (x === 0) return '0';
  return Math.abs(x) >= 1e4 || Math.abs(x) < 1e-3 ? x.toExponential(2) : String(+x.toPrecision(digits));
};

function renderMd(r: Report): string {
  const step = (name: string): StepRecord | undefined => r.steps.find((s) => s.name === name);
  const res = (name: string): Record<string, unknown> => step(name)?.result ?? {};
  const py = r.python ?? {};
  const eng = res('engine');
  const sh = r.shell ?? {};
  const lines: string[] = [
    '# GPU device check',
    '',
    `${r.started.slice(0, 16).replace('T', ' ')} UTC${r.options.dry ? ' — **dry run** (CPU, small sizes: not a measurement)' : ''}. Device \`${r.options.device}\`` +
      `${Array.isArray(py.devices) ? ` (${(py.devices as string[]).join(', ')})` : sh.gpu ? ` (${String(sh.gpu)})` : ''}; ` +
      `${String(r.machine.cpus)} cores (${String(r.machine.cpu)}), Node ${String(r.machine.node)}; ` +
      `libtorch ${String(eng.libtorch ?? '?')} (CUDA available: ${String(eng.cudaAvailable ?? '?')}, devices: ${String(eng.cudaDeviceCount ?? '?')}); ` +
      `PyTorch ${String(py.torch ?? '?')} (CUDA ${String(py.cuda ?? '–')}, cuDNN ${String(py.cudnn ?? '–')}, TF32 in cuDNN convolutions ${String(py.cudnnAllowTf32 ?? '?')}, in matmul ${String(py.matmulAllowTf32 ?? '?')}). ` +
      `Budget ${r.options.budgetS} s; run took ${r.wallS} s${r.finished ? '' : ' (**unfinished**)'}.`,
    '',
  ];
  if (sh.addon)
    lines.push(
      `Addon: ${String(sh.addon)}${num(sh.compileS) !== null ? `, compiled in ${f(sh.compileS)} s${sh.compileRc ? ` (**failed**, status ${String(sh.compileRc)})` : ''}` : ''}.`,
      '',
    );

  const ops = (res('engine').ops as Record<string, unknown>[] | undefined) ?? [];
  if (ops.length) {
    lines.push('## Ops on the device against the CPU (float32)', '');
    lines.push(
      mdTable(
        ['op', 'shapes', 'max rel. difference', 'CPU [ms]', 'device [ms]'],
        ops.map((o) => [
          String(o.op),
          String(o.shape),
          o.error ? `error: ${String(o.error)}` : f(o.maxRelDiff),
          f(o.cpuMs),
          f(o.deviceMs),
        ]),
      ),
      '',
    );
  }
  const hb = res('halogen-bundled');
  const lb = res('lodi-bundled');
  lines.push('## Bundled models, CPU against the device', '');
  lines.push(
    mdTable(
      ['model', 'case', 'max abs difference', 'relative', 'CPU [s]', 'device [s]'],
      [
        [
          'HALOgen (models/halogen-cpu)',
          step('halogen-bundled')?.ok
            ? `log10 ρ_h, ${String(hb.grid)}, stride ${String(hb.stride)} (${String(hb.windows)} window${hb.windows === 1 ? '' : 's'})`
            : `failed: ${step('halogen-bundled')?.error ?? 'not run'}`,
          f(hb.maxAbsDiff),
          `max / max|y|: ${f(hb.maxRelDiff)}`,
          f(hb.cpuS),
          `${f(hb.deviceS)} (first call ${f(hb.deviceColdS)})`,
        ],
        [
          'LODI (models/lodi-cpu)',
          step('lodi-bundled')?.ok
            ? `x̂ of ${String(lb.boxes)} sub-volumes, ${String(lb.steps)} steps, host noise`
            : `failed: ${step('lodi-bundled')?.error ?? 'not run'}`,
          f(lb.maxAbsDiff),
          `std(Δ)/std(y): ${f(lb.relStd)}`,
          f(lb.cpuS),
          f(lb.deviceS),
        ],
        [
          'LODI (models/lodi-cpu), bfloat16 on the device',
          step('lodi-bundled')?.ok ? `the same sub-volumes, device in bfloat16 (autocast) against CPU float32` : '–',
          '–',
          `std(Δ)/std(y): ${f(lb.bf16RelStd)}`,
          '–',
          f(lb.bf16DeviceS),
        ],
      ],
    ),
    '',
  );

  lines.push(
    `## Timing: lodi against PyTorch on \`${r.options.device}\` (${r.options.preset} presets, random weights, ${r.options.precision}${r.options.precision === 'bfloat16' ? ' autocast on both sides' : ''}, LODI noise drawn on the ${r.options.noise === 'device' ? 'device' : 'host'})`,
    '',
  );
  const row = (label: string, a: string, b: string): (string | number)[] => {
    const x = res(a);
    const y = res(b);
    const tf = (z: Record<string, unknown>, flops: unknown): string => {
      const s = num(z.seconds);
      const fl = num(flops);
      const tot = num(z.total);
      return s && fl && tot ? f((fl * tot) / s / 1e12) : '–';
    };
    const cell = (name: string, z: Record<string, unknown>): string => {
      const st = step(name);
      if (!st) return 'not run';
      if (!st.ok) return st.skipped ? 'skipped' : 'failed';
      return `${f(z.seconds)}${z.extrapolated ? ` (extrapolated from ${String(z.done)}/${String(z.total)} in ${f(z.measured_s ?? z.measuredS)} s)` : ''}`;
    };
    const sx = num(x.seconds);
    const sy = num(y.seconds);
    return [label, cell(a, x), cell(b, y), sx && sy ? f(sx / sy) : '–', tf(x, x.flopsPerUnit), tf(y, x.flopsPerUnit)];
  };
  lines.push(
    mdTable(
      ['job', 'lodi [s]', 'PyTorch [s]', 'ratio lodi/PyTorch', 'lodi TFLOP/s', 'PyTorch TFLOP/s'],
      [
        row(
          `HALOgen ${r.options.halogenN}^3, stride ${r.options.halogenStride}, batch ${r.options.halogenBatch} (predictHalos)`,
          'halogen-time',
          'halogen-time-pytorch',
        ),
        row(
          `LODI ${r.options.lodiN}^3, ${r.options.steps} steps, batch ${r.options.lodiBatch} (generateTb, latent overlap)`,
          'lodi-time',
          'lodi-time-pytorch',
        ),
      ],
    ),
    '',
    'Times exclude process start, model construction and a warm-up (HALOgen: 8 windows; LODI: one sub-volume, one step); a run stopped by its ' +
      'share of the budget is extrapolated from its batches after the first. TFLOP/s: the FLOP count of the network ' +
      '(multiply-adds as 2) over the time, the same count for both. lodi\'s CUDA caching allocator, peak allocated / reserved: ' +
      (['halogen-time', 'lodi-time'] as const)
        .map((n) => {
          const m = res(n).cudaMemory as { allocatedPeak?: number; reservedPeak?: number } | null | undefined;
          return `${n} ${m ? `${f((m.allocatedPeak ?? 0) / 2 ** 20)} / ${f((m.reservedPeak ?? 0) / 2 ** 20)} MiB` : '–'}`;
        })
        .join(', ') +
      '.',
    '',
  );
  const mem = r.gpuMemory as { peakMiB?: number; baselineMiB?: number; steps?: Record<string, unknown>[] } | undefined;
  const pyMem = (name: string): string => {
    const z = res(name);
    return num(z.cuda_max_allocated_mb) !== null
      ? `${f(z.cuda_max_allocated_mb)} MiB allocated, ${f(z.cuda_max_reserved_mb)} reserved`
      : '';
  };
  if (mem?.steps) {
    lines.push('## GPU memory (nvidia-smi every 0.5 s)', '');
    lines.push(
      mdTable(
        ['step', 'peak used [MiB]', 'used at its start [MiB]', 'mean GPU utilisation [%]', "PyTorch's allocator peak"],
        mem.steps.map((m) => [
          String(m.name),
          f(m.peakMiB),
          f(m.atStartMiB),
          f(m.meanUtilisation),
          pyMem(String(m.name)),
        ]),
      ),
      '',
      `Baseline ${f(mem.baselineMiB)} MiB, peak ${f(mem.peakMiB)} MiB over the run. Each step runs in its own process, so its peak is its own (plus the baseline).`,
      '',
    );
  }
  const failed = r.steps.filter((s) => !s.ok);
  lines.push('## Steps', '');
  lines.push(
    mdTable(
      ['step', 'status', 'wall [s]', 'what'],
      r.steps.map((s) => [s.name, s.ok ? 'ok' : s.skipped ? 'skipped' : 'FAILED', s.wallS, s.title]),
    ),
    '',
  );
  if (failed.length) lines.push('Errors:', '', ...failed.map((s) => `- \`${s.name}\`: ${s.error ?? '?'}`), '');
  return lines.join('\n');
}

// ------------------------------------------------------------------ main
if (flag('step')) {
  try {
    await childMain(arg('step', ''));
  } catch (e) {
    process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
} else if (flag('finalize')) {
  finalize();
} else {
  await orchestrate();
}
