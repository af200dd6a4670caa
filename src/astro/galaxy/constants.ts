/**
 * Physical constants of the galaxy relations, with the public 21cmFAST code's values (src/Constants.c)
 * so that unit conversions agree with it.
 */

/** Seconds per year (the code's tropical year). */
export const S_PER_YR = 31556925.9747;

/** Solar mass [g] (the code's value). */
export const MSUN_G = 1.989e33;

/** Proton mass [g] (CODATA 2018, as in the code): the mass per baryon that turns M_* into a baryon count. */
export const M_P_G = 1.67262192369e-24;

/** Kilometres per megaparsec (IAU). */
export const KM_PER_MPC = 3.085677581491367e19;

/**
 * Zero point of the UV magnitude, M_UV = MUV_ZERO_POINT − 2.5 log10(L_UV / erg s^-1 Hz^-1), as in the
 * code's luminosity function (src/LuminosityFunction.c); the AB definition gives 51.60.
 */
export const MUV_ZERO_POINT = 51.63;

/** 1 dex in natural-log units: σ_ln = σ_dex ln 10. */
export const LN10 = Math.LN10;
