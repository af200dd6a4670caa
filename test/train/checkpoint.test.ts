import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F } from '@lodi/torch';
import { disposeGroups, readCheckpoint, readCheckpointMeta, writeCheckpoint } from '../../src/train/checkpoint.js';

test('readCheckpointMeta gives the metadata of readCheckpoint from the header alone, with the same errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lodi-ck-'));
  try {
    const path = join(dir, 'a.safetensors');
    const w = F.ones([2000]);
    writeCheckpoint(path, 'kind-a', { model: new Map([['w', w]]) }, { step: 7, contract: { voxel: 0.5 } });
    w.dispose();
    const full = readCheckpoint<{ step: number }>(path, 'kind-a');
    disposeGroups(full.groups);
    assert.deepEqual(readCheckpointMeta(path, 'kind-a'), full.meta);
    assert.throws(() => readCheckpointMeta(path, 'kind-b'), /a\.safetensors: format: expected a kind-b checkpoint, got a 'kind-a' checkpoint$/);
    assert.throws(() => readCheckpoint(path, 'kind-b'), /a\.safetensors: format: expected a kind-b checkpoint, got a 'kind-a' checkpoint$/);
    truncateSync(path, 30);
    const msg = /a\.safetensors: header: header length \d+ exceeds file size 30; expected a complete kind-a checkpoint/;
    assert.throws(() => readCheckpointMeta(path, 'kind-a'), msg);
    assert.throws(() => readCheckpoint(path, 'kind-a'), msg);
    assert.ok(statSync(path).size === 30);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
