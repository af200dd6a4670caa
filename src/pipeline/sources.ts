/**
 * `lodi sample-halos`: the halo field of the 21cmFAST-v4 discrete source model (Davies et al. 2025, Sec. 2;
 * src/astro/sampler) with its merger history, written as a "sources directory" that `lodi reionize` reads:
 *
 *   halos.h5               merger history (src/io/halo-catalogue.ts): per redshift, masses [Msun/h], Eulerian
 *                          positions [Mpc/h], descendant index into the next-lower redshift (Lagrangian positions
 *                          are not stored: nothing downstream needs them); its provenance attribute holds the
 *                          cosmology and the resolved sampler and finder parameters ({@link samplerProvenance})
 *   linear_density.npy     z = 0 linear overdensity on the fine m^3 grid (m = grid x hires) the sampler used,
 *                          + linear_density.json sidecar (the same provenance); `lodi reionize` rebuilds δ(z) from it by 2LPT
 *   sources.json           cosmology, sampler and finder parameters, seed, command, version, redshifts, halo
 *                          counts per redshift, timings
 *   hmf.png, report.md     sampled HMF vs the 21cmFAST Sheth–Tormen function; the report
 *   sample-halos.log       progress log
 *
 * Inputs are checked and every output is checked for overwriting before anything is written; the writing runs
 * under an output guard, so a failed run leaves nothing behind.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CAMELS_CV, RHO_CRIT0_H2, makeCosmology, type Cosmology } from '../cosmo/params.js';
import { LinearPower } from '../cosmo/power.js';
import { SigmaM } from '../cosmo/sigma.js';
import { gaussianField } from '../nbody/ic.js';
import { totalMass, validateMergerHistory, type HaloCatalogue, type MergerHistory } from '../astro/sampler/catalogue.js';
import { sampleHaloField, type SampledHaloField } from '../astro/sampler/halo-field.js';
import { defaultSamplerParams, resolveSamplerParams, samplerRedshifts, type SamplerParams } from '../astro/sampler/params.js';
import { loadGrid, saveGrid } from '../io/grid.js';
import { readMergerHistory, writeMergerHistory } from '../io/halo-catalogue.js';
import { writeReport, type ReportSection } from '../report/report.js';
import { assertWritable, writeFileAtomic } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { withOutputGuard } from './outputs.js';
import { hmfFigure, hmfRow, nearestCatalogues } from './sources-figures.js';
import { stageTimer } from './stage-timer.js';

export const SOURCES_VERSION = 1;
export const SOURCES_FORMAT = 'lodi-sources';
const CODE_VERSION = '0.1.0';

/** Files of a sources directory. */
export const SOURCES_FILES = {
  halos: 'halos.h5',
  linear: 'linear_density.npy',
  linearSidecar: 'linear_density.json',
  summary: 'sources.json',
  hmf: 'hmf.png',
  report: 'report.md',
  log: 'sample-halos.log',
} as const;

export interface SampleHalosOptions {
  out: string;
  /** Box side [Mpc/h]. */
  boxSize: number;
  /** Sampler cells per side (the code's HII_DIM); also the grid of `lodi reionize`. */
  grid: number;
  /** Lowest redshift (number-limited sampling of the cells). */
  zLowest: number;
  /** Highest redshift of the merger history. */
  zMax: number;
  /** Smallest halo mass [Msun] (converted to Msun/h with the cosmology's h). */
  minMassMsun: number;
  seed: number;
  /** Fine grid of the initial conditions per sampler cell and side (default 3, the code's DIM/HII_DIM). */
  hiresFactor?: number;
  cosmo?: Cosmology;
  /** Sampler parameters other than minMass (defaults: the public code's; src/astro/sampler/params.ts). */
  sampler?: Partial<Omit<SamplerParams, 'minMass'>>;
  force?: boolean;
  quiet?: boolean;
  /** Skip hmf.png (the report is still written). */
  noPlots?: boolean;
  /** Command line recorded in sources.json. */
  command?: string;
  /** Called after each stage ('sampled', 'halos', 'linear', 'summary', 'plots', 'report'); throwing aborts the run. */
  onStage?: (stage: string) => void;
}

