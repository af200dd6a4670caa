import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { F, tidy } from '@lodi/torch';
import { BEST_FILE, CHECKPOINT_FILE, writeCheckpoint } from '../../src/train/checkpoint.js';
import { RunDir, type RunDirOptions } from '../../src/train/run-dir.js';

const KIND = 'test-kind';
const opts = (o: Partial<RunDirOptions> = {}): RunDirOptions => ({ missingCheckpoint: 'start', files: ['train.log'], ...o });

function withRoot(f: (root: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'run-dir-'));
  try {
    f(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** A finished run: checkpoint (one tensor, meta {epoch: 3}), best file and a log. */
function fakeRun(dir: string): void {
  mkdirSync(dir, { recursive: true });
  tidy(() => writeCheckpoint(join(dir, CHECKPOINT_FILE), KIND, { model: new Map([['w', F.tensor([1, 2, 3])]]) }, { epoch: 3 }));
  writeFileSync(join(dir, BEST_FILE), 'best');
  writeFileSync(join(dir, 'train.log'), 'log');
  writeFileSync(join(dir, 'notes.txt'), 'mine');
}

test('a new run writes nothing until create(), and abandon() removes only the directory it created', () =>
  withRoot((root) => {
    const out = join(root, 'a', 'run');
    const run = new RunDir(out, KIND, opts());
    assert.equal(existsSync(out), false);
    assert.equal(run.resumed, null);
    run.create();
    assert.ok(existsSync(out));
    run.abandon();
    assert.equal(existsSync(out), false);
    // a directory that existed before is kept
    mkdirSync(out, { recursive: true });
    const again = new RunDir(out, KIND, opts());
    again.create();
    again.abandon();
    assert.ok(existsSync(out));
    // so is one that holds a checkpoint by the time of the failure
    rmSync(out, { recursive: true });
    const third = new RunDir(out, KIND, opts());
    third.create();
    fakeRun(out);
    third.abandon();
    assert.ok(existsSync(join(out, CHECKPOINT_FILE)));
  }));

test('an existing run is refused without --resume or --force', () =>
  withRoot((root) => {
    fakeRun(root);
    assert.throws(() => new RunDir(root, KIND, opts()), /already holds a run \(checkpoint.safetensors\); pass --resume to continue it or --force to start over/);
  }));

test('--resume reads the checkpoint; without one it starts anew or refuses, as asked', () =>
  withRoot((root) => {
    const empty = join(root, 'empty');
    const started = new RunDir(empty, KIND, opts({ resume: true }));
    assert.match(started.notice!, /no checkpoint in .*empty; starting a new run/);
    assert.throws(() => new RunDir(empty, KIND, opts({ resume: true, missingCheckpoint: 'error' })), /nothing to resume/);
    const dir = join(root, 'run');
    fakeRun(dir);
    const run = new RunDir<{ epoch: number }>(dir, KIND, opts({ resume: true }));
    assert.equal(run.resumed!.meta.epoch, 3);
    assert.deepEqual(Array.from(run.resumed!.groups.get('model')!.get('w')!.toFloat32Array()), [1, 2, 3]);
    run.disposeResumed();
    assert.equal(run.resumed, null);
    assert.throws(() => new RunDir(dir, 'other-kind', opts({ resume: true })), /format: expected a other-kind checkpoint, got a 'test-kind' checkpoint/);
  }));

test("--force removes the old run's files only at create(), and only those", () =>
  withRoot((root) => {
    fakeRun(root);
    const run = new RunDir(root, KIND, opts({ force: true }));
    assert.equal(readdirSync(root).length, 4, 'nothing removed before create()');
    run.abandon(); // a failure before create(): the old run stays whole
    assert.equal(readdirSync(root).length, 4);
    new RunDir(root, KIND, opts({ force: true })).create();
    assert.deepEqual(readdirSync(root), ['notes.txt']);
  }));
