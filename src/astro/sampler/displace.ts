/**
 * Lagrangian -> Eulerian halo positions with the LPT displacements of the initial conditions (Davies et al.
 * 2025, Sec. 2.2: halos move with the matter field by 2LPT, Scoccimarro 1998): x = q + D(z) Psi1(q) +
 * D2(z) Psi2(q), the convention of src/nbody/ic.ts, with each displacement component read out at q from the
 * fine grid by cloud-in-cell interpolation (the kernel of src/field/mas.ts `readout`, fused over the six
 * components).
 */
import type { Tensor } from '@lodi/torch';
import { growthFactor, growthFactor2 } from '../../cosmo/background.js';
import type { Cosmology } from '../../cosmo/params.js';
import { lptDisplacements } from '../../nbody/ic.js';
import { wrapCoord } from './buffer.js';

/** Displacement components at D = 1 on the fine grid (nodes i L / n), [n^3] each, Mpc/h. */
export interface DisplacementField {
  n: number;
  boxSize: number;
  psi1: [Float32Array, Float32Array, Float32Array];
  /** Second-order displacement (multiplied by D2 < 0 at use); absent for Zel'dovich. */
  psi2?: [Float32Array, Float32Array, Float32Array];
}

function split(v: Float32Array, n3: number): [Float32Array, Float32Array, Float32Array] {
  const out: [Float32Array, Float32Array, Float32Array] = [new Float32Array(n3), new Float32Array(n3), new Float32Array(n3)];
  for (let i = 0; i < n3; i++) {
    out[0][i] = v[3 * i]!;
    out[1][i] = v[3 * i + 1]!;
    out[2][i] = v[3 * i + 2]!;
  }
  return out;
}

/** First- and (order 2) second-order displacements from the rfftn `dk` of the z = 0 linear density. */
export function displacementField(dk: Tensor, n: number, boxSize: number, order: 1 | 2): DisplacementField {
  const f = lptDisplacements(dk, n, boxSize, order);
  const n3 = n * n * n;
  const out: DisplacementField = { n, boxSize, psi1: split(f.psi1, n3) };
  if (f.psi2) out.psi2 = split(f.psi2, n3);
  return out;
}

/**
 * Cloud-in-cell read-out of several grids at once (weights computed once per point), with the convention of
 * src/field/mas.ts `readout`: nodes at i L / n, periodic. out[g][p] = CIC(grids[g], position p).
 */
export function readoutCicMany(grids: Float32Array[], n: number, boxSize: number, positions: Float32Array): Float32Array[] {
  const np = positions.length / 3;
  const out = grids.map(() => new Float32Array(np));
  const inv = n / boxSize;
  const n2 = n * n;
  const wrap = (v: number): number => {
    let w = v - Math.floor(v / n) * n;
    if (w >= n) w -= n;
    return w;
  };
  const ng = grids.length;
  for (let p = 0; p < np; p++) {
    const dx = wrap(positions[3 * p]! * inv);
    const dy = wrap(positions[3 * p + 1]! * inv);
    const dz = wrap(positions[3 * p + 2]! * inv);
    const ix = dx | 0;
    const iy = dy | 0;
    const iz = dz | 0;
    const ux = dx - ix;
    const uy = dy - iy;
    const uz = dz - iz;
    const x0 = ix * n2;
    const x1 = (ix + 1 === n ? 0 : ix + 1) * n2;
    const y0 = iy * n;
    const y1 = (iy + 1 === n ? 0 : iy + 1) * n;
    const z0 = iz;
    const z1 = iz + 1 === n ? 0 : iz + 1;
    const vx = 1 - ux;
    const vy = 1 - uy;
    const vz = 1 - uz;
    const w000 = vx * vy * vz;
    const w001 = vx * vy * uz;
    const w010 = vx * uy * vz;
    const w011 = vx * uy * uz;
    const w100 = ux * vy * vz;
    const w101 = ux * vy * uz;
    const w110 = ux * uy * vz;
    const w111 = ux * uy * uz;
    for (let g = 0; g < ng; g++) {
      const a = grids[g]!;
      out[g]![p] =
        w000 * a[x0 + y0 + z0]! + w001 * a[x0 + y0 + z1]! + w010 * a[x0 + y1 + z0]! + w011 * a[x0 + y1 + z1]! +
        w100 * a[x1 + y0 + z0]! + w101 * a[x1 + y0 + z1]! + w110 * a[x1 + y1 + z0]! + w111 * a[x1 + y1 + z1]!;
    }
  }
  return out;
}

/** Eulerian positions [Mpc/h] at redshift z of halos at Lagrangian positions `lag` [count * 3], in [0, L). */
export function eulerianPositions(lag: Float32Array, z: number, cosmo: Cosmology, disp: DisplacementField): Float32Array {
  const { n, boxSize } = disp;
  const D1 = growthFactor(cosmo, z);
  const D2 = disp.psi2 ? growthFactor2(cosmo, z) : 0;
  const out = new Float32Array(lag.length);
  const count = lag.length / 3;
  const s = readoutCicMany(disp.psi2 ? [...disp.psi1, ...disp.psi2] : [...disp.psi1], n, boxSize, lag);
  for (let c = 0; c < 3; c++) {
    const s1 = s[c]!;
    const s2 = disp.psi2 ? s[3 + c]! : null;
    for (let i = 0; i < count; i++) {
      const x = lag[3 * i + c]! + D1 * s1[i]! + (s2 ? D2 * s2[i]! : 0);
      out[3 * i + c] = wrapCoord(x, boxSize);
    }
  }
  return out;
}
