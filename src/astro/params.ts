/**
 * Astrophysical parameters of the 21cmFAST-v4 discrete source model (Davies et al. 2025, Sec. 3 and
 * Table 1), named and expressed as the public 21cmFAST code's user inputs (`AstroParams`,
 * `AstroOptions`, the `CORR_*` fields of `SimulationOptions`): normalisations and masses as log10,
 * scatters in dex. The galaxy relations (src/astro/galaxy) convert them to linear values and natural-log
 * widths.
 *
 * Defaults are the code's; where the paper's Table 1 differs (σ_*, α_*2, C_SFR, C_X, and the rounding of
 * f_*,10 and M_pivot) both are exported:
 * {@link ASTRO_DEFAULTS} (code) and {@link ASTRO_PAPER_TABLE1} (paper). Coefficients that the paper and the
 * code keep fixed (the FMR of Eq. 14–15, the L_X–Z pivot of Eq. 13, the UV conversion) are parameters
 * here too, defaulting to the fixed values. docs/astro-galaxies.md lists every field.
 */

/** Numeric fields of {@link AstroParams}. */
export const ASTRO_NUMBER_KEYS = [
  'F_STAR10',
  'ALPHA_STAR',
  'SIGMA_STAR',
  'UPPER_STELLAR_TURNOVER_MASS',
  'UPPER_STELLAR_TURNOVER_INDEX',
  'M_TURN',
  't_STAR',
  'SIGMA_SFR_LIM',
  'SIGMA_SFR_INDEX',
  'FMR_NORM',
  'FMR_LOG10_M0',
  'FMR_SFR_INDEX',
  'FMR_MASS_INDEX',
  'FMR_POWER',
  'FMR_Z_SLOPE',
  'FMR_Z_OFFSET',
  'L_X',
  'SIGMA_LX',
  'LX_Z_PIVOT',
  'LX_Z_INDEX',
  'NU_X_THRESH',
  'NU_X_BAND_MAX',
  'X_RAY_SPEC_INDEX',
  'F_ESC10',
  'ALPHA_ESC',
  'POP2_ION',
  'K_UV',
  'CORR_STAR',
  'CORR_SFR',
  'CORR_LX',
  'F_STAR7_MINI',
  'ALPHA_STAR_MINI',
  'F_ESC7_MINI',
  'L_X_MINI',
  'POP3_ION',
] as const;

/** Boolean switches of {@link AstroParams}. */
export const ASTRO_FLAG_KEYS = [
  'USE_UPPER_STELLAR_TURNOVER',
  'HALO_SCALING_RELATIONS_MEDIAN',
  'USE_LX_METALLICITY',
  'USE_MINI_HALOS',
] as const;

export type AstroNumberKey = (typeof ASTRO_NUMBER_KEYS)[number];
export type AstroFlagKey = (typeof ASTRO_FLAG_KEYS)[number];

/**
 * Validated, frozen astrophysical parameters. Every field is documented in {@link ASTRO_FIELDS} and
 * docs/astro-galaxies.md; in short (units as the code takes them):
 * - SHMR (Eq. 10): F_STAR10 [log10], ALPHA_STAR, SIGMA_STAR [dex], UPPER_STELLAR_TURNOVER_MASS [log10 Msun],
 *   UPPER_STELLAR_TURNOVER_INDEX, M_TURN [log10 Msun].
 * - SFMS (Eq. 11–12): t_STAR [Hubble times], SIGMA_SFR_LIM [dex], SIGMA_SFR_INDEX [dex per dex].
 * - FMR (Eq. 14–15): FMR_* (fixed coefficients of Curti et al. 2020/2024).
 * - X-rays (Eq. 13, 16): L_X [log10 erg s^-1 (Msun/yr)^-1], SIGMA_LX [dex], LX_Z_PIVOT [Z_sun], LX_Z_INDEX,
 *   NU_X_THRESH and NU_X_BAND_MAX [eV], X_RAY_SPEC_INDEX.
 * - Ionising photons (Eq. 17–18): F_ESC10 [log10], ALPHA_ESC, POP2_ION [photons per stellar baryon].
 * - UV: K_UV [Msun yr^-1 / (erg s^-1 Hz^-1)].
 * - Progenitor–descendant correlation (Eq. 8): CORR_STAR, CORR_SFR, CORR_LX [redshift units].
 * - Molecular-cooling galaxies (Eq. 19): F_STAR7_MINI [log10], ALPHA_STAR_MINI, F_ESC7_MINI [log10],
 *   L_X_MINI [log10 erg s^-1 (Msun/yr)^-1], POP3_ION.
 * - Switches: USE_UPPER_STELLAR_TURNOVER, HALO_SCALING_RELATIONS_MEDIAN (false: relations give the mean,
 *   true: the median), USE_LX_METALLICITY (Eq. 13's Z dependence), USE_MINI_HALOS.
 */
