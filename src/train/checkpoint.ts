/**
 * Checkpoint files of every lodi model: one safetensors file holding groups of tensors (`model.*`,
 * `ema.*`, `optim.*`, `rng.*`, ...) and a JSON metadata record under the model's `kind` key.
 * Written atomically (temporary name, fsync, rename), so a kill never leaves a half-written file.
 * Inference imports this module only, never the training loop.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadSafetensors, loadSafetensorsMetadata, saveSafetensors, type Tensor } from '@lodi/torch';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
export const BEST_FILE = 'best.safetensors';

/** Writes `groups` (tensor names prefixed by `group.`) and `meta` (JSON under key `kind`). */
export function writeCheckpoint(path: string, kind: string, groups: Record<string, Map<string, Tensor>>, meta: unknown): void {
  const tensors = new Map<string, Tensor>();
  for (const [g, m] of Object.entries(groups)) for (const [k, t] of m) tensors.set(`${g}.${k}`, t);
  saveSafetensors(path, tensors, { format: kind, [kind]: JSON.stringify(meta) });
}

export interface ReadCheckpoint<M> {
  meta: M;
  /** Tensors by group, then by name (the caller disposes them, e.g. with `disposeGroups`). */
  groups: Map<string, Map<string, Tensor>>;
}

/** Runs a safetensors reader, turning its "not a valid safetensors file" into a field + expectation message. */
function readSafetensors<T>(path: string, kind: string, read: (path: string) => T): T {
  try {
    return read(path);
  } catch (err) {
    const why = /not a valid safetensors file \((.*)\)$/.exec(err instanceof Error ? err.message : '');
    if (!why) throw err;
    throw new Error(`${path}: header: ${why[1]}; expected a complete ${kind} checkpoint (safetensors; truncated by an interrupted copy?)`);
  }
}

/** The `kind` record of a safetensors file's metadata, parsed; throws naming the file and field otherwise. */
function metaOf<M>(path: string, kind: string, metadata: Record<string, string>): M {
  const raw = metadata[kind];
  if (!raw) {
    const other = metadata.format ? `a '${metadata.format}' checkpoint` : 'a safetensors file without lodi metadata';
    throw new Error(`${path}: format: expected a ${kind} checkpoint, got ${other}`);
  }
  try {
    return JSON.parse(raw) as M;
  } catch (err) {
    throw new Error(`${path}: ${kind}: metadata is not JSON (${(err as Error).message}); expected a complete ${kind} checkpoint`);
  }
}

/**
 * The metadata of a checkpoint of the given `kind`, reading only the file's header (no tensors).
 * Throws as {@link readCheckpoint} for a file of another kind or a broken header.
 */
export function readCheckpointMeta<M>(path: string, kind: string): M {
  return metaOf<M>(path, kind, readSafetensors(path, kind, loadSafetensorsMetadata));
}

/** Reads a checkpoint of the given `kind`; throws a one-line error naming the file otherwise. */
export function readCheckpoint<M>(path: string, kind: string): ReadCheckpoint<M> {
  const f = readSafetensors(path, kind, loadSafetensors);
  let meta: M;
  try {
    meta = metaOf<M>(path, kind, f.metadata);
  } catch (err) {
    for (const t of f.tensors.values()) t.dispose();
    throw err;
  }
  const groups = new Map<string, Map<string, Tensor>>();
  for (const [k, t] of f.tensors) {
    const dot = k.indexOf('.');
    const g = dot < 0 ? '' : k.slice(0, dot);
    if (!groups.has(g)) groups.set(g, new Map());
    groups.get(g)!.set(dot < 0 ? k : k.slice(dot + 1), t);
  }
  return { meta, groups };
}

export function disposeGroups(groups: Map<string, Map<string, Tensor>>): void {
  for (const m of groups.values()) for (const t of m.values()) t.dispose();
}

/**
 * The file to load for a model given as a run directory (best.safetensors, else
 * checkpoint.safetensors) or as a file. Throws naming the path when neither exists.
 */
export function resolveModelFile(path: string): string {
  if (existsSync(path) && statSync(path).isDirectory()) {
    const f = [join(path, BEST_FILE), join(path, CHECKPOINT_FILE)].find((p) => existsSync(p));
    if (!f) throw new Error(`${path}: no ${BEST_FILE} or ${CHECKPOINT_FILE} in this directory`);
    return f;
  }
  if (!existsSync(path)) throw new Error(`${path}: model not found`);
  return path;
}
