/**
 * Halo catalogues of the sampler as typed arrays (one entry per halo, no object per halo) and the merger
 * history that links them across redshifts. Units: masses Msun/h, positions comoving Mpc/h.
 */

/** The halos of one redshift: the catalogue type of src/io/halo-catalogue.ts, which reads and writes it. */
import type { HaloCatalogueRecord } from '../../io/halo-catalogue.js';
export type HaloCatalogue = HaloCatalogueRecord;

/**
 * Catalogues linked by descendant indices. Order: ascending redshift, so catalogues[0] is the lowest
 * redshift (where descendant = -1) and catalogues[i].descendant indexes catalogues[i - 1].
 */
export interface MergerHistory {
  /** Redshifts, ascending; redshifts[i] === catalogues[i].z. */
  redshifts: number[];
  catalogues: HaloCatalogue[];
}

/**
 * Checks the shapes and ranges of a catalogue (and, given the catalogue of the next-lower redshift,
 * that every descendant index points into it); throws naming the first bad field.
 */
export function validateCatalogue(c: HaloCatalogue, lower?: HaloCatalogue): void {
  const where = `halo catalogue at z = ${c.z}`;
  if (!Number.isInteger(c.count) || c.count < 0) throw new Error(`${where}: count = ${c.count}: expected a non-negative integer`);
  if (!(c.boxSize > 0)) throw new Error(`${where}: boxSize = ${c.boxSize}: expected a positive length in Mpc/h`);
  if (c.mass.length !== c.count) throw new Error(`${where}: mass has ${c.mass.length} entries, expected count = ${c.count}`);
  if (c.pos.length !== 3 * c.count) throw new Error(`${where}: pos has ${c.pos.length} entries, expected 3 x count = ${3 * c.count}`);
  if (c.descendant.length !== c.count) throw new Error(`${where}: descendant has ${c.descendant.length} entries, expected count = ${c.count}`);
  if (c.lagrangianPos && c.lagrangianPos.length !== 3 * c.count) {
    throw new Error(`${where}: lagrangianPos has ${c.lagrangianPos.length} entries, expected 3 x count = ${3 * c.count}`);
  }
  for (let i = 0; i < c.count; i++) {
    const m = c.mass[i]!;
    if (!(m > 0) || !Number.isFinite(m)) throw new Error(`${where}: mass[${i}] = ${m}: expected a positive finite mass in Msun/h`);
  }
  for (const [name, p] of [['pos', c.pos], ['lagrangianPos', c.lagrangianPos]] as const) {
    if (!p) continue;
    for (let i = 0; i < p.length; i++) {
      const v = p[i]!;
      if (!(v >= 0 && v < c.boxSize)) throw new Error(`${where}: ${name}[${i}] = ${v}: expected a position in [0, ${c.boxSize}) Mpc/h`);
    }
  }
  const nLower = lower ? lower.count : 0;
  for (let i = 0; i < c.count; i++) {
    const d = c.descendant[i]!;
    if (lower ? !(d >= 0 && d < nLower) : d !== -1) {
      throw new Error(`${where}: descendant[${i}] = ${d}: expected ${lower ? `an index in [0, ${nLower})` : '-1 (no lower redshift)'}`);
    }
  }
}

/** Checks a merger history: ascending redshifts, matching catalogues, descendant links in range. */
export function validateMergerHistory(h: MergerHistory): void {
  if (h.redshifts.length !== h.catalogues.length) {
    throw new Error(`merger history: ${h.redshifts.length} redshifts for ${h.catalogues.length} catalogues`);
  }
  for (let i = 0; i < h.catalogues.length; i++) {
    const c = h.catalogues[i]!;
    if (c.z !== h.redshifts[i]) throw new Error(`merger history: catalogues[${i}].z = ${c.z} differs from redshifts[${i}] = ${h.redshifts[i]}`);
    if (i > 0 && !(h.redshifts[i]! > h.redshifts[i - 1]!)) {
      throw new Error(`merger history: redshifts[${i}] = ${h.redshifts[i]}: expected ascending redshifts (after ${h.redshifts[i - 1]})`);
    }
    if (i > 0 && c.boxSize !== h.catalogues[0]!.boxSize) throw new Error(`merger history: catalogues[${i}].boxSize = ${c.boxSize} differs from ${h.catalogues[0]!.boxSize}`);
    validateCatalogue(c, i > 0 ? h.catalogues[i - 1] : undefined);
  }
}

/** Total mass [Msun/h] of the halos of a catalogue. */
export function totalMass(c: HaloCatalogue): number {
  let s = 0;
  for (let i = 0; i < c.count; i++) s += c.mass[i]!;
  return s;
}

/**
 * Halos per logarithmic mass bin: counts in the bins [edges[b], edges[b+1]) [Msun/h]; halos outside the
 * edges are not counted.
 */
export function massHistogram(mass: Float64Array, edges: readonly number[]): Float64Array {
  const n = edges.length - 1;
  if (n < 1) throw new Error(`massHistogram: edges has ${edges.length} entries, expected at least 2`);
  const out = new Float64Array(n);
  const l0 = Math.log(edges[0]!);
  const uniform = edges.every((e, i) => i === 0 || Math.abs(Math.log(e / edges[i - 1]!) - Math.log(edges[1]! / edges[0]!)) < 1e-9);
  const inv = 1 / Math.log(edges[1]! / edges[0]!);
  for (let i = 0; i < mass.length; i++) {
    const m = mass[i]!;
    if (!(m >= edges[0]! && m < edges[n]!)) continue;
    let b: number;
    if (uniform) {
      b = Math.floor((Math.log(m) - l0) * inv);
      if (b >= n) b = n - 1;
      if (b > 0 && m < edges[b]!) b--;
      else if (b < n - 1 && m >= edges[b + 1]!) b++;
    } else {
      b = 0;
      while (b < n - 1 && m >= edges[b + 1]!) b++;
    }
    out[b] = out[b]! + 1;
  }
  return out;
}