export type AstroParams = { readonly [K in AstroNumberKey]: number } & { readonly [K in AstroFlagKey]: boolean };

/** Input accepted by {@link makeAstroParams}: any subset of the fields. */
export type AstroParamsInput = Partial<{ [K in AstroNumberKey]: number } & { [K in AstroFlagKey]: boolean }>;

/** Description of one numeric field: the code's default, the paper's Table 1 value, the accepted range. */
export interface AstroFieldSpec {
  readonly key: AstroNumberKey;
  /** The public 21cmFAST code's default (null where it is derived from other fields, see `derived`). */
  readonly code: number | null;
  /** Davies et al. (2025) Table 1 value in the same units, or null when the table does not list it. */
  readonly paper: number | null;
  readonly min: number;
  readonly max: number;
  /** Whether the bounds are excluded. */
  readonly minOpen?: boolean;
  readonly maxOpen?: boolean;
  readonly unit: string;
  readonly symbol: string;
  readonly equation: string;
  readonly description: string;
}

const LOG10_005 = Math.log10(0.05);
const LOG10_28E11 = Math.log10(2.8e11);

/** Every numeric field with its defaults and range (the source of truth for validation and the docs). */
export const ASTRO_FIELDS: readonly AstroFieldSpec[] = Object.freeze([
  {
    key: 'F_STAR10',
    code: -1.3,
    paper: LOG10_005,
    min: -3,
    max: 0,
    unit: 'log10',
    symbol: 'f_*,10',
    equation: '10',
    description: 'SHMR normalisation: stellar fraction of the baryons at M_h = 1e10 Msun',
  },
  {
    key: 'ALPHA_STAR',
    code: 0.5,
    paper: 0.5,
    min: -2,
    max: 3,
    unit: '1',
    symbol: 'α_*',
    equation: '10',
    description: 'low-mass power-law slope of the SHMR',
  },
  {
    key: 'SIGMA_STAR',
    code: 0.25,
    paper: 0.3,
    min: 0,
    max: 2,
    unit: 'dex',
    symbol: 'σ_*',
    equation: '7, 10',
    description: 'log-normal scatter of M_* at fixed M_h',
  },
  {
    key: 'UPPER_STELLAR_TURNOVER_MASS',
    code: 11.447,
    paper: LOG10_28E11,
    min: 8,
    max: 16,
    unit: 'log10 Msun',
    symbol: 'M_pivot',
    equation: '10',
    description: 'pivot mass of the high-mass SHMR power law',
  },
  {
    key: 'UPPER_STELLAR_TURNOVER_INDEX',
    code: -0.6,
    paper: -0.61,
    min: -3,
    max: 3,
    unit: '1',
    symbol: 'α_*2',
    equation: '10',
    description: 'high-mass power-law slope of the SHMR',
  },
  {
    key: 'M_TURN',
    code: 8.7,
    paper: null,
    min: 0,
    max: 16,
    unit: 'log10 Msun',
    symbol: 'M_turn',
    equation: '10',
    description:
      'turnover mass below which star formation is exponentially suppressed (default per halo; a caller may pass feedback-dependent values)',
  },
  {
    key: 't_STAR',
    code: 0.5,
    paper: 0.5,
    min: 0,
    max: 1,
    minOpen: true,
    unit: 'Hubble times',
    symbol: 't_*',
    equation: '11',
    description: 'star-formation time-scale in units of 1/H(z)',
  },
  {
    key: 'SIGMA_SFR_LIM',
    code: 0.19,
    paper: 0.19,
    min: 0,
    max: 2,
    unit: 'dex',
    symbol: 'σ_SFR,lim',
    equation: '12',
    description: 'high-mass limit of the SFMS scatter (0 switches the SFMS scatter off)',
  },
  {
    key: 'SIGMA_SFR_INDEX',
    code: -0.12,
    paper: -0.12,
    min: -2,
    max: 2,
    unit: 'dex per dex',
    symbol: 'σ_SFR,idx',
    equation: '12',
    description: 'slope of the SFMS scatter with log10(M_* / 1e10 Msun)',
  },
  {
    key: 'FMR_NORM',
    code: 1.23,
    paper: 1.23,
    min: 0,
    max: 10,
    minOpen: true,
    unit: 'Z_sun',
    symbol: '1.23',
    equation: '14',
    description: 'FMR normalisation (fixed in the code)',
  },
  {
    key: 'FMR_LOG10_M0',
    code: 10.11,
    paper: 10.11,
    min: 6,
    max: 14,
    unit: 'log10 Msun',
    symbol: 'log10 M_0(SFR=1)',
    equation: '15',
    description: 'FMR turnover mass at SFR = 1 Msun/yr (fixed in the code)',
  },
  {
    key: 'FMR_SFR_INDEX',
    code: 0.56,
    paper: 0.56,
    min: -3,
    max: 3,
    unit: '1',
    symbol: '0.56',
    equation: '15',
    description: 'SFR dependence of the FMR turnover mass (fixed in the code)',
  },
  {
    key: 'FMR_MASS_INDEX',
    code: -2.1,
    paper: -2.1,
    min: -10,
    max: 0,
    maxOpen: true,
    unit: '1',
    symbol: '-2.1',
    equation: '14',
    description: 'inner power of M_*/M_0 in the FMR (fixed in the code)',
  },
  {
    key: 'FMR_POWER',
    code: -0.148,
    paper: -0.148,
    min: -3,
    max: 3,
    unit: '1',
    symbol: '-0.148',
    equation: '14',
    description: 'outer power of the FMR (fixed in the code)',
  },
  {
    key: 'FMR_Z_SLOPE',
    code: -0.056,
    paper: -0.056,
    min: -1,
    max: 1,
    unit: 'dex per unit z',
    symbol: '-0.056',
    equation: '14',
    description: 'redshift evolution of the FMR (fixed in the code)',
  },
  {
    key: 'FMR_Z_OFFSET',
    code: 0.064,
    paper: 0.064,
    min: -2,
    max: 2,
    unit: 'dex',
    symbol: '0.064',
    equation: '14',
    description: 'redshift-evolution offset of the FMR (fixed in the code)',
  },
  {
    key: 'L_X',
    code: 40.5,
    paper: 40.5,
    min: 30,
    max: 50,
    unit: 'log10 erg s^-1 (Msun/yr)^-1',
    symbol: 'L_X,norm',
    equation: '13',
    description: 'soft-band (E_0 to 2 keV) L_X/SFR normalisation (the low-metallicity limit when USE_LX_METALLICITY)',
  },
  {
    key: 'SIGMA_LX',
    code: 0.5,
    paper: 0.5,
    min: 0,
    max: 3,
    unit: 'dex',
    symbol: 'σ_X',
    equation: '13',
    description: 'log-normal scatter of L_X at fixed SFR and Z',
  },
  {
    key: 'LX_Z_PIVOT',
    code: 0.05,
    paper: 0.05,
    min: 0,
    max: 10,
    minOpen: true,
    unit: 'Z_sun',
    symbol: '0.05 Z_sun',
    equation: '13',
    description: 'metallicity at which L_X/SFR is half its low-Z limit (fixed in the code)',
  },
  {
    key: 'LX_Z_INDEX',
    code: 0.64,
    paper: 0.64,
    min: 0,
    max: 5,
    unit: '1',
    symbol: '0.64',
    equation: '13',
    description: 'high-metallicity power law of L_X/SFR (fixed in the code)',
  },
  {
    key: 'NU_X_THRESH',
    code: 500,
    paper: 500,
    min: 100,
    max: 1e4,
    maxOpen: true,
    unit: 'eV',
    symbol: 'E_0',
    equation: '16',
    description: 'X-ray energy threshold below which X-rays are absorbed in their host (must be < NU_X_BAND_MAX)',
  },
  {
    key: 'NU_X_BAND_MAX',
    code: 2000,
    paper: 2000,
    min: 100,
    max: 1e4,
    unit: 'eV',
    symbol: '2 keV',
    equation: '16',
    description: 'upper end of the band in which L_X is defined',
  },
  {
    key: 'X_RAY_SPEC_INDEX',
    code: 1,
    paper: 1,
    min: -3,
    max: 5,
    unit: '1',
    symbol: 'α_X',
    equation: '16',
    description: 'X-ray energy spectral index, L_X(E) ∝ E^-α_X',
  },
  {
    key: 'F_ESC10',
    code: -1,
    paper: -1,
    min: -5,
    max: 1,
    unit: 'log10',
    symbol: 'f_esc,10',
    equation: '17',
    description: 'escape fraction at M_h = 1e10 Msun (capped at 1 per halo)',
  },
  {
    key: 'ALPHA_ESC',
    code: -0.5,
    paper: -0.5,
    min: -3,
    max: 3,
    unit: '1',
    symbol: 'α_esc',
    equation: '17',
    description: 'halo-mass slope of the escape fraction',
  },
  {
    key: 'POP2_ION',
    code: 5000,
    paper: 5000,
    min: 0,
    max: 1e6,
    minOpen: true,
    unit: 'photons per stellar baryon',
    symbol: 'N_γ',
    equation: '18',
    description: 'ionising photons per stellar baryon, Pop II',
  },
  {
    key: 'K_UV',
    code: 1.15e-28,
    paper: null,
    min: 1e-30,
    max: 1e-26,
    unit: 'Msun yr^-1 / (erg s^-1 Hz^-1)',
    symbol: 'κ_UV',
    equation: '-',
    description: 'SFR / L_UV (Sun & Furlanetto 2016), as in the code’s luminosity function',
  },
  {
    key: 'CORR_STAR',
    code: 0.5,
    paper: 0.5,
    min: 0,
    max: 1e3,
    unit: 'redshift',
    symbol: 'C_*',
    equation: '8',
    description: 'correlation length of the SHMR deviate between progenitor and descendant (0: uncorrelated)',
  },
  {
    key: 'CORR_SFR',
    code: 0.2,
    paper: 0.1,
    min: 0,
    max: 1e3,
    unit: 'redshift',
    symbol: 'C_SFR',
    equation: '8',
    description: 'correlation length of the SFMS deviate (0: uncorrelated)',
  },
  {
    key: 'CORR_LX',
    code: 0.2,
    paper: 0.5,
    min: 0,
    max: 1e3,
    unit: 'redshift',
    symbol: 'C_X',
    equation: '8',
    description: 'correlation length of the L_X deviate (0: uncorrelated)',
  },
  {
    key: 'F_STAR7_MINI',
    code: null,
    paper: null,
    min: -5,
    max: 0,
    unit: 'log10',
    symbol: 'f_*,7',
    equation: '19',
    description: 'MCG SHMR normalisation at 1e7 Msun (default F_STAR10 − 3 ALPHA_STAR, the ACG law extended)',
  },
  {
    key: 'ALPHA_STAR_MINI',
    code: null,
    paper: null,
    min: -2,
    max: 3,
    unit: '1',
    symbol: 'α_*,mcg',
    equation: '19',
    description: 'MCG SHMR slope (default ALPHA_STAR)',
  },
  {
    key: 'F_ESC7_MINI',
    code: -2,
    paper: null,
    min: -5,
    max: 1,
    unit: 'log10',
    symbol: 'f_esc,7',
    equation: '17 (MCG)',
    description: 'MCG escape fraction at 1e7 Msun',
  },
  {
    key: 'L_X_MINI',
    code: null,
    paper: null,
    min: 30,
    max: 50,
    unit: 'log10 erg s^-1 (Msun/yr)^-1',
    symbol: 'L_X,mcg',
    equation: '13 (MCG)',
    description: 'MCG L_X/SFR normalisation (default L_X)',
  },
  {
    key: 'POP3_ION',
    code: 44021,
    paper: null,
    min: 0,
    max: 1e6,
    minOpen: true,
    unit: 'photons per stellar baryon',
    symbol: 'N_γ,III',
    equation: '18 (MCG)',
    description: 'ionising photons per stellar baryon, Pop III (MCGs)',
  },
] satisfies AstroFieldSpec[]);

