/**
 * `lodi reionize`: galaxies on the sampled halos of a sources directory (`lodi sample-halos`), their ionising
 * photons gridded, the evolved density rebuilt from the stored linear field, and the excursion-set reionisation
 * with the saturated 21 cm signal (Davies et al. 2025, Sec. 3–4; src/astro/galaxy and src/astro/reion).
 *
 * Order of the galaxy draws. The merger history lists catalogues in ascending redshift, each progenitor pointing
 * at its descendant in the next-lower redshift. Galaxies are drawn from the lowest redshift upwards: the lowest
 * catalogue gets independent deviates, every later one `progenitorDeviates` of its descendants' (Eq. 8–9), so a
 * descendant's deviates always exist before its progenitors'. Reionisation itself then runs from high to low z.
 *
 * Files written to the output directory:
 *   coeval/xHI_z{z}.npy, coeval/dTb_z{z}.npy   x_HI and δT_b [mK] per redshift (+ .json sidecars)
 *   coeval/Ts_z{z}.npy, Tk_z{z}.npy, xe_z{z}.npy  with --spin: T_s, T_K [K] and x_e per redshift
 *   thermal.png, ps21_zero.csv, ps21_zero.png   with --spin: T_K, T_s, T_γ and ⟨δT_b⟩(z); Δ²_21 where ⟨δT_b⟩ crosses 0
 *   ps21_trough.csv, ps21_trough.png            with --spin: Δ²_21 at the absorption trough (lowest ⟨δT_b⟩, inside the range)
 *   lightcone_BCII.npy (+ .json), lc_*.png      multi-tracer lightcones (δ, n_ion, L_X, δT_b, B_CII; sources-lim.ts)
 *   lim_midpoint.csv, lim_power.png             21 cm × [CII] spectra and r(k) at the midpoint
 *   history.csv                                 z, ⟨x_HI⟩, ⟨δT_b⟩ [mK], mass-weighted x_HI, photons per baryon, halos
 *   history.png                                 the global history
 *   lightcone_dTb.npy (+ .json), lightcone.png  δT_b lightcone [N, N, n_slices] and a slice through it
 *   ps21_midpoint.csv, ps21.png                 Δ²_21(k) of the box with ⟨x_HI⟩ nearest 0.5
 *   uvlf_z8.csv, uvlf.png                       UV LF of the catalogue nearest z = 8 (if in range), sampled vs analytic
 *   ps21_z{z}.csv, ps21_redshifts.png           with --ps-z: Δ²_21(k) at the catalogue redshifts nearest those asked for
 *   uvlf_z{z}.csv, uvlf_z{z}.png                with --uvlf-z: the UV LF there (sources-spectra.ts)
 *   galaxies.h5                                 with --galaxies: the galaxy properties of every halo of the chosen
 *                                               catalogues, aligned with halos.h5 (src/io/galaxy-catalogue.ts)
 *   astro.json, reion.json                      the frozen galaxy and reionisation parameters used
 *   reionize.json                               seed, inputs, command, version, cosmology and every parameter set
 *                                               (cosmology, sampler, astro, reion, spin), summary numbers, timings
 *   report.md, report.html, reionize.log
 *
 * Provenance: the sidecars (.json) of the coeval boxes and lightcones and the provenance attribute of galaxies.h5
 * hold the generator, command, version, seed, input, the cosmology and the source model; the sidecars name the
 * parameter files beside them (astro.json, reion.json, spin.json), galaxies.h5 embeds the galaxy parameters.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SigmaM } from '../cosmo/sigma.js';
import { LinearPower } from '../cosmo/power.js';
import { rhoCrit } from '../cosmo/background.js';
import { ASTRO_DEFAULTS, astroParamsToJSON, makeAstroParams, type AstroParams } from '../astro/params.js';
import { makeReionParams, type ReionParams } from '../astro/reion/params.js';
import { reionise } from '../astro/reion/driver.js';
import { cosmicDawn, type CosmicDawnResult } from '../astro/spin/driver.js';
import { DEFAULT_SPIN_PARAMS, makeSpinParams, type SpinParams } from '../astro/spin/params.js';
import { rectilinearLightcone } from '../astro/reion/lightcone.js';
import { massWeightedXHI, powerSpectrum21 } from '../astro/reion/history.js';
import { saveGrid } from '../io/grid.js';
import { writeNpy } from '../io/npy.js';
import { writeReport, type ReportSection } from '../report/report.js';
import { assertWritable, writeFileAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { withOutputGuard } from './outputs.js';
import { readSourcesDir, SOURCES_FILES, type SourcesDir } from './sources.js';
import { forEachGalaxyCatalogue, galaxyRecord } from './sources-galaxies.js';
import { GALAXY_BYTES_PER_HALO, GalaxyCatalogueWriter } from '../io/galaxy-catalogue.js';
import { pickRedshifts, type RedshiftPick } from './sources-select.js';
import { CHOSEN_REDSHIFT_FILES, PS21_REDSHIFTS_FIGURE, ps21AtRedshifts, ps21Csv, ps21File, uvlfFiles, writeUvlf, type ChosenSpectrum } from './sources-spectra.js';
import { ciiLuminosity, gridCiiLuminosity } from '../astro/lim/cii.js';
import { LIM_FILES, limOutputs } from './sources-lim.js';
import { EvolvedDensity, gridDawnSources, gridIonisingSources, photonsToMassEquivalent } from './sources-grids.js';
import { historyFigure, lightconeFigure, ps21Figure, thermalFigure } from './sources-figures.js';
import { stageTimer } from './stage-timer.js';
import { mimicScatterInMeans } from '../astro/galaxy/scatter-variants.js';
import { belowSamplerRange, ChmfGridSources, isSampledModel, parseSourceModel, SOURCE_MODEL_LABELS, sourceModelAstro, v3ShellSources, v3Sources, type SourceModel } from './sources-models.js';
import type { FcollRadiusSources } from '../astro/reion/fcoll-sources.js';
import type { ChmfDensity } from '../astro/reion/chmf-sources.js';

const CODE_VERSION = '0.1.0';
/** The galaxy catalogues of --galaxies (src/io/galaxy-catalogue.ts). */
export const GALAXIES_FILE = 'galaxies.h5';
const AXES = ['x', 'y', 'z'] as const;

