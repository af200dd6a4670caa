import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { removeStaleTemps, tempSibling } from '../../src/util/atomic.js';

test('removeStaleTemps removes the temporaries of dead writers only, and nothing else', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-atomic-'));
  try {
    // a pid that has certainly exited: a child that ran and finished
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout.trim();
    const stale = `.tb_0.npy.tmp-${dead}-1700000000000`;
    const live = tempSibling(join(dir, 'tb_1.npy')).split('/').pop()!;
    for (const f of [stale, live, 'tb_0.npy', '.hidden', 'x.tmp-12-3']) writeFileSync(join(dir, f), 'x');
    assert.deepEqual(removeStaleTemps(dir), [stale]);
    assert.ok(!existsSync(join(dir, stale)));
    for (const f of [live, 'tb_0.npy', '.hidden', 'x.tmp-12-3']) assert.ok(existsSync(join(dir, f)), f);
    assert.deepEqual(removeStaleTemps(join(dir, 'missing')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