/** Description of one switch: the code's default and what it does. */
export interface AstroFlagSpec {
  readonly key: AstroFlagKey;
  /** The code's default (null where it follows another switch). */
  readonly code: boolean | null;
  readonly description: string;
}

export const ASTRO_FLAGS: readonly AstroFlagSpec[] = Object.freeze([
  {
    key: 'USE_UPPER_STELLAR_TURNOVER',
    code: true,
    description:
      'double power-law SHMR of Eq. 10 (applied only when ALPHA_STAR > UPPER_STELLAR_TURNOVER_INDEX, as in the code); false: single power law',
  },
  {
    key: 'HALO_SCALING_RELATIONS_MEDIAN',
    code: false,
    description:
      'false: the relations give the linear mean of each log-normal property (the code’s default, "mean normalised"); true: they give the median 10^<log x>',
  },
  {
    key: 'USE_LX_METALLICITY',
    code: null,
    description:
      'Eq. 13’s metallicity dependence of L_X/SFR; default: equal to USE_UPPER_STELLAR_TURNOVER, because the code switches both with that one flag',
  },
  { key: 'USE_MINI_HALOS', code: false, description: 'add the molecular-cooling galaxy component of Eq. 19' },
] satisfies AstroFlagSpec[]);

/** Error raised for invalid astrophysical parameters; the one-line message names the source and the field. */
export class AstroParamsError extends Error {}

