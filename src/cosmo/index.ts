/** Cosmology: parameters, background and growth, linear and non-linear P(k), sigma(M), mass functions, HI. */
export * from './params.js';
export * from './background.js';
export * from './transfer.js';
export * from './power.js';
export * from './sigma.js';
export * from './massfunction.js';
export * from './conditional.js';
export * from './halofit.js';
export * from './hi.js';
export { CubicSpline, simpson, bisect } from './numeric.js';