export interface ReionizeOptions {
  /** Sources directory written by `lodi sample-halos`. */
  halos: string;
  out: string;
  /** JSON file of astrophysical parameters (src/astro/params.ts names; missing fields take the code's defaults). */
  astroFile?: string;
  /** JSON file of reionisation parameters (src/astro/reion/params.ts names). */
  reionFile?: string;
  /** Seed of the galaxy deviates (default: the sampler's seed from sources.json). */
  seed?: number;
  /** Line-of-sight axis of the lightcone and of the velocity-gradient term (default 2 = z). */
  lightconeAxis?: 0 | 1 | 2;
  /**
   * Inhomogeneous spin temperature (code USE_TS_FLUCT): X-ray and Lyman-α backgrounds, T_K, x_e and T_s
   * per cell, and the full Eq. 25 (src/astro/spin). Default false: the saturated limit.
   */
  spin?: boolean;
  /** JSON file of spin-temperature parameters (src/astro/spin/params.ts names); only with spin. */
  spinFile?: string;
  /**
   * Source model of Davies et al. (2025) Table 2 (src/pipeline/sources-models.ts). Default: the galaxy parameters
   * as given (with the code's defaults, 'v4-mean-norm'); a sampled model overrides the scatter switches.
   */
  sourceModel?: SourceModel;
  /**
   * Condition the cell CHMF of 'chmf-on-grid' or of a sampled model's sub-sampler component on the evolved cell
   * density times (1 + δ) ('eulerian') or on the linear one, with the cell's integrals moved to its Eulerian position
   * by 2LPT ('lagrangian', the code's `set_fixed_grids`). Defaults: 'eulerian' for chmf-on-grid (the paper's
   * "conditioning the HMFs on the evolved (Eulerian) cell densities"), 'lagrangian' for the sub-sampler component
   * (the code's). Not used by v3-default.
   */
  chmfDensity?: ChmfDensity;
  /**
   * Sampled models: add the mean contribution of the halos below the sampler's minimum mass, the cell CHMF from
   * M_turn / 50 up to it (`belowSamplerRange`; what the public code always does). Default true.
   */
  belowSampler?: boolean;
  /**
   * Write galaxies.h5: the galaxy properties of every halo of the catalogues nearest these redshifts, or of all
   * catalogues ('all'). Default: none (the galaxies follow from halos.h5, astro.json and the seed). Sampled models only.
   */
  galaxies?: readonly number[] | 'all';
  /** Also write Δ²_21(k) at the catalogue redshifts nearest these (ps21_z{z}.csv, ps21_redshifts.png). */
  psRedshifts?: readonly number[];
  /** Also write the UV LF at the catalogue redshifts nearest these (uvlf_z{z}.csv/.png). Sampled models only. */
  uvlfRedshifts?: readonly number[];
  force?: boolean;
  quiet?: boolean;
  command?: string;
  /** Called after each stage ('galaxies', 'reionisation', 'coeval', 'history', 'lightcone', 'ps21', 'spectra', 'uvlf', 'params', 'report'); throwing aborts the run. */
  onStage?: (stage: string) => void;
}

/** One row of the global history (ascending redshift). */
export interface HistoryRow {
  z: number;
  xHI: number;
  dTb: number;
  xHIMass: number;
  /** Mean emitted ionising photons per baryon of the box (cumulative). */
  photonsPerBaryon: number;
  halos: number;
  /** With --spin: ⟨T_s⟩, ⟨T_K⟩ [K], ⟨x_e⟩ and T_γ [K]. */
  ts?: number;
  tk?: number;
  xe?: number;
  tGamma?: number;
}

export interface ReionizeResult {
  history: HistoryRow[];
  /** x_HI [N^3] per redshift, ascending redshift (as `history`). */
  xHI: Float32Array[];
  astro: AstroParams;
  reion: ReionParams;
  seed: number;
  /** Redshift and ⟨x_HI⟩ of the box used for Δ²_21. */
  midpoint: { z: number; xHI: number };
  /** First redshift (from high z) at which ⟨x_HI⟩ < 0.01, or null. */
  zEnd: number | null;
  summary: Record<string, unknown>;
}

/** Coeval file names of one redshift. */
export function coevalNames(z: number): { xHI: string; dTb: string; ts: string; tk: string; xe: string } {
  const tag = z.toFixed(3);
  const f = (q: string): string => join('coeval', `${q}_z${tag}.npy`);
  return { xHI: f('xHI'), dTb: f('dTb'), ts: f('Ts'), tk: f('Tk'), xe: f('xe') };
}

function readJsonObject(path: string, what: string): Record<string, unknown> {
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read ${what} (${(err as Error).message.split('\n')[0]}), expected a JSON object`);
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new Error(`${path}: expected a JSON object of ${what}, got ${JSON.stringify(j)?.slice(0, 60)}`);
  return j as Record<string, unknown>;
}

/** Parameters of a run: the files' (validated), else the code's defaults; the lightcone axis sets the line of sight. */
function resolveParams(o: ReionizeOptions): { astro: AstroParams; reion: ReionParams; axis: 0 | 1 | 2; spin: SpinParams | null } {
  const astro = o.astroFile ? makeAstroParams(readJsonObject(o.astroFile, 'astrophysical parameters'), o.astroFile) : ASTRO_DEFAULTS;
  const reionIn = o.reionFile ? readJsonObject(o.reionFile, 'reionisation parameters') : {};
  const axis = o.lightconeAxis ?? (reionIn.losAxis as 0 | 1 | 2 | undefined) ?? 2;
  if (reionIn.losAxis !== undefined && reionIn.losAxis !== axis) {
    throw new Error(`${o.reionFile}: field "losAxis" = ${JSON.stringify(reionIn.losAxis)} differs from --lightcone-axis ${AXES[axis] ?? axis}; expected the same line of sight`);
  }
  let reion: ReionParams;
  try {
    reion = makeReionParams({ ...reionIn, losAxis: axis });
  } catch (err) {
    throw new Error(`${o.reionFile ?? '--lightcone-axis'}: ${(err as Error).message}`);
  }
  if (o.spinFile && !o.spin) throw new Error(`--spin-params ${o.spinFile}: only used with --spin`);
  let spin: SpinParams | null = null;
  if (o.spin) {
    try {
      spin = o.spinFile ? makeSpinParams(readJsonObject(o.spinFile, 'spin-temperature parameters')) : DEFAULT_SPIN_PARAMS;
    } catch (err) {
      throw new Error(`${o.spinFile}: ${(err as Error).message}`);
    }
  }
  return { astro, reion, axis, spin };
}

/** Runs galaxies → grids → reionisation → files; see the module comment. */
export async function reionizeSources(o: ReionizeOptions): Promise<ReionizeResult> {
  // inputs first: nothing is created when they are bad
  const src = await readSourcesDir(o.halos);
  const params = resolveParams(o);
  const { reion, axis, spin } = params;
  const model = o.sourceModel === undefined ? null : parseSourceModel(o.sourceModel);
  const astro = model ? sourceModelAstro(model, params.astro) : params.astro;
  if (o.chmfDensity !== undefined && (model === 'v3-default' || (model !== 'chmf-on-grid' && o.belowSampler === false))) {
    throw new Error(`--chmf-density ${o.chmfDensity}: only used by --source-model chmf-on-grid and by the halos below the sampler of a sampled model (not with ${model === 'v3-default' ? 'v3-default' : '--no-below-sampler'})`);
  }
  if (o.chmfDensity !== undefined && model !== 'chmf-on-grid' && model !== 'v3-default' && o.belowSampler !== false && !belowSamplerRange(astro, src.summary.minMass, src.cosmology.h)) {
    throw new Error(`--chmf-density ${o.chmfDensity}: the sampler already reaches the code's minimum source mass, so there are no halos below it to grid`);
  }
  if (o.chmfDensity !== undefined && o.chmfDensity !== 'eulerian' && o.chmfDensity !== 'lagrangian') throw new Error(`--chmf-density ${JSON.stringify(o.chmfDensity)}: expected eulerian or lagrangian`);
  const seed = o.seed ?? src.summary.seed;
  if (!(Number.isInteger(seed) && seed >= 0)) throw new Error(`--seed ${seed}: expected a non-negative integer`);
  const out = o.out;
  if (resolve(out) === resolve(o.halos)) throw new Error(`--out ${out}: expected a folder other than --halos (the sources directory)`);
  const force = o.force === true;
  const zs = src.history.redshifts;
  const picks = chosenRedshifts(o, zs, src.summary.sampler.zStepFactor, model ?? 'v4-mean-norm');
  const chosen = chosenFiles(picks);
  const files = [
    ...zs.flatMap((z) => Object.values(coevalNames(z)).flatMap((f) => [f, f.replace(/\.npy$/, '.json')])),
    'history.csv', 'history.png', 'lightcone_dTb.npy', 'lightcone_dTb.json', 'lightcone.png', 'ps21_midpoint.csv', 'ps21.png',
    'uvlf_z8.csv', 'uvlf.png', 'astro.json', 'reion.json', 'reionize.json', 'report.md', 'report.html', ...chosen,
  ];
  for (const f of files) assertWritable(join(out, f), force);
  for (const f of LIM_FILES) assertWritable(join(out, f), force);
  if (spin) for (const f of SPIN_FILES) assertWritable(join(out, f), force);
  // --force without --spin over an earlier --spin run: its spin-only files would be left beside the new ones; the same
  // for the galaxies and spectra of redshifts chosen by an earlier run and not by this one
  if (!spin && force) removeSpinOutputs(out);
  if (force) removeOtherChosen(out, chosen);
  return withOutputGuard([out], () => run(o, src, { astro, reion, axis, seed, spin, model: model ?? 'v4-mean-norm', picks }));
}

