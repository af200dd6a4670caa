/**
 * The catalogue redshifts that `lodi reionize` reports on at the user's request (`--galaxies`, `--ps-z`, `--uvlf-z`):
 * for each requested redshift the nearest redshift of the merger history. Requests outside the history (by more than
 * half a sampler step, (1 + z)(zStepFactor − 1)/2, beyond either end) are refused rather than moved to an end.
 */

/** One chosen catalogue and the requests it answers. */
export interface RedshiftPick {
  /** Index of the catalogue in the merger history (ascending redshift). */
  index: number;
  /** Its redshift. */
  z: number;
  /** The requested redshifts for which it is the nearest (several may share one). */
  requested: number[];
}

/**
 * The catalogues nearest to each wanted redshift, or every catalogue for 'all'; ascending, without repeats.
 * @param zs the merger history's redshifts, ascending
 * @param o.flag the option named in errors (e.g. '--ps-z'); o.zStepFactor the sampler's step (1 + z) → (1 + z) f
 * @throws Error naming the flag, the value and the range of the halos for a request outside it
 */
export function pickRedshifts(zs: readonly number[], wanted: readonly number[] | 'all', o: { flag: string; zStepFactor: number }): RedshiftPick[] {
  if (zs.length === 0) throw new Error(`${o.flag}: the merger history has no redshifts`);
  if (wanted === 'all') return zs.map((z, index) => ({ index, z, requested: [z] }));
  const n = zs.length;
  const lo = zs[0]! - ((1 + zs[0]!) * (o.zStepFactor - 1)) / 2;
  const hi = zs[n - 1]! + ((1 + zs[n - 1]!) * (o.zStepFactor - 1)) / 2;
  const picks = new Map<number, RedshiftPick>();
  for (const z of wanted) {
    if (!(Number.isFinite(z) && z >= lo && z <= hi)) {
      throw new Error(
        `${o.flag} ${z}: outside the redshifts of the halos, ${zs[0]!.toFixed(3)} to ${zs[n - 1]!.toFixed(3)}; expected redshifts in [${lo.toFixed(3)}, ${hi.toFixed(3)}] (half a sampler step beyond either end)`,
      );
    }
    let k = 0;
    for (let i = 1; i < n; i++) if (Math.abs(zs[i]! - z) < Math.abs(zs[k]! - z)) k = i;
    const p = picks.get(k) ?? { index: k, z: zs[k]!, requested: [] };
    p.requested.push(z);
    picks.set(k, p);
  }
  return [...picks.values()].sort((a, b) => a.index - b.index);
}

/** The three-decimal redshift tag of file names (as the coeval boxes', `coeval/xHI_z7.400.npy`). */
export function redshiftTag(z: number): string {
  return z.toFixed(3);
}
