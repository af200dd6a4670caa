/** The 21cmFAST-v4 halo sampler (Davies et al. 2025, Sec. 2 and Appendix B): catalogues, tables, samplers, the halo field. */
export * from './catalogue.js';
export * from './params.js';
export * from './chmf.js';
export * from './tables.js';
export * from './buffer.js';
export * from './cells.js';
export * from './progenitors.js';
export * from './alternatives.js';
export * from './linear-field.js';
export * from './dexm.js';
export * from './displace.js';
export * from './halo-field.js';