/** The catalogues chosen by --galaxies, --ps-z and --uvlf-z (empty when not given). */
interface ChosenRedshifts {
  galaxies: RedshiftPick[];
  ps: RedshiftPick[];
  uvlf: RedshiftPick[];
}

/** Resolves the requested redshifts to catalogues; refuses requests outside the halos' range and galaxy outputs of grid models. */
function chosenRedshifts(o: ReionizeOptions, zs: readonly number[], zStepFactor: number, model: SourceModel): ChosenRedshifts {
  for (const [flag, v] of [['--galaxies', o.galaxies], ['--uvlf-z', o.uvlfRedshifts]] as const) {
    if (v !== undefined && !isSampledModel(model)) throw new Error(`${flag}: the ${model} source model has no individual galaxies; expected a sampled model (v4-mean-norm, v4-no-mean-norm, v4-no-scatter)`);
  }
  const pick = (flag: string, v: readonly number[] | 'all' | undefined): RedshiftPick[] => (v === undefined ? [] : pickRedshifts(zs, v, { flag, zStepFactor }));
  return { galaxies: pick('--galaxies', o.galaxies), ps: pick('--ps-z', o.psRedshifts), uvlf: pick('--uvlf-z', o.uvlfRedshifts) };
}

/** The files written for the chosen redshifts. */
function chosenFiles(p: ChosenRedshifts): string[] {
  return [
    ...(p.galaxies.length > 0 ? [GALAXIES_FILE] : []),
    ...p.ps.map((k) => ps21File(k.z)),
    ...(p.ps.length > 0 ? [PS21_REDSHIFTS_FIGURE] : []),
    ...p.uvlf.flatMap((k) => Object.values(uvlfFiles(k.z))),
  ];
}

/** Removes galaxies.h5 and the spectra and UV LFs of chosen redshifts that this run does not write (a --force rerun). */
function removeOtherChosen(out: string, keep: readonly string[]): void {
  let names: string[];
  try {
    names = readdirSync(out);
  } catch {
    return; // no folder yet
  }
  for (const f of names) {
    if ((f === GALAXIES_FILE || CHOSEN_REDSHIFT_FILES.test(f)) && !keep.includes(f)) rmSync(join(out, f), { force: true });
  }
}

