/**
 * Power spectra of periodic grids with Pylians' conventions (Pk_library.Pk / XPk):
 *
 * - unnormalised forward FFT of the field as given (float32 in, complex64 out, through the engine);
 *   P(k) = L^3 / N^6 |δ_k|^2 in (Mpc/h)^3, k in h/Mpc;
 * - fundamental frequency k_F = 2π/L; a mode (n_x, n_y, n_z) (integers, Nyquist counted +N/2) falls
 *   in bin floor(sqrt(n_x^2+n_y^2+n_z^2)); bin 0 (only the DC mode) is dropped; bins run up to
 *   floor(sqrt(3) N/2), i.e. the corner modes beyond the 1D Nyquist frequency are kept, as in Pylians;
 * - reported k is the mean |k| of the modes in the bin; P the mean of |δ_k|^2 over those modes;
 * - independent modes only: the rfft stores the half space n_z >= 0; in the n_z = 0 and (N even)
 *   n_z = N/2 planes a mode and its conjugate are both stored, so there Pylians keeps n_x > 0, plus
 *   n_y >= 0 on the lines n_x = 0 and n_x = N/2. We do exactly the same, so Nmodes matches Pylians;
 * - mass-assignment window deconvolved per axis: δ_k *= Π_i (x_i / sin x_i)^p, x_i = π n_i / N,
 *   p = 1 (NGP), 2 (CIC), 3 (TSC), none: no correction;
 * - multipoles ℓ = 0, 2 with respect to a line-of-sight axis: P_ℓ = (2ℓ+1) <|δ_k|^2 L_ℓ(μ)>,
 *   μ = k_par / |k|, and for a cross spectrum the same weighting of Re(δ_A δ_B*) (Pylians' XPk);
 *   2D P(k_perp, k_par) with k_par = |n_axis|, k_perp = floor(sqrt(rest)) bins.
 * Bins that hold no mode (possible only on tiny grids) are left out. Sums are accumulated in float64.
 */
import { rfft3, complexToInterleaved } from './fourier.js';
import { cubeSize, masCorrection, waveIndex } from './kgrid.js';
import type { MassAssignment } from './mas.js';

export type MasCorrection = MassAssignment | 'none';

export interface PowerOptions {
  /** Box side L in Mpc/h. */
  boxSize: number;
  /** Mass-assignment window to deconvolve (default 'none'). */
  mas?: MasCorrection;
  /** Line-of-sight axis (0, 1, 2) for multipoles and the 2D spectrum (default 2). */
  axis?: 0 | 1 | 2;
  /** Also compute the quadrupole P_2(k) (default false). */
  multipoles?: boolean;
}

export interface PowerSpectrum {
  /** Mean |k| per bin [h/Mpc]. */
  k: Float64Array;
  /** Monopole P(k) [(Mpc/h)^3]. */
  pk: Float64Array;
  /** Quadrupole P_2(k) [(Mpc/h)^3] when multipoles were asked for. */
  pk2?: Float64Array;
  /** Independent modes per bin. */
  nmodes: Float64Array;
  boxSize: number;
  grid: number;
  mas: MasCorrection;
}

export interface CrossPowerSpectrum {
  k: Float64Array;
  p11: Float64Array;
  p22: Float64Array;
  p12: Float64Array;
  /** r(k) = P12 / sqrt(P11 P22); NaN in a bin where P11 or P22 is 0 (possible only for special fields). */
  r: Float64Array;
  /** Quadrupoles P_2 of both autos and of the cross spectrum [(Mpc/h)^3], when multipoles were asked for. */
  p11_2?: Float64Array;
  p22_2?: Float64Array;
  p12_2?: Float64Array;
  nmodes: Float64Array;
  boxSize: number;
  grid: number;
  mas: MasCorrection;
}

