/**
 * `lodi power`: P(k) of a grid, or the cross spectrum P12 and r(k) of two grids, with Pylians' binning
 * (field/power.ts), written as CSV and optionally drawn.
 *
 * - Channels of [C,N,N,N] grids are numbered from 0: `channel` picks one of the first grid,
 *   `crossChannel` one of the second. An all-zero (or constant) grid or channel is refused: its P(k) is 0
 *   at every k and r(k) undefined.
 * - A grid whose sidecar says it holds a density (quantity `*_density`, or the unit (Msun/h)/(Mpc/h)^3)
 *   is turned into δ = ρ/ρ̄ − 1 unless `raw`; `overdensity` does so for any grid. Dividing by a mean that
 *   is ~0 (a grid that already is an overdensity) is refused (field/ops.ts `meanForDivision`).
 * - The plot stops at the Nyquist frequency k_N = π N / L (marked), draws r(k) under a cross spectrum,
 *   names the channels, and for a halo channel of a world whose world.json records the halo count N_h,
 *   draws the Poisson level 1/n̄ = L^3/N_h (ρ̄²/n̄ for the raw density).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { meanForDivision, overdensity } from '../field/ops.js';
import { crossPowerSpectrum, powerSpectrum, type CrossPowerSpectrum, type MasCorrection } from '../field/power.js';
import { loadGrid, sidecarPath, type Grid } from '../io/grid.js';
import { MASS_DENSITY_UNIT, WORLD_FORMAT, WORLD_JSON } from '../io/world.js';
import { linePlot, multiPanel, type LinePlotOptions, type MultiPanelOptions, type Series } from '../report/index.js';
import { assertWritable, notFoundDetail, writeFileAtomic } from '../util/atomic.js';

export interface PowerRunOptions {
  /** Second grid: write P11, P22, P12 and r(k). */
  cross?: string;
  /** Mpc/h; required when a grid has no sidecar. */
  box?: number;
  mas: MasCorrection;
  axis: 0 | 1 | 2;
  /** Also the quadrupole(s) P_2 (of both autos and the cross spectrum with `cross`). */
  multipoles?: boolean;
  /** δ = x/x̄ − 1 for every grid, whatever its sidecar says. */
  overdensity?: boolean;
  /** The grids' values as they are, even for a density. */
  raw?: boolean;
  /** Channel (0-based) of the first grid when it is [C,N,N,N]. */
  channel?: number;
  /** Channel (0-based) of the `cross` grid when it is [C,N,N,N]. */
  crossChannel?: number;
  out?: string;
  plot?: string;
  force?: boolean;
}

export interface PowerRunResult {
  csv: string;
  rows: number;
  /** One line per grid saying what was transformed (and why), for the user. */
  notes: string[];
  /** What was drawn with `plot`: one panel for P(k), two (P(k) over r(k)) for a cross spectrum. */
  figure?: MultiPanelOptions;
}

/** One loaded input: the cube, where it came from and what was done to it. */
interface Input {
  path: string;
  grid: Grid;
  channel?: number;
  /** e.g. "halos.npy channel 1 (M in [1e10, 1e11) Msun)". */
  label: string;
  /** The field to transform. */
  field: Float32Array;
  /** 'delta': δ = x/x̄ − 1; 'raw': as stored. */
  mode: 'delta' | 'raw';
  mean: number;
  /** Poisson level 1/n̄ (δ) or ρ̄²/n̄ (raw) [(Mpc/h)^3 × unit²] when the halo count is known. */
  shotNoise?: { level: number; count: number };
}

const DENSITY_QUANTITY = /(^|_)density$/;

/** True when the sidecar says the grid holds a (mass) density, not its logarithm or an overdensity. */
export function isDensityGrid(meta: Grid['meta']): boolean {
  if (meta.unit === MASS_DENSITY_UNIT) return true;
  const q = meta.quantity ?? '';
  return DENSITY_QUANTITY.test(q) && !q.startsWith('log') && !q.includes('overdensity');
}

