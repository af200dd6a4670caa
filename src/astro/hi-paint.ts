/**
 * HI painting on halos: the "truth" HI field of lodi's simulated worlds (design note: docs/hi-painting.md).
 *
 * For every halo of mass M [Msun/h] at redshift z:
 * 1. M_HI from the Villaescusa-Navarro et al. (2018) FoF relation (src/cosmo hiMass) with log-normal
 *    scatter σ (default 0.3 dex); by default the log-mean is shifted by −σ² ln10 / 2 so that the mean
 *    M_HI at fixed M (hence Ω_HI) equals the relation.
 * 2. A radial profile ρ_HI ∝ r^(−a) exp(−r0/r) (VN18's fitting form; default a = 3) truncated at the
 *    virial radius R_vir = R_200c (comoving; the FoF mass is taken as M_200c), with a per-halo core
 *    r0 = x0 R_vir, log10 x0 ~ N(log10 0.05, 0.2 dex) ("concentration").
 * 3. Mild triaxiality: the profile is stretched along random principal axes (1, q, s)/(q s)^(1/3)
 *    (volume preserving) with q, s/q ~ U(0.7, 1), and rotated by a uniformly random rotation.
 * 4. Satellite clumps: halos above `satelliteMinMass` get Poisson(λ = 3 (M/10^12)^0.5) clumps that carry
 *    a fraction `satelliteFraction` of M_HI (split with Dirichlet(1) weights), centred at radii drawn
 *    from the same profile (x ≥ 0.1), each a Gaussian blob of σ = 0.05 R_vir.
 * 5. The HI mass is carried by "HI particles" (positions + masses) that go through the same gridding
 *    path as real HI (src/field prepareGrids): per halo n = clamp(ceil(M_HI / particleMass), minParticles,
 *    maxParticles) particles; every component's particle masses sum to the component's mass (the last
 *    particle takes the remainder), so the painted total equals the drawn total to round-off.
 *
 * Randomness: halo h draws from its own stream Rng(mix(seed, h)), so a halo's HI does not depend on the
 * other halos or on processing order.
 */
import { CAMELS_CV, hiHaloParams, hiMass, rhoCrit, type Cosmology, type HIHaloParams } from '../cosmo/index.js';
import { Rng } from '../util/rng.js';

export interface HiPaintOptions {
  /** Box side [Mpc/h]. */
  boxSize: number;
  redshift: number;
  seed: number;
  cosmo?: Cosmology;
  /** M_HI(M) parameters (default: VN18 FoF fit interpolated to the redshift). */
  hiParams?: HIHaloParams;
  /** Log-normal scatter of M_HI at fixed M [dex] (default 0.3). */
  scatterDex?: number;
  /** Keep the mean (true, default) or the median (false) of M_HI at fixed M on the relation. */
  preserveMean?: boolean;
  /** Inner slope a of ρ_HI ∝ r^−a exp(−r0/r) (default 3). */
  slope?: number;
  /** Median r0 / R_vir (default 0.05). */
  coreMedian?: number;
  /** Scatter of log10(r0 / R_vir) [dex] (default 0.2). */
  coreScatterDex?: number;
  /** Random triaxial stretch and orientation (default true). */
  triaxial?: boolean;
  /** Smallest axis ratio drawn for q and s/q (default 0.7). */
  axisRatioMin?: number;
  /** Fraction of M_HI in satellite clumps, when a halo has any (default 0.2). */
  satelliteFraction?: number;
  /** Smallest halo mass with satellite clumps [Msun/h] (default 1e11). */
  satelliteMinMass?: number;
  /** Target mass per HI particle [Msun/h] (default 1e7). */
  particleMass?: number;
  /** Particles per halo: at least (default 8) and at most (default 2000). */
  minParticles?: number;
  maxParticles?: number;
}

export interface HaloInput {
  /** Halo centres [Mpc/h], flat [nh*3]. */
  positions: ArrayLike<number>;
  /** Halo masses [Msun/h]. */
  masses: ArrayLike<number>;
}

export interface HiParticles {
  /** HI particle positions [Mpc/h], flat [n*3], wrapped into [0, L). */
  positions: Float32Array;
  /** HI particle masses [Msun/h]. */
  masses: Float64Array;
  /** Index of the host halo of every particle. */
  halo: Int32Array;
  /** Drawn M_HI per halo [Msun/h] (the sum of its particles' masses). */
  haloHI: Float64Array;
  /** R_vir = R_200c per halo [comoving Mpc/h]. */
  rVir: Float64Array;
  /** Number of satellite clumps per halo. */
  satellites: Int32Array;
}

