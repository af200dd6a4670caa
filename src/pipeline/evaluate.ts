/**
 * `lodi evaluate`: how good are the halo channels and the 21 cm maps of one or more runs, compared
 * with the truth worlds they were made for? Writes a self-contained report (HTML with embedded PNGs,
 * plus Markdown), the PNG plots and `metrics.json`.
 *
 * Sources: the LODI
 * paper (Eq. 15–16: spectra of T̂_b = T_b/⟨T_b⟩; Fig. 10–11: P(k) over realisations, the residual over
 * 7 fields × 5 realisations) and its referee report (data split, leakage, error bars, stitching).
 *
 * Conventions: P(k) with Pylians' conventions (src/field/power.ts), the truth's mass-assignment window
 * deconvolved from both maps (it cancels in every ratio); k in h/Mpc, P in (Mpc/h)^3; the truth T_b is
 * smoothed to the run's smoothing radius when the run records a larger one (Gaussians compose:
 * R_extra² = R_run² − R_truth²).
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import {
  boxFacePlanes,
  boxGridHarmonics,
  crossPowerSpectrum,
  faceGradientJump,
  fieldHistogram,
  gaussianSmooth,
  harmonicExcess,
  latticeExcess,
  overdensity,
  powerSpectrum,
  type MassAssignment,
} from '../field/index.js';
import { memberLabel, type WorldGrids } from '../io/index.js';
import { planStages } from '../lodi/planner.js';
import { histogramPlot, linePlot, multiPanel, panelImages, projectSlab, writeReport, type ImagePanel, type LinePlotOptions, type ReportSection, type Series } from '../report/index.js';
import { OutputExistsError, writeFileAtomic } from '../util/atomic.js';
import { canonicalDir, checkSplit, readRun, splitSummary, readTruth, type LoadedRun, type SplitCheck } from './evaluate-load.js';
import { DEFAULT_FLOOR_LOG as DEFAULT_HALO_FLOOR_LOG } from '../halogen/config.js';
import { poolRepaints, repaintSpectra, repaintTb, type RepaintSpectra, type TruthScatterScores } from './truth-scatter.js';
import { absStats, haloChannelMetrics, interpLogK, meanCurve, residualBootstrap, tbHat, type HaloChannelMetrics, type ResidualStats } from './evaluate-stats.js';

export interface EvaluateOptions {
  /** Run directories (one per DM field), each written by `lodi run`. */
  runs: string[];
  /** Truth world directories, one per run, in the same order. */
  truths: string[];
  /** Report directory (created; must not exist unless `force`). */
  out: string;
  /** Evaluate even when a truth world trained or validated a model (the report says so). */
  allowTrainData?: boolean;
  /** Replace an existing report directory. */
  force?: boolean;
  /** Bootstrap samples for the residual's error bars (default 1000) and their seed (default 0). */
  bootstrap?: number;
  seed?: number;
  /** Command line recorded in the report and metrics. */
  command?: string;
  /** No progress lines on stderr. */
  quiet?: boolean;
  /**
   * Score HI repaints of simulated truths the same way (`repaintTb`: an exact sampler of the world's
   * p(T_b | halos), as many repaints per field as it has realisations); default true.
   */
  truthScatter?: boolean;
}

/** k up to which the headline residual is averaged: min(10 h/Mpc, k_Nyquist/2). */
export const RESIDUAL_K_MAX = 10;

/** metrics.json (non-finite numbers are written as null). */
export interface EvaluationMetrics {
  format: 'lodi-evaluation';
  version: 1;
  fields: number;
  /** Realisations in all (Σ over fields) and per field. */
  realizations: number;
  realizationsPerField: number[];
  /** k range of the headline numbers [h/Mpc]: first bin, min(10, k_Nyq/2), k_Nyq = π N / L, bins used. */
  k_range: { k_min: number; k_max: number; k_nyquist: number; bins: number };
  /** Of P_gen/P_true − 1 of T̂_b, realisations averaged first, then fields, over k ≤ k_range.k_max. */
  mean_abs_residual_k_le_10: number;
  max_abs_residual_k_le_10: number;
  /** r(k) of generated vs true T̂_b at k = 1 h/Mpc (mean over fields × realisations, log-k interpolation). */
  r_at_k_1: number;
  /** The accuracy targets (mean |residual| ≤ 0.1, r(k = 1) ≥ 0.9, halo channels in band). */
  targets: { mean_abs_residual_le_0_1: boolean; r_at_k_1_ge_0_9: boolean; halo_channels_pass: boolean | null };
  /** The residual curve with its bootstrap errors. */
  residual: { k: number[]; mean: number[]; bootstrap_std: number[]; bootstrap_p16: number[]; bootstrap_p84: number[]; samples: number; seed: number };
  /**
   * r(k) of generated vs true T̂_b (mean and std over fields × realisations), and what limits it:
   * `between_realizations`, r(k) of two realisations of the same field (consecutive pairs, averaged over
   * pairs and fields; what r(generated, truth) would be if the truth were one more draw of LODI's
   * p(T_b | channels)), and `realization_mean`, r(k) of the realisation-averaged map and the truth (a
   * lower bound of r(E[T_b | channels], truth) that rises with the number of realisations averaged, which
   * `realizationsPerField` gives); null with one realisation per field.
   */
  r: {
    k: number[];
    mean: number[];
    std: number[];
    between_realizations: number[] | null;
    between_realizations_at_k_1: number | null;
    realization_mean: number[] | null;
    realization_mean_at_k_1: number | null;
  };
  per_field: {
    run: string;
    truth: string;
    seed: number | null;
    realizations: number;
    mean_abs_residual_k_le_10: number;
    max_abs_residual_k_le_10: number;
    r_at_k_1: number;
    mean_tb_true_mK: number;
    mean_tb_gen_mK: number;
  }[];
  /** Per halo channel (null when the runs have no halos.npy or the truths no halos). */
  halos: ({ channel: number; name: string; r_min_k_le_1: number; r_mean_k_le_1: number; r_at_k_1: number; r_ge_0_8: boolean; pass: boolean } & HaloChannelMetrics)[] | null;
  /** Stitching diagnostics of field 0, realisation 0 (null with a reason when they could not be run). */
  stitching: StitchingMetrics | { skipped: string };
  smoothing: { truth_R: number | null; run_R: number | null; extra_R_applied: number };
  /**
   * The same scores for HI repaints of the truths (simulated worlds: the world's HI painted again on its
   * halos with other seeds, src/pipeline/truth-scatter.ts), i.e. what an exact sampler of the world's
   * p(T_b | halos) gets with this many fields and realisations; skipped (with the reason) for other truths.
   */
  truth_scatter:
    | TruthScatterScores
    | { skipped: string };
  /** `subVolumes`: each model's division of its worlds into training and validation sub-volumes (`splitSummary`). */
  split: { rows: SplitCheck['rows']; leaks: string[]; allowed: boolean; subVolumes: string[] };
  command?: string;
}

