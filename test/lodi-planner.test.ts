import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  boxAxisCoords,
  boxesOverlap,
  coverageCount,
  firstStageAt,
  knownMask,
  ownerAt,
  ownerMap,
  planStages,
  writeMask,
  type Plan,
  type PlannedBox,
  type Vec3,
} from '../src/lodi/planner.js';

// Brute-force checks, written independently of the planner's lookup tables: every box is stamped
// voxel by voxel into the output (coordinates taken modulo the size when periodic).

interface SimpleBox {
  origin: Vec3;
  stage: number;
}

function forEachVoxel(
  size: Vec3,
  box: number,
  periodic: boolean,
  b: SimpleBox,
  fn: (g: number, l: number) => void,
): void {
  const [Nx, Ny, Nz] = size;
  let l = 0;
  for (let lx = 0; lx < box; lx++) {
    const x = b.origin[0] + lx;
    for (let ly = 0; ly < box; ly++) {
      const y = b.origin[1] + ly;
      for (let lz = 0; lz < box; lz++, l++) {
        const z = b.origin[2] + lz;
        if (!periodic && (x >= Nx || y >= Ny || z >= Nz)) throw new Error(`box at ${b.origin} runs past the end`);
        fn(((x % Nx) * Ny + (y % Ny)) * Nz + (z % Nz), l);
      }
    }
  }
}

/** Coverage count and earliest covering stage per voxel. */
function bruteCover(size: Vec3, box: number, periodic: boolean, boxes: SimpleBox[]) {
  const n = size[0] * size[1] * size[2];
  const count = new Uint16Array(n);
  const minStage = new Int32Array(n).fill(1 << 30);
  for (const b of boxes) {
    forEachVoxel(size, box, periodic, b, (g) => {
      count[g]++;
      if (b.stage < minStage[g]) minStage[g] = b.stage;
    });
  }
  return { count, minStage };
}

/** Throws if two boxes of one stage share a voxel (wrap-around included when periodic). */
function checkStagesDisjoint(size: Vec3, box: number, periodic: boolean, stages: SimpleBox[][]): void {
  const stamp = new Int32Array(size[0] * size[1] * size[2]).fill(-1);
  stages.forEach((stage, s) => {
    stage.forEach((b, k) => {
      forEachVoxel(size, box, periodic, b, (g) => {
        if (stamp[g] === s) throw new Error(`stage ${s}: box ${k} at ${b.origin} overlaps another box of the stage`);
        stamp[g] = s;
      });
    });
  });
}

/**
 * Simulates the generator: stage by stage, each box reads its known mask and writes the rest.
 * Throws if a known voxel was not written by an earlier stage, if a voxel covered by an earlier
 * stage is not marked known, if a voxel is written twice, or if a voxel is never written.
 */
function simulate(plan: Plan, known: (b: PlannedBox) => Uint8Array, minStage: Int32Array): Int32Array {
  const written = new Int32Array(plan.size[0] * plan.size[1] * plan.size[2]).fill(-1);
  const writtenStage = new Int32Array(written.length).fill(-1);
  for (const stage of plan.stages) {
    for (const b of stage) {
      const k = known(b);
      const w = writeMask(plan, b);
      assert.equal(k.length, plan.box ** 3);
      forEachVoxel(plan.size, plan.box, plan.periodic, b, (g, l) => {
        const earlier = minStage[g] < b.stage;
        if (k[l] !== (earlier ? 1 : 0)) throw new Error(`box ${b.id} voxel ${l}: known=${k[l]} but earlier=${earlier}`);
        if (k[l] === 1 && !(writtenStage[g] >= 0 && writtenStage[g] < b.stage)) {
          throw new Error(`box ${b.id} voxel ${l}: marked known but not written by an earlier stage`);
        }
        if (w[l] !== 1 - k[l]) throw new Error(`box ${b.id} voxel ${l}: write mask is not the complement of known`);
        if (k[l] === 0) {
          if (written[g] !== -1) throw new Error(`voxel ${g} written twice (boxes ${written[g]} and ${b.id})`);
          written[g] = b.id;
          writtenStage[g] = b.stage;
        }
      });
    }
  }
  const missing = written.indexOf(-1);
  if (missing >= 0) throw new Error(`voxel ${missing} never written`);
  return written;
}

/** Element-wise equality of large typed arrays (assert.deepEqual is slow on 16M entries). */
function assertSameArray(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) assert.fail(`${what}: entry ${i} is ${a[i]}, expected ${b[i]}`);
  }
}

