// The shared option parsers of src/cli/options.ts: what each accepts and refuses, the shared --quiet /
// --force options and the recorded command line, and the rule that a command never imports another
// command's module (shared code lives in src/cli, not in a command).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { registerCommands } from '../../src/cli/commands/index.js';
import {
  choice,
  commandLine,
  listOf,
  parseAxis,
  parseBoxSize,
  parseLengthUnit,
  parseList,
  parseNonNegative,
  parseNonNegativeInteger,
  parseNumber,
  parsePositive,
  parsePositiveInteger,
  parseRedshift,
  parseSeed,
  SEED_LIMIT,
} from '../../src/cli/options.js';
import { Rng } from '../../src/util/rng.js';
import { repoRoot } from '../reference-dir.js';

/** Texts that no number parser may accept: not decimal, not finite, or padded. */
const NOT_NUMBERS = ['', ' ', 'NaN', 'Infinity', '-Infinity', 'inf', ' 3', '3 ', '1e400', '-1e400', '12abc', '0x10', '1_000', 'e5', '.', '-', '1e', '3,5'];

/** The parser refuses `value` with commander's error, naming `expected` and the value as typed. */
function refuses(parse: (v: string) => unknown, value: string, expected: RegExp): void {
  assert.throws(
    () => parse(value),
    (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError, `${JSON.stringify(value)}: ${String(err)}`);
      assert.match(err.message, expected, JSON.stringify(value));
      assert.ok(err.message.includes(JSON.stringify(value)), `the message names the value: ${err.message}`);
      return true;
    },
  );
}

test('parseNumber: decimal numbers with sign and exponent; no NaN, Infinity, overflow, spaces, hex or trailing text', () => {
  for (const [s, x] of [['3', 3], ['-0.5', -0.5], ['.5', 0.5], ['2.', 2], ['+4', 4], ['1e8', 1e8], ['-1E-3', -1e-3], ['0', 0]] as const) assert.equal(parseNumber(s), x, s);
  for (const s of NOT_NUMBERS) refuses(parseNumber, s, /^expected a number, got /);
});

test('parsePositive / parseNonNegative: finite and > 0 / >= 0; -0 is not positive and reads as +0 when >= 0 is asked', () => {
  assert.equal(parsePositive('2.5'), 2.5);
  assert.equal(parsePositive('1e-300'), 1e-300);
  for (const s of ['0', '-0', '+0', '-1', '-1e-300', ...NOT_NUMBERS]) refuses(parsePositive, s, /^expected a number > 0, got /);
  assert.ok(Object.is(parseNonNegative('-0'), 0), '-0 becomes +0');
  assert.equal(parseNonNegative('0'), 0);
  assert.equal(parseNonNegative('0.3'), 0.3);
  for (const s of ['-1', '-1e-9', ...NOT_NUMBERS]) refuses(parseNonNegative, s, /^expected a number >= 0, got /);
});

test('parsePositiveInteger / parseNonNegativeInteger: exact integers (1e6 is fine), nothing fractional, huge or padded', () => {
  for (const [s, x] of [['1', 1], ['256', 256], ['1e6', 1e6], ['9007199254740991', 2 ** 53 - 1]] as const) assert.equal(parsePositiveInteger(s), x, s);
  // 2^53 and 1e16 are integers as doubles but no longer exact (2^53 + 1 reads as 2^53)
  for (const s of ['0', '-0', '-3', '2.5', '1e-3', '9007199254740992', '1e16', ...NOT_NUMBERS]) refuses(parsePositiveInteger, s, /^expected an integer >= 1, got /);
  assert.equal(parseNonNegativeInteger('0'), 0);
  assert.ok(Object.is(parseNonNegativeInteger('-0'), 0));
  assert.equal(parseNonNegativeInteger('7'), 7);
  for (const s of ['-1', '0.5', ...NOT_NUMBERS]) refuses(parseNonNegativeInteger, s, /^expected an integer >= 0, got /);
});

test('parseSeed: integers in [0, 2^32), because Rng folds 2^32 onto seed 1', () => {
  // the reason for the bound (src/util/rng.ts): seed 2^32 draws exactly the stream of seed 1
  const a = new Rng(SEED_LIMIT);
  const b = new Rng(1);
  for (let i = 0; i < 4; i++) assert.equal(a.nextU32(), b.nextU32());
  for (const [s, x] of [['0', 0], ['301', 301], ['1e3', 1000], ['4294967295', SEED_LIMIT - 1]] as const) assert.equal(parseSeed(s), x, s);
  for (const s of ['4294967296', '1e10', '-1', '1.5', ...NOT_NUMBERS]) refuses(parseSeed, s, /^expected an integer seed in \[0, 2\^32\), got /);
});

