import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isMainThread } from 'node:worker_threads';
import { runInWorker } from '../../src/util/worker.js';

const fixture = new URL('./worker-fixture.js', import.meta.url).href;

test('runInWorker runs engine code in a worker thread and returns its result', async () => {
  assert.ok(isMainThread);
  const r = await runInWorker<{ sum: number; thread: string }>(fixture, 'sumOnes', { n: 7 });
  assert.deepEqual(r, { sum: 7, thread: 'worker' });
});

test('runInWorker rejects with the error thrown in the worker', async () => {
  await assert.rejects(runInWorker(fixture, 'fail', {}), /failure inside the worker/);
  await assert.rejects(runInWorker(fixture, 'missing', {}), /no export 'missing'/);
});
