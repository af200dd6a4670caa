import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Progress reporting for long work: a one-line bar with ETA on a TTY, sparse plain lines otherwise
 * (CI logs), and every update appended to an optional log file.
 */
export class Progress {
  private readonly start = Date.now();
  private lastPrint = 0;
  private done = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly opts: { logFile?: string; stream?: NodeJS.WriteStream; quiet?: boolean; startAt?: number } = {},
  ) {
    if (opts.logFile) mkdirSync(dirname(opts.logFile), { recursive: true });
  }

  /** Advances to `done` steps; `info` is appended (e.g. "loss 0.12"). */
  update(done: number, info = ''): void {
    this.done = done;
    const now = Date.now();
    const elapsed = (now - this.start) / 1000;
    // a resumed task starts at `startAt`: the rate counts only the work done in this process
    const fresh = done - (this.opts.startAt ?? 0);
    const eta = fresh > 0 ? (elapsed / fresh) * (this.total - done) : NaN;
    const line = `${this.label} ${done}/${this.total} ${formatDuration(elapsed)} elapsed, ETA ${formatDuration(eta)}${info ? ' ' + info : ''}`;
    if (this.opts.logFile) appendFileSync(this.opts.logFile, `${new Date().toISOString()} ${line}\n`);
    if (this.opts.quiet) return;
    const stream = this.opts.stream ?? process.stderr;
    if (stream.isTTY) {
      const width = 24;
      const filled = Math.round((width * done) / Math.max(1, this.total));
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line}\x1b[K`);
      if (done >= this.total) stream.write('\n');
    } else if (now - this.lastPrint > 10000 || done >= this.total || done === 1) {
      this.lastPrint = now;
      stream.write(line + '\n');
    }
  }

  tick(info = ''): void {
    this.update(this.done + 1, info);
  }

  /** Writes a message to the log and stderr without disturbing the bar. */
  log(message: string): void {
    if (this.opts.logFile) appendFileSync(this.opts.logFile, `${new Date().toISOString()} ${message}\n`);
    if (!this.opts.quiet) (this.opts.stream ?? process.stderr).write((process.stderr.isTTY ? '\r\x1b[K' : '') + message + '\n');
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  // round to whole seconds first, so 59.6 s past a minute reads 1m00s later, never "15m60s"
  const total = Math.round(seconds);
  const m = Math.floor(total / 60);
  if (m < 60) return `${m}m${String(total - 60 * m).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
