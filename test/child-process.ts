/** lodi in child processes, for tests that need separate processes (data-parallel ranks, the command line). */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

export interface CliExit {
  code: number | null;
  out: string;
  err: string;
}

/** Runs `lodi args` with one libtorch thread (several processes share the test machine's cores). */
export function runLodi(args: string[]): Promise<CliExit> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, LODI_NUM_THREADS: '1' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

/**
 * Runs the node script `script` with `job` as JSON in the environment variable `envVar` (one libtorch
 * thread) and resolves the JSON of the last line it prints; rejects when that line is not JSON.
 */
export function runJsonChild<R>(script: string, envVar: string, job: { rank: number }): Promise<R> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [script], { env: { ...process.env, [envVar]: JSON.stringify(job), LODI_NUM_THREADS: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as R);
      } catch {
        reject(new Error(`rank ${job.rank} exited ${code} without a result: ${out}`));
      }
    });
  });
}
