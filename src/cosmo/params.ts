import { readFileSync } from 'node:fs';

/**
 * Cosmological parameters of a flat ΛCDM model (w = -1), optionally with radiation.
 *
 * - `Omega_m`: total matter density today (CDM + baryons), in units of the critical density.
 * - `Omega_b`: baryon density today.
 * - `h`: H0 / (100 km/s/Mpc).
 * - `n_s`: primordial spectral index.
 * - `sigma8`: rms linear density contrast in a top-hat sphere of radius 8 Mpc/h at z = 0.
 * - `T_cmb`: CMB temperature today [K]; enters the transfer-function fitting formulae only.
 * - `Omega_r`: radiation density today (photons + massless neutrinos) in the expansion rate; default 0.
 *
 * Flatness fixes Omega_Lambda = 1 - Omega_m - Omega_r.
 */
export interface Cosmology {
  readonly Omega_m: number;
  readonly Omega_b: number;
  readonly h: number;
  readonly n_s: number;
  readonly sigma8: number;
  readonly T_cmb: number;
  readonly Omega_r: number;
}

/** Input accepted by {@link makeCosmology}: T_cmb and Omega_r are optional. */
export type CosmologyInput = Omit<Cosmology, 'T_cmb' | 'Omega_r'> & { T_cmb?: number; Omega_r?: number };

/** Default CMB temperature [K]. */
export const DEFAULT_T_CMB = 2.7255;

/** CAMELS "CV" set (the fiducial cosmology of the CAMELS simulations). */
export const CAMELS_CV: Cosmology = Object.freeze({
  Omega_m: 0.3,
  Omega_b: 0.049,
  h: 0.6711,
  n_s: 0.9624,
  sigma8: 0.8,
  T_cmb: DEFAULT_T_CMB,
  Omega_r: 0,
});

/**
 * Critical density today, rho_crit,0 = 3 H0^2 / (8 pi G), in h^2 Msun/Mpc^3 (numerically the same in
 * (Msun/h)/(Mpc/h)^3). CCL's value, from G = 6.67430e-11 SI, Msun = 1.988409871e30 kg,
 * Mpc = 3.0856775814913674e22 m.
 */
export const RHO_CRIT0_H2 = 2.77536627e11;

/** Speed of light [km/s]. */
export const C_KMS = 299792.458;

const REQUIRED = ['Omega_m', 'Omega_b', 'h', 'n_s', 'sigma8'] as const;
const OPTIONAL = ['T_cmb', 'Omega_r'] as const;
/** Descriptive keys that a cosmology file may carry and that are ignored. */
const IGNORED = new Set(['name', 'description', 'comment', 'source']);

/** Error raised for an invalid cosmology; the message names the source and the field. */
export class CosmologyError extends Error {}

/**
 * Validates a parameter object and fills the defaults. `source` (e.g. a file name) is used in error
 * messages.
 */
export function makeCosmology(input: CosmologyInput | Record<string, unknown>, source = 'cosmology'): Cosmology {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new CosmologyError(`${source}: expected a JSON object with ${REQUIRED.join(', ')}`);
  }
  const obj = input as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!(REQUIRED as readonly string[]).includes(key) && !(OPTIONAL as readonly string[]).includes(key) && !IGNORED.has(key)) {
      throw new CosmologyError(
        `${source}: unknown field "${key}" (allowed: ${[...REQUIRED, ...OPTIONAL].join(', ')})`,
      );
    }
  }
  const num = (key: string, fallback?: number): number => {
    const v = obj[key];
    if (v === undefined) {
      if (fallback !== undefined) return fallback;
      throw new CosmologyError(`${source}: missing field "${key}"`);
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new CosmologyError(`${source}: field "${key}" must be a finite number, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const c: Cosmology = {
    Omega_m: num('Omega_m'),
    Omega_b: num('Omega_b'),
    h: num('h'),
    n_s: num('n_s'),
    sigma8: num('sigma8'),
    T_cmb: num('T_cmb', DEFAULT_T_CMB),
    Omega_r: num('Omega_r', 0),
  };
  const check = (ok: boolean, key: string, why: string): void => {
    if (!ok) throw new CosmologyError(`${source}: field "${key}" ${why}, got ${(c as unknown as Record<string, number>)[key]}`);
  };
  check(c.Omega_m > 0 && c.Omega_m <= 1, 'Omega_m', 'must be in (0, 1]');
  check(c.Omega_b >= 0 && c.Omega_b < c.Omega_m, 'Omega_b', 'must be in [0, Omega_m)');
  check(c.h > 0 && c.h < 10, 'h', 'must be in (0, 10)');
  check(c.n_s > 0 && c.n_s < 3, 'n_s', 'must be in (0, 3)');
  check(c.sigma8 > 0, 'sigma8', 'must be > 0');
  check(c.T_cmb > 0, 'T_cmb', 'must be > 0');
  check(c.Omega_r >= 0 && c.Omega_m + c.Omega_r <= 1, 'Omega_r', 'must be >= 0 with Omega_m + Omega_r <= 1');
  return Object.freeze(c);
}

/** Reads a cosmology from a JSON file; errors name the file and the offending field. */
export function loadCosmology(path: string): Cosmology {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CosmologyError(`${path}: cannot read cosmology file (${(err as Error).message})`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new CosmologyError(`${path}: invalid JSON (${(err as Error).message})`);
  }
  return makeCosmology(obj as Record<string, unknown>, path);
}

/** Omega_Lambda of the flat model. */
export function omegaLambda(c: Cosmology): number {
  return 1 - c.Omega_m - c.Omega_r;
}

/** Stable cache key for a cosmology. */
export function cosmologyKey(c: Cosmology): string {
  return `${c.Omega_m},${c.Omega_b},${c.h},${c.n_s},${c.sigma8},${c.T_cmb},${c.Omega_r}`;
}
