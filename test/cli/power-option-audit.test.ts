// Every option either acts or complains: combinations in which an option used to be dropped without a
// word (lodi power --cross --multipoles, and the ones the audit of the other commands found).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerCommands } from '../../src/cli/commands/index.js';

async function parse(args: string[]): Promise<Error> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  registerCommands(program);
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (err) {
    return err as Error;
  }
  throw new Error(`lodi ${args.join(' ')} succeeded`);
}

const dir = mkdtempSync(join(tmpdir(), 'lodi-audit-'));
const missing = join(dir, 'missing.npy');

test('generate: --method single refuses the sub-volume options; tiling/average refuse --fresh-known-noise', async () => {
  const base = ['generate', '--halos', missing, '--model', join(dir, 'm'), '--out', join(dir, 'tb.npy')];
  assert.match((await parse([...base, '--method', 'single', '--batch', '4', '--no-periodic'])).message, /^--batch, --no-periodic have no effect with --method single .*; drop them$/);
  assert.match((await parse([...base, '--method', 'tiling', '--fresh-known-noise'])).message, /^--fresh-known-noise has no effect with --method tiling/);
  // defaults never trigger a refusal: these get as far as reading the missing inputs
  assert.doesNotMatch((await parse([...base, '--method', 'single'])).message, /no effect/);
  assert.doesNotMatch((await parse([...base, '--fresh-known-noise', '--batch', '2'])).message, /no effect/);
});

test('run: --halogen with --halos is refused; demo: --box/--z only with --world-only, --realizations/--quiet not with it', async () => {
  const run = ['run', '--dm', missing, '--out', join(dir, 'run')];
  assert.match((await parse([...run, '--halos', missing, '--halogen', 'x.safetensors'])).message, /^--halogen has no effect with --halos/);
  assert.doesNotMatch((await parse([...run, '--halos', missing])).message, /no effect/);
  assert.match((await parse(['demo', '--out', join(dir, 'd'), '--box', '50'])).message, /^--box has no effect without --world-only/);
  assert.match((await parse(['demo', '--out', join(dir, 'd'), '--world-only', '--realizations', '2'])).message, /^--realizations has no effect with --world-only/);
});

test('demo: a seed that made a bundled model\'s training world is refused before anything is simulated', async () => {
  const out = join(dir, 'demo-101');
  assert.match((await parse(['demo', '--out', out, '--seed', '101', '--quiet'])).message, /^lodi demo: --seed 101 made \S*w101, a world the bundled HALOgen trained on; choose a seed/);
  assert.match((await parse(['demo', '--out', out, '--seed', '121', '--quiet'])).message, /--seed 121 made \S*w121, a world the bundled HALOgen trained on/);
  assert.equal(existsSync(out), false, 'nothing written');
});

test('train halogen / lodi: --resume refuses --preset, --batch, --seed and --force (the checkpoint decides them)', async () => {
  const worlds = ['--worlds', join(dir, 'w'), '--out', join(dir, 'r')];
  assert.match((await parse(['train', 'halogen', ...worlds, '--resume', '--batch', '8'])).message, /^--batch has no effect with --resume/);
  assert.match((await parse(['train', 'lodi', ...worlds, '--resume', '--seed', '3', '--force'])).message, /^--seed, --force have no effect with --resume/);
  assert.doesNotMatch((await parse(['train', 'lodi', ...worlds, '--resume', '--steps', '10'])).message, /no effect/);
});

test('predict-halos: --floor with --log is refused (the log10 output is not floored); --floor must be a number', async () => {
  const base = ['predict-halos', '--dm', missing, '--model', join(dir, 'm'), '--out', join(dir, 'h.npy')];
  assert.match((await parse([...base, '--log', '--floor', '9'])).message, /^--floor has no effect with --log/);
  assert.match((await parse([...base, '--floor', 'abc'])).message, /option '--floor <log10rho>' argument 'abc' is invalid\. expected a number, got "abc"/);
  assert.doesNotMatch((await parse([...base, '--log'])).message, /no effect/);
});

test('train lodi --init: takes the model\'s preset (refuses --preset), needs --steps; --resume refuses --init, --halos-file, --lr', async () => {
  const worlds = ['--worlds', join(dir, 'w'), '--out', join(dir, 'r')];
  assert.match((await parse(['train', 'lodi', ...worlds, '--init', join(dir, 'm'), '--preset', 'cpu', '--steps', '10'])).message, /^--preset has no effect with --init/);
  assert.match((await parse(['train', 'lodi', ...worlds, '--init', join(dir, 'm')])).message, /^--steps: missing; with --init/);
  assert.match((await parse(['train', 'lodi', ...worlds, '--resume', '--init', join(dir, 'm'), '--halos-file', 'h.npy', '--lr', '1e-4'])).message, /^--init, --halos-file, --lr have no effect with --resume/);
  // a valid combination gets as far as reading the model
  assert.match((await parse(['train', 'lodi', ...worlds, '--init', join(dir, 'm'), '--steps', '10', '--lr', '1e-4'])).message, /\/m: model not found$/);
});

test('train halogen --init: takes the model\'s preset (refuses --preset), needs --epochs; --resume refuses --init', async () => {
  const worlds = ['--worlds', join(dir, 'w'), '--out', join(dir, 'r')];
  assert.match((await parse(['train', 'halogen', ...worlds, '--init', join(dir, 'm'), '--preset', 'cpu', '--epochs', '10'])).message, /^--preset has no effect with --init/);
  assert.match((await parse(['train', 'halogen', ...worlds, '--init', join(dir, 'm')])).message, /^--epochs: missing; with --init/);
  assert.match((await parse(['train', 'halogen', ...worlds, '--resume', '--init', join(dir, 'm')])).message, /^--init has no effect with --resume/);
  // a valid combination gets as far as reading the model
  assert.match((await parse(['train', 'halogen', ...worlds, '--init', join(dir, 'm'), '--epochs', '10'])).message, /\/m: model not found$/);
});

test('--device: cpu, cuda, cuda:N or auto; --precision: auto, float32, bfloat16; demo --world-only runs no network and refuses them', async () => {
  const base = ['generate', '--halos', missing, '--model', join(dir, 'm'), '--out', join(dir, 'tb.npy')];
  assert.match((await parse([...base, '--device', 'gpu'])).message, /option '--device <d>' argument 'gpu' is invalid\. expected cpu, cuda, cuda:N or auto, got "gpu"/);
  assert.doesNotMatch((await parse([...base, '--device', 'cuda:1'])).message, /--device/);
  assert.match((await parse(['demo', '--out', join(dir, 'd'), '--world-only', '--device', 'cpu'])).message, /^--device has no effect with --world-only/);
  assert.match((await parse([...base, '--precision', 'half'])).message, /option '--precision <p>' argument 'half' is invalid\. Allowed choices are auto, float32, bfloat16/);
  assert.doesNotMatch((await parse([...base, '--precision', 'bfloat16'])).message, /--precision/);
  assert.match((await parse([...base, '--noise', 'gpu'])).message, /option '--noise <where>' argument 'gpu' is invalid\. Allowed choices are auto, host, device/);
  assert.match((await parse(['demo', '--out', join(dir, 'd'), '--world-only', '--precision', 'float32'])).message, /^--precision has no effect with --world-only/);
});