export interface PowerSpectrum2D {
  /** Bin centres as mean |k_perp| and |k_par| of the modes [h/Mpc], arrays [nPar * nPerp], row-major by k_par. */
  kPerp: Float64Array;
  kPar: Float64Array;
  pk: Float64Array;
  nmodes: Float64Array;
  nPar: number;
  nPerp: number;
}

interface BinResult {
  kSum: Float64Array;
  nm: Float64Array;
  s11: Float64Array;
  s22?: Float64Array;
  s12?: Float64Array;
  q11?: Float64Array;
  q22?: Float64Array;
  q12?: Float64Array;
  twoD?: { kPerSum: Float64Array; kParSum: Float64Array; s: Float64Array; nm: Float64Array; nPar: number; nPerp: number };
}

/**
 * Bins |δ_k|^2 (and the cross term) over the independent modes. `a`, `b`: interleaved (re, im)
 * rfft values of shape [N, N, N/2+1].
 */
function binModes(a: Float32Array, b: Float32Array | null, n: number, corr: Float64Array, axis: number, quad: boolean, twoD: boolean): BinResult {
  const middle = n >> 1;
  const nh = middle + 1;
  const even = n % 2 === 0;
  const k2max = 3 * middle * middle;
  const nb = Math.floor(Math.sqrt(k2max)) + 1;
  // Lookup tables over the integer k^2.
  const binOf = new Int32Array(k2max + 1);
  const kOf = new Float64Array(k2max + 1);
  for (let q = 0; q <= k2max; q++) {
    const s = Math.sqrt(q);
    kOf[q] = s;
    let i = Math.floor(s);
    if ((i + 1) * (i + 1) <= q) i++;
    binOf[q] = i;
  }
  const res: BinResult = { kSum: new Float64Array(nb), nm: new Float64Array(nb), s11: new Float64Array(nb) };
  if (b) {
    res.s22 = new Float64Array(nb);
    res.s12 = new Float64Array(nb);
  }
  if (quad) res.q11 = new Float64Array(nb);
  if (quad && b) {
    res.q22 = new Float64Array(nb);
    res.q12 = new Float64Array(nb);
  }
  const nPar = middle + 1;
  const nPerp = Math.floor(Math.sqrt(2 * middle * middle)) + 1;
  let perpOf: Int32Array | null = null;
  if (twoD) {
    const q2 = 2 * middle * middle;
    perpOf = new Int32Array(q2 + 1);
    for (let q = 0; q <= q2; q++) {
      let i = Math.floor(Math.sqrt(q));
      if ((i + 1) * (i + 1) <= q) i++;
      perpOf[q] = i;
    }
    res.twoD = {
      kPerSum: new Float64Array(nPar * nPerp),
      kParSum: new Float64Array(nPar * nPerp),
      s: new Float64Array(nPar * nPerp),
      nm: new Float64Array(nPar * nPerp),
      nPar,
      nPerp,
    };
  }
  const { kSum, nm, s11, s22, s12, q11, q22, q12 } = res;
  for (let x = 0; x < n; x++) {
    const kx = waveIndex(x, n);
    const cx = corr[x]!;
    for (let y = 0; y < n; y++) {
      const ky = waveIndex(y, n);
      const cxy = cx * corr[y]!;
      const kxy2 = kx * kx + ky * ky;
      const base = (x * n + y) * nh;
      for (let z = 0; z < nh; z++) {
        if (z === 0 || (even && z === middle)) {
          // Both a mode and its conjugate are stored in these planes: keep one of each pair.
          if (kx < 0) continue;
          if ((kx === 0 || (even && kx === middle)) && ky < 0) continue;
        }
        const q = kxy2 + z * z;
        const bin = binOf[q]!;
        const c = cxy * corr[z]!;
        const c2 = c * c;
        const o = 2 * (base + z);
        const re = a[o]!;
        const im = a[o + 1]!;
        const d11 = (re * re + im * im) * c2;
        kSum[bin]! += kOf[q]!;
        nm[bin]! += 1;
        s11[bin]! += d11;
        let d22 = 0;
        let d12 = 0;
        if (b) {
          const re2 = b[o]!;
          const im2 = b[o + 1]!;
          d22 = (re2 * re2 + im2 * im2) * c2;
          d12 = (re * re2 + im * im2) * c2;
          s22![bin]! += d22;
          s12![bin]! += d12;
        }
        if (quad || twoD) {
          const kpar = axis === 0 ? kx : axis === 1 ? ky : z;
          if (quad) {
            const mu2 = q === 0 ? 0 : (kpar * kpar) / q;
            const l2 = 0.5 * (3 * mu2 - 1);
            q11![bin]! += d11 * l2;
            if (q22) {
              q22[bin]! += d22 * l2;
              q12![bin]! += d12 * l2;
            }
          }
          if (twoD) {
            const ap = Math.abs(kpar);
            const qp = q - kpar * kpar;
            const ip = ap * nPerp + perpOf![qp]!;
            const t = res.twoD!;
            t.kParSum[ip]! += ap;
            t.kPerSum[ip]! += Math.sqrt(qp);
            t.s[ip]! += d11;
            t.nm[ip]! += 1;
          }
        }
      }
    }
  }
  return res;
}

