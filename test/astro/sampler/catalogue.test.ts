import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createH5, h5ready } from '../../../src/io/hdf5.js';
import { readMergerHistory, writeMergerHistory } from '../../../src/io/halo-catalogue.js';
import { massHistogram, totalMass, validateMergerHistory, type HaloCatalogue, type MergerHistory } from '../../../src/astro/sampler/catalogue.js';
import { samplerRedshifts, resolveDexmParams, resolveSamplerParams } from '../../../src/astro/sampler/params.js';
import { Rng } from '../../../src/util/rng.js';

function history(): MergerHistory {
  const rng = new Rng(1);
  const make = (z: number, count: number, lower: number): HaloCatalogue => ({
    z,
    boxSize: 10,
    count,
    mass: Float64Array.from({ length: count }, () => 1e9 * (1 + 100 * rng.uniform())),
    pos: Float32Array.from({ length: 3 * count }, () => 10 * rng.uniform()),
    descendant: Int32Array.from({ length: count }, () => (lower > 0 ? rng.int(lower) : -1)),
    lagrangianPos: Float32Array.from({ length: 3 * count }, () => 10 * rng.uniform()),
  });
  const a = make(6, 50, 0);
  const b = make(6.14, 40, 50);
  const c = make(6.2828, 0, 40);
  return { redshifts: [6, 6.14, 6.2828], catalogues: [a, b, c] };
}

test('merger history: HDF5 round trip, bit for bit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-halos-'));
  try {
    const h = history();
    validateMergerHistory(h);
    const path = join(dir, 'halos.h5');
    await writeMergerHistory(path, h, { provenance: { seed: 1 } });
    const r = await readMergerHistory(path);
    assert.deepEqual(r.redshifts, h.redshifts);
    assert.deepEqual(r.provenance, { seed: 1 });
    for (let i = 0; i < 3; i++) {
      const [a, b] = [h.catalogues[i]!, r.catalogues[i]!];
      assert.equal(b.count, a.count);
      assert.equal(b.z, a.z);
      assert.equal(b.boxSize, 10);
      assert.deepEqual(b.mass, a.mass);
      assert.deepEqual(b.pos, a.pos);
      assert.deepEqual(b.descendant, a.descendant);
      if (a.count > 0) assert.deepEqual(b.lagrangianPos, a.lagrangianPos);
    }
    validateMergerHistory(r);
    await assert.rejects(writeMergerHistory(path, h), /exists/i);
    // arrays that are views into larger buffers (as the sampler returns them) are written as views
    const big = new Float64Array(80).fill(7);
    big.set(h.catalogues[0]!.mass, 10);
    const posBig = new Float32Array(300).fill(9);
    posBig.set(h.catalogues[0]!.pos, 30);
    const viewed: MergerHistory = { redshifts: [6], catalogues: [{ ...h.catalogues[0]!, mass: big.subarray(10, 60), pos: posBig.subarray(30, 180) }] };
    const vpath = join(dir, 'views.h5');
    await writeMergerHistory(vpath, viewed);
    const rv = await readMergerHistory(vpath);
    assert.deepEqual(rv.catalogues[0]!.mass, h.catalogues[0]!.mass);
    assert.deepEqual(rv.catalogues[0]!.pos, h.catalogues[0]!.pos);
    await writeMergerHistory(path, h, { force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('merger history: bad files and bad catalogues are refused with the field named', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-halos-'));
  try {
    const other = join(dir, 'other.h5');
    const f = await createH5(other);
    f.create_attribute('format', 'lodi-grids');
    f.close();
    await assert.rejects(readMergerHistory(other), /format attribute is "lodi-grids"/);
    const h = history();
    h.catalogues[1]!.descendant[3] = 50;
    const bad = join(dir, 'bad.h5');
    await writeMergerHistory(bad, h);
    await assert.rejects(readMergerHistory(bad), /z_001\/descendant: descendant\[3\] = 50/);
    assert.throws(() => validateMergerHistory(h), /descendant\[3\] = 50: expected an index in \[0, 50\)/);
    const h2 = history();
    h2.catalogues[0]!.mass[2] = -1;
    assert.throws(() => validateMergerHistory(h2), /mass\[2\] = -1/);
    const h3 = history();
    h3.redshifts[1] = 5;
    h3.catalogues[1]!.z = 5;
    assert.throws(() => validateMergerHistory(h3), /ascending/);
    await assert.rejects(writeMergerHistory(join(dir, 'x.h5'), h3), /ascending/);
    // provenance that is not JSON
    const prov = join(dir, 'prov.h5');
    await writeMergerHistory(prov, history(), { provenance: { seed: 1 } });
    const h5 = await h5ready();
    const pf = new h5.File(prov, 'a');
    pf.delete_attribute('provenance');
    pf.create_attribute('provenance', '{seed: 1');
    pf.close();
    await assert.rejects(readMergerHistory(prov), /prov\.h5: provenance: provenance attribute is not JSON, expected a JSON object/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('helpers: mass histogram, total mass, redshift steps and parameter checks', () => {
  const m = Float64Array.from([1, 1.5, 2, 3.99, 4, 8, 0.5]);
  assert.deepEqual(Array.from(massHistogram(m, [1, 2, 4, 8])), [2, 2, 1]);
  assert.equal(totalMass({ z: 0, boxSize: 1, count: 2, mass: Float64Array.from([1, 2]), pos: new Float32Array(6), descendant: new Int32Array(2) }), 3);
  // z_{k+1} = (1 + z_k) 1.02 - 1 (Davies et al. 2025, Sec. 2.2)
  const zs = samplerRedshifts(6, 7, 1.02);
  assert.equal(zs[0], 6);
  for (let i = 1; i < zs.length; i++) assert.ok(Math.abs(zs[i]! - ((1 + zs[i - 1]!) * 1.02 - 1)) < 1e-12);
  assert.ok(zs[zs.length - 1]! <= 7 && (1 + zs[zs.length - 1]!) * 1.02 - 1 > 7);
  const p = resolveSamplerParams(0.7);
  assert.equal(p.minMass, 0.7e8, '1e8 Msun = 0.7e8 Msun/h for h = 0.7');
  assert.equal(p.barrier.a, 0.73);
  assert.equal(p.haloMassCorrection, 0.89);
  // frozen, as the other parameter resolvers' results: what a run records cannot change under it
  assert.ok(Object.isFrozen(p) && Object.isFrozen(p.barrier));
  assert.throws(() => {
    (p as { haloMassCorrection: number }).haloMassCorrection = 1;
  }, TypeError);
  const given = { a: 0.7, alpha: 0.81, beta: 0.34 };
  const q = resolveSamplerParams(0.7, { barrier: given });
  given.a = 0.5; // the caller's object stays the caller's
  assert.equal(q.barrier.a, 0.7);
  assert.ok(Object.isFrozen(resolveDexmParams()) && Object.isFrozen(resolveDexmParams().barrier));
  assert.throws(() => resolveSamplerParams(0.7, { nProb: 2 }), /nProb = 2/);
  assert.throws(() => resolveSamplerParams(0.7, { model: 'ps' as 'st' }), /model = ps/);
  assert.throws(() => samplerRedshifts(6, 5, 1.02), /zMax = 5/);
});