async function run(
  o: ReionizeOptions,
  src: SourcesDir,
  p: { astro: AstroParams; reion: ReionParams; axis: 0 | 1 | 2; seed: number; spin: SpinParams | null; model: SourceModel; picks: ChosenRedshifts },
): Promise<ReionizeResult> {
  const out = o.out;
  const force = o.force === true;
  const { astro, reion, axis, seed, spin } = p;
  const cosmo = src.cosmology;
  const h = cosmo.h;
  const { boxSize, grid } = src.summary;
  const counts = src.history.catalogues.map((c) => c.count);
  const zs = src.history.redshifts;
  const nz = zs.length;
  mkdirSync(join(out, 'coeval'), { recursive: true });
  const total = 2 * nz + 2;
  const prog = new Progress('reionize', total, { logFile: join(out, 'reionize.log'), quiet: o.quiet });
  prog.log(`lodi reionize: ${o.halos} (${boxSize} Mpc/h, ${grid}^3, ${nz} redshifts ${zs[0]!.toFixed(2)}–${zs[nz - 1]!.toFixed(2)}), galaxy seed ${seed}, line of sight ${AXES[axis]}`);
  const { wall, cpu, stage } = stageTimer(o.onStage);

  // Galaxies, lowest z first (descendants before progenitors), and their gridded photons.
  const rhoB = cosmo.Omega_b * rhoCrit(cosmo, 0);
  const kUv = nz > 0 && zs[0]! <= 8.1 && zs[nz - 1]! >= 7.9 ? zs.reduce((a, z, i) => (Math.abs(z - 8) < Math.abs(zs[a]! - 8) ? i : a), 0) : -1;
  // M_UV of the catalogues whose UV LF is written (z ≈ 8 and --uvlf-z), kept past the galaxy loop
  const uvlfIndices = new Set([...(kUv >= 0 ? [kUv] : []), ...p.picks.uvlf.map((q) => q.index)]);
  const muvKept = new Map<number, Float64Array>();
  const galaxyIndices = new Set(p.picks.galaxies.map((q) => q.index));
  const emissivity: Float32Array[] = [];
  const rate: Float32Array[] = [];
  const sfrGrid: Float32Array[] = [];
  const xrayGrid: Float32Array[] = [];
  const ciiGrid: Float32Array[] = [];
  const photonsPerBaryon: number[] = [];
  const galaxyTotals: { stellarMass: number; sfr: number }[] = [];
  // Halos below the sampler's minimum mass, down to the code's minimum source mass (M_turn / 50; 1e5 Msun with
  // minihalos): the sampled models add their mean cell CHMF (below),
  // the grid models integrate down to the same mass, so that every model counts the same halos (as in the code).
  const below = o.belowSampler !== false ? belowSamplerRange(astro, src.summary.minMass, h) : null;
  const chmfDensity: ChmfDensity = o.chmfDensity ?? (isSampledModel(p.model) ? 'lagrangian' : 'eulerian');
  const lowestMass = below?.min ?? src.summary.minMass;
  const cellChmf = (gridAstro: AstroParams, massRange: { min: number; max?: number }): ChmfGridSources =>
    new ChmfGridSources({ cosmo, boxSize, grid, astro: gridAstro, sampler: src.summary.sampler, densityKind: chmfDensity, linear: src.linear, massRange });
  // the grid model needs the evolved density before its sources (the sampled models after their galaxies)
  let evolvedEarly: EvolvedDensity | null = null;
  const densityEarly = new Map<number, Float32Array>();
  if (!isSampledModel(p.model)) {
    evolvedEarly = await stage('density', () => new EvolvedDensity(src.linear, boxSize, grid, cosmo, 2));
    // v3-default has no source grid: its tracer grids (LIM maps, totals) are the Eulerian cell-scale CHMF ones
    // median relations: CHMF on Grid puts the mean of their scatter into the normalisations (the code's fixed grids);
    // v3-default keeps the relations as given, as the code's non-halo path and its own per-radius sources do
    const gridAstro = p.model === 'chmf-on-grid' ? mimicScatterInMeans(astro) : astro;
    const grids = cellChmf(gridAstro, { min: lowestMass });
    await stage('galaxies', () =>
      zs.forEach((z, k) => {
        const d = evolvedEarly!.at(z);
        densityEarly.set(z, d);
        const g = grids.at(z, d);
        emissivity.push(g.emissivity);
        rate.push(g.rate);
        if (spin) sfrGrid.push(g.sfr);
        xrayGrid.push(g.xray);
        ciiGrid.push(g.cii);
        photonsPerBaryon.push(photonsToMassEquivalent(g.totalPhotons, h) / boxSize ** 3 / rhoB);
        galaxyTotals.push({ stellarMass: g.totalStellarMass, sfr: g.totalSfr });
        prog.update(k + 1, `CHMF sources z=${z.toFixed(2)} (mean fix ×${(g.nIonExpected / g.nIonRawMean).toFixed(3)})`);
      }),
    );
  } else await stage('galaxies', async () => {
    // galaxies.h5 is written one catalogue at a time, as the galaxies are drawn
    const galaxyFile = galaxyIndices.size > 0
      ? await GalaxyCatalogueWriter.create(join(out, GALAXIES_FILE), { boxSize, halos: resolve(o.halos, SOURCES_FILES.halos), provenance: galaxyProvenance(o, src, { seed, astro, model: p.model }), force })
      : null;
    if (galaxyFile) {
      const n = [...galaxyIndices].reduce((a, k) => a + counts[k]!, 0);
      prog.log(`${GALAXIES_FILE}: ${galaxyIndices.size} catalogue(s), ${n} galaxies, about ${((n * GALAXY_BYTES_PER_HALO) / 2 ** 20).toFixed(1)} MiB`);
    }
    try {
      forEachGalaxyCatalogue(src.history, { cosmo, params: astro, seed }, (k, c, gal) => {
        const g = gridIonisingSources(c.pos, gal, { grid, boxSize, h });
        emissivity.push(g.emissivity);
        rate.push(g.rate);
        const d = gridDawnSources(c.pos, gal, { grid, boxSize });
        if (spin) sfrGrid.push(d.sfr);
        xrayGrid.push(d.xray);
        const sfrTotal = Float64Array.from(gal.sfr, (v, i) => v + gal.sfrMini[i]!);
        ciiGrid.push(gridCiiLuminosity(c.pos, ciiLuminosity(sfrTotal), { grid, boxSize }));
        photonsPerBaryon.push(photonsToMassEquivalent(g.totalPhotons, h) / boxSize ** 3 / rhoB);
        let ms = 0;
        let sfr = 0;
        for (let i = 0; i < c.count; i++) {
          ms += gal.stellarMass[i]! + gal.stellarMassMini[i]!;
          sfr += gal.sfr[i]! + gal.sfrMini[i]!;
        }
        galaxyTotals.push({ stellarMass: ms, sfr });
        if (uvlfIndices.has(k)) muvKept.set(k, gal.muv);
        if (galaxyFile && galaxyIndices.has(k)) galaxyFile.append(galaxyRecord(k, c, gal));
        prog.update(k + 1, `galaxies z=${c.z.toFixed(2)} (${c.count} halos)`);
      });
    } catch (err) {
      galaxyFile?.abort();
      throw err;
    }
    galaxyFile?.close();
  });

  // the catalogues are not needed any more: let them go before the grids of the excursion set are made
  src.history.catalogues = [];

  // Evolved density from the stored linear field, kept per redshift for the mass-weighted history.
  const evolved = evolvedEarly ?? (await stage('density', () => new EvolvedDensity(src.linear, boxSize, grid, cosmo, 2)));

  // The sampled models' halos below the sampler's minimum mass, as the mean CHMF of each cell.
  const belowShare: number[] = [];
  if (below && isSampledModel(p.model)) {
    // median relations: the mean of their scatter goes into the normalisations, as the sampled galaxies carry it
    const grids = cellChmf(mimicScatterInMeans(astro), below);
    await stage('below-sampler', () =>
      zs.forEach((z, k) => {
        const d = evolved.at(z);
        densityEarly.set(z, d);
        const g = grids.at(z, d);
        addInto(emissivity[k]!, g.emissivity);
        addInto(rate[k]!, g.rate);
        if (spin) addInto(sfrGrid[k]!, g.sfr);
        addInto(xrayGrid[k]!, g.xray);
        addInto(ciiGrid[k]!, g.cii);
        const ppb = photonsToMassEquivalent(g.totalPhotons, h) / boxSize ** 3 / rhoB;
        belowShare.push(ppb / (photonsPerBaryon[k]! + ppb));
        photonsPerBaryon[k]! += ppb;
        galaxyTotals[k]!.stellarMass += g.totalStellarMass;
        galaxyTotals[k]!.sfr += g.totalSfr;
      }),
    );
    prog.log(
      `halos of ${(below.min / h).toExponential(2)}–${(below.max / h).toExponential(2)} Msun below the sampler as the mean cell CHMF: ` +
        `${(100 * belowShare[0]!).toFixed(1)}% of the ionising photons at z = ${zs[0]!.toFixed(2)}, ${(100 * belowShare[nz - 1]!).toFixed(1)}% at z = ${zs[nz - 1]!.toFixed(2)}`,
    );
  }
  const density = new Map<number, Float32Array>();
  const densityAt = (z: number): Float32Array => {
    const d = densityEarly.get(z) ?? evolved.at(z);
    density.set(z, d);
    return d;
  };
  const onProgress = (s: { step: number; z: number; meanXHI: number; meanTs?: number }): void =>
    prog.update(nz + s.step, `reionisation z=${s.z.toFixed(2)} <x_HI>=${s.meanXHI.toFixed(3)}` + (s.meanTs !== undefined ? ` <T_s>=${s.meanTs.toFixed(1)} K` : ''));
  let dawn: CosmicDawnResult | null = null;
  // v3-default: the per-radius sources of each redshift, kept for the mean fixes of the summary
  const v3 = p.model === 'v3-default' ? v3Sources({ cosmo, boxSize, grid, astro, reion, sampler: src.summary.sampler, minMass: lowestMass }) : null;
  const v3Steps: FcollRadiusSources[] = [];
  const radiusSources = (z: number): FcollRadiusSources => {
    const s = v3!.atRedshift(z);
    v3Steps.push(s);
    return s;
  };
  const res = await stage('reionisation', () => {
    if (!spin && v3) return reionise({ cosmology: cosmo, boxSize, grid, redshifts: zs, density: densityAt, radiusSources, params: reion, onProgress });
    if (!spin) return reionise({ cosmology: cosmo, boxSize, grid, redshifts: zs, density: densityAt, emissivity, ionisingRate: rate, params: reion, onProgress });
    // v3-default: the shells' X-ray and Lyman-α sources come from the density of each step (no gridded history)
    const sources = v3
      ? { radiusSources, shellSources: v3ShellSources({ cosmo, astro, sampler: src.summary.sampler, minMass: lowestMass, rMaxMpc: spin.rMaxTsMpc }) }
      : { emissivity, ionisingRate: rate, sfrDensity: sfrGrid, xrayDensity: xrayGrid };
    dawn = cosmicDawn({
      cosmology: cosmo,
      boxSize,
      grid,
      redshifts: zs,
      density: densityAt,
      ...sources,
      reionParams: reion,
      spinParams: spin,
      onProgress,
    });
    const h = dawn.history;
    return {
      redshifts: h.z,
      xHI: dawn.boxes.map((b) => b.xHI),
      brightnessTemp: dawn.boxes.map((b) => b.brightnessTemp),
      meanXHI: h.xHI,
      meanBrightnessTemp: h.brightnessTemp,
    };
  });
  rate.length = 0;
  sfrGrid.length = 0;
  // reionise returns descending z; everything below is in ascending z, as the catalogues
  const idx = zs.map((z) => Array.from(res.redshifts).indexOf(z));
  const xHI = idx.map((i) => res.xHI[i]!);
  const dTb = idx.map((i) => res.brightnessTemp[i]!);
  const dawnRes = dawn as CosmicDawnResult | null;
  const history: HistoryRow[] = zs.map((z, k) => ({
    z,
    xHI: res.meanXHI[idx[k]!]!,
    dTb: res.meanBrightnessTemp[idx[k]!]!,
    xHIMass: massWeightedXHI(xHI[k]!, density.get(z)!),
    photonsPerBaryon: photonsPerBaryon[k]!,
    halos: isSampledModel(p.model) ? counts[k]! : 0,
    ...(dawnRes
      ? {
          ts: dawnRes.history.spinTemperature[idx[k]!]!,
          tk: dawnRes.history.kineticTemperature[idx[k]!]!,
          xe: dawnRes.history.xe[idx[k]!]!,
          tGamma: cosmo.T_cmb * (1 + z),
        }
      : {}),
  }));

  const provenance = runProvenance(o, src, { seed, model: p.model, spin: spin !== null });
  await stage('coeval', () => {
    zs.forEach((z, k) => {
      const n = coevalNames(z);
      saveGrid(join(out, n.xHI), { data: xHI[k]!, shape: [grid, grid, grid], meta: { boxSize, redshift: z, quantity: 'neutral_fraction', unit: '1', provenance } }, { force });
      saveGrid(join(out, n.dTb), { data: dTb[k]!, shape: [grid, grid, grid], meta: { boxSize, redshift: z, quantity: 'T_b', unit: 'mK', provenance: { ...provenance, losAxis: axis } } }, { force });
      if (dawnRes) {
        const b = dawnRes.boxes[idx[k]!]!;
        saveGrid(join(out, n.ts), { data: b.spinTemperature, shape: [grid, grid, grid], meta: { boxSize, redshift: z, quantity: 'spin_temperature', unit: 'K', provenance } }, { force });
        saveGrid(join(out, n.tk), { data: b.kineticTemperature, shape: [grid, grid, grid], meta: { boxSize, redshift: z, quantity: 'kinetic_temperature', unit: 'K', provenance } }, { force });
        saveGrid(join(out, n.xe), { data: b.xe, shape: [grid, grid, grid], meta: { boxSize, redshift: z, quantity: 'xray_ionised_fraction', unit: '1', provenance } }, { force });
      }
    });
  });
  prog.update(2 * nz + 1, 'coeval boxes written');

  const sections: ReportSection[] = [];
  const title = `${boxSize} Mpc/h, ${grid}^3`;
  await stage('history', async () => {
    const lines = ['z,xHI_mean,dTb_mean_mK,xHI_mass_weighted,photons_per_baryon,halos' + (dawnRes ? ',Ts_mean_K,Tk_mean_K,xe_mean,T_gamma_K' : '')];
    for (const r of history) {
      lines.push(
        `${r.z.toFixed(5)},${r.xHI.toExponential(6)},${r.dTb.toExponential(6)},${r.xHIMass.toExponential(6)},${r.photonsPerBaryon.toExponential(6)},${r.halos}` +
          (dawnRes ? `,${r.ts!.toExponential(6)},${r.tk!.toExponential(6)},${r.xe!.toExponential(6)},${r.tGamma!.toExponential(6)}` : ''),
      );
    }
    writeFileAtomic(join(out, 'history.csv'), lines.join('\n') + '\n', { force });
    await historyFigure(
      { z: history.map((r) => r.z), xHI: history.map((r) => r.xHI), xHIMass: history.map((r) => r.xHIMass), dTb: history.map((r) => r.dTb) },
      `Global reionisation history (${title})`,
      join(out, 'history.png'),
    );
  });
  const zEnd = endOfReionisation(history);
  const mid = history.reduce((a, r, k) => (Math.abs(r.xHI - 0.5) < Math.abs(history[a]!.xHI - 0.5) ? k : a), 0);
  sections.push({
    title: 'Global history',
    text:
      `Volume-weighted ⟨x_HI⟩ and ⟨δT_b⟩ per redshift (history.csv; mass-weighted x_HI with the evolved density). ` +
      (zEnd !== null ? `⟨x_HI⟩ falls below 0.01 at z = ${zEnd.toFixed(2)}.` : `⟨x_HI⟩ stays above 0.01 down to z = ${zs[0]!.toFixed(2)} (${history[0]!.xHI.toFixed(3)} there).`),
    images: [{ path: join(out, 'history.png'), caption: 'x_HI(z) and ⟨δT_b⟩(z)' }],
    tables: [historyTable(history)],
  });
  const dawnSummary = dawnRes ? await stage('thermal', () => thermalSection(history, { out, title, force, grid, boxSize, dTb, sections })) : null;

  await stage('lightcone', () => {
    if (nz < 2) {
      sections.push({ title: 'Lightcone', text: 'Only one redshift: no lightcone.' });
      return;
    }
    const lc = rectilinearLightcone({ boxes: dTb, redshifts: zs, cosmology: cosmo, boxSize, grid, axis });
    writeNpy(join(out, 'lightcone_dTb.npy'), lc.field, [grid, grid, lc.nSlices], { force });
    const trans = [0, 1, 2].filter((a) => a !== axis).map((a) => AXES[a]!) as [string, string];
    const meta = {
      format: 'lodi-lightcone',
      version: 1,
      shape: [grid, grid, lc.nSlices],
      dtype: 'float32',
      order: 'C',
      axes: [...trans, `line of sight (box axis ${AXES[axis]})`],
      quantity: 'T_b',
      unit: 'mK',
      boxSize,
      cellSize: boxSize / grid,
      redshifts: Array.from(lc.redshifts),
      distances: Array.from(lc.distances),
      distanceUnit: 'Mpc/h comoving',
      provenance,
    };
    writeFileAtomic(join(out, 'lightcone_dTb.json'), JSON.stringify(meta) + '\n', { force });
    lightconeFigure(
      { field: lc.field, grid, nSlices: lc.nSlices, redshifts: lc.redshifts, distances: lc.distances, boxSize, title: `δT_b lightcone (${title})`, colorbarLabel: 'δT_b [mK]', colormap: 'magma', transverseNames: trans },
      join(out, 'lightcone.png'),
    );
    sections.push({
      title: 'Lightcone',
      text: `Rectilinear lightcone of δT_b (lightcone_dTb.npy, [${grid}, ${grid}, ${lc.nSlices}], slices ${boxSize / grid} Mpc/h apart from z = ${zs[0]!.toFixed(2)} to ${zs[nz - 1]!.toFixed(2)}, line of sight along ${AXES[axis]}).`,
      images: [{ path: join(out, 'lightcone.png'), caption: 'slice through the δT_b lightcone' }],
    });
  });

  const limSummary = await stage('lim', () =>
    limOutputs({
      out,
      force,
      cosmology: cosmo,
      boxSize,
      grid,
      axis,
      redshifts: zs,
      density: zs.map((z) => density.get(z)!),
      nIon: emissivity,
      xray: xrayGrid,
      dTb,
      ciiLuminosity: ciiGrid,
      mid,
      title,
      provenance,
      sections,
    }),
  );
  density.clear();
  emissivity.length = 0;
  xrayGrid.length = 0;
  ciiGrid.length = 0;
  const ps = await stage('ps21', async () => {
    const m = history[mid]!;
    const ps = powerSpectrum21(dTb[mid]!, grid, boxSize);
    writeFileAtomic(join(out, 'ps21_midpoint.csv'), ps21Csv(ps, `z = ${m.z}, <x_HI> = ${m.xHI}`), { force });
    await ps21Figure(ps, (Math.PI * grid) / boxSize, `21 cm power spectrum at z = ${m.z.toFixed(2)}, ⟨x_HI⟩ = ${m.xHI.toFixed(2)} (${title})`, join(out, 'ps21.png'));
    sections.push({
      title: '21 cm power spectrum at the midpoint',
      text: `Δ²_21(k) of the coeval δT_b box whose ⟨x_HI⟩ is nearest 0.5 (z = ${m.z.toFixed(3)}, ⟨x_HI⟩ = ${m.xHI.toFixed(3)}); ps21_midpoint.csv.`,
      images: [{ path: join(out, 'ps21.png'), caption: 'Δ²_21(k) at the EoR midpoint' }],
    });
    return ps;
  });
  // --ps-z: the spectra at the chosen redshifts
  let chosenSpectra: ChosenSpectrum[] = [];
  if (p.picks.ps.length > 0) {
    await stage('spectra', async () => {
      const r = await ps21AtRedshifts({ out, force, picks: p.picks.ps, dTb, history, grid, boxSize, title });
      sections.push(r.section);
      chosenSpectra = r.spectra;
    });
  }

  const chosenUvlf: { z: number; requested: number[]; file: string | null }[] = [];
  await stage('uvlf', async () => {
    if (!isSampledModel(p.model)) {
      sections.push({ title: 'UV luminosity function', text: `The ${p.model} source model has no individual galaxies: no UV LF.` });
      return;
    }
    const sigma = new SigmaM(new LinearPower(cosmo));
    const mMin = src.summary.minMass / h;
    const lfOf = (k: number, csv: string, png: string): ReturnType<typeof writeUvlf> =>
      writeUvlf({
        muv: muvKept.get(k)!,
        z: zs[k]!,
        boxSize,
        cosmo,
        astro,
        sigma,
        minMassMsun: mMin,
        csv: join(out, csv),
        png: join(out, png),
        force,
        title: `UV luminosity function at z = ${zs[k]!.toFixed(2)} (${title}, M_h ≥ ${mMin.toExponential(1)} Msun)`,
      });
    if (kUv < 0) {
      sections.push({ title: 'UV luminosity function', text: `z = 8 is outside the redshifts of the halos (${zs[0]!.toFixed(2)}–${zs[nz - 1]!.toFixed(2)}): no UV LF at z = 8.` });
    } else {
      const z8 = zs[kUv]!;
      if (!(await lfOf(kUv, 'uvlf_z8.csv', 'uvlf.png'))) sections.push({ title: 'UV luminosity function', text: `No galaxy with a finite M_UV at z = ${z8.toFixed(2)}.` });
      else {
        sections.push({
          title: 'UV luminosity function',
          text:
            `φ(M_UV) of the galaxies of the catalogue at z = ${z8.toFixed(3)} (Poisson errors) against its analytic expectation: ` +
            `the 21cmFAST Sheth–Tormen HMF above the sampler's minimum mass (${mMin.toExponential(2)} Msun) integrated over the ` +
            `galaxy model's scatter (analyticUvLuminosityFunction). The faint end is cut by the minimum halo mass in both. uvlf_z8.csv.`,
          images: [{ path: join(out, 'uvlf.png'), caption: `UV LF at z = ${z8.toFixed(2)}` }],
        });
      }
    }
    // --uvlf-z: the same at the chosen redshifts
    if (p.picks.uvlf.length === 0) return;
    const images: { path: string; caption: string }[] = [];
    const notes: string[] = [];
    for (const q of p.picks.uvlf) {
      const f = uvlfFiles(q.z);
      const done = await lfOf(q.index, f.csv, f.png);
      chosenUvlf.push({ z: q.z, requested: q.requested, file: done ? f.csv : null });
      if (done) images.push({ path: join(out, f.png), caption: `UV LF at z = ${q.z.toFixed(2)}` });
      notes.push(done ? `z = ${q.z.toFixed(3)} (${done.galaxies} galaxies, ${f.csv})` : `z = ${q.z.toFixed(3)} (no galaxy with a finite M_UV: no file)`);
      // (a --force rerun: no file of an earlier run is left under this name)
      if (!done) for (const n of Object.values(f)) rmSync(join(out, n), { force: true });
    }
    sections.push({
      title: 'UV luminosity functions at the chosen redshifts',
      text: `φ(M_UV) as above at the catalogue redshifts nearest those asked for (--uvlf-z): ${notes.join('; ')}.`,
      images,
    });
  });

  const summary: Record<string, unknown> = {
    format: 'lodi-reionize',
    version: 1,
    generator: 'lodi reionize',
    code: `lodi ${CODE_VERSION}`,
    command: o.command,
    seed,
    halos: resolve(o.halos),
    halosSeed: src.summary.seed,
    boxSize,
    grid,
    lightconeAxis: AXES[axis],
    sourceModel: p.model,
    ...(p.model === 'chmf-on-grid' || (below && isSampledModel(p.model)) ? { chmfDensity } : {}),
    lowestSourceMassMsun: lowestMass / h,
    belowSampler: below ? { minMassMsun: below.min / h, maxMassMsun: below.max / h, ...(isSampledModel(p.model) ? { photonShare: belowShare } : {}) } : null,
    ...(v3 ? { v3MeanFix: v3Summary(v3Steps) } : {}),
    redshifts: zs,
    meanXHI: history.map((r) => r.xHI),
    meanDTb: history.map((r) => r.dTb),
    zEnd,
    midpoint: { z: history[mid]!.z, xHI: history[mid]!.xHI },
    stellarMassDensity: galaxyTotals.map((g) => g.stellarMass / (boxSize / h) ** 3),
    sfrDensity: galaxyTotals.map((g) => g.sfr / (boxSize / h) ** 3),
    units: { stellarMassDensity: 'Msun/Mpc^3 (comoving)', sfrDensity: 'Msun/yr/Mpc^3 (comoving)', meanDTb: 'mK', boxSize: 'Mpc/h' },
    ps21Bins: ps.k.length,
    // the outputs at chosen redshifts: the catalogue redshift used for each requested one
    galaxies: p.picks.galaxies.length > 0 ? { file: GALAXIES_FILE, redshifts: p.picks.galaxies.map((q) => q.z), requested: p.picks.galaxies.map((q) => q.requested), haloIndex: p.picks.galaxies.map((q) => q.index) } : null,
    ps21Redshifts: chosenSpectra.map((c) => ({ z: c.z, requested: c.requested, xHI: c.xHI, file: c.file })),
    uvlfRedshifts: chosenUvlf,
    ...(dawnSummary ? { spin: dawnSummary } : {}),
    lim: limSummary,
    // every parameter set of the run, embedded (astro.json, reion.json and spin.json hold the same)
    cosmology: cosmo,
    parameters: { sampler: src.summary.sampler, astro: astroParamsToJSON(astro), reion, spin },
    timings: { wall, cpu },
    peakRssMiB: 0,
  };
  await stage('params', () => {
    writeFileAtomic(join(out, 'astro.json'), JSON.stringify(astroParamsToJSON(astro), null, 2) + '\n', { force });
    writeFileAtomic(join(out, 'reion.json'), JSON.stringify(reion, null, 2) + '\n', { force });
    if (spin) writeFileAtomic(join(out, 'spin.json'), JSON.stringify(spin, null, 2) + '\n', { force });
  });
  summary.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
  writeFileAtomic(join(out, 'reionize.json'), JSON.stringify(summary, null, 2) + '\n', { force });
  const report = {
    title: `Reionisation of the sampled sources (galaxy seed ${seed})`,
    meta: {
      command: o.command ?? '',
      code: `lodi ${CODE_VERSION}`,
      halos: `${resolve(o.halos)} (seed ${src.summary.seed}, M_min ${src.summary.minMassMsun.toExponential(2)} Msun)`,
      box: `${boxSize} Mpc/h, ${grid}^3 cells`,
      redshifts: `${nz}, ${zs[0]!.toFixed(3)} to ${zs[nz - 1]!.toFixed(3)}`,
      'source model': `${p.model} (${SOURCE_MODEL_LABELS[p.model]})` + (p.model === 'chmf-on-grid' ? `, ${chmfDensity} cell density` : ''),
      'halos below the sampler': !below
        ? `left out (--no-below-sampler, or the sampler already reaches M_turn / 50): sources from ${(lowestMass / h).toExponential(2)} Msun`
        : isSampledModel(p.model)
          ? `${(below.min / h).toExponential(2)}–${(below.max / h).toExponential(2)} Msun as the mean cell CHMF (${chmfDensity === 'lagrangian' ? 'linear cell density, moved by 2LPT' : 'evolved cell density'}): ` +
            `${(100 * belowShare[0]!).toFixed(1)}% of the ionising photons at z = ${zs[0]!.toFixed(2)}, ${(100 * belowShare[nz - 1]!).toFixed(1)}% at z = ${zs[nz - 1]!.toFixed(2)}`
          : `the grid model integrates from ${(below.min / h).toExponential(2)} Msun (the code's minimum source mass), below the sampler's ${(below.max / h).toExponential(2)} Msun`,
      'galaxy parameters': o.astroFile ? `${o.astroFile} (astro.json)` : '21cmFAST defaults (astro.json)',
      'reionisation parameters': `${o.reionFile ?? '21cmFAST defaults'} (reion.json): ${reion.filter} filter, mfp ${reion.mfp.toFixed(2)} Mpc/h, recombinations ${reion.recombinations ? 'on' : 'off'}`,
      'density': 'evolved by 2LPT from linear_density.npy (fine-grid particles, CIC)',
      'spin temperature': spin
        ? `inhomogeneous (X-ray and Lyman-α backgrounds over ${spin.nStepTs} shells to ${spin.rMaxTsMpc} Mpc; spin.json)` +
          (zs[nz - 1]! < spin.zHeatMax ? `; the highest redshift ${zs[nz - 1]!.toFixed(2)} is below Z_HEAT_MAX = ${spin.zHeatMax}: it starts from RECFAST there, without earlier sources` : '')
        : 'saturated (T_s ≫ T_γ; --spin for the cosmic-dawn signal)',
      'end of reionisation (⟨x_HI⟩ < 0.01)': zEnd !== null ? `z = ${zEnd.toFixed(2)}` : `not reached by z = ${zs[0]!.toFixed(2)}`,
      'peak RSS': `${summary.peakRssMiB as number} MiB`,
    },
    sections: [
      ...sections,
      { title: 'Timings', tables: [{ headers: ['stage', 'wall [s]', 'CPU [s]'], rows: Object.keys(wall).map((k) => [k, +wall[k]!.toFixed(2), +cpu[k]!.toFixed(2)] as (string | number)[]) }] },
    ],
  };
  writeReport(report, { markdown: join(out, 'report.md'), html: join(out, 'report.html'), force });
  o.onStage?.('report');
  prog.update(total, `done: ${zEnd !== null ? `<x_HI> < 0.01 at z = ${zEnd.toFixed(2)}` : `<x_HI> = ${history[0]!.xHI.toFixed(3)} at z = ${zs[0]!.toFixed(2)}`}`);
  return { history, xHI, astro, reion, seed, midpoint: { z: history[mid]!.z, xHI: history[mid]!.xHI }, zEnd, summary };
}

