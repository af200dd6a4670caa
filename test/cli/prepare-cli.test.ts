import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Command } from 'commander';
import { registerCommands } from '../../src/cli/commands/index.js';
import { readWorld } from '../../src/io/index.js';
import { referenceDir, repoRoot } from '../reference-dir.js';
import { tempDir } from '../io/helpers.js';

const run = promisify(execFile);
const MAIN = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');

test('lodi prepare takes an existing Gadget format-1 file by its base name and says what it guessed and skipped', async () => {
  const { dir, cleanup } = tempDir('lodi-prepare-cli-');
  try {
    // a format-1 file named like a multi-file piece, given by its base name as Pylians users type it
    copyFileSync(join(referenceDir(), 'lcdm_gas_littleendian.dat'), join(dir, 'ics_000.0'));
    writeFileSync(join(dir, 'cosmo.json'), JSON.stringify({ Omega_m: 0.3, Omega_b: 0.04, h: 0.7, n_s: 0.96, sigma8: 0.8 }));
    const out = join(dir, 'w');
    const args = ['prepare', '--snapshot', join(dir, 'ics_000'), '--box', '50', '--cosmo', join(dir, 'cosmo.json'), '--grid', '8', '--out', out, '--no-plots', '--quiet'];
    const r = await run(process.execPath, [MAIN, ...args]);
    assert.match(r.stdout, /^wrote dm, report\.md to .*\/w \(N=8, L=50 Mpc\/h, z=10\.0000\)\n$/);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /^note: ics_000\.0: length unit kpc\/h guessed from the largest coordinate 49999\.\d+ > 1\.5 × 50 \(header BoxSize is 0\); set it with --length-unit if wrong$/);
    assert.match(lines[1]!, /^skipped: hi\.npy and tb\.npy: ics_000\.0 lacks NH, SFR/);
    const w = readWorld(out);
    assert.deepEqual(w.provenance.inputs, [join(dir, 'ics_000')]);
    assert.equal(w.cosmology?.h, 0.7);
    assert.match(readFileSync(join(out, 'prepare.log'), 'utf8'), /length unit: kpc\/h guessed/);
  } finally {
    cleanup();
  }
});

test('prepare offers --length-unit, --box and --cosmo; predict-halos offers --box', () => {
  const program = new Command();
  registerCommands(program);
  const longs = (name: string): string[] => program.commands.find((c) => c.name() === name)!.options.map((o) => o.long!);
  for (const f of ['--length-unit', '--box', '--cosmo', '--snapshot', '--groups']) assert.ok(longs('prepare').includes(f), f);
  assert.ok(longs('predict-halos').includes('--box'));
});