test('parseRedshift and parseBoxSize: z > -1, box > 0 Mpc/h, both finite', () => {
  for (const [s, x] of [['0', 0], ['-0.5', -0.5], ['1100', 1100], ['5.5', 5.5]] as const) assert.equal(parseRedshift(s), x, s);
  for (const s of ['-1', '-2', ...NOT_NUMBERS]) refuses(parseRedshift, s, /^expected a redshift > -1, got /);
  assert.equal(parseBoxSize('25'), 25);
  assert.equal(parseBoxSize('0.195'), 0.195);
  for (const s of ['0', '-0', '-5', ...NOT_NUMBERS]) refuses(parseBoxSize, s, /^expected a box size > 0 in Mpc\/h, got /);
});

test('parseAxis: x, y, z or 0, 1, 2, to the index', () => {
  assert.deepEqual(['x', 'y', 'z', '0', '1', '2'].map(parseAxis), [0, 1, 2, 0, 1, 2]);
  for (const s of ['', 'X', 'w', '3', '-1', '1.0', ' z']) refuses(parseAxis, s, /^expected an axis x, y or z \(or 0, 1, 2\), got /);
});

test('parseList and listOf: comma-separated, spaces trimmed, no empty element; elements checked one by one', () => {
  assert.deepEqual(parseList('a,b'), ['a', 'b']);
  assert.deepEqual(parseList(' v4-mean-norm , chmf-on-grid '), ['v4-mean-norm', 'chmf-on-grid']);
  for (const s of ['', ' ', ',', 'a,,b', 'a,', ',a']) refuses(parseList, s, /^expected a comma-separated list without empty elements, got /);
  const boosts = listOf(parseNonNegative);
  assert.deepEqual(boosts('0,1,2,3'), [0, 1, 2, 3]);
  assert.deepEqual(boosts('0, 1.5'), [0, 1.5]);
  refuses(boosts, '0,-1', /^expected a number >= 0, got "-1" \(element 2 of "0,-1"\)$/);
  refuses(boosts, '0,NaN', /got "NaN" \(element 2 of/);
  refuses(boosts, '0,,1', /without empty elements/);
});

test('choice: one of the values, the spelling of the list returned; case-insensitive only when asked', () => {
  const mas = choice(['CIC', 'NGP', 'TSC', 'none'] as const, { ignoreCase: true });
  assert.deepEqual(['cic', 'CIC', 'Tsc', 'NONE', 'none'].map(mas), ['CIC', 'CIC', 'TSC', 'none', 'none']);
  refuses(mas, 'PCS', /^expected one of CIC, NGP, TSC, none, got "PCS"$/);
  refuses(mas, '', /^expected one of/);
  const strict = choice(['add-log', 'multiply'] as const);
  assert.equal(strict('multiply'), 'multiply');
  refuses(strict, 'Multiply', /^expected one of add-log, multiply, got "Multiply"$/);
  assert.equal(parseLengthUnit('kpc/h'), 'kpc/h');
  assert.equal(parseLengthUnit('Mpc/h'), 'Mpc/h');
  for (const s of ['Mpc', 'mpc/h', 'kpc']) refuses(parseLengthUnit, s, /^expected one of kpc\/h, Mpc\/h, got /);
});

test('commandLine: lodi and the arguments as typed', () => {
  assert.equal(commandLine(['/usr/bin/node', '/x/dist/src/cli/main.js', 'power', 'dm.npy', '--box', '25']), 'lodi power dm.npy --box 25');
  assert.equal(commandLine(['node', 'main.js']), 'lodi');
});

/** Every subcommand, `train halogen` as "train halogen". */
function allCommands(): Map<string, Command> {
  const program = new Command();
  registerCommands(program);
  const out = new Map<string, Command>();
  const walk = (c: Command, prefix: string): void => {
    for (const sub of c.commands) {
      out.set(`${prefix}${sub.name()}`, sub);
      walk(sub, `${prefix}${sub.name()} `);
    }
  };
  walk(program, '');
  return out;
}

test('--quiet and --force read the same in every command that has them', () => {
  let quiet = 0;
  let force = 0;
  for (const [name, cmd] of allCommands()) {
    for (const o of cmd.options) {
      if (o.long === '--quiet') {
        quiet++;
        assert.match(o.description, /^no progress output on the terminal( \(.+ is still written\))?$/, name);
      }
      if (o.long === '--force') {
        force++;
        assert.match(o.description, /^overwrite \S/, name);
      }
    }
  }
  // today: 12 commands have --quiet, 14 have --force; the count guards against a walk that finds nothing
  assert.ok(quiet >= 10 && force >= 10, `${quiet} --quiet, ${force} --force`);
});

test('bad values are refused while parsing, with the option named by commander', async () => {
  const parse = async (args: string[]): Promise<string> => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    registerCommands(program);
    try {
      await program.parseAsync(args, { from: 'user' });
    } catch (err) {
      return (err as Error).message;
    }
    return 'succeeded';
  };
  const dir = mkdtempSync(join(tmpdir(), 'lodi-options-'));
  const prep = ['prepare', '--snapshot', join(dir, 'missing'), '--out', join(dir, 'w')];
  assert.match(await parse([...prep, '--mass-bins', '1e12,1e10']), /option '--mass-bins <edges>' argument '1e12,1e10' is invalid\. expected increasing mass-bin edges/);
  assert.match(await parse([...prep, '--mass-bins', '1e10,x']), /expected a mass-bin edge > 0 or inf, got "x" \(element 2 of "1e10,x"\)/);
  assert.match(await parse([...prep, '--mass-bins', '1e10']), /expected at least two mass-bin edges/);
  // valid edges (inf last) pass the parser: the run then stops at the missing snapshot
  assert.doesNotMatch(await parse([...prep, '--mass-bins', '1e10,1e11,inf', '--quiet']), /is invalid/);
  assert.match(await parse(['generate', '--halos', 'h', '--model', 'm', '--out', 'o', '--method', 'stitch']), /option '--method <m>' argument 'stitch' is invalid\. expected one of overlap, tiling, average, single/);
  assert.match(await parse(['train', 'lodi', '--worlds', 'w', '--out', 'r', '--batch', '0']), /option '--batch <n>' argument '0' is invalid\. expected an integer >= 1/);
  assert.match(await parse(['sample-halos', '--out', 'o', '--seed', '4294967296']), /option '--seed <int>' argument '4294967296' is invalid/);
});

