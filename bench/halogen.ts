/**
 * HALOgen against the same model in PyTorch (bench/py/halogen.py, Debian's python3-torch), in one run:
 *
 * 1. Correctness: a lodi checkpoint (random weights of the tiny and cpu presets, every parameter and
 *    the output affine buffers perturbed; and the bundled model models/halogen-cpu) is loaded by
 *    lodi (`loadHalogen`) and by PyTorch (`load_state_dict(strict=True)`); on the same inputs (.npy)
 *    the network forward, the loss (Eq. 5) and all its parameter gradients, and a sliding-window
 *    prediction of a periodic DM box (standardisation, window averaging, floor) are compared.
 * 2. Timing: one training step (cpu preset) and sliding-window inference on a 128^3 box, lodi
 *    (libtorch through the addon) against PyTorch with the same thread count and OMP_WAIT_POLICY.
 *
 *   npm run bench -- halogen [--batch 16] [--reps 3] [--n 128] [--stride 32] [--preset cpu] [--no-check]
 *   npm run bench -- halogen --check-only [--model FILE|DIR]
 *       correctness only (a few minutes on 2 cores), printed, no file written; exit status 1 when lodi and
 *       PyTorch disagree; --model adds a trained model to the bundled one
 *
 * Batch 16 is the paper's. Inference defaults to stride 32 (64 windows on 128^3) to keep the run
 * short; the paper's stride 16 is 8x the windows and the cost scales with the window count.
 * Times are medians; the ratio is lodi / PyTorch. Needs python3-torch and python3-numpy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, Generator, RMSprop, getNumThreads, noGrad, tidy, type Tensor } from '@lodi/torch';
import { arg, flag, machineLine, MATCHING_MALLOC_ENV, maxAbsDiff, mdTable, median, repoRoot, runPython, writeSection } from './lib.js';
import { preset, type HalogenConfig } from '../src/halogen/config.js';
import { HALOGEN_KIND, loadHalogen, type HalogenMeta } from '../src/halogen/checkpoint.js';
import { HalogenNet } from '../src/halogen/model.js';
import { halogenLoss, weightedMask } from '../src/halogen/loss.js';
import { predictHalos, slidingWindow } from '../src/halogen/infer.js';
import { resolveModelFile, writeCheckpoint } from '../src/train/checkpoint.js';
import { readNpy, writeNpy } from '../src/io/npy.js';

const threads = getNumThreads();
// set by @lodi/torch before libgomp loads (PASSIVE unless the user chose otherwise); Python gets the same
const waitPolicy = process.env.OMP_WAIT_POLICY ?? 'PASSIVE';
const PY_FILE = join(repoRoot, 'bench', 'py', 'halogen.py');
const log = (s: string): void => void process.stderr.write(s + '\n');

/** Runs bench/py/halogen.py once with a JSON job; returns its last stdout line, parsed. */
function python<T>(job: Record<string, unknown>): T {
  const code = `import runpy; runpy.run_path(${JSON.stringify(PY_FILE)}, run_name='__main__')`;
  const out = runPython(code, {
    HALOGEN_JOB: JSON.stringify({ threads, ...job }),
    PATH: `/usr/bin:${process.env.PATH ?? ''}`,
    OMP_WAIT_POLICY: waitPolicy,
    OMP_NUM_THREADS: String(threads),
  });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}

// ------------------------------------------------------------------ 1. correctness
/**
 * Writes a HALOgen checkpoint with random weights: the initialised model with every parameter
 * perturbed by N(0, (0.5/√fan_in)²) (0.1 for 1-D tensors: norms and biases), output buffers set to
 * a mean log-density around 10 and a spread around 0.5, normalisation with non-trivial DM
 * statistics and thresholds.
 */
