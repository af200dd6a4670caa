/** Functions run by the worker-thread test (not a test file itself). */
import { tidy, F } from '@lodi/torch';
import { interruptRequested } from '../../src/util/interrupt.js';

export function sumOnes(args: { n: number }): { sum: number; thread: 'worker' } {
  return { sum: tidy(() => F.ones([args.n]).sum().item()), thread: 'worker' };
}

export function fail(): never {
  throw new Error('failure inside the worker');
}

/**
 * Polls the interrupt flag as a training loop does; once it is set, keeps working for `afterMs` (a step
 * finishing and a checkpoint being written) and then returns how it stopped.
 */
export async function interruptibleLoop(args: { afterMs: number }): Promise<string> {
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const t0 = Date.now();
  while (!interruptRequested()) {
    if (Date.now() - t0 > 20_000) return 'never interrupted';
    await sleep(5);
  }
  await sleep(args.afterMs);
  return 'stopped cleanly';
}
