/**
 * HALOgen timing: one training step (cpu preset) and sliding-window inference on a 128^3 box, lodi
 * (libtorch through the addon) against the same architecture in Debian's python3-torch, in one run.
 *
 *   npm run bench -- halogen [--batch 16] [--reps 3] [--n 128] [--stride 32] [--preset cpu]
 *
 * Batch 16 is the paper's. Inference defaults to stride 32 (64 windows on 128^3) to keep the run
 * short; the paper's stride 16 is 8x the windows and the cost scales with the window count.
 * PyTorch runs with the same thread count and OMP_WAIT_POLICY as the addon, and the same
 * grouped-conv strategy (block-diagonal dense conv where in/groups ≥ blockDiagonalMin).
 * Times are medians; the ratio is lodi / PyTorch.
 */
import { join } from 'node:path';
import { F, Generator, RMSprop, getNumThreads, tidy } from '@lodi/torch';
import { MATCHING_MALLOC_ENV, machineLine, mdTable, median, repoRoot, runPython, writeSection } from './lib.js';
import { preset } from '../src/halogen/config.js';
import { HalogenNet } from '../src/halogen/model.js';
import { halogenLoss, weightedMask } from '../src/halogen/loss.js';
import { slidingWindow } from '../src/halogen/infer.js';

function arg(name: string, def: number | string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : String(def);
}
const batch = Number(arg('batch', 16));
const reps = Number(arg('reps', 3));
const n = Number(arg('n', 128));
const stride = Number(arg('stride', 32));
const cfg = preset(arg('preset', 'cpu'));
const crop = cfg.data.crop;
const threads = getNumThreads();
// set by @lodi/torch before libgomp loads (PASSIVE unless the user chose otherwise); Python gets the same
const waitPolicy = process.env.OMP_WAIT_POLICY ?? 'PASSIVE';
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

function lodiTrainStep(): number {
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
}

function lodiInfer(): number {
  const x = new Float32Array(n ** 3);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37);
  net.eval();
  const t0 = performance.now();
  slidingWindow(x, n, (t) => net.forward(t), { crop, stride, batch: cfg.infer.batch, channels: 4 });
  net.train();
  return (performance.now() - t0) / 1000;
}

function python(mode: 'train' | 'infer'): { train?: number[]; infer?: number[]; params: number } {
  const job = { model: cfg.model, threads, crop, batch, reps: 1, mode, n, stride, inferBatch: cfg.infer.batch };
  const code = `import runpy; runpy.run_path(${JSON.stringify(join(repoRoot, 'bench', 'py', 'halogen.py'))}, run_name='__main__')`;
  const outText = runPython(code, {
    HALOGEN_JOB: JSON.stringify(job),
    PATH: `/usr/bin:${process.env.PATH ?? ''}`,
    OMP_WAIT_POLICY: waitPolicy,
    OMP_NUM_THREADS: String(threads),
  });
  return JSON.parse(outText.trim().split('\n').pop()!);
}

process.stderr.write(`halogen bench: ${desc.text}; batch ${batch}, ${reps} reps, ${threads} threads\n`);
lodiTrainStep(); // warm-up
const lt: number[] = [];
const pt: number[] = [];
let pyParams = 0;
for (let r = 0; r < reps; r++) {
  const p = python('train'); // includes its own warm-up step
  pt.push(p.train![0]!);
  pyParams = p.params;
  // The PyTorch process times the step right after its warm-up step; time lodi the same way
  // (a step that directly follows another, not the first one after the PyTorch process ran).
  lodiTrainStep();
  lt.push(lodiTrainStep());
  process.stderr.write(`  train rep ${r + 1}: lodi ${lt[r]!.toFixed(2)} s, PyTorch ${pt[r]!.toFixed(2)} s\n`);
}
const li: number[] = [];
const pi: number[] = [];
for (let r = 0; r < Math.max(1, Math.min(reps, 2)); r++) {
  pi.push(python('infer').infer![0]!);
  li.push(lodiInfer());
  process.stderr.write(`  infer rep ${r + 1}: lodi ${li[r]!.toFixed(2)} s, PyTorch ${pi[r]!.toFixed(2)} s\n`);
}
if (pyParams !== desc.parameters) process.stderr.write(`warning: PyTorch model has ${pyParams} parameters, lodi ${desc.parameters}\n`);
const windows = Math.ceil(n / stride) ** 3;
const rows = [
  [`train step, batch ${batch}, ${crop}^3`, median(lt), median(pt), median(lt) / median(pt)],
  [`inference ${n}^3, stride ${stride} (${windows} windows)`, median(li), median(pi), median(li) / median(pi)],
];
const body = [
  `Machine: ${machineLine()}; ${threads} libtorch threads, OMP_WAIT_POLICY=${waitPolicy} and ` +
    `${MATCHING_MALLOC_ENV.GLIBC_TUNABLES ? 'large blocks kept in the heap (glibc tunables for Python)' : "glibc's default allocator"} in both. ` +
    `Command: \`npm run bench -- halogen ${process.argv.slice(2).join(' ')}\`.`,
  '',
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
    `Batch ${batch}${batch !== 16 ? ' instead of the paper\'s 16, to keep the run short on this machine' : ''}; ` +
    `inference stride ${stride}${stride !== 16 ? ' (the paper uses 16: 64x the windows of a tiling; cost scales with the window count)' : ''}. ` +
    'Target ratio ≤ 1.10.',
].join('\n');
writeSection('BENCHMARKS.md', 'halogen', body);
process.stdout.write(body + '\n');
net.dispose();
opt.dispose();
