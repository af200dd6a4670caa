import { parentPort, workerData } from 'node:worker_threads';

/** Worker side of `runInWorker`: imports the module, calls the export, posts back the result or the error. */
const { moduleUrl, exportName, args } = workerData as { moduleUrl: string; exportName: string; args: unknown };
try {
  const mod = (await import(moduleUrl)) as Record<string, (a: unknown) => unknown>;
  const fn = mod[exportName];
  if (typeof fn !== 'function') throw new Error(`${moduleUrl} has no export '${exportName}'`);
  const result = await fn(args);
  parentPort!.postMessage({ ok: true, result });
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  parentPort!.postMessage({ ok: false, message: e.message, stack: e.stack });
}
