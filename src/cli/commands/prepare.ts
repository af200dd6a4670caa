import { InvalidArgumentError, type Command } from 'commander';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  iterateGadgetHdf5,
  readFofCatalogue,
  readGadgetHdf5Header,
  saveGrid,
  sidecarPath,
  MASS_DEFINITIONS,
  type MassDefinition,
  type ParticleChunk,
} from '../../io/index.js';
import { linePlot, sliceImage, writeReport, type ReportImage } from '../../report/index.js';
import { assertWritable } from '../../util/atomic.js';
import { Progress } from '../../util/progress.js';
import { prepareGrids, PAPER_MASS_BINS_MSUN, type DmParticles, type GasParticles, type MassBins, type PreparedGrids } from '../../field/prepare.js';
import { powerSpectrum } from '../../field/power.js';
import { overdensity, sum } from '../../field/ops.js';

export interface PrepareCommandOptions {
  snapshot: string;
  groups?: string;
  grid: number;
  out: string;
  smoothing: number;
  massBins?: number[];
  massUnit: 'Msun' | 'Msun/h';
  massDefinition: MassDefinition;
  halos: 'groups' | 'subhalos';
  chunk: number;
  plots: boolean;
  force?: boolean;
}

const OUTPUTS = ['dm', 'halos', 'hi', 'tb'] as const;

async function* dmChunks(path: string, chunk: number, bar: Progress, total: number): AsyncGenerator<DmParticles> {
  let done = 0;
  for await (const c of iterateGadgetHdf5(path, { partType: 1, fields: ['positions', 'masses'], chunkSize: chunk })) {
    done += c.count;
    bar.update(Math.min(done, total), 'DM');
    yield { positions: c.positions!, masses: c.masses! };
  }
}

async function* gasChunks(path: string, chunk: number): AsyncGenerator<GasParticles> {
  for await (const c of iterateGadgetHdf5(path, { partType: 0, fields: ['positions', 'masses', 'neutralHydrogen', 'sfr'], chunkSize: chunk }) as AsyncGenerator<ParticleChunk>) {
    yield { positions: c.positions!, masses: c.masses!, xHI: c.neutralHydrogen!, sfr: c.sfr! };
  }
}

