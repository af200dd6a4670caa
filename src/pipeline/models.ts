/**
 * The bundled trained models (models/ at the package root; see MODELS.md): used when a command is
 * not given a model, so a new user needs no training.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the folder holding package.json), from dist/src/pipeline or src/pipeline. */
function packageRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'models'))) return d;
    d = resolve(d, '..');
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
}

export const BUNDLED = {
  halogen: join(packageRoot(), 'models', 'halogen-cpu', 'best.safetensors'),
  lodi: join(packageRoot(), 'models', 'lodi-cpu', 'best.safetensors'),
};

/** The model path to use: the user's, else the bundled one (error naming both when missing). */
export function modelPath(kind: keyof typeof BUNDLED, given?: string): string {
  if (given) return given;
  const p = BUNDLED[kind];
  if (!existsSync(p)) throw new Error(`no --${kind} model given and the bundled ${kind} model is missing (${p}); train one with 'lodi train ${kind}'`);
  return p;
}