/** 32-bit hash of (seed, index) for independent per-item random streams. */
export function streamSeed(seed: number, index: number): number {
  let h = (seed >>> 0) ^ Math.imul((index + 1) >>> 0, 0x9e3779b1);
  h ^= Math.floor(seed / 4294967296) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Comoving R_200c [Mpc/h] of mass M [Msun/h] at redshift z. */
export function virialRadius(M: number, z: number, cosmo: Cosmology = CAMELS_CV): number {
  const rPhys = Math.cbrt((3 * M) / (4 * Math.PI * 200 * rhoCrit(cosmo, z)));
  return rPhys * (1 + z);
}

/**
 * Cumulative mass profile of ρ ∝ x^−a exp(−x0/x) on x = r/R_vir ∈ [0, 1]: a table of (x, F(x)) with
 * F(1) = 1, integrated on a fine log grid (the integrand x^(3−a) e^(−x0/x) per ln x).
 */
export class ProfileTable {
  readonly x: Float64Array;
  readonly cdf: Float64Array;

  constructor(
    readonly x0: number,
    readonly slope: number,
    points = 400,
  ) {
    const lmin = Math.log(Math.max(1e-8, x0 / 60));
    const lmax = 0;
    this.x = new Float64Array(points);
    this.cdf = new Float64Array(points);
    const dl = (lmax - lmin) / (points - 1);
    const f = (l: number): number => {
      const x = Math.exp(l);
      return Math.pow(x, 3 - slope) * Math.exp(-x0 / x);
    };
    let acc = 0;
    this.x[0] = Math.exp(lmin);
    for (let i = 1; i < points; i++) {
      const l0 = lmin + (i - 1) * dl;
      const l1 = l0 + dl;
      // Simpson on each interval
      acc += (dl / 6) * (f(l0) + 4 * f(0.5 * (l0 + l1)) + f(l1));
      this.x[i] = Math.exp(l1);
      this.cdf[i] = acc;
    }
    for (let i = 0; i < points; i++) this.cdf[i] = this.cdf[i]! / acc;
    this.x[points - 1] = 1;
    this.cdf[points - 1] = 1;
  }

  /** x with F(x) = u (u in [0, 1)), linear interpolation in ln x. */
  sample(u: number): number {
    const c = this.cdf;
    let lo = 0;
    let hi = c.length - 1;
    while (hi - lo > 1) {
      const m = (lo + hi) >> 1;
      if (c[m]! <= u) lo = m;
      else hi = m;
    }
    const t = (u - c[lo]!) / Math.max(1e-300, c[hi]! - c[lo]!);
    return Math.exp(Math.log(this.x[lo]!) + t * (Math.log(this.x[hi]!) - Math.log(this.x[lo]!)));
  }
}

/** Uniformly random rotation matrix (row-major 3×3) from a unit quaternion. */
function randomRotation(rng: Rng): number[] {
  const u1 = rng.uniform();
  const u2 = rng.uniform() * 2 * Math.PI;
  const u3 = rng.uniform() * 2 * Math.PI;
  const a = Math.sqrt(1 - u1);
  const b = Math.sqrt(u1);
  const qw = a * Math.sin(u2);
  const qx = a * Math.cos(u2);
  const qy = b * Math.sin(u3);
  const qz = b * Math.cos(u3);
  return [
    1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qz * qw), 2 * (qx * qz + qy * qw),
    2 * (qx * qy + qz * qw), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qx * qw),
    2 * (qx * qz - qy * qw), 2 * (qy * qz + qx * qw), 1 - 2 * (qx * qx + qy * qy),
  ];
}

/** Uniform unit vector. */
function randomDirection(rng: Rng): [number, number, number] {
  const mu = 2 * rng.uniform() - 1;
  const phi = 2 * Math.PI * rng.uniform();
  const s = Math.sqrt(1 - mu * mu);
  return [s * Math.cos(phi), s * Math.sin(phi), mu];
}

