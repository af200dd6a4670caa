import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm run validate -- [name]` runs bench/validate-<name>.ts; without a name, all of them in turn.
 * Each writes its section of VALIDATION.md with plots under docs/validation/.
 */
const here = import.meta.dirname;
const available = readdirSync(here)
  .filter((f) => f.startsWith('validate-') && f.endsWith('.js'))
  .map((f) => f.slice('validate-'.length, -3));
const [name, ...rest] = process.argv.slice(2);
const chosen = name ? [name] : available;
for (const n of chosen) {
  if (!available.includes(n)) {
    process.stderr.write(`unknown validation '${n}'; available: ${available.join(', ')}\n`);
    process.exit(1);
  }
  process.stderr.write(`== validate ${n}\n`);
  process.argv = [process.argv[0]!, join(here, `validate-${n}.js`), ...rest];
  await import(join(here, `validate-${n}.js`));
}
