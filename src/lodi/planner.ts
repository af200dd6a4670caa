/**
 * Stage planner for assembling a large LODI brightness-temperature map from overlapping
 * box^3 sub-volumes ("latent overlap").
 *
 * Source: the LODI paper, Sec. 2.4 ("Generation over larger volumes with latent overlap",
 * Algorithm 1 and Sec. 2.4.2 "Patching 21 cm fields"; the paper's text is in the shared papers folder).
 * 32^3 boxes with a 4-voxel overlap (stride 28) cover 256^3 with 9x9x9
 * boxes (origins 0, 28, ..., 224). Boxes are grouped into stages by the parity of their index along
 * x, y, z: all even first (independent), then exactly one odd index along x, y, z in turn, then two
 * odd, then three: 8 stages, 125 / 100, 100, 100 / 80, 80, 80 / 64 boxes for 256^3. Within one
 * stage no two boxes overlap, so a stage is generated as one batch; every voxel a box shares with
 * a box of an earlier stage is "known" (constrained in latent overlap) and never rewritten.
 *
 * This module is pure (no engine, no I/O) and deterministic.
 *
 * ## Generalisation: per-axis colours
 * The parity rule is a proper colouring of the boxes along each axis (boxes i and i+1 overlap, i
 * and i+2 do not). The planner computes, for every axis independently, the box origins and a
 * colouring of the boxes along that axis such that two boxes that overlap along the axis never get
 * the same colour. It colours greedily in index order (the smallest colour not used by an
 * already-coloured overlapping box), which gives exactly the parity i mod 2 in the regular case. A
 * stage is one tuple of colours (cx, cy, cz); two distinct boxes with the same tuple differ in at
 * least one index, and along that axis they are disjoint, so they do not overlap. Stages are
 * ordered by the number of non-zero colours, then by the colour sum, then x before y before z
 * (tuples in descending lexicographic order): (0,0,0), (1,0,0), (0,1,0), (0,0,1), (1,1,0),
 * (1,0,1), (0,1,1), (1,1,1) in the regular case, as in the paper. Any order is correct: the
 * "known" region of a box is, by definition, what earlier stages wrote.
 *
 * ## Sizes that are not (box - overlap) k + box (non-periodic)
 * The number of boxes along an axis of N voxels is the smallest n with (n - 1) * stride + box >= N,
 * i.e. n = ceil((N - box) / stride) + 1 (n = 1 for N = box), and the origins are spread evenly:
 * o_i = round(i (N - box) / (n - 1)). The first box starts at 0 and the last ends flush at N; every
 * spacing is <= stride (so every overlap is >= `overlap`) and the spacings differ by at most one
 * voxel. For N = 28k + 4 this is exactly the stride-28 grid. (Placing only the last box flush would
 * make it overlap the box two before it whenever the remainder is < overlap, breaking the parity
 * colouring for many sizes; even spreading breaks it only when n = 3 and the spacing is below
 * box/2, e.g. N = 61, 62, 63 for 32/4, and then the greedy colouring simply uses a third colour
 * along that axis.) Sizes smaller than the box are refused with an error.
 *
 * ## Periodic boxes
 * With `periodic: true` the box grid wraps: n = ceil(N / stride) boxes per axis with origins
 * o_i = round(i N / n) (spacing <= stride, so every overlap, including the one between the last
 * box and the first across the face, is >= `overlap`); a box's voxels are taken modulo N. n >= 2
 * always (a single box would have unmatched faces across the wrap). With n odd the parity colouring
 * breaks at the wrap (boxes 0 and n - 1 are both even and adjacent); the planner then gives the last
 * box along that axis a third colour (this is what the greedy colouring yields): it is generated
 * after both its neighbours, in extra stages, so 3 x 3 x 3 = 27 stages when all axes are odd, but
 * no extra boxes. Alternatively `evenPeriodic: true` rounds n up to the next even number (spacing
 * N / n becomes smaller, overlaps larger), keeping the 8 parity stages at the cost of more boxes.
 *
 * ## Array layout
 * Volumes are C order [x][y][z]: index = (x * Ny + y) * Nz + z; box-local masks likewise with
 * box^3 entries.
 */

export type Vec3 = [number, number, number];

