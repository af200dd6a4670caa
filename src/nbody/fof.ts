/**
 * Friends-of-friends halo finder for a periodic box (Davis et al. 1985): particles closer than the
 * linking length b × (mean inter-particle spacing) are friends; groups are the connected components
 * with at least `minMembers` particles.
 *
 * Neighbour search: the box is cut into columns (x, y) of side ≥ the linking length; each column holds
 * its particles sorted by z, so the candidates of a particle in a neighbouring column are a contiguous
 * z-window found with a moving pointer. Only half of the 3×3 column neighbourhood is visited (every
 * pair once), distances use the minimum periodic image, and components are merged with a union-find
 * (path halving, union by size). Memory is O(N) plus O(columns).
 */

export interface FofOptions {
  /** Linking length in units of the mean inter-particle spacing (default 0.2). */
  b?: number;
  /** Minimum members of a group (default 20). */
  minMembers?: number;
  /** Mass per particle [Msun/h] (default 1: masses are then member counts). */
  particleMass?: number;
  /** Particle velocities (any unit, flat [np*3]); group mean velocities are returned when given. */
  velocities?: ArrayLike<number>;
}

export interface FofResult {
  /** Periodic centre of mass [Mpc/h], flat [ng*3], in [0, L). */
  positions: Float32Array;
  /** Members × particle mass [Msun/h]. */
  masses: Float64Array;
  /** Member counts. */
  len: Int32Array;
  /** Mean velocity of the members (units of the input), flat [ng*3], when velocities were given. */
  velocities?: Float32Array;
  /** Group index of every particle (−1: in no group of ≥ minMembers), ordered like the groups. */
  groupOf: Int32Array;
  /** Linking length used [Mpc/h]. */
  linkingLength: number;
}

/** Coordinates wrapped into [0, L) and the linking geometry shared by the steps below. */
interface FofBox {
  X: Float64Array;
  Y: Float64Array;
  Z: Float64Array;
  L: number;
  halfL: number;
  /** Linking length [Mpc/h] and its square. */
  ll: number;
  ll2: number;
}

function wrapInto(v: number, L: number): number {
  const w = v - Math.floor(v / L) * L;
  return w >= L ? 0 : w;
}

function wrappedCoordinates(positions: ArrayLike<number>, np: number, L: number, ll: number): FofBox {
  const X = new Float64Array(np);
  const Y = new Float64Array(np);
  const Z = new Float64Array(np);
  for (let i = 0; i < np; i++) {
    X[i] = wrapInto(positions[3 * i]!, L);
    Y[i] = wrapInto(positions[3 * i + 1]!, L);
    Z[i] = wrapInto(positions[3 * i + 2]!, L);
  }
  return { X, Y, Z, L, halfL: L / 2, ll, ll2: ll * ll };
}

/** Particles bucketed into nc × nc (x, y) columns, each column's particles sorted by z. */
interface Columns {
  nc: number;
  /** Column c holds order[start[c] .. start[c+1]); zs[k] = Z[order[k]]. */
  start: Int32Array;
  order: Int32Array;
  zs: Float64Array;
}

function buildColumns(box: FofBox, np: number): Columns {
  const { X, Y, Z, L, ll } = box;
  // columns of side >= ll (at most 4096 per side)
  const nc = Math.max(1, Math.min(4096, Math.floor(L / ll)));
  const ncol = nc * nc;
  const colOf = new Int32Array(np);
  const count = new Int32Array(ncol + 1);
  for (let i = 0; i < np; i++) {
    const cx = Math.min(nc - 1, Math.floor((X[i]! / L) * nc));
    const cy = Math.min(nc - 1, Math.floor((Y[i]! / L) * nc));
    const c = cx * nc + cy;
    colOf[i] = c;
    count[c + 1]!++;
  }
  const start = count; // prefix sums in place: start[c] .. start[c+1]
  for (let c = 0; c < ncol; c++) start[c + 1] = start[c + 1]! + start[c]!;
  const order = new Int32Array(np);
  const fill = new Int32Array(ncol);
  for (let i = 0; i < np; i++) {
    const c = colOf[i]!;
    order[start[c]! + fill[c]!] = i;
    fill[c]!++;
  }
  const zs = new Float64Array(np);
  for (let c = 0; c < ncol; c++) {
    const s = start[c]!;
    const e = start[c + 1]!;
    if (e - s > 1) {
      const seg = Array.from(order.subarray(s, e));
      seg.sort((a, b) => Z[a]! - Z[b]! || a - b);
      order.set(seg, s);
    }
    for (let k = s; k < e; k++) zs[k] = Z[order[k]!]!;
  }
  return { nc, start, order, zs };
}

/** Union-find over particle indices (path halving, union by size). */
class UnionFind {
  readonly parent: Int32Array;
  private readonly size: Int32Array;
  constructor(n: number) {
    this.parent = new Int32Array(n);
    this.size = new Int32Array(n).fill(1);
    for (let i = 0; i < n; i++) this.parent[i] = i;
  }
  find(i: number): number {
    const parent = this.parent;
    while (parent[i] !== i) {
      const g = parent[parent[i]!]!;
      parent[i] = g;
      i = g;
    }
    return i;
  }
  union(a: number, b: number): void {
    let ra = this.find(a);
    let rb = this.find(b);
    if (ra === rb) return;
    if (this.size[ra]! < this.size[rb]!) {
      const t = ra;
      ra = rb;
      rb = t;
    }
    this.parent[rb] = ra;
    this.size[ra] = this.size[ra]! + this.size[rb]!;
  }
}

