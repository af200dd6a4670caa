/**
 * The options of data-parallel training shared by `lodi train halogen` and `lodi train lodi`
 * (src/train/data-parallel.ts): --world-size, --rank, --rendezvous, --dp-timeout, and their check.
 */
import { Option, type Command } from 'commander';
import type { ProcessGroupOptions } from '@lodi/torch';
import { refuseGiven } from './option-checks.js';
import { parseNonNegativeInteger, parsePositive, parsePositiveInteger, parseRendezvous } from './options.js';

/** The four options, each to add to a training command (`.addOption`). */
export function dataParallelOptions(): { worldSize: Option; rank: Option; rendezvous: Option; timeout: Option } {
  return {
    worldSize: new Option('--world-size <n>', 'data-parallel training over n processes (one per machine or per core group; Gloo over TCP); each runs this command with its own --rank').argParser(parsePositiveInteger).default(1),
    rank: new Option('--rank <r>', "with --world-size: this process's rank, 0 to n-1; rank 0 writes the run directory").argParser(parseNonNegativeInteger).default(0),
    rendezvous: new Option('--rendezvous <where>', 'with --world-size: where the ranks meet: HOST:PORT (a TCP store served by rank 0 on HOST, e.g. the first node of a Slurm job) or file:PATH (a new file on a file system all ranks share)').argParser(parseRendezvous),
    timeout: new Option('--dp-timeout <s>', 'with --world-size: how long the rendezvous and each collective wait for the other ranks before the run fails, in seconds (raise it when ranks start far apart, e.g. nodes of a job that queue separately)').argParser(parsePositive).default(600),
  };
}

/**
 * The process group of this rank from the parsed options, or undefined for one process.
 * @throws when a data-parallel option is given without --world-size > 1, or --rendezvous is missing.
 */
export function distributedFromOptions(cmd: Command, o: { worldSize: number; rank: number; rendezvous?: ProcessGroupOptions['rendezvous']; dpTimeout: number }): ProcessGroupOptions | undefined {
  if (o.worldSize === 1) {
    refuseGiven(cmd, ['rank', 'rendezvous', 'dpTimeout'], 'without --world-size > 1');
    return undefined;
  }
  if (o.rendezvous === undefined) throw new Error('--rendezvous: missing; expected HOST:PORT or file:PATH where the ' + o.worldSize + ' ranks meet');
  return { rank: o.rank, worldSize: o.worldSize, rendezvous: o.rendezvous, timeoutMs: o.dpTimeout * 1000 };
}
