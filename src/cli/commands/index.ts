import type { Command } from 'commander';
import { register as registerDemo } from './demo.js';
import { register as registerLinearPower } from './linear-power.js';
import { register as registerHmf } from './hmf.js';
import { register as registerPower } from './power.js';
import { register as registerPrepare } from './prepare.js';
import { register as registerSimulate } from './simulate.js';
import { register as registerTrainHalogen } from './train-halogen.js';
import { register as registerPredictHalos } from './predict-halos.js';
import { register as registerTrainLodi } from './train-lodi.js';
import { register as registerGenerate } from './generate.js';
import { register as registerEvaluate } from './evaluate.js';
import { register as registerRun } from './run.js';
import { register as registerSampleHalos } from './sample-halos.js';
import { register as registerReionize } from './reionize.js';
import { register as registerStochasticity } from './stochasticity.js';

/** Each subcommand lives in its own module exporting `register(program)`; add one line per command here. */
export function registerCommands(program: Command): void {
  registerDemo(program);
  registerLinearPower(program);
  registerHmf(program);
  registerPower(program);
  registerPrepare(program);
  registerSimulate(program);
  registerTrainHalogen(program);
  registerPredictHalos(program);
  registerTrainLodi(program);
  registerGenerate(program);
  registerEvaluate(program);
  registerRun(program);
  registerSampleHalos(program);
  registerReionize(program);
  registerStochasticity(program);
}
