/** Reionisation of the discrete-source model: gridding, excursion set, recombinations, 21 cm signal, lightcones (Davies et al. 2025, Sec. 4). */
export * from './params.js';
export * from './grid.js';
export * from './filters.js';
export * from './recombinations.js';
export * from './ionise.js';
export * from './brightness.js';
export * from './lightcone.js';
export * from './history.js';
export * from './driver.js';