/** The fields every output of a run records: generator, command, version, galaxy seed, inputs, cosmology, source model. */
function commonProvenance(o: ReionizeOptions, src: SourcesDir, p: { seed: number; model: SourceModel }): Record<string, unknown> {
  return {
    generator: 'lodi reionize',
    command: o.command,
    version: CODE_VERSION,
    seed: p.seed,
    inputs: [resolve(o.halos)],
    halosSeed: src.summary.seed,
    cosmology: src.cosmology,
    sourceModel: p.model,
  };
}

/**
 * Provenance of the files of a run (the sidecars of the coeval boxes and lightcones): generator, command, version,
 * galaxy seed, the sources directory and its seed, the cosmology, the source model, and the parameter files written
 * beside them (relative to the output folder).
 */
function runProvenance(o: ReionizeOptions, src: SourcesDir, p: { seed: number; model: SourceModel; spin: boolean }): Record<string, unknown> {
  return {
    ...commonProvenance(o, src, p),
    parameters: { astro: 'astro.json', reion: 'reion.json', ...(p.spin ? { spin: 'spin.json' } : {}), run: 'reionize.json' },
  };
}

/**
 * Provenance of galaxies.h5, which may travel without its folder: as {@link runProvenance}, with the galaxy parameters
 * embedded (astroParamsToJSON) instead of named, and the rule of the galaxy draws.
 */