function prepare(field: Float32Array, n: number | undefined, boxSize: number): number {
  const N = n ?? Math.round(Math.cbrt(field.length));
  if (N * N * N !== field.length) throw new Error(`box/grid mismatch: field has ${field.length} values, not ${N}^3 = ${N * N * N}`);
  cubeSize(field, [N, N, N]);
  if (!(boxSize > 0) || !Number.isFinite(boxSize)) throw new Error(`boxSize must be a positive number of Mpc/h, got ${boxSize}`);
  return N;
}

function fftInterleaved(field: Float32Array, n: number): Float32Array {
  const t = rfft3(field, [n, n, n]);
  try {
    return complexToInterleaved(t);
  } finally {
    t.dispose();
  }
}

/** Keeps bins 1.. that hold modes; returns their indices. */
function keptBins(nm: Float64Array): number[] {
  const idx: number[] = [];
  for (let i = 1; i < nm.length; i++) if (nm[i]! > 0) idx.push(i);
  return idx;
}

/** Auto power spectrum P(k) [(Mpc/h)^3] of an N^3 field (optionally with the quadrupole). */
export function powerSpectrum(field: Float32Array, n: number | undefined, opts: PowerOptions): PowerSpectrum {
  const N = prepare(field, n, opts.boxSize);
  const mas = opts.mas ?? 'none';
  const corr = masCorrection(N, mas);
  const dk = fftInterleaved(field, N);
  const r = binModes(dk, null, N, corr, opts.axis ?? 2, opts.multipoles ?? false, false);
  const kF = (2 * Math.PI) / opts.boxSize;
  const norm = Math.pow(opts.boxSize, 3) / Math.pow(N, 6);
  const idx = keptBins(r.nm);
  const out: PowerSpectrum = {
    k: Float64Array.from(idx, (i) => (r.kSum[i]! / r.nm[i]!) * kF),
    pk: Float64Array.from(idx, (i) => (r.s11[i]! / r.nm[i]!) * norm),
    nmodes: Float64Array.from(idx, (i) => r.nm[i]!),
    boxSize: opts.boxSize,
    grid: N,
    mas,
  };
  if (r.q11) out.pk2 = Float64Array.from(idx, (i) => ((5 * r.q11![i]!) / r.nm[i]!) * norm);
  return out;
}

/**
 * Cross power spectrum of two N^3 fields with both autos and r(k) = P12/sqrt(P11 P22) (with `multipoles`,
 * also the quadrupoles of all three). Throws when either field has zero power at every k (a constant field,
 * e.g. an all-zero halo channel): r(k) is then undefined everywhere; the message names the field as the
 * first or second.
 */