const SPEC_BY_KEY = new Map<string, AstroFieldSpec>(ASTRO_FIELDS.map((s) => [s.key, s]));
const FLAG_BY_KEY = new Map<string, AstroFlagSpec>(ASTRO_FLAGS.map((s) => [s.key, s]));
/** Descriptive keys that a parameter file may carry and that are ignored. */
const IGNORED = new Set(['name', 'description', 'comment', 'source', 'version']);

function rangeText(s: AstroFieldSpec): string {
  return `${s.minOpen ? '(' : '['}${s.min}, ${s.max}${s.maxOpen ? ')' : ']'}`;
}

function inRange(s: AstroFieldSpec, v: number): boolean {
  const lo = s.minOpen ? v > s.min : v >= s.min;
  const hi = s.maxOpen ? v < s.max : v <= s.max;
  return lo && hi;
}

/**
 * Validates `input` over `base` (default the code's defaults, {@link ASTRO_DEFAULTS}; pass
 * {@link ASTRO_PAPER_TABLE1} to start from the paper's values) and returns frozen parameters.
 *
 * Derived defaults, as in the code: F_STAR7_MINI = F_STAR10 − 3 ALPHA_STAR, ALPHA_STAR_MINI = ALPHA_STAR,
 * L_X_MINI = L_X (when neither `input` nor `base` sets them explicitly), USE_LX_METALLICITY =
 * USE_UPPER_STELLAR_TURNOVER.
 *
 * @param source name used in error messages (a file name, a command option, ...)
 * @throws AstroParamsError (one line: source, field, expected range, value) for an unknown field, a
 *   non-finite or out-of-range number, a non-boolean switch, or NU_X_THRESH ≥ NU_X_BAND_MAX.
 */
