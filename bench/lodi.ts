/**
 * LODI against the identical model in PyTorch (bench/py/lodi.py, Debian's python3-torch), in one run:
 *
 * 1. Correctness: a checkpoint with random weights (every parameter perturbed, so the zero-initialised
 *    layers are not zero) is written by lodi and loaded in PyTorch with load_state_dict(strict=True);
 *    on the same inputs (.npy files) the U-Net forward, ε̂(z; γ), one ancestral step, the loss terms,
 *    all gradients and a whole latent-overlap generation (same plan, same per-box seeds) are compared.
 * 2. One training step (cpu preset, batch 8 of 32^3 crops: forward, backward, gradient clipping,
 *    AdamW, EMA, as in src/lodi/train.ts) in lodi and in a PyTorch process kept alive for the run,
 *    interleaved step by step; medians.
 * 3. Generation of an N^3 periodic box with latent overlap (default 128^3) by lodi's sampler and the
 *    same sampler in PyTorch; each runs `--gen-steps` sampling steps over all sub-volumes (the cost is
 *    linear in the steps) and the time is extrapolated to the T = 50 of training.
 * 4. Peak RSS of lodi's generation for 64^3, 128^3, 256^3, each in a fresh process.
 *
 *   npm run bench -- lodi [--reps 10] [--gen-n 128] [--gen-steps 5] [--gen-reps 1]
 *                         [--rss-sizes 64,128,256] [--rss-steps 1] [--no-rss] [--no-check]
 *   npm run bench -- lodi --rss-only [--rss-sizes 64,128,256]   memory table only, printed
 *   npm run bench -- lodi --check-only [--model FILE|DIR]
 *       correctness only (tiny and cpu presets with random weights, and a trained model if given;
 *       a few minutes), no file written; exit status 1 when lodi and PyTorch disagree
 *
 * Needs python3-torch and python3-numpy (`LODI_BENCH_DEPS=1 ./setup.sh`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { AdamW, EMA, F, Generator, clipGradNorm, getNumThreads, memoryStats, noGrad, tidy, type Tensor } from '@lodi/torch';
import { arg, flag, machineLine, machineLoad, MATCHING_MALLOC_ENV, maxAbsDiff, maxRssMB, mdTable, median, PYTHON, repoRoot, runPython, writeSection } from './lib.js';
import { lodiPreset, type LodiConfig } from '../src/lodi/config.js';
import { LodiModel } from '../src/lodi/vdm.js';
import { LODI_KIND, loadLodi, type LodiMeta } from '../src/lodi/checkpoint.js';
import { boxSeed, generateStandardised } from '../src/lodi/generate.js';
import { planStages } from '../src/lodi/planner.js';
import { resolveModelFile, writeCheckpoint } from '../src/train/checkpoint.js';
import { readNpy, writeNpy } from '../src/io/npy.js';

const threads = getNumThreads();
const waitPolicy = process.env.OMP_WAIT_POLICY ?? 'PASSIVE';
const PY_FILE = join(repoRoot, 'bench', 'py', 'lodi.py');
const pyEnv = (): Record<string, string> => ({ PATH: `/usr/bin:${process.env.PATH ?? ''}`, OMP_WAIT_POLICY: waitPolicy, OMP_NUM_THREADS: String(threads) });
const log = (s: string): void => void process.stderr.write(s + '\n');

/** Runs bench/py/lodi.py once with a JSON job; returns its last stdout line, parsed. */
function python<T>(job: Record<string, unknown>): T {
  const code = `import runpy; runpy.run_path(${JSON.stringify(PY_FILE)}, run_name='__main__')`;
  const out = runPython(code, { ...pyEnv(), LODI_JOB: JSON.stringify({ threads, ...job }) });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

// ------------------------------------------------------------------ random-weight checkpoints
/**
 * Writes a LODI checkpoint with random weights: the initialised model with every parameter
 * perturbed by N(0, (0.5/√fan_in)²) (0.1 for 1-D tensors: norms, biases, γ's b and w), so that the
 * zero-initialised projections and output convolutions take part; the `ema` group gets a second,
 * different perturbation (it is the group lodi and the Python loader pick).
 */
function randomCheckpoint(cfg: LodiConfig, seed: number, path: string): void {
  const model = new LodiModel(cfg, new Generator(seed));
  const gen = new Generator(seed + 1000);
  const perturb = (p: Tensor): Tensor =>
    tidy(() => {
      const fanIn = p.shape.length >= 2 ? p.numel / p.shape[0]! : 0;
      const scale = fanIn ? 0.5 / Math.sqrt(fanIn) : 0.1;
      return p.detach().add(F.randn(p.shape, gen).mul(scale));
    });
  const named = model.net.namedParameters('net.').concat(model.gamma.namedParameters('gamma.'));
  const groups = { model: new Map<string, Tensor>(), ema: new Map<string, Tensor>() };
  noGrad(() => {
    for (const [n, p] of named) {
      const m = perturb(p);
      groups.model.set(n, m);
      groups.ema.set(n, perturb(m));
    }
  });
  const meta = {
    format: LODI_KIND,
    version: 1,
    config: cfg,
    seeds: { base: seed, model: seed, split: seed, data: seed, noise: seed, dropout: seed, val: seed },
    worlds: [],
    split: { train: [], val: [] },
    normalisation: null,
    contract: null,
    step: 0,
    dataRng: 0,
    bestVal: null,
    bestStep: null,
    history: [],
    description: { parameters: model.numParameters(), flopsPerCrop: model.net.flopsPerCrop(cfg.data.crop), crop: cfg.data.crop },
    command: 'bench/lodi.ts: random weights for the PyTorch comparison',
  } as unknown as LodiMeta;
  writeCheckpoint(path, LODI_KIND, groups, meta);
  for (const g of Object.values(groups)) for (const t of g.values()) t.dispose();
  model.dispose();
}

/** The plan as bench/py/lodi.py reads it: stages of boxes with their origin and noise seed. */
function planJson(size: number, crop: number, seed: number): string {
  const plan = planStages({ size: [size, size, size], box: crop, overlap: 4, periodic: true });
  return JSON.stringify({
    box: crop,
    size: [size, size, size],
    periodic: true,
    boxes: plan.boxes.length,
    stages: plan.stages.map((s) => s.map((b) => ({ origin: b.origin, seed: boxSeed(seed, b.id) }))),
  });
}

function randomField(n: number, seed: number): Float32Array {
  return tidy(() => F.randn([n], new Generator(seed)).toFloat32Array());
}

// ------------------------------------------------------------------ 1. correctness
interface CheckRow {
  preset: string;
  quantity: string;
  maxAbsDiff: number;
  maxAbs: number;
}

/**
 * Compares lodi and PyTorch on one checkpoint: random weights of preset `label`, or the trained
 * model file `modelFile` (then `label` only names the rows).
 */
async function correctness(label: string, genSize: number, genSteps: number, modelFile?: string): Promise<{ rows: CheckRow[]; params: number; pyParams: number }> {
  const dir = mkdtempSync(join(tmpdir(), `lodi-bench-check-`));
  try {
    const ckpt = modelFile ?? join(dir, 'random.safetensors');
    if (!modelFile) randomCheckpoint(lodiPreset(label), 5, ckpt);
    const { model } = loadLodi(ckpt); // eval mode, EMA weights (as lodi generates)
    const cfg = model.cfg;
    const presetName = label;
    const n = cfg.data.crop;
    const C = cfg.net.condChannels;
    const B = 2;
    const gen = new Generator(7);
    const save = (name: string, t: Tensor): void => writeNpy(join(dir, `${name}.npy`), t.toFloat32Array(), t.shape, { force: true });
    const stepI = 17;
    const outs = noGrad(() =>
      tidy(() => {
        const z = F.randn([B, 1, n, n, n], gen);
        const cond = F.randn([B, C, n, n, n], gen);
        const gamma = model.gamma.forward(F.tensor(Float32Array.from([0.3, 0.8])));
        const tnorm = model.gamma.normalise(gamma);
        const noise = F.randn([B, 1, n, n, n], gen);
        for (const [k, t] of Object.entries({ z, cond, gamma, tnorm, noise })) save(k, t);
        return {
          net: model.net.forward(z, tnorm, cond).toFloat32Array(),
          epshat: model.epsHat(z, gamma, cond).toFloat32Array(),
          step: model.ancestralStep(z, cond, stepI, noise).toFloat32Array(),
        };
      }),
    );
    // loss terms and gradients (eval mode: no dropout)
    const names = model.namedParameters().map(([k]) => k);
    const loss = tidy(() => {
      const x = F.randn([B, 1, n, n, n], gen);
      const xcond = F.randn([B, C, n, n, n], gen);
      const noise = model.drawNoise(x, gen);
      for (const [k, t] of Object.entries({ x, xcond, eps: noise.eps, eps0: noise.eps0 })) save(k, t);
      model.zeroGrad();
      const t = model.loss(x, xcond, noise);
      t.total.backward();
      return { u0: noise.u0, terms: [t.total.item(), t.diffusion, t.prior, t.reconstruction] };
    });
    const grads = noGrad(() => tidy(() => F.cat(model.parameters().map((p) => (p.grad ? p.grad.reshape([-1]) : F.zeros([p.numel]))), 0).toFloat32Array()));
    model.zeroGrad();
    // a whole latent-overlap generation on a periodic genSize^3 box
    const seed = 3;
    const planPath = join(dir, 'plan.json');
    writeFileSync(planPath, planJson(genSize, n, seed));
    const genCond = randomField(C * genSize ** 3, 11);
    writeNpy(join(dir, 'gen_cond.npy'), genCond, [C, genSize, genSize, genSize], { force: true });
    const { y } = await generateStandardised(model, genCond, [genSize, genSize, genSize], { seed, steps: genSteps });

    const py = python<{ params: number; keys: number; loss: number[] }>({
      mode: 'check',
      checkpoint: ckpt,
      dir,
      stepI,
      u0: loss.u0,
      names,
      plan: planPath,
      genSteps,
    });
    const rd = (name: string): Float32Array => readNpy(join(dir, `${name}.npy`)).data as Float32Array;
    const row = (quantity: string, a: ArrayLike<number>, b: ArrayLike<number>): CheckRow => {
      const { diff, scale } = maxAbsDiff(a, b);
      return { preset: presetName, quantity, maxAbsDiff: diff, maxAbs: scale };
    };
    const rows = [
      row(`U-Net forward (net.forward), ${B}×${n}^3`, outs.net, rd('py_net')),
      row('ε̂(z; γ) (epsHat)', outs.epshat, rd('py_epshat')),
      row(`ancestral step i = ${stepI} of ${cfg.schedule.steps}`, outs.step, rd('py_step')),
      row('loss terms (total, diffusion, prior, reconstruction)', loss.terms, py.loss),
      row(`all ${names.length} parameter gradients of the loss`, grads, rd('py_grads')),
      row(`generation ${genSize}^3 periodic, latent overlap, ${genSteps} steps`, y, rd('py_gen')),
    ];
    const params = model.numParameters();
    model.dispose();
    return { rows, params, pyParams: py.params };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ 2. training step
/** A PyTorch process that runs one training step per request (kept alive so steps interleave). */
function pythonTrainer(cfg: LodiConfig, batch: number): { step: () => Promise<number>; sample: (b: number) => Promise<number>; close: () => void; ready: Promise<number> } {
  const job = { mode: 'serve', threads, config: cfg, batch };
  const child = spawn(PYTHON, [PY_FILE], {
    env: { ...process.env, ...MATCHING_MALLOC_ENV, ...pyEnv(), LODI_JOB: JSON.stringify(job) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((s: string) => void)[] = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const next = (): Promise<Record<string, number>> => new Promise((r) => waiting.push((l) => r(JSON.parse(l))));
  const ready = next().then((m) => m.params!);
  return {
    ready,
    step: async () => {
      const p = next();
      child.stdin.write('{"cmd":"train"}\n');
      return (await p).seconds!;
    },
    sample: async (b: number) => {
      const p = next();
      child.stdin.write(JSON.stringify({ cmd: 'sample', batch: b }) + '\n');
      return (await p).seconds!;
    },
    close: () => {
      child.stdin.end('{"cmd":"quit"}\n');
    },
  };
}

interface StepTimes {
  lodi: number[];
  py: number[];
  sampleLodi: number[];
  samplePy: number[];
  params: number;
  pyParams: number;
  batch: number;
  crop: number;
}

async function trainingSteps(reps: number): Promise<StepTimes> {
  const cfg = lodiPreset('cpu');
  const batch = cfg.data.batchSize;
  const crop = cfg.data.crop;
  const C = cfg.net.condChannels;
  const model = new LodiModel(cfg, new Generator(0));
  model.net.dropoutGen = new Generator(1);
  model.train();
  const params = model.parameters();
  const opt = new AdamW(params, { lr: cfg.train.lr, weightDecay: cfg.train.weightDecay });
  const ema = new EMA(params, cfg.train.emaDecay);
  const gen = new Generator(2);
  // the step of src/lodi/train.ts (data drawn at random instead of cropped from worlds)
  const lodiStep = async (): Promise<number> => {
    const t0 = performance.now();
    tidy(() => {
      const x = F.randn([batch, 1, crop, crop, crop], gen);
      const cond = F.randn([batch, C, crop, crop, crop], gen);
      const t = model.loss(x, cond, model.drawNoise(x, gen));
      t.total.backward();
      t.total.item();
    });
    if (cfg.train.clipNorm > 0) clipGradNorm(params, cfg.train.clipNorm);
    opt.step();
    model.zeroGrad();
    ema.update();
    const s = (performance.now() - t0) / 1000;
    await new Promise<void>((r) => setImmediate(r));
    return s;
  };
  // one ancestral step (no grad, eval mode) on a batch of crops: the unit of generation
  const lodiSample = (b: number): number => {
    model.eval();
    const t0 = performance.now();
    noGrad(() =>
      tidy(() => {
        const z = F.randn([b, 1, crop, crop, crop], gen);
        model.ancestralStep(z, F.randn([b, C, crop, crop, crop], gen), 25, F.randnLike(z, gen));
      }),
    );
    const s = (performance.now() - t0) / 1000;
    model.train();
    return s;
  };
  const py = pythonTrainer(cfg, batch);
  const pyParams = await py.ready;
  const lt: number[] = [];
  const pt: number[] = [];
  const sl: number[] = [];
  const sp: number[] = [];
  try {
    for (let w = 0; w < 2; w++) {
      await py.step();
      await lodiStep();
    }
    for (let r = 0; r < reps; r++) {
      pt.push(await py.step());
      lt.push(await lodiStep());
      log(`  train step ${r + 1}/${reps}: lodi ${lt[r]!.toFixed(2)} s, PyTorch ${pt[r]!.toFixed(2)} s`);
    }
    await py.sample(batch);
    lodiSample(batch);
    for (let r = 0; r < reps; r++) {
      sp.push(await py.sample(batch));
      sl.push(lodiSample(batch));
      await new Promise<void>((res) => setImmediate(res));
      log(`  sampling step ${r + 1}/${reps}: lodi ${sl[r]!.toFixed(2)} s, PyTorch ${sp[r]!.toFixed(2)} s`);
    }
  } finally {
    py.close();
  }
  const n = model.numParameters();
  opt.dispose();
  ema.dispose();
  model.dispose();
  return { lodi: lt, py: pt, sampleLodi: sl, samplePy: sp, params: n, pyParams, batch, crop };
}

// ------------------------------------------------------------------ 3. generation
async function generation(ckpt: string, n: number, steps: number, reps: number, dir: string) {
  const { model } = loadLodi(ckpt);
  const crop = model.cfg.data.crop;
  const C = model.cfg.net.condChannels;
  const seed = 1;
  const planPath = join(dir, `plan${n}.json`);
  const pj = planJson(n, crop, seed);
  writeFileSync(planPath, pj);
  const boxes = (JSON.parse(pj) as { boxes: number }).boxes;
  const stages = (JSON.parse(pj) as { stages: unknown[] }).stages.length;
  const cond = randomField(C * n ** 3, 21);
  const condPath = join(dir, `cond${n}.npy`);
  writeNpy(condPath, cond, [C, n, n, n], { force: true });
  // warm-up: one sub-volume, one step
  await generateStandardised(model, cond.subarray(0, C * crop ** 3), [crop, crop, crop], { seed, steps: 1 });
  const lt: number[] = [];
  const pt: number[] = [];
  let pyRss = 0;
  let y: Float32Array = new Float32Array(0);
  const outPath = join(dir, `py_gen${n}.npy`);
  for (let r = 0; r < reps; r++) {
    const p = python<{ seconds: number; maxrss_mb: number }>({ mode: 'generate', checkpoint: ckpt, plan: planPath, cond: condPath, steps, out: outPath });
    pt.push(p.seconds);
    pyRss = Math.max(pyRss, p.maxrss_mb);
    const t0 = performance.now();
    y = (await generateStandardised(model, cond, [n, n, n], { seed, steps })).y;
    lt.push((performance.now() - t0) / 1000);
    log(`  generation ${n}^3, ${steps} steps, rep ${r + 1}/${reps}: lodi ${lt[r]!.toFixed(1)} s, PyTorch ${pt[r]!.toFixed(1)} s`);
  }
  const agree = maxAbsDiff(y, readNpy(outPath).data as Float32Array);
  model.dispose();
  return { lodi: lt, py: pt, boxes, stages, pyRss, agree };
}

// ------------------------------------------------------------------ 4. peak RSS (child process per size)
interface RssResult {
  n: number;
  baseMB: number;
  peakMB: number;
  seconds: number;
  boxes: number;
  engineInUseMB: number;
  /** Sub-volumes per denoiser call in the largest batch (min of 8 and the largest stage). */
  maxBatch: number;
}

async function rssChild(): Promise<void> {
  const n = Number(arg('rss-child', 64));
  const steps = Number(arg('steps', 1));
  const { model } = loadLodi(arg('checkpoint', ''));
  const C = model.cfg.net.condChannels;
  // filled in place (a tensor and its copy would raise the 'before' peak by 16 bytes per voxel)
  const cond = new Float32Array(C * n ** 3);
  let st = 31;
  for (let i = 0; i < cond.length; i++) {
    st = (Math.imul(st, 1664525) + 1013904223) >>> 0;
    cond[i] = (st / 2 ** 32 - 0.5) * 3.4; // uniform, unit variance
  }
  const baseMB = maxRssMB();
  const t0 = performance.now();
  const { plan } = await generateStandardised(model, cond, [n, n, n], { seed: 1, steps });
  const seconds = (performance.now() - t0) / 1000;
  const m = memoryStats();
  const maxBatch = Math.min(8, Math.max(...plan.stages.map((st) => st.length)));
  const r: RssResult = { n, baseMB, peakMB: maxRssMB(), seconds, boxes: plan.boxes.length, engineInUseMB: m ? m.peak / 2 ** 20 : NaN, maxBatch };
  process.stdout.write(JSON.stringify(r) + '\n');
}

function rss(ckpt: string, sizes: number[], steps: number): RssResult[] {
  return sizes.map((n) => {
    const r = spawnSync(process.execPath, [process.argv[1]!, '--rss-child', String(n), '--steps', String(steps), '--checkpoint', ckpt], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    });
    if (r.status !== 0) throw new Error(`rss child for ${n}^3 failed (status ${r.status})`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop()!) as RssResult;
    log(`  peak RSS ${n}^3: ${res.peakMB.toFixed(0)} MB (before generation ${res.baseMB.toFixed(0)} MB), ${res.boxes} boxes, ${res.seconds.toFixed(1)} s`);
    return res;
  });
}

// ------------------------------------------------------------------ main
function memorySection(rs: RssResult[], rssSteps: number): string[] {
  if (!rs.length) return [];
  const vol = (n: number): number => n ** 3 / 2 ** 21; // in units of 128^3
  const rssRows = rs.map((r) => [`${r.n}^3`, r.boxes, r.maxBatch, r.seconds, r.baseMB, r.peakMB, r.peakMB - r.baseMB, vol(r.n), r.engineInUseMB]);
  let fit = '';
  // Memory = model + the largest batch's activations (constant) + arrays of the box (∝ volume):
  // fit the line through the two largest sizes that run the same largest batch.
  const same = rs.filter((r) => r.maxBatch === rs[rs.length - 1]?.maxBatch);
  if (same.length >= 2) {
    const a = same[same.length - 2]!;
    const b = same[same.length - 1]!;
    const slope = (b.peakMB - a.peakMB) / (b.n ** 3 - a.n ** 3); // MB per voxel
    fit =
      `Between ${a.n}^3 and ${b.n}^3 (both with batches of ${b.maxBatch} sub-volumes) the peak grows by ${(slope * 2 ** 20).toFixed(1)} bytes per voxel ` +
      `(${(slope * 2 ** 21).toFixed(0)} MB per 128^3 of volume) on top of ${(a.peakMB - slope * a.n ** 3).toFixed(0)} MB that do not depend on the box size ` +
      '(model, libtorch, the activations of one batch and the idle blocks the engine keeps for reuse). ' +
      'The arrays of the box itself are the conditioning (4 float32 channels, 16 bytes per voxel, already in \'before\') and the output (float32, 4 bytes per voxel); the planner keeps per-axis tables only. ' +
      (rs.some((r) => r.maxBatch !== b.maxBatch)
        ? `Sizes whose stages hold fewer sub-volumes run smaller batches (${rs
            .filter((r) => r.maxBatch !== b.maxBatch)
            .map((r) => `${r.n}^3: at most ${r.maxBatch} per batch`)
            .join('; ')}), hence their smaller activation peak.`
        : '');
  }
  return [
    '### Memory of generation',
    '',
    `lodi generation (cpu preset, periodic, latent overlap, ${rssSteps} sampling step(s): memory does not depend on the step count), each size in a fresh process; ` +
      "'before' is the RSS with the model loaded and the conditioning (4 channels, float32) in memory; 'largest batch' is the most sub-volumes per denoiser call.",
    '',
    mdTable(['size', 'sub-volumes', 'largest batch', 'time [s]', 'RSS before [MB]', 'peak RSS [MB]', 'peak − before [MB]', 'volume / 128^3', 'engine tensors peak [MB]'], rssRows),
    '',
    fit,
  ];
}

function checkTable(rows: CheckRow[]): string {
  return mdTable(
    ['preset', 'quantity', 'max abs difference', 'max abs value'],
    rows.map((r) => [r.preset, r.quantity, r.maxAbsDiff === 0 ? '0 (bit-identical)' : r.maxAbsDiff, r.maxAbs]),
  );
}

async function runChecks(): Promise<{ rows: CheckRow[]; notes: string[] }> {
  const rows: CheckRow[] = [];
  const notes: string[] = [];
  const cases: [string, number, number, string?][] = [
    ['tiny', 40, 10],
    ['cpu', 64, 3],
  ];
  // --model FILE|DIR: also compare on a trained model (e.g. the bundled one)
  if (flag('model')) cases.push([`trained (${arg('model', '')})`, 64, 3, resolveModelFile(arg('model', ''))]);
  for (const [p, size, steps, file] of cases) {
    const t0 = performance.now();
    const r = await correctness(p, size, steps, file);
    rows.push(...r.rows);
    notes.push(`\`${p}\`: ${r.params.toLocaleString('en-US')} parameters in lodi, ${r.pyParams.toLocaleString('en-US')} in PyTorch`);
    log(`correctness ${p}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return { rows, notes };
}

if (process.argv.includes('--rss-child')) {
  await rssChild();
} else if (flag('rss-only')) {
  // memory table only (printed, no file written)
  const dir = mkdtempSync(join(tmpdir(), 'lodi-bench-'));
  try {
    const ckpt = join(dir, 'cpu-random.safetensors');
    randomCheckpoint(lodiPreset('cpu'), 5, ckpt);
    const rssSteps = Number(arg('rss-steps', 1));
    process.stdout.write(memorySection(rss(ckpt, arg('rss-sizes', '64,128,256').split(',').map(Number), rssSteps), rssSteps).join('\n') + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else if (flag('check-only')) {
  const { rows, notes } = await runChecks();
  process.stdout.write(checkTable(rows) + '\n\n' + notes.join('; ') + '\n');
  const bad = rows.filter((r) => !(r.maxAbsDiff <= 1e-3 * Math.max(1, r.maxAbs)));
  if (bad.length) {
    process.stderr.write(`lodi and PyTorch disagree: ${bad.map((r) => `${r.preset} ${r.quantity}`).join('; ')}\n`);
    process.exitCode = 1;
  }
} else {
  const reps = Number(arg('reps', 10));
  const genN = Number(arg('gen-n', 128));
  const genSteps = Number(arg('gen-steps', 5));
  const genReps = Number(arg('gen-reps', 1));
  const rssSizes = flag('no-rss') ? [] : arg('rss-sizes', '64,128,256').split(',').map(Number);
  const rssSteps = Number(arg('rss-steps', 1));
  const loadBefore = machineLoad();
  log(`lodi bench: ${threads} threads; ${loadBefore}`);
  const checks = flag('no-check') ? { rows: [], notes: ['not run (--no-check)'] } : await runChecks();
  const dir = mkdtempSync(join(tmpdir(), 'lodi-bench-'));
  try {
    const ckpt = join(dir, 'cpu-random.safetensors');
    randomCheckpoint(lodiPreset('cpu'), 5, ckpt);
    const tr = await trainingSteps(reps);
    const gn = await generation(ckpt, genN, genSteps, genReps, dir);
    const rs = rss(ckpt, rssSizes, rssSteps);
    const loadAfter = machineLoad();
    const T = lodiPreset('cpu').schedule.steps;
    const ext = T / genSteps;
    const cfg = lodiPreset('cpu');
    const m = new LodiModel(cfg, new Generator(0));
    const gflop = m.net.flopsPerCrop(cfg.data.crop) / 1e9;
    m.dispose();
    const timeRows = [
      [`train step, cpu preset, batch ${tr.batch} of ${tr.crop}^3 (fwd + bwd + clip + AdamW + EMA)`, median(tr.lodi), median(tr.py), median(tr.lodi) / median(tr.py)],
      [`one ancestral (denoiser) step, no grad, batch ${tr.batch} of ${tr.crop}^3`, median(tr.sampleLodi), median(tr.samplePy), median(tr.sampleLodi) / median(tr.samplePy)],
      [
        `generation ${genN}^3 periodic, latent overlap (${gn.boxes} sub-volumes, ${gn.stages} stages), ${genSteps} steps measured`,
        median(gn.lodi),
        median(gn.py),
        median(gn.lodi) / median(gn.py),
      ],
      [`  same, extrapolated to T = ${T} steps (×${ext})`, median(gn.lodi) * ext, median(gn.py) * ext, median(gn.lodi) / median(gn.py)],
    ];
    const body = [
      `Machine: ${machineLine()}; ${threads} libtorch threads in both, OMP_WAIT_POLICY=${waitPolicy}, ` +
        `${MATCHING_MALLOC_ENV.GLIBC_TUNABLES ? 'large blocks kept in the heap (glibc tunables) for Python' : "glibc's default allocator"}. ` +
        `Command: \`npm run bench -- lodi ${process.argv.slice(2).join(' ')}\`. Reference: \`bench/py/lodi.py\` (PyTorch 1.13, Debian python3-torch).`,
      '',
      `Machine load: ${loadBefore} at the start, ${loadAfter} at the end${/ [1-9]\d* training/.test(loadBefore + loadAfter) ? ' — **times measured under load** (other processes shared the cores)' : ''}.`,
      '',
      '### Correctness: lodi checkpoint weights in the PyTorch model',
      '',
      'A checkpoint with random weights (every parameter perturbed, so the zero-initialised projections and output ' +
        'convolutions are non-zero; `ema.*` differs from `model.*`) is written by lodi, loaded by lodi (`loadLodi`) and ' +
        'by `bench/py/lodi.py` (`load_state_dict(strict=True)` on the `ema.*` group); both run on the same inputs (.npy). ' +
        `${checks.notes.join('; ')}.`,
      '',
      checkTable(checks.rows),
      '',
      'The generation check runs the whole latent-overlap sampler (lodi stage plan, per-sub-volume seeds, noise from ' +
        "PyTorch's CPU generator seeded the same) in both; `npm run bench -- lodi --check-only` runs these checks alone.",
      '',
      '### Time',
      '',
      `cpu preset: ${tr.params.toLocaleString('en-US')} parameters (PyTorch: ${tr.pyParams.toLocaleString('en-US')}), ${gflop.toFixed(2)} GFLOP forward per ${cfg.data.crop}^3 crop.`,
      '',
      mdTable(['case', 'lodi [s]', 'PyTorch 1.13 [s]', 'ratio lodi/PyTorch'], timeRows),
      '',
      `Training: medians of ${reps} steps, lodi and PyTorch alternating step by step (PyTorch in one process kept alive for the run), ` +
        'after 2 warm-up steps each; dropout on, random data. The ancestral step (the unit of generation) likewise, ' + reps + ' interleaved steps. ' +
        `Generation: ${genReps} run(s) each (after a one-box warm-up), with ${genSteps} of the T = ${T} sampling steps over all sub-volumes; ` +
        'the cost per step is the same at every step, so ×' + ext + ' gives the full sampler (the gather/scatter per sub-volume is counted once, not ' + ext + ' times, so the extrapolation slightly overstates both). ' +
        `PyTorch peak RSS in the generation run: ${gn.pyRss.toFixed(0)} MB. The ${genN}^3 outputs of the two agree to ${gn.agree.diff.toExponential(2)} (max |y| ${gn.agree.scale.toFixed(2)}). ` +
        'Target ratio ≤ 1.10.',
      '',
      ...memorySection(rs, rssSteps),
    ].join('\n');
    writeSection('BENCHMARKS.md', 'LODI', body);
    process.stdout.write(body + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