function galaxyProvenance(o: ReionizeOptions, src: SourcesDir, p: { seed: number; astro: AstroParams; model: SourceModel }): Record<string, unknown> {
  return {
    ...commonProvenance(o, src, p),
    astro: astroParamsToJSON(p.astro),
    draws:
      'catalogue k of halos.h5 draws from fork k of Rng(seed) (catalogueSeeds); the lowest redshift independently, every ' +
      'higher one correlated with its descendants (progenitorDeviates, Davies et al. 2025 Eq. 8-9)',
  };
}

/** Highest redshift below which ⟨x_HI⟩ stays < 0.01 (rows in ascending z), or null. */
export function endOfReionisation(history: readonly HistoryRow[]): number | null {
  let z: number | null = null;
  for (const r of history) {
    if (r.xHI < 0.01) z = r.z;
    else break;
  }
  return z;
}

function historyTable(history: HistoryRow[]) {
  const step = Math.max(1, Math.ceil(history.length / 20));
  return {
    headers: ['z', '⟨x_HI⟩', 'x_HI (mass)', '⟨δT_b⟩ [mK]', 'photons / baryon', 'halos'],
    rows: history
      .filter((_, k) => k % step === 0 || k === history.length - 1)
      .map((r) => [r.z.toFixed(3), r.xHI, r.xHIMass, r.dTb, r.photonsPerBaryon, r.halos] as (string | number)[]),
    caption: step > 1 ? `one redshift in ${step}; all are in history.csv` : undefined,
  };
}