export interface StitchMapMetrics {
  /** Lattice excess (see field/stitching.ts), its noise and the number of lattice modes. */
  lattice_excess: number | null;
  lattice_noise: number | null;
  lattice_modes: number;
  /** Excess in the spherical bins at the box-grid harmonics: mean, max and per harmonic. */
  harmonic_excess_mean: number;
  harmonic_excess_max: number;
  harmonic_excess: number[];
  /** rms jump across box faces / rms difference in the interior. */
  face_jump_ratio: number;
  /** P_map / P_truth − 1 averaged over k ≤ k_max (bias of this map's spectrum). */
  mean_residual_vs_truth: number;
  /** r(k) with the single-pass map (when there is one): at k = 1 and mean over k ≤ k_max. */
  r_single_at_k_1?: number;
  r_single_mean?: number;
}

export interface StitchingMetrics {
  box: number;
  overlap: number;
  periodic: boolean;
  boxes_per_axis: number;
  /** Box spacing in voxels (N / boxes per axis) and the harmonics tested [h/Mpc]. */
  spacing_voxels: number;
  harmonics_k: number[];
  face_planes: number[];
  /** Per map: 'truth' (control, no seams), the run's method (realisation 0), 'tiling', 'average', 'single' when present. */
  maps: Record<string, StitchMapMetrics>;
}

export interface EvaluateResult {
  out: string;
  metrics: EvaluationMetrics;
  files: string[];
}

/** One field's T̂_b spectra. */
interface FieldSpectra {
  run: LoadedRun;
  truth: WorldGrids;
  k: Float64Array;
  pTrue: Float64Array;
  pGen: Float64Array[];
  r: Float64Array[];
  /** r(k) of consecutive realisations of the field (R − 1 pairs; empty with one realisation). */
  rPairs: Float64Array[];
  /** r(k) of the realisation-averaged T̂_b and the truth (null with one realisation). */
  rMeanMap: Float64Array | null;
  /** P(k) and r(k) with the truth of each HI repaint of the truth (`repaintTb`; null when not scored). */
  repaints: RepaintSpectra | null;
  meanTrue: number;
  meanGen: number;
}

const MAS_NAMES: readonly string[] = ['NGP', 'CIC', 'TSC'];

function log(o: EvaluateOptions, msg: string): void {
  if (!o.quiet) process.stderr.write(`evaluate: ${msg}\n`);
}

function meanOf(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

const arr = (a: ArrayLike<number>): number[] => Array.from(a);
const fmt = (v: number, d = 3): string => (Number.isFinite(v) ? v.toPrecision(d) : v === -Infinity ? '−∞ (empty)' : 'n/a');

/** Keeps the points of each series with x ≤ xMax (spectra are plotted up to the 1D Nyquist frequency). */
function clipX(series: Series[], xMax: number): Series[] {
  return series.map((sr) => {
    const keep = Array.from(sr.x, (_, i) => i).filter((i) => sr.x[i]! <= xMax * (1 + 1e-9));
    return { ...sr, x: keep.map((i) => sr.x[i]!), y: keep.map((i) => sr.y[i]!), ...(sr.yErr ? { yErr: keep.map((i) => sr.yErr![i]!) } : {}) };
  });
}

/** y range of residual panels: the values (± errors) at x ≤ xMax, at least ±0.2, at most ±3. */
function residualDomain(series: Series[], xMax: number): [number, number] {
  let lo = -0.2;
  let hi = 0.2;
  for (const sr of series) {
    for (let i = 0; i < sr.x.length; i++) {
      if (!(sr.x[i]! <= xMax) || !Number.isFinite(sr.y[i]!)) continue;
      const e = sr.yErr ? Math.abs(sr.yErr[i]!) || 0 : 0;
      lo = Math.min(lo, sr.y[i]! - e);
      hi = Math.max(hi, sr.y[i]! + e);
    }
  }
  const pad = 0.05 * (hi - lo);
  return [Math.max(-3, lo - pad), Math.min(3, hi + pad)];
}

/**
 * Series for a fixed y range: the plotting layer cuts lines at the frame and drops markers outside
 * it (saying how many), so curves that leave the range are still drawn up to its edge.
 */
function inDomain(series: Series[], _dom: [number, number]): Series[] {
  return series;
}

/** Refuses an output directory that exists (unless force) or that holds one of the inputs. */
function checkOut(o: EvaluateOptions): string {
  const out = resolve(o.out);
  const cout = canonicalDir(out);
  for (const d of [...o.runs, ...o.truths]) {
    const c = canonicalDir(d);
    if (c === cout || c.startsWith(cout + sep)) throw new Error(`--out ${o.out} would contain the input ${d}; choose another report directory`);
  }
  if (existsSync(out)) {
    const empty = statSync(out).isDirectory() && readdirSync(out).length === 0;
    if (!empty && !o.force) throw new OutputExistsError(o.out);
  }
  return out;
}

/** Moves the finished report directory into place (replacing `out` only when allowed). */
function commitDir(tmp: string, out: string, force: boolean): void {
  if (existsSync(out)) {
    const empty = statSync(out).isDirectory() && readdirSync(out).length === 0;
    if (!empty && !force) throw new OutputExistsError(out);
    const old = `${tmp}.old`;
    renameSync(out, old);
    try {
      renameSync(tmp, out);
    } catch (err) {
      renameSync(old, out);
      throw err;
    }
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, out);
  }
}

/**
 * Evaluates one or more run directories against their truth worlds (runs[i] against truths[i]) and
 * writes `out/report.html` (self-contained), `out/report.md`, the PNG plots and `out/metrics.json`.
 * Everything is written into a temporary sibling directory and renamed at the end, so a failure
 * leaves no partial output and an existing report is replaced only with `force`.
 *
 * Throws a one-line error when: the numbers of runs and truths differ; a run or world is missing or
 * inconsistent (grid, box, redshift, units, DM seed against the truth's seed); the fields differ in
 * N or box; a T_b map has a mean ~0 relative to its rms; a truth world trained or validated a model
 * (by directory or IC seed, from run.json) and `allowTrainData` is not set; `out` exists without
 * `force`, or would contain an input.
 */
