/**
 * The value parsers and shared options of every `lodi` command, so that one option means the same
 * thing in each. A parser takes the text typed after a flag and returns the value, or throws
 * commander's `InvalidArgumentError` with `expected <what>, got "<value>"`; commander prefixes the
 * option (`option '--box <Mpc/h>' argument '-5' is invalid.`).
 *
 * Numbers are written in decimal, optionally signed, with an optional exponent (`3`, `-0.5`, `.2`,
 * `1e8`). Everything else is refused rather than guessed: surrounding spaces, hexadecimal (`0x10`),
 * `NaN`, `Infinity`, trailing text (`12abc`) and values that overflow a double (`1e400`).
 */
import { InvalidArgumentError, Option } from 'commander';
import type { LengthUnit } from '../io/units.js';

/** A decimal number, e.g. `-3`, `2.`, `.5`, `6.02e23`; no spaces, no hex, no NaN or Infinity. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** The refusal of `value`, naming what was expected. */
function refuse(expected: string, value: string): InvalidArgumentError {
  return new InvalidArgumentError(`expected ${expected}, got ${JSON.stringify(value)}`);
}

/** The finite number `value` spells, or undefined. */
function decimal(value: string): number | undefined {
  if (!DECIMAL.test(value)) return undefined;
  const x = Number(value);
  return Number.isFinite(x) ? x : undefined;
}

/** A finite number. */
export function parseNumber(value: string): number {
  const x = decimal(value);
  if (x === undefined) throw refuse('a number', value);
  return x;
}

/** A finite number > 0 (factors, masses, wavenumbers); `-0` and `0` are refused. */
export function parsePositive(value: string): number {
  const x = decimal(value);
  if (x === undefined || !(x > 0)) throw refuse('a number > 0', value);
  return x;
}

/** A finite number >= 0 (smoothing radii, scatters); `-0` reads as 0. */
export function parseNonNegative(value: string): number {
  const x = decimal(value);
  if (x === undefined || !(x >= 0)) throw refuse('a number >= 0', value);
  return x + 0; // -0 + 0 is +0
}

/**
 * An exact integer >= `min`: written in decimal (an exponent is fine when the value is whole, e.g.
 * `1e6`), and at most 2^53 - 1 so that it is represented exactly.
 */
function integerAtLeast(value: string, min: number): number {
  const x = decimal(value);
  if (x === undefined || !Number.isSafeInteger(x) || x < min) throw refuse(`an integer >= ${min}`, value);
  return x + 0;
}

/** An integer >= 1 (counts: grid cells, realisations, steps, batch sizes). */
export function parsePositiveInteger(value: string): number {
  return integerAtLeast(value, 1);
}

/** An integer >= 0 (channel numbers, epoch or step totals where 0 has a meaning). */
export function parseNonNegativeInteger(value: string): number {
  return integerAtLeast(value, 0);
}

/** One past the largest seed: 2^32. */
export const SEED_LIMIT = 2 ** 32;

/**
 * A seed: an integer in [0, 2^32). The earlier copies disagreed (the shared one took any safe integer,
 * the private ones of evaluate and train any integer at all); this is stricter than both, because
 * `Rng` (src/util/rng.ts) folds a seed to 32 bits as `(seed mod 2^32) XOR floor(seed / 2^32)`: seed
 * 2^32 gives the stream of seed 1, so a larger seed would silently repeat another one's draws.
 */
export function parseSeed(value: string): number {
  const x = decimal(value);
  if (x === undefined || !Number.isInteger(x) || x < 0 || x >= SEED_LIMIT) throw refuse('an integer seed in [0, 2^32)', value);
  return x + 0;
}

/**
 * Where data-parallel ranks meet: `file:PATH` (a c10d FileStore on a shared file system) or
 * `HOST:PORT` (a TCP store that rank 0 serves on HOST; port 1–65535).
 */
