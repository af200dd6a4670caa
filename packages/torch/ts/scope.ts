import type { Tensor } from './tensor.js';

/**
 * Deterministic memory release. Every Tensor created inside `tidy(fn)` is disposed when `fn`
 * returns, except the tensors found in its return value (at any depth of arrays, Maps, Sets and
 * objects; they move to the enclosing scope) and tensors passed to `keep()`.
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
  if (result instanceof Promise) {
    for (const t of scope) t.dispose();
    throw new Error('tidy(fn): fn must be synchronous (it returned a Promise)');
  }
  const returned = new Set<Tensor>();
  collectTensors(result, returned, true);
  const parent = scopes[scopes.length - 1];
  for (const t of scope) {
    if (returned.has(t)) parent?.add(t);
    else t.dispose();
  }
  return result;
}

/**
 * Disposes every tensor reachable from `x` (a tensor, or arrays, Maps, Sets and plain objects
 * holding tensors). Class instances (modules, optimizers) are not searched: dispose them themselves.
 */
export function dispose(x: unknown): void {
  const found = new Set<Tensor>();
  collectTensors(x, found, false);
  for (const t of found) t.dispose();
}

/**
 * Finds the tensors reachable from `x` through arrays, Maps, Sets and the own enumerable fields of
 * plain objects (and of class instances when `instances`), at any depth; typed arrays are skipped.
 */
function collectTensors(x: unknown, out: Set<Tensor>, instances: boolean, seen = new Set<object>()): void {
  if (x === null || typeof x !== 'object' || seen.has(x)) return;
  seen.add(x);
  if ('_h' in x && typeof (x as Tensor).dispose === 'function') {
    out.add(x as Tensor);
    return;
  }
  if (ArrayBuffer.isView(x) || x instanceof ArrayBuffer || x instanceof Promise) return;
  if (Array.isArray(x)) {
    for (const v of x) collectTensors(v, out, instances, seen);
    return;
  }
  if (x instanceof Map) {
    for (const [k, v] of x) {
      collectTensors(k, out, instances, seen);
      collectTensors(v, out, instances, seen);
    }
    return;
  }
  if (x instanceof Set) {
    for (const v of x) collectTensors(v, out, instances, seen);
    return;
  }
  if (!instances && Object.getPrototypeOf(x) !== Object.prototype && Object.getPrototypeOf(x) !== null) return;
  for (const v of Object.values(x)) collectTensors(v, out, instances, seen);
}
