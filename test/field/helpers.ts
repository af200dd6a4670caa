import { Rng } from '../../src/util/rng.js';

/** Uniform positions in [0, L) (Mpc/h), flat [n*3]. */
export function randomPositions(n: number, L: number, seed: number): Float32Array {
  const r = new Rng(seed);
  const p = new Float32Array(3 * n);
  for (let i = 0; i < p.length; i++) p[i] = r.uniform() * L;
  return p;
}

export function randomNormal(n: number, seed: number): Float32Array {
  const r = new Rng(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r.normal();
  return a;
}

export function sum64(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

export function relClose(a: number, b: number, tol: number, what = ''): void {
  const r = Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
  if (!(r <= tol)) throw new Error(`${what}: ${a} vs ${b} (relative difference ${r.toExponential(2)} > ${tol})`);
}