function randomCheckpoint(cfg: HalogenConfig, seed: number, path: string): void {
  const model = new HalogenNet(cfg.model, seed);
  const gen = new Generator(seed + 1000);
  const C = cfg.model.outChannels;
  noGrad(() => {
    for (const [, p] of model.namedParameters())
      tidy(() => {
        const fanIn = p.shape.length >= 2 ? p.numel / p.shape[0]! : 0;
        p.add_(F.randn(p.shape, gen).mul(fanIn ? 0.5 / Math.sqrt(fanIn) : 0.1));
      });
  });
  const mean = Array.from({ length: C }, (_, c) => 9.5 + 0.4 * c);
  const std = Array.from({ length: C }, (_, c) => 0.4 + 0.1 * c);
  model.setOutputStats(mean, std);
  const d = model.describe(cfg.data.crop);
  const meta = {
    format: 'lodi-halogen',
    version: 1,
    config: cfg,
    seeds: { base: seed, model: seed, split: seed, data: seed },
    worlds: [],
    split: { seed, trainFraction: cfg.data.trainFraction, train: [], val: [] },
    normalisation: { dmMean: 0.2, dmStd: 0.7, haloMean: mean, haloStd: std, thresholds: mean.map((m) => m + 0.5) },
    epochsDone: 0,
    optimizer: { step: 0, lr: 0 },
    bestVal: null,
    bestEpoch: null,
    history: [],
    description: { parameters: d.parameters, flopsPerCrop: d.flopsPerCrop, crop: d.crop },
    command: 'bench/halogen.ts: random weights for the PyTorch comparison',
  } satisfies HalogenMeta;
  tidy(() => writeCheckpoint(path, HALOGEN_KIND, { model: model.stateDict() }, meta));
  model.dispose();
}

/** A positive, clumpy DM density box [n^3] (log-normal, seeded): the input of the sliding-window check. */
function dmBox(n: number, seed: number): Float32Array {
  return tidy(() => F.randn([n ** 3], new Generator(seed)).mul(1.5).exp().mul(1e10).toFloat32Array());
}

interface CheckRow {
  model: string;
  quantity: string;
  maxAbsDiff: number;
  maxAbs: number;
}

