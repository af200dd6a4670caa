import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { referenceDir } from './reference-dir.js';

// The tests on real simulation files and published tables read this folder; when it is missing they fail deep inside,
// and this test says why in one line.
test('the reference data folder is present (../shared/reference beside the clone, or LODI_REFERENCE_DIR)', () => {
  const dir = referenceDir();
  assert.ok(existsSync(dir), `reference data not found at ${dir}: the tests that read real simulation files and published tables need the shared reference folder beside the clone (../shared/reference) or LODI_REFERENCE_DIR set to it`);
});