export interface PlanOptions {
  /** Output size in voxels: one number for a cube, or [Nx, Ny, Nz]. Each >= box. */
  size: Vec3 | number;
  /** Box edge in voxels (default 32). */
  box?: number;
  /** Minimum overlap between neighbouring boxes in voxels (default 4; 0 <= overlap < box). */
  overlap?: number;
  /** Periodic output: the box grid wraps around every axis (default false). */
  periodic?: boolean;
  /**
   * Periodic only: round an odd number of boxes per axis up to even so the parity colouring
   * (8 stages) holds across the wrap, instead of a third colour for the last box (default false).
   */
  evenPeriodic?: boolean;
}

/** Box layout along one axis. */
export interface AxisPlan {
  /** Voxels along the axis. */
  size: number;
  /** Number of boxes along the axis. */
  count: number;
  /** Voxel origin of box i (0 <= origin < size). With periodic boxes the box may run past `size` and wraps. */
  origins: number[];
  /** Colour of box i along this axis (parity in the regular case). */
  colours: number[];
  /** Number of distinct colours along this axis. */
  colourCount: number;
}

export interface PlannedBox {
  /** Position in generation order (index into `Plan.boxes`); also the id in `ownerMap`. */
  id: number;
  /** Box index along x, y, z. */
  index: Vec3;
  /** Voxel origin along x, y, z; with periodic boxes, voxels past the end wrap (modulo size). */
  origin: Vec3;
  /** Per-axis colour (parity in the regular case). */
  colour: Vec3;
  /** Stage number (0-based, generation order). */
  stage: number;
}

export interface Plan {
  box: number;
  overlap: number;
  size: Vec3;
  periodic: boolean;
  boxesPerAxis: Vec3;
  axes: [AxisPlan, AxisPlan, AxisPlan];
  /** Colour tuple of each stage, in generation order. */
  stageColours: Vec3[];
  /** Boxes of each stage, in generation order (boxes of one stage never overlap). */
  stages: PlannedBox[][];
  /** All boxes in generation order (stage by stage); boxes[i].id === i. */
  boxes: PlannedBox[];
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new Error(`lodi planner: ${name} must be an integer >= ${min}, got ${v}`);
  }
}

/** Do two boxes along one axis (origins a, b, edge box, axis length n) share a voxel? */
function axisOverlap(a: number, b: number, box: number, n: number, periodic: boolean): boolean {
  if (a === b) return true;
  if (!periodic) return Math.abs(a - b) < box;
  const d = (((b - a) % n) + n) % n;
  return d < box || n - d < box;
}

function planAxis(N: number, box: number, stride: number, periodic: boolean, evenPeriodic: boolean): AxisPlan {
  const origins: number[] = [];
  if (periodic) {
    let n = Math.max(2, Math.ceil(N / stride));
    if (evenPeriodic && n % 2 === 1) n += 1;
    for (let i = 0; i < n; i++) origins.push(Math.floor((2 * i * N + n) / (2 * n)));
  } else {
    const span = N - box;
    const n = span === 0 ? 1 : Math.ceil(span / stride) + 1;
    for (let i = 0; i < n; i++) origins.push(n === 1 ? 0 : Math.floor((2 * i * span + (n - 1)) / (2 * (n - 1))));
  }
  const colours: number[] = [];
  for (let i = 0; i < origins.length; i++) {
    const used = new Set<number>();
    for (let j = 0; j < i; j++) {
      if (axisOverlap(origins[i], origins[j], box, N, periodic)) used.add(colours[j]);
    }
    let c = 0;
    while (used.has(c)) c++;
    colours.push(c);
  }
  return { size: N, count: origins.length, origins, colours, colourCount: Math.max(...colours) + 1 };
}

