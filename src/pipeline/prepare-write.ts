/**
 * Output side of `lodi prepare`: the world directory (grids, sidecars, world.json with provenance),
 * the PNG slices and P(k) plot, and report.md. Lists only what was made; what was skipped, and any
 * guessed length unit, are stated in the report and the provenance.
 */
import { join } from 'node:path';
import { writeWorld, memberLabel, MASS_DENSITY_UNIT, WORLD_MEMBERS, type WorldGrids } from '../io/index.js';
import { linePlot, sliceImage, writeReport, type ReportImage } from '../report/index.js';
import { powerSpectrum } from '../field/power.js';
import { overdensity, sum } from '../field/ops.js';
import type { PreparedGrids } from '../field/prepare.js';
import type { PrepareInputs, PrepareOptions } from './prepare.js';

const VERSION = '0.1.0';

/** Writes the world, the plots (unless disabled) and report.md of a prepare run. */
export async function writePrepared(
  o: PrepareOptions,
  inp: PrepareInputs,
  grids: PreparedGrids,
  cosmology: { Omega_m: number; h: number; Omega_b?: number },
): Promise<void> {
  const force = o.force === true;
  const n = o.grid;
  const m = grids.meta;
  const info = inp.snap.info;
  const haloSource = o.halos === 'subhalos' ? 'subhalos' : 'groups';
  const haloCount = inp.cat ? (o.halos === 'subhalos' ? inp.cat.subhalos!.count : inp.cat.groups.count) : undefined;
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
      version: VERSION,
      inputs: [o.snapshot, ...(o.groups ? [o.groups] : [])],
      snapshotFormat: info.format,
      lengthUnit: {
        snapshot: { factorToMpcH: info.lengthUnit.factor, source: info.lengthUnit.source, note: info.lengthUnit.note },
        ...(inp.cat
          ? {
              catalogue: {
                factorToMpcH: inp.cat.lengthUnit.factor,
                source: inp.cat.lengthUnit.source,
                note: inp.cat.lengthUnit.note,
              },
            }
          : {}),
      },
      ...(inp.cat
        ? {
            catalogue: {
              [haloSource]: haloCount,
              ngroupsTotal: inp.cat.ngroupsTotal,
              nsubhalosTotal: inp.cat.nsubhalosTotal,
            },
          }
        : {}),
      ...(inp.skipped.length ? { skipped: inp.skipped } : {}),
      smoothingR: m.smoothingR,
      mas: m.mas,
    },
    dm: grids.dm,
    halos: grids.halos,
    hi: grids.hi,
    tb: grids.tb,
  };
  const written = writeWorld(o.out, world, {
    force,
    summary: { painted: { totals: m.totals, counts: m.counts } },
  }).filter((p) => p.endsWith('.npy'));
  const nc = m.massBinsMsunH.length - 1;

  const images: ReportImage[] = [];
  if (o.plots) {
    const shape: [number, number, number] = [n, n, n];
    const slice = (name: string, data: Float32Array | undefined, label: string, title: string): void => {
      if (!data) return;
      const path = join(o.out, `${name}.png`);
      sliceImage(
        data,
        shape,
        {
          axis: 2,
          index: 'project',
          log: true,
          boxSize: m.boxSize,
          colorbarLabel: label,
          title,
          colormap: name === 'tb' ? 'magma' : 'viridis',
        },
        path,
      );
      images.push({ path, caption: `${title}, projected along z` });
    };
    slice('dm', grids.dm, memberLabel('dm'), 'dark-matter density');
    if (grids.halos && (haloCount ?? 0) > 0) {
      const total = new Float32Array(n * n * n);
      for (let c = 0; c < nc; c++)
        for (let i = 0; i < total.length; i++) total[i]! += grids.halos[c * total.length + i]!;
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
      await linePlot(
        {
          series,
          xLabel: 'k [h/Mpc]',
          yLabel: 'P(k) [(Mpc/h)^3]',
          logX: true,
          logY: true,
          title: `power spectra (smoothing R = ${m.smoothingR} Mpc/h)`,
        },
        path,
      );
      images.push({ path, caption: 'P(k), CIC-deconvolved, Pylians binning' });
    }
  }
  const cv = m.cellVolume;
  const rows: (string | number)[][] = [
    ['dark matter', String(m.counts.dm), m.totals.dm, grids.dm ? sum(grids.dm) * cv : 0],
  ];
  if (grids.halos) {
    m.channels.forEach((c, i) =>
      rows.push([
        c,
        String(m.counts.halos[i]!),
        m.totals.halos[i]!,
        sum(grids.halos!.subarray(i * n ** 3, (i + 1) * n ** 3)) * cv,
      ]),
    );
  }
  if (grids.hi)
    rows.push(['HI (M_HI = m x_HI 0.76, x_HI := 1 if SFR > 0)', String(m.counts.gas), m.totals.hi, sum(grids.hi) * cv]);
  const captions: string[] = [];
  if (grids.halos) captions.push(`${m.counts.halosBelowFirstEdge} halos below the first mass edge were dropped.`);
  if (grids.hi) captions.push(`${m.counts.starForming} star-forming gas particles.`);
  const catalogueLine = inp.cat
    ? `Catalogue: ${inp.cat.groups.count} groups${inp.cat.subhalos ? `, ${inp.cat.subhalos.count} subhalos` : ''} (halo channels from ${haloSource}; Ngroups_Total = ${inp.cat.ngroupsTotal}).`
    : 'Catalogue: none given (--groups), so no halo channels.';
  const unitLines = [
    `Snapshot length unit: ${info.lengthUnit.note}.`,
    ...(inp.cat ? [`Catalogue length unit: ${inp.cat.lengthUnit.note}.`] : []),
  ];
  writeReport(
    {
      title: 'lodi prepare',
      meta: {
        snapshot: o.snapshot,
        format: info.format,
        groups: o.groups ?? '-',
        grid: n,
        'box [Mpc/h]': m.boxSize,
        redshift: m.redshift,
        'smoothing R [Mpc/h]': m.smoothingR,
      },
      sections: [
        {
          title: 'Grids',
          text: [
            `Files: ${written.map((p) => p.split('/').pop()).join(', ')} (float32, C order, JSON sidecars). Densities in ${MASS_DENSITY_UNIT}${grids.tb ? `, T_b in ${WORLD_MEMBERS.tb.unit} = ${m.tbFactor.toExponential(4)} × ρ_HI` : ''}.`,
            catalogueLine,
            ...unitLines,
          ].join('\n\n'),
          tables: [
            {
              headers: ['quantity', 'particles / halos', 'painted total [Msun/h]', 'grid total [Msun/h]'],
              rows,
              ...(captions.length ? { caption: captions.join(' ') } : {}),
            },
          ],
          images,
        },
        ...(inp.skipped.length ? [{ title: 'Skipped', text: inp.skipped.map((s) => `- ${s}`).join('\n') }] : []),
      ],
    },
    { markdown: join(o.out, 'report.md'), force },
  );
}