/** Draws the HI of every halo and returns it as HI particles (see the module comment). */
export function paintHI(halos: HaloInput, o: HiPaintOptions): HiParticles {
  const cosmo = o.cosmo ?? CAMELS_CV;
  const z = o.redshift;
  const L = o.boxSize;
  const params = o.hiParams ?? hiHaloParams(z);
  const sigma = o.scatterDex ?? 0.3;
  const shift = o.preserveMean === false ? 0 : -0.5 * sigma * sigma * Math.LN10; // dex
  const slope = o.slope ?? 3;
  const coreMed = o.coreMedian ?? 0.05;
  const coreSig = o.coreScatterDex ?? 0.2;
  const triaxial = o.triaxial ?? true;
  const qMin = o.axisRatioMin ?? 0.7;
  const fSat = o.satelliteFraction ?? 0.2;
  const satMin = o.satelliteMinMass ?? 1e11;
  const mPart = o.particleMass ?? 1e7;
  const nMin = Math.max(1, o.minParticles ?? 8);
  const nMax = Math.max(nMin, o.maxParticles ?? 2000);
  const nh = halos.masses.length;

  const pos: number[] = [];
  const mass: number[] = [];
  const host: number[] = [];
  const haloHI = new Float64Array(nh);
  const rVir = new Float64Array(nh);
  const sats = new Int32Array(nh);
  const wrap = (v: number): number => {
    let w = v - Math.floor(v / L) * L;
    if (Math.fround(w) >= L) w = 0;
    return w;
  };

  for (let h = 0; h < nh; h++) {
    const M = halos.masses[h]!;
    const mean = hiMass(M, z, params);
    if (!(mean > 0)) continue;
    const rng = new Rng(streamSeed(o.seed, h));
    const mhi = mean * Math.pow(10, sigma * rng.normal() + shift);
    haloHI[h] = mhi;
    const R = virialRadius(M, z, cosmo);
    rVir[h] = R;
    const x0 = Math.min(0.5, Math.max(0.005, coreMed * Math.pow(10, coreSig * rng.normal())));
    const table = new ProfileTable(x0, slope);
    // shape: axis stretch + rotation
    let ax = [1, 1, 1];
    let rot = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    if (triaxial) {
      const q = qMin + (1 - qMin) * rng.uniform();
      const s = q * (qMin + (1 - qMin) * rng.uniform());
      const norm = Math.cbrt(q * s);
      ax = [1 / norm, q / norm, s / norm];
      rot = randomRotation(rng);
    }
    const cx = halos.positions[3 * h]!;
    const cy = halos.positions[3 * h + 1]!;
    const cz = halos.positions[3 * h + 2]!;
    const place = (lx: number, ly: number, lz: number, m: number): void => {
      const sx = lx * ax[0]!;
      const sy = ly * ax[1]!;
      const sz = lz * ax[2]!;
      pos.push(
        wrap(cx + rot[0]! * sx + rot[1]! * sy + rot[2]! * sz),
        wrap(cy + rot[3]! * sx + rot[4]! * sy + rot[5]! * sz),
        wrap(cz + rot[6]! * sx + rot[7]! * sy + rot[8]! * sz),
      );
      mass.push(m);
      host.push(h);
    };
    // satellites
    let nSat = M >= satMin && fSat > 0 ? rng.poisson(3 * Math.sqrt(M / 1e12)) : 0;
    const nTot = Math.min(nMax, Math.max(nMin, Math.ceil(mhi / mPart)));
    if (nSat > 0) nSat = Math.min(nSat, Math.max(0, nTot - 1));
    sats[h] = nSat;
    const mSatTot = nSat > 0 ? fSat * mhi : 0;
    const mCen = mhi - mSatTot;
    const nSatParts = nSat > 0 ? Math.max(nSat, Math.round(nTot * fSat)) : 0;
    const nCen = Math.max(1, nTot - nSatParts);
    // central component
    const per = mCen / nCen;
    let used = 0;
    for (let i = 0; i < nCen; i++) {
      const m = i === nCen - 1 ? mCen - used : per;
      used += m;
      const r = table.sample(rng.uniform()) * R;
      const [dx, dy, dz] = randomDirection(rng);
      place(r * dx, r * dy, r * dz, m);
    }
    if (nSat > 0) {
      const w: number[] = [];
      let ws = 0;
      for (let k = 0; k < nSat; k++) {
        const e = -Math.log(1 - rng.uniform());
        w.push(e);
        ws += e;
      }
      // particles per clump: one each, the rest proportional to the clump's weight
      const np = w.map((e) => 1 + Math.floor(((nSatParts - nSat) * e) / ws));
      let usedSat = 0;
      for (let k = 0; k < nSat; k++) {
        const mk = k === nSat - 1 ? mSatTot - usedSat : (mSatTot * w[k]!) / ws;
        usedSat += mk;
        const rc = Math.max(0.1, table.sample(rng.uniform())) * R;
        const [ux, uy, uz] = randomDirection(rng);
        const sig = 0.05 * R;
        const nk = np[k]!;
        const pk = mk / nk;
        let usedK = 0;
        for (let i = 0; i < nk; i++) {
          const m = i === nk - 1 ? mk - usedK : pk;
          usedK += m;
          place(rc * ux + sig * rng.normal(), rc * uy + sig * rng.normal(), rc * uz + sig * rng.normal(), m);
        }
      }
    }
  }
  return {
    positions: Float32Array.from(pos),
    masses: Float64Array.from(mass),
    halo: Int32Array.from(host),
    haloHI,
    rVir,
    satellites: sats,
  };
}
