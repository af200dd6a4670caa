/** CSV training logs written atomically after every evaluation (readable while training runs). */
import { writeFileAtomic } from '../util/atomic.js';

export type Row = Record<string, number | string>;

/** Writes rows as CSV with the union of their keys as header (first-seen order). */
export function writeCsv(path: string, rows: Row[]): void {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  const fmt = (v: number | string | undefined): string => (v === undefined ? '' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(6)) : v);
  const text = [keys.join(','), ...rows.map((r) => keys.map((k) => fmt(r[k])).join(','))].join('\n') + '\n';
  writeFileAtomic(path, text, { force: true });
}
