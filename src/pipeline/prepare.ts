/**
 * `lodi prepare`: a snapshot (+ group catalogue) → a world directory (io/world.ts) with the LODI grids,
 * slices, a P(k) plot and report.md.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  iterateGadgetHdf5,
  readFofCatalogue,
  readGadgetHdf5Header,
  sidecarPath,
  writeWorld,
  memberLabel,
  WORLD_JSON,
  WORLD_MEMBERS,
  WORLD_MEMBER_NAMES,
  MASS_DENSITY_UNIT,
  type MassBins,
  type MassDefinition,
  type ParticleChunk,
  type WorldGrids,
} from '../io/index.js';
import { linePlot, sliceImage, writeReport, type ReportImage } from '../report/index.js';
import { assertWritable } from '../util/atomic.js';
import { Progress } from '../util/progress.js';
import { prepareGrids, PAPER_MASS_BINS_MSUN, type DmParticles, type GasParticles, type PreparedGrids } from '../field/prepare.js';
import { powerSpectrum } from '../field/power.js';
import { overdensity, sum } from '../field/ops.js';

export interface PrepareOptions {
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
  /** Command line recorded in the provenance. */
  command?: string;
}

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
export async function runPrepare(o: PrepareOptions): Promise<{ dir: string; grids: PreparedGrids }> {
  const force = o.force === true;
  if (!Number.isInteger(o.grid) || o.grid < 2) throw new Error(`--grid must be an integer >= 2, got ${o.grid}`);
  if (o.groups && !existsSync(o.groups)) throw new Error(`${o.groups}: --groups catalogue not found`);
  for (const m of WORLD_MEMBER_NAMES) {
    assertWritable(join(o.out, WORLD_MEMBERS[m].file), force);
    assertWritable(sidecarPath(join(o.out, WORLD_MEMBERS[m].file)), force);
  }
  assertWritable(join(o.out, WORLD_JSON), force);
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
  const cosmology = { Omega_m: header.cosmology.omegaM, h: header.cosmology.h, Omega_b: header.cosmology.omegaB };
  const world: WorldGrids = {
    grid: n,
    boxSize: m.boxSize,
    redshift: m.redshift,
    cosmology,
    massBins: grids.halos ? m.massBins : undefined,
    channels: grids.halos ? m.channels : undefined,
    smoothingR: m.smoothingR,
    mas: m.mas,
    tbFactor: grids.tb ? m.tbFactor : undefined,
    provenance: {
      generator: 'lodi prepare',
      command: o.command,
      version: '0.1.0',
      inputs: [o.snapshot, ...(o.groups ? [o.groups] : [])],
      smoothingR: m.smoothingR,
      mas: m.mas,
    },
    dm: grids.dm,
    halos: grids.halos,
    hi: grids.hi,
    tb: grids.tb,
  };
  const written = writeWorld(o.out, world, { force, summary: { painted: { totals: m.totals, counts: m.counts } } }).filter((p) => p.endsWith('.npy'));
  const nc = m.massBinsMsunH.length - 1;

  const images: ReportImage[] = [];
  if (o.plots) {
    const shape: [number, number, number] = [n, n, n];
    const slice = (name: string, data: Float32Array | undefined, label: string, title: string): void => {
      if (!data) return;
      const path = join(o.out, `${name}.png`);
      sliceImage(data, shape, { axis: 2, index: 'project', log: true, boxSize: m.boxSize, colorbarLabel: label, title, colormap: name === 'tb' ? 'magma' : 'viridis' }, path);
      images.push({ path, caption: `${title}, projected along z` });
    };
    slice('dm', grids.dm, memberLabel('dm'), 'dark-matter density');
    if (grids.halos) {
      const total = new Float32Array(n * n * n);
      for (let c = 0; c < nc; c++) for (let i = 0; i < total.length; i++) total[i]! += grids.halos[c * total.length + i]!;
      slice('halos', total, memberLabel('halos'), 'halo mass density (all bins)');
    }
    slice('tb', grids.tb, memberLabel('tb'), '21 cm brightness temperature');
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
          text: `Files: ${written.map((p) => p.split('/').pop()).join(', ')} (float32, C order, JSON sidecars). Densities in ${MASS_DENSITY_UNIT}, T_b in ${WORLD_MEMBERS.tb.unit} = ${m.tbFactor.toExponential(4)} × ρ_HI.`,
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