export function parseRendezvous(value: string): { file: string } | { host: string; port: number } {
  if (value.startsWith('file:')) {
    if (value.length === 5) throw refuse('file:PATH with a path', value);
    return { file: value.slice(5) };
  }
  const m = /^(.+):(\d+)$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw refuse('HOST:PORT (port 1-65535) or file:PATH', value);
  // an IPv6 address is written in brackets, [::1]:29500
  return { host: m[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

/** A redshift: a finite number > -1 (the scale factor 1/(1+z) must be positive). */
export function parseRedshift(value: string): number {
  const x = decimal(value);
  if (x === undefined || !(x > -1)) throw refuse('a redshift > -1', value);
  return x;
}

/** A comoving box side in Mpc/h: a finite number > 0. */
export function parseBoxSize(value: string): number {
  const x = decimal(value);
  if (x === undefined || !(x > 0)) throw refuse('a box size > 0 in Mpc/h', value);
  return x;
}

/** A line-of-sight axis: `x`, `y` or `z`, or their indices `0`, `1`, `2` (Pylians' convention); returns the index. */
export function parseAxis(value: string): 0 | 1 | 2 {
  const i = ['x', 'y', 'z'].indexOf(value);
  if (i >= 0) return i as 0 | 1 | 2;
  if (value === '0' || value === '1' || value === '2') return Number(value) as 0 | 1 | 2;
  throw refuse('an axis x, y or z (or 0, 1, 2)', value);
}

/**
 * The elements of a comma-separated list, spaces around each removed. A list with an empty element
 * (`a,,b`, a trailing comma) or no element is refused: the stricter of the earlier copies (one dropped
 * empty elements, the mass-bin parser refused them), since a doubled comma is usually a lost value.
 */
function splitList(value: string): string[] {
  const list = value.split(',').map((s) => s.trim());
  if (value.trim() === '' || list.some((s) => s === '')) throw refuse('a comma-separated list without empty elements', value);
  return list;
}

/** A comma-separated list of names, e.g. `--models a,b`. */
export function parseList(value: string): string[] {
  return splitList(value);
}

/**
 * A comma-separated list whose every element `element` accepts, e.g. `listOf(parseNonNegative)` for
 * `--boosts 0,1,2,3`. The refusal names the element and the whole list.
 */
export function listOf<T>(element: (value: string) => T): (value: string) => T[] {
  return (value: string): T[] =>
    splitList(value).map((s, i) => {
      try {
        return element(s);
      } catch (err) {
        if (!(err instanceof InvalidArgumentError)) throw err;
        throw new InvalidArgumentError(`${err.message} (element ${i + 1} of ${JSON.stringify(value)})`);
      }
    });
}

/**
 * An enum-like option: one of `values` (e.g. `choice(TRANSFER_MODELS)` for `--transfer`). With
 * `ignoreCase`, `cic` reads as `CIC`; the value returned is always the spelling in `values`.
 */
export function choice<T extends string>(values: readonly T[], opts: { ignoreCase?: boolean } = {}): (value: string) => T {
  const key = (s: string): string => (opts.ignoreCase ? s.toLowerCase() : s);
  return (value: string): T => {
    const hit = values.find((v) => key(v) === key(value));
    if (hit === undefined) throw refuse(`one of ${values.join(', ')}`, value);
    return hit;
  };
}

/** `--length-unit` of prepare and run: the unit of snapshot lengths when the file does not say. */
export const parseLengthUnit = choice<LengthUnit>(['kpc/h', 'Mpc/h']);

/**
 * `--quiet`: no progress bar or progress lines on the terminal (the result line is still printed).
 * `log` names the log the command writes anyway, e.g. `run.log`, when it writes one. Add it with
 * `cmd.addOption(quietOption(...))`, which keeps the option where it stands in the command's help.
 */
export function quietOption(log?: string): Option {
  return new Option('--quiet', `no progress output on the terminal${log ? ` (${log} is still written)` : ''}`);
}

/**
 * `--device`: where the networks run. The name is checked here; whether the engine and the machine
 * have it is checked when the model loads (`resolveDevice`), so that a Slurm script written on a
 * login node without a GPU can still name `cuda` for its tasks.
 */
export function deviceOption(): Option {
  return new Option('--device <d>', 'where the networks run: cpu, cuda, cuda:N, or auto (cuda when the engine was built with CUDA and sees a GPU, else cpu)')
    .default('auto')
    .argParser((v: string) => {
      if (!/^(cpu|auto|cuda(:\d+)?)$/.test(v)) throw new InvalidArgumentError(`expected cpu, cuda, cuda:N or auto, got "${v}"`);
      return v;
    });
}

/** `--precision`: of the networks' forward passes (src/nets/precision.ts). */
export function precisionOption(): Option {
  return new Option(
    '--precision <p>',
    'precision of the networks: float32, bfloat16 (autocast: convolutions and matrix products in bfloat16, norms, softmax and the LODI time embedding, first and last convolution in float32; fast on GPUs and on CPUs with AVX512-BF16/AMX, slow where the CPU emulates it; with the bundled LODI it lowers <T_b> by about 3% while P(k) of T_b/<T_b> and r(k) move by less than 1%: BENCHMARKS.md, precision), or auto (bfloat16 on CUDA, float32 on the CPU)',
  )
    .default('float32')
    .choices(['auto', 'float32', 'bfloat16']);
}

/** `--noise`: where LODI's sampler draws its noise (src/lodi/generate.ts). */
export function noiseOption(): Option {
  return new Option(
    '--noise <where>',
    "where LODI's sampler draws its noise: host (seeded CPU generators, copied over: a seed gives the same map on every device), device (generators on the GPU: no host work inside the sampling loop; CPU and GPU then give different draws), or auto (device on CUDA, host on the CPU)",
  )
    .default('auto')
    .choices(['auto', 'host', 'device']);
}

/** `--force`: overwrite `what` (e.g. `an existing world`, `the files of an existing output directory`). */
export function forceOption(what: string): Option {
  return new Option('--force', `overwrite ${what}`);
}

/** The command line recorded in outputs (provenance, logs): `lodi <arguments as typed>`. */
export function commandLine(argv: readonly string[] = process.argv): string {
  return ['lodi', ...argv.slice(2)].join(' ');
}
