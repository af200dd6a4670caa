/**
 * The run-directory policy of the trainers: an existing run is resumed only when asked (`resume`),
 * replaced only when asked (`force`), and otherwise refused; nothing is written until the inputs
 * have loaded (`create`), and a run that fails before its first checkpoint leaves no directory
 * behind that it created itself (`abandon`).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { removeStaleTemps } from '../util/atomic.js';
import { BEST_FILE, CHECKPOINT_FILE, disposeGroups, readCheckpoint, type ReadCheckpoint } from './checkpoint.js';

export interface RunDirOptions {
  /** Continue from <out>/checkpoint.safetensors. */
  resume?: boolean;
  /** Discard an existing run (its `files`) once the new run's inputs have loaded. */
  force?: boolean;
  /** With `resume` and no checkpoint: start a new run ('start', with a notice) or refuse ('error'). */
  missingCheckpoint: 'start' | 'error';
  /** Files of a run, removed by `create` when `force` replaces one (checkpoint and best file included). */
  files: string[];
}

export class RunDir<M> {
  readonly out: string;
  readonly checkpoint: string;
  readonly best: string;
  /** The checkpoint to continue from (its tensors are the caller's to dispose), or null. */
  resumed: ReadCheckpoint<M> | null;
  /** A notice for the log (e.g. that --resume found nothing to resume), or null. */
  readonly notice: string | null;
  private readonly existed: boolean;
  private readonly replace: boolean;
  private readonly files: string[];

  /**
   * Applies the policy to `out` for checkpoints of `kind` without writing anything. Throws (one
   * line, naming the directory) when a run exists and neither `resume` nor `force` is given, or
   * when `resume` finds no checkpoint and `missingCheckpoint` is 'error'.
   */
  constructor(out: string, kind: string, o: RunDirOptions) {
    this.out = resolve(out);
    this.checkpoint = join(this.out, CHECKPOINT_FILE);
    this.best = join(this.out, BEST_FILE);
    this.existed = existsSync(this.out);
    this.files = [CHECKPOINT_FILE, BEST_FILE, ...o.files];
    const have = existsSync(this.checkpoint);
    this.resumed = null;
    this.notice = null;
    this.replace = false;
    if (have && o.resume) {
      // a killed run may have left half-written files behind
      removeStaleTemps(this.out);
      this.resumed = readCheckpoint<M>(this.checkpoint, kind);
    }
    else if (have && o.force) this.replace = true;
    else if (have) throw new Error(`${this.out} already holds a run (${CHECKPOINT_FILE}); pass --resume to continue it or --force to start over`);
    else if (o.resume && o.missingCheckpoint === 'error') throw new Error(`${this.checkpoint}: nothing to resume (no checkpoint in ${this.out})`);
    else if (o.resume) this.notice = `no checkpoint in ${this.out}; starting a new run`;
  }

  /** Creates the directory and, when replacing a run, removes its files. Call once the inputs have loaded. */
  create(): void {
    if (this.replace) for (const f of this.files) rmSync(join(this.out, f), { force: true });
    mkdirSync(this.out, { recursive: true });
  }

  /** Releases the tensors of a checkpoint read for resuming and not used. */
  disposeResumed(): void {
    if (this.resumed) disposeGroups(this.resumed.groups);
    this.resumed = null;
  }

  /**
   * After a failure: releases an unused resumed checkpoint and removes the directory when this run
   * created it and no checkpoint was written yet (a directory that existed before is left alone).
   */
  abandon(): void {
    this.disposeResumed();
    if (!this.existed && existsSync(this.out) && !existsSync(this.checkpoint)) rmSync(this.out, { recursive: true, force: true });
  }
}
