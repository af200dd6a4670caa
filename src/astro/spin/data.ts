/**
 * Access to the atomic and radiative tables bundled in data/21cmfast/ (copied from the public
 * 21cmFAST code; see data/21cmfast/README.md for what each file holds and where it comes from).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding the tables, found from src/astro/spin or dist/src/astro/spin. */
function dataDir(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const c = join(d, 'data', '21cmfast');
    if (existsSync(join(d, 'package.json')) && existsSync(c)) return c;
    d = resolve(d, '..');
  }
  throw new Error('data/21cmfast: table folder not found above ' + dirname(fileURLToPath(import.meta.url)) + ' (the package is incomplete)');
}

/**
 * Numeric rows of a whitespace-separated table, skipping lines that do not start with a number
 * (headers).
 *
 * @param name path inside data/21cmfast, e.g. 'kappa_eH_table.dat' or 'x_int_tables/xi_0.500.dat'.
 * @returns one number[] per data line.
 * @throws Error naming the file when it is missing or a data line holds a non-number.
 */
export function readTable(name: string): number[][] {
  const file = join(dataDir(), name);
  if (!existsSync(file)) throw new Error(`${file}: table not found (expected one of the files listed in data/21cmfast/README.md)`);
  const rows: number[][] = [];
  readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .forEach((line, i) => {
      const t = line.trim();
      if (t === '' || !/^[-+.\d]/.test(t)) return;
      const row = t.split(/\s+/).map(Number);
      if (row.some((v) => !Number.isFinite(v))) throw new Error(`${file}: line ${i + 1} holds a non-number: "${t}"`);
      rows.push(row);
    });
  return rows;
}
