/**
 * Initial conditions: a Gaussian random field with the linear power spectrum, and particles displaced
 * from a regular Lagrangian lattice by first-order (Zel'dovich) or second-order (2LPT) Lagrangian
 * perturbation theory.
 *
 * Conventions (Scoccimarro 1998): x = q - D1 ∇φ1 + D2 ∇φ2 with ∇²φ1 = δ_L(q) (the linear density at
 * z = 0, D normalised to D(0) = 1) and ∇²φ2 = Σ_{i<j} (φ1,ii φ1,jj − φ1,ij²); D2 ≈ −(3/7) D1² Ω_m(z)^(−1/143)
 * (src/cosmo growthFactor2). Particles sit on the CIC nodes q = (i, j, k) L / N.
 *
 * Momentum variable (shared with the PM integrator): p = a³ E(a) dx/da = a² E(a) dx/dlna in units of
 * H0 × Mpc/h (multiply by 100 for km/s·a); the peculiar velocity is v = 100 p / a km/s and the Gadget
 * velocity variable is 100 p / a^1.5.
 *
 * Fourier normalisation: δ_k = Σ_x δ(x) e^{-ik·x} (numpy convention), ⟨|δ_k|²⟩ = P(k) N^6 / L^3.
 */
import { F, Generator, noGrad, tensor, tidy, type Tensor } from '@lodi/torch';
import {
  CAMELS_CV,
  E,
  LinearPower,
  growthFactor,
  growthFactor2,
  growthRate,
  growthRate2,
  RHO_CRIT0_H2,
  type Cosmology,
} from '../cosmo/index.js';
import { kTensors, radialHalfGrid } from '../field/kgrid.js';

export interface GaussianFieldOptions {
  /** Box side [Mpc/h]. */
  boxSize: number;
  /** Grid points per side. */
  n: number;
  /** Seed of the engine generator that draws the white noise. */
  seed: number;
  /** Linear P(k) at z = 0 [(Mpc/h)^3]; default EH with the cosmology's sigma8. */
  power: LinearPower;
  /** Fix every mode's amplitude to sqrt(P) (Angulo & Pontzen 2016); phases stay random. */
  fixedAmplitude?: boolean;
  /** Shift every phase by π (the "paired" partner of the same seed). */
  pairedPhase?: boolean;
}

/** Squared fundamental-frequency multiple → P(k) on the half grid with the DC mode set to 0. */
function amplitudeGrid(o: GaussianFieldOptions, fixed: boolean): Float32Array {
  const { n, boxSize } = o;
  const kF = (2 * Math.PI) / boxSize;
  const V = boxSize ** 3;
  // regular: δ_k = w_k sqrt(P N^3 / V) with ⟨|w_k|²⟩ = N^3; fixed: δ_k = (w_k/|w_k|) sqrt(P N^6 / V)
  const scale = fixed ? Math.pow(n, 6) / V : Math.pow(n, 3) / V;
  return radialHalfGrid(n, (k2) => (k2 === 0 ? 0 : Math.sqrt(o.power.P0(Math.sqrt(k2) * kF) * scale)));
}

/**
 * Fourier transform (rfftn, [n, n, n/2+1] complex64) of the linear density contrast at z = 0.
 * The white noise is drawn in real space, so the field is exactly the transform of a real field.
 */
export function linearDensityK(o: GaussianFieldOptions): Tensor {
  return noGrad(() =>
    tidy(() => {
      const gen = new Generator(o.seed);
      const { n } = o;
      const w = F.randn([n, n, n], gen);
      let wk = F.rfftn(w);
      if (o.fixedAmplitude) {
        const mag = wk.abs().clamp(1e-30, null);
        wk = wk.div(mag);
      }
      const amp = tensor(amplitudeGrid(o, o.fixedAmplitude ?? false), [n, n, Math.floor(n / 2) + 1]);
      let dk = wk.mul(amp);
      if (o.pairedPhase) dk = dk.neg();
      return dk;
    }),
  );
}

/** Linear density contrast δ_L(x) at z = 0 on the n^3 grid (float32, C order). */
export function gaussianField(o: GaussianFieldOptions): Float32Array {
  return noGrad(() =>
    tidy(() => {
      const dk = linearDensityK(o);
      return F.irfftn(dk, [o.n, o.n, o.n]).toFloat32Array();
    }),
  );
}

/** Displacement fields at D = 1 on the Lagrangian lattice, flat [n^3 * 3] (x,y,z per node), Mpc/h. */
export interface LptFields {
  psi1: Float32Array;
  /** Second-order displacement ∇φ2 (multiplied by D2 < 0 at use); absent for Zel'dovich. */
  psi2?: Float32Array;
}

const interleave = (cs: Float32Array[], n3: number): Float32Array => {
  const out = new Float32Array(3 * n3);
  const [a, b, c] = cs as [Float32Array, Float32Array, Float32Array];
  for (let i = 0; i < n3; i++) {
    out[3 * i] = a[i]!;
    out[3 * i + 1] = b[i]!;
    out[3 * i + 2] = c[i]!;
  }
  return out;
};

/**
 * First- and (optionally) second-order LPT displacements from the linear density δ_L(k) at z = 0:
 * Ψ1 = −∇φ1 (Ψ1_k = i k δ_k / k²) and Ψ2 = ∇φ2 (Ψ2_k = −i k S_k / k²).
 */
