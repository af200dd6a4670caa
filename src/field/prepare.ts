/**
 * Training-grid preparation of the LODI paper (Sec. 2): from particles and halos to
 *   - ρ_DM: CIC of the dark-matter particles [(Msun/h)/(Mpc/h)^3],
 *   - ρ_h^(i): halo centres CIC-painted with their masses into top-hat mass bins (default edges
 *     3e10, 1e11, 5e11, 1e12, ∞ Msun), one channel per bin [(Msun/h)/(Mpc/h)^3], shape [C,N,N,N],
 *   - ρ_HI: CIC of M_HI = m_g x_HI X per gas particle (X = 0.76; x_HI := 1 where SFR > 0), or of
 *     HI masses given directly [(Msun/h)/(Mpc/h)^3],
 *   - T_b = 189 h (H0 (1+z)^2 / H(z)) ρ_HI / ρ_c [mK] (paper Eq. 12, ρ_c = 3 H0^2 / 8πG),
 * all smoothed with a Gaussian of radius R (default 0.2 Mpc/h; 0 disables). Data in, grids out:
 * no file access, so both `lodi prepare` and the simulator use it.
 */
import { brightnessTemperatureFactor, DEFAULT_T_CMB, type Cosmology } from '../cosmo/index.js';
import { massBinEdgesMsunH, type MassBins } from '../io/units.js';
import { paint, type MassAssignment } from './mas.js';
import { gaussianSmooth } from './fourier.js';

/** Hydrogen mass fraction X used in M_HI = m_g x_HI X. */
export const HYDROGEN_FRACTION = 0.76;

/** The paper's halo mass-bin edges, in Msun (no h). */
export const PAPER_MASS_BINS_MSUN: readonly number[] = [3e10, 1e11, 5e11, 1e12, Infinity];

export type Stream<T> = T | Iterable<T> | AsyncIterable<T>;

export interface DmParticles {
  /** Mpc/h, flat [n*3]. */
  positions: Float32Array | Float64Array;
  /** Msun/h per particle, or `particleMass` for all. */
  masses?: Float32Array | Float64Array;
  particleMass?: number;
}

export interface HaloCatalogue {
  /** Halo centres in Mpc/h, flat [n*3]. */
  positions: Float32Array | Float64Array;
  /** Msun/h. */
  masses: ArrayLike<number>;
}

export interface GasParticles {
  positions: Float32Array | Float64Array;
  /** Msun/h. */
  masses: Float32Array | Float64Array;
  /** Neutral hydrogen fraction n_HI / n_H. */
  xHI: Float32Array | Float64Array;
  /** Star-formation rate (Msun/yr); where > 0, x_HI := 1. */
  sfr: Float32Array | Float64Array;
}

export interface HiParticles {
  positions: Float32Array | Float64Array;
  /** HI mass per particle in Msun/h. */
  mHI: Float32Array | Float64Array;
}

export interface PrepareInput {
  /** Mpc/h. */
  boxSize: number;
  redshift: number;
  /** Cells per side N. */
  grid: number;
  /** Background cosmology for H(z) (flat: Omega_Lambda = 1 − Omega_m − Omega_r). */
  cosmology: { Omega_m: number; h: number; Omega_r?: number; Omega_b?: number; n_s?: number; sigma8?: number };
  dm?: Stream<DmParticles>;
  halos?: HaloCatalogue;
  gas?: Stream<GasParticles>;
  hiParticles?: Stream<HiParticles>;
  /** Default: the paper's edges in Msun. */
  massBins?: MassBins;
  /** Gaussian smoothing radius in Mpc/h (default 0.2; 0 disables). */
  smoothingR?: number;
  /** Mass assignment (default CIC, as in the paper). */
  mas?: MassAssignment;
}

export interface PreparedGrids {
  /** ρ_DM in (Msun/h)/(Mpc/h)^3, [N,N,N] (absent without DM input). */
  dm?: Float32Array;
  /** Halo mass density per bin in (Msun/h)/(Mpc/h)^3, [C,N,N,N] (absent without halos). */
  halos?: Float32Array;
  /** ρ_HI in (Msun/h)/(Mpc/h)^3 (absent without gas or HI particles). */
  hi?: Float32Array;
  /** T_b in mK. */
  tb?: Float32Array;
  meta: PreparedMeta;
}

