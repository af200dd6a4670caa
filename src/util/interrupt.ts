import { isMainThread, workerData } from 'node:worker_threads';

/**
 * Cooperative interruption of long loops. A synchronous training loop never yields to the event
 * loop, so a SIGINT handler could not run in its thread; instead `runInWorker` shares a flag with
 * the worker and sets it on the first Ctrl-C, and loops poll `interruptRequested()` between steps
 * (to save a checkpoint and stop cleanly). In the main thread the flag is set by a SIGINT handler,
 * which only runs when the loop yields.
 */
const shared: Int32Array | null = !isMainThread && (workerData as { interrupt?: SharedArrayBuffer } | null)?.interrupt
  ? new Int32Array((workerData as { interrupt: SharedArrayBuffer }).interrupt)
  : null;
let local = false;

export function interruptRequested(): boolean {
  return shared ? Atomics.load(shared, 0) !== 0 : local;
}

/** Sets the flag of this thread (main-thread loops, tests). */
export function requestInterrupt(on = true): void {
  if (shared) Atomics.store(shared, 0, on ? 1 : 0);
  else local = on;
}
