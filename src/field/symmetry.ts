/**
 * The 48 symmetries of the cube (6 axis permutations × 8 axis flips), for data augmentation.
 *
 * Symmetry `index` (0..47) = permutation `perm = PERMUTATIONS[index >> 3]` followed by flips of the
 * output axes whose bit is set in `index & 7` (bit d flips axis d). On a grid:
 *   B[j0,j1,j2] = A[i] with i[perm[d]] = j_d;  then  C[j] = B[j'] with j'_d = N-1-j_d for flipped d.
 * This is exactly `tensor.permute(perm).flip(flipped)` (the flip convention of torch.flip), so the
 * plain-array and tensor versions agree. Index 0 is the identity.
 */
import type { Tensor } from '@lodi/torch';
import { cubeSize } from './kgrid.js';

export const PERMUTATIONS: readonly (readonly [number, number, number])[] = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
];

export const NUM_SYMMETRIES = 48;

/** Permutation and flipped output axes of symmetry `index`. */
export function symmetryOf(index: number): { perm: readonly [number, number, number]; flips: number[] } {
  if (!Number.isInteger(index) || index < 0 || index >= NUM_SYMMETRIES) throw new Error(`symmetry index must be an integer in 0..47, got ${index}`);
  const perm = PERMUTATIONS[index >> 3]!;
  const flips = [0, 1, 2].filter((d) => (index >> d) & 1);
  return { perm, flips };
}

/** Applies symmetry `index` to a grid of shape [N,N,N] or [C,N,N,N] (each channel alike). */
export function applySymmetry(data: Float32Array, shape: readonly number[], index: number): Float32Array {
  const n = cubeSize(data, shape);
  const { perm, flips } = symmetryOf(index);
  const channels = shape.length === 4 ? shape[0]! : 1;
  const n3 = n * n * n;
  const out = new Float32Array(data.length);
  // Source strides indexed by the output axis d: source axis perm[d] has stride n^(2-perm[d]).
  const stride = perm.map((p) => n ** (2 - p));
  const start = [0, 0, 0];
  const step = [0, 0, 0];
  for (let d = 0; d < 3; d++) {
    const f = flips.includes(d);
    start[d] = f ? (n - 1) * stride[d]! : 0;
    step[d] = f ? -stride[d]! : stride[d]!;
  }
  for (let c = 0; c < channels; c++) {
    const off = c * n3;
    let o = off;
    for (let j0 = 0; j0 < n; j0++) {
      const s0 = off + start[0]! + j0 * step[0]!;
      for (let j1 = 0; j1 < n; j1++) {
        let s = s0 + start[1]! + j1 * step[1]! + start[2]!;
        const st = step[2]!;
        for (let j2 = 0; j2 < n; j2++, s += st) out[o++] = data[s]!;
      }
    }
  }
  return out;
}

/** Applies symmetry `index` to the last three axes of a tensor (e.g. [B,C,N,N,N]); returns a new contiguous tensor. */
export function applySymmetryTensor(t: Tensor, index: number): Tensor {
  const { perm, flips } = symmetryOf(index);
  const lead = t.ndim - 3;
  if (lead < 0) throw new Error(`applySymmetryTensor: need at least 3 dims, got [${t.shape.join(',')}]`);
  const dims = [...Array.from({ length: lead }, (_, i) => i), ...perm.map((p) => p + lead)];
  const p = t.permute(dims);
  if (flips.length === 0) {
    const c = p.contiguous();
    p.dispose();
    return c;
  }
  const f = p.flip(flips.map((d) => d + lead));
  p.dispose();
  return f;
}

/** Index of the symmetry equal to applying `a` first and then `b` (group composition). */
export function composeSymmetries(a: number, b: number): number {
  // Track where a unit test grid's corner coordinates go: act on the signed basis vectors.
  const act = (idx: number, v: number[]): number[] => {
    const { perm, flips } = symmetryOf(idx);
    const w = perm.map((p) => v[p]!);
    for (const d of flips) w[d] = -w[d]!;
    return w;
  };
  const probe = [1, 2, 3];
  const target = act(b, act(a, probe));
  for (let i = 0; i < NUM_SYMMETRIES; i++) {
    const r = act(i, probe);
    if (r[0] === target[0] && r[1] === target[1] && r[2] === target[2]) return i;
  }
  throw new Error('composeSymmetries: no match (cannot happen)');
}
