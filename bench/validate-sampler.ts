/**
 * The 21cmFAST-v4 halo sampler against the FoF halos of an N-body run from the same initial conditions
 * (VALIDATION.md section "sampler against N-body halos", plots docs/validation/sampler-fof-*.png).
 *
 *   npm run validate -- sampler [--box 50] [--particles 192] [--z 5] [--seed 7] [--grid 32] [--mesh 64]
 *
 * One linear field, two ways to halos: `lodi simulate`'s 2LPT initial conditions + PM + FoF (b = 0.2,
 * >= 20 particles), and `sampleHaloField` on the same seed with a fine grid equal to the particle lattice,
 * so both start from the identical δ_L(x) (src/nbody/ic.ts linearDensityK, nodes i L / n). Compared:
 * 1. the halo mass functions against Sheth–Tormen with the code's parameters (the paper's Fig. 4 reference);
 * 2. field by field on a mesh (CIC, deconvolved): the large-scale bias b(k) = P_hm / P_mm against the N-body
 *    matter of each halo set, with its Gaussian error sqrt((P_hh - b^2 P_mm) / (2 N_modes P_mm)), and the
 *    cross-correlation r(k) of sampled with FoF halos (shot noise included: the two sets share many objects and
 *    halo exclusion makes their noise sub-Poisson, so subtracting 1/n̄ would over-correct). Two selections: the
 *    same mass threshold (20 particle masses), and abundance matching (the N most massive sampled halos, N the
 *    FoF count), which removes the PM run's deficit of small halos. Control: the sampler on another seed
 *    (other ICs) must not correlate with the FoF halos.
 * The sampled halos are where the sampler puts them: uniform in their Lagrangian cell, moved by 2LPT, so r(k)
 * falls on the cell scale by construction.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CAMELS_CV, LinearPower, SigmaM, biasST, dndlnM, growthFactor } from '../src/cosmo/index.js';
import { crossPowerSpectrum, paint } from '../src/field/index.js';
import { initialConditions } from '../src/nbody/ic.js';
import { runPM } from '../src/nbody/pm.js';
import { findHalos } from '../src/nbody/fof.js';
import { sampleHaloField } from '../src/astro/sampler/halo-field.js';
import { ST_HMF_21CMFAST } from '../src/astro/sampler/params.js';
import { linePlot, multiPanel, type Series } from '../src/report/index.js';
import { machineLine, mdTable, numArg, repoRoot, writeSection } from './lib.js';

const L = numArg('box', 50, true);
const N = numArg('particles', 192, true);
const z = numArg('z', 5, true);
const seed = numArg('seed', 7, true);
const grid = numArg('grid', 32, true);
const mesh = numArg('mesh', 64, true);
if (N % grid !== 0) throw new Error(`--particles ${N} must be a multiple of --grid ${grid} (the sampler's fine grid is the particle lattice)`);

const plotDir = join(repoRoot, 'docs', 'validation');
mkdirSync(plotDir, { recursive: true });
const cosmo = CAMELS_CV;
const power = new LinearPower(cosmo);
const sig = new SigmaM(power);
const t0 = performance.now();
const say = (s: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${s}\n`);

// --- N-body: the world of `lodi simulate` (2LPT ICs at z = 49, 20 PM steps, mesh 2x, FoF b = 0.2) ---
const state = initialConditions({ boxSize: L, n: N, zInit: 49, seed, cosmo, power, order: 2 });
runPM(state, { cosmo, steps: 20, outputs: [z], pmFactor: 2, onStep: (s, n) => s % 5 === 0 && say(`PM step ${s}/${n}`) });
const mp = state.particleMass;
const fof = findHalos(state.positions, L, { particleMass: mp });
const tNbody = (performance.now() - t0) / 1000;
say(`N-body + FoF: ${fof.masses.length} halos >= 20 particles (m_p ${mp.toExponential(3)} Msun/h)`);

// --- sampler on the same linear field ---
const t1 = performance.now();
const sampled = sampleHaloField({ cosmology: cosmo, boxSize: L, grid, zLowest: z, zMax: z, minMass: 10 * mp, seed, hiresFactor: N / grid, power, sigma: sig });
const cat = sampled.catalogues[0]!;
const tSampler = (performance.now() - t1) / 1000;
say(`sampler: ${cat.count} halos >= ${(10 * mp).toExponential(2)} Msun/h (${sampled.dexmCount} from the finder)`);

// --- mass functions ---
const mTh = 20 * mp;
const edges: number[] = [];
for (let lm = Math.log10(mTh); lm < 13.6; lm += 0.2) edges.push(10 ** lm);
const hist = (m: Float64Array) => {
  const c = new Float64Array(edges.length - 1);
  for (const x of m) {
    for (let b = 0; b < c.length; b++) if (x >= edges[b]! && x < edges[b + 1]!) c[b]!++;
  }
  return c;
};
const cF = hist(fof.masses);
const cS = hist(cat.mass);
const V = L ** 3;
const mid = edges.slice(0, -1).map((e, b) => Math.sqrt(e * edges[b + 1]!));
const dlog = 0.2;
const stInt = (lo: number, hi: number) => {
  let s = 0;
  const n = 64;
  const a = Math.log(lo);
  const d = (Math.log(hi) - a) / n;
  for (let i = 0; i < n; i++) s += dndlnM(sig, Math.exp(a + (i + 0.5) * d), z, { model: 'st', st: ST_HMF_21CMFAST, deltaC: 1.686 }) * d;
  return s * V;
};
const expect = mid.map((_, b) => stInt(edges[b]!, edges[b + 1]!));
const dens = (c: Float64Array) => Array.from(c, (x) => x / V / dlog);
const errs = (c: Float64Array) => Array.from(c, (x) => Math.sqrt(Math.max(x, 1)) / V / dlog);
const hmfSeries: Series[] = [
  { name: 'FoF (N-body)', x: mid, y: dens(cF), yErr: errs(cF) },
  { name: 'sampler (same ICs)', x: mid, y: dens(cS), yErr: errs(cS) },
  { name: 'Sheth–Tormen (21cmFAST parameters)', x: mid, y: expect.map((e) => e / V / dlog), dashed: true },
];
await linePlot(
  {
    series: hmfSeries,
    xLabel: 'M [Msun/h]',
    yLabel: 'dn/dlog10 M [(h/Mpc)^3]',
    logX: true,
    logY: true,
    title: `Halo mass function, z = ${z}, ${L} Mpc/h, ${N}^3 particles (seed ${seed})`,
  },
  join(plotDir, 'sampler-fof-hmf.png'),
);

// --- fields on the mesh ---
function overdensity(pos: Float32Array | Float64Array): Float32Array {
  const g = paint(pos, { grid: mesh, boxSize: L, mas: 'CIC' });
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i]!;
  const m = s / g.length;
  for (let i = 0; i < g.length; i++) g[i] = g[i]! / m - 1;
  return g;
}
function select(pos: Float32Array, mass: Float64Array, keep: (i: number) => boolean): Float32Array {
  const out: number[] = [];
  for (let i = 0; i < mass.length; i++) if (keep(i)) out.push(pos[3 * i]!, pos[3 * i + 1]!, pos[3 * i + 2]!);
  return Float32Array.from(out);
}
const matter = overdensity(state.positions);
const fofPos = select(fof.positions, fof.masses, () => true);
const sameThreshold = select(cat.pos, cat.mass, (i) => cat.mass[i]! >= mTh);
const order = Array.from(cat.mass.keys()).sort((a, b) => cat.mass[b]! - cat.mass[a]!);
const topN = new Set(order.slice(0, fof.masses.length));
const matched = select(cat.pos, cat.mass, (i) => topN.has(i));
const mMatched = cat.mass[order[Math.min(fof.masses.length, order.length) - 1]!]!;
const opts = { boxSize: L, mas: 'CIC' as const };

interface HaloStats {
  name: string;
  count: number;
  delta: Float32Array;
  b: Float64Array;
  bErr: Float64Array;
  rm: Float64Array;
}
function stats(name: string, pos: Float32Array): HaloStats {
  const delta = overdensity(pos);
  const x = crossPowerSpectrum(delta, matter, mesh, opts);
  const b = x.p12.map((p, i) => p / x.p22[i]!);
  const bErr = b.map((bi, i) => Math.sqrt(Math.max(x.p11[i]! - bi * bi * x.p22[i]!, 0) / (2 * x.nmodes[i]! * x.p22[i]!)));
  return { name, count: pos.length / 3, delta, b, bErr, rm: x.r };
}
const sF = stats('FoF', fofPos);
const sS = stats('sampler, M >= 20 m_p', sameThreshold);
const sM = stats('sampler, abundance matched', matched);
const kx = crossPowerSpectrum(sF.delta, matter, mesh, opts).k;
const rHalo = (a: HaloStats, b: HaloStats) => crossPowerSpectrum(a.delta, b.delta, mesh, opts).r;
const rS = rHalo(sS, sF);
const rM = rHalo(sM, sF);
const control = sampleHaloField({ cosmology: cosmo, boxSize: L, grid, zLowest: z, zMax: z, minMass: 10 * mp, seed: seed + 1000, hiresFactor: N / grid, power, sigma: sig }).catalogues[0]!;
const sC = stats('sampler, other seed', select(control.pos, control.mass, (i) => control.mass[i]! >= mTh));
const rC = rHalo(sC, sF);

// Analytic number-weighted bias above a threshold (ST with the code's parameters).
function bEff(mLo: number): number {
  let nb = 0;
  let n = 0;
  const steps = 400;
  const a = Math.log(mLo);
  const d = (Math.log(1e15) - a) / steps;
  for (let i = 0; i < steps; i++) {
    const M = Math.exp(a + (i + 0.5) * d);
    const dn = dndlnM(sig, M, z, { model: 'st', st: ST_HMF_21CMFAST, deltaC: 1.686 });
    nb += dn * biasST(1.686 / sig.sigma(M, z), ST_HMF_21CMFAST, 1.686);
    n += dn;
  }
  return nb / n;
}
const bTh = bEff(mTh);
const bMatched = bEff(mMatched);

const kMax = 0.6;
const large = Array.from(kx.keys()).filter((i) => kx[i]! <= kMax);
const wmean = (s: HaloStats) => {
  let a = 0;
  let w = 0;
  for (const i of large) {
    const wi = 1 / s.bErr[i]! ** 2;
    a += s.b[i]! * wi;
    w += wi;
  }
  return { b: a / w, err: Math.sqrt(1 / w) };
};
const bF = wmean(sF);
const bS = wmean(sS);
const bM = wmean(sM);
const kPlot = Array.from(kx).filter((k) => k <= 2.5);
const nk = kPlot.length;
const cut = (a: ArrayLike<number>) => Array.from(a).slice(0, nk);
await multiPanel(
  {
    title: `Sampled vs N-body halos from the same ICs, z = ${z}, ${L} Mpc/h`,
    panels: [
      {
        series: [
          { name: `FoF (${sF.count})`, x: kPlot, y: cut(sF.b), yErr: cut(sF.bErr) },
          { name: `sampler M >= 20 m_p (${sS.count})`, x: kPlot, y: cut(sS.b), yErr: cut(sS.bErr) },
          { name: `sampler, abundance matched (${sM.count})`, x: kPlot, y: cut(sM.b), yErr: cut(sM.bErr) },
          { name: `ST bias above 20 m_p (${bTh.toFixed(2)})`, x: kPlot, y: kPlot.map(() => bTh), dashed: true },
        ],
        xLabel: 'k [h/Mpc]',
        yLabel: 'b(k) = P_hm / P_mm',
        logX: true,
      },
      {
        series: [
          { name: 'r(sampler, FoF), same threshold', x: kPlot, y: cut(rS) },
          { name: 'r(sampler, FoF), abundance matched', x: kPlot, y: cut(rM) },
          { name: 'r(FoF, matter)', x: kPlot, y: cut(sF.rm), dashed: true },
          { name: `control: sampler on seed ${seed + 1000}`, x: kPlot, y: cut(rC), dashed: true },
        ],
        xLabel: 'k [h/Mpc]',
        yLabel: 'r(k)',
        logX: true,
        refLine: [{ y: 0 }, { y: 1 }],
      },
    ],
    heights: [260, 200],
  },
  join(plotDir, 'sampler-fof-bias.png'),
);

const f2 = (x: number) => x.toFixed(2);
const f3 = (x: number) => x.toFixed(3);
const hmfRows = mid
  .map((m, b) => [m.toExponential(2), cF[b]!, cS[b]!, expect[b]!.toFixed(1), expect[b]! > 0 ? f2(cF[b]! / expect[b]!) : '–', expect[b]! > 0 ? f2(cS[b]! / expect[b]!) : '–'])
  .filter((r) => Number(r[1]) + Number(r[2]) > 0);
const kRows = Array.from(kx.keys())
  .filter((i) => kx[i]! <= 2.5)
  .map((i) => [f3(kx[i]!), `${f2(sF.b[i]!)} ± ${f2(sF.bErr[i]!)}`, `${f2(sS.b[i]!)} ± ${f2(sS.bErr[i]!)}`, `${f2(sM.b[i]!)} ± ${f2(sM.bErr[i]!)}`, f2(rS[i]!), f2(rM[i]!), f2(sF.rm[i]!), f2(rC[i]!)]);
const D = growthFactor(cosmo, z);
const body = `
${machineLine()}. \`npm run validate -- sampler --box ${L} --particles ${N} --z ${z} --seed ${seed} --grid ${grid} --mesh ${mesh}\`
(bench/validate-sampler.ts): N-body ${tNbody.toFixed(0)} s (2LPT ICs at z = 49, 20 PM steps, mesh ${2 * N}^3, FoF b = 0.2,
≥ 20 particles, m_p = ${mp.toExponential(3)} Msun/h), sampler ${tSampler.toFixed(1)} s (${grid}^3 cells of ${f3(L / grid)} Mpc/h,
fine grid ${N}^3 = the particle lattice, M_min = 10 m_p, one redshift, default parameters). Both start from the identical linear
field (same seed, same \`linearDensityK\`; D(z = ${z}) = ${f3(D)}).

**Counts.** FoF: ${sF.count} halos ≥ 20 m_p = ${mTh.toExponential(2)} Msun/h; sampler: ${sS.count} above the same mass
(${cat.count} above 10 m_p, ${sampled.dexmCount} from the Lagrangian finder); Sheth–Tormen with the code's parameters expects
${stInt(mTh, 1e16).toFixed(0)}. The abundance-matched sampled set (the ${sM.count} most massive) starts at ${mMatched.toExponential(2)} Msun/h.

${mdTable(['M [Msun/h] (0.2 dex bin)', 'FoF', 'sampler', 'ST expected', 'FoF / ST', 'sampler / ST'], hmfRows)}

**Large-scale bias** (b = P_hm/P_mm, inverse-variance mean over k ≤ ${kMax} h/Mpc): FoF ${f2(bF.b)} ± ${f2(bF.err)}, sampler at
the same threshold ${f2(bS.b)} ± ${f2(bS.err)} (ratio ${f3(bS.b / bF.b)}), abundance matched ${f2(bM.b)} ± ${f2(bM.err)} (ratio
${f3(bM.b / bF.b)}); the ST peak-background-split bias, number-weighted above the threshold, is ${f2(bTh)} (20 m_p) and
${f2(bMatched)} (the matched threshold).

${mdTable(['k [h/Mpc]', 'b FoF', 'b sampler (20 m_p)', 'b sampler (matched)', 'r(sampler, FoF)', 'r(matched, FoF)', 'r(FoF, matter)', 'r(control, FoF)'], kRows)}

![mass functions](docs/validation/sampler-fof-hmf.png)
![bias and cross-correlation](docs/validation/sampler-fof-bias.png)
`;
writeSection('VALIDATION.md', 'sampler against N-body halos', body);
say('VALIDATION.md section "sampler against N-body halos" written');
