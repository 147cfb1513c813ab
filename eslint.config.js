import js from '@eslint/js';
import regexp from 'eslint-plugin-regexp';
import tseslint from 'typescript-eslint';

/**
 * Imports in src/ run one way (README "Architecture"): entry points (main, cli) → http and observability →
 * scenarios (the scenario runner) → cds (protocol, use-cases) → patient-data / rules → facts / cards → stores → shared.
 * Each folder lists the folders of src/ it may import; anything else is an error naming the rule.
 * Cycles inside a folder are found by scripts/check-cycles.ts (also part of `npm run lint`).
 */
const LAYERS = {
  shared: [],
  stores: ['shared'],
  facts: ['shared'],
  cards: ['facts', 'shared'],
  'patient-data': ['facts', 'shared'],
  rules: ['cards', 'facts', 'shared', 'logger'],
  cds: ['patient-data', 'rules', 'cards', 'facts', 'stores', 'shared'],
  observability: ['rules', 'stores', 'shared'],
  scenarios: ['cds', 'patient-data', 'rules', 'facts', 'shared', 'config'],
  http: ['scenarios', 'cds', 'patient-data', 'rules', 'observability', 'stores', 'shared', 'config', 'logger'],
};
const FOLDERS = ['main', 'cli', 'scenarios', 'http', 'observability', 'cds', 'patient-data', 'rules', 'facts', 'cards', 'stores', 'shared', 'config', 'logger'];

export const layerRules = Object.entries(LAYERS).map(([layer, allowed]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: FOLDERS.filter((f) => f !== layer && !allowed.includes(f)).map((f) => ({
          // src/<layer>/ is at most three folders deep, so these are every way to reach src/<f>.
          group: ['../', '../../', '../../../'].flatMap((up) => [`${up}${f}/**`, `${up}${f}.js`]),
          message: `src/${layer} may import only ${allowed.length ? allowed.join(', ') : 'nothing else in src'}: imports run one way (README "Architecture").`,
        })),
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  {
    files: ['src/cli/**', 'scripts/**', 'bench/**'],
    rules: { 'no-console': 'off' },
  },
  {
    // No input may stall the event loop: a regex that backtracks or moves super-linearly on some string is an error
    // (issue 16: one whitespace run in a condition's display blocked a replica for 56 s).
    files: ['src/**/*.ts'],
    plugins: { regexp },
    rules: {
      'regexp/no-super-linear-backtracking': 'error',
      'regexp/no-super-linear-move': ['error', { ignorePartial: false, ignoreSticky: false }],
    },
  },
  ...layerRules,
  {
    // The console is a separate program (bundled for the browser): of the service's code it may use only
    // the shared vocabulary (src/shared: the API's types, the operator words), never another layer.
    files: ['console/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../../src/*', '!../../src/shared', '../../../src/*', '!../../../src/shared', '../../../../src/*', '!../../../../src/shared'],
              message: 'console/src may import only src/shared of the service: the API types and shared words (README "Architecture").',
            },
          ],
        },
      ],
    },
  },
);
