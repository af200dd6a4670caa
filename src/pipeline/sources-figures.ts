/**
 * Figures of `lodi sample-halos` and `lodi reionize`: the sampled halo mass function against Sheth–Tormen, the
 * global reionisation history, the lightcone slice (drawn here with a redshift axis, which the cubic slice images
 * of src/report do not have), the 21 cm power spectrum and the UV luminosity function.
 */
import { dndlnM } from '../cosmo/massfunction.js';
import type { SigmaM } from '../cosmo/sigma.js';
import { massHistogram, type HaloCatalogue } from '../astro/sampler/catalogue.js';
import { ST_HMF_21CMFAST } from '../astro/sampler/params.js';
import { linePlot, multiPanel } from '../report/plots.js';
import { colorScale, type ColorScale } from '../report/slice.js';
import { mapToRgba } from '../report/image.js';
import { colormapLut, type ColormapName } from '../report/colormap.js';
import { pngDataUri, upscaleNearest } from '../report/png.js';
import { image, line, rect, svgDocument, text, textWidth } from '../report/svg.js';
import { chooseFont } from '../report/fonts.js';
import { svgToPng } from '../report/raster.js';
import { formatNumber, linearTicks, logTickLabels, logTicks, prettyUnits } from '../report/ticks.js';
import { renderVegaLiteToPng } from '../report/chart.js';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../util/atomic.js';

/** The 21cmFAST Sheth–Tormen mass function the sampler is calibrated against (Davies et al. 2025, Fig. 4). */
export const HMF_REFERENCE = { model: 'st' as const, st: ST_HMF_21CMFAST, deltaC: 1.686 };

/** Sampled and expected halos per bin of one catalogue. */
export interface HmfRow {
  z: number;
  /** Bin edges [Msun/h]. */
  edges: number[];
  observed: Float64Array;
  /** Expected number in the box from {@link HMF_REFERENCE}. */
  expected: Float64Array;
  volume: number;
}

/** Expected halos per bin (16-point midpoint rule in ln M per bin) and the sampled counts. */
export function hmfRow(c: HaloCatalogue, sig: SigmaM, edges: number[]): HmfRow {
  const V = c.boxSize ** 3;
  const expected = Float64Array.from(edges.slice(0, -1), (lo, b) => {
    const hi = edges[b + 1]!;
    let e = 0;
    for (let k = 0; k < 16; k++) e += dndlnM(sig, lo * Math.pow(hi / lo, (k + 0.5) / 16), c.z, HMF_REFERENCE);
    return (e / 16) * Math.log(hi / lo) * V;
  });
  return { z: c.z, edges, observed: massHistogram(c.mass, edges), expected, volume: V };
}