/** What sources.json holds. */
export interface SourcesSummary {
  format: typeof SOURCES_FORMAT;
  version: number;
  generator: 'lodi sample-halos';
  code: string;
  command?: string;
  seed: number;
  boxSize: number;
  grid: number;
  fineGrid: number;
  hiresFactor: number;
  lptOrder: 2;
  zLowest: number;
  zMax: number;
  minMassMsun: number;
  minMass: number;
  cellMass: number;
  dexmCount: number;
  cosmology: Cosmology;
  sampler: SamplerParams;
  dexm: SampledHaloField['dexm'];
  redshifts: number[];
  counts: number[];
  /** Fraction of the box's mass in halos above minMass per redshift. */
  collapsedFraction: number[];
  timings: { wall: Record<string, number>; cpu: Record<string, number> };
  peakRssMiB: number;
  units: Record<string, string>;
}

export interface SampleHalosResult {
  summary: SourcesSummary;
  history: MergerHistory;
}

const SAMPLER_KEYS = Object.keys(defaultSamplerParams(1)).filter((k) => k !== 'minMass');

/** Reads a JSON object of sampler parameters (names as in src/astro/sampler/params.ts, minMass excluded). */
export function loadSamplerParams(path: string): Partial<SamplerParams> {
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read sampler parameters (${(err as Error).message.split('\n')[0]}), expected a JSON object`);
  }
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new Error(`${path}: expected a JSON object of sampler parameters, got ${JSON.stringify(j)?.slice(0, 60)}`);
  for (const k of Object.keys(j)) {
    if (k === 'minMass') throw new Error(`${path}: field "minMass": give the minimum mass with --min-mass (Msun), not in the sampler file`);
    if (!SAMPLER_KEYS.includes(k)) throw new Error(`${path}: unknown field "${k}" (allowed: ${SAMPLER_KEYS.join(', ')})`);
  }
  return j as Partial<SamplerParams>;
}

function checkOptions(o: SampleHalosOptions, cosmo: Cosmology): { redshifts: number[]; params: SamplerParams; hires: number } {
  const need = (ok: boolean, flag: string, v: unknown, want: string): void => {
    if (!ok) throw new Error(`${flag} ${String(v)}: expected ${want}`);
  };
  need(Number.isFinite(o.boxSize) && o.boxSize > 0, '--box', o.boxSize, 'a positive box side in Mpc/h');
  need(Number.isInteger(o.grid) && o.grid >= 4, '--grid', o.grid, 'an integer >= 4 cells per side');
  const hires = o.hiresFactor ?? 3;
  need(Number.isInteger(hires) && hires >= 1 && hires <= 8, '--hires', hires, 'an integer in [1, 8]');
  need(Number.isFinite(o.zLowest) && o.zLowest >= 0, '--z', o.zLowest, 'a redshift >= 0');
  need(Number.isFinite(o.zMax) && o.zMax >= o.zLowest, '--zmax', o.zMax, `a redshift >= --z (${o.zLowest})`);
  need(Number.isFinite(o.minMassMsun) && o.minMassMsun > 0, '--min-mass', o.minMassMsun, 'a positive mass in Msun');
  need(Number.isInteger(o.seed) && o.seed >= 0, '--seed', o.seed, 'a non-negative integer');
  const params = resolveSamplerParams(cosmo.h, { ...o.sampler, minMass: o.minMassMsun * cosmo.h });
  const cellMass = (cosmo.Omega_m * RHO_CRIT0_H2 * o.boxSize ** 3) / o.grid ** 3;
  need(params.minMass < cellMass, '--min-mass', o.minMassMsun, `a mass below the sampler cell mass ${(cellMass / cosmo.h).toExponential(3)} Msun (use a finer --grid or a lower --min-mass)`);
  return { redshifts: samplerRedshifts(o.zLowest, o.zMax, params.zStepFactor), params, hires };
}

/** Samples the halo field and writes the sources directory; see the module comment. */
export async function sampleHalos(o: SampleHalosOptions): Promise<SampleHalosResult> {
  const cosmo = o.cosmo ?? CAMELS_CV;
  const { redshifts, hires } = checkOptions(o, cosmo);
  const out = o.out;
  const force = o.force === true;
  for (const f of Object.values(SOURCES_FILES)) if (f !== SOURCES_FILES.log) assertWritable(join(out, f), force);
  return withOutputGuard([out], async () => {
    mkdirSync(out, { recursive: true });
    const logFile = join(out, SOURCES_FILES.log);
    const nz = redshifts.length;
    // ICs, finder, cells, one step per progenitor redshift, files, figure
    const total = nz + 4;
    const prog = new Progress('sample-halos', total, { logFile, quiet: o.quiet });
    prog.log(
      `lodi sample-halos: box ${o.boxSize} Mpc/h, ${o.grid}^3 cells (fine grid ${o.grid * hires}^3), z ${o.zLowest} to ${o.zMax} (${nz} redshifts), ` +
        `M_min ${o.minMassMsun.toExponential(2)} Msun, seed ${o.seed}`,
    );
    const { wall, cpu, stage } = stageTimer(o.onStage);
    const power = new LinearPower(cosmo);
    const sig = new SigmaM(power);
    const fine = o.grid * hires;
    // The linear field is made here (the engine generator seeded with `seed`, as the sampler would) so that the
    // very field the halos come from is stored for `lodi reionize`.
    const linear = await stage('linear', () => gaussianField({ boxSize: o.boxSize, n: fine, seed: o.seed, power }));
    const field = await stage('sampled', () =>
      sampleHaloField({
        cosmology: cosmo,
        boxSize: o.boxSize,
        grid: o.grid,
        zLowest: o.zLowest,
        zMax: o.zMax,
        minMass: o.minMassMsun * cosmo.h,
        seed: o.seed,
        linearDensity: linear,
        power,
        sigma: sig,
        sampler: o.sampler,
        onProgress: (p) => {
          const done = p.stage === 'initial conditions' ? 0 : p.stage === 'halo finder' ? 1 : p.stage === 'cells' ? 2 : p.stage === 'progenitors' ? 2 + p.done : undefined;
          if (done !== undefined && (p.stage !== 'cells' || p.done === p.total)) prog.update(done, `${p.stage} z=${p.z.toFixed(2)}`);
        },
      }),
    );
    for (const k of ['initialConditions', 'finder', 'tables', 'cells', 'progenitors', 'positions'] as const) {
      wall[`sampler.${k}`] = field.timings[k];
      cpu[`sampler.${k}`] = field.cpuTimings[k];
    }
    const counts = field.catalogues.map((c) => c.count);
    prog.update(nz + 1, `sampled ${counts.reduce((a, b) => a + b, 0)} halos over ${nz} redshifts`);
    const rhoM = sig.rhoM;
    const summary: SourcesSummary = {
      format: SOURCES_FORMAT,
      version: SOURCES_VERSION,
      generator: 'lodi sample-halos',
      code: `lodi ${CODE_VERSION}`,
      command: o.command,
      seed: o.seed,
      boxSize: o.boxSize,
      grid: o.grid,
      fineGrid: field.fineGrid,
      hiresFactor: hires,
      lptOrder: 2,
      zLowest: o.zLowest,
      zMax: o.zMax,
      minMassMsun: o.minMassMsun,
      minMass: field.params.minMass,
      cellMass: field.cellMass,
      dexmCount: field.dexmCount,
      cosmology: cosmo,
      sampler: field.params,
      dexm: field.dexm,
      redshifts: field.redshifts,
      counts,
      collapsedFraction: field.catalogues.map((c) => totalMass(c) / (rhoM * o.boxSize ** 3)),
      timings: { wall, cpu },
      peakRssMiB: 0,
      units: { boxSize: 'Mpc/h', minMass: 'Msun/h', minMassMsun: 'Msun', cellMass: 'Msun/h', positions: 'Mpc/h comoving', masses: 'Msun/h' },
    };
    // what made the halos, in every file: the cosmology and the full resolved sampler and finder parameters
    const provenance = samplerProvenance(summary);
    // the catalogues without their Lagrangian positions (a third of the file, unused downstream)
    const history: MergerHistory = {
      redshifts: field.redshifts,
      catalogues: field.catalogues.map((c): HaloCatalogue => ({ z: c.z, boxSize: c.boxSize, count: c.count, mass: c.mass, pos: c.pos, descendant: c.descendant })),
    };
    await stage('halos', () => writeMergerHistory(join(out, SOURCES_FILES.halos), history, { force, provenance }));
    await stage('linear-file', () =>
      saveGrid(
        join(out, SOURCES_FILES.linear),
        { data: linear, shape: [fine, fine, fine], meta: { boxSize: o.boxSize, redshift: 0, quantity: 'linear_overdensity', unit: '1', provenance } },
        { force },
      ),
    );
    prog.update(nz + 2, 'halos.h5 and linear_density.npy written');
    const sections: ReportSection[] = [];
    if (!o.noPlots) {
      await stage('plots', async () => {
        const edges = Array.from({ length: 25 }, (_, b) => field.params.minMass * Math.pow(10, 0.25 * b));
        const picks = nearestCatalogues(field.catalogues, [o.zLowest, 8, 10, 12, 15, 20]);
        const rows = picks.map((c) => hmfRow(c, sig, edges));
        await hmfFigure(rows, { title: `Sampled halo mass function, ${o.boxSize} Mpc/h, M_min = ${o.minMassMsun.toExponential(1)} Msun, vs 21cmFAST Sheth–Tormen`, dlog10: 0.25 }, join(out, SOURCES_FILES.hmf));
        sections.push({
          title: 'Halo mass function',
          text:
            'Sampled dn/dlog10 M (0.25 dex bins, Poisson error bars) against the Sheth–Tormen function with the 21cmFAST ' +
            'parameters (A = 0.353, a = 0.73, p = 0.175; the reference of Davies et al. 2025, Fig. 4); the lower panel is the ' +
            'ratio with the Poisson error of the expectation. Bins with fewer than one expected halo are not drawn.',
          images: [{ path: join(out, SOURCES_FILES.hmf), caption: 'sampled HMF vs Sheth–Tormen' }],
          tables: [hmfDecadeTable(rows)],
        });
      });
    }
    prog.update(nz + 3, 'figure drawn');
    summary.peakRssMiB = Math.round(process.resourceUsage().maxRSS / 1024);
    writeFileAtomic(join(out, SOURCES_FILES.summary), JSON.stringify(summary, null, 2) + '\n', { force });
    o.onStage?.('summary');
    writeReport(sourcesReport(summary, sections), { markdown: join(out, SOURCES_FILES.report), force });
    o.onStage?.('report');
    prog.update(total, `done (peak RSS ${summary.peakRssMiB} MiB)`);
    return { summary, history };
  });
}

/**
 * Provenance of the files of a sources directory (the `provenance` attribute of halos.h5, the sidecar of
 * linear_density.npy): generator, command, version and seed, with the cosmology, the box, the redshift range, the
 * minimum mass (Msun and Msun/h) and the full resolved sampler and finder parameters, so that each file says how it
 * was made. `cosmology` reads back with makeCosmology, `sampler` with resolveSamplerParams(h, sampler).
 */
export function samplerProvenance(s: SourcesSummary): Record<string, unknown> {
  return {
    generator: s.generator,
    command: s.command,
    version: CODE_VERSION,
    seed: s.seed,
    cosmology: s.cosmology,
    boxSize: s.boxSize,
    grid: s.grid,
    fineGrid: s.fineGrid,
    hiresFactor: s.hiresFactor,
    lptOrder: s.lptOrder,
    zLowest: s.zLowest,
    zMax: s.zMax,
    minMassMsun: s.minMassMsun,
    minMass: s.minMass,
    sampler: s.sampler,
    dexm: s.dexm,
    units: { boxSize: 'Mpc/h', minMass: 'Msun/h', minMassMsun: 'Msun', 'sampler.minMass': 'Msun/h' },
  };
}

/** Sampled / expected halos per decade above M_min at each redshift of the figure. */
function hmfDecadeTable(rows: ReturnType<typeof hmfRow>[]): { headers: string[]; rows: (string | number)[][]; caption: string } {
  const out: (string | number)[][] = rows.map((r) => {
    const cells: (string | number)[] = [r.z.toFixed(2)];
    for (let d = 0; d < 3; d++) {
      let obs = 0;
      let exp = 0;
      for (let b = 4 * d; b < 4 * d + 4; b++) {
        obs += r.observed[b]!;
        exp += r.expected[b]!;
      }
      cells.push(exp >= 3 ? `${(obs / exp).toFixed(3)} ± ${(1 / Math.sqrt(exp)).toFixed(3)} (${obs})` : '–');
    }
    return cells;
  });
  return {
    headers: ['z', 'M_min – 10 M_min', '10 – 100 M_min', '100 – 1000 M_min'],
    rows: out,
    caption: 'sampled / Sheth–Tormen per decade of mass; ± is the Poisson error of the expectation, (n) the sampled halos; – where fewer than 3 are expected',
  };
}

function sourcesReport(s: SourcesSummary, sections: ReportSection[]) {
  const step = Math.max(1, Math.ceil(s.redshifts.length / 20));
  const zRows = s.redshifts
    .map((z, i) => [z.toFixed(3), s.counts[i]!, s.collapsedFraction[i]!.toExponential(3)] as (string | number)[])
    .filter((_, i) => i % step === 0 || i === s.redshifts.length - 1);
  const timingRows = Object.keys(s.timings.wall).map((k) => [k, +s.timings.wall[k]!.toFixed(2), +s.timings.cpu[k]!.toFixed(2)] as (string | number)[]);
  return {
    title: `Halo field and merger history (seed ${s.seed})`,
    meta: {
      command: s.command ?? '',
      code: s.code,
      box: `${s.boxSize} Mpc/h`,
      cells: `${s.grid}^3 (fine grid ${s.fineGrid}^3)`,
      redshifts: `${s.redshifts.length}, z = ${s.redshifts[0]!.toFixed(3)} to ${s.redshifts[s.redshifts.length - 1]!.toFixed(3)} (steps 1 + z → ${s.sampler.zStepFactor} (1 + z))`,
      'minimum mass': `${s.minMassMsun.toExponential(3)} Msun = ${s.minMass.toExponential(3)} Msun/h`,
      'cell mass': `${s.cellMass.toExponential(3)} Msun/h`,
      'halos at the lowest z': `${s.counts[0]} (${s.dexmCount} from the Lagrangian finder above the cell mass)`,
      'halos, all redshifts': s.counts.reduce((a, b) => a + b, 0),
      seed: s.seed,
      'peak RSS': `${s.peakRssMiB} MiB`,
    },
    sections: [
      ...sections,
      {
        title: 'Halos per redshift',
        tables: [{ headers: ['z', 'halos', 'f_coll (M > M_min)'], rows: zRows, caption: step > 1 ? `one redshift in ${step}; all are in sources.json` : undefined }],
      },
      {
        title: 'Timings',
        tables: [{ headers: ['stage', 'wall [s]', 'CPU [s]'], rows: timingRows, caption: 'sampler.* are the sampler\'s own stages, inside "sampled"' }],
      },
    ],
  };
}

/** A sources directory read back: summary, merger history and the linear field. */
export interface SourcesDir {
  dir: string;
  summary: SourcesSummary;
  cosmology: Cosmology;
  history: MergerHistory;
  /** z = 0 linear overdensity on the fine grid [fineGrid^3]. */
  linear: Float32Array;
}

/**
 * Opens and checks a sources directory written by {@link sampleHalos}.
 * @throws Error naming the file and the field for a missing or inconsistent file
 */
export async function readSourcesDir(dir: string): Promise<SourcesDir> {
  const sPath = join(dir, SOURCES_FILES.summary);
  if (!existsSync(dir)) throw new Error(`${dir}: no such folder, expected the output of lodi sample-halos`);
  if (!existsSync(sPath)) throw new Error(`${sPath}: missing, expected the summary written by lodi sample-halos`);
  let s: SourcesSummary;
  try {
    s = JSON.parse(readFileSync(sPath, 'utf8')) as SourcesSummary;
  } catch (err) {
    throw new Error(`${sPath}: invalid JSON (${(err as Error).message.split('\n')[0]}), expected the summary written by lodi sample-halos`);
  }
  const bad = (field: string, v: unknown, want: string): never => {
    throw new Error(`${sPath}: ${field} = ${JSON.stringify(v)}, expected ${want}`);
  };
  if (s?.format !== SOURCES_FORMAT) bad('format', s?.format, `"${SOURCES_FORMAT}"`);
  if (s.version !== SOURCES_VERSION) bad('version', s.version, String(SOURCES_VERSION));
  if (!(typeof s.boxSize === 'number' && s.boxSize > 0)) bad('boxSize', s.boxSize, 'a positive box side in Mpc/h');
  if (!(Number.isInteger(s.grid) && s.grid >= 1)) bad('grid', s.grid, 'a positive integer');
  if (!(Number.isInteger(s.fineGrid) && s.fineGrid % s.grid === 0)) bad('fineGrid', s.fineGrid, `a multiple of grid = ${s.grid}`);
  if (!Number.isInteger(s.seed)) bad('seed', s.seed, 'an integer');
  const cosmology = makeCosmology(s.cosmology as unknown as Record<string, unknown>, `${sPath}: cosmology`);
  const hPath = join(dir, SOURCES_FILES.halos);
  const h = await readMergerHistory(hPath);
  const history: MergerHistory = { redshifts: h.redshifts, catalogues: h.catalogues };
  try {
    validateMergerHistory(history);
  } catch (err) {
    throw new Error(`${hPath}: ${(err as Error).message}`);
  }
  if (history.catalogues[0]!.boxSize !== s.boxSize) throw new Error(`${hPath}: boxSize ${history.catalogues[0]!.boxSize} Mpc/h differs from ${s.boxSize} in ${SOURCES_FILES.summary}`);
  if (!Array.isArray(s.redshifts) || s.redshifts.length !== history.redshifts.length || s.redshifts.some((z, i) => z !== history.redshifts[i])) {
    throw new Error(`${hPath}: redshifts differ from those of ${SOURCES_FILES.summary}, expected the halos of the same run`);
  }
  const lPath = join(dir, SOURCES_FILES.linear);
  const g = loadGrid(lPath, { boxSize: s.boxSize, expectN: s.fineGrid });
  if (g.shape.length !== 3 || g.shape[0] !== s.fineGrid) throw new Error(`${lPath}: shape [${g.shape.join(', ')}], expected [${s.fineGrid}, ${s.fineGrid}, ${s.fineGrid}] (fineGrid of ${SOURCES_FILES.summary})`);
  return { dir, summary: s, cosmology, history, linear: g.data };
}
