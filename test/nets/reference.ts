/** Float64 re-computations for the src/nets tests (plain loops, no libtorch). */

/**
 * Periodic grouped 3D cross-correlation (PyTorch's conv3d after circular padding by (k−1)/2):
 * x [Cin, n, n, n], w [Cout, Cin/groups, k, k, k], b [Cout] → [Cout, n, n, n], all C order.
 */
export function periodicConvF64(x: ArrayLike<number>, cin: number, n: number, w: ArrayLike<number>, b: ArrayLike<number>, cout: number, k: number, groups: number): Float64Array {
  const ci = cin / groups;
  const co = cout / groups;
  const p = (k - 1) / 2;
  const n3 = n ** 3;
  const wrap = (v: number): number => ((v % n) + n) % n;
  const y = new Float64Array(cout * n3);
  for (let o = 0; o < cout; o++) {
    const g = Math.floor(o / co);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++)
        for (let l = 0; l < n; l++) {
          let s = b[o]!;
          for (let c = 0; c < ci; c++) {
            const xc = (g * ci + c) * n3;
            for (let a = 0; a < k; a++)
              for (let bb = 0; bb < k; bb++)
                for (let cc = 0; cc < k; cc++)
                  s += w[(((o * ci + c) * k + a) * k + bb) * k + cc]! * x[xc + (wrap(i + a - p) * n + wrap(j + bb - p)) * n + wrap(l + cc - p)]!;
          }
          y[o * n3 + (i * n + j) * n + l] = s;
        }
  }
  return y;
}

/** erf(x) by its Maclaurin series (float64; relative error < 1e-12 for |x| ≤ 3). */
export function erf(x: number): number {
  let term = x;
  let sum = x;
  for (let m = 1; m < 200; m++) {
    term *= (-x * x) / m;
    const add = term / (2 * m + 1);
    sum += add;
    if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

/** Largest |a_i − b_i|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}
