/** The LODI paper's halo mass-bin edges, in Msun (no h): 3e10, 1e11, 5e11, 1e12, ∞ (Sec. 2). */
export const PAPER_MASS_BINS_MSUN: readonly number[] = [3e10, 1e11, 5e11, 1e12, Infinity];