function checkPlan(plan: Plan): void {
  const { size, box, periodic } = plan;
  // Structure: ids in generation order, stage fields, box count.
  assert.equal(plan.boxes.length, plan.boxesPerAxis[0] * plan.boxesPerAxis[1] * plan.boxesPerAxis[2]);
  assert.deepEqual(
    plan.boxes.map((b) => b.id),
    plan.boxes.map((_, i) => i),
  );
  plan.stages.forEach((st, s) => {
    assert.ok(st.length > 0, `stage ${s} empty`);
    for (const b of st) assert.equal(b.stage, s);
  });
  assert.deepEqual(plan.stages.flat(), plan.boxes);
  // Per axis: origins in range, spacings give overlap >= plan.overlap (also across the wrap).
  plan.axes.forEach((ax, a) => {
    const o = ax.origins;
    assert.equal(o[0], 0);
    for (let i = 1; i < o.length; i++) assert.ok(o[i] - o[i - 1] <= box - plan.overlap && o[i] > o[i - 1]);
    if (periodic) {
      assert.ok(o.length >= 2);
      assert.ok(size[a] - o[o.length - 1] <= box - plan.overlap, 'wrap overlap too small');
    } else {
      assert.equal(o[o.length - 1] + box, size[a], 'last box must end flush');
    }
  });

  const all = plan.boxes;
  const { count, minStage } = bruteCover(size, box, periodic, all);
  assert.equal(count.indexOf(0), -1, 'a voxel is not covered by any box');
  assertSameArray(coverageCount(plan), count, 'coverageCount');
  checkStagesDisjoint(size, box, periodic, plan.stages);
  // Same-stage boxes never overlap, by the planner's own predicate too.
  for (const st of plan.stages)
    for (let i = 0; i < st.length; i++)
      for (let j = i + 1; j < st.length; j++) assert.ok(!boxesOverlap(plan, st[i], st[j]));
  const written = simulate(plan, (b) => knownMask(plan, b), minStage);
  assertSameArray(ownerMap(plan), written, 'ownerMap');
  for (let g = 0; g < minStage.length; g += 997) {
    const z = g % size[2];
    const y = Math.floor(g / size[2]) % size[1];
    const x = Math.floor(g / (size[1] * size[2]));
    assert.equal(firstStageAt(plan, x, y, z), minStage[g]);
    assert.equal(ownerAt(plan, x, y, z).id, written[g]);
  }
}

const SIZES: (number | Vec3)[] = [256, 64, 32, 100, 60, 33, 61, 62, 63, [64, 96, 32], [33, 61, 40]];

for (const size of SIZES) {
  for (const periodic of [false, true]) {
    test(`planner: size ${JSON.stringify(size)} ${periodic ? 'periodic' : 'non-periodic'} covers every voxel, once, in valid stages`, () => {
      checkPlan(planStages({ size, periodic }));
    });
  }
}

test('planner: 256^3 non-periodic is the paper layout: 9 boxes at stride 28, counts 125/3x100/3x80/64', () => {
  const plan = planStages({ size: 256 });
  assert.deepEqual(plan.boxesPerAxis, [9, 9, 9]);
  for (const ax of plan.axes) {
    assert.deepEqual(ax.origins, [0, 28, 56, 84, 112, 140, 168, 196, 224]);
    assert.deepEqual(ax.colours, [0, 1, 0, 1, 0, 1, 0, 1, 0]);
  }
  assert.deepEqual(
    plan.stages.map((s) => s.length),
    [125, 100, 100, 100, 80, 80, 80, 64],
  );
  assert.deepEqual(plan.stageColours, [
    [0, 0, 0],
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
    [1, 1, 0],
    [1, 0, 1],
    [0, 1, 1],
    [1, 1, 1],
  ]);
  // Stage 0 boxes are independent; a stage-1 box (odd along x) knows exactly two 4-voxel x-slabs.
  const b0 = plan.stages[0][0];
  assert.equal(
    knownMask(plan, b0).reduce((s, v) => s + v, 0),
    0,
  );
  const b1 = plan.stages[1].find((b) => b.index.join() === '1,2,2')!;
  const k1 = knownMask(plan, b1);
  assert.equal(
    k1.reduce((s, v) => s + v, 0),
    2 * 4 * 32 * 32,
  );
  assert.equal(k1[(0 * 32 + 5) * 32 + 7], 1); // x = 0 slab
  assert.equal(k1[(31 * 32 + 5) * 32 + 7], 1); // x = 31 slab
  assert.equal(k1[(4 * 32 + 5) * 32 + 7], 0); // interior
  // An all-odd box: every neighbour came earlier, so all but its 24^3 core is known.
  const last = plan.stages[7].find((b) => b.index.join() === '3,3,3')!;
  assert.equal(
    knownMask(plan, last).reduce((s, v) => s + v, 0),
    32 ** 3 - 24 ** 3,
  );
});

