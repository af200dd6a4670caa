/** Synthetic worlds for HALOgen tests: a smooth random DM field and halo channels derived from it. */
import { writeWorld, type WorldGrids } from '../../src/io/world.js';
import { Rng } from '../../src/util/rng.js';

export function syntheticWorld(n: number, seed: number, dir = `synthetic-${seed}`): WorldGrids & { dm: Float32Array; halos: Float32Array } {
  const rng = new Rng(seed);
  const n3 = n ** 3;
  const g = new Float32Array(n3);
  for (let i = 0; i < n3; i++) g[i] = rng.normal();
  // cheap periodic smoothing: two passes of a 3-point box filter per axis
  const idx = (x: number, y: number, z: number): number => ((((x + n) % n) * n + ((y + n) % n)) * n + ((z + n) % n));
  let a = g;
  for (let pass = 0; pass < 2; pass++)
    for (let ax = 0; ax < 3; ax++) {
      const b = new Float32Array(n3);
      for (let x = 0; x < n; x++)
        for (let y = 0; y < n; y++)
          for (let z = 0; z < n; z++) {
            const d = [0, 0, 0];
            d[ax] = 1;
            b[idx(x, y, z)] = (a[idx(x - d[0]!, y - d[1]!, z - d[2]!)]! + a[idx(x, y, z)]! + a[idx(x + d[0]!, y + d[1]!, z + d[2]!)]!) / 3;
          }
      a = b;
    }
  const dm = new Float32Array(n3);
  for (let i = 0; i < n3; i++) dm[i] = Math.exp(2.5 * a[i]!) * 1e10;
  const halos = new Float32Array(4 * n3);
  for (let c = 0; c < 4; c++)
    for (let i = 0; i < n3; i++) {
      const d = dm[i]! / 1e10;
      halos[c * n3 + i] = d > 0.8 + 0.4 * c ? 1e11 * d ** (1 + 0.3 * c) : 0;
    }
  return {
    dir,
    grid: n,
    boxSize: n * 0.1,
    redshift: 0,
    massBins: { edges: [3e10, 1e11, 5e11, 1e12, Infinity], unit: 'Msun' },
    smoothingR: 0,
    provenance: { generator: 'test', seed },
    dm,
    halos,
  };
}

/**
 * Writes a synthetic world with T_b as well (the sum of its halo channels × 1e-12, so T_b follows
 * them) into `dir`, for the commands that train LODI.
 */
export function writeSyntheticTbWorld(dir: string, n: number, seed: number): void {
  const world = syntheticWorld(n, seed, dir);
  const n3 = n ** 3;
  const tb = new Float32Array(n3);
  for (let i = 0; i < n3; i++) for (let c = 0; c < 4; c++) tb[i]! += 1e-12 * world.halos[c * n3 + i]!;
  writeWorld(dir, { ...world, tb });
}