/** Reads a snapshot (+ group catalogue), builds the LODI grids and writes them with sidecars, plots and report.md. */
export async function runPrepare(o: PrepareCommandOptions): Promise<{ dir: string; grids: PreparedGrids }> {
  const force = o.force === true;
  if (!Number.isInteger(o.grid) || o.grid < 2) throw new Error(`--grid must be an integer >= 2, got ${o.grid}`);
  if (o.groups && !existsSync(o.groups)) throw new Error(`${o.groups}: --groups catalogue not found`);
  for (const name of OUTPUTS) {
    assertWritable(join(o.out, `${name}.npy`), force);
    assertWritable(sidecarPath(join(o.out, `${name}.npy`)), force);
  }
  assertWritable(join(o.out, 'report.md'), force);
  // Read the header first so a wrong --snapshot leaves no empty output folder behind.
  const header = await readGadgetHdf5Header(o.snapshot);
  mkdirSync(o.out, { recursive: true });
  const nDm = header.numPartTotal[1] ?? 0;
  const nGas = header.numPartTotal[0] ?? 0;
  if (nDm === 0) throw new Error(`${o.snapshot}: no dark-matter particles (PartType1) in the snapshot`);
  let halos: { positions: Float32Array; masses: Float64Array } | undefined;
  if (o.groups) {
    const cat = await readFofCatalogue(o.groups, { massDefinition: o.massDefinition, subhalos: o.halos === 'subhalos' });
    if (Math.abs(cat.boxSize - header.boxSize) > 1e-6 * header.boxSize) {
      throw new Error(`box mismatch: snapshot ${header.boxSize} Mpc/h, catalogue ${cat.boxSize} Mpc/h`);
    }
    halos = o.halos === 'subhalos' ? { positions: cat.subhalos!.positions, masses: cat.subhalos!.masses } : { positions: cat.groups.positions, masses: cat.groups.masses };
  }
  const bins: MassBins = { edges: o.massBins ?? [...PAPER_MASS_BINS_MSUN], unit: o.massUnit };
  const bar = new Progress('prepare: painting', nDm, { logFile: join(o.out, 'prepare.log') });
  const grids = await prepareGrids({
    boxSize: header.boxSize,
    redshift: header.redshift,
    grid: o.grid,
    cosmology: { Omega_m: header.cosmology.omegaM, h: header.cosmology.h, Omega_b: header.cosmology.omegaB },
    dm: dmChunks(o.snapshot, o.chunk, bar, nDm),
    halos,
    gas: nGas > 0 ? gasChunks(o.snapshot, o.chunk) : undefined,
    massBins: bins,
    smoothingR: o.smoothing,
  });
  bar.update(nDm, 'done');
  const n = o.grid;
  const m = grids.meta;
  const provenance = {
    command: `lodi prepare ${process.argv.slice(3).join(' ')}`.trim(),
    version: '0.1.0',
    inputs: [o.snapshot, ...(o.groups ? [o.groups] : [])],
    smoothingR: m.smoothingR,
    mas: m.mas,
  };
  const base = { boxSize: m.boxSize, redshift: m.redshift, provenance };
  const written: string[] = [];
  const save = (name: string, data: Float32Array | undefined, shape: number[], quantity: string, unit: string, extra: Record<string, unknown> = {}): void => {
    if (!data) return;
    const path = join(o.out, `${name}.npy`);
    saveGrid(path, { data, shape, meta: { ...base, quantity, unit, ...extra } }, { force });
    written.push(path);
  };
  save('dm', grids.dm, [n, n, n], 'dm_density', '(Msun/h)/(Mpc/h)^3');
  const nc = m.massBinsMsunH.length - 1;
  save('halos', grids.halos, [nc, n, n, n], 'halo_mass_density', '(Msun/h)/(Mpc/h)^3', { channels: m.channels, massBinsMsunH: m.massBinsMsunH.map((v) => (Number.isFinite(v) ? v : null)) });
  save('hi', grids.hi, [n, n, n], 'hi_density', '(Msun/h)/(Mpc/h)^3');
  save('tb', grids.tb, [n, n, n], 'T_b', 'mK', { tbFactor: m.tbFactor });

  const images: ReportImage[] = [];
  if (o.plots) {
    const shape: [number, number, number] = [n, n, n];
    const slice = (name: string, data: Float32Array | undefined, label: string, title: string): void => {
      if (!data) return;
      const path = join(o.out, `${name}.png`);
      sliceImage(data, shape, { axis: 2, index: 'project', log: true, boxSize: m.boxSize, colorbarLabel: label, title, colormap: name === 'tb' ? 'magma' : 'viridis' }, path);
      images.push({ path, caption: `${title}, projected along z` });
    };
    slice('dm', grids.dm, 'ρ_DM [(Msun/h)/(Mpc/h)^3]', 'dark-matter density');
    if (grids.halos) {
      const total = new Float32Array(n * n * n);
      for (let c = 0; c < nc; c++) for (let i = 0; i < total.length; i++) total[i]! += grids.halos[c * total.length + i]!;
      slice('halos', total, 'ρ_h [(Msun/h)/(Mpc/h)^3]', 'halo mass density (all bins)');
    }
    slice('tb', grids.tb, 'T_b [mK]', '21 cm brightness temperature');
    const series = [];
    const pdm = grids.dm ? powerSpectrum(overdensity(grids.dm), n, { boxSize: m.boxSize, mas: 'CIC' }) : undefined;
    if (pdm) series.push({ name: 'δ_DM', x: pdm.k, y: pdm.pk });
    if (grids.tb && sum(grids.tb) > 0) {
      const ptb = powerSpectrum(overdensity(grids.tb), n, { boxSize: m.boxSize, mas: 'CIC' });
      series.push({ name: 'T_b/<T_b> − 1', x: ptb.k, y: ptb.pk });
    }
    if (series.length) {
      const path = join(o.out, 'pk.png');
      await linePlot({ series, xLabel: 'k [h/Mpc]', yLabel: 'P(k) [(Mpc/h)^3]', logX: true, logY: true, title: `power spectra (smoothing R = ${m.smoothingR} Mpc/h)` }, path);
      images.push({ path, caption: 'P(k), CIC-deconvolved, Pylians binning' });
    }
  }
  const cv = m.cellVolume;
  writeReport(
    {
      title: 'lodi prepare',
      meta: { snapshot: o.snapshot, groups: o.groups ?? '-', grid: n, 'box [Mpc/h]': m.boxSize, redshift: m.redshift, 'smoothing R [Mpc/h]': m.smoothingR },
      sections: [
        {
          title: 'Grids',
          text: `Files: ${written.map((p) => p.split('/').pop()).join(', ')} (float32, C order, JSON sidecars). Densities in (Msun/h)/(Mpc/h)^3, T_b in mK = ${m.tbFactor.toExponential(4)} × ρ_HI.`,
          tables: [
            {
              headers: ['quantity', 'particles / halos', 'painted total [Msun/h]', 'grid total [Msun/h]'],
              rows: [
                ['dark matter', String(m.counts.dm), m.totals.dm, grids.dm ? sum(grids.dm) * cv : 0],
                ...m.channels.map((c, i) => [c, String(m.counts.halos[i]!), m.totals.halos[i]!, grids.halos ? sum(grids.halos.subarray(i * n ** 3, (i + 1) * n ** 3)) * cv : 0] as (string | number)[]),
                ['HI (M_HI = m x_HI 0.76, x_HI := 1 if SFR > 0)', String(m.counts.gas), m.totals.hi, grids.hi ? sum(grids.hi) * cv : 0],
              ],
              caption: `${m.counts.halosBelowFirstEdge} halos below the first mass edge were dropped; ${m.counts.starForming} star-forming gas particles.`,
            },
          ],
          images,
        },
      ],
    },
    { markdown: join(o.out, 'report.md'), force },
  );
  return { dir: o.out, grids };
}

