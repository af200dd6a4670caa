import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm run bench -- <name> [args]` runs bench/<name>.ts (compiled to dist/bench/<name>.js);
 * without a name it lists the benchmarks. Each benchmark writes its own section of BENCHMARKS.md.
 */
const here = import.meta.dirname;
const available = readdirSync(here)
  .filter((f) => f.endsWith('.js') && !['run.js', 'lib.js', 'validate.js'].includes(f) && !f.startsWith('validate-'))
  .map((f) => f.slice(0, -3));
const [name, ...rest] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  process.stderr.write(`usage: npm run bench -- <name>\navailable: ${available.join(', ')}\n`);
  process.exit(name ? 1 : 0);
}
process.argv = [process.argv[0]!, join(here, `${name}.js`), ...rest];
await import(join(here, `${name}.js`));
