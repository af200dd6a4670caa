/**
 * Data-parallel training over several processes (one machine or many), on libtorch's c10d process
 * group with the Gloo backend (`ProcessGroup` of @lodi/torch). The scheme is the plain synchronous
 * one of PyTorch's DistributedDataParallel: every rank holds the whole model, draws the same global
 * batch from the same seeded streams and keeps its own slice of it; after the backward pass the
 * gradients are averaged over the ranks (one all-reduce of one flat buffer), so every rank applies
 * the same update and the weights stay identical without being sent again. Rank 0 alone reads and
 * writes the run directory; the others receive its state (metadata and tensors) once at the start.
 */
import { F, ProcessGroup, noGrad, tidy, type DType, type ProcessGroupOptions, type Tensor } from '@lodi/torch';

/** The tensor of the bytes of `text` (UTF-8), or of `length` zero bytes to receive into. */
function bytesTensor(text: string | null, length: number): Tensor {
  const bytes = text === null ? new Uint8Array(length) : new TextEncoder().encode(text);
  return F.tensor(bytes, [bytes.length], { dtype: 'uint8' });
}

/**
 * Sends a JSON value from rank 0 to every rank (rank 0 passes it, the others pass undefined) and
 * returns it everywhere. Two broadcasts: the length, then the UTF-8 bytes.
 */
export function shareJson<T>(group: ProcessGroup, value: T | undefined): T {
  const lead = group.rank === 0;
  const text = lead ? JSON.stringify(value) : null;
  const length = F.tensor(Float64Array.from([text === null ? 0 : new TextEncoder().encode(text).length]), [1], { dtype: 'float64' });
  try {
    group.broadcast([length], 0);
    const bytes = bytesTensor(text, length.item() as number);
    try {
      group.broadcast([bytes], 0);
      return lead ? value! : (JSON.parse(new TextDecoder().decode(bytes.toArray() as Uint8Array)) as T);
    } finally {
      bytes.dispose();
    }
  } finally {
    length.dispose();
  }
}

/** Overwrites every tensor in place with rank 0's values (shapes and dtypes must agree on every rank). */
export function shareTensors(group: ProcessGroup, tensors: Tensor[]): void {
  noGrad(() => group.broadcast(tensors, 0));
}

/**
 * Every rank reports whether it could start (`problem` null) and all learn the outcome in one
 * all-reduce: a rank with a problem throws it, the others throw that some rank could not start, so no
 * rank waits for a collective that will never come.
 */
export function agreeToStart(group: ProcessGroup, problem: string | null): void {
  const failed = tidy(() => {
    const flag = F.tensor(Float64Array.from([problem === null ? 0 : 1]), [1], { dtype: 'float64' });
    group.allReduceSum([flag]);
    return flag.item();
  });
  if (problem !== null) throw new Error(`data-parallel rank ${group.rank}: ${problem}`);
  if (failed > 0) throw new Error(`data-parallel rank ${group.rank}: ${failed} other rank(s) could not start (their own output says why)`);
}

/**
 * Runs a trainer on this rank: without `options` (or with one rank) `lead(null)` alone; else opens the
 * group, rank 0 runs `lead` (which calls `onSent` once the others have its `sendStart` message) and the
 * other ranks `follow`. A leader that fails before sending tells the followers why (they throw it too,
 * instead of waiting for a message that will never come). The group is closed on return.
 */
export async function runDataParallel<R>(
  options: ProcessGroupOptions | undefined,
  lead: (dp: ProcessGroup | null, onSent: () => void) => Promise<R>,
  follow: (dp: ProcessGroup) => Promise<R>,
): Promise<R> {
  const dp = options && options.worldSize > 1 ? new ProcessGroup(options) : null;
  try {
    if (dp && dp.rank > 0) return await follow(dp);
    let sent = false;
    try {
      return await lead(dp, () => (sent = true));
    } catch (err) {
      if (dp && !sent)
        try {
          shareJson<StartMessage<unknown>>(dp, { error: (err as Error).message });
        } catch {
          /* a broken group must not hide the error below, the one to report */
        }
      throw err;
    }
  } finally {
    dp?.close();
  }
}

/** What rank 0 sends the other ranks before training: its metadata and the layout of its optimiser state and generator. */
export interface StartMessage<M> {
  error?: string;
  meta?: M;
  optim?: { name: string; shape: number[]; dtype: DType }[];
  generatorBytes?: number;
}

