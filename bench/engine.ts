/**
 * Engine benchmark: one 3D conv layer (batch 4, 32^3 voxels, 32 -> 32 channels, 3x3x3, padding 1)
 * forward and forward+backward, through lodi's addon and through PyTorch (Debian python3-torch, the
 * same libtorch) in the same run. Rounds alternate between the two so machine noise hits both;
 * medians are compared. Writes the 'engine' section of BENCHMARKS.md.
 */
import { F, Generator, tidy, noGrad, getNumThreads, libtorchVersion } from '@lodi/torch';
import { MATCHING_MALLOC_ENV, machineLine, median, mdTable, runPython, timeIt, writeSection } from './lib.js';

const B = 4;
const N = 32;
const C = 32;
const K = 3;
const FLOP_FWD = 2 * B * C * N ** 3 * C * K ** 3;
// Backward computes both the input gradient and the weight gradient, each as costly as the forward.
const FLOP_FWDBWD = 3 * FLOP_FWD;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const PER_ROUND = Number(process.env.BENCH_ITERS ?? 4);
const threads = getNumThreads();

const gen = new Generator(0);
const x = F.randn([B, C, N, N, N], gen);
const w = F.randn([C, C, K, K, K], gen).mul(0.02).requiresGrad_();
const xg = x.clone().requiresGrad_();

function lodiRound(): { fwd: number[]; fb: number[] } {
  const fwd: number[] = [];
  const fb: number[] = [];
  for (let i = 0; i < PER_ROUND; i++) {
    fwd.push(timeIt(() => noGrad(() => tidy(() => void F.conv3d(x, w, null, { padding: 1 })))));
    fb.push(
      timeIt(() =>
        tidy(() => {
          const y = F.conv3d(xg, w, null, { padding: 1 });
          y.sum().backward();
          xg.grad = null;
          w.grad = null;
        }),
      ),
    );
  }
  return { fwd, fb };
}

const py = `
import json, time, torch
torch.set_num_threads(${threads})
torch.manual_seed(0)
x = torch.randn(${B}, ${C}, ${N}, ${N}, ${N})
w = (torch.randn(${C}, ${C}, ${K}, ${K}, ${K}) * 0.02).requires_grad_()
xg = x.clone().requires_grad_()
fwd, fb = [], []
for i in range(${PER_ROUND} + 1):
    t = time.perf_counter()
    with torch.no_grad():
        torch.nn.functional.conv3d(x, w, padding=1)
    a = time.perf_counter() - t
    t = time.perf_counter()
    y = torch.nn.functional.conv3d(xg, w, padding=1)
    y.sum().backward()
    xg.grad = None; w.grad = None
    b = time.perf_counter() - t
    if i > 0:  # the first iteration warms up oneDNN
        fwd.append(a); fb.append(b)
print(json.dumps({"fwd": fwd, "fb": fb, "version": torch.__version__}))
`;

/** Per-call cost of a tiny op (1-element add): the binding's own overhead, free of kernel noise. */
const SMALL_CALLS = 20000;
function lodiSmallOp(): number {
  const a = F.ones([1]);
  const b = F.ones([1]);
  const t = timeIt(() => {
    for (let i = 0; i < SMALL_CALLS; i++) tidy(() => void a.add(b));
  });
  a.dispose();
  b.dispose();
  return (t / SMALL_CALLS) * 1e6;
}
const pySmall = `
import json, time, torch
a = torch.ones(1); b = torch.ones(1)
for _ in range(1000): a + b
t = time.perf_counter()
for _ in range(${SMALL_CALLS}): a + b
print(json.dumps({"us": (time.perf_counter() - t) / ${SMALL_CALLS} * 1e6}))
`;
const smallLodi: number[] = [];
const smallPy: number[] = [];
lodiSmallOp();
for (let r = 0; r < 5; r++) {
  smallLodi.push(lodiSmallOp());
  smallPy.push((JSON.parse(runPython(pySmall)) as { us: number }).us);
}

lodiRound(); // warm-up
const lodi = { fwd: [] as number[], fb: [] as number[] };
const torch = { fwd: [] as number[], fb: [] as number[] };
let torchVersion = '?';
for (let r = 0; r < ROUNDS; r++) {
  const a = lodiRound();
  lodi.fwd.push(...a.fwd);
  lodi.fb.push(...a.fb);
  const out = JSON.parse(runPython(py)) as { fwd: number[]; fb: number[]; version: string };
  torch.fwd.push(...out.fwd);
  torch.fb.push(...out.fb);
  torchVersion = out.version;
  process.stderr.write(`round ${r + 1}/${ROUNDS}\n`);
}

const gf = (flop: number, s: number): number => flop / s / 1e9;
const rows = [
  ['forward', gf(FLOP_FWD, median(lodi.fwd)), gf(FLOP_FWD, median(torch.fwd)), median(lodi.fwd) / median(torch.fwd)],
  ['forward+backward', gf(FLOP_FWDBWD, median(lodi.fb)), gf(FLOP_FWDBWD, median(torch.fb)), median(lodi.fb) / median(torch.fb)],
];
rows.push(['per-op overhead (1-element add), µs per call', median(smallLodi), median(smallPy), median(smallLodi) / median(smallPy)]);
const table = mdTable(['pass', 'lodi GFLOP/s (median)', 'PyTorch GFLOP/s (median)', 'time ratio lodi/PyTorch'], rows as (string | number)[][]);
const body = `Machine: ${machineLine()}; libtorch ${libtorchVersion()} (lodi addon) vs PyTorch ${torchVersion} (python3-torch), ${threads} threads each${MATCHING_MALLOC_ENV.GLIBC_TUNABLES ? ', same allocator settings (large blocks kept in the heap)' : ''}.
Command: \`npm run bench -- engine\` (${ROUNDS} alternating rounds x ${PER_ROUND} iterations per engine).
Layer: conv3d batch ${B}, ${N}^3, ${C}->${C} channels, ${K}^3 kernel, padding 1; ${(FLOP_FWD / 1e9).toFixed(2)} GFLOP forward, 3x that for forward+backward.

${table}

Target: time ratio <= 1.10 (the addon adds no real overhead). The last row is the cost of one call into the engine
on a 1-element tensor (lodi: N-API + dispatcher + the tidy scope; PyTorch: the Python binding), in µs rather than GFLOP/s.
The conv rows use the same libtorch kernels on both sides, so their ratio measures machine noise as much as anything:
on this shared 2-core machine repeated runs have given ratios from about 0.5 to 1.5 in either direction.`;
console.log(body);
writeSection('BENCHMARKS.md', 'engine', body);
