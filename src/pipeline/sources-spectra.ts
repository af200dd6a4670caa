/**
 * Statistics of `lodi reionize` written as CSV with a figure: Δ²_21(k) of δT_b (src/astro/reion/history.ts
 * `powerSpectrum21`, through src/field/power.ts) and the UV luminosity function of the sampled galaxies against its
 * analytic expectation (src/astro/galaxy/uvlf.ts). The default outputs (the spectrum at the midpoint, the UV LF at
 * z ≈ 8) and those at the redshifts chosen with `--ps-z` / `--uvlf-z` use the same writers:
 *   ps21_z{z}.csv        k [h/Mpc], Δ²_21 [mK^2], P [mK^2 (Mpc/h)^3], modes per bin; one per chosen redshift
 *   ps21_redshifts.png   Δ²_21(k) of all chosen redshifts
 *   uvlf_z{z}.csv/.png   M_UV bin centre [mag], φ sampled ± Poisson and analytic [Mpc^-3 mag^-1, no h], galaxies per bin
 * ({z} is the catalogue's redshift with three decimals, as in the coeval file names).
 */
import { join } from 'node:path';
import type { Cosmology } from '../cosmo/params.js';
import type { SigmaM } from '../cosmo/sigma.js';
import type { AstroParams } from '../astro/params.js';
import { analyticUvLuminosityFunction, uvLuminosityFunction } from '../astro/galaxy/uvlf.js';
import { powerSpectrum21, type PowerSpectrum21 } from '../astro/reion/history.js';
import type { ReportSection } from '../report/report.js';
import { writeFileAtomic } from '../util/atomic.js';
import { HMF_REFERENCE, ps21RedshiftsFigure, uvlfFigure } from './sources-figures.js';
import { redshiftTag, type RedshiftPick } from './sources-select.js';

/** Header of the Δ²_21 CSV files. */
export const PS21_COLUMNS = 'k_h_per_Mpc,delta2_mK2,pk_mK2_Mpc3_per_h3,nmodes';
/** Header of the UV LF CSV files. */
export const UVLF_COLUMNS = 'muv_centre,phi_sampled_Mpc3_mag,phi_err,count,phi_analytic_Mpc3_mag';
/** The figure of the spectra at the chosen redshifts. */
export const PS21_REDSHIFTS_FIGURE = 'ps21_redshifts.png';

/** Δ²_21 file of a chosen redshift. */
export function ps21File(z: number): string {
  return `ps21_z${redshiftTag(z)}.csv`;
}

/** UV LF files of a chosen redshift. */
export function uvlfFiles(z: number): { csv: string; png: string } {
  return { csv: `uvlf_z${redshiftTag(z)}.csv`, png: `uvlf_z${redshiftTag(z)}.png` };
}

/** Names of the files written for chosen redshifts (cleared from an output folder by a --force rerun that does not write them). */
export const CHOSEN_REDSHIFT_FILES = /^(ps21_z\d+\.\d{3}\.csv|ps21_redshifts\.png|uvlf_z\d+\.\d{3}\.(csv|png))$/;

/** A spectrum as CSV text: one `# comment` line, the column header, one row per k bin. */
export function ps21Csv(ps: PowerSpectrum21, comment: string): string {
  const lines = [`# ${comment}`, PS21_COLUMNS];
  for (let i = 0; i < ps.k.length; i++) lines.push(`${ps.k[i]!.toExponential(6)},${ps.delta2[i]!.toExponential(6)},${ps.pk[i]!.toExponential(6)},${ps.nmodes[i]}`);
  return lines.join('\n') + '\n';
}

/** What {@link ps21AtRedshifts} wrote for one chosen redshift. */
export interface ChosenSpectrum {
  z: number;
  requested: number[];
  xHI: number;
  /** ⟨δT_b⟩ [mK]. */
  dTb: number;
  file: string;
}

/**
 * Δ²_21(k) of the δT_b box of each chosen catalogue: ps21_z{z}.csv each, and ps21_redshifts.png with all of them.
 * @param o.dTb δT_b boxes [mK, grid^3] and o.history their means, both indexed as the merger history (ascending z)
 */
