/**
 * Data-parallel training over several processes (one machine or many), on libtorch's c10d process
 * group with the Gloo backend (`ProcessGroup` of @lodi/torch). The scheme is the plain synchronous
 * one of PyTorch's DistributedDataParallel: every rank holds the whole model, draws the same global
 * batch from the same seeded streams and keeps its own slice of it; after the backward pass the
 * gradients are averaged over the ranks (one all-reduce of one flat buffer), so every rank applies
 * the same update and the weights stay identical without being sent again. Rank 0 alone reads and
 * writes the run directory; the others receive its state (metadata and tensors) once at the start.
 */
import { F, noGrad, tidy, type ProcessGroup, type Tensor } from '@lodi/torch';

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