export function makeAstroParams(
  input: AstroParamsInput | Record<string, unknown> = {},
  source = 'astro params',
  base?: AstroParams,
): AstroParams {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new AstroParamsError(
      `${source}: expected an object of astrophysical parameters, got ${JSON.stringify(input)}`,
    );
  }
  const obj = input as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!SPEC_BY_KEY.has(key) && !FLAG_BY_KEY.has(key) && !IGNORED.has(key)) {
      throw new AstroParamsError(
        `${source}: unknown field "${key}" (see ASTRO_FIELDS / docs/astro-galaxies.md for the allowed names)`,
      );
    }
  }
  const out: Record<string, number | boolean> = {};
  const explicit = (key: string): boolean => obj[key] !== undefined;
  for (const s of ASTRO_FIELDS) {
    const v = obj[s.key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || !inRange(s, v)) {
      throw new AstroParamsError(
        `${source}: field "${s.key}" must be a finite number in ${rangeText(s)} (${s.unit}), got ${typeof v === 'number' ? v : JSON.stringify(v)}`,
      );
    }
    out[s.key] = v;
  }
  for (const f of ASTRO_FLAGS) {
    const v = obj[f.key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean')
      throw new AstroParamsError(`${source}: field "${f.key}" must be true or false, got ${JSON.stringify(v)}`);
    out[f.key] = v;
  }
  // Fill from the base, then derive what the code derives. A base built by makeAstroParams records which
  // of its derived fields were explicit, so a derived field follows a changed parent unless it was set.
  const baseExplicit = base ? (EXPLICIT_DERIVED.get(base) ?? new Set<string>()) : new Set<string>();
  const derivedKeys = ['F_STAR7_MINI', 'ALPHA_STAR_MINI', 'L_X_MINI', 'USE_LX_METALLICITY'];
  for (const s of ASTRO_FIELDS) {
    if (out[s.key] !== undefined) continue;
    if (base && (!derivedKeys.includes(s.key) || baseExplicit.has(s.key))) out[s.key] = base[s.key];
    else if (s.code !== null) out[s.key] = s.code;
  }
  for (const f of ASTRO_FLAGS) {
    if (out[f.key] !== undefined) continue;
    if (base && (!derivedKeys.includes(f.key) || baseExplicit.has(f.key))) out[f.key] = base[f.key];
    else if (f.code !== null) out[f.key] = f.code;
  }
  const num = (k: AstroNumberKey): number => out[k] as number;
  if (out.F_STAR7_MINI === undefined) out.F_STAR7_MINI = num('F_STAR10') - 3 * num('ALPHA_STAR');
  if (out.ALPHA_STAR_MINI === undefined) out.ALPHA_STAR_MINI = num('ALPHA_STAR');
  if (out.L_X_MINI === undefined) out.L_X_MINI = num('L_X');
  if (out.USE_LX_METALLICITY === undefined) out.USE_LX_METALLICITY = out.USE_UPPER_STELLAR_TURNOVER as boolean;
  // A derived value used by the model must also lie in its range (e.g. F_STAR10 − 3 ALPHA_STAR).
  for (const k of ['F_STAR7_MINI', 'ALPHA_STAR_MINI', 'L_X_MINI'] as const) {
    const s = SPEC_BY_KEY.get(k)!;
    if (out.USE_MINI_HALOS === true && !inRange(s, num(k))) {
      throw new AstroParamsError(
        `${source}: field "${k}" (derived, not set) must be in ${rangeText(s)} (${s.unit}), got ${num(k)}; set it explicitly`,
      );
    }
  }
  if (!(num('NU_X_THRESH') < num('NU_X_BAND_MAX'))) {
    throw new AstroParamsError(
      `${source}: field "NU_X_THRESH" must be below NU_X_BAND_MAX = ${num('NU_X_BAND_MAX')} eV, got ${num('NU_X_THRESH')}`,
    );
  }
  const ordered: Record<string, number | boolean> = {};
  for (const k of ASTRO_NUMBER_KEYS) ordered[k] = out[k]!;
  for (const k of ASTRO_FLAG_KEYS) ordered[k] = out[k]!;
  const params = Object.freeze(ordered) as AstroParams;
  const explicitDerived = new Set<string>(derivedKeys.filter((k) => explicit(k) || baseExplicit.has(k)));
  EXPLICIT_DERIVED.set(params, explicitDerived);
  return params;
}