export function crossPowerSpectrum(a: Float32Array, b: Float32Array, n: number | undefined, opts: PowerOptions): CrossPowerSpectrum {
  const N = prepare(a, n, opts.boxSize);
  if (b.length !== a.length) throw new Error(`box/grid mismatch: fields have ${a.length} and ${b.length} values`);
  const mas = opts.mas ?? 'none';
  const corr = masCorrection(N, mas);
  const ak = fftInterleaved(a, N);
  const bk = fftInterleaved(b, N);
  const r = binModes(ak, bk, N, corr, opts.axis ?? 2, opts.multipoles ?? false, false);
  const kF = (2 * Math.PI) / opts.boxSize;
  const norm = Math.pow(opts.boxSize, 3) / Math.pow(N, 6);
  const idx = keptBins(r.nm);
  const p11 = Float64Array.from(idx, (i) => (r.s11[i]! / r.nm[i]!) * norm);
  const p22 = Float64Array.from(idx, (i) => (r.s22![i]! / r.nm[i]!) * norm);
  const p12 = Float64Array.from(idx, (i) => (r.s12![i]! / r.nm[i]!) * norm);
  for (const [name, p] of [['first', p11], ['second', p22]] as const) {
    if (p.every((v) => v === 0)) {
      throw new Error(`crossPowerSpectrum: the ${name} field has zero power at every k (a constant field, e.g. an all-zero channel), so r(k) = P12/sqrt(P11 P22) is undefined`);
    }
  }
  const out: CrossPowerSpectrum = {
    k: Float64Array.from(idx, (i) => (r.kSum[i]! / r.nm[i]!) * kF),
    p11,
    p22,
    p12,
    r: p12.map((v, j) => v / Math.sqrt(p11[j]! * p22[j]!)),
    nmodes: Float64Array.from(idx, (i) => r.nm[i]!),
    boxSize: opts.boxSize,
    grid: N,
    mas,
  };
  if (r.q11 && r.q22 && r.q12) {
    const quad = (q: Float64Array): Float64Array => Float64Array.from(idx, (i) => ((5 * q[i]!) / r.nm[i]!) * norm);
    out.p11_2 = quad(r.q11);
    out.p22_2 = quad(r.q22);
    out.p12_2 = quad(r.q12);
  }
  return out;
}

/** 2D power spectrum P(k_perp, k_par) [(Mpc/h)^3] for line-of-sight `axis`; empty bins hold NaN. */
export function powerSpectrum2D(field: Float32Array, n: number | undefined, opts: PowerOptions): PowerSpectrum2D {
  const N = prepare(field, n, opts.boxSize);
  const corr = masCorrection(N, opts.mas ?? 'none');
  const dk = fftInterleaved(field, N);
  const t = binModes(dk, null, N, corr, opts.axis ?? 2, false, true).twoD!;
  const kF = (2 * Math.PI) / opts.boxSize;
  const norm = Math.pow(opts.boxSize, 3) / Math.pow(N, 6);
  const m = t.nm.length;
  const kPerp = new Float64Array(m), kPar = new Float64Array(m), pk = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const c = t.nm[i]!;
    const dc = i === 0; // the DC mode (k_par = 0, k_perp = 0 bin) is dropped as in 1D
    kPerp[i] = c > 0 ? (t.kPerSum[i]! / c) * kF : NaN;
    kPar[i] = c > 0 ? (t.kParSum[i]! / c) * kF : NaN;
    pk[i] = c > 0 && !dc ? (t.s[i]! / c) * norm : NaN;
  }
  return { kPerp, kPar, pk, nmodes: t.nm, nPar: t.nPar, nPerp: t.nPerp };
}

/** Dimensionless power Δ²(k) = k^3 P(k) / (2π^2). */
export function dimensionless(k: ArrayLike<number>, pk: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: k.length }, (_, i) => (k[i]! ** 3 * pk[i]!) / (2 * Math.PI * Math.PI));
}