/** Catalogues nearest to each wanted redshift (within the history's range), without repeats. */
export function nearestCatalogues(catalogues: readonly HaloCatalogue[], zs: readonly number[]): HaloCatalogue[] {
  const out: HaloCatalogue[] = [];
  const zLo = catalogues[0]!.z;
  const zHi = catalogues[catalogues.length - 1]!.z;
  for (const z of zs) {
    if (z < zLo - 0.1 || z > zHi + 0.1) continue;
    const c = catalogues.reduce((a, b) => (Math.abs(b.z - z) < Math.abs(a.z - z) ? b : a));
    if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** Log axis over the values (padded by 3% of the span), with the project's tick labels. */
function logAxisSpec(values: number[], title: string, hideLabels = false): Record<string, unknown> {
  let lo = Math.min(...values.filter((v) => v > 0));
  let hi = Math.max(...values.filter((v) => v > 0));
  if (!(hi > lo)) [lo, hi] = [lo / 2, hi * 2];
  const pad = 0.03 * Math.log10(hi / lo);
  lo /= 10 ** pad;
  hi *= 10 ** pad;
  const ticks = logTicks(lo, hi);
  const labels = logTickLabels(ticks);
  const expr = ticks.map((t, i) => `abs(datum.value / ${t} - 1) < 1e-6 ? '${labels[i]}' : `).join('') + "''";
  return {
    type: 'quantitative',
    title: hideLabels ? null : prettyUnits(title),
    scale: { type: 'log', domain: [lo, hi], nice: false },
    axis: { values: ticks, labelExpr: expr, ...(hideLabels ? { labels: false } : {}) },
  };
}

/**
 * HMF figure: dn/dlog10 M of the sampled catalogues (points with Poisson error bars, solid) against the 21cmFAST
 * Sheth–Tormen function (dashed, same colour per redshift), and below their ratio with the Poisson error of the
 * expectation. Bins with fewer than one expected halo, or no sampled halo, are left out.
 */
export async function hmfFigure(rows: HmfRow[], o: { title: string; dlog10: number }, path: string): Promise<void> {
  const top: Record<string, unknown>[] = [];
  const bottom: Record<string, unknown>[] = [];
  const zNames: string[] = [];
  for (const r of rows) {
    const name = `z = ${r.z.toFixed(2)}`;
    const norm = 1 / (r.volume * o.dlog10);
    let any = false;
    r.edges.slice(0, -1).forEach((e, b) => {
      const M = Math.sqrt(e * r.edges[b + 1]!);
      const n = r.observed[b]!;
      const ex = r.expected[b]!;
      if (!(ex >= 1)) return;
      top.push({ z: name, kind: 'Sheth–Tormen (21cmFAST)', M, y: ex * norm });
      if (!(n > 0)) return;
      any = true;
      top.push({ z: name, kind: 'sampled', M, y: n * norm, lo: Math.max(n - Math.sqrt(n), n * 1e-3) * norm, hi: (n + Math.sqrt(n)) * norm });
      const err = 1 / Math.sqrt(ex);
      bottom.push({ z: name, M, y: n / ex, lo: Math.max(0.5, n / ex - err), hi: Math.min(1.5, n / ex + err), inside: n / ex >= 0.5 && n / ex <= 1.5 });
    });
    if (any) zNames.push(name);
  }
  const ms = top.map((t) => t.M as number);
  const x = (hide: boolean) => ({ field: 'M', ...logAxisSpec(ms, 'M [Msun/h]', hide) });
  const color = { field: 'z', type: 'nominal', title: null, scale: { domain: zNames } };
  const width = 460;
  const ratioScale = { domain: [0.5, 1.5], nice: false, zero: false };
  const ratioY = { field: 'y', type: 'quantitative', title: 'sampled / ST', scale: ratioScale };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: o.title, subtitle: 'solid with Poisson error bars: sampled; dashed: Sheth–Tormen with the 21cmFAST parameters', subtitleFontSize: 11.5, subtitleColor: '#555' },
    vconcat: [
      {
        width,
        height: 300,
        data: { values: top },
        encoding: { x: x(true), y: { field: 'y', ...logAxisSpec(top.map((t) => t.y as number), 'dn/dlog10 M [(h/Mpc)^3]') }, color },
        layer: [
          { transform: [{ filter: "datum.kind != 'sampled'" }], mark: { type: 'line', strokeDash: [6, 4], strokeWidth: 1.8, clip: true } },
          { transform: [{ filter: "datum.kind == 'sampled'" }], mark: { type: 'line', strokeWidth: 1.8, clip: true } },
          { transform: [{ filter: "datum.kind == 'sampled'" }], mark: { type: 'point', filled: true, size: 26, clip: true } },
          { transform: [{ filter: "datum.kind == 'sampled'" }], mark: { type: 'rule', strokeWidth: 1.3, clip: true }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
        ],
      },
      {
        width,
        height: 150,
        data: { values: bottom },
        layer: [
          { mark: { type: 'rule', color: '#555', strokeDash: [4, 3], strokeWidth: 1.2 }, encoding: { y: { datum: 1, type: 'quantitative', scale: ratioScale } } },
          { mark: { type: 'line', strokeWidth: 1.5, clip: true }, encoding: { x: x(false), y: ratioY, color } },
          { transform: [{ filter: 'datum.inside' }], mark: { type: 'point', filled: true, size: 24, clip: true }, encoding: { x: x(false), y: ratioY, color } },
          { mark: { type: 'rule', strokeWidth: 1.2, clip: true }, encoding: { x: x(false), y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
        ],
      },
    ],
    spacing: 6,
    resolve: { scale: { x: 'shared', y: 'independent' } },
  };
  await renderVegaLiteToPng(spec as unknown as TopLevelSpec, path);
}

/** ⟨x_HI⟩(z) (volume- and mass-weighted) and ⟨δT_b⟩(z). */
export async function historyFigure(
  h: { z: ArrayLike<number>; xHI: ArrayLike<number>; xHIMass: ArrayLike<number>; dTb: ArrayLike<number> },
  title: string,
  path: string,
): Promise<void> {
  await multiPanel(
    {
      title,
      panels: [
        {
          series: [
            { name: '⟨x_HI⟩ volume-weighted', x: h.z, y: h.xHI, points: true },
            { name: '⟨x_HI⟩ mass-weighted', x: h.z, y: h.xHIMass, dashed: true },
          ],
          xLabel: 'z',
          yLabel: 'neutral fraction',
          yDomain: [0, 1.02],
        },
        { series: [{ name: '⟨δT_b⟩', x: h.z, y: h.dTb, points: true }], xLabel: 'z', yLabel: '⟨δT_b⟩ [mK]' },
      ],
      heights: [240, 200],
    },
    path,
  );
}

/** T_K, T_s and T_γ (log scale) and ⟨δT_b⟩ against z: the cosmic-dawn history (with --spin). */
export async function thermalFigure(
  h: { z: ArrayLike<number>; ts: ArrayLike<number>; tk: ArrayLike<number>; tGamma: ArrayLike<number>; dTb: ArrayLike<number> },
  title: string,
  path: string,
): Promise<void> {
  await multiPanel(
    {
      title,
      panels: [
        {
          series: [
            { name: '⟨T_K⟩ kinetic', x: h.z, y: h.tk, points: true },
            { name: '⟨T_s⟩ spin', x: h.z, y: h.ts, points: true },
            { name: 'T_γ CMB', x: h.z, y: h.tGamma, dashed: true },
          ],
          xLabel: 'z',
          yLabel: 'temperature [K]',
          logY: true,
        },
        { series: [{ name: '⟨δT_b⟩ (Eq. 25 with T_s)', x: h.z, y: h.dTb, points: true }], xLabel: 'z', yLabel: '⟨δT_b⟩ [mK]' },
      ],
      heights: [240, 200],
    },
    path,
  );
}

/** Δ²_21(k) of one coeval box, up to the Nyquist wavenumber k_Ny = π N / L (the corner bins beyond it hold few, aliased modes). */
export async function ps21Figure(ps: { k: ArrayLike<number>; delta2: ArrayLike<number> }, kNyquist: number, title: string, path: string): Promise<void> {
  const keep = Array.from(ps.k, (k) => k <= kNyquist);
  const pick = (a: ArrayLike<number>): number[] => Array.from(a).filter((_, i) => keep[i]);
  await linePlot(
    { series: [{ name: 'Δ²_21', x: pick(ps.k), y: pick(ps.delta2), points: true }], xLabel: 'k [h/Mpc]', yLabel: 'Δ²_21(k) = k^3 P(k)/2π^2 [mK^2]', logX: true, logY: true, title },
    path,
  );
}

/** Δ²_21(k) of several coeval boxes on one log-log plot (one curve per redshift), up to k_Ny = π N / L. */
export async function ps21RedshiftsFigure(
  spectra: readonly { z: number; xHI: number; k: ArrayLike<number>; delta2: ArrayLike<number> }[],
  kNyquist: number,
  title: string,
  path: string,
): Promise<void> {
  const series = spectra.map((s) => {
    // zeros (a fully ionised box) are left out by the log axis and counted in the subtitle
    const keep = Array.from(s.k, (k) => k <= kNyquist);
    const pick = (a: ArrayLike<number>): number[] => Array.from(a).filter((_, i) => keep[i]);
    return { name: `z = ${s.z.toFixed(2)}, ⟨x_HI⟩ = ${s.xHI.toFixed(2)}`, x: pick(s.k), y: pick(s.delta2), points: true };
  });
  await linePlot({ series, xLabel: 'k [h/Mpc]', yLabel: 'Δ²_21(k) = k^3 P(k)/2π^2 [mK^2]', logX: true, logY: true, title }, path);
}

/** Sampled φ(M_UV) with Poisson errors (non-empty bins) against the analytic expectation of the same bins. */
export async function uvlfFigure(
  lf: { centres: ArrayLike<number>; phi: ArrayLike<number>; phiErr: ArrayLike<number>; counts: ArrayLike<number> },
  analytic: { centres: ArrayLike<number>; phi: ArrayLike<number> },
  title: string,
  path: string,
): Promise<void> {
  const keep = Array.from(lf.counts, (n) => n > 0);
  const pick = (a: ArrayLike<number>): number[] => Array.from(a).filter((_, i) => keep[i]);
  // the y range follows the sampled points (the lower Poisson bar of a single galaxy reaches zero); the analytic
  // curve is drawn where it lies inside that range
  const shown = pick(lf.phi);
  const yDomain: [number, number] | undefined = shown.length > 0 ? [Math.min(...shown) / 5, Math.max(...shown) * 3] : undefined;
  const aKeep = Array.from(analytic.phi, (p) => p > 0 && (!yDomain || p >= yDomain[0]));
  const aPick = (a: ArrayLike<number>): number[] => Array.from(a).filter((_, i) => aKeep[i]);
  await linePlot(
    {
      series: [
        { name: 'sampled galaxies', x: pick(lf.centres), y: pick(lf.phi), yErr: pick(lf.phiErr) },
        { name: 'analytic (ST HMF × galaxy model)', x: aPick(analytic.centres), y: aPick(analytic.phi), dashed: true },
      ],
      xLabel: 'M_UV [mag]',
      yLabel: 'φ [Mpc^-3 mag^-1]',
      logY: true,
      yDomain,
      title,
    },
    path,
  );
}

/** Geometry of the lightcone figure (SVG units; the PNG is twice that). */
const LC = { left: 64, right: 16, top: 50, bottom: 52, width: 900, minHeight: 150, bar: 16, barGap: 14 };
const FONT = { title: 15, subtitle: 11.5, label: 12.5, tick: 11 };

export interface LightconeFigure {
  /** Field [N, N, nSlices] (two transverse axes, then the line of sight), C order. */
  field: Float32Array;
  grid: number;
  nSlices: number;
  /** Redshift and comoving distance [Mpc/h] of each slice. */
  redshifts: ArrayLike<number>;
  distances: ArrayLike<number>;
  boxSize: number;
  /** Index of the first transverse axis to cut at (default N/2). */
  index?: number;
  /** Names of the two transverse axes of the box (default x, y: line of sight along z). */
  transverseNames?: [string, string];
  title: string;
  colorbarLabel: string;
  colormap?: ColormapName;
  vmin?: number;
  vmax?: number;
}

/**
 * A slice through a lightcone, line of sight to the right with redshift ticks placed at their comoving distance,
 * the transverse axis upwards in Mpc/h; the transverse axis is stretched when the slice is much longer than the
 * box (the subtitle gives the factor).
 */
export function lightconeFigure(o: LightconeFigure, path: string): void {
  const n = o.grid;
  const ns = o.nSlices;
  const a = o.index ?? Math.floor(n / 2);
  const names = o.transverseNames ?? ['x', 'y'];
  if (o.field.length !== n * n * ns) throw new Error(`lightconeFigure: field has ${o.field.length} values, expected ${n} x ${n} x ${ns}`);
  // map rows along the line of sight (drawn to the right), columns along the transverse axis (drawn upwards)
  const data = new Float32Array(ns * n);
  for (let j = 0; j < ns; j++) for (let b = 0; b < n; b++) data[j * n + b] = o.field[(a * n + b) * ns + j]!;
  const map = { data, nu: ns, nv: n, axes: [2, 1] as [0 | 1 | 2, 0 | 1 | 2] };
  const cmap = o.colormap ?? 'viridis';
  const scale = colorScale(data, { vmin: o.vmin, vmax: o.vmax });
  const w = LC.width;
  const trueH = (w * n) / ns;
  const h = Math.max(LC.minHeight, trueH);
  const stretch = h / trueH;
  const d0 = o.distances[0]!;
  const d1 = o.distances[ns - 1]! + (o.distances[ns - 1]! - o.distances[Math.max(0, ns - 2)]!);
  const x0 = LC.left;
  const y0 = LC.top;
  const body: string[] = [];
  body.push(text(x0, 20, o.title, { size: FONT.title, weight: 'bold', fill: '#111' }));
  const sub =
    `slice at ${names[0]} = ${formatNumber((a * o.boxSize) / n, 3)} Mpc/h; line of sight ${formatNumber(d1 - d0, 4)} Mpc/h, ` +
    `box ${formatNumber(o.boxSize, 4)} Mpc/h` + (stretch > 1.05 ? `; transverse axis stretched x${formatNumber(stretch, 3)}` : '');
  body.push(text(x0, 38, sub, { size: FONT.subtitle, fill: '#555' }));
  const rgba = mapToRgba(map, scale, cmap);
  const factor = Math.max(1, Math.ceil((2 * Math.max(w, h)) / Math.max(ns, n)));
  body.push(image(x0, y0, w, h, pngDataUri(upscaleNearest(rgba, factor))));
  body.push(rect(x0, y0, w, h));
  // redshift ticks at their comoving distances
  const zs = Array.from(o.redshifts);
  const zTicks = linearTicks(zs[0]!, zs[zs.length - 1]!, 10).filter((z) => z >= zs[0]! && z <= zs[zs.length - 1]!);
  const xOfZ = (z: number): number => {
    let j = 0;
    while (j < zs.length - 2 && zs[j + 1]! < z) j++;
    const t = (z - zs[j]!) / (zs[j + 1]! - zs[j]! || 1);
    const d = o.distances[j]! + t * (o.distances[j + 1]! - o.distances[j]!);
    return x0 + (w * (d - d0)) / (d1 - d0);
  };
  for (const z of zTicks) {
    const tx = xOfZ(z);
    body.push(line(tx, y0 + h, tx, y0 + h + 4));
    body.push(text(tx, y0 + h + 6 + FONT.tick, formatNumber(z), { size: FONT.tick, anchor: 'middle' }));
  }
  body.push(text(x0 + w / 2, y0 + h + 40, 'redshift z (line of sight; ticks at their comoving distance)', { size: FONT.label, anchor: 'middle' }));
  for (const t of linearTicks(0, o.boxSize, 4)) {
    const ty = y0 + h * (1 - t / o.boxSize);
    body.push(line(x0 - 4, ty, x0, ty));
    body.push(text(x0 - 7, ty, formatNumber(t), { size: FONT.tick, anchor: 'end', baseline: 'middle' }));
  }
  body.push(text(x0 - 46, y0 + h / 2, `${names[1]} [Mpc/h]`, { size: FONT.label, anchor: 'middle', rotate: -90 }));
  const cb = colorbar(x0 + w + LC.barGap, y0, h, scale, cmap, o.colorbarLabel);
  body.push(...cb.body);
  const width = x0 + w + LC.barGap + cb.width + LC.right;
  writeFileAtomic(path, svgToPng(svgDocument(Math.max(width, textWidth(sub, FONT.subtitle) + x0 + 10), y0 + h + LC.bottom, body, chooseFont().family), { scale: 2 }));
}

function colorbar(x: number, y: number, h: number, s: ColorScale, cmap: ColormapName, label: string): { body: string[]; width: number } {
  const lut = colormapLut(cmap);
  const rgba = new Uint8Array(4 * 256);
  for (let i = 0; i < 256; i++) rgba.set([lut[3 * (255 - i)]!, lut[3 * (255 - i) + 1]!, lut[3 * (255 - i) + 2]!, 255], 4 * i);
  const body = [image(x, y, LC.bar, h, pngDataUri({ width: 1, height: 256, rgba })).replace('optimizeSpeed', 'optimizeQuality'), rect(x, y, LC.bar, h)];
  let maxW = 0;
  for (const t of linearTicks(s.vmin, s.vmax, 4)) {
    const ty = y + h * (1 - (t - s.vmin) / (s.vmax - s.vmin));
    body.push(line(x + LC.bar, ty, x + LC.bar + 4, ty));
    body.push(text(x + LC.bar + 7, ty, formatNumber(t), { size: FONT.tick, baseline: 'middle' }));
    maxW = Math.max(maxW, textWidth(formatNumber(t), FONT.tick));
  }
  const width = LC.bar + 7 + maxW + 6;
  body.push(text(x + width + FONT.label * 1.1, y + h / 2, prettyUnits(label), { size: FONT.label, anchor: 'middle', rotate: -90 }));
  return { body, width: width + FONT.label + 6 };
}
