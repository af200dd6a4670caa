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

test('Ctrl-C: the first SIGINT stops the worker cleanly, a repeat within a second is the same keypress, a later one aborts', async () => {
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const err = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write; // the interrupt notice
  try {
    // one keypress delivered twice (npx forwards the terminal's SIGINT to its child, which also gets it)
    const once = runInWorker<string>(fixture, 'interruptibleLoop', { afterMs: 600 });
    await sleep(300);
    process.kill(process.pid, 'SIGINT');
    await sleep(5);
    process.kill(process.pid, 'SIGINT');
    assert.equal(await once, 'stopped cleanly');
    // a deliberate second Ctrl-C after the first: the worker is terminated before it returns
    const twice = runInWorker<string>(fixture, 'interruptibleLoop', { afterMs: 5000 });
    await sleep(300);
    process.kill(process.pid, 'SIGINT');
    await sleep(1200);
    process.kill(process.pid, 'SIGINT');
    await assert.rejects(twice, /worker for interruptibleLoop exited with code 1 before returning a result/);
  } finally {
    process.stderr.write = err;
  }
});
