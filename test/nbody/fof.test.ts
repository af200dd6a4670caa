import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findHalos } from '../../src/nbody/fof.js';
import { Rng } from '../../src/util/rng.js';

/** Brute-force FoF (O(N²)) for reference. */
function bruteGroups(pos: Float64Array, L: number, ll: number): number[] {
  const n = pos.length / 3;
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      let d2 = 0;
      for (let c = 0; c < 3; c++) {
        let d = Math.abs(pos[3 * i + c]! - pos[3 * j + c]!);
        if (d > L / 2) d = L - d;
        d2 += d * d;
      }
      if (d2 <= ll * ll) parent[find(i)] = find(j);
    }
  return Array.from({ length: n }, (_, i) => find(i));
}

function clustered(seed: number, L: number, n: number, clumps: number): Float64Array {
  const rng = new Rng(seed);
  const pos = new Float64Array(3 * n);
  const centres = Array.from({ length: clumps }, () => [rng.uniform() * L, rng.uniform() * L, rng.uniform() * L]);
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) {
      for (let c = 0; c < 3; c++) pos[3 * i + c] = rng.uniform() * L;
    } else {
      const cc = centres[i % clumps]!;
      const s = 0.02 * L * (1 + (i % 5));
      for (let c = 0; c < 3; c++) {
        let v = cc[c]! + s * rng.normal();
        v -= Math.floor(v / L) * L;
        pos[3 * i + c] = v;
      }
    }
  }
  return pos;
}

test('FoF groups equal a brute-force search (periodic, clumps across the boundary)', () => {
  const L = 10;
  const n = 1500;
  const pos = clustered(3, L, n, 12);
  // one clump straddling the corner of the box
  for (let i = 0; i < 60; i++) for (let c = 0; c < 3; c++) pos[3 * i + c] = ((i % 2 === 0 ? 0.05 : L - 0.05) + 0.01 * (i % 7)) % L;
  const res = findHalos(pos, L, { b: 0.2, minMembers: 2 });
  const ll = 0.2 * (L / Math.cbrt(n));
  assert.ok(Math.abs(res.linkingLength - ll) < 1e-12);
  const roots = bruteGroups(pos, L, ll);
  const size = new Map<number, number>();
  for (const r of roots) size.set(r, (size.get(r) ?? 0) + 1);
  // same partition: particles share a group in one iff they share it in the other
  const map = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const g = res.groupOf[i]!;
    const big = size.get(roots[i]!)! >= 2;
    assert.equal(g >= 0, big, `particle ${i}`);
    if (g < 0) continue;
    if (!map.has(roots[i]!)) map.set(roots[i]!, g);
    assert.equal(map.get(roots[i]!), g);
  }
  const nBig = [...size.values()].filter((s) => s >= 2).length;
  assert.equal(res.len.length, nBig);
  for (let g = 1; g < res.len.length; g++) assert.ok(res.len[g - 1]! >= res.len[g]!);
});

test('FoF periodic centre of mass, masses and the 20-member minimum', () => {
  const L = 20;
  const rng = new Rng(9);
  const pts: number[] = [];
  // 30 particles around the corner (0,0,0), 10 near the centre (too few), 200 random background
  for (let i = 0; i < 30; i++) for (let c = 0; c < 3; c++) pts.push((L + 0.05 * rng.normal()) % L);
  for (let i = 0; i < 10; i++) for (let c = 0; c < 3; c++) pts.push(10 + 0.05 * rng.normal());
  for (let i = 0; i < 200; i++) for (let c = 0; c < 3; c++) pts.push(rng.uniform() * L);
  const pos = Float64Array.from(pts);
  const res = findHalos(pos, L, { particleMass: 1e10, minMembers: 20 });
  assert.equal(res.len.length, 1);
  assert.equal(res.len[0], 30);
  assert.equal(res.masses[0], 3e11);
  for (let c = 0; c < 3; c++) {
    const v = res.positions[c]!;
    assert.ok(v >= 0 && v < L);
    assert.ok(Math.min(v, L - v) < 0.05, `centre ${v}`);
  }
});