/** Milestones of the thermal history (rows in ascending z; null when not reached in the range). */
export interface ThermalMilestones {
  /** Redshift and depth of the lowest negative ⟨δT_b⟩ of the range (the absorption trough) [mK]. */
  trough: { z: number; dTb: number } | null;
  /** Highest redshift below which ⟨T_K⟩ > T_γ (the X-ray heating milestone), linearly interpolated. */
  zHeated: number | null;
  /** Redshift where ⟨δT_b⟩ changes sign from absorption (high z) to emission, linearly interpolated. */
  zZero: number | null;
}

/**
 * Index of the absorption trough in a history (ascending z): the lowest negative ⟨δT_b⟩ when it lies strictly inside
 * the range (a minimum at either end only says the trough is outside it), else null with the reason.
 */
export function troughIndex(history: readonly Pick<HistoryRow, 'dTb'>[]): { index: number } | { index: null; reason: string } {
  let k = -1;
  history.forEach((r, i) => {
    if (r.dTb < 0 && (k < 0 || r.dTb < history[k]!.dTb)) k = i;
  });
  if (k < 0) return { index: null, reason: '⟨δT_b⟩ is never negative' };
  if (k === 0 || k === history.length - 1) return { index: null, reason: `the lowest ⟨δT_b⟩ lies at the ${k === 0 ? 'lowest' : 'highest'} redshift of the range, so the trough is outside it` };
  return { index: k };
}

