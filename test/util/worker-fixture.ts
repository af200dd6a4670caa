/** Functions run by the worker-thread test (not a test file itself). */
import { tidy, F } from '@lodi/torch';

export function sumOnes(args: { n: number }): { sum: number; thread: 'worker' } {
  return { sum: tidy(() => F.ones([args.n]).sum().item()), thread: 'worker' };
}

export function fail(): never {
  throw new Error('failure inside the worker');
}
