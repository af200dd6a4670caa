/**
 * Growable typed arrays for halos as they are drawn: mass [Msun/h], Lagrangian position [Mpc/h] and the
 * index of the condition (descendant halo) they were drawn from.
 */
export class HaloBuffer {
  count = 0;
  mass: Float64Array;
  pos: Float32Array;
  parent: Int32Array;

  constructor(capacity = 1024) {
    const c = Math.max(16, Math.ceil(capacity));
    this.mass = new Float64Array(c);
    this.pos = new Float32Array(3 * c);
    this.parent = new Int32Array(c);
  }

  private grow(): void {
    const c = this.mass.length * 2;
    const m = new Float64Array(c);
    m.set(this.mass);
    const p = new Float32Array(3 * c);
    p.set(this.pos);
    const q = new Int32Array(c);
    q.set(this.parent);
    this.mass = m;
    this.pos = p;
    this.parent = q;
  }

  /** Appends a halo of mass m [Msun/h] at (x, y, z) [Mpc/h] drawn from condition `parent` (-1: none). */
  push(m: number, x: number, y: number, z: number, parent: number): void {
    if (this.count === this.mass.length) this.grow();
    const i = this.count++;
    this.mass[i] = m;
    this.pos[3 * i] = x;
    this.pos[3 * i + 1] = y;
    this.pos[3 * i + 2] = z;
    this.parent[i] = parent;
  }

  /**
   * The arrays trimmed to `count`: views of the buffer when it is at most 25% larger than needed (no copy
   * of millions of halos), copies otherwise. The buffer must not be pushed to afterwards.
   */
  arrays(): { mass: Float64Array; pos: Float32Array; parent: Int32Array } {
    const n = this.count;
    const view = this.mass.length <= 1.25 * n;
    return view
      ? { mass: this.mass.subarray(0, n), pos: this.pos.subarray(0, 3 * n), parent: this.parent.subarray(0, n) }
      : { mass: this.mass.slice(0, n), pos: this.pos.slice(0, 3 * n), parent: this.parent.slice(0, n) };
  }
}

/** x wrapped into [0, L) (float32-safe: a value that rounds up to L becomes 0). */
export function wrapCoord(x: number, L: number): number {
  let v = x - Math.floor(x / L) * L;
  if (Math.fround(v) >= Math.fround(L) || v >= L) v = 0;
  return v;
}