/** Whether particles i and j are within the linking length (minimum periodic image). */
function linked(box: FofBox, i: number, j: number): boolean {
  const { X, Y, Z, L, halfL } = box;
  let dx = X[i]! - X[j]!;
  if (dx > halfL) dx -= L;
  else if (dx < -halfL) dx += L;
  let dy = Y[i]! - Y[j]!;
  if (dy > halfL) dy -= L;
  else if (dy < -halfL) dy += L;
  let dz = Z[i]! - Z[j]!;
  if (dz > halfL) dz -= L;
  else if (dz < -halfL) dz += L;
  return dx * dx + dy * dy + dz * dz <= box.ll2;
}

/** Half of the 3x3 column neighbourhood, so every pair of columns is visited once (deduplicated for small nc). */
function neighbourOffsets(nc: number): [number, number][] {
  const offsets: [number, number][] = [];
  const seen = new Set<string>();
  for (const [ox, oy] of [
    [0, 0],
    [1, -1],
    [1, 0],
    [1, 1],
    [0, 1],
  ] as [number, number][]) {
    const key = `${((ox % nc) + nc) % nc},${((oy % nc) + nc) % nc}`;
    // for tiny nc, an offset and its mirror can coincide: keep one of each unordered pair
    const mirror = `${((-ox % nc) + nc) % nc},${((-oy % nc) + nc) % nc}`;
    if (seen.has(key) || seen.has(mirror)) continue;
    seen.add(key);
    offsets.push([ox, oy]);
  }
  return offsets;
}

/** Links the pairs within one column: j after i in z order within ll, plus the periodic wrap at the top. */
function linkWithinColumn(box: FofBox, cols: Columns, c: number, uf: UnionFind, zWrap: boolean): void {
  const { order, zs } = cols;
  const { L, ll } = box;
  const s1 = cols.start[c]!;
  const e1 = cols.start[c + 1]!;
  for (let a = s1; a < e1; a++) {
    const za = zs[a]!;
    const i = order[a]!;
    for (let b = a + 1; b < e1 && (zWrap || zs[b]! - za <= ll); b++) {
      const j = order[b]!;
      if (linked(box, i, j)) uf.union(i, j);
    }
    if (!zWrap && za + ll > L) {
      const lim = za + ll - L;
      for (let b = s1; b < a && zs[b]! <= lim; b++) {
        const j = order[b]!;
        if (linked(box, i, j)) uf.union(i, j);
      }
    }
  }
}

/** Links the pairs between columns c and c2: a moving window [z − ll, z + ll], plus wraps near z = 0 and z = L. */
function linkAcrossColumns(box: FofBox, cols: Columns, c: number, c2: number, uf: UnionFind, zWrap: boolean): void {
  const { order, zs } = cols;
  const { L, ll } = box;
  const s1 = cols.start[c]!;
  const e1 = cols.start[c + 1]!;
  const s2 = cols.start[c2]!;
  const e2 = cols.start[c2 + 1]!;
  let lo = s2;
  for (let a = s1; a < e1; a++) {
    const za = zs[a]!;
    const i = order[a]!;
    if (zWrap) {
      for (let b = s2; b < e2; b++) {
        const j = order[b]!;
        if (linked(box, i, j)) uf.union(i, j);
      }
      continue;
    }
    while (lo < e2 && zs[lo]! < za - ll) lo++;
    for (let b = lo; b < e2 && zs[b]! <= za + ll; b++) {
      const j = order[b]!;
      if (linked(box, i, j)) uf.union(i, j);
    }
    if (za + ll > L) {
      const lim = za + ll - L;
      for (let b = s2; b < e2 && zs[b]! <= lim; b++) {
        const j = order[b]!;
        if (linked(box, i, j)) uf.union(i, j);
      }
    }
    if (za - ll < 0) {
      const lim = za - ll + L;
      for (let b = e2 - 1; b >= s2 && zs[b]! >= lim; b--) {
        const j = order[b]!;
        if (linked(box, i, j)) uf.union(i, j);
      }
    }
  }
}

/** Unions every linked pair of particles. */
function linkAll(box: FofBox, cols: Columns, uf: UnionFind): void {
  const { nc, start } = cols;
  const offsets = neighbourOffsets(nc);
  const zWrap = box.ll * 2 >= box.L;
  for (let cx = 0; cx < nc; cx++) {
    for (let cy = 0; cy < nc; cy++) {
      const c = cx * nc + cy;
      if (start[c] === start[c + 1]) continue;
      for (const [ox, oy] of offsets) {
        const c2 = ((((cx + ox) % nc) + nc) % nc) * nc + ((((cy + oy) % nc) + nc) % nc);
        if (start[c2] === start[c2 + 1]) continue;
        if (c2 === c) linkWithinColumn(box, cols, c, uf, zWrap);
        else linkAcrossColumns(box, cols, c, c2, uf, zWrap);
      }
    }
  }
}

