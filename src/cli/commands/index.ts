import type { Command } from 'commander';
import { register as registerLinearPower } from './linear-power.js';
import { register as registerHmf } from './hmf.js';
import { register as registerPower } from './power.js';
import { register as registerPrepare } from './prepare.js';
import { register as registerSimulate } from './simulate.js';

/** Each subcommand lives in its own module exporting `register(program)`; add one line per command here. */
export function registerCommands(program: Command): void {
  void program;
  registerLinearPower(program);
  registerHmf(program);
  registerPower(program);
  registerPrepare(program);
  registerSimulate(program);
}