/** The trough, the T_K = T_γ crossing and the ⟨δT_b⟩ = 0 crossing of a history (ascending z). */
export function thermalMilestones(history: readonly HistoryRow[]): ThermalMilestones {
  let trough: ThermalMilestones['trough'] = null;
  for (const r of history) if (r.dTb < 0 && (!trough || r.dTb < trough.dTb)) trough = { z: r.z, dTb: r.dTb };
  const crossing = (f: (r: HistoryRow) => number): number | null => {
    // from high z down: the first place where f goes from < 0 to ≥ 0
    for (let k = history.length - 1; k > 0; k--) {
      const a = history[k]!;
      const b = history[k - 1]!;
      const fa = f(a);
      const fb = f(b);
      if (fa < 0 && fb >= 0) return a.z + ((b.z - a.z) * fa) / (fa - fb);
    }
    return null;
  };
  return {
    trough,
    zHeated: history.some((r) => r.tk === undefined) ? null : crossing((r) => r.tk! - r.tGamma!),
    zZero: crossing((r) => r.dTb),
  };
}

async function thermalSection(
  history: HistoryRow[],
  c: { out: string; title: string; force: boolean; grid: number; boxSize: number; dTb: Float32Array[]; sections: ReportSection[] },
): Promise<Record<string, unknown>> {
  const m = thermalMilestones(history);
  await thermalFigure(
    { z: history.map((r) => r.z), ts: history.map((r) => r.ts!), tk: history.map((r) => r.tk!), tGamma: history.map((r) => r.tGamma!), dTb: history.map((r) => r.dTb) },
    `Thermal history and global 21 cm signal (${c.title})`,
    join(c.out, 'thermal.png'),
  );
  const fmt = (z: number | null): string => (z === null ? 'not reached in this range' : `z = ${z.toFixed(2)}`);
  c.sections.push({
    title: 'Cosmic dawn: thermal history',
    text:
      `Volume means of the kinetic and spin temperatures against the CMB temperature, and ⟨δT_b⟩ with T_s (Eq. 25 in the code's optically thick form, (1 − e^−τ_21) (T_s − T_γ)/(1+z)). ` +
      `Absorption trough: ${m.trough ? `${m.trough.dTb.toFixed(1)} mK at z = ${m.trough.z.toFixed(2)}` : 'none (⟨δT_b⟩ never negative)'}; ` +
      `⟨T_K⟩ exceeds T_γ (X-ray heating) from ${fmt(m.zHeated)}; ⟨δT_b⟩ turns from absorption to emission at ${fmt(m.zZero)}. history.csv has the columns.`,
    images: [{ path: join(c.out, 'thermal.png'), caption: 'T_K, T_s, T_γ and ⟨δT_b⟩ against z' }],
  });
  // Δ²_21 of the box nearest an epoch (the paper's Fig. 9–10): written to <name>.csv/png with a report section
  const spectrumAt = async (kz: number, name: string, what: string, note: string): Promise<void> => {
    const r = history[kz]!;
    const ps = powerSpectrum21(c.dTb[kz]!, c.grid, c.boxSize);
    writeFileAtomic(join(c.out, `${name}.csv`), ps21Csv(ps, `z = ${r.z}, <dTb> = ${r.dTb} mK`), { force: c.force });
    await ps21Figure(ps, (Math.PI * c.grid) / c.boxSize, `21 cm power spectrum at z = ${r.z.toFixed(2)}, ⟨δT_b⟩ = ${r.dTb.toFixed(2)} mK (${c.title})`, join(c.out, `${name}.png`));
    c.sections.push({
      title: `21 cm power spectrum ${what}`,
      text: `Δ²_21(k) of the coeval box ${note} (z = ${r.z.toFixed(3)}, ⟨δT_b⟩ = ${r.dTb.toFixed(2)} mK). ${name}.csv.`,
      images: [{ path: join(c.out, `${name}.png`), caption: `Δ²_21(k) ${what}` }],
    });
  };
  // where ⟨δT_b⟩ ≈ 0 (heating; Fig. 9 middle panel, Fig. 10): the box nearest the crossing
  let kz = -1;
  if (m.zZero !== null) kz = history.reduce((a, r, k) => (Math.abs(r.z - m.zZero!) < Math.abs(history[a]!.z - m.zZero!) ? k : a), 0);
  // an epoch without a spectrum leaves no file of an earlier run behind (a --force rerun, or lodi stochasticity)
  const noSpectrum = (name: string, what: string, why: string): void => {
    for (const ext of ['csv', 'png']) rmSync(join(c.out, `${name}.${ext}`), { force: true });
    c.sections.push({ title: `21 cm power spectrum ${what}`, text: `${why}: no spectrum.` });
  };
  if (kz >= 0) await spectrumAt(kz, 'ps21_zero', 'where ⟨δT_b⟩ ≈ 0', 'nearest the absorption-to-emission crossing, where fluctuations of T_s dominate');
  else noSpectrum('ps21_zero', 'where ⟨δT_b⟩ ≈ 0', '⟨δT_b⟩ does not cross zero in this redshift range');
  // at the absorption trough (Lyman-α coupling; Fig. 9 top panel): only a minimum inside the range is the trough
  const t = troughIndex(history);
  if (t.index !== null) await spectrumAt(t.index, 'ps21_trough', 'at the absorption trough', 'of the lowest ⟨δT_b⟩, the Lyman-α coupling epoch');
  else noSpectrum('ps21_trough', 'at the absorption trough', t.reason);
  return { trough: m.trough, zHeated: m.zHeated, zZero: m.zZero, zPsZero: kz >= 0 ? history[kz]!.z : null, zPsTrough: t.index !== null ? history[t.index]!.z : null };
}

/** Files only a --spin run writes besides the T_s, T_K and x_e boxes. */
const SPIN_FILES = ['thermal.png', 'ps21_zero.csv', 'ps21_zero.png', 'ps21_trough.csv', 'ps21_trough.png', 'spin.json'];

/** Removes the files only a --spin run writes (T_s, T_K, x_e boxes, thermal plot, Δ²_21 at zero and at the trough, spin.json). */
function removeSpinOutputs(out: string): void {
  for (const f of SPIN_FILES) rmSync(join(out, f), { force: true });
  const dir = join(out, 'coeval');
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir)) if (/^(Ts|Tk|xe)_z[-\d.]+\.(npy|json)$/.test(f)) rmSync(join(dir, f), { force: true });
}

/**
 * The mean fixes of a v3-default run per redshift (descending, as processed): the factor expected / raw box mean of
 * the photons per baryon at the largest and the smallest radius, and the number of radii.
 */
function v3Summary(steps: readonly FcollRadiusSources[]): { z: number; radii: number; atLargestR: number; atSmallestR: number }[] {
  return steps
    .filter((s) => s.applied.length > 0)
    .map((s) => ({ z: s.z, radii: s.applied.length, atLargestR: s.applied[0]!.meanFix, atSmallestR: s.applied[s.applied.length - 1]!.meanFix }));
}

/** a[i] += b[i] (grids of one shape). */
function addInto(a: Float32Array, b: Float32Array): void {
  for (let i = 0; i < a.length; i++) a[i]! += b[i]!;
}
