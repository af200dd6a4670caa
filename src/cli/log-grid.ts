/** The log-spaced grids on which linear-power and hmf tabulate (k in h/Mpc, M in Msun/h). */

/** `n` log-spaced values from lo to hi inclusive. */
export function logSpace(lo: number, hi: number, n: number): number[] {
  if (n === 1) return [lo];
  const a = Math.log(lo);
  const b = Math.log(hi);
  return Array.from({ length: n }, (_, i) => Math.exp(a + ((b - a) * i) / (n - 1)));
}

/** Throws unless 0 < lo < hi and n is an integer >= 1; `names` are the flags of lo and hi in the message. */
export function checkRange(lo: number, hi: number, n: number, what: string, names: [string, string] = ['min', 'max']): void {
  if (!(lo > 0) || !(hi > lo)) throw new Error(`${what}: need 0 < ${names[0]} < ${names[1]}, got ${names[0]} ${lo} and ${names[1]} ${hi}`);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what}: the number of points must be a positive integer, got ${n}`);
}