/** Compares lodi and PyTorch on one checkpoint file; `label` names the rows. */
function correctness(label: string, file: string): { rows: CheckRow[]; params: number; pyParams: number } {
  const dir = mkdtempSync(join(tmpdir(), 'halogen-bench-check-'));
  try {
    const { model, meta } = loadHalogen(file);
    const cfg = meta.config;
    const c = cfg.data.crop;
    const C = cfg.model.outChannels;
    const B = 2;
    // one crop-sized periodic box, windows at half-crop steps: 8 overlapping windows, each voxel in all 8
    const n = c;
    const stride = c / 2;
    const gen = new Generator(7);
    const save = (name: string, t: Tensor): void => writeNpy(join(dir, `${name}.npy`), t.toFloat32Array(), t.shape, { force: true });
    const thresholds = meta.normalisation.thresholds;
    const names = model.namedParameters().map(([k]) => k);
    const { net, loss, grads } = tidy(() => {
      const x = F.randn([B, 1, c, c, c], gen);
      const y = F.randn([B, C, c, c, c], gen).mul(0.7).add(F.tensor(Float32Array.from(thresholds), [1, C, 1, 1, 1]));
      save('x', x);
      save('y', y);
      const netOut = noGrad(() => model.forward(x).toFloat32Array());
      model.zeroGrad();
      const t = halogenLoss(model.forward(x), y, weightedMask(y, thresholds), cfg.loss, model.l1());
      t.total.backward();
      const g = noGrad(() => F.cat(model.parameters().map((p) => (p.grad ? p.grad.reshape([-1]) : F.zeros([p.numel]))), 0).toFloat32Array());
      model.zeroGrad();
      return { net: netOut, loss: t.total.item(), grads: g };
    });
    const dm = dmBox(n, 11);
    writeNpy(join(dir, 'dm.npy'), dm, [n, n, n], { force: true });
    const pred = predictHalos(model, meta, dm, n, { stride });
    const py = python<{ loss: number; params: number; keys: number }>({ mode: 'check', checkpoint: file, dir, names, thresholds, stride });
    const rd = (name: string): Float32Array => readNpy(join(dir, `${name}.npy`)).data as Float32Array;
    const row = (quantity: string, a: ArrayLike<number>, b: ArrayLike<number>): CheckRow => ({ model: label, quantity, ...(({ diff, scale }) => ({ maxAbsDiff: diff, maxAbs: scale }))(maxAbsDiff(a, b)) });
    const windows = (n / stride) ** 3;
    const rows = [
      row(`network forward, ${B}×${c}^3 (log10 ρ_h)`, net, rd('py_net')),
      row('loss (Eq. 5, with the L1 term)', [loss], [py.loss]),
      row(`all ${names.length} parameter gradients of the loss`, grads, rd('py_grads')),
      row(`predicted log10 ρ_h, ${n}^3 box, stride ${stride} (${windows} windows)`, pred.log, rd('py_log')),
      row(`predicted ρ_h after the floor, same box [(Msun/h)/(Mpc/h)^3]`, pred.density, rd('py_density')),
    ];
    const params = model.numParameters();
    model.dispose();
    return { rows, params, pyParams: py.params };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function checkTable(rows: CheckRow[]): string {
  return mdTable(
    ['model', 'quantity', 'max abs difference', 'max abs value'],
    rows.map((r) => [r.model, r.quantity, r.maxAbsDiff === 0 ? '0 (bit-identical)' : r.maxAbsDiff, r.maxAbs]),
  );
}

function runChecks(): { rows: CheckRow[]; notes: string[] } {
  const rows: CheckRow[] = [];
  const notes: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'halogen-bench-'));
  try {
    const cases: [string, string][] = [];
    for (const p of ['tiny', 'cpu']) {
      const f = join(dir, `${p}-random.safetensors`);
      randomCheckpoint(preset(p), 5, f);
      cases.push([`${p} (random weights)`, f]);
    }
    cases.push(['bundled (models/halogen-cpu)', resolveModelFile(join(repoRoot, 'models', 'halogen-cpu'))]);
    if (flag('model')) cases.push([`trained (${arg('model', '')})`, resolveModelFile(arg('model', ''))]);
    for (const [label, file] of cases) {
      const t0 = performance.now();
      const r = correctness(label, file);
      rows.push(...r.rows);
      notes.push(`${label}: ${r.params.toLocaleString('en-US')} parameters in lodi, ${r.pyParams.toLocaleString('en-US')} in PyTorch`);
      log(`correctness ${label}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { rows, notes };
}

/** Rows where lodi and PyTorch differ by more than float32 reassociation allows (1e-3 relative to the values' size). */
const disagreements = (rows: CheckRow[]): CheckRow[] => rows.filter((r) => !(r.maxAbsDiff <= 1e-3 * Math.max(1, r.maxAbs)));

// ------------------------------------------------------------------ 2. timing
function timing(): { body: string[]; desc: string } {
  const batch = Number(arg('batch', 16));
  const reps = Number(arg('reps', 3));
  const n = Number(arg('n', 128));
  const stride = Number(arg('stride', 32));
  const cfg = preset(arg('preset', 'cpu'));
  const crop = cfg.data.crop;
  const presetRows = ['cpu', 'paper'].map((name) => {
    const m = new HalogenNet(preset(name).model, 0);
    const d = m.describe(preset(name).data.crop);
    m.dispose();
    return [name, preset(name).model.channels.join(', '), d.parameters, +(d.flopsPerCrop / 1e9).toFixed(2)];
  });
  const net = new HalogenNet(cfg.model, 0);
  const desc = net.describe(crop);
  const opt = new RMSprop(net.parameters(), { lr: 2e-4 });
  const gen = new Generator(1);
  const thresholds = [10.5, 10.5, 10.5, 10.5];
  const lodiTrainStep = (): number => {
    const t0 = performance.now();
    tidy(() => {
      const x = F.randn([batch, 1, crop, crop, crop], gen);
      const y = F.randn([batch, 4, crop, crop, crop], gen).add(10);
      const t = halogenLoss(net.forward(x), y, weightedMask(y, thresholds), cfg.loss, net.l1());
      opt.zeroGrad();
      t.total.backward();
      opt.step();
      t.total.item();
    });
    return (performance.now() - t0) / 1000;
  };
  const lodiInfer = (): number => {
    const x = new Float32Array(n ** 3);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37);
    net.eval();
    const t0 = performance.now();
    slidingWindow(x, n, (t) => net.forward(t), { crop, stride, batch: cfg.infer.batch, channels: 4 });
    net.train();
    return (performance.now() - t0) / 1000;
  };
  const job = { model: cfg.model, crop, batch, reps: 1, n, stride, inferBatch: cfg.infer.batch };
  log(`halogen bench: ${desc.text}; batch ${batch}, ${reps} reps, ${threads} threads`);
  lodiTrainStep(); // warm-up
  const lt: number[] = [];
  const pt: number[] = [];
  let pyParams = 0;
  for (let r = 0; r < reps; r++) {
    const p = python<{ train: number[]; params: number }>({ ...job, mode: 'train' }); // includes its own warm-up step
    pt.push(p.train[0]!);
    pyParams = p.params;
    // The PyTorch process times the step right after its warm-up step; time lodi the same way
    // (a step that directly follows another, not the first one after the PyTorch process ran).
    lodiTrainStep();
    lt.push(lodiTrainStep());
    log(`  train rep ${r + 1}: lodi ${lt[r]!.toFixed(2)} s, PyTorch ${pt[r]!.toFixed(2)} s`);
  }
  const li: number[] = [];
  const pi: number[] = [];
  for (let r = 0; r < Math.max(1, Math.min(reps, 2)); r++) {
    pi.push(python<{ infer: number[] }>({ ...job, mode: 'infer' }).infer[0]!);
    li.push(lodiInfer());
    log(`  infer rep ${r + 1}: lodi ${li[r]!.toFixed(2)} s, PyTorch ${pi[r]!.toFixed(2)} s`);
  }
  net.dispose();
  opt.dispose();
  if (pyParams !== desc.parameters) log(`warning: PyTorch model has ${pyParams} parameters, lodi ${desc.parameters}`);
  const windows = Math.ceil(n / stride) ** 3;
  const rows = [
    [`train step, batch ${batch}, ${crop}^3`, median(lt), median(pt), median(lt) / median(pt)],
    [`inference ${n}^3, stride ${stride} (${windows} windows)`, median(li), median(pi), median(li) / median(pi)],
  ];
  const body = [
    `Timed preset \`${cfg.preset}\`: ${desc.text} (PyTorch model: ${pyParams.toLocaleString('en-US')} parameters). ` +
      'Both implementations run the grouped convolutions the same way (one dense conv with a block-diagonal weight ' +
      `where in/groups ≥ ${cfg.model.blockDiagonalMin}, libtorch's grouped conv otherwise) and the same circular padding, ` +
      'GroupNorm, attention, trilinear upsampling and loss (Eq. 2–7).',
    '',
    mdTable(['preset', 'widths', 'parameters', 'GFLOP forward per 64^3 crop'], presetRows),
    '',
    'FLOPs count multiply-adds as 2, grouped (non-zero) weights only, convolutions and attention matmuls.',
    '',
    mdTable(['case', 'lodi [s]', 'PyTorch 1.13 [s]', 'ratio lodi/PyTorch'], rows),
    '',
    `Medians of ${reps} training steps (each the second of two consecutive steps, on both sides) and ${li.length} inference run(s), interleaved with the PyTorch runs. ` +
      `Batch ${batch}${batch !== 16 ? " instead of the paper's 16, to keep the run short on this machine" : ''}; ` +
      `inference stride ${stride}${stride !== 16 ? ' (the paper uses 16: 64x the windows of a tiling; cost scales with the window count)' : ''}. ` +
      'Target ratio ≤ 1.10.',
  ];
  return { body, desc: desc.text };
}

// ------------------------------------------------------------------ main
if (flag('check-only')) {
  const { rows, notes } = runChecks();
  process.stdout.write(checkTable(rows) + '\n\n' + notes.join('; ') + '\n');
  const bad = disagreements(rows);
  if (bad.length) {
    process.stderr.write(`lodi and PyTorch disagree: ${bad.map((r) => `${r.model} ${r.quantity}`).join('; ')}\n`);
    process.exitCode = 1;
  }
} else {
  const checks = flag('no-check') ? { rows: [], notes: ['not run (--no-check)'] } : runChecks();
  const t = timing();
  const body = [
    `Machine: ${machineLine()}; ${threads} libtorch threads, OMP_WAIT_POLICY=${waitPolicy} and ` +
      `${MATCHING_MALLOC_ENV.GLIBC_TUNABLES ? 'large blocks kept in the heap (glibc tunables for Python)' : "glibc's default allocator"} in both. ` +
      `Command: \`npm run bench -- halogen ${process.argv.slice(2).join(' ')}\`. Reference: \`bench/py/halogen.py\` (PyTorch 1.13, Debian python3-torch).`,
    '',
    '### Correctness: lodi checkpoint weights in the PyTorch model',
    '',
    'Each checkpoint is loaded by lodi (`loadHalogen`) and by `bench/py/halogen.py` (`load_state_dict(strict=True)` on the `model.*` ' +
      'tensors, output buffers `outShift`/`outScale` included); both run on the same inputs (.npy). Random checkpoints have every ' +
      `parameter and buffer perturbed. ${checks.notes.join('; ')}. \`npm run bench -- halogen --check-only\` runs these checks alone.`,
    '',
    checkTable(checks.rows),
    '',
    '### Time',
    '',
    ...t.body,
  ].join('\n');
  writeSection('BENCHMARKS.md', 'halogen', body);
  process.stdout.write(body + '\n');
  if (disagreements(checks.rows).length) process.exitCode = 1;
}
