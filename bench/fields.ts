/**
 * Fields benchmark: CIC painting of 256^3 particles and P(k) of a 256^3 grid in lodi, next to
 * vectorised numpy doing the same on the same inputs (np.bincount CIC; np.fft.rfftn + np.bincount
 * P(k) with the same binning, mode counting and CIC deconvolution), in the same run. Medians over
 * interleaved repeats; the numpy results are also compared with lodi's. Writes the 'fields' section
 * of BENCHMARKS.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNumThreads } from '@lodi/torch';
import { writeNpy } from '../src/io/index.js';
import { paint } from '../src/field/mas.js';
import { powerSpectrum } from '../src/field/power.js';
import { overdensity } from '../src/field/ops.js';
import { Rng } from '../src/util/rng.js';
import { machineLine, maxRssMB, median, mdTable, runPython, timeIt, writeSection } from './lib.js';

const N = Number(process.env.LODI_BENCH_N ?? 256);
const REPEATS = Number(process.env.LODI_BENCH_REPEATS ?? 3);
const L = 25;
const NP = N ** 3;

const PY_COMMON = String.raw`
import numpy as np, time, json, sys, resource
N = ${N}; L = ${L}
def cic(pos):
    d = pos * np.float32(N / L)
    i0 = np.floor(d).astype(np.int64)
    u = (d - i0).astype(np.float32)
    i0 %= N
    i1 = (i0 + 1) % N
    v = 1 - u
    g = np.zeros(N**3)
    for a in (0, 1):
        ix = (i1 if a else i0)[:, 0]; wx = (u if a else v)[:, 0]
        for b in (0, 1):
            iy = (i1 if b else i0)[:, 1]; wy = (u if b else v)[:, 1]
            for c in (0, 1):
                iz = (i1 if c else i0)[:, 2]; wz = (u if c else v)[:, 2]
                g += np.bincount((ix * N + iy) * N + iz, weights=wx * wy * wz, minlength=N**3)
    return g.astype(np.float32).reshape(N, N, N)
def pk(d):
    dk = np.fft.rfftn(d)
    m = N // 2
    n = np.fft.fftfreq(N, 1.0 / N); n[m] = m  # Nyquist counted +N/2, as Pylians
    nz = np.arange(m + 1, dtype=np.float64)
    x = np.pi * n / N
    w = np.ones(N); nz0 = n != 0; w[nz0] = (x[nz0] / np.sin(x[nz0]))**2
    corr = (w[:, None, None] * w[None, :, None] * w[None, None, :m + 1])**2
    p = (dk.real**2 + dk.imag**2) * corr
    k = np.sqrt(n[:, None, None]**2 + n[None, :, None]**2 + nz[None, None, :]**2)
    idx = k.astype(np.int64)
    wt = np.ones(k.shape)
    for pl in (0, m):  # planes kz = 0 and N/2 hold each mode and its conjugate: keep one
        wt[n < 0, :, pl] = 0
        for line in (0, m):
            wt[np.where(n == line)[0][0], n < 0, pl] = 0
    nm = np.bincount(idx.ravel(), weights=wt.ravel())
    ps = np.bincount(idx.ravel(), weights=(p * wt).ravel())
    ks = np.bincount(idx.ravel(), weights=(k * wt).ravel())
    keep = np.arange(len(nm)) >= 1
    keep &= nm > 0
    return (ks[keep] / nm[keep]) * 2 * np.pi / L, ps[keep] / nm[keep] * L**3 / N**6, nm[keep]
`;

function pyCic(posPath: string, gridOut: string): { t: number; rssMB: number } {
  const out = runPython(`${PY_COMMON}
pos = np.load('${posPath}')
r0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter(); g = cic(pos); t = time.perf_counter() - t
r1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
np.save('${gridOut}', g)
print(json.dumps({'t': t, 'rssMB': (r1 - r0) / 1024}))`);
  return JSON.parse(out.trim().split('\n').pop()!);
}

function pyPk(fieldPath: string, outPath: string): { t: number } {
  const out = runPython(`${PY_COMMON}
d = np.load('${fieldPath}')
t = time.perf_counter(); k, p, nm = pk(d); t = time.perf_counter() - t
np.save('${outPath}', np.stack([k, p, nm]))
print(json.dumps({'t': t}))`);
  return JSON.parse(out.trim().split('\n').pop()!);
}

function compare(pathA: string, pathB: string): number {
  const out = runPython(`import numpy as np
a = np.load('${pathA}').astype(np.float64); b = np.load('${pathB}').astype(np.float64)
print(float(np.max(np.abs(a - b)) / np.max(np.abs(b))))`);
  return Number(out.trim());
}

const dir = mkdtempSync(join(tmpdir(), 'lodi-bench-fields-'));
try {
  process.stderr.write(`fields benchmark: N=${N}, ${NP} particles, ${REPEATS} repeats, ${getNumThreads()} engine threads\n`);
  const rng = new Rng(2024);
  const pos = new Float32Array(3 * NP);
  for (let i = 0; i < pos.length; i++) pos[i] = rng.uniform() * L;
  // Peak memory of one CIC paint: growth of the process's peak RSS over what it held before.
  const rssBefore = maxRssMB();
  const heapBefore = process.memoryUsage().arrayBuffers;
  let grid = paint(pos, { grid: N, boxSize: L, mas: 'CIC' });
  const cicRssGrowth = maxRssMB() - rssBefore;
  const cicBufGrowth = (process.memoryUsage().arrayBuffers - heapBefore) / 2 ** 20;
  const particleMB = pos.byteLength / 2 ** 20;
  const posPath = join(dir, 'pos.npy');
  writeNpy(posPath, pos, [NP, 3]);

  const tCic: number[] = [];
  const tCicPy: number[] = [];
  let pyCicRss = NaN;
  for (let r = 0; r < REPEATS; r++) {
    tCic.push(timeIt(() => (grid = paint(pos, { grid: N, boxSize: L, mas: 'CIC' }))));
    const py = pyCic(posPath, join(dir, 'grid_np.npy'));
    tCicPy.push(py.t);
    pyCicRss = py.rssMB;
    process.stderr.write(`  CIC round ${r + 1}: lodi ${tCic[r]!.toFixed(3)} s, numpy ${py.t.toFixed(3)} s\n`);
  }
  writeNpy(join(dir, 'grid_lodi.npy'), grid, [N, N, N]);
  const cicDiff = compare(join(dir, 'grid_lodi.npy'), join(dir, 'grid_np.npy'));

  const delta = overdensity(grid);
  const fieldPath = join(dir, 'delta.npy');
  writeNpy(fieldPath, delta, [N, N, N]);
  const tPk: number[] = [];
  const tPkPy: number[] = [];
  let pk = powerSpectrum(delta, N, { boxSize: L, mas: 'CIC' });
  for (let r = 0; r < REPEATS; r++) {
    tPk.push(timeIt(() => (pk = powerSpectrum(delta, N, { boxSize: L, mas: 'CIC' }))));
    tPkPy.push(pyPk(fieldPath, join(dir, 'pk_np.npy')).t);
    process.stderr.write(`  P(k) round ${r + 1}: lodi ${tPk[r]!.toFixed(3)} s, numpy ${tPkPy[r]!.toFixed(3)} s\n`);
  }
  const ours = new Float64Array(3 * pk.k.length);
  ours.set(pk.k, 0);
  ours.set(pk.pk, pk.k.length);
  ours.set(pk.nmodes, 2 * pk.k.length);
  writeNpy(join(dir, 'pk_lodi.npy'), ours, [3, pk.k.length]);
  const pkDiff = Number(
    runPython(`import numpy as np
a = np.load('${join(dir, 'pk_lodi.npy')}'); b = np.load('${join(dir, 'pk_np.npy')}')
assert a.shape == b.shape, (a.shape, b.shape)
assert np.array_equal(a[2], b[2]), 'Nmodes differ'
print(float(np.max(np.abs(a[1] / b[1] - 1))))`).trim(),
  );

  const mc = median(tCic), mp = median(tCicPy), pc = median(tPk), pp = median(tPkPy);
  const body = [
    `Machine: ${machineLine()}; engine threads ${getNumThreads()}; numpy ${runPython('import numpy; print(numpy.__version__)').trim()}.`,
    '',
    `Inputs: ${NP.toLocaleString('en')} uniform random particles (seeded) in a ${L} Mpc/h box, ${N}^3 grid; the numpy code reads the same particles / field from .npy.`,
    `Medians over ${REPEATS} interleaved repeats (lodi, then numpy, per round).`,
    '',
    mdTable(
      ['task', 'lodi [s]', 'numpy [s]', 'ratio lodi/numpy', 'agreement'],
      [
        [`CIC paint ${N}^3 particles → ${N}^3`, mc, mp, mc / mp, `max |Δ|/max = ${cicDiff.toExponential(1)}`],
        [`P(k) of a ${N}^3 grid (CIC-deconvolved)`, pc, pp, pc / pp, `max |P/P_np − 1| = ${pkDiff.toExponential(1)}, Nmodes identical`],
      ],
    ),
    '',
    `Peak memory of one ${N}^3 CIC paint in lodi (measured first, right after generating the particles): peak-RSS growth ${cicRssGrowth.toFixed(0)} MiB (array buffers +${cicBufGrowth.toFixed(0)} MiB, the float32 grid) ` +
      `against ${particleMB.toFixed(0)} MiB of float32 particle positions, i.e. ${(cicRssGrowth / particleMB).toFixed(2)}× the particle arrays (target < 2×). ` +
      `numpy's bincount CIC grew its peak RSS by ${pyCicRss.toFixed(0)} MiB (${(pyCicRss / particleMB).toFixed(2)}×).`,
    '',
    'lodi: CIC is a plain TypeScript loop accumulating into the float32 grid (no temporary arrays); P(k) uses the engine\'s rfftn (float32 → complex64) and one float64 binning pass over the half-space modes.',
  ].join('\n');
  writeSection('BENCHMARKS.md', 'fields', body);
  process.stdout.write(body + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