/**
 * The command modules (files under src/cli/commands) that `source`, the text of `file`, imports or
 * re-exports, other than index.ts (the list of commands). Relative specifiers only: a command reaches
 * another command's module only by a relative path.
 */
function commandImports(source: string, file: string, commandsDir: string): string[] {
  const specifiers = [
    ...source.matchAll(/\b(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/g),
    ...source.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g),
  ].map((m) => m[1]!);
  return specifiers.filter((s) => s.startsWith('.') && dirname(resolve(dirname(file), s)) === commandsDir);
}

test('no command imports another command\'s module (shared parsers and helpers live in src/cli)', () => {
  const commandsDir = join(repoRoot(), 'src', 'cli', 'commands');
  const me = join(commandsDir, 'demo.ts');
  // the detector itself: each of these forms is caught, imports from src/cli are not
  const bad = [
    "import { parseSeed } from './linear-power.js';",
    "import {\n  parseBox,\n  parseLengthUnit,\n} from './prepare.js';",
    "import type { PowerSourceOptions } from '../commands/linear-power.js';",
    "export { trainCommand } from './train-halogen.js';",
    "import './hmf.js';",
  ];
  for (const src of bad) assert.equal(commandImports(src, me, commandsDir).length, 1, src);
  const good = "import { parseSeed } from '../options.js';\nimport { runPower } from '../../pipeline/power.js';\nconst u = new URL('../../pipeline/train-halogen.js', import.meta.url);";
  assert.deepEqual(commandImports(good, me, commandsDir), []);
  // the sources
  const files = readdirSync(commandsDir).filter((f) => f.endsWith('.ts') && f !== 'index.ts');
  assert.ok(files.length >= 15, `${files.length} command files in ${commandsDir}`);
  const found = files.flatMap((f) => {
    const path = join(commandsDir, f);
    return commandImports(readFileSync(path, 'utf8'), path, commandsDir).map((s) => `${f} imports ${s}`);
  });
  assert.deepEqual(found, []);
});
