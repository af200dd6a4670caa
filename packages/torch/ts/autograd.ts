import { native } from './native.js';

/** Runs `fn` with gradient recording off (inference, optimizer updates). */
export function noGrad<R>(fn: () => R): R {
  const prev = native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

/** Runs `fn` with gradient recording on, even inside `noGrad`. */
export function enableGrad<R>(fn: () => R): R {
  const prev = native.setGradEnabled(true);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}