export interface PreparedMeta {
  boxSize: number;
  redshift: number;
  grid: number;
  /** (Mpc/h)^3. */
  cellVolume: number;
  smoothingR: number;
  mas: MassAssignment;
  /** Mass-bin edges in Msun/h (as used) and as given. */
  massBinsMsunH: number[];
  massBins: MassBins;
  channels: string[];
  /** T_b [mK] per unit ρ_HI [(Msun/h)/(Mpc/h)^3]. */
  tbFactor: number;
  /** Totals painted, before smoothing: Msun/h. */
  totals: { dm: number; halos: number[]; hi: number };
  counts: { dm: number; halos: number[]; halosBelowFirstEdge: number; gas: number; starForming: number; hiParticles: number };
}

function isSingle<T extends object>(s: Stream<T>): s is T {
  return typeof s === 'object' && s !== null && 'positions' in s;
}

async function* chunksOf<T extends object>(s: Stream<T>): AsyncGenerator<T> {
  if (isSingle(s)) {
    yield s;
    return;
  }
  for await (const c of s as AsyncIterable<T>) yield c;
}

function sumOf(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** HI masses M_HI = m_g x_HI X [Msun/h], with x_HI := 1 where SFR > 0. */
export function gasHiMass(gas: GasParticles): { mHI: Float32Array; starForming: number } {
  const n = gas.masses.length;
  if (gas.xHI.length !== n || gas.sfr.length !== n || gas.positions.length !== 3 * n) {
    throw new Error(`gas arrays disagree: ${gas.positions.length / 3} positions, ${n} masses, ${gas.xHI.length} x_HI, ${gas.sfr.length} SFR`);
  }
  const mHI = new Float32Array(n);
  let sf = 0;
  for (let i = 0; i < n; i++) {
    const starForming = gas.sfr[i]! > 0;
    if (starForming) sf++;
    mHI[i] = gas.masses[i]! * (starForming ? 1 : gas.xHI[i]!) * HYDROGEN_FRACTION;
  }
  return { mHI, starForming: sf };
}

/** Channel names for the mass bins, e.g. "M in [3e10, 1e11) Msun". */
function channelNames(bins: MassBins): string[] {
  const f = (v: number): string => (Number.isFinite(v) ? v.toExponential(1).replace('.0e', 'e').replace('e+', 'e') : 'inf');
  return bins.edges.slice(0, -1).map((e, i) => `M in [${f(e)}, ${f(bins.edges[i + 1]!)}) ${bins.unit}`);
}

/** Builds the LODI training grids from particles, halos and gas (see the module comment). */
export async function prepareGrids(input: PrepareInput): Promise<PreparedGrids> {
  const { boxSize, grid: n, redshift } = input;
  if (!Number.isInteger(n) || n < 2) throw new Error(`grid must be an integer >= 2, got ${n}`);
  if (!(boxSize > 0)) throw new Error(`boxSize must be positive (Mpc/h), got ${boxSize}`);
  if (!(redshift >= 0) && !(redshift > -1e-6)) throw new Error(`redshift must be >= 0, got ${redshift}`);
  const z = Math.max(0, redshift);
  const R = input.smoothingR ?? 0.2;
  const mas = input.mas ?? 'CIC';
  const h = input.cosmology.h;
  const bins = input.massBins ?? { edges: PAPER_MASS_BINS_MSUN, unit: 'Msun' };
  const edgesH = massBinEdgesMsunH(bins, h);
  const nc = edgesH.length - 1;
  const n3 = n * n * n;
  const cellVolume = (boxSize / n) ** 3;
  const cosmo: Cosmology = {
    Omega_m: input.cosmology.Omega_m,
    h,
    Omega_b: input.cosmology.Omega_b ?? 0.049,
    n_s: input.cosmology.n_s ?? 0.96,
    sigma8: input.cosmology.sigma8 ?? 0.8,
    T_cmb: DEFAULT_T_CMB,
    Omega_r: input.cosmology.Omega_r ?? 0,
  };
  const tbFactor = brightnessTemperatureFactor(cosmo, z);
  const meta: PreparedMeta = {
    boxSize,
    redshift: z,
    grid: n,
    cellVolume,
    smoothingR: R,
    mas,
    massBinsMsunH: edgesH,
    massBins: { edges: [...bins.edges], unit: bins.unit },
    channels: channelNames(bins),
    tbFactor,
    totals: { dm: 0, halos: new Array(nc).fill(0), hi: 0 },
    counts: { dm: 0, halos: new Array(nc).fill(0), halosBelowFirstEdge: 0, gas: 0, starForming: 0, hiParticles: 0 },
  };
  const out: PreparedGrids = { meta };
  const finish = (mass: Float32Array, shape: number[]): Float32Array => {
    const inv = 1 / cellVolume;
    for (let i = 0; i < mass.length; i++) mass[i]! *= inv;
    return R > 0 ? gaussianSmooth(mass, shape, boxSize, R, { nonNegative: true }) : mass;
  };

  if (input.dm) {
    const g = new Float32Array(n3);
    for await (const c of chunksOf(input.dm)) {
      const np = c.positions.length / 3;
      const w = c.masses ?? c.particleMass;
      if (w === undefined) throw new Error('dm particles need masses or particleMass (Msun/h)');
      paint(c.positions, { grid: n, boxSize, mas, weights: w, out: g });
      meta.counts.dm += np;
      meta.totals.dm += typeof w === 'number' ? w * np : sumOf(w);
    }
    out.dm = finish(g, [n, n, n]);
  }

  if (input.halos) {
    const { positions, masses } = input.halos;
    const nh = masses.length;
    if (positions.length !== 3 * nh) throw new Error(`halos: ${positions.length / 3} positions for ${nh} masses`);
    const g = new Float32Array(nc * n3);
    // Split halos by bin, then paint each bin into its channel.
    const binOf = new Int32Array(nh).fill(-1);
    for (let i = 0; i < nh; i++) {
      const m = masses[i]!;
      if (!(m >= edgesH[0]!)) {
        meta.counts.halosBelowFirstEdge++;
        continue;
      }
      for (let b = 0; b < nc; b++) {
        if (m < edgesH[b + 1]! || (b === nc - 1 && m === edgesH[nc]!)) {
          binOf[i] = b;
          break;
        }
      }
    }
    for (let b = 0; b < nc; b++) {
      let cnt = 0;
      for (let i = 0; i < nh; i++) if (binOf[i] === b) cnt++;
      if (cnt === 0) continue;
      const pos = new Float32Array(3 * cnt);
      const w = new Float32Array(cnt);
      let j = 0;
      for (let i = 0; i < nh; i++) {
        if (binOf[i] !== b) continue;
        pos[3 * j] = positions[3 * i]!;
        pos[3 * j + 1] = positions[3 * i + 1]!;
        pos[3 * j + 2] = positions[3 * i + 2]!;
        w[j] = masses[i]!;
        meta.totals.halos[b] += masses[i]!;
        j++;
      }
      meta.counts.halos[b] = cnt;
      paint(pos, { grid: n, boxSize, mas, weights: w, out: g.subarray(b * n3, (b + 1) * n3) });
    }
    out.halos = finish(g, [nc, n, n, n]);
  }

  if (input.gas || input.hiParticles) {
    const g = new Float32Array(n3);
    if (input.gas) {
      for await (const c of chunksOf(input.gas)) {
        const { mHI, starForming } = gasHiMass(c);
        paint(c.positions, { grid: n, boxSize, mas, weights: mHI, out: g });
        meta.counts.gas += mHI.length;
        meta.counts.starForming += starForming;
        meta.totals.hi += sumOf(mHI);
      }
    }
    if (input.hiParticles) {
      for await (const c of chunksOf(input.hiParticles)) {
        if (c.mHI.length * 3 !== c.positions.length) throw new Error(`hiParticles: ${c.positions.length / 3} positions for ${c.mHI.length} HI masses`);
        paint(c.positions, { grid: n, boxSize, mas, weights: c.mHI, out: g });
        meta.counts.hiParticles += c.mHI.length;
        meta.totals.hi += sumOf(c.mHI);
      }
    }
    const hi = finish(g, [n, n, n]);
    out.hi = hi;
    const tb = new Float32Array(n3);
    for (let i = 0; i < n3; i++) tb[i] = hi[i]! * tbFactor;
    out.tb = tb;
  }
  return out;
}