/** Plan the boxes and stages for an output of the given size (pure, deterministic). */
export function planStages(o: PlanOptions): Plan {
  const box = o.box ?? 32;
  const overlap = o.overlap ?? 4;
  const periodic = o.periodic ?? false;
  const evenPeriodic = o.evenPeriodic ?? false;
  checkInt('box', box, 1);
  checkInt('overlap', overlap, 0);
  if (overlap >= box) throw new Error(`lodi planner: overlap (${overlap}) must be smaller than the box (${box})`);
  if (evenPeriodic && !periodic) throw new Error('lodi planner: evenPeriodic only applies to periodic plans');
  if (typeof o.size !== 'number' && !(Array.isArray(o.size) && o.size.length === 3)) {
    throw new Error('lodi planner: size must be a number or [Nx, Ny, Nz]');
  }
  const size: Vec3 = typeof o.size === 'number' ? [o.size, o.size, o.size] : [o.size[0], o.size[1], o.size[2]];
  size.forEach((n, a) => {
    checkInt(`size along ${'xyz'[a]}`, n, 1);
    if (n < box) {
      throw new Error(
        `lodi planner: size ${n} along ${'xyz'[a]} is smaller than the box (${box}); ` +
          `use a smaller box (box <= size) or a larger volume`,
      );
    }
  });
  const stride = box - overlap;
  const axes = size.map((n) => planAxis(n, box, stride, periodic, evenPeriodic)) as [AxisPlan, AxisPlan, AxisPlan];

  // Stage order: number of non-zero colours, then colour sum, then descending lexicographic.
  const tuples: Vec3[] = [];
  for (let cx = 0; cx < axes[0].colourCount; cx++)
    for (let cy = 0; cy < axes[1].colourCount; cy++)
      for (let cz = 0; cz < axes[2].colourCount; cz++) tuples.push([cx, cy, cz]);
  const nz = (t: Vec3) => t.filter((c) => c !== 0).length;
  const sum = (t: Vec3) => t[0] + t[1] + t[2];
  tuples.sort((a, b) => nz(a) - nz(b) || sum(a) - sum(b) || b[0] - a[0] || b[1] - a[1] || b[2] - a[2]);

  const stages: PlannedBox[][] = [];
  const boxes: PlannedBox[] = [];
  tuples.forEach((t, s) => {
    const stage: PlannedBox[] = [];
    for (let ix = 0; ix < axes[0].count; ix++) {
      if (axes[0].colours[ix] !== t[0]) continue;
      for (let iy = 0; iy < axes[1].count; iy++) {
        if (axes[1].colours[iy] !== t[1]) continue;
        for (let iz = 0; iz < axes[2].count; iz++) {
          if (axes[2].colours[iz] !== t[2]) continue;
          const b: PlannedBox = {
            id: boxes.length,
            index: [ix, iy, iz],
            origin: [axes[0].origins[ix], axes[1].origins[iy], axes[2].origins[iz]],
            colour: [t[0], t[1], t[2]],
            stage: s,
          };
          boxes.push(b);
          stage.push(b);
        }
      }
    }
    stages.push(stage);
  });
  return {
    box,
    overlap,
    size,
    periodic,
    boxesPerAxis: [axes[0].count, axes[1].count, axes[2].count],
    axes,
    stageColours: tuples,
    stages,
    boxes,
  };
}

/**
 * Global voxel coordinates covered by a box along x, y, z: entry l of axis a is the output
 * coordinate of box-local coordinate l (wrapped modulo size for periodic plans). Use it to gather
 * the conditioning / known values into a box and to scatter results back.
 */
export function boxAxisCoords(plan: Plan, b: PlannedBox): [Int32Array, Int32Array, Int32Array] {
  const out = [0, 1, 2].map((a) => {
    const c = new Int32Array(plan.box);
    const n = plan.size[a];
    for (let l = 0; l < plan.box; l++) c[l] = (b.origin[a] + l) % n;
    return c;
  });
  return out as [Int32Array, Int32Array, Int32Array];
}

/** Lookup tables derived from a plan, computed once per plan object. */
interface Tables {
  /** Per axis, per coordinate: id of the set of colours of the boxes covering it. */
  coverSet: [Int32Array, Int32Array, Int32Array];
  /** Per axis, the distinct colour sets. */
  sets: [number[][], number[][], number[][]];
  /** Per axis, per coordinate: number of boxes covering it. */
  coverCount: [Int32Array, Int32Array, Int32Array];
  /** Per axis, [coordinate * colourCount + colour] -> box index covering it with that colour, or -1. */
  ownerIndex: [Int32Array, Int32Array, Int32Array];
  /** [(sx * Sy + sy) * Sz + sz] -> first stage writing a voxel whose per-axis colour sets are sx, sy, sz. */
  firstStage: Int32Array;
  /** colour tuple -> stage. */
  stageOf: Int32Array;
  /** [(ix * ny + iy) * nz + iz] -> box id. */
  boxId: Int32Array;
}

const cache = new WeakMap<Plan, Tables>();

