import { existsSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { loadGrid, sidecarPath, type Grid } from '../../io/index.js';
import { linePlot } from '../../report/index.js';
import { assertWritable, writeFileAtomic } from '../../util/atomic.js';
import { crossPowerSpectrum, powerSpectrum, type MasCorrection } from '../../field/power.js';
import { overdensity } from '../../field/ops.js';

export interface PowerCommandOptions {
  cross?: string;
  /** Mpc/h; required when the grid has no sidecar. */
  box?: number;
  mas: MasCorrection;
  axis: 0 | 1 | 2;
  multipoles?: boolean;
  overdensity?: boolean;
  /** Channel of a multi-channel [C,N,N,N] grid (e.g. halos.npy), for both grids. */
  channel?: number;
  out?: string;
  plot?: string;
  force?: boolean;
}

function loadCube(path: string, box: number | undefined, channel: number | undefined): Grid {
  if (!existsSync(path)) throw new Error(`${path}: file not found`);
  if (box === undefined && !existsSync(sidecarPath(path)))
    throw new Error(`${path}: no sidecar ${sidecarPath(path)} giving the box size; pass --box <Mpc/h>`);
  const g = loadGrid(path, { boxSize: box });
  if (g.shape.length === 4) {
    const [c, n] = g.shape as [number, number];
    if (channel === undefined)
      throw new Error(`${path}: grid has ${c} channels [${g.shape.join(',')}]; choose one with --channel 0..${c - 1}`);
    if (channel < 0 || channel >= c) throw new Error(`${path}: --channel ${channel} is out of range 0..${c - 1}`);
    const n3 = n ** 3;
    return { ...g, data: g.data.subarray(channel * n3, (channel + 1) * n3), shape: [n, n, n] };
  }
  if (g.shape.length !== 3) throw new Error(`${path}: power needs a single [N,N,N] grid, got shape [${g.shape.join(',')}]`);
  if (channel !== undefined && channel !== 0) throw new Error(`${path}: --channel ${channel} given, but the grid has a single channel`);
  return g;
}

const fmt = (v: number): string => (Number.isFinite(v) ? v.toExponential(8) : 'nan');

/**
 * P(k) of a grid (or cross P(k) and r(k) of two grids) with Pylians binning; writes CSV
 * `k,Pk,Nmodes` (with multipoles `k,P0,P2,Nmodes`; cross `k,P11,P22,P12,r,Nmodes`), k in h/Mpc, P in (Mpc/h)^3.
 */
export async function runPower(file: string, o: PowerCommandOptions): Promise<{ csv: string; rows: number }> {
  const out = o.out ?? file.replace(/\.npy$/i, '') + (o.cross ? '_xpk.csv' : '_pk.csv');
  assertWritable(out, o.force === true);
  if (o.plot) assertWritable(o.plot, o.force === true);
  const a = loadCube(file, o.box, o.channel);
  const L = a.meta.boxSize;
  const n = a.shape[0]!;
  const field = (g: Grid): Float32Array => (o.overdensity ? overdensity(g.data) : g.data);
  const lines: string[] = [];
  const opts = { boxSize: L, mas: o.mas, axis: o.axis, multipoles: o.multipoles };
  let series: { name: string; x: Float64Array; y: Float64Array }[];
  if (o.cross) {
    const b = loadCube(o.cross, o.box ?? L, o.channel);
    if (Math.abs(b.meta.boxSize - L) > 1e-6 * L) throw new Error(`box mismatch: ${file} is ${L} Mpc/h, ${o.cross} is ${b.meta.boxSize} Mpc/h`);
    if (b.shape[0] !== n) throw new Error(`box/grid mismatch: ${file} is ${n}^3, ${o.cross} is ${b.shape[0]}^3`);
    const x = crossPowerSpectrum(field(a), field(b), n, opts);
    lines.push('k,P11,P22,P12,r,Nmodes');
    for (let i = 0; i < x.k.length; i++) lines.push([x.k[i]!, x.p11[i]!, x.p22[i]!, x.p12[i]!, x.r[i]!].map(fmt).join(',') + `,${x.nmodes[i]}`);
    series = [
      { name: 'P11', x: x.k, y: x.p11 },
      { name: 'P22', x: x.k, y: x.p22 },
      { name: '|P12|', x: x.k, y: x.p12.map(Math.abs) },
    ];
  } else {
    const p = powerSpectrum(field(a), n, opts);
    lines.push(p.pk2 ? 'k,Pk,P2,Nmodes' : 'k,Pk,Nmodes');
    for (let i = 0; i < p.k.length; i++) {
      lines.push((p.pk2 ? [p.k[i]!, p.pk[i]!, p.pk2[i]!] : [p.k[i]!, p.pk[i]!]).map(fmt).join(',') + `,${p.nmodes[i]}`);
    }
    series = [{ name: 'P(k)', x: p.k, y: p.pk }];
    if (p.pk2) series.push({ name: '|P2(k)|', x: p.k, y: p.pk2.map(Math.abs) });
  }
  writeFileAtomic(out, lines.join('\n') + '\n', { force: o.force === true });
  if (o.plot) {
    const unit = a.meta.unit && a.meta.unit !== 'unknown' && !o.overdensity ? ` (${a.meta.unit})^2` : '';
    await linePlot(
      {
        series: series.map((s) => ({ ...s, y: s.y.map((v) => (v > 0 ? v : NaN)) })),
        xLabel: 'k [h/Mpc]',
        yLabel: `P(k) [${unit ? unit.trim() + ' ' : ''}(Mpc/h)^3]`,
        logX: true,
        logY: true,
        title: o.cross ? `cross power: ${file} × ${o.cross}` : `power spectrum: ${file}`,
      },
      o.plot,
    );
  }
  return { csv: out, rows: lines.length - 1 };
}

function parseMas(v: string): MasCorrection {
  const u = v.toUpperCase();
  if (u === 'NONE') return 'none';
  if (u === 'NGP' || u === 'CIC' || u === 'TSC') return u;
  throw new InvalidArgumentError(`unknown mass assignment "${v}" (use CIC, NGP, TSC or none)`);
}

function parseAxis(v: string): 0 | 1 | 2 {
  if (v === '0' || v === '1' || v === '2') return Number(v) as 0 | 1 | 2;
  throw new InvalidArgumentError(`axis must be 0, 1 or 2, got "${v}"`);
}

function parseChannel(v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isInteger(x) || x < 0) throw new InvalidArgumentError(`channel must be an integer >= 0, got "${v}"`);
  return x;
}

