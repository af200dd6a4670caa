/** Small numerical helpers shared by the cosmology modules (plain float64). */

/** Composite Simpson rule on uniformly spaced samples `y` with spacing `dx` (an even number of intervals is
 * used; a trailing odd interval is added with the trapezoid rule). */
export function simpson(y: ArrayLike<number>, dx: number): number {
  const n = y.length;
  if (n < 2) return 0;
  const m = (n - 1) % 2 === 0 ? n : n - 1; // number of samples covered by Simpson
  let s = 0;
  if (m >= 3) {
    s = y[0]! + y[m - 1]!;
    for (let i = 1; i < m - 1; i++) s += (i % 2 === 1 ? 4 : 2) * y[i]!;
    s *= dx / 3;
  }
  if (m !== n) s += 0.5 * dx * (y[n - 2]! + y[n - 1]!);
  return s;
}

/** Natural cubic spline through (x_i, y_i), x strictly increasing. Outside the range: linear extrapolation. */
export class CubicSpline {
  private readonly x: Float64Array;
  private readonly y: Float64Array;
  private readonly m: Float64Array; // second derivatives

  constructor(x: ArrayLike<number>, y: ArrayLike<number>) {
    const n = x.length;
    if (n < 2 || y.length !== n) throw new Error('CubicSpline: need at least 2 points and equal lengths');
    this.x = Float64Array.from(x);
    this.y = Float64Array.from(y);
    for (let i = 1; i < n; i++) if (!(this.x[i]! > this.x[i - 1]!)) throw new Error('CubicSpline: x must increase');
    const m = new Float64Array(n);
    if (n > 2) {
      const c = new Float64Array(n);
      const d = new Float64Array(n);
      for (let i = 1; i < n - 1; i++) {
        const h0 = this.x[i]! - this.x[i - 1]!;
        const h1 = this.x[i + 1]! - this.x[i]!;
        const a = h0 / 6;
        const b = (h0 + h1) / 3;
        const cc = h1 / 6;
        const r = (this.y[i + 1]! - this.y[i]!) / h1 - (this.y[i]! - this.y[i - 1]!) / h0;
        const denom = b - a * c[i - 1]!;
        c[i] = cc / denom;
        d[i] = (r - a * d[i - 1]!) / denom;
      }
      for (let i = n - 2; i >= 1; i--) m[i] = d[i]! - c[i]! * m[i + 1]!;
    }
    this.m = m;
  }

  get xmin(): number {
    return this.x[0]!;
  }
  get xmax(): number {
    return this.x[this.x.length - 1]!;
  }

  private seg(t: number): number {
    const x = this.x;
    let lo = 0;
    let hi = x.length - 1;
    if (t <= x[0]!) return 0;
    if (t >= x[hi]!) return hi - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (x[mid]! > t) hi = mid;
      else lo = mid;
    }
    return lo;
  }

  /** Value at t. */
  at(t: number): number {
    const n = this.x.length;
    if (t < this.x[0]! || t > this.x[n - 1]!) {
      const i = t < this.x[0]! ? 0 : n - 1;
      return this.y[i]! + this.deriv(this.x[i]!) * (t - this.x[i]!);
    }
    const i = this.seg(t);
    const h = this.x[i + 1]! - this.x[i]!;
    const A = (this.x[i + 1]! - t) / h;
    const B = 1 - A;
    return A * this.y[i]! + B * this.y[i + 1]! + ((A * A * A - A) * this.m[i]! + (B * B * B - B) * this.m[i + 1]!) * (h * h) / 6;
  }

  /** First derivative at t (clamped to the range for the slope). */
  deriv(t: number): number {
    const n = this.x.length;
    const tt = Math.min(Math.max(t, this.x[0]!), this.x[n - 1]!);
    const i = this.seg(tt);
    const h = this.x[i + 1]! - this.x[i]!;
    const A = (this.x[i + 1]! - tt) / h;
    const B = 1 - A;
    return (
      (this.y[i + 1]! - this.y[i]!) / h +
      ((-(3 * A * A - 1)) * this.m[i]! + (3 * B * B - 1) * this.m[i + 1]!) * h / 6
    );
  }
}

/** Bisection root of a continuous f on [a, b] with f(a) f(b) <= 0. */
export function bisect(f: (x: number) => number, a: number, b: number, tol = 1e-12, maxIter = 200): number {
  let fa = f(a);
  const fb = f(b);
  if (fa === 0) return a;
  if (fb === 0) return b;
  if (fa * fb > 0) throw new Error(`bisect: root not bracketed in [${a}, ${b}]`);
  let lo = a;
  let hi = b;
  for (let i = 0; i < maxIter && hi - lo > tol * Math.max(1, Math.abs(lo)); i++) {
    const mid = 0.5 * (lo + hi);
    const fm = f(mid);
    if (fm === 0) return mid;
    if (fa * fm < 0) hi = mid;
    else {
      lo = mid;
      fa = fm;
    }
  }
  return 0.5 * (lo + hi);
}