function tables(plan: Plan): Tables {
  const hit = cache.get(plan);
  if (hit) return hit;
  const [Cx, Cy, Cz] = plan.axes.map((a) => a.colourCount);
  const stageOf = new Int32Array(Cx * Cy * Cz).fill(-1);
  plan.stageColours.forEach((t, s) => (stageOf[(t[0] * Cy + t[1]) * Cz + t[2]] = s));
  const coverSet: Int32Array[] = [];
  const sets: number[][][] = [];
  const coverCount: Int32Array[] = [];
  const ownerIndex: Int32Array[] = [];
  plan.axes.forEach((ax) => {
    const n = ax.size;
    const C = ax.colourCount;
    const lists: number[][] = Array.from({ length: n }, () => []);
    const owner = new Int32Array(n * C).fill(-1);
    const count = new Int32Array(n);
    ax.origins.forEach((o, i) => {
      for (let l = 0; l < plan.box; l++) {
        const x = (o + l) % n;
        lists[x].push(ax.colours[i]);
        owner[x * C + ax.colours[i]] = i;
        count[x]++;
      }
    });
    const ids = new Map<string, number>();
    const axSets: number[][] = [];
    const cs = new Int32Array(n);
    lists.forEach((l, x) => {
      const sorted = [...new Set(l)].sort((a, b) => a - b);
      const key = sorted.join(',');
      let id = ids.get(key);
      if (id === undefined) {
        id = axSets.length;
        ids.set(key, id);
        axSets.push(sorted);
      }
      cs[x] = id;
    });
    coverSet.push(cs);
    sets.push(axSets);
    coverCount.push(count);
    ownerIndex.push(owner);
  });
  const [Sx, Sy, Sz] = sets.map((s) => s.length);
  const firstStage = new Int32Array(Sx * Sy * Sz);
  for (let sx = 0; sx < Sx; sx++)
    for (let sy = 0; sy < Sy; sy++)
      for (let sz = 0; sz < Sz; sz++) {
        let best = Infinity;
        for (const cx of sets[0][sx])
          for (const cy of sets[1][sy])
            for (const cz of sets[2][sz]) best = Math.min(best, stageOf[(cx * Cy + cy) * Cz + cz]);
        firstStage[(sx * Sy + sy) * Sz + sz] = best;
      }
  const [nx, ny, nz] = plan.boxesPerAxis;
  const boxId = new Int32Array(nx * ny * nz);
  for (const b of plan.boxes) boxId[(b.index[0] * ny + b.index[1]) * nz + b.index[2]] = b.id;
  const t: Tables = {
    coverSet: coverSet as Tables['coverSet'],
    sets: sets as Tables['sets'],
    coverCount: coverCount as Tables['coverCount'],
    ownerIndex: ownerIndex as Tables['ownerIndex'],
    firstStage,
    stageOf,
    boxId,
  };
  cache.set(plan, t);
  return t;
}

/** The stage that first writes output voxel (x, y, z) (coordinates in [0, size)). */
export function firstStageAt(plan: Plan, x: number, y: number, z: number): number {
  const t = tables(plan);
  const Sy = t.sets[1].length;
  const Sz = t.sets[2].length;
  return t.firstStage[(t.coverSet[0][x] * Sy + t.coverSet[1][y]) * Sz + t.coverSet[2][z]];
}

/** The box that writes output voxel (x, y, z): the unique box of its first stage covering it. */
export function ownerAt(plan: Plan, x: number, y: number, z: number): PlannedBox {
  const t = tables(plan);
  const s = firstStageAt(plan, x, y, z);
  const [cx, cy, cz] = plan.stageColours[s];
  const [Cx, Cy, Cz] = plan.axes.map((a) => a.colourCount);
  const ix = t.ownerIndex[0][x * Cx + cx];
  const iy = t.ownerIndex[1][y * Cy + cy];
  const iz = t.ownerIndex[2][z * Cz + cz];
  const [, ny, nz] = plan.boxesPerAxis;
  return plan.boxes[t.boxId[(ix * ny + iy) * nz + iz]];
}

/**
 * The "known" region of a box for latent overlap: mask of box-local voxels (length box^3, C order
 * [x][y][z]) already written by earlier stages (1 = known, constrained; 0 = to generate). Empty
 * (all 0) for the boxes of stage 0.
 */