function loadCube(path: string, box: number | undefined, channel: number | undefined, flag: string): { grid: Grid; data: Float32Array; channel?: number } {
  if (!existsSync(path)) throw new Error(`${path}: file: ${notFoundDetail(path, 'a .npy grid with its .json sidecar')}`);
  if (box === undefined && !existsSync(sidecarPath(path))) throw new Error(`${path}: no sidecar ${sidecarPath(path)} giving the box size; pass --box <Mpc/h>`);
  const g = loadGrid(path, { boxSize: box });
  if (g.shape.length === 4) {
    const [c, n] = g.shape as [number, number];
    if (channel === undefined) throw new Error(`${path}: grid has ${c} channels [${g.shape.join(',')}]; choose one with ${flag} 0..${c - 1} (numbered from 0)`);
    if (channel < 0 || channel >= c) throw new Error(`${path}: ${flag} ${channel} is out of range 0..${c - 1} (channels are numbered from 0)`);
    const n3 = n ** 3;
    const data = g.data.subarray(channel * n3, (channel + 1) * n3);
    return { grid: { ...g, data, shape: [n, n, n] }, data, channel };
  }
  if (g.shape.length !== 3) throw new Error(`${path}: power needs a single [N,N,N] grid, got shape [${g.shape.join(',')}]`);
  if (channel !== undefined && channel !== 0) {
    const other = flag === '--channel' ? ' (--cross-channel picks the channel of the --cross grid)' : '';
    throw new Error(`${path}: ${flag} ${channel} given, but the grid has a single channel${other}`);
  }
  return { grid: g, data: g.data };
}

