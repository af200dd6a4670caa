import { Worker } from 'node:worker_threads';

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
  const worker = new Worker(new URL('./worker-entry.js', import.meta.url), { workerData: { moduleUrl, exportName, args } });
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
      if (!settled) reject(new Error(`worker for ${exportName} exited with code ${code} before returning a result`));
    });
  });
}
