import type { Tensor } from './tensor.js';

/**
 * Deterministic memory release. Every Tensor created inside `tidy(fn)` is disposed when `fn`
 * returns, except the tensors found in its return value (they move to the enclosing scope) and
 * tensors passed to `keep()`.
 */
const scopes: Set<Tensor>[] = [];

/** Registers a new tensor with the innermost scope (called by the Tensor constructor). */
export function track(t: Tensor): void {
  const s = scopes[scopes.length - 1];
  if (s) s.add(t);
}

/** Removes `t` from every enclosing scope so it outlives them; the caller must dispose it. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

export function tidy<R>(fn: () => R): R {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: R;
  try {
    result = fn();
  } catch (err) {
    scopes.pop();
    for (const t of scope) t.dispose();
    throw err;
  }
  scopes.pop();
  if (result instanceof Promise) throw new Error('tidy(fn): fn must be synchronous (it returned a Promise)');
  const returned = new Set<Tensor>();
  collectTensors(result, returned);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (returned.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/** Disposes every tensor reachable from `x` (a tensor, array or plain object of tensors). */
export function dispose(x: unknown): void {
  const found = new Set<Tensor>();
  collectTensors(x, found);
  for (const t of found) t.dispose();
}

function collectTensors(x: unknown, out: Set<Tensor>, depth = 0): void {
  if (x === null || x === undefined || depth > 8) return;
  if (typeof x !== 'object') return;
  if ('_h' in (x as object) && typeof (x as Tensor).dispose === 'function') {
    out.add(x as Tensor);
    return;
  }
  if (Array.isArray(x)) {
    for (const v of x) collectTensors(v, out, depth + 1);
    return;
  }
  if (x instanceof Map) {
    for (const v of x.values()) collectTensors(v, out, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(x) === Object.prototype) {
    for (const v of Object.values(x as Record<string, unknown>)) collectTensors(v, out, depth + 1);
  }
}