/** Halo count of channel `c` from the world.json beside a world's halo grid, when it records one. */
function haloCount(path: string, grid: Grid, c: number | undefined): number | undefined {
  if (grid.meta.quantity !== 'halo_mass_density') return undefined;
  const wj = join(dirname(path), WORLD_JSON);
  if (!existsSync(wj)) return undefined;
  let w: Record<string, unknown>;
  try {
    w = JSON.parse(readFileSync(wj, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined; // not ours to judge here: the plot then has no shot-noise line
  }
  if (w.format !== WORLD_FORMAT || typeof w.boxSize !== 'number' || Math.abs(w.boxSize - grid.meta.boxSize) > 1e-6 * w.boxSize) return undefined;
  const counts = (w.painted as { counts?: { halos?: unknown } } | undefined)?.counts?.halos;
  if (!Array.isArray(counts)) return undefined;
  const n = counts[c ?? 0];
  return typeof n === 'number' && n > 0 && Number.isFinite(n) ? n : undefined;
}

function channelName(grid: Grid, c: number | undefined): string {
  if (c === undefined) return '';
  const name = grid.meta.channels?.[c];
  return ` channel ${c}${name ? ` (${name})` : ''}`;
}

function prepareInput(path: string, flag: string, channel: number | undefined, o: PowerRunOptions, box: number | undefined): { input: Input; note: string } {
  const { grid, data, channel: c } = loadCube(path, box, channel, flag);
  const label = `${basename(path)}${channelName(grid, c)}`;
  // a grid without fluctuations has P(k) = 0 at every k: nothing to measure
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === hi) {
    const what = c === undefined ? `${path}: every value is ${lo}` : `${path}: channel ${c} is ${lo === 0 ? 'all zeros' : `constant (${lo} everywhere)`}`;
    throw new Error(`${what}, so its P(k) is 0 at every k${o.cross ? ' and r(k) undefined' : ''}; ${c === undefined ? 'give a grid with fluctuations' : `choose another channel with ${flag} (numbered from 0)`}`);
  }
  const density = isDensityGrid(grid.meta);
  const mode: Input['mode'] = o.raw ? 'raw' : o.overdensity || density ? 'delta' : 'raw';
  let mean = 0;
  let field = data;
  let note: string;
  if (mode === 'delta') {
    const advice = o.overdensity ? 'drop --overdensity (or pass --raw)' : `its sidecar says ${grid.meta.quantity} [${grid.meta.unit}], so it was to become δ = ρ/ρ̄ − 1; pass --raw to use the values as they are`;
    mean = meanForDivision(data, path, { advice });
    field = overdensity(data, mean);
    note = o.overdensity
      ? `${label}: P(k) of δ = x/x̄ − 1 (--overdensity; mean ${mean.toPrecision(4)} ${grid.meta.unit})`
      : `${label}: the sidecar says ${grid.meta.quantity} [${grid.meta.unit}]: P(k) of the overdensity δ = ρ/ρ̄ − 1 (ρ̄ = ${mean.toPrecision(4)} ${grid.meta.unit}); pass --raw for ρ itself`;
  } else {
    let s = 0;
    for (let i = 0; i < data.length; i++) s += data[i]!;
    mean = s / data.length;
    note = `${label}: P(k) of the values as stored [${grid.meta.unit}]${o.raw ? ' (--raw)' : ''}`;
  }
  const input: Input = { path, grid, channel: c, label, field, mode, mean };
  const count = haloCount(path, grid, c);
  if (count !== undefined) {
    const V = grid.meta.boxSize ** 3;
    input.shotNoise = { count, level: (mode === 'delta' ? 1 : mean * mean) * (V / count) };
  }
  return { input, note };
}

const fmt = (v: number): string => (Number.isFinite(v) ? v.toExponential(8) : 'nan');

/** Unit of P(k) of an input, for axis labels. */
function pkUnit(i: Input): string {
  const u = i.mode === 'raw' && i.grid.meta.unit && i.grid.meta.unit !== 'unknown' && i.grid.meta.unit !== '1' ? `(${i.grid.meta.unit})^2 ` : '';
  return `${u}(Mpc/h)^3`;
}

/**
 * Runs `lodi power` (see the module comment): writes CSV `k,Pk,Nmodes` (with multipoles `k,Pk,P2,Nmodes`;
 * cross `k,P11,P22,P12,r,Nmodes`, with multipoles `k,P11,P22,P12,r,P11_2,P22_2,P12_2,Nmodes`), k in h/Mpc,
 * P in (Mpc/h)^3 (times the grids' units for raw grids), and the plot when asked. Throws a one-line error
 * on bad input before writing anything.
 */
export async function runPower(file: string, o: PowerRunOptions): Promise<PowerRunResult> {
  if (o.raw && o.overdensity) throw new Error('power: --raw and --overdensity exclude each other (--raw: the values as stored; --overdensity: δ = x/x̄ − 1)');
  if (o.crossChannel !== undefined && !o.cross) throw new Error(`power: --cross-channel ${o.crossChannel} needs --cross <grid> (use --channel for the first grid)`);
  const out = o.out ?? file.replace(/\.npy$/i, '') + (o.cross ? '_xpk.csv' : '_pk.csv');
  assertWritable(out, o.force === true);
  if (o.plot) assertWritable(o.plot, o.force === true);
  const notes: string[] = [];
  const A = prepareInput(file, '--channel', o.channel, o, o.box);
  notes.push(A.note);
  const a = A.input;
  const L = a.grid.meta.boxSize;
  const n = a.grid.shape[0]!;
  const opts = { boxSize: L, mas: o.mas, axis: o.axis, multipoles: o.multipoles };
  const kNyq = (Math.PI * n) / L;
  const lines: string[] = [];
  let figure: MultiPanelOptions;
  if (o.cross) {
    const B = prepareInput(o.cross, '--cross-channel', o.crossChannel, o, o.box ?? L);
    notes.push(B.note);
    const b = B.input;
    if (Math.abs(b.grid.meta.boxSize - L) > 1e-6 * L) throw new Error(`box mismatch: ${file} is ${L} Mpc/h, ${o.cross} is ${b.grid.meta.boxSize} Mpc/h`);
    if (b.grid.shape[0] !== n) throw new Error(`box/grid mismatch: ${file} is ${n}^3, ${o.cross} is ${b.grid.shape[0]}^3`);
    const x = crossPowerSpectrum(a.field, b.field, n, opts);
    const quad = x.p11_2 && x.p22_2 && x.p12_2 ? [x.p11_2, x.p22_2, x.p12_2] : undefined;
    lines.push(quad ? 'k,P11,P22,P12,r,P11_2,P22_2,P12_2,Nmodes' : 'k,P11,P22,P12,r,Nmodes');
    for (let i = 0; i < x.k.length; i++) {
      const row = [x.k[i]!, x.p11[i]!, x.p22[i]!, x.p12[i]!, x.r[i]!, ...(quad ? quad.map((q) => q[i]!) : [])];
      lines.push(row.map(fmt).join(',') + `,${x.nmodes[i]}`);
    }
    figure = crossFigure(a, b, kNyq, x);
  } else {
    const p = powerSpectrum(a.field, n, opts);
    lines.push(p.pk2 ? 'k,Pk,P2,Nmodes' : 'k,Pk,Nmodes');
    for (let i = 0; i < p.k.length; i++) {
      lines.push((p.pk2 ? [p.k[i]!, p.pk[i]!, p.pk2[i]!] : [p.k[i]!, p.pk[i]!]).map(fmt).join(',') + `,${p.nmodes[i]}`);
    }
    figure = autoFigure(a, kNyq, p.k, p.pk, p.pk2);
  }
  writeFileAtomic(out, lines.join('\n') + '\n', { force: o.force === true });
  if (!o.plot) return { csv: out, rows: lines.length - 1, notes };
  if (figure.panels.length === 1) await linePlot({ ...figure.panels[0]!, title: figure.title }, o.plot);
  else await multiPanel(figure, o.plot);
  return { csv: out, rows: lines.length - 1, notes, figure };
}

/** Points with k ≤ k_N and y > 0 (log axes); y ≤ 0 become gaps. */
function upToNyquist(name: string, k: Float64Array, y: Float64Array, kNyq: number, extra: Partial<Series> = {}): Series {
  let m = 0;
  while (m < k.length && k[m]! <= kNyq * (1 + 1e-12)) m++;
  return { name, x: k.subarray(0, m), y: y.subarray(0, m).map((v) => (v > 0 ? v : NaN)), ...extra };
}

function shotSeries(i: Input, k: Float64Array, kNyq: number, tag: string): Series[] {
  if (!i.shotNoise || k.length === 0) return [];
  const { level, count } = i.shotNoise;
  const what = i.mode === 'delta' ? '1/n̄' : 'ρ̄²/n̄';
  return [{ name: `shot noise ${what}${tag} (${count} halos)`, x: [k[0]!, kNyq], y: [level, level], dashed: true }];
}

/** The Nyquist frequency as a vertical dashed series spanning the plotted values (named in the legend). */
function nyquistMarker(kNyq: number, series: Series[]): Series[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.y.length; i++) {
      const v = s.y[i]!;
      if (v > 0 && Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  if (!(hi >= lo)) return [];
  return [{ name: `k_Nyquist = πN/L = ${kNyq.toPrecision(3)} h/Mpc`, x: [kNyq, kNyq], y: [lo, hi], dashed: true }];
}

/** x range from the first bin to a little past k_N, so that the marker of k_N shows. */
function xRange(k: Float64Array, kNyq: number): [number, number] {
  return [k[0]! / 1.1, kNyq * 1.15];
}

function autoFigure(a: Input, kNyq: number, k: Float64Array, pk: Float64Array, pk2?: Float64Array): MultiPanelOptions {
  const series: Series[] = [upToNyquist(a.mode === 'delta' ? 'P(k) of δ' : 'P(k)', k, pk, kNyq)];
  if (pk2) series.push(upToNyquist('|P2(k)|', k, pk2.map(Math.abs), kNyq, { dashed: true }));
  series.push(...shotSeries(a, k, kNyq, ''));
  series.push(...nyquistMarker(kNyq, series));
  return {
    panels: [{ series, xLabel: 'k [h/Mpc]', yLabel: `P(k) [${pkUnit(a)}]`, logX: true, logY: true, xDomain: xRange(k, kNyq) }],
    title: `power spectrum of ${a.label}`,
  };
}

function crossFigure(a: Input, b: Input, kNyq: number, x: CrossPowerSpectrum): MultiPanelOptions {
  const name = (i: Input): string => (i.mode === 'delta' ? `δ(${i.label})` : i.label);
  const series: Series[] = [
    upToNyquist(`P11: ${name(a)}`, x.k, x.p11, kNyq),
    upToNyquist(`P22: ${name(b)}`, x.k, x.p22, kNyq),
    upToNyquist('|P12|', x.k, x.p12.map(Math.abs), kNyq, { dashed: true }),
    ...shotSeries(a, x.k, kNyq, ' of 1'),
    ...shotSeries(b, x.k, kNyq, ' of 2'),
  ];
  series.push(...nyquistMarker(kNyq, series));
  const unit = pkUnit(a) === pkUnit(b) ? pkUnit(a) : 'see the grids\' units';
  const top: LinePlotOptions = { series, xLabel: 'k [h/Mpc]', yLabel: `P(k) [${unit}]`, logX: true, logY: true, xDomain: xRange(x.k, kNyq) };
  const rPanel: LinePlotOptions = {
    series: [upToNyquistSigned('r(k) = P12/sqrt(P11 P22)', x.k, x.r, kNyq)],
    xLabel: 'k [h/Mpc]',
    yLabel: 'r(k)',
    logX: true,
    xDomain: xRange(x.k, kNyq),
    yDomain: [Math.min(-0.05, ...finiteValues(x.r, x.k, kNyq)), 1.05],
    refLine: [{ y: 1 }, { y: 0 }, { x: kNyq }],
  };
  return { panels: [top, rPanel], title: `cross power: 1 = ${a.label}, 2 = ${b.label}` };
}

/** As upToNyquist, keeping negative values (r(k) may be < 0). */
function upToNyquistSigned(name: string, k: Float64Array, y: Float64Array, kNyq: number): Series {
  let m = 0;
  while (m < k.length && k[m]! <= kNyq * (1 + 1e-12)) m++;
  return { name, x: k.subarray(0, m), y: y.subarray(0, m) };
}

function finiteValues(y: Float64Array, k: Float64Array, kNyq: number): number[] {
  const v: number[] = [];
  for (let i = 0; i < y.length && k[i]! <= kNyq * (1 + 1e-12); i++) if (Number.isFinite(y[i]!)) v.push(y[i]!);
  return v;
}
