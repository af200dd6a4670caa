/** Element-wise comparison of two arrays for the correctness checks of the model benchmarks. */

/**
 * Largest |a − b| (NaN if any difference is NaN) and the largest |a|, the scale it is judged against.
 *
 * @throws Error when the lengths differ.
 */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  if (a.length !== b.length) throw new Error(`compare: lengths ${a.length} and ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= diff)) diff = Number.isNaN(d) ? NaN : d;
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  return { diff, scale };
}
