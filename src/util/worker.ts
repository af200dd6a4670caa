import { Worker } from 'node:worker_threads';

/** A second SIGINT sooner than this after the first is the same keypress delivered twice. */
const SECOND_INTERRUPT_MS = 1000;

/**
 * Runs `exportName(args)` from the ES module at `moduleUrl` in a worker thread and resolves with its
 * result (which must survive structured cloning). Heavy engine loops run there so the main thread
 * stays free to print progress (the worker's stdout/stderr are forwarded) and to react to signals.
 * Set LODI_NO_WORKER=1 to run in the calling thread instead (e.g. under a debugger).
 */
export async function runInWorker<T>(moduleUrl: string, exportName: string, args: unknown): Promise<T> {
  if (process.env.LODI_NO_WORKER === '1') {
    const mod = (await import(moduleUrl)) as Record<string, (a: unknown) => Promise<T> | T>;
    return await mod[exportName]!(args);
  }
  // First Ctrl-C: ask the worker to stop cleanly (it polls the shared flag); a second one, a deliberate press at
  // least a second later, terminates it. One keypress often arrives twice: `npx`/`npm exec` forward the SIGINT
  // that the terminal also sends to their child, and `timeout` signals the child and then its process group.
  const interrupt = new SharedArrayBuffer(4);
  const flag = new Int32Array(interrupt);
  const worker = new Worker(new URL('./worker-entry.js', import.meta.url), { workerData: { moduleUrl, exportName, args, interrupt } });
  let first = 0;
  const onSigint = (): void => {
    if (Atomics.load(flag, 0)) {
      if (Date.now() - first >= SECOND_INTERRUPT_MS) void worker.terminate();
      return;
    }
    first = Date.now();
    Atomics.store(flag, 0, 1);
    process.stderr.write('\ninterrupt: finishing the current step and saving (Ctrl-C again to abort)\n');
  };
  process.on('SIGINT', onSigint);
  return await new Promise<T>((resolve, reject) => {
    let settled = false;
    worker.once('message', (m: { ok: true; result: T } | { ok: false; message: string; stack?: string }) => {
      settled = true;
      if (m.ok) resolve(m.result);
      else {
        const err = new Error(m.message);
        if (m.stack) err.stack = m.stack;
        reject(err);
      }
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      process.off('SIGINT', onSigint);
      if (!settled) reject(new Error(`worker for ${exportName} exited with code ${code} before returning a result`));
    });
  });
}
