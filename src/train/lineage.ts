/**
 * The worlds a model's weights have trained on when the model was continued or fine-tuned (`--init`):
 * its own and those recorded from the model it started from (which recorded its own start's, and so on).
 */

/**
 * `own` followed by `inherited`, each world once (same directory and seed; a world trained on again, e.g.
 * with another halo-channel file, is listed as this model's own entry).
 */
export function trainedWorlds<W extends { dir: string; seed?: number }>(own: readonly W[], inherited: readonly W[] | undefined): W[] {
  const out: W[] = [];
  for (const w of [...own, ...(inherited ?? [])]) if (!out.some((o) => o.dir === w.dir && o.seed === w.seed)) out.push(w);
  return out;
}