export async function evaluateRun(o: EvaluateOptions): Promise<EvaluateResult> {
  if (o.runs.length === 0) throw new Error('evaluate: give at least one --run directory');
  if (o.runs.length !== o.truths.length) throw new Error(`evaluate: ${o.runs.length} --run directories but ${o.truths.length} --truth worlds; give one truth per run, in the same order`);
  const truthSet = new Set(o.truths.map((d) => canonicalDir(d)));
  if (truthSet.size !== o.truths.length) throw new Error('evaluate: the same --truth world is given twice; each run must be a different DM field');
  const out = checkOut(o);

  log(o, `reading ${o.runs.length} run(s)`);
  const runs = o.runs.map((d) => readRun(d));
  const truths = runs.map((r, i) => readTruth(o.truths[i]!, r));
  const N = runs[0]!.json.grid;
  const L = runs[0]!.json.boxSize;
  runs.forEach((r) => {
    if (r.json.grid !== N || Math.abs(r.json.boxSize - L) > 1e-6 * L) throw new Error(`evaluate: ${r.dir} is a ${r.json.grid}^3 grid of ${r.json.boxSize} Mpc/h, ${runs[0]!.dir} a ${N}^3 grid of ${L} Mpc/h; fields combined in one report must share N and box`);
  });
  const split = checkSplit(runs, truths);
  if (split.leaks.length > 0 && !o.allowTrainData) {
    throw new Error(`evaluate: test world ${split.leaks[0]}; evaluating on training data overstates accuracy (pass --allow-train-data to do it anyway)`);
  }

  const tmp = join(dirname(out), `.${basename(out)}.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  try {
    const metrics = await evaluateInto(tmp, o, runs, truths, split, N, L);
    commitDir(tmp, out, o.force ?? false);
    const files = readdirSync(out).map((f) => join(out, f));
    log(o, `report in ${join(out, 'report.html')}`);
    return { out, metrics, files };
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

async function evaluateInto(dir: string, o: EvaluateOptions, runs: LoadedRun[], truths: WorldGrids[], split: SplitCheck, N: number, L: number): Promise<EvaluationMetrics> {
  const splitLines = splitSummary(runs);
  const shape: [number, number, number] = [N, N, N];
  const kNyq = (Math.PI * N) / L;
  const kMax = Math.min(RESIDUAL_K_MAX, kNyq / 2);

  // --- smoothing of the truth as the training maps were
  const truthR = truths[0]!.smoothingR ?? null;
  // the run's smoothing: run.json, else the T_b sidecar (top level or provenance, as lodi generate writes it)
  const side0 = runs[0]!.tb[0]!.meta as unknown as Record<string, unknown>;
  const prov0 = (side0.provenance ?? {}) as Record<string, unknown>;
  const runR = [runs[0]!.json.smoothingR, side0.smoothingR, prov0.smoothingR].find((v): v is number => typeof v === 'number' && v >= 0) ?? null;
  const extraR = runR !== null && truthR !== null && runR > truthR * (1 + 1e-6) ? Math.sqrt(runR * runR - truthR * truthR) : 0;
  const truthTb = (w: WorldGrids): Float32Array => (extraR > 0 ? gaussianSmooth(w.tb!, shape, L, extraR, { nonNegative: true }) : w.tb!);
  const masName = truths[0]!.mas;
  const mas: MassAssignment | 'none' = masName && MAS_NAMES.includes(masName) ? (masName as MassAssignment) : 'none';

  // --- T̂_b spectra of every field and realisation
  const fields: FieldSpectra[] = [];
  const pdfEdges = { lo: Infinity, hi: -Infinity };
  let truth0Tb: Float32Array | undefined;
  let truth0Hat: Float32Array | undefined;
  // the truths' own scatter at fixed halos: HI repaints of each truth, scored like the generated maps (until a
  // truth cannot be repainted: then no field has the reference)
  let repaintSkipped: string | null = o.truthScatter === false ? 'not asked' : null;
  for (let f = 0; f < runs.length; f++) {
    const run = runs[f]!;
    const truth = truths[f]!;
    log(o, `field ${f + 1}/${runs.length}: ${run.dir} against ${truth.dir} (${run.tb.length} realisation(s))`);
    const tTb = truthTb(truth);
    const tHat = tbHat(tTb, `${truth.dir}/tb.npy`);
    if (f === 0) {
      truth0Tb = tTb;
      truth0Hat = tHat;
      for (const v of tTb) if (v > 0) {
        const l = Math.log10(v);
        if (l < pdfEdges.lo) pdfEdges.lo = l;
        if (l > pdfEdges.hi) pdfEdges.hi = l;
      }
    }
    const pGen: Float64Array[] = [];
    const rs: Float64Array[] = [];
    const rPairs: Float64Array[] = [];
    let pTrue: Float64Array | undefined;
    let k: Float64Array | undefined;
    let meanGen = 0;
    // two more maps, whatever the number of realisations: the previous one (for the pairs) and the running mean
    let prev: Float32Array | undefined;
    const sum = run.tb.length > 1 ? new Float32Array(tHat.length) : null;
    run.tb.forEach((g, r) => {
      const gHat = tbHat(g.data, `${run.dir}/tb_${r}.npy`);
      const x = crossPowerSpectrum(gHat, tHat, N, { boxSize: L, mas });
      pGen.push(x.p11);
      rs.push(x.r);
      pTrue = x.p22;
      k = x.k;
      meanGen += meanOf(g.data) / run.tb.length;
      if (prev) rPairs.push(crossPowerSpectrum(gHat, prev, N, { boxSize: L, mas }).r);
      if (sum) for (let i = 0; i < sum.length; i++) sum[i]! += gHat[i]! / run.tb.length;
      prev = gHat;
    });
    const rMeanMap = sum ? crossPowerSpectrum(sum, tHat, N, { boxSize: L, mas }).r : null;
    let repaints: FieldSpectra['repaints'] = null;
    if (repaintSkipped === null) {
      log(o, `field ${f + 1}: HI repaints of the truth (the scores of an exact sampler of p(T_b | halos))`);
      const rep = await repaintTb(truth, run.tb.length);
      if ('skipped' in rep) repaintSkipped = rep.skipped;
      else {
        repaints = repaintSpectra(rep.maps.map((m) => tbHat(truthTb({ ...truth, tb: m }), 'repaint')), tHat, N, { boxSize: L, mas });
      }
    }
    fields.push({ run, truth, k: k!, pTrue: pTrue!, pGen, r: rs, rPairs, rMeanMap, repaints, meanTrue: meanOf(tTb), meanGen });
  }
  const k = fields[0]!.k;
  const res: ResidualStats = residualBootstrap(fields.map((f) => f.pTrue), fields.map((f) => f.pGen), { samples: o.bootstrap ?? 1000, seed: o.seed ?? 0 });
  const head = absStats(k, res.mean, kMax);
  const allR = fields.flatMap((f) => f.r);
  const rMean = meanCurve(allR)!;
  const rStd = new Float64Array(k.length);
  for (const r of allR) for (let i = 0; i < k.length; i++) rStd[i]! += (r[i]! - rMean[i]!) ** 2 / Math.max(1, allR.length - 1);
  for (let i = 0; i < k.length; i++) rStd[i] = Math.sqrt(rStd[i]!);
  const rAt1 = interpLogK(k, rMean, 1);
  // what limits r(k): if the truth were one more draw of LODI's p(T_b | channels), r(generated, truth) would equal
  // r(generated_i, generated_j) on average. Below it: the maps miss the truth systematically (the channels or the
  // mapping) or scatter too little; above it: they scatter more than the truth does about what the channels fix.
  // The map averaged over R realisations tends to E[T_b | channels] as R grows; with few it is a lower bound.
  const rBetween = meanCurve(fields.flatMap((f) => f.rPairs));
  const rOfMean = meanCurve(fields.flatMap((f) => (f.rMeanMap ? [f.rMeanMap] : [])));
  // the HI-repaint reference, pooled as the generated maps are (realisations averaged first, then fields)
  let truthScatter: EvaluationMetrics['truth_scatter'];
  if (repaintSkipped !== null) truthScatter = { skipped: repaintSkipped };
  else {
    truthScatter = poolRepaints(fields.map((f) => f.repaints!), kMax);
  }
  const ts = 'skipped' in truthScatter ? null : truthScatter;
  const files: string[] = [];
  const png = (name: string): string => {
    const p = join(dir, name);
    files.push(p);
    return p;
  };

  // --- T_b plots
  log(o, 'plots: T_b maps, P(k), residual, r(k), PDF');
  const run0 = runs[0]!;
  const mapsPng = png('tb-maps.png');
  {
    const panels: { title: string; data: Float32Array }[] = [
      { title: `truth (seed ${truths[0]!.provenance.seed ?? '?'})`, data: truth0Tb! },
      { title: `LODI ${run0.json.method}, realisation 0`, data: run0.tb[0]!.data },
    ];
    if (run0.tiling && run0.json.method !== 'tiling') panels.push({ title: 'tiling, realisation 0', data: run0.tiling.data });
    if (run0.average && run0.json.method !== 'average') panels.push({ title: 'average, realisation 0', data: run0.average.data });
    if (run0.single) panels.push({ title: 'single pass', data: run0.single.data });
    const proj = projectSlab(truth0Tb!, shape, 2);
    let vmin = Infinity;
    let vmax = 0;
    for (const v of proj.data) {
      if (v > 0 && v < vmin) vmin = v;
      if (v > vmax) vmax = v;
    }
    const ip: ImagePanel[] = panels.map((p) => ({
      data: p.data,
      shape,
      axis: 2,
      index: 'project',
      log: vmax > 0,
      colormap: 'magma',
      vmin: vmax > 0 ? Math.max(vmin, vmax * 1e-3) : undefined,
      vmax: vmax > 0 ? vmax : undefined,
      title: p.title,
      boxSize: L,
      imageSize: 220,
      colorbarLabel: memberLabel('tb'),
    }));
    panelImages(ip, mapsPng, { columns: Math.min(3, ip.length), sharedScale: true, title: `T_b projected along z (mean over ${L} Mpc/h), field 0` });
  }
  const pkPngs: string[] = [];
  for (let f = 0; f < fields.length && f < 12; f++) {
    const fs = fields[f]!;
    const nr = fs.pGen.length;
    const m = new Float64Array(k.length);
    const s = new Float64Array(k.length);
    for (const p of fs.pGen) for (let i = 0; i < k.length; i++) m[i]! += p[i]! / nr;
    for (const p of fs.pGen) for (let i = 0; i < k.length; i++) s[i]! += (p[i]! - m[i]!) ** 2 / Math.max(1, nr - 1);
    const series: Series[] = [
      { name: 'truth', x: arr(k), y: arr(fs.pTrue) },
      { name: `LODI ${fs.run.json.method} (mean ± std of ${nr})`, x: arr(k), y: arr(m), yErr: arr(s.map(Math.sqrt)), dashed: true },
    ];
    const extra: [string, Float32Array | undefined][] = f === 0 ? [['tiling', fs.run.tiling?.data], ['average', fs.run.average?.data], ['single pass', fs.run.single?.data]] : [];
    for (const [name, d] of extra) {
      if (!d || name === fs.run.json.method) continue;
      series.push({ name, x: arr(k), y: arr(powerSpectrum(tbHat(d, `${fs.run.dir}: ${name}`), N, { boxSize: L, mas }).pk), dashed: true });
    }
    const p = png(`tb-pk-field${f}.png`);
    const resSeries = clipX([{ name: 'residual (± std over realisations)', x: arr(k), y: arr(res.perField[f]!.mean), yErr: arr(res.perField[f]!.std) }], kNyq);
    await multiPanel(
      {
        title: `T̂_b = T_b/<T_b>, field ${f} (seed ${fs.truth.provenance.seed ?? '?'})`,
        panels: [
          { series: clipX(series, kNyq), xLabel: 'k [h/Mpc]', yLabel: 'P(k) [(Mpc/h)^3]', logX: true, logY: true },
          {
            series: inDomain(resSeries, residualDomain(resSeries, kMax)),
            xLabel: 'k [h/Mpc]',
            yLabel: 'P_gen/P_true − 1',
            logX: true,
            yDomain: residualDomain(resSeries, kMax),
            refLine: [{ y: 0 }, { y: 0.1 }, { y: -0.1 }, { x: kMax }],
          },
        ],
      },
      p,
    );
    pkPngs.push(p);
  }
  const residualPng = png('tb-residual.png');
  {
    const series: Series[] = [{ name: `${fields.length === 1 ? 'the field' : `all ${fields.length} fields`}, bootstrap 1σ`, x: arr(k), y: arr(res.mean), yErr: arr(res.bootStd) }];
    if (ts) series.push({ name: 'HI repaints (exact sampler)', x: arr(k), y: ts.residual });
    if (fields.length > 1) res.perField.forEach((pf, f) => series.push({ name: `field ${f}`, x: arr(k), y: arr(pf.mean), dashed: true }));
    await linePlot(
      {
        title: `Residual of the T̂_b power spectrum (mean |·| = ${fmt(head.mean)} for k ≤ ${fmt(kMax)} h/Mpc)`,
        series: inDomain(clipX(series, kNyq), residualDomain(series, kMax)),
        yDomain: residualDomain(series, kMax),
        xLabel: 'k [h/Mpc]',
        yLabel: 'P_gen/P_true − 1',
        logX: true,
        refLine: [{ y: 0 }, { y: 0.1 }, { y: -0.1 }, { x: kMax }],
      },
      residualPng,
    );
  }
  const rPng = png('tb-r.png');
  {
    const series: Series[] = [{ name: `LODI vs truth (mean ± std of ${allR.length})`, x: arr(k), y: arr(rMean), yErr: arr(rStd) }];
    if (rBetween) series.push({ name: 'between realisations', x: arr(k), y: arr(rBetween), dashed: true });
    if (rOfMean) series.push({ name: 'realisation mean vs truth', x: arr(k), y: arr(rOfMean), dashed: true });
    if (ts) series.push({ name: 'HI repaints (exact sampler)', x: arr(k), y: ts.r });
    for (const [name, g] of [['tiling', run0.tiling], ['average', run0.average]] as const) {
      if (!g || name === run0.json.method) continue;
      series.push({ name: `${name} vs truth (field 0)`, x: arr(k), y: arr(crossPowerSpectrum(tbHat(g.data, name), truth0Hat!, N, { boxSize: L, mas }).r), dashed: true });
    }
    await linePlot({ title: `r(k) of generated and true T_b (r(1 h/Mpc) = ${fmt(rAt1)})`, series: clipX(series, kNyq), xLabel: 'k [h/Mpc]', yLabel: 'r(k)', logX: true, refLine: [{ y: 1 }, { y: 0.9 }, { x: 1 }] }, rPng);
  }
  // one-point PDF of log10 T_b, all fields pooled (counts summed over a common binning)
  const pdfPng = png('tb-pdf.png');
  const pdfStats: { name: string; median: number; p16: number; p84: number; zeros: number }[] = [];
  {
    const bins = 60;
    const range: [number, number] = Number.isFinite(pdfEdges.lo) ? [pdfEdges.lo - 0.5, pdfEdges.hi + 0.5] : [-3, 3];
    const acc = (maps: Float32Array[]): { counts: Float64Array; edges: Float64Array; median: number; p16: number; p84: number; zeros: number } => {
      const counts = new Float64Array(bins);
      let edges: Float64Array = new Float64Array(bins + 1);
      let zeros = 0;
      const first = fieldHistogram(maps[0]!, { log10: true, bins, range });
      for (const m of maps) {
        const h = m === maps[0] ? first : fieldHistogram(m, { log10: true, bins, range });
        edges = h.edges;
        zeros += h.skipped;
        for (let i = 0; i < bins; i++) counts[i]! += h.counts[i]!;
      }
      const total = counts.reduce((a, b) => a + b, 0);
      const w = (range[1] - range[0]) / bins;
      return { counts: counts.map((c) => (total ? c / (total * w) : 0)), edges, median: first.median, p16: first.p16, p84: first.p84, zeros };
    };
    const t = acc(fields.map((f) => truthTb(f.truth)));
    const g = acc(fields.flatMap((f) => f.run.tb.map((x) => x.data)));
    pdfStats.push({ name: 'truth (field 0)', median: t.median, p16: t.p16, p84: t.p84, zeros: t.zeros }, { name: 'LODI (field 0, realisation 0)', median: g.median, p16: g.p16, p84: g.p84, zeros: g.zeros });
    await histogramPlot(
      {
        title: 'One-point PDF of T_b (all fields and realisations)',
        series: [
          { name: 'truth', edges: t.edges, counts: t.counts },
          { name: 'LODI', edges: g.edges, counts: g.counts, dashed: true },
        ],
        xLabel: 'log10 T_b [mK]',
        yLabel: 'PDF',
        logY: true,
      },
      pdfPng,
    );
  }

  // --- halo channels
  let haloMetrics: EvaluationMetrics['halos'] = null;
  // channels whose prediction (or target) is empty in some field: their r(k) is undefined (NaN in metrics.json)
  const undefinedR: string[] = [];
  const haloPngs: string[] = [];
  let haloNote = '';
  const haloFields = fields.filter((f) => f.run.halos && f.truth.halos);
  if (haloFields.length === 0) {
    haloNote = 'No halo channels to compare (the runs have no halos.npy or the truths no halos.npy).';
  } else {
    log(o, `halo channels of ${haloFields.length} field(s)`);
    const n3 = N ** 3;
    const C = haloFields[0]!.run.halos!.shape[0]!;
    const names = haloFields[0]!.truth.channels ?? Array.from({ length: C }, (_, c) => `ch${c + 1}`);
    const edges = haloFields[0]!.truth.massBins;
    const chanName = (c: number): string => {
      if (!edges) return names[c] ?? `ch${c + 1}`;
      const e = (v: number): string => (Number.isFinite(v) ? v.toExponential(0) : '∞');
      return `ch${c + 1} [${e(edges.edges[c]!)}, ${e(edges.edges[c + 1]!)}) ${edges.unit}`;
    };
    haloMetrics = [];
    // occupancy: HALOgen's inference floor, from the prediction's sidecar (lodi run records it), else the default
    const floors = haloFields.map((f) => Number((f.run.halos!.meta.provenance as { floorLog?: unknown } | undefined)?.floorLog));
    const haloFloorLog = floors.every((v) => Number.isFinite(v)) ? Math.max(...floors) : DEFAULT_HALO_FLOOR_LOG;
    const mapPanels: ImagePanel[] = [];
    for (let c = 0; c < C; c++) {
      const pairs = haloFields.map((f) => ({ target: f.truth.halos!.subarray(c * n3, (c + 1) * n3), pred: f.run.halos!.data.subarray(c * n3, (c + 1) * n3) }));
      const m = haloChannelMetrics(pairs, haloFloorLog);
      // r(k) of the channel overdensities, averaged over fields
      const rk = new Float64Array(k.length);
      let ok = 0;
      for (const { target, pred } of pairs) {
        try {
          const x = crossPowerSpectrum(overdensity(target), overdensity(pred), N, { boxSize: L });
          for (let i = 0; i < k.length; i++) rk[i]! += x.r[i]!;
          ok++;
        } catch {
          // an empty channel (mean 0) has no overdensity: r(k) undefined
        }
      }
      if (ok < pairs.length) {
        rk.fill(NaN);
        undefinedR.push(`${chanName(c)} (${pairs.length - ok} of ${pairs.length} field(s) empty)`);
      }
      else for (let i = 0; i < k.length; i++) rk[i] = rk[i]! / ok;
      const low = arr(rk).filter((_, i) => k[i]! <= 1);
      const rMin = low.length ? Math.min(...low) : NaN;
      const rMeanLow = low.length ? low.reduce((a, b) => a + b, 0) / low.length : NaN;
      const rGe = low.length > 0 && low.every((v) => v >= 0.8);
      haloMetrics.push({ channel: c, name: chanName(c), r_min_k_le_1: rMin, r_mean_k_le_1: rMeanLow, r_at_k_1: interpLogK(k, rk, 1), r_ge_0_8: rGe, pass: m.medianInBand && rGe, ...m });
      // distributions (field 0): log10 ρ_h over each map's occupied voxels
      const t0 = pairs[0]!.target;
      const p0 = pairs[0]!.pred;
      const th = fieldHistogram(t0, { log10: true, bins: 40 });
      const lo = Number.isFinite(th.edges[0]!) ? th.edges[0]! - 1 : 8;
      const hi = Number.isFinite(th.edges[40]!) ? th.edges[40]! + 0.5 : 14;
      const tH = fieldHistogram(t0, { log10: true, bins: 40, range: [lo, hi] });
      const pH = fieldHistogram(p0, { log10: true, bins: 40, range: [lo, hi] });
      const hp = png(`halos-pdf-ch${c + 1}.png`);
      await histogramPlot(
        {
          title: `${chanName(c)}: target median ${fmt(m.target.median)} [${fmt(m.target.p16)}, ${fmt(m.target.p84)}], predicted ${fmt(m.predicted.median)}`,
          series: [
            { name: `target (${tH.used} voxels > 0)`, edges: tH.edges, counts: tH.pdf },
            { name: `HALOgen (${pH.used} voxels > 0)`, edges: pH.edges, counts: pH.pdf, dashed: true },
          ],
          xLabel: 'log10 ρ_h [(Msun/h)/(Mpc/h)^3]',
          yLabel: 'PDF',
        },
        hp,
      );
      haloPngs.push(hp);
      const proj = projectSlab(t0, shape, 2);
      let vmax = 0;
      for (const v of proj.data) if (v > vmax) vmax = v;
      const common = { shape, axis: 2 as const, index: 'project' as const, log: true, boxSize: L, imageSize: 200, subtitle: '', colorbarLabel: memberLabel('halos'), ...(vmax > 0 ? { vmax, vmin: vmax * 1e-4 } : {}) };
      mapPanels.push({ data: t0, ...common, title: `target ${chanName(c)}` }, { data: p0, ...common, title: `HALOgen ch${c + 1}` });
    }
    const hm = png('halos-maps.png');
    panelImages(mapPanels, hm, { columns: 2, title: 'Halo mass density projected along z (mean over the box), field 0' });
    haloPngs.unshift(hm);
    if (haloFields.length < fields.length) haloNote = `Halo channels compared on ${haloFields.length} of ${fields.length} fields (the others lack halos.npy).`;
  }

  // --- stitching diagnostics (field 0, realisation 0)
  log(o, 'stitching diagnostics');
  let stitching: EvaluationMetrics['stitching'];
  let stitchPng: string | undefined;
  const box = run0.json.box;
  const overlap = run0.json.overlap ?? 0;
  const periodic = run0.json.periodic ?? true;
  if (typeof box !== 'number' || !(box >= 1)) stitching = { skipped: 'run.json records no sub-volume size (box)' };
  else if (box >= N) stitching = { skipped: `the ${N}^3 map is not larger than one ${box}^3 sub-volume: nothing was stitched` };
  else {
    const plan = planStages({ size: N, box, overlap, periodic });
    const count = plan.boxesPerAxis[0];
    const faces = plan.axes.map((a) => boxFacePlanes(a.origins, box, N));
    const harmonics = boxGridHarmonics(N, L, count);
    const maps: [string, Float32Array][] = [['truth', truth0Hat!], [run0.json.method, tbHat(run0.tb[0]!.data, `${run0.dir}/tb_0.npy`)]];
    if (run0.tiling && run0.json.method !== 'tiling') maps.push(['tiling', tbHat(run0.tiling.data, `${run0.dir}/tb_tiling_0.npy`)]);
    if (run0.average && run0.json.method !== 'average') maps.push(['average', tbHat(run0.average.data, `${run0.dir}/tb_average_0.npy`)]);
    const single = run0.single ? tbHat(run0.single.data, `${run0.dir}/tb_single_0.npy`) : undefined;
    if (single) maps.push(['single', single]);
    const out: Record<string, StitchMapMetrics> = {};
    const ratioSeries: Series[] = [];
    const rSeries: Series[] = [];
    for (const [name, m] of maps) {
      const pk = powerSpectrum(m, N, { boxSize: L, mas });
      const he = harmonicExcess(pk, harmonics, { boxSize: L });
      const le = count >= 2 && count <= N / 2 ? latticeExcess(m, N, count) : { excess: NaN, noise: NaN, modes: 0 };
      const fj = faceGradientJump(m, N, faces);
      const ratio = arr(pk.pk).map((v, i) => v / fields[0]!.pTrue[i]! - 1);
      const st: StitchMapMetrics = {
        lattice_excess: le.excess,
        lattice_noise: le.noise,
        lattice_modes: le.modes,
        harmonic_excess_mean: he.mean,
        harmonic_excess_max: he.max,
        harmonic_excess: he.excess,
        face_jump_ratio: fj.ratio,
        mean_residual_vs_truth: absStats(pk.k, ratio, kMax).mean,
      };
      if (single && name !== 'single' && name !== 'truth') {
        const x = crossPowerSpectrum(m, single, N, { boxSize: L, mas });
        st.r_single_at_k_1 = interpLogK(x.k, x.r, 1);
        const low = arr(x.r).filter((_, i) => x.k[i]! <= kMax);
        st.r_single_mean = low.reduce((a, b) => a + b, 0) / low.length;
        rSeries.push({ name: `${name} vs single pass`, x: arr(x.k), y: arr(x.r), dashed: name !== run0.json.method });
      }
      if (name !== 'truth') ratioSeries.push({ name: `${name} / truth − 1`, x: arr(pk.k), y: ratio, dashed: name !== run0.json.method });
      out[name] = st;
    }
    stitching = { box, overlap, periodic, boxes_per_axis: count, spacing_voxels: N / count, harmonics_k: harmonics, face_planes: faces[0]!, maps: out };
    stitchPng = png('stitching.png');
    const refs = [{ y: 0 }, ...harmonics.map((x) => ({ x }))];
    const rs = clipX(ratioSeries, kNyq);
    const dom = residualDomain(rs, kNyq);
    const panels: LinePlotOptions[] = [{ series: inDomain(rs, dom), xLabel: 'k [h/Mpc]', yLabel: 'P_map/P_truth − 1', logX: true, refLine: refs, yDomain: dom, title: 'Stitched maps, field 0, realisation 0' }];
    if (rSeries.length) panels.push({ series: clipX(rSeries, kNyq), xLabel: 'k [h/Mpc]', yLabel: 'r(k) with single pass', logX: true, refLine: [{ y: 1 }, ...harmonics.map((x) => ({ x }))] });
    await multiPanel({ panels }, stitchPng);
  }

  // --- metrics.json
  const haloPass = haloMetrics ? haloMetrics.every((h) => h.pass) : null;
  const perField = fields.map((f, i) => {
    const a = absStats(k, res.perField[i]!.mean, kMax);
    const rm = new Float64Array(k.length);
    for (const r of f.r) for (let j = 0; j < k.length; j++) rm[j]! += r[j]! / f.r.length;
    return {
      run: f.run.dir,
      truth: f.truth.dir ?? '',
      seed: f.truth.provenance.seed ?? null,
      realizations: f.pGen.length,
      mean_abs_residual_k_le_10: a.mean,
      max_abs_residual_k_le_10: a.max,
      r_at_k_1: interpLogK(k, rm, 1),
      mean_tb_true_mK: f.meanTrue,
      mean_tb_gen_mK: f.meanGen,
    };
  });
  const metrics: EvaluationMetrics = {
    format: 'lodi-evaluation',
    version: 1,
    fields: fields.length,
    realizations: fields.reduce((a, f) => a + f.pGen.length, 0),
    realizationsPerField: fields.map((f) => f.pGen.length),
    k_range: { k_min: k[0]!, k_max: kMax, k_nyquist: kNyq, bins: head.bins },
    mean_abs_residual_k_le_10: head.mean,
    max_abs_residual_k_le_10: head.max,
    r_at_k_1: rAt1,
    targets: { mean_abs_residual_le_0_1: head.mean <= 0.1, r_at_k_1_ge_0_9: rAt1 >= 0.9, halo_channels_pass: haloPass },
    residual: { k: arr(k), mean: arr(res.mean), bootstrap_std: arr(res.bootStd), bootstrap_p16: arr(res.boot16), bootstrap_p84: arr(res.boot84), samples: res.samples, seed: res.seed },
    r: {
      k: arr(k),
      mean: arr(rMean),
      std: arr(rStd),
      between_realizations: rBetween ? arr(rBetween) : null,
      between_realizations_at_k_1: rBetween ? interpLogK(k, rBetween, 1) : null,
      realization_mean: rOfMean ? arr(rOfMean) : null,
      realization_mean_at_k_1: rOfMean ? interpLogK(k, rOfMean, 1) : null,
    },
    per_field: perField,
    halos: haloMetrics,
    stitching,
    smoothing: { truth_R: truthR, run_R: runR, extra_R_applied: extraR },
    truth_scatter: truthScatter,
    split: { rows: split.rows, leaks: split.leaks, allowed: split.leaks.length > 0 && (o.allowTrainData ?? false), subVolumes: splitLines },
    command: o.command,
  };
  writeFileAtomic(join(dir, 'metrics.json'), JSON.stringify(metrics, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n');

  // --- report
  const sections: ReportSection[] = [];
  const pass = (b: boolean | null): string => (b === null ? 'n/a' : b ? 'yes' : 'no');
  sections.push({
    title: 'Summary',
    text:
      `${fields.length} DM field(s) × ${metrics.realizationsPerField.join('/')} realisation(s) of T_b, ${N}^3 grid in a ${L} Mpc/h box at z = ${runs[0]!.json.redshift}. ` +
      `Spectra are of T̂_b = T_b/<T_b> (LODI paper Eq. 15–16), Pylians conventions, ${mas === 'none' ? 'no mass-assignment window deconvolved' : `the truth's ${mas} window deconvolved from both maps`}. ` +
      `The headline residual is P_gen/P_true − 1 with realisations averaged first, then fields, over k ≤ ${fmt(kMax)} h/Mpc = min(10 h/Mpc, k_Nyquist/2) (${head.bins} bins).` +
      (ts
        ? `\n\nReference: the truths are simulated worlds whose HI was drawn halo by halo (docs/hi-painting.md), so their halos fix T_b only up to those draws. ` +
          `HI repaints of each truth (same halos, other seeds; ${ts.repaints_per_field.join('/')} per field, as many as its realisations) scored the same way give what an exact sampler of the world's p(T_b | halos) gets with these fields and realisations: ` +
          `mean |P/P_true − 1| = ${fmt(ts.mean_abs_residual_k_le_10)}, r(k = 1 h/Mpc) = ${fmt(ts.r_at_k_1)}. Generated maps that score near these are as close to the truth as its halos allow; the targets are met only where the reference meets them.`
        : `\n\nNo HI-repaint reference: ${(truthScatter as { skipped: string }).skipped}.`) +
      (split.leaks.length ? `\n\nWARNING: evaluated on training data (--allow-train-data): ${split.leaks.join('; ')}. These numbers overstate the accuracy on unseen data.` : ''),
    tables: [
      {
        headers: ['metric', 'value', 'target', 'met'],
        rows: [
          ['mean |P_gen/P_true − 1|, k ≤ k_max', head.mean, '≤ 0.10', pass(metrics.targets.mean_abs_residual_le_0_1)],
          ['max |P_gen/P_true − 1|, k ≤ k_max', head.max, '', ''],
          ['r(k = 1 h/Mpc) of T_b', rAt1, '≥ 0.9', pass(metrics.targets.r_at_k_1_ge_0_9)],
          ...(ts
            ? [
                ['HI repaints of the truths (exact sampler): mean |P/P_true − 1|', ts.mean_abs_residual_k_le_10, 'reference', ''],
                ['HI repaints of the truths (exact sampler): r(k = 1 h/Mpc)', ts.r_at_k_1, 'reference', ''],
              ]
            : []),
          ['halo channels: median in 16–84 % band and r ≥ 0.8 for k ≤ 1', haloMetrics ? `${haloMetrics.filter((h) => h.pass).length}/${haloMetrics.length} channels` : 'n/a', 'all', pass(haloPass)],
        ],
      },
    ],
  });
  sections.push({
    title: 'Data split',
    text:
      'Worlds that trained and validated each model (from run.json) and the test worlds evaluated here. A test world whose directory or initial-condition seed trained or validated a model is refused unless --allow-train-data is given.' +
      (splitLines.length
        ? ' Both trainers split by sub-volume within their worlds (seeded), so the worlds listed as "train" also hold the validation sub-volumes.\n\n' + splitLines.join('.\n\n') + '.'
        : '') +
      (split.rows.some((r) => r.role !== 'test') ? '' : '\n\nrun.json records no training worlds for the models: the split cannot be checked.'),
    tables: [{ headers: ['model', 'role', 'world', 'seed'], rows: split.rows.map((r) => [r.model, r.role, r.dir, r.seed ?? '?']) }],
  });
  sections.push({
    title: 'Halo channels (HALOgen)',
    text:
      (haloNote ? haloNote + '\n\n' : '') +
      (haloMetrics
        ? `For each channel: log10 ρ_h over the voxels the target occupies (log10 ρ_h ≥ ${haloMetrics[0]?.floorLog ?? DEFAULT_HALO_FLOOR_LOG}, HALOgen's inference floor, below which its predictions are 0; the smoothing tails of the target below it do not count): the target's median` + ' and 16–84 % band, and the prediction\'s median over the same voxels (−∞ when the prediction is empty in more than half of them). r(k) is the cross-correlation of the channel overdensities, averaged over fields. Target: median inside the band and r ≥ 0.8 for k ≤ 1 h/Mpc.' +
          (undefinedR.length ? ` r(k) is undefined (an empty map has no overdensity; null in metrics.json, n/a here) for ${undefinedR.join(', ')}.` : '')
        : ''),
    tables: haloMetrics
      ? [
          {
            headers: ['channel', 'occupied voxels', 'target median', 'target 16–84 %', 'predicted median', 'predicted empty', 'in band', 'min r, k ≤ 1', 'r(1)', 'pass'],
            rows: haloMetrics.map((h) => [h.name, h.occupied, fmt(h.target.median), `${fmt(h.target.p16)} – ${fmt(h.target.p84)}`, fmt(h.predicted.median), fmt(h.predicted.emptyFraction, 2), pass(h.medianInBand), fmt(h.r_min_k_le_1), fmt(h.r_at_k_1), pass(h.pass)]),
          },
        ]
      : [],
    images: haloPngs.map((p, i) => ({ path: p, caption: i === 0 ? 'Target and predicted halo channels (field 0), one row per channel, shared colour scale per row.' : 'Distribution of log10 ρ_h over occupied voxels (field 0).' })),
  });
  const smoothText =
    extraR > 0
      ? `The truth T_b was smoothed by a further R = ${fmt(extraR)} Mpc/h to the run's R = ${fmt(runR!)} Mpc/h (truth: ${fmt(truthR!)} Mpc/h).`
      : runR === null
        ? `The run does not record the smoothing of LODI's training maps; the truth is used as it is (R = ${truthR ?? 'unknown'} Mpc/h).`
        : runR < (truthR ?? 0) * (1 - 1e-6)
          ? `WARNING: the truth (R = ${truthR} Mpc/h) is smoother than the run's training maps (R = ${runR} Mpc/h); it cannot be unsmoothed, so small scales differ by construction.`
          : `Truth and run maps share the smoothing R = ${fmt(runR)} Mpc/h.`;
  sections.push({
    title: '21 cm brightness temperature',
    text:
      `${smoothText} Mean T_b: truth ${perField.map((p) => fmt(p.mean_tb_true_mK)).join(', ')} mK; generated ${perField.map((p) => fmt(p.mean_tb_gen_mK)).join(', ')} mK (per field).\n\n` +
      `Residual error bars: hierarchical bootstrap over fields and, within each, realisations (${res.samples} samples, seed ${res.seed})` +
      (metrics.realizations === 1 ? '; with a single realisation of a single field they are zero.' : '.') +
      (rBetween
        ? `\n\nWhat limits r(k): two realisations of the same field correlate with r(1 h/Mpc) = ${fmt(interpLogK(k, rBetween, 1))}, and the map averaged over the ${metrics.realizationsPerField.join('/')} realisations of each field with the truth ${fmt(interpLogK(k, rOfMean!, 1))} (generated vs truth ${fmt(rAt1)}). ` +
          'Were the truth one more draw of the model\'s p(T_b | halo channels), generated vs truth would match realisation vs realisation on average. ' +
          'Generated vs truth below it: the maps miss the truth systematically (the channels or the learned mapping) or scatter too little about it; above it: they scatter more than the truth does about what the channels fix. ' +
          'The averaged map tends to E[T_b | channels] as realisations are added; with few it is a lower bound of how well that mean correlates with the truth.'
        : '\n\nWith one realisation per field, r(k) between realisations (what limits r) cannot be measured.'),
    tables: [
      {
        headers: ['field', 'truth', 'seed', 'realisations', 'mean |res|', 'max |res|', 'r(1)'],
        rows: perField.map((p, i) => [i, p.truth, p.seed ?? '?', p.realizations, p.mean_abs_residual_k_le_10, p.max_abs_residual_k_le_10, p.r_at_k_1]),
      },
      { headers: ['map', 'median log10 T_b', '16 %', '84 %', 'zero voxels'], rows: pdfStats.map((s) => [s.name, s.median, s.p16, s.p84, s.zeros]) },
    ],
    images: [
      { path: mapsPng, caption: 'T_b projected along z: truth, generated and (when present) the stitching baselines, one colour scale.' },
      ...pkPngs.map((p, f) => ({ path: p, caption: `Field ${f}: P(k) of T̂_b, truth and generated (mean ± std over realisations), and the residual per field.` })),
      { path: residualPng, caption: 'P_gen/P_true − 1 of all fields and realisations with bootstrap 1σ error bars; dotted: ±10 % and k_max.' },
      { path: rPng, caption: 'Cross-correlation coefficient r(k) of generated and true T̂_b; dashed: between realisations of a field, and of the realisation-averaged map with the truth (with two or more realisations).' },
      { path: pdfPng, caption: 'One-point PDF of log10 T_b (zero voxels are not shown; their numbers are in the table).' },
    ],
  });
  const single = run0.single;
  if ('skipped' in stitching) {
    sections.push({ title: 'Stitching diagnostics', text: `Skipped: ${stitching.skipped}.` });
  } else {
    const names = Object.keys(stitching.maps);
    const sm = stitching.maps;
    sections.push({
      title: 'Stitching diagnostics',
      text:
        `Field 0, realisation 0; ${stitching.boxes_per_axis}^3 sub-volumes of ${box}^3 voxels with overlap ${overlap} (${periodic ? 'periodic' : 'non-periodic'}), spacing ${fmt(stitching.spacing_voxels)} voxels: harmonics at k = ${stitching.harmonics_k.map((x) => fmt(x)).join(', ')} h/Mpc. ` +
        'The truth map (no seams) is the control: grid anisotropy and sample variance give it non-zero values too, so compare each map with it.\n\n' +
        'Lattice excess: mean power of the modes whose wavenumbers are all multiples of the number of boxes per axis (where a seam pattern repeated at every box puts its power), relative to the other modes at the same |k|, minus 1 (noise ≈ 1/√modes). ' +
        'Harmonic excess: the spherical P(k) bin at each harmonic against a fit through its neighbouring bins, minus 1. ' +
        'Face jump: rms of the voxel-to-voxel difference across the planes where boxes start or end over the rms elsewhere (1: no seam). ' +
        (single ? 'r(k) with the single-pass generation of the same box and conditioning shows how far stitching departs from generating the box at once.' : 'No single-pass map (tb_single_0.npy) in the run: r(k) with a single-pass generation is not available.'),
      tables: [
        {
          headers: ['map', 'lattice excess', '± noise', 'harmonic excess (mean)', 'harmonic excess (max)', 'face jump ratio', 'mean |P/P_truth − 1|', ...(single ? ['r with single, k = 1', 'mean r with single'] : [])],
          rows: names.map((nm) => [nm, sm[nm]!.lattice_excess ?? NaN, sm[nm]!.lattice_noise ?? NaN, sm[nm]!.harmonic_excess_mean, sm[nm]!.harmonic_excess_max, sm[nm]!.face_jump_ratio, sm[nm]!.mean_residual_vs_truth, ...(single ? [sm[nm]!.r_single_at_k_1 ?? '', sm[nm]!.r_single_mean ?? ''] : [])]),
          digits: 3,
        },
      ],
      images: stitchPng ? [{ path: stitchPng, caption: `Spectrum of each stitched map relative to the truth (and r(k) with the single-pass map when there is one); dashed verticals: the box-grid harmonics (spacing ${fmt(N / stitching.boxes_per_axis)} voxels).` }] : [],
    });
  }
  sections.push({
    title: 'Runs',
    tables: [
      {
        headers: ['run', 'method', 'realisations', 'seeds', 'DM', 'command'],
        rows: runs.map((r) => [r.dir, r.json.method, r.json.realizations, (r.json.seeds ?? []).join(' '), `${r.json.dm?.path ?? '?'} (seed ${r.json.dm?.seed ?? '?'})`, r.json.command ?? '']),
      },
      ...(runs[0]!.json.timings ? [{ headers: ['phase (run 0)', 'seconds'], rows: Object.entries(runs[0]!.json.timings).map(([a, b]) => [a, b] as [string, number]) }] : []),
    ],
  });
  writeReport(
    { title: 'lodi evaluate', meta: { runs: o.runs.join(' '), truths: o.truths.join(' '), ...(o.command ? { command: o.command } : {}), date: new Date().toISOString() }, sections },
    { markdown: join(dir, 'report.md'), html: join(dir, 'report.html'), force: true },
  );
  return metrics;
}