/** Groups of ≥ minMembers, sorted by decreasing size (ties: smallest particle index); group of every particle. */
function collectGroups(uf: UnionFind, np: number, minMembers: number): { roots: number[]; firstMember: Int32Array; groupOf: Int32Array } {
  const rootCount = new Int32Array(np);
  const firstMember = new Int32Array(np).fill(-1);
  for (let i = 0; i < np; i++) {
    const r = uf.find(i);
    rootCount[r]!++;
    if (firstMember[r] === -1) firstMember[r] = i;
  }
  const roots: number[] = [];
  for (let i = 0; i < np; i++) if (uf.parent[i] === i && rootCount[i]! >= minMembers) roots.push(i);
  roots.sort((a, b) => rootCount[b]! - rootCount[a]! || firstMember[a]! - firstMember[b]!);
  const gid = new Int32Array(np).fill(-1);
  roots.forEach((r, g) => (gid[r] = g));
  const groupOf = new Int32Array(np);
  for (let i = 0; i < np; i++) groupOf[i] = gid[uf.find(i)]!;
  return { roots, firstMember, groupOf };
}

/** Periodic centre of mass (relative to each group's first member), member counts, masses and mean velocities. */
function groupProperties(
  box: FofBox,
  groups: { roots: number[]; firstMember: Int32Array; groupOf: Int32Array },
  particleMass: number,
  vel: ArrayLike<number> | undefined,
): Pick<FofResult, 'positions' | 'masses' | 'len' | 'velocities'> {
  const { X, Y, Z, L, halfL } = box;
  const { roots, firstMember, groupOf } = groups;
  const np = groupOf.length;
  const ng = roots.length;
  const ref = new Int32Array(ng);
  for (let g = 0; g < ng; g++) ref[g] = firstMember[roots[g]!]!;
  const sx = new Float64Array(ng);
  const sy = new Float64Array(ng);
  const sz = new Float64Array(ng);
  const sv = vel ? new Float64Array(3 * ng) : undefined;
  const len = new Int32Array(ng);
  const rel = (v: number, r: number): number => {
    let d = v - r;
    if (d > halfL) d -= L;
    else if (d < -halfL) d += L;
    return d;
  };
  for (let i = 0; i < np; i++) {
    const g = groupOf[i]!;
    if (g < 0) continue;
    const r = ref[g]!;
    sx[g] += rel(X[i]!, X[r]!);
    sy[g] += rel(Y[i]!, Y[r]!);
    sz[g] += rel(Z[i]!, Z[r]!);
    len[g]!++;
    if (sv && vel) {
      sv[3 * g] += vel[3 * i]!;
      sv[3 * g + 1] += vel[3 * i + 1]!;
      sv[3 * g + 2] += vel[3 * i + 2]!;
    }
  }
  const positions = new Float32Array(3 * ng);
  const masses = new Float64Array(ng);
  for (let g = 0; g < ng; g++) {
    const r = ref[g]!;
    const n = len[g]!;
    let px = wrapInto(X[r]! + sx[g]! / n, L);
    let py = wrapInto(Y[r]! + sy[g]! / n, L);
    let pz = wrapInto(Z[r]! + sz[g]! / n, L);
    // float32 rounding can land exactly on L
    if (Math.fround(px) >= L) px = 0;
    if (Math.fround(py) >= L) py = 0;
    if (Math.fround(pz) >= L) pz = 0;
    positions[3 * g] = px;
    positions[3 * g + 1] = py;
    positions[3 * g + 2] = pz;
    masses[g] = n * particleMass;
  }
  let velocities: Float32Array | undefined;
  if (sv) {
    velocities = new Float32Array(3 * ng);
    for (let g = 0; g < ng; g++) for (let c = 0; c < 3; c++) velocities[3 * g + c] = sv[3 * g + c]! / len[g]!;
  }
  return { positions, masses, len, velocities };
}

/**
 * Finds FoF groups among `np` particles at `positions` (flat [np*3], Mpc/h) in a periodic box of side
 * `boxSize`. Groups are sorted by decreasing member count (ties: by smallest particle index).
 */
export function findHalos(positions: ArrayLike<number>, boxSize: number, opts: FofOptions = {}): FofResult {
  const np = Math.floor(positions.length / 3);
  if (np === 0) {
    return { positions: new Float32Array(0), masses: new Float64Array(0), len: new Int32Array(0), groupOf: new Int32Array(0), linkingLength: 0 };
  }
  const ll = (opts.b ?? 0.2) * (boxSize / Math.cbrt(np));
  const box = wrappedCoordinates(positions, np, boxSize, ll);
  const uf = new UnionFind(np);
  linkAll(box, buildColumns(box, np), uf);
  const groups = collectGroups(uf, np, opts.minMembers ?? 20);
  const props = groupProperties(box, groups, opts.particleMass ?? 1, opts.velocities);
  return { ...props, groupOf: groups.groupOf, linkingLength: ll };
}
