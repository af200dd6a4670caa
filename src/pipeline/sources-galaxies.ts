/**
 * Galaxy properties over a merger history in the order that makes the scatter correlation right (Davies et al.
 * 2025, Eq. 8–9): catalogues[0] (the lowest redshift, no descendants) gets independent deviates, and every later
 * catalogue, whose halos point at their descendants in the previous one, gets `progenitorDeviates` of those
 * descendants' deviates. A descendant's deviates therefore always exist before its progenitors'.
 */
import type { Cosmology } from '../cosmo/params.js';
import type { AstroParams } from '../astro/params.js';
import { galaxyProperties, haloMassToMsun, type GalaxyProperties } from '../astro/galaxy/properties.js';
import { progenitorDeviates, type GalaxyDeviates } from '../astro/galaxy/scatter.js';
import type { HaloCatalogue, MergerHistory } from '../astro/sampler/catalogue.js';
import type { GalaxyCatalogueRecord } from '../io/galaxy-catalogue.js';
import { Rng } from '../util/rng.js';

/**
 * Seed of the galaxy draws of catalogue k: the k-th fork of `new Rng(seed)` (each catalogue its own stream, so
 * a catalogue's deviates do not depend on how many halos the others hold).
 */
export function catalogueSeeds(seed: number, count: number): number[] {
  const base = new Rng(seed);
  return Array.from({ length: count }, (_, k) => base.fork(k).nextU32());
}

/**
 * Draws the galaxies of every catalogue, lowest redshift first, and hands each to `visit` (only one catalogue's
 * galaxies are held at a time besides the previous deviates). Halo masses are converted from Msun/h to Msun
 * (the galaxy model's unit) with the cosmology's h.
 *
 * @throws RangeError from the galaxy model (bad masses, descendant indices out of range)
 */
export function forEachGalaxyCatalogue(
  history: MergerHistory,
  o: { cosmo: Cosmology; params: AstroParams; seed: number },
  visit: (k: number, catalogue: HaloCatalogue, gal: GalaxyProperties) => void,
): void {
  const seeds = catalogueSeeds(o.seed, history.catalogues.length);
  let prev: GalaxyDeviates | null = null;
  history.catalogues.forEach((c, k) => {
    const haloMassMsun = haloMassToMsun(c.mass, o.cosmo.h);
    const deviates = prev
      ? progenitorDeviates({ descendantDeviates: prev, descendant: c.descendant, zProgenitor: c.z, zDescendant: history.catalogues[k - 1]!.z, params: o.params, seed: seeds[k]! })
      : undefined;
    const gal = galaxyProperties({ haloMassMsun, z: c.z, cosmo: o.cosmo, params: o.params, ...(deviates ? { deviates } : { seed: seeds[k]! }) });
    visit(k, c, gal);
    prev = gal.deviates;
  });
}

/**
 * The galaxies of catalogue `haloIndex` of a merger history as a record of galaxies.h5 (src/io/galaxy-catalogue.ts):
 * the arrays of `gal` (not copied), one entry per halo of that catalogue, in its order.
 */
export function galaxyRecord(haloIndex: number, catalogue: Pick<HaloCatalogue, 'z' | 'count'>, gal: GalaxyProperties): GalaxyCatalogueRecord {
  return {
    z: catalogue.z,
    haloIndex,
    count: catalogue.count,
    stellarMass: gal.stellarMass,
    stellarMassMini: gal.stellarMassMini,
    sfr: gal.sfr,
    sfrMini: gal.sfrMini,
    metallicity: gal.metallicity,
    lx: gal.lx,
    fesc: gal.fesc,
    nIon: gal.nIon,
    nIonDot: gal.nIonDot,
    luv: gal.luv,
    muv: gal.muv,
    deviateStar: gal.deviates.star,
    deviateSfr: gal.deviates.sfr,
    deviateXray: gal.deviates.xray,
  };
}
