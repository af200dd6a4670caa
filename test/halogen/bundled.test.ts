/**
 * The bundled model (models/halogen-cpu/best.safetensors) keeps loading and predicting as it did
 * when it was trained: its prediction on one seeded 64^3 window is compared with the fixture written
 * by the code of that time (test/halogen/bundled-fixture.ts says how it was made).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readNpy } from '../../src/io/npy.js';
import { COUNT, bundledFile, bundledPrediction, fixtureFile, sha256 } from './bundled-fixture.js';

test('the bundled HALOgen model predicts what it predicted when it was trained', () => {
  // the file itself is the committed one (MODELS.md gives the full sha256)
  assert.match(sha256(bundledFile()), /^8c543868171ad51e/);
  const ref = readNpy(fixtureFile()).data as Float32Array;
  assert.equal(ref.length, COUNT);
  const got = bundledPrediction();
  let diff = 0;
  let equal = 0;
  for (let i = 0; i < COUNT; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - ref[i]!));
    if (got[i] === ref[i]) equal++;
  }
  // The outputs are log10 ρ_h in [7.7, 12.6]. With the same libtorch and thread count the result is
  // bit-identical; another thread count or CPU changes the float32 summation order of the convs,
  // measured at 1 ulp (9.5e-7) between 1 and 2 threads here. 1e-4 (about 100 ulp) allows for that,
  // while any change to the network (a permuted channel, a changed activation, a missing buffer)
  // moves outputs by far more than 1e-3.
  assert.ok(diff <= 1e-4, `max |Δ log10 ρ_h| = ${diff} over ${COUNT} values (${equal} bit-identical)`);
  // the reference is not degenerate: the prediction varies across the window
  const spread = Math.max(...ref) - Math.min(...ref);
  assert.ok(spread > 1, `reference spans only ${spread} dex`);
});