export function knownMask(plan: Plan, b: PlannedBox): Uint8Array {
  const first = firstStageMask(plan, b);
  const out = new Uint8Array(first.length);
  for (let i = 0; i < first.length; i++) out[i] = first[i] < b.stage ? 1 : 0;
  return out;
}

/**
 * The voxels this box writes into the output (box-local mask, 1 = write): exactly those not
 * already written by earlier stages, i.e. the complement of `knownMask`. Over the whole plan every
 * output voxel is written exactly once. The `tiling` baseline uses the same masks (first box wins,
 * no constraint); the `average` baseline ignores them and divides by `coverageCount`.
 */
export function writeMask(plan: Plan, b: PlannedBox): Uint8Array {
  const first = firstStageMask(plan, b);
  const out = new Uint8Array(first.length);
  for (let i = 0; i < first.length; i++) out[i] = first[i] === b.stage ? 1 : 0;
  return out;
}

/** Per box-local voxel, the first stage writing it (<= b.stage since b covers it). */
function firstStageMask(plan: Plan, b: PlannedBox): Int32Array {
  const t = tables(plan);
  const B = plan.box;
  const Sy = t.sets[1].length;
  const Sz = t.sets[2].length;
  const [gx, gy, gz] = boxAxisCoords(plan, b);
  const out = new Int32Array(B * B * B);
  let i = 0;
  for (let lx = 0; lx < B; lx++) {
    const sx = t.coverSet[0][gx[lx]] * Sy;
    for (let ly = 0; ly < B; ly++) {
      const sxy = (sx + t.coverSet[1][gy[ly]]) * Sz;
      for (let lz = 0; lz < B; lz++) out[i++] = t.firstStage[sxy + t.coverSet[2][gz[lz]]];
    }
  }
  return out;
}

/**
 * Coverage bookkeeping: for every output voxel (C order [x][y][z], length Nx*Ny*Nz) the id of the
 * box that writes it (first stage covering it). Memory: 4 bytes per voxel.
 */
export function ownerMap(plan: Plan): Int32Array {
  const t = tables(plan);
  const [Nx, Ny, Nz] = plan.size;
  const [Cx, Cy, Cz] = plan.axes.map((a) => a.colourCount);
  const [, ny, nz] = plan.boxesPerAxis;
  const Sy = t.sets[1].length;
  const Sz = t.sets[2].length;
  const out = new Int32Array(Nx * Ny * Nz);
  let i = 0;
  for (let x = 0; x < Nx; x++)
    for (let y = 0; y < Ny; y++) {
      const sxy = (t.coverSet[0][x] * Sy + t.coverSet[1][y]) * Sz;
      for (let z = 0; z < Nz; z++) {
        const c = plan.stageColours[t.firstStage[sxy + t.coverSet[2][z]]];
        const ix = t.ownerIndex[0][x * Cx + c[0]];
        const iy = t.ownerIndex[1][y * Cy + c[1]];
        const iz = t.ownerIndex[2][z * Cz + c[2]];
        out[i++] = t.boxId[(ix * ny + iy) * nz + iz];
      }
    }
  return out;
}

/**
 * Number of boxes covering each output voxel (C order [x][y][z]), for the `average` baseline
 * (sum every box's values into the output, then divide by this count).
 */
export function coverageCount(plan: Plan): Uint16Array {
  const t = tables(plan);
  const [Nx, Ny, Nz] = plan.size;
  const [cx, cy, cz] = t.coverCount;
  if (Math.max(...cx) * Math.max(...cy) * Math.max(...cz) > 65535) {
    throw new Error('lodi planner: coverage count exceeds 65535 (overlap far too large for the box)');
  }
  const out = new Uint16Array(Nx * Ny * Nz);
  let i = 0;
  for (let x = 0; x < Nx; x++)
    for (let y = 0; y < Ny; y++) {
      const cxy = cx[x] * cy[y];
      for (let z = 0; z < Nz; z++) out[i++] = cxy * cz[z];
    }
  return out;
}

/** Whether two boxes of a plan share at least one output voxel (wrap-around included when periodic). */
export function boxesOverlap(plan: Plan, a: PlannedBox, b: PlannedBox): boolean {
  if (a.id === b.id) return true;
  for (let k = 0; k < 3; k++) {
    if (!axisOverlap(a.origin[k], b.origin[k], plan.box, plan.size[k], plan.periodic)) return false;
  }
  return true;
}
