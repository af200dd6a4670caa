/**
 * Collectives across processes for data-parallel training: libtorch's c10d process group with the
 * Gloo backend (CPU tensors, TCP between machines). Ranks meet through a rendezvous file on a shared
 * file system or through a TCP store served by rank 0 (the `MASTER_ADDR:MASTER_PORT` of torchrun and
 * Slurm scripts). Every collective blocks until all ranks have called it, in the same order.
 */
import { native, type NativeProcessGroup } from './native.js';
import type { Tensor } from './tensor.js';

/** Whether this build of the addon has c10d with Gloo (Debian: libgloo-dev at build time). */
export function distributedAvailable(): boolean {
  return native.ProcessGroupHandle !== undefined;
}

export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  /** `{ file }`: a rendezvous file every rank can reach (must not exist from an earlier run); `{ host, port }`: rank 0 serves a TCP store there. */
  rendezvous: { file: string } | { host: string; port: number };
  /** How long a rendezvous or collective waits for the other ranks [ms] (default 10 min). */
  timeoutMs?: number;
  /**
   * The address Gloo binds to ('127.0.0.1' for one machine); default: the interface named by
   * GLOO_SOCKET_IFNAME, else what the hostname resolves to.
   */
  deviceHost?: string;
}

export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  private pg: NativeProcessGroup | null = null;

  /** @throws when the addon has no Gloo, the rank is out of range, or the rendezvous times out. */
  constructor(o: ProcessGroupOptions) {
    const Ctor = native.ProcessGroupHandle;
    if (!Ctor) throw new Error('distributed: this build of the engine has no c10d/Gloo (install libgloo-dev and rebuild: ./setup.sh)');
    if (!(Number.isInteger(o.worldSize) && o.worldSize >= 1)) throw new Error(`distributed: world size ${o.worldSize}, expected a positive integer`);
    if (!(Number.isInteger(o.rank) && o.rank >= 0 && o.rank < o.worldSize)) throw new Error(`distributed: rank ${o.rank}, expected an integer in [0, ${o.worldSize})`);
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    const timeoutMs = o.timeoutMs ?? 600_000;
    // as PyTorch does: GLOO_SOCKET_IFNAME names the network interface Gloo binds to (on clusters the
    // hostname may resolve to a loopback address the other nodes cannot reach)
    const ifname = o.deviceHost === undefined ? process.env.GLOO_SOCKET_IFNAME : undefined;
    const where = 'file' in o.rendezvous ? `file:${o.rendezvous.file}` : `${o.rendezvous.host}:${o.rendezvous.port}`;
    try {
      this.pg = new Ctor({ rank: o.rank, worldSize: o.worldSize, ...o.rendezvous, timeoutMs, deviceHost: o.deviceHost, deviceInterface: ifname || undefined });
    } catch (err) {
      throw new Error(`distributed: rank ${o.rank} of ${o.worldSize} could not meet the others at ${where} within ${timeoutMs / 1000} s: ${(err as Error).message}`);
    }
  }

  private handle(): NativeProcessGroup {
    if (!this.pg) throw new Error('distributed: process group already closed');
    return this.pg;
  }

  /** In place: each (contiguous CPU) tensor becomes the sum of its values over all ranks. */
  allReduceSum(tensors: Tensor[]): void {
    this.handle().allreduceSum(tensors);
  }

  /** In place: each tensor takes the values it has on rank `root`. */
  broadcast(tensors: Tensor[], root = 0): void {
    this.handle().broadcast(tensors, root);
  }

  /** Waits until every rank has reached this point. */
  barrier(): void {
    this.handle().barrier();
  }

  close(): void {
    this.pg?.close();
    this.pg = null;
  }
}