test('planner: sizes that are not 28k + 4 spread the remainder evenly (last box flush, overlaps >= 4)', () => {
  const p100 = planStages({ size: 100 });
  assert.deepEqual(p100.axes[0].origins, [0, 23, 45, 68]);
  assert.deepEqual(p100.axes[0].colours, [0, 1, 0, 1]);
  assert.equal(p100.stages.length, 8);
  // 61..63: three boxes whose spacing is below box/2, so boxes 0 and 2 overlap: a third colour.
  const p61 = planStages({ size: [61, 32, 32] });
  assert.deepEqual(p61.axes[0].origins, [0, 15, 29]);
  assert.deepEqual(p61.axes[0].colours, [0, 1, 2]);
  assert.deepEqual(
    p61.stages.map((s) => s.length),
    [1, 1, 1],
  );
  // box = size: one box, one stage.
  const p32 = planStages({ size: 32 });
  assert.deepEqual(p32.boxesPerAxis, [1, 1, 1]);
  assert.equal(p32.stages.length, 1);
});

test('planner: periodic 256^3 wraps with 10 boxes per axis (even: parity holds across the wrap)', () => {
  const plan = planStages({ size: 256, periodic: true });
  assert.deepEqual(plan.boxesPerAxis, [10, 10, 10]);
  assert.deepEqual(plan.axes[0].colours, [0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
  assert.deepEqual(
    plan.stages.map((s) => s.length),
    [125, 125, 125, 125, 125, 125, 125, 125],
  );
  // The last box runs past the end and wraps onto box 0.
  const ax = plan.axes[0];
  assert.ok(ax.origins[9] + plan.box > 256);
  const [gx] = boxAxisCoords(
    plan,
    plan.boxes.find((b) => b.index.join() === '9,0,0')!,
  );
  assert.equal(gx[31], (ax.origins[9] + 31) % 256);
  assert.ok(gx[31] < plan.box);
});

test('planner: periodic with an odd number of boxes gives the last box a third colour; naive parity fails', () => {
  const plan = planStages({ size: [252, 64, 32], periodic: true });
  assert.deepEqual(plan.boxesPerAxis, [9, 3, 2]);
  assert.deepEqual(plan.axes[0].colours, [0, 1, 0, 1, 0, 1, 0, 1, 2]);
  assert.deepEqual(plan.axes[1].colours, [0, 1, 2]);
  assert.deepEqual(plan.axes[2].colours, [0, 1]);
  assert.equal(plan.stages.length, 3 * 3 * 2);
  checkPlan(plan);
  // Naive parity along x would put boxes 0 and 8 (adjacent across the wrap) in one stage.
  const naive = new Map<string, SimpleBox[]>();
  for (const b of plan.boxes) {
    const key = b.index.map((i) => i % 2).join();
    if (!naive.has(key)) naive.set(key, []);
    naive.get(key)!.push({ origin: b.origin, stage: 0 });
  }
  assert.throws(() => checkStagesDisjoint(plan.size, plan.box, true, [...naive.values()]), /overlaps another box/);
});

test('planner: evenPeriodic rounds an odd box count up and keeps 8 parity stages', () => {
  const plan = planStages({ size: 252, periodic: true, evenPeriodic: true });
  assert.deepEqual(plan.boxesPerAxis, [10, 10, 10]);
  assert.equal(plan.stages.length, 8);
  checkPlan(plan);
  const small = planStages({ size: [33, 61, 32], periodic: true, evenPeriodic: true });
  assert.deepEqual(small.boxesPerAxis, [2, 4, 2]);
  checkPlan(small);
});

test('planner: the checks fail on a plan that ignores the known region or the stage order', () => {
  const plan = planStages({ size: 64 });
  const { minStage } = bruteCover(plan.size, plan.box, plan.periodic, plan.boxes);
  // Tiling-style: nothing known -> overlap voxels written twice / known mismatch.
  assert.throws(() => simulate(plan, () => new Uint8Array(plan.box ** 3), minStage), /known=0 but earlier=true/);
  // Everything known -> known voxels that were never written.
  assert.throws(
    () => simulate(plan, () => new Uint8Array(plan.box ** 3).fill(1), minStage),
    /known=1 but earlier=false/,
  );
  // All boxes in one stage overlap.
  assert.throws(() => checkStagesDisjoint(plan.size, plan.box, false, [plan.boxes]), /overlaps another box/);
});

test('planner: deterministic and refuses invalid sizes', () => {
  const a = planStages({ size: [100, 60, 33], periodic: true });
  const b = planStages({ size: [100, 60, 33], periodic: true });
  assert.equal(JSON.stringify(a), JSON.stringify(b));
  assert.throws(() => planStages({ size: 31 }), /smaller than the box/);
  assert.throws(
    () => planStages({ size: [64, 20, 64], periodic: true }),
    /size 20 along y is smaller than the box \(32\)/,
  );
  assert.throws(() => planStages({ size: 64.5 }), /integer/);
  assert.throws(() => planStages({ size: 64, overlap: 32 }), /overlap/);
  assert.throws(() => planStages({ size: 64, evenPeriodic: true }), /periodic/);
  // A smaller box is fine.
  checkPlan(planStages({ size: 20, box: 8, overlap: 2, periodic: true }));
  checkPlan(planStages({ size: 20, box: 8, overlap: 2 }));
});
