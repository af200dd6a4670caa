/** Galaxy properties of the 21cmFAST-v4 discrete source model (Davies et al. 2025, Sec. 3). */
export * from './constants.js';
export * from './relations.js';
export * from './scatter.js';
export * from './properties.js';
export * from './uvlf.js';
