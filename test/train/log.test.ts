import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCsv } from '../../src/train/log.js';

test('writeCsv: union of the keys as header, integers as they are, other numbers to 6 digits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'csv-'));
  try {
    const f = join(dir, 'h.csv');
    writeCsv(f, [{ step: 1, loss: 0.123456789 }, { step: 2, loss: 2 / 3, note: 'x' }]);
    assert.equal(readFileSync(f, 'utf8'), 'step,loss,note\n1,0.123457,\n2,0.666667,x\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
