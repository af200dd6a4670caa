/**
 * Lagrangian -> Eulerian halo positions with the LPT displacements of the initial conditions (Davies et al.
 * 2025, Sec. 2.2: halos move with the matter field by 2LPT, Scoccimarro 1998): x = q + D(z) Psi1(q) +
 * D2(z) Psi2(q), the convention of src/nbody/ic.ts, with each displacement component read out at q from the
 * fine grid by cloud-in-cell interpolation (src/field/mas.ts `readout`).
 */
import type { Tensor } from '@lodi/torch';
import { growthFactor, growthFactor2 } from '../../cosmo/background.js';
import type { Cosmology } from '../../cosmo/params.js';
import { readout } from '../../field/mas.js';
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

/** Eulerian positions [Mpc/h] at redshift z of halos at Lagrangian positions `lag` [count * 3], in [0, L). */
export function eulerianPositions(lag: Float32Array, z: number, cosmo: Cosmology, disp: DisplacementField): Float32Array {
  const { n, boxSize } = disp;
  const D1 = growthFactor(cosmo, z);
  const D2 = disp.psi2 ? growthFactor2(cosmo, z) : 0;
  const out = new Float32Array(lag.length);
  const count = lag.length / 3;
  for (let c = 0; c < 3; c++) {
    const s1 = readout(disp.psi1[c]!, n, boxSize, lag, 'CIC');
    const s2 = disp.psi2 ? readout(disp.psi2[c]!, n, boxSize, lag, 'CIC') : null;
    for (let i = 0; i < count; i++) {
      const x = lag[3 * i + c]! + D1 * s1[i]! + (s2 ? D2 * s2[i]! : 0);
      out[3 * i + c] = wrapCoord(x, boxSize);
    }
  }
  return out;
}
