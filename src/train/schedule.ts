/** Learning-rate schedules by optimiser step (pure functions of the step, so resume needs only the counter). */

/** Linear warm-up from lr/warmup to lr over `warmup` steps, then cosine decay to lr·minFactor at `total`. */
export function warmupCosine(step: number, lr: number, warmup: number, total: number, minFactor: number): number {
  if (step < warmup) return (lr * (step + 1)) / warmup;
  const p = Math.min(1, (step - warmup) / Math.max(1, total - warmup));
  return lr * (minFactor + (1 - minFactor) * 0.5 * (1 + Math.cos(Math.PI * p)));
}