export async function ps21AtRedshifts(o: {
  out: string;
  force: boolean;
  picks: readonly RedshiftPick[];
  dTb: readonly Float32Array[];
  history: readonly { z: number; xHI: number; dTb: number }[];
  grid: number;
  boxSize: number;
  title: string;
}): Promise<{ section: ReportSection; spectra: ChosenSpectrum[] }> {
  const spectra: ChosenSpectrum[] = [];
  const curves: { z: number; xHI: number; k: Float64Array; delta2: Float64Array }[] = [];
  for (const p of o.picks) {
    const r = o.history[p.index]!;
    const ps = powerSpectrum21(o.dTb[p.index]!, o.grid, o.boxSize);
    const file = ps21File(r.z);
    writeFileAtomic(join(o.out, file), ps21Csv(ps, `z = ${r.z}, <x_HI> = ${r.xHI}, <dTb> = ${r.dTb} mK, requested z = ${p.requested.join(' ')}`), { force: o.force });
    spectra.push({ z: r.z, requested: p.requested, xHI: r.xHI, dTb: r.dTb, file });
    curves.push({ z: r.z, xHI: r.xHI, k: ps.k, delta2: ps.delta2 });
  }
  await ps21RedshiftsFigure(curves, (Math.PI * o.grid) / o.boxSize, `21 cm power spectra (${o.title})`, join(o.out, PS21_REDSHIFTS_FIGURE));
  return {
    spectra,
    section: {
      title: '21 cm power spectra at the chosen redshifts',
      text:
        `Δ²_21(k) of the coeval δT_b boxes at the catalogue redshifts nearest those asked for (--ps-z): ` +
        spectra.map((s) => `z = ${s.z.toFixed(3)} (⟨x_HI⟩ = ${s.xHI.toFixed(3)}, ${s.file})`).join('; ') + '.',
      images: [{ path: join(o.out, PS21_REDSHIFTS_FIGURE), caption: 'Δ²_21(k) at the chosen redshifts' }],
    },
  };
}

/** The galaxies and the model behind one UV LF. */
export interface UvlfInput {
  /** M_UV of every galaxy of the catalogue [mag] (+Infinity without star formation). */
  muv: Float64Array;
  z: number;
  /** Box side [Mpc/h]. */
  boxSize: number;
  cosmo: Cosmology;
  astro: AstroParams;
  sigma: SigmaM;
  /** Smallest halo mass of the catalogue [Msun] (the lower limit of the analytic expectation). */
  minMassMsun: number;
}

/**
 * φ(M_UV) of one catalogue in 0.5 mag bins over its finite magnitudes (Poisson errors) and the analytic expectation of
 * the same bins (the 21cmFAST Sheth–Tormen HMF above the minimum mass, integrated over the galaxy scatter), written
 * to `csv` and drawn to `png`.
 * @returns the number of bins and of galaxies with a finite M_UV, or null (nothing written) when there is none
 */
export async function writeUvlf(o: UvlfInput & { csv: string; png: string; force: boolean; title: string }): Promise<{ bins: number; galaxies: number } | null> {
  let lo = Infinity;
  let hi = -Infinity;
  let galaxies = 0;
  for (const m of o.muv) {
    if (!Number.isFinite(m)) continue;
    [lo, hi] = [Math.min(lo, m), Math.max(hi, m)];
    galaxies++;
  }
  if (galaxies === 0) return null;
  const e0 = Math.floor(lo * 2) / 2;
  const e1 = Math.ceil(hi * 2) / 2 + 0.5;
  const edges = Array.from({ length: Math.round((e1 - e0) / 0.5) + 1 }, (_, i) => e0 + 0.5 * i);
  const h = o.cosmo.h;
  const lf = uvLuminosityFunction(o.muv, { boxSize: o.boxSize, h, edges });
  const ana = analyticUvLuminosityFunction({ edges, z: o.z, cosmo: o.cosmo, params: o.astro, sigma: o.sigma, massFunction: HMF_REFERENCE, haloMassMinMsun: o.minMassMsun, haloMassMaxMsun: 1e15 / h });
  const lines = [UVLF_COLUMNS];
  for (let i = 0; i < lf.centres.length; i++) lines.push(`${lf.centres[i]},${lf.phi[i]!.toExponential(6)},${lf.phiErr[i]!.toExponential(6)},${lf.counts[i]},${ana.phi[i]!.toExponential(6)}`);
  writeFileAtomic(o.csv, `# z = ${o.z}, halos above ${o.minMassMsun.toExponential(3)} Msun\n` + lines.join('\n') + '\n', { force: o.force });
  await uvlfFigure(lf, ana, o.title, o.png);
  return { bins: lf.centres.length, galaxies };
}
