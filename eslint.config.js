// Lint configuration: typescript-eslint's recommended rules on the TypeScript sources, plus the layer
// rules of docs/architecture.md. Each layer imports only from the layers above it:
//
//   packages/torch                                   the engine (knows nothing about the project)
//   src/{cosmo,field,io,nets,train,util}             ground
//   src/{nbody,astro,halogen,lodi}                   models and physics
//   src/{pipeline,report}                            composition, figures and reports
//   src/cli                                          argument parsing over pipeline
//
// Modules of one layer may import each other. No module in src/ uses a dynamic import(), except the
// worker loader, which starts the entry point its caller names.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const GROUND = ['cosmo', 'field', 'io', 'nets', 'train', 'util'];
const MODELS = ['nbody', 'astro', 'halogen', 'lodi'];
const COMPOSITION = ['pipeline', 'report'];
const CLI = ['cli'];

/** An import of one of `dirs` of src/ by a relative path from another directory of src/. */
const into = (dirs) => `^(\\.\\./)+(${dirs.join('|')})(/|$)`;

/** no-restricted-imports for the files of `layerDirs`, forbidding the directories `below`. */
function layer(layerDirs, below, why) {
  return {
    files: layerDirs.map((d) => `src/${d}/**/*.ts`),
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: into(below), message: why }] }],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/', 'packages/torch/dist/', 'packages/torch/build/', 'node_modules/', 'out/', 'runs/', 'worlds/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['packages/torch/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./){2,}', message: 'packages/torch is the engine: it imports nothing from the project (docs/architecture.md).' }] },
      ],
    },
  },
  layer(GROUND, [...MODELS, ...COMPOSITION, ...CLI], 'ground modules (cosmo, field, io, nets, train, util) import only the engine and each other (docs/architecture.md).'),
  layer(MODELS, [...COMPOSITION, ...CLI], 'models and physics (nbody, astro, halogen, lodi) import only ground modules and each other; plots and reports belong in src/pipeline (docs/architecture.md).'),
  layer(COMPOSITION, CLI, 'pipeline and report never import the CLI (docs/architecture.md).'),
  {
    files: ['src/**/*.ts'],
    ignores: ['src/util/worker.ts', 'src/util/worker-entry.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: 'ImportExpression', message: 'no dynamic import() of project modules: import statically from a layer above (docs/architecture.md).' }],
    },
  },
);
