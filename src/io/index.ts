/** Simulation and grid I/O: .npy, grids with sidecars, HDF5 grids, Gadget snapshots, FoF catalogues. */
export * from './errors.js';
export * from './units.js';
export * from './npy.js';
export * from './grid.js';
export * from './grid-hdf5.js';
export * from './pieces.js';
export * from './gadget-hdf5.js';
export * from './gadget-hdf5-writer.js';
export * from './gadget-binary.js';
export * from './fof.js';
export * from './fof-writer.js';
export * from './world.js';
export * from './sniff.js';
export * from './resolve.js';
export * from './snapshot.js';
