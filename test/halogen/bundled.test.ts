/**
 * Bundled HALOgen models keep loading and predicting as they did when they were trained: each
 * model's prediction on one seeded 64^3 window is compared with the fixture written by the code of
 * its time (test/halogen/bundled-fixture.ts says how each was made).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readNpy } from '../../src/io/npy.js';
import { CASES, COUNT, fixturePrediction, sha256 } from './bundled-fixture.js';

for (const c of CASES()) {
  test(`HALOgen model '${c.name}' predicts what it predicted when it was trained`, () => {
    // the file itself is the committed one
    assert.ok(sha256(c.model).startsWith(c.sha256Prefix), `${c.model}: sha256 ${sha256(c.model)} does not start with ${c.sha256Prefix}`);
    const ref = readNpy(c.fixture).data as Float32Array;
    assert.equal(ref.length, COUNT);
    const got = fixturePrediction(c.model);
    let diff = 0;
    let equal = 0;
    for (let i = 0; i < COUNT; i++) {
      diff = Math.max(diff, Math.abs(got[i]! - ref[i]!));
      if (got[i] === ref[i]) equal++;
    }
    // The outputs are log10 ρ_h in about [7.7, 14]. With the same libtorch and thread count the result
    // is bit-identical; another thread count or CPU changes the float32 summation order of the convs,
    // measured at 1 ulp (9.5e-7) between 1 and 2 threads here. 1e-4 (about 100 ulp) allows for that,
    // while any change to the network (a permuted channel, a changed activation, a missing buffer)
    // moves outputs by far more than 1e-3.
    assert.ok(diff <= 1e-4, `max |Δ log10 ρ_h| = ${diff} over ${COUNT} values (${equal} bit-identical)`);
    // the reference is not degenerate: the prediction varies across the window
    const spread = Math.max(...ref) - Math.min(...ref);
    assert.ok(spread > 1, `reference spans only ${spread} dex`);
  });
}
