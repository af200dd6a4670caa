import { existsSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFileAtomic } from '../src/util/atomic.js';

/** Repository root (bench scripts run from dist/bench). */
export const repoRoot = join(import.meta.dirname, '..', '..');

/** One line describing the machine, for every benchmark/validation section. */
export function machineLine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}`;
}

/** Median of a sample (the statistic used for every timing here: the machine is noisy). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function timeIt(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/**
 * Replaces (or appends) the section `## <title>` in a Markdown file such as BENCHMARKS.md,
 * keeping the other sections, so each benchmark updates only its own results.
 */
export function writeSection(file: 'BENCHMARKS.md' | 'VALIDATION.md', title: string, body: string): void {
  const path = join(repoRoot, file);
  const heading = `## ${title}`;
  const intro =
    file === 'BENCHMARKS.md'
      ? '# Benchmarks\n\nProduced by `npm run bench -- <name>`; every ratio is measured within one run on the machine named in its section.\n'
      : '# Validation\n\nProduced by `npm run validate -- <name>`; plots are in `docs/validation/`.\n';
  const text = existsSync(path) ? readFileSync(path, 'utf8') : intro;
  const parts = text.split(/^(?=## )/m);
  const section = `${heading}\n\n${body.trim()}\n\n`;
  const idx = parts.findIndex((p) => p.startsWith(heading + '\n'));
  if (idx >= 0) parts[idx] = section;
  else parts.push((parts[parts.length - 1]!.endsWith('\n\n') ? '' : '\n') + section);
  writeFileAtomic(path, parts.join(''));
}

/** Debian's interpreter, where python3-torch and python3-numpy live (a pyenv shim may shadow it). */
export const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/**
 * The addon keeps large blocks in the heap (mallopt in packages/torch/src/addon.cc); Python gets the
 * same allocator behaviour through glibc tunables so comparisons measure the engine, not malloc.
 * LODI_MALLOC=system turns it off for both.
 */
export const MATCHING_MALLOC_ENV: Record<string, string> =
  process.env.LODI_MALLOC === 'system' ? {} : { GLIBC_TUNABLES: 'glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=2147483647' };

/** Runs a Python snippet with Debian's python3 (numpy / torch comparisons); returns stdout. */
export function runPython(code: string, env: Record<string, string> = {}): string {
  return execFileSync(PYTHON, ['-c', code], {
    encoding: 'utf8',
    env: { ...process.env, ...MATCHING_MALLOC_ENV, ...env },
    maxBuffer: 1 << 26,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

export function mdTable(headers: string[], rows: (string | number)[][]): string {
  // a bare | inside a cell (|P/P_true − 1|) would end the cell: escape it (cells already escaped stay as they are)
  const esc = (s: string): string => s.replace(/(?<!\\)\|/g, '\\|');
  const fmt = (v: string | number): string => (typeof v === 'number' ? (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(3) : String(+v.toPrecision(4))) : esc(v));
  return [
    `| ${headers.map(esc).join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`),
  ].join('\n');
}

/**
 * Largest |a − b| (NaN if any difference is NaN) and the largest |a|, the scale it is judged against.
 *
 * @throws Error when the lengths differ.
 */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; scale: number } {
  if (a.length !== b.length) throw new Error(`compare: lengths ${a.length} and ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= diff)) diff = Number.isNaN(d) ? NaN : d;
    scale = Math.max(scale, Math.abs(a[i]!));
  }
  return { diff, scale };
}

/**
 * Peak resident set size of this process so far [MB]: VmHWM of /proc/self/status (getrusage's
 * ru_maxrss would carry the parent's peak over into a spawned child on Linux).
 */
export function maxRssMB(): number {
  const m = /VmHWM:\s*(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

/** Other CPU-heavy work on the machine (the benchmark reports it next to the times). */
export function machineLoad(): string {
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  let trains = 0;
  try {
    trains = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => /\btrain (lodi|halogen)\b/.test(l) && !l.includes('bench')).length;
  } catch {
    /* ps missing: report the load average only */
  }
  return `load average ${load}, ${trains} training process(es) running`;
}

/** The word after `--name` on the benchmark's command line, else `def` (as a string). */
export function arg(name: string, def: number | string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : String(def);
}

/**
 * `arg` as a number.
 *
 * @throws one line naming the option when its value is not a finite number (or, with `positive`, not above 0).
 */
export function numArg(name: string, def: number, positive = false): number {
  const v = Number(arg(name, def));
  if (!Number.isFinite(v) || (positive && v <= 0)) throw new Error(`--${name} ${arg(name, def)}: expected a ${positive ? 'positive' : 'finite'} number`);
  return v;
}

/** Whether `--name` is on the benchmark's command line. */
export const flag = (name: string): boolean => process.argv.includes(`--${name}`);