function parseBox(v: string): number {
  const x = Number(v);
  if (!(x > 0) || !Number.isFinite(x)) throw new InvalidArgumentError(`box size must be a positive number of Mpc/h, got "${v}"`);
  return x;
}

export function register(program: Command): void {
  program
    .command('power')
    .description('power spectrum P(k) [(Mpc/h)^3] of a grid (.npy), or cross spectrum and r(k) of two grids, Pylians binning')
    .argument('<grid>', 'input grid (.npy, [N,N,N]; box size from its JSON sidecar or --box)')
    .option('--cross <grid>', 'second grid: write P11, P22, P12 and r(k)')
    .option('--box <L>', 'box size in Mpc/h (required without a sidecar; must agree with it)', parseBox)
    .option('--mas <scheme>', 'mass-assignment window to deconvolve: CIC, NGP, TSC or none', parseMas, 'CIC' as MasCorrection)
    .option('--axis <axis>', 'line-of-sight axis for multipoles', parseAxis, 2 as 0 | 1 | 2)
    .option('--multipoles', 'also write the quadrupole P2(k) (column P2)')
    .option('--channel <i>', 'channel of a multi-channel grid such as halos.npy [4,N,N,N]', parseChannel)
    .option('--overdensity', 'convert each grid to δ = ρ/ρ̄ − 1 before the transform')
    .option('--out <csv>', 'output CSV (default: <grid>_pk.csv, or <grid>_xpk.csv with --cross)')
    .option('--plot <png>', 'also draw P(k) as PNG')
    .option('--force', 'overwrite existing outputs')
    .action(async (file: string, o: PowerCommandOptions) => {
      const res = await runPower(file, o);
      process.stdout.write(`wrote ${res.rows} bins to ${res.csv}${o.plot ? ` and ${o.plot}` : ''}\n`);
    });
}