/**
 * The tensors every rank must hold alike at the start, in one order on every rank (weights and buffers,
 * optimiser state, a generator's state, ...), from the optimiser state and the generator state.
 */
export type StartTensors = (optim: Map<string, Tensor>, generator: Tensor) => Tensor[];

/**
 * Rank 0: sends `meta` and the layout of the optimiser state `optim` and generator state `generator`
 * (then `onSent`), waits until every rank could start (`agreeToStart`), and broadcasts `tensors`.
 */
export function sendStart<M>(group: ProcessGroup, meta: M, optim: Map<string, Tensor>, generator: Tensor, tensors: StartTensors, onSent: () => void): void {
  shareJson<StartMessage<M>>(group, {
    meta,
    optim: [...optim].map(([name, t]) => ({ name, shape: t.shape, dtype: t.dtype })),
    generatorBytes: generator.numel,
  });
  onSent();
  agreeToStart(group, null);
  shareTensors(group, tensors(optim, generator));
}

/**
 * Ranks 1..W−1: rank 0's start message.
 *
 * @throws rank 0's error when it stopped before training.
 */
export function receiveStart<M>(group: ProcessGroup): Required<Omit<StartMessage<M>, 'error'>> {
  const msg = shareJson<StartMessage<M>>(group, undefined);
  if (msg.error !== undefined || msg.meta === undefined || !msg.optim || msg.generatorBytes === undefined)
    throw new Error(`data-parallel rank ${group.rank}: rank 0 stopped before training: ${msg.error ?? 'no state sent'}`);
  return { meta: msg.meta, optim: msg.optim, generatorBytes: msg.generatorBytes };
}

/**
 * Ranks 1..W−1, after `agreeToStart`: receives rank 0's starting tensors (`tensors` of zeros laid out as
 * announced) and returns the optimiser state and generator state to load (in the caller's tidy scope).
 */
export function receiveStartTensors(
  group: ProcessGroup,
  msg: Required<Omit<StartMessage<unknown>, 'error' | 'meta'>>,
  tensors: StartTensors,
): { optim: Map<string, Tensor>; generator: Tensor } {
  const optim = new Map(msg.optim.map((e) => [e.name, F.zeros(e.shape, { dtype: e.dtype })]));
  const generator = F.zeros([msg.generatorBytes], { dtype: 'uint8' });
  shareTensors(group, tensors(optim, generator));
  return { optim, generator };
}

/** Rows [start, start + count) of a batch laid out along dimension 0: this rank's slice of the global batch. */
export function rankRows(group: ProcessGroup, batch: number): { start: number; count: number } {
  if (batch % group.worldSize !== 0)
    throw new Error(`data-parallel training: batch ${batch} is not a multiple of the world size ${group.worldSize}; choose a --world-size that divides it (on --resume the batch is the run's own)`);
  const count = batch / group.worldSize;
  return { start: group.rank * count, count };
}

/**
 * Averages the gradients of `params` over the ranks in place, together with per-rank numbers
 * `values` (loss terms, flags), whose averages are returned. One all-reduce of one float32 buffer
 * for the gradients and one float64 all-reduce for the values. A parameter without a gradient
 * contributes zeros (and receives the average).
 */
export function averageGradients(group: ProcessGroup, params: Tensor[], values: number[]): number[] {
  const W = group.worldSize;
  return tidy(() => {
    const flat = noGrad(() => F.cat(params.map((p) => (p.grad ?? F.zerosLike(p)).reshape([-1]))));
    const vals = F.tensor(Float64Array.from(values), [values.length], { dtype: 'float64' });
    group.allReduceSum([flat, vals]);
    noGrad(() => {
      let off = 0;
      for (const p of params) {
        const g = flat.narrow(0, off, p.numel).reshape(p.shape).div(W);
        if (p.grad) p.grad.copy_(g);
        else p.grad = g.clone();
        off += p.numel;
      }
    });
    return Array.from(vals.toFloat64Array(), (v) => v / W);
  });
}

/**
 * The seed of rank `rank`'s draws at step `step`: distinct per (seed, step, rank) and a function of
 * them alone, so a resumed run redraws exactly what an uninterrupted one draws, with no per-rank
 * generator state to save.
 */
export function rankStepSeed(seed: number, step: number, rank: number): number {
  if (rank >= 4096) throw new Error(`data-parallel training: rank ${rank}, at most 4096 ranks`);
  return ((seed % 1_000_003) * 1_048_573 + step) * 4096 + rank;
}
