import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispose } from '@lodi/torch';
import { growthFactor } from '../../../src/cosmo/background.js';
import { collapseBarrier } from '../../../src/cosmo/conditional.js';
import { CAMELS_CV } from '../../../src/cosmo/params.js';
import { findLagrangianHalos, overlapFraction } from '../../../src/astro/sampler/dexm.js';
import { densityK } from '../../../src/astro/sampler/linear-field.js';
import { DEFAULT_DEXM, SAMPLER_DELTA_C, resolveDexmParams } from '../../../src/astro/sampler/params.js';
import { sigmaCamels } from './helpers.js';

const sig = sigmaCamels();
const n = 32;
const L = 32; // 1 Mpc/h fine cells
const grid = 16; // 2 Mpc/h sampler cells
const cellMass = sig.rhoM * (L / grid) ** 3;
const z = 1;
const D = growthFactor(CAMELS_CV, z);

/** z = 0 linear field: spheres of overdensity `amp` (radius [Mpc/h], centre node), mean removed. */
function spheres(list: { r: number; c: [number, number, number]; amp: number }[]): Float32Array {
  const f = new Float32Array(n * n * n);
  let mean = 0;
  for (let x = 0; x < n; x++)
    for (let y = 0; y < n; y++)
      for (let k = 0; k < n; k++) {
        let v = 0;
        for (const s of list) {
          const d2 = (x - s.c[0]) ** 2 + (y - s.c[1]) ** 2 + (k - s.c[2]) ** 2;
          if (d2 < s.r * s.r) v += s.amp;
        }
        f[(x * n + y) * n + k] = v;
        mean += v;
      }
  mean /= n * n * n;
  for (let i = 0; i < f.length; i++) f[i] = f[i]! - mean;
  return f;
}

function find(field: Float32Array, overlapFactor = DEFAULT_DEXM.overlapFactor) {
  const dk = densityK(field, n);
  try {
    return findLagrangianHalos({ dk, n, boxSize: L, z, sigma: sig, minMass: cellMass, params: resolveDexmParams({ overlapFactor }), rareSigma: 7, deltaC: SAMPLER_DELTA_C });
  } finally {
    dispose(dk);
  }
}

const R0 = 4;
const M0 = sig.mass(R0);
// linear amplitude (z = 0) that crosses the finder's barrier at the sphere's own scale by 20%
const S0 = (sig.sigma(M0) * D) ** 2;
const amp = (1.2 * collapseBarrier(S0, { model: 'st', barrier: DEFAULT_DEXM.barrier, deltaC: SAMPLER_DELTA_C })) / D;

test('the finder recovers a collapsed top-hat sphere at its centre, with about its mass', () => {
  const res = find(spheres([{ r: R0, c: [16, 16, 16], amp }]));
  assert.equal(res.mass.length, 1, `found ${res.mass.length} halos`);
  // the filter radii step by 1.1 (3.3x in mass per 3 steps): the mass is within 1.1^3 of the sphere's
  assert.ok(res.mass[0]! > M0 / 1.331 && res.mass[0]! < M0 * 1.331, `mass ${res.mass[0]} vs ${M0}`);
  for (let a = 0; a < 3; a++) assert.ok(Math.abs(res.pos[a]! - 16) <= 1, `position ${Array.from(res.pos)}`);
  // flagged nodes: inside the radius of the halo found, none outside
  const R = sig.radius(res.mass[0]!);
  let inside = 0;
  for (let x = 0; x < n; x++)
    for (let y = 0; y < n; y++)
      for (let k = 0; k < n; k++) {
        const d = Math.hypot(x - res.pos[0]!, y - res.pos[1]!, k - res.pos[2]!);
        const flag = res.inHalo[(x * n + y) * n + k]!;
        if (d < R - 1e-9) assert.equal(flag, 1, `node (${x},${y},${k}) at ${d} < R = ${R} not flagged`);
        if (d >= R) assert.equal(flag, 0, `node (${x},${y},${k}) at ${d} >= R = ${R} flagged`);
        inside += flag;
      }
  assert.ok(inside > 0);
  // the sampler cells at the centre are (almost) fully covered, cells far away not at all
  const f = overlapFraction(res.inHalo, n, L, grid);
  assert.ok(f[(8 * grid + 8) * grid + 8]! > 0.9, `centre cell ${f[(8 * grid + 8) * grid + 8]}`);
  assert.equal(f[0], 0);
  assert.ok(f.every((v) => v >= 0 && v <= 1));
  // every filtered scale passed the rare-halo cut: 7 sigma(M) >= delta_crit(M)
  for (const r of res.radii) {
    const s = sig.sigma(sig.mass(r)) * D;
    assert.ok(7 * s >= collapseBarrier(s * s, { model: 'st', barrier: DEFAULT_DEXM.barrier, deltaC: SAMPLER_DELTA_C }));
  }
});

/** Distance [cells] from node c to the nearest node strictly within radius r of node o (periodic). */
function nearestFlagged(c: ArrayLike<number>, o: ArrayLike<number>, r: number): number {
  let best = Infinity;
  const ri = Math.ceil(r);
  for (let dx = -ri; dx <= ri; dx++)
    for (let dy = -ri; dy <= ri; dy++)
      for (let dz = -ri; dz <= ri; dz++) {
        if (dx * dx + dy * dy + dz * dz >= r * r) continue;
        const w = (v: number): number => v - n * Math.round(v / n);
        best = Math.min(best, Math.hypot(w(o[0]! + dx - c[0]!), w(o[1]! + dy - c[1]!), w(o[2]! + dz - c[2]!)));
      }
  return best;
}

test('the finder: no halo below the barrier; no flagged node within overlapFactor x R of a new halo', () => {
  assert.equal(find(spheres([{ r: R0, c: [16, 16, 16], amp: amp / 1.5 }])).mass.length, 0);
  // a smaller sphere (R = 2 Mpc/h) centred 2 Mpc/h outside the big one: the big halo's nearest flagged node
  // is 3 Mpc/h away, so the small one is accepted only at a radius below 3 / overlapFactor
  const two = spheres([
    { r: R0, c: [16, 16, 16], amp },
    { r: 2, c: [16 + R0 + 2, 16, 16], amp },
  ]);
  const small: number[] = [];
  for (const factor of [2, 1]) {
    const res = find(two, factor);
    assert.equal(res.mass.length, 2, `overlap factor ${factor}: ${res.mass.length} halos`);
    const order = [0, 1].sort((a, b) => res.mass[b]! - res.mass[a]!);
    const [big, sm] = order as [number, number];
    const cBig = res.pos.subarray(3 * big, 3 * big + 3);
    const cSm = res.pos.subarray(3 * sm, 3 * sm + 3);
    assert.equal(cSm[0], 22, 'the second halo sits on the small sphere');
    const rSmall = sig.radius(res.mass[sm]!);
    const gap = nearestFlagged(cSm, cBig, sig.radius(res.mass[big]!));
    assert.ok(gap >= factor * rSmall, `factor ${factor}: nearest flagged node ${gap} < ${factor} x ${rSmall}`);
    small.push(res.mass[sm]!);
  }
  assert.ok(small[1]! > small[0]!, `the looser overlap rule admits the neighbour at a larger scale: ${small}`);
});