function parseIntArg(v: string): number {
  const x = Number(v);
  if (!Number.isInteger(x) || x < 1) throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return x;
}

function parseSmoothing(v: string): number {
  const x = Number(v);
  if (!(x >= 0) || !Number.isFinite(x)) throw new InvalidArgumentError(`smoothing radius must be >= 0 Mpc/h, got "${v}"`);
  return x;
}

function parseEdges(v: string): number[] {
  const e = v.split(',').map((s) => (/^(inf|infinity|max)$/i.test(s.trim()) ? Infinity : Number(s)));
  if (e.length < 2 || e.some((x) => Number.isNaN(x) || x <= 0)) throw new InvalidArgumentError(`mass bins must be comma-separated positive edges (last may be inf), got "${v}"`);
  if (e.some((x, i) => i > 0 && !(x > e[i - 1]!))) throw new InvalidArgumentError(`mass-bin edges must increase, got "${v}"`);
  return e;
}

function parseUnit(v: string): 'Msun' | 'Msun/h' {
  if (v === 'Msun' || v === 'Msun/h') return v;
  throw new InvalidArgumentError(`mass unit must be Msun or Msun/h, got "${v}"`);
}

function parseDef(v: string): MassDefinition {
  if (v in MASS_DEFINITIONS) return v as MassDefinition;
  throw new InvalidArgumentError(`unknown mass definition "${v}" (use ${Object.keys(MASS_DEFINITIONS).join(', ')})`);
}

export function register(program: Command): void {
  program
    .command('prepare')
    .description('LODI training grids from a Gadget/AREPO HDF5 snapshot and its group catalogue: dm, halos [4,N,N,N], hi, tb (.npy + sidecars)')
    .requiredOption('--snapshot <file>', 'snapshot (snap_033.hdf5 or the first piece snap_033.0.hdf5)')
    .option('--groups <file>', 'FoF/Subfind catalogue (halos.npy is only written with it)')
    .option('--grid <N>', 'cells per side', parseIntArg, 256)
    .requiredOption('--out <dir>', 'output folder')
    .option('--smoothing <R>', 'Gaussian smoothing radius in Mpc/h (0 disables)', parseSmoothing, 0.2)
    .option('--mass-bins <edges>', `halo mass-bin edges, comma-separated, last may be inf (default ${PAPER_MASS_BINS_MSUN.join(',')})`, parseEdges)
    .option('--mass-unit <unit>', 'unit of the mass-bin edges: Msun (as in the paper) or Msun/h', parseUnit, 'Msun' as const)
    .option('--mass-definition <def>', `halo mass: ${Object.keys(MASS_DEFINITIONS).join(', ')}`, parseDef, 'fof' as MassDefinition)
    .option('--halos <kind>', 'halo positions and masses from FoF groups or Subfind subhalos', (v: string) => {
      if (v !== 'groups' && v !== 'subhalos') throw new InvalidArgumentError(`--halos must be groups or subhalos, got "${v}"`);
      return v;
    }, 'groups')
    .option('--chunk <n>', 'particles read and painted per chunk', parseIntArg, 1 << 20)
    .option('--no-plots', 'skip the PNG slices and the P(k) plot')
    .option('--force', 'overwrite existing outputs')
    .action(async (o: PrepareCommandOptions) => {
      if (!existsSync(o.snapshot) && !existsSync(o.snapshot.replace(/\.hdf5$/, '.0.hdf5'))) throw new Error(`${o.snapshot}: no such snapshot`);
      const res = await runPrepare(o);
      const m = res.grids.meta;
      process.stdout.write(`wrote dm, ${res.grids.halos ? 'halos, ' : ''}${res.grids.hi ? 'hi, tb, ' : ''}report.md to ${res.dir} (N=${m.grid}, L=${m.boxSize} Mpc/h, z=${m.redshift.toFixed(4)}, M_HI=${m.totals.hi.toExponential(4)} Msun/h)\n`);
    });
}
