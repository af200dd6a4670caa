/**
 * `lodi stochasticity`: the stochasticity study of Davies et al. (2025, Sec. 6, Table 2, Fig. 9–11) on one sources
 * directory (`lodi sample-halos`). Every chosen source model (src/pipeline/sources-models.ts) runs through
 * `lodi reionize` into <out>/<model>/; one report compares them: the global histories, Δ²_21 at the EoR midpoint
 * (Fig. 9–10 right), Δ²_21 where ⟨δT_b⟩ ≈ 0 with --spin (Fig. 10 left), and the UV LF at z = 8 for scatter boosts
 * ×0, ×1, ×2, ×3 with mean-normalised and with median (fixed log-log mean) relations (Fig. 11), drawn from the
 * galaxy model on the catalogue nearest z = 8 (no reionisation needed).
 *
 * Files written to the output directory:
 *   <model>/...                       the full `lodi reionize` output of each model
 *   histories.csv, histories.png      z, ⟨x_HI⟩ and ⟨δT_b⟩ [mK] of every model
 *   ps21_midpoint_models.png          Δ²_21(k) of every model at its ⟨x_HI⟩ ≈ 0.5 box
 *   ps21_zero_models.png              with --spin: Δ²_21(k) at ⟨δT_b⟩ ≈ 0
 *   ps21_trough_models.png            with --spin: Δ²_21(k) at the absorption trough (lowest ⟨δT_b⟩)
 *   uvlf_scatter.csv, uvlf_scatter.png  φ(M_UV) per normalisation and boost; SFR densities in the csv header lines
 *   stochasticity.json                models, options, summary numbers, timings
 *   report.md, report.html, stochasticity.log
 */
import { existsSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Cosmology } from '../cosmo/params.js';
import type { AstroParams } from '../astro/params.js';
import { ASTRO_DEFAULTS, makeAstroParams } from '../astro/params.js';
import { galaxyProperties, haloMassToMsun } from '../astro/galaxy/properties.js';
import { boostScatter, SCATTER_BOOST_MODES, withRelationNormalisation, type ScatterBoostMode } from '../astro/galaxy/scatter-variants.js';
import { uvLuminosityFunction, type UvLuminosityFunction } from '../astro/galaxy/uvlf.js';
import { linePlot, multiPanel } from '../report/plots.js';
import { writeReport, type ReportSection } from '../report/report.js';
import { assertWritable, writeFileAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { Rng } from '../util/rng.js';
import { withOutputGuard } from './outputs.js';
import { readSourcesDir } from './sources.js';
import { reionizeSources, type HistoryRow } from './sources-reionize.js';
import { isSampledModel, parseSourceModel, SOURCE_MODEL_LABELS, SOURCE_MODELS, type SourceModel } from './sources-models.js';

const CODE_VERSION = '0.1.0';

export interface StochasticityOptions {
  /** Sources directory written by `lodi sample-halos`. */
  halos: string;
  out: string;
  /** Models to run (default all of {@link SOURCE_MODELS}). */
  models?: readonly string[];
  /** Inhomogeneous spin temperature in every run (`lodi reionize --spin`). */
  spin?: boolean;
  astroFile?: string;
  reionFile?: string;
  spinFile?: string;
  /** Sampled models: add the mean contribution of the halos below the sampler's minimum mass (default true; `lodi reionize`). */
  belowSampler?: boolean;
  /** Seed of the galaxy deviates (default: the sampler's). */
  seed?: number;
  /** Scatter boosts of the UV LFs (default 0, 1, 2, 3) and how they act (default the paper's 'add-log'). */
  boosts?: readonly number[];
  boostMode?: ScatterBoostMode;
  force?: boolean;
  quiet?: boolean;
  command?: string;
  /** Called after each stage (a model name, 'uvlf', 'report'); throwing aborts the run. */
  onStage?: (stage: string) => void;
}

/** Δ²_21 of one model at one epoch: k [h/Mpc], Δ² [mK²], the box's redshift. */
export interface EpochSpectrum {
  k: number[];
  delta2: number[];
  z: number;
}

/** One model's run. */
export interface ModelRun {
  model: SourceModel;
  history: HistoryRow[];
  midpoint: { z: number; xHI: number };
  zEnd: number | null;
  /** Δ²_21 at the midpoint and (with spin) at ⟨δT_b⟩ ≈ 0 and at the absorption trough: k [h/Mpc], Δ² [mK²]. */
  psMid: { k: number[]; delta2: number[] };
  psZero: EpochSpectrum | null;
  psTrough: EpochSpectrum | null;
  wallSeconds: number;
}

/** UV LF of one (normalisation, boost) variant. */
export interface ScatterLf {
  norm: 'mean' | 'median';
  boost: number;
  lf: UvLuminosityFunction;
  /** Σ SFR of the catalogue over the box volume [Msun/yr/Mpc^3] (ACGs + MCGs). */
  sfrDensity: number;
}

export interface StochasticityResult {
  runs: ModelRun[];
  uvlf: { z: number; variants: ScatterLf[] } | null;
  summary: Record<string, unknown>;
}

/**
 * UV LFs of one catalogue for every (normalisation, boost): the same halos and the same standard normal deviates
 * (drawn once from `seed`) in every variant, so that the variants differ only by their widths and normalisation.
 *
 * @param haloMass halo masses [Msun/h]; @param boxSize [Mpc/h]; @param edges M_UV bin edges [mag]
 * @throws RangeError from the galaxy model or the boost (a width above 2 dex)
 */
export function scatterLuminosityFunctions(o: {
  haloMass: ArrayLike<number>;
  z: number;
  cosmo: Cosmology;
  astro: AstroParams;
  boxSize: number;
  boosts: readonly number[];
  mode: ScatterBoostMode;
  seed: number;
  edges: ArrayLike<number>;
}): ScatterLf[] {
  const n = o.haloMass.length;
  const rng = new Rng(o.seed);
  const dev = { star: new Float64Array(n), sfr: new Float64Array(n), xray: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    dev.star[i] = rng.normal();
    dev.sfr[i] = rng.normal();
    dev.xray[i] = rng.normal();
  }
  const massMsun = haloMassToMsun(o.haloMass, o.cosmo.h);
  const volume = (o.boxSize / o.cosmo.h) ** 3;
  const out: ScatterLf[] = [];
  for (const norm of ['mean', 'median'] as const) {
    for (const boost of o.boosts) {
      const params = boostScatter(withRelationNormalisation(o.astro, norm), boost, o.mode);
      const g = galaxyProperties({ haloMassMsun: massMsun, z: o.z, cosmo: o.cosmo, params, deviates: dev });
      let sfr = 0;
      for (let i = 0; i < n; i++) sfr += g.sfr[i]! + g.sfrMini[i]!;
      out.push({ norm, boost, lf: uvLuminosityFunction(g.muv, { boxSize: o.boxSize, h: o.cosmo.h, edges: o.edges }), sfrDensity: sfr / volume });
    }
  }
  return out;
}

function readPs(path: string): { k: number[]; delta2: number[]; header: string } {
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const k: number[] = [];
  const delta2: number[] = [];
  for (const l of lines.slice(2)) {
    const [a, b] = l.split(',');
    k.push(Number(a));
    delta2.push(Number(b));
  }
  return { k, delta2, header: lines[0]! };
}

/**
 * The models a study runs: `names` checked, else every model of {@link SOURCE_MODELS}.
 *
 * @throws Error for an unknown, repeated or empty list
 */
export function stochasticityModels(names: readonly string[] | undefined): SourceModel[] {
  const models = (names ?? SOURCE_MODELS).map((m) => parseSourceModel(m, '--models'));
  if (models.length === 0) throw new Error('--models: empty list, expected at least one of ' + SOURCE_MODELS.join(', '));
  if (new Set(models).size !== models.length) throw new Error(`--models ${models.join(',')}: a model is listed twice`);
  return models;
}

/** Runs the study; see the module comment. */
export async function stochasticity(o: StochasticityOptions): Promise<StochasticityResult> {
  const models = stochasticityModels(o.models);
  const boosts = o.boosts ?? [0, 1, 2, 3];
  for (const b of boosts) if (!(Number.isFinite(b) && b >= 0)) throw new Error(`--boosts: ${b}: expected finite factors >= 0`);
  const mode = o.boostMode ?? 'add-log';
  if (!SCATTER_BOOST_MODES.includes(mode)) throw new Error(`--boost-mode ${String(mode)}: expected one of ${SCATTER_BOOST_MODES.join(', ')}`);
  const src = await readSourcesDir(o.halos);
  if (resolve(o.out) === resolve(o.halos)) throw new Error(`--out ${o.out}: expected a folder other than --halos (the sources directory)`);
  let astroIn: Record<string, unknown> = {};
  if (o.astroFile) {
    try {
      astroIn = JSON.parse(readFileSync(o.astroFile, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new Error(`--astro ${o.astroFile}: cannot read galaxy parameters (${(err as Error).message.split('\n')[0]}), expected a JSON object`);
    }
  }
  const astro = o.astroFile ? makeAstroParams(astroIn, o.astroFile) : ASTRO_DEFAULTS;
  // every boosted parameter set must be valid before anything runs
  for (const b of boosts) for (const norm of ['mean', 'median'] as const) boostScatter(withRelationNormalisation(astro, norm), b, mode);
  const force = o.force === true;
  const out = o.out;
  const files = ['histories.csv', 'histories.png', 'ps21_midpoint_models.png', 'ps21_zero_models.png', 'ps21_trough_models.png', 'uvlf_scatter.csv', 'uvlf_scatter.png', 'stochasticity.json', 'report.md', 'report.html'];
  for (const f of files) assertWritable(join(out, f), force);
  return withOutputGuard([out], async () => {
    mkdirSync(out, { recursive: true });
    const prog = new Progress('stochasticity', models.length + 2, { logFile: join(out, 'stochasticity.log'), quiet: o.quiet });
    const { boxSize, grid } = src.summary;
    const zs = src.history.redshifts;
    prog.log(`lodi stochasticity: ${o.halos} (${boxSize} Mpc/h, ${grid}^3, z ${zs[0]!.toFixed(2)}–${zs[zs.length - 1]!.toFixed(2)}), models ${models.join(', ')}${o.spin ? ', spin' : ''}`);
    const sections: ReportSection[] = [];

    // UV LFs first (they need the catalogue nearest z = 8, which the runs below do not keep)
    const k8 = zs.reduce((a, z, i) => (Math.abs(z - 8) < Math.abs(zs[a]! - 8) ? i : a), 0);
    const cat = src.history.catalogues[k8]!;
    const seed = o.seed ?? src.summary.seed;
    const t0 = Date.now();
    const probe = galaxyProperties({ haloMassMsun: haloMassToMsun(cat.mass, src.cosmology.h), z: cat.z, cosmo: src.cosmology, params: boostScatter(withRelationNormalisation(astro, 'median'), Math.max(...boosts), mode), seed });
    let bright = Infinity;
    for (const m of probe.muv) if (Number.isFinite(m)) bright = Math.min(bright, m);
    const e0 = Math.floor(Math.min(bright, -16) * 2) / 2 - 0.5;
    const edges = Array.from({ length: Math.round((-10 - e0) / 0.5) + 1 }, (_, i) => e0 + 0.5 * i);
    const variants = cat.count > 0 ? scatterLuminosityFunctions({ haloMass: cat.mass, z: cat.z, cosmo: src.cosmology, astro, boxSize, boosts, mode, seed, edges }) : [];
    src.history.catalogues = [];
    const uvlf = variants.length ? { z: cat.z, variants } : null;
    const lines = ['norm,boost,muv_centre,phi_Mpc3_mag,phi_err,count'];
    for (const v of variants) for (let i = 0; i < v.lf.centres.length; i++) lines.push(`${v.norm},${v.boost},${v.lf.centres[i]},${v.lf.phi[i]!.toExponential(6)},${v.lf.phiErr[i]!.toExponential(6)},${v.lf.counts[i]}`);
    const sfrLines = variants.map((v) => `# sfr_density ${v.norm} x${v.boost} = ${v.sfrDensity.toExponential(6)} Msun/yr/Mpc^3`);
    writeFileAtomic(join(out, 'uvlf_scatter.csv'), `# z = ${cat.z}, ${cat.count} halos, boost mode ${mode}\n${sfrLines.join('\n')}\n${lines.join('\n')}\n`, { force });
    if (uvlf) {
      const panel = (norm: 'mean' | 'median', last: boolean) => ({
        series: variants
          .filter((v) => v.norm === norm)
          .map((v) => ({ name: `×${v.boost}`, x: Array.from(v.lf.centres).filter((_, i) => v.lf.counts[i]! > 0), y: Array.from(v.lf.phi).filter((_, i) => v.lf.counts[i]! > 0), points: true })),
        xLabel: last ? 'M_UV [mag]' : '',
        yLabel: norm === 'mean' ? 'φ [Mpc^-3 mag^-1], mean-normalised' : 'φ [Mpc^-3 mag^-1], fixed log-log mean',
        logY: true,
      });
      await multiPanel({ title: `UV LF at z = ${cat.z.toFixed(2)} for scatter boosts (${mode})`, panels: [panel('mean', false), panel('median', true)], heights: [240, 240] }, join(out, 'uvlf_scatter.png'));
      const base = variants.find((v) => v.norm === 'mean' && v.boost === 1) ?? variants[0]!;
      sections.push({
        title: 'UV luminosity functions and scatter (Fig. 11)',
        text:
          `φ(M_UV) of the ${cat.count} halos of the catalogue at z = ${cat.z.toFixed(3)} with the scatter widths boosted ` +
          `(${mode === 'add-log' ? 'σ → σ + log10 Y for σ_*, σ_SFR,lim, σ_X, as the paper defines a ×Y boost' : 'every σ times Y'}); ` +
          `the same halos and deviates in every variant. Top: relations give the linear mean (the SFR density stays put up to ` +
          `sampling noise of the few bright galaxies); bottom: relations give the median, so the mean grows as 10^(σ² ln10/2). uvlf_scatter.csv.`,
        images: [{ path: join(out, 'uvlf_scatter.png'), caption: `UV LF at z = ${cat.z.toFixed(2)}: mean-normalised (top), fixed log-log mean (bottom)` }],
        tables: [{ headers: ['relations', 'boost', 'SFR density [Msun/yr/Mpc^3]', 'ratio to mean ×1'], rows: variants.map((v) => [v.norm === 'mean' ? 'linear mean' : 'median', `×${v.boost}`, v.sfrDensity, v.sfrDensity / base.sfrDensity]) }],
      });
    }
    const uvlfSeconds = (Date.now() - t0) / 1000;
    prog.update(1, `UV LFs at z=${cat.z.toFixed(2)}`);
    o.onStage?.('uvlf');

    const runs: ModelRun[] = [];
    for (const [i, model] of models.entries()) {
      const t = Date.now();
      const dir = join(out, model);
      const res = await reionizeSources({ halos: o.halos, out: dir, sourceModel: model, spin: o.spin, astroFile: o.astroFile, reionFile: o.reionFile, spinFile: o.spinFile, belowSampler: o.belowSampler, seed: o.seed, force, quiet: true, command: o.command });
      const mid = readPs(join(dir, 'ps21_midpoint.csv'));
      // the run writes an epoch's file only when the epoch lies in its range (and removes an older one otherwise)
      const epoch = (name: string): EpochSpectrum | null => {
        if (!o.spin || !existsSync(join(dir, name))) return null;
        const p = readPs(join(dir, name));
        return { k: p.k, delta2: p.delta2, z: Number(/z = ([^,]+)/.exec(p.header)?.[1]) };
      };
      const psZero = epoch('ps21_zero.csv');
      const psTrough = epoch('ps21_trough.csv');
      runs.push({ model, history: res.history, midpoint: res.midpoint, zEnd: res.zEnd, psMid: mid, psZero, psTrough, wallSeconds: (Date.now() - t) / 1000 });
      prog.update(i + 2, `${model}: midpoint z=${res.midpoint.z.toFixed(2)}`);
      o.onStage?.(model);
    }

    // global histories
    const hl = ['model,z,xHI_mean,dTb_mean_mK'];
    for (const r of runs) for (const h of r.history) hl.push(`${r.model},${h.z.toFixed(5)},${h.xHI.toExponential(6)},${h.dTb.toExponential(6)}`);
    writeFileAtomic(join(out, 'histories.csv'), hl.join('\n') + '\n', { force });
    await multiPanel(
      {
        title: `Global histories of the source models (${boxSize} Mpc/h, ${grid}^3)`,
        panels: [
          { series: runs.map((r) => ({ name: r.model, x: r.history.map((h) => h.z), y: r.history.map((h) => h.xHI), points: true })), xLabel: 'z', yLabel: '⟨x_HI⟩', yDomain: [0, 1.02] },
          { series: runs.map((r) => ({ name: r.model, x: r.history.map((h) => h.z), y: r.history.map((h) => h.dTb), points: true })), xLabel: 'z', yLabel: '⟨δT_b⟩ [mK]' },
        ],
        heights: [240, 200],
      },
      join(out, 'histories.png'),
    );
    sections.unshift({
      title: 'Global histories',
      text: `⟨x_HI⟩ and ⟨δT_b⟩ of every model (histories.csv; each model's own report is in <out>/<model>/report.html).`,
      images: [{ path: join(out, 'histories.png'), caption: '⟨x_HI⟩(z) and ⟨δT_b⟩(z) per source model' }],
      tables: [
        {
          headers: ['model', 'what it is', 'midpoint z', '⟨x_HI⟩ there', 'end (⟨x_HI⟩ < 0.01)', 'wall [s]'],
          rows: runs.map((r) => [r.model, SOURCE_MODEL_LABELS[r.model], r.midpoint.z.toFixed(3), r.midpoint.xHI, r.zEnd === null ? 'not reached' : r.zEnd.toFixed(2), +r.wallSeconds.toFixed(1)]),
        },
      ],
    });
    const kNyq = (Math.PI * grid) / boxSize;
    const cut = (p: { k: number[]; delta2: number[] }) => ({ x: p.k.filter((k) => k <= kNyq), y: p.delta2.filter((_, i) => p.k[i]! <= kNyq) });
    await linePlot(
      { series: runs.map((r) => ({ name: `${r.model} (z=${r.midpoint.z.toFixed(2)}, x_HI=${r.midpoint.xHI.toFixed(2)})`, ...cut(r.psMid), points: true })), xLabel: 'k [h/Mpc]', yLabel: 'Δ²_21(k) [mK^2]', logX: true, logY: true, title: 'Δ²_21 at the EoR midpoint (⟨x_HI⟩ ≈ 0.5)' },
      join(out, 'ps21_midpoint_models.png'),
    );
    // small-scale power of each sampled model over a grid model at the highest k below Nyquist (Fig. 9: shot noise
    // of discrete sources at k ≳ 1 Mpc^-1)
    const overModel = (ref: SourceModel) => {
      const r0 = runs.find((r) => r.model === ref);
      if (!r0) return [];
      const g = cut(r0.psMid);
      return runs
        .filter((r) => isSampledModel(r.model))
        .map((r) => {
          const c = cut(r.psMid);
          const j = c.x.length - 1;
          return { model: r.model, kHMpc: c.x[j]!, ratio: c.y[j]! / g.y[j]! };
        });
    };
    const smallScale = overModel('chmf-on-grid');
    const smallScaleV3 = overModel('v3-default');
    sections.push({
      title: '21 cm power at the EoR midpoint (Fig. 9–10, right)',
      text:
        `Δ²_21(k) of each model's coeval box with ⟨x_HI⟩ nearest 0.5 (<model>/ps21_midpoint.csv). The boxes sit at the redshifts ` +
        `their histories give, so the ⟨x_HI⟩ of the compared boxes differ by up to half a redshift step.` +
        (smallScale.length ? ` Highest k below Nyquist (${smallScale[0]!.kHMpc.toFixed(2)} h/Mpc): Δ² of each sampled model over chmf-on-grid: ${smallScale.map((s) => `${s.model} ${s.ratio.toFixed(2)}`).join(', ')}.` : '') +
        (smallScaleV3.length ? ` Over v3-default at ${smallScaleV3[0]!.kHMpc.toFixed(2)} h/Mpc: ${smallScaleV3.map((s) => `${s.model} ${s.ratio.toFixed(2)}`).join(', ')}.` : ''),
      images: [{ path: join(out, 'ps21_midpoint_models.png'), caption: 'Δ²_21(k) at ⟨x_HI⟩ ≈ 0.5 per source model' }],
    });
    if (!o.spin) {
      // a --force rerun without --spin leaves no spectrum of an earlier --spin study behind
      for (const f of ['ps21_zero_models.png', 'ps21_trough_models.png']) rmSync(join(out, f), { force: true });
    } else {
      // Fig. 9's cosmic-dawn epochs: the heating epoch (⟨δT_b⟩ ≈ 0) and the Lyman-α coupling trough
      const epochs = [
        { key: 'psZero', file: 'ps21_zero', title: '21 cm power where ⟨δT_b⟩ ≈ 0 (Fig. 9 middle, Fig. 10 left)', what: 'where ⟨δT_b⟩ ≈ 0', at: "the box nearest each model's absorption-to-emission crossing", missing: '⟨δT_b⟩ crosses zero' },
        { key: 'psTrough', file: 'ps21_trough', title: '21 cm power at the absorption trough (Fig. 9 top)', what: 'at the absorption trough', at: "each model's box of lowest ⟨δT_b⟩ (the Lyman-α coupling epoch; a minimum at either end of the range is not a trough)", missing: 'the absorption trough lies inside the range' },
      ] as const;
      for (const e of epochs) {
        const withEpoch = runs.filter((r) => r[e.key]);
        if (withEpoch.length) {
          await linePlot(
            { series: withEpoch.map((r) => ({ name: `${r.model} (z=${r[e.key]!.z.toFixed(2)})`, ...cut(r[e.key]!), points: true })), xLabel: 'k [h/Mpc]', yLabel: 'Δ²_21(k) [mK^2]', logX: true, logY: true, title: `Δ²_21 ${e.what}` },
            join(out, `${e.file}_models.png`),
          );
        } else rmSync(join(out, `${e.file}_models.png`), { force: true });
        sections.push({
          title: e.title,
          text: withEpoch.length
            ? `Δ²_21(k) at ${e.at} (<model>/${e.file}.csv). Models without it in the range: ${runs.filter((r) => !r[e.key]).map((r) => r.model).join(', ') || 'none'}.`
            : `In no model ${e.missing} over these redshifts (run lodi sample-halos with a higher --zmax): no spectrum.`,
          images: withEpoch.length ? [{ path: join(out, `${e.file}_models.png`), caption: `Δ²_21(k) ${e.what} per source model` }] : undefined,
        });
      }
    }
    const summary: Record<string, unknown> = {
      format: 'lodi-stochasticity',
      version: 1,
      generator: 'lodi stochasticity',
      code: `lodi ${CODE_VERSION}`,
      command: o.command,
      halos: resolve(o.halos),
      seed,
      spin: o.spin === true,
      models,
      boostMode: mode,
      boosts,
      midpoints: Object.fromEntries(runs.map((r) => [r.model, r.midpoint])),
      zEnd: Object.fromEntries(runs.map((r) => [r.model, r.zEnd])),
      smallScalePowerOverChmfOnGrid: smallScale,
      smallScalePowerOverV3Default: smallScaleV3,
      uvlf: uvlf ? { z: uvlf.z, sfrDensity: variants.map((v) => ({ norm: v.norm, boost: v.boost, value: v.sfrDensity })), unit: 'Msun/yr/Mpc^3' } : null,
      timings: { uvlfSeconds, models: Object.fromEntries(runs.map((r) => [r.model, r.wallSeconds])) },
    };
    writeFileAtomic(join(out, 'stochasticity.json'), JSON.stringify(summary, null, 2) + '\n', { force });
    writeReport(
      {
        title: 'Stochasticity of the source model (Davies et al. 2025, Sec. 6)',
        meta: {
          command: o.command ?? '',
          code: `lodi ${CODE_VERSION}`,
          halos: `${resolve(o.halos)} (seed ${src.summary.seed}, M_min ${src.summary.minMassMsun.toExponential(2)} Msun)`,
          box: `${boxSize} Mpc/h, ${grid}^3 cells, ${zs.length} redshifts ${zs[0]!.toFixed(2)}–${zs[zs.length - 1]!.toFixed(2)}`,
          models: models.join(', '),
          'spin temperature': o.spin ? 'inhomogeneous (--spin)' : 'saturated',
          'galaxy seed': seed,
        },
        sections,
      },
      { markdown: join(out, 'report.md'), html: join(out, 'report.html'), force },
    );
    o.onStage?.('report');
    prog.update(models.length + 2, 'done');
    return { runs, uvlf, summary };
  });
}
