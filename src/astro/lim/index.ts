/** Line-intensity mapping: [CII] luminosities and surface brightness, multi-tracer lightcones, 21 cm × CII spectra (Davies et al. 2025, Sec. 7). */
export * from './cii.js';
export * from './lightcones.js';
export * from './cross.js';
