/** Fields: periodic indices and wavenumbers, mass assignment, Fourier operations, power spectra, one-point statistics, grid preparation, stitching diagnostics. */
export * from './mas.js';
export * from './kgrid.js';
export * from './fourier.js';
export * from './ops.js';
export * from './symmetry.js';
export * from './power.js';
export * from './stats.js';
export * from './prepare.js';
export * from './stitching.js';
