/**
 * The multi-tracer part of `lodi reionize` (Davies et al. 2025, Sec. 7, Fig. 12–13, Eq. 26–30): lightcones of
 * δ, the cumulative ionising photon density, the soft-band X-ray emissivity, δT_b and the [CII] surface
 * brightness B_CII on one slicing (src/astro/lim), and the 21 cm × CII auto and cross power spectra of the
 * coeval box at the reionisation midpoint.
 *
 * Files: lightcone_BCII.npy (+ .json) [N, N, n_slices] in Jy/sr; lc_density/nion/xray/dTb/BCII.png;
 * lim_midpoint.csv and lim_power.png (Δ²_21, Δ²_CII, Δ²_CII×21 and r(k)).
 */
import { join } from 'node:path';
import type { Cosmology } from '../cosmo/params.js';
import { ciiSurfaceBrightness } from '../astro/lim/cii.js';
import { limPowerSpectra } from '../astro/lim/cross.js';
import { multiTracerLightcones } from '../astro/lim/lightcones.js';
import { writeNpy } from '../io/npy.js';
import { multiPanel } from '../report/plots.js';
import type { ReportSection } from '../report/report.js';
import { writeFileAtomic } from '../util/atomic.js';
import { lightconeFigure } from './sources-figures.js';

/** Names of the files written by {@link limOutputs}. */
export const LIM_FILES = ['lightcone_BCII.npy', 'lightcone_BCII.json', 'lc_density.png', 'lc_nion.png', 'lc_xray.png', 'lc_dTb.png', 'lc_BCII.png', 'lim_midpoint.csv', 'lim_power.png'];

export interface LimInput {
  out: string;
  force: boolean;
  cosmology: Cosmology;
  boxSize: number;
  grid: number;
  axis: 0 | 1 | 2;
  /** Coeval redshifts, ascending, and per redshift: δ, n_ion [(Msun/h)/(Mpc/h)^3], L_X [1e38 erg/s per (Mpc/h)^3], δT_b [mK], L_CII per cell [L_sun]. */
  redshifts: readonly number[];
  density: readonly Float32Array[];
  nIon: readonly Float32Array[];
  xray: readonly Float32Array[];
  dTb: readonly Float32Array[];
  ciiLuminosity: readonly Float32Array[];
  /** Index of the midpoint box (⟨x_HI⟩ nearest 0.5) in `redshifts`. */
  mid: number;
  title: string;
  provenance: Record<string, unknown>;
  sections: ReportSection[];
}

const AXES = ['x', 'y', 'z'] as const;

/** log10 of a non-negative field, with empty cells set one decade below the smallest positive value. */
function log10Field(a: Float32Array): Float32Array {
  let min = Infinity;
  for (const v of a) if (v > 0 && v < min) min = v;
  const floor = Number.isFinite(min) ? Math.log10(min) - 1 : 0;
  return Float32Array.from(a, (v) => (v > 0 ? Math.log10(v) : floor));
}