/** Which derived fields of a parameter set were given explicitly (so that re-basing keeps them). */
const EXPLICIT_DERIVED = new WeakMap<AstroParams, Set<string>>();

/** The public 21cmFAST code's defaults (v4; the discrete-halo template with the code's AstroParams). */
export const ASTRO_DEFAULTS: AstroParams = makeAstroParams({}, '21cmFAST defaults');

/**
 * Davies et al. (2025) Table 1: the code's defaults with the table's σ_* = 0.3, α_*2 = −0.61,
 * M_pivot = 2.8e11 Msun, f_*,10 = 0.05, C_SFR = 0.1 and C_X = 0.5.
 */
export const ASTRO_PAPER_TABLE1: AstroParams = makeAstroParams(
  Object.fromEntries(ASTRO_FIELDS.filter((s) => s.paper !== null).map((s) => [s.key, s.paper])) as AstroParamsInput,
  'Davies et al. 2025 Table 1',
);

/**
 * Plain JSON-ready object of every field (numbers in the code's input units, switches as booleans), in a
 * fixed order, to save with every output. `makeAstroParams(astroParamsToJSON(p))` gives back `p`.
 */
export function astroParamsToJSON(p: AstroParams): Record<string, number | boolean> {
  const out: Record<string, number | boolean> = {};
  for (const k of ASTRO_NUMBER_KEYS) out[k] = p[k];
  for (const k of ASTRO_FLAG_KEYS) out[k] = p[k];
  return out;
}