export function lptDisplacements(dk: Tensor, n: number, boxSize: number, order: 1 | 2): LptFields {
  return noGrad(() =>
    tidy(() => {
      const n3 = n * n * n;
      const size = [n, n, n];
      const [kx, ky, kz] = kTensors(n, boxSize, false);
      const [gx, gy, gz] = kTensors(n, boxSize, true); // odd operators: Nyquist zeroed
      const kF2 = ((2 * Math.PI) / boxSize) ** 2;
      const invK2 = tensor(radialHalfGrid(n, (m2) => (m2 === 0 ? 0 : 1 / (m2 * kF2))), [n, n, Math.floor(n / 2) + 1]);
      const I = F.complex(tensor(new Float32Array([0])), tensor(new Float32Array([1])));
      const phiK = dk.mul(invK2); // = -φ1_k ... δ/k² ; Ψ1_k = i k δ/k²
      const iPhi = phiK.mul(I);
      const psi1 = [gx, gy, gz].map((g) => F.irfftn(iPhi.mul(g), size).toFloat32Array());
      const out: LptFields = { psi1: interleave(psi1, n3) };
      if (order === 2) {
        // φ1,ij (k) = k_i k_j δ/k² (real multipliers; the sign of φ1 = −δ/k² and (ik)(ik) = −k k cancel)
        const d = (a: Tensor, b: Tensor): Float32Array => F.irfftn(phiK.mul(a.mul(b)), size).toFloat32Array();
        const xx = d(kx, kx);
        const yy = d(ky, ky);
        const zz = d(kz, kz);
        const xy = d(gx, gy);
        const xz = d(gx, gz);
        const yz = d(gy, gz);
        const S = new Float32Array(n3);
        for (let i = 0; i < n3; i++) {
          S[i] = xx[i]! * yy[i]! + xx[i]! * zz[i]! + yy[i]! * zz[i]! - xy[i]! * xy[i]! - xz[i]! * xz[i]! - yz[i]! * yz[i]!;
        }
        const Sk = F.rfftn(tensor(S, size));
        const iS = Sk.mul(invK2).mul(I).neg(); // Ψ2_k = −i k S_k / k²
        const psi2 = [gx, gy, gz].map((g) => F.irfftn(iS.mul(g), size).toFloat32Array());
        out.psi2 = interleave(psi2, n3);
      }
      return out;
    }),
  );
}

/** Particles of a periodic box; the state of the PM integrator. */
export interface ParticleState {
  /** Box side [Mpc/h]. */
  boxSize: number;
  /** Particles per side (np = n^3). */
  n: number;
  /** Scale factor of positions and momenta. */
  a: number;
  /** Comoving positions [Mpc/h], flat [np*3], in [0, L). */
  positions: Float64Array;
  /** p = a³ E dx/da [H0 Mpc/h], flat [np*3] (see module comment). */
  momenta: Float64Array;
  /** Mass per particle [Msun/h]. */
  particleMass: number;
}

export interface InitialConditionsOptions {
  boxSize: number;
  /** Particles per side. */
  n: number;
  /** Starting redshift (default 49). */
  zInit?: number;
  seed: number;
  cosmo?: Cosmology;
  /** Linear power spectrum (default EH with the cosmology's sigma8). */
  power?: LinearPower;
  /** 1 = Zel'dovich, 2 = 2LPT (default). */
  order?: 1 | 2;
  fixedAmplitude?: boolean;
  pairedPhase?: boolean;
}

/** Mass per particle [Msun/h] of n^3 particles in a box of side L [Mpc/h]. */
export function particleMass(cosmo: Cosmology, boxSize: number, n: number): number {
  return (cosmo.Omega_m * RHO_CRIT0_H2 * boxSize ** 3) / n ** 3;
}

/** Peculiar-velocity factor: Gadget velocity [km/s] = gadgetVelocityFactor(a) × p. */
export function gadgetVelocityFactor(a: number): number {
  return 100 / Math.pow(a, 1.5);
}

/** Lagrangian lattice + LPT displacements and momenta at z_init. */
export function initialConditions(o: InitialConditionsOptions): ParticleState {
  const cosmo = o.cosmo ?? CAMELS_CV;
  const power = o.power ?? new LinearPower(cosmo);
  const zInit = o.zInit ?? 49;
  const order = o.order ?? 2;
  const { n, boxSize } = o;
  const fields = noGrad(() =>
    tidy(() => {
      const dk = linearDensityK({ boxSize, n, seed: o.seed, power, fixedAmplitude: o.fixedAmplitude, pairedPhase: o.pairedPhase });
      return lptDisplacements(dk, n, boxSize, order);
    }),
  );
  const a = 1 / (1 + zInit);
  const D1 = growthFactor(cosmo, zInit);
  const f1 = growthRate(cosmo, zInit);
  const D2 = growthFactor2(cosmo, zInit);
  const f2 = growthRate2(cosmo, zInit);
  const pf = a * a * E(cosmo, zInit);
  const np = n * n * n;
  const positions = new Float64Array(3 * np);
  const momenta = new Float64Array(3 * np);
  const cell = boxSize / n;
  const { psi1, psi2 } = fields;
  let p = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < n; k++, p++) {
        const q = [i * cell, j * cell, k * cell];
        for (let c = 0; c < 3; c++) {
          const s1 = psi1[3 * p + c]!;
          const s2 = psi2 ? psi2[3 * p + c]! : 0;
          positions[3 * p + c] = q[c]! + D1 * s1 + D2 * s2;
          momenta[3 * p + c] = pf * (f1 * D1 * s1 + f2 * D2 * s2);
        }
      }
    }
  }
  for (let i = 0; i < positions.length; i++) {
    const v = positions[i]!;
    if (v < 0 || v >= boxSize) positions[i] = v - Math.floor(v / boxSize) * boxSize;
  }
  return { boxSize, n, a, positions, momenta, particleMass: particleMass(cosmo, boxSize, n) };
}