/** Writes the multi-tracer lightcones, the CII lightcone and the midpoint spectra; adds two report sections. */
export async function limOutputs(o: LimInput): Promise<Record<string, unknown>> {
  const { grid, boxSize, axis } = o;
  const zs = o.redshifts;
  if (zs.length < 2) {
    o.sections.push({ title: 'Multi-tracer lightcones', text: 'Only one redshift: no lightcone.' });
    return {};
  }
  const lc = multiTracerLightcones({
    cosmology: o.cosmology,
    boxSize,
    grid,
    redshifts: zs,
    axis,
    fields: { density: o.density, nIon: o.nIon, xray: o.xray, dTb: o.dTb },
    ciiLuminosity: o.ciiLuminosity,
  });
  const ns = lc.nSlices;
  const b = lc.ciiBrightness!;
  writeNpy(join(o.out, 'lightcone_BCII.npy'), b, [grid, grid, ns], { force: o.force });
  const trans = [0, 1, 2].filter((a) => a !== axis).map((a) => AXES[a]!) as [string, string];
  writeFileAtomic(
    join(o.out, 'lightcone_BCII.json'),
    JSON.stringify({
      format: 'lodi-lightcone',
      version: 1,
      shape: [grid, grid, ns],
      dtype: 'float32',
      order: 'C',
      axes: [...trans, `line of sight (box axis ${AXES[axis]})`],
      quantity: 'B_CII',
      unit: 'Jy/sr',
      boxSize,
      cellSize: boxSize / grid,
      redshifts: Array.from(lc.redshifts),
      distances: Array.from(lc.distances),
      distanceUnit: 'Mpc/h comoving',
      provenance: o.provenance,
    }) + '\n',
    { force: o.force },
  );
  const panels: { key: string; file: string; field: Float32Array; label: string; cmap: 'viridis' | 'magma'; title: string }[] = [
    { key: 'density', file: 'lc_density.png', field: lc.fields.density!, label: 'δ', cmap: 'viridis', title: 'density contrast δ' },
    { key: 'nIon', file: 'lc_nion.png', field: log10Field(lc.fields.nIon!), label: 'log10 n_ion [(Msun/h)/(Mpc/h)^3]', cmap: 'magma', title: 'cumulative ionising photons n_ion (photons × m_p per volume)' },
    { key: 'xray', file: 'lc_xray.png', field: log10Field(lc.fields.xray!), label: 'log10 L_X [1e38 erg/s (Mpc/h)^-3]', cmap: 'magma', title: 'soft-band X-ray emissivity' },
    { key: 'dTb', file: 'lc_dTb.png', field: lc.fields.dTb!, label: 'δT_b [mK]', cmap: 'viridis', title: '21 cm brightness temperature δT_b' },
    { key: 'BCII', file: 'lc_BCII.png', field: log10Field(b), label: 'log10 B_CII [Jy/sr]', cmap: 'magma', title: '[CII] surface brightness B_CII (Eq. 26–27)' },
  ];
  for (const p of panels) {
    lightconeFigure(
      { field: p.field, grid, nSlices: ns, redshifts: lc.redshifts, distances: lc.distances, boxSize, title: `${p.title} (${o.title})`, colorbarLabel: p.label, colormap: p.cmap, transverseNames: trans },
      join(o.out, p.file),
    );
  }
  o.sections.push({
    title: 'Multi-tracer lightcones',
    text:
      `Lightcones on one slicing (the paper's Fig. 12): δ, n_ion, the X-ray emissivity, δT_b and B_CII, from z = ${zs[0]!.toFixed(2)} to ` +
      `${zs[zs.length - 1]!.toFixed(2)}. B_CII uses L_CII = 10^7.06 SFR (Eq. 26) per galaxy, summed per cell and converted slice by slice at ` +
      `the slice's own redshift (Eq. 27; docs/astro-lim.md); lightcone_BCII.npy holds it in Jy/sr. Empty cells of the logarithmic panels are drawn one decade below the smallest value.`,
    images: panels.map((p) => ({ path: join(o.out, p.file), caption: p.title })),
  });

  // 21 cm × CII at the midpoint (Eq. 28–30)
  const z = zs[o.mid]!;
  const bMid = ciiSurfaceBrightness(o.ciiLuminosity[o.mid]!, { z, cosmology: o.cosmology, boxSize, grid });
  const s = limPowerSpectra(o.dTb[o.mid]!, bMid, { grid, boxSize });
  const lines = ['k_h_per_Mpc,delta2_21_mK2,delta2_CII,delta2_cross_mK,r,nmodes'];
  for (let i = 0; i < s.k.length; i++) {
    lines.push(`${s.k[i]!.toExponential(6)},${s.delta2_21[i]!.toExponential(6)},${s.delta2_CII[i]!.toExponential(6)},${s.delta2_cross[i]!.toExponential(6)},${s.r[i]!.toFixed(6)},${s.nmodes[i]}`);
  }
  writeFileAtomic(join(o.out, 'lim_midpoint.csv'), `# z = ${z}, <dTb> = ${s.meanTb} mK, <B_CII> = ${s.meanCII} Jy/sr\n` + lines.join('\n') + '\n', { force: o.force });
  const kNy = (Math.PI * grid) / boxSize;
  const keep = Array.from(s.k, (k, i) => k <= kNy && s.nmodes[i]! > 0);
  const pick = (a: ArrayLike<number>): number[] => Array.from(a).filter((_, i) => keep[i]);
  const absCross = Float64Array.from(s.delta2_cross, Math.abs);
  await multiPanel(
    {
      title: `21 cm × [CII] at z = ${z.toFixed(2)} (${o.title})`,
      panels: [
        {
          series: [
            { name: 'Δ²_21 [mK²]', x: pick(s.k), y: pick(s.delta2_21), points: true },
            { name: 'Δ²_CII', x: pick(s.k), y: pick(s.delta2_CII), points: true },
            { name: '|Δ²_CII×21| [mK]', x: pick(s.k), y: pick(absCross), points: true, dashed: true },
          ],
          xLabel: 'k [h/Mpc]',
          yLabel: 'Δ²(k)',
          logX: true,
          logY: true,
        },
        { series: [{ name: 'r(k)', x: pick(s.k), y: pick(s.r), points: true }], xLabel: 'k [h/Mpc]', yLabel: 'r = P_×/√(P_21 P_CII)', logX: true, yDomain: [-1, 1] },
      ],
      heights: [240, 160],
    },
    join(o.out, 'lim_power.png'),
  );
  const rLarge = s.r.find((_, i) => keep[i]) ?? NaN;
  o.sections.push({
    title: '21 cm × [CII] power spectra at the midpoint',
    text:
      `Auto and cross spectra of δT_b − ⟨δT_b⟩ and δ_CII = B_CII/⟨B_CII⟩ − 1 of the coeval box at z = ${z.toFixed(3)} (Eq. 28–30; ` +
      `⟨B_CII⟩ = ${s.meanCII.toExponential(3)} Jy/sr). Ionised regions surround the [CII] emitters, so on large scales the two anti-correlate ` +
      `(r = ${rLarge.toFixed(2)} in the first bin). lim_midpoint.csv.`,
    images: [{ path: join(o.out, 'lim_power.png'), caption: 'Δ²_21, Δ²_CII, |Δ²_CII×21| and r(k)' }],
  });
  return { meanCIIMidpointJyPerSr: s.meanCII, rFirstBin: rLarge, lightconeSlices: ns };
}
