// Lint: typescript-eslint's recommended rules, React hooks rules for the renderer, and import
// boundaries that encode the architecture (README, "Guard rails").
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const root = import.meta.dirname;

/** Top-level folders whose code ships: the relay, the kiosk (main process and renderer), shared wire types, packaging. */
const production = ['./backend-relay', './electron', './renderer', './protocol', './build'];

const boundaries = [
  {
    target: './renderer',
    from: '.',
    except: ['./renderer', './protocol', './node_modules'],
    message: 'The renderer imports only protocol/, its own files and npm packages; it reaches the kiosk through the preload bridge.',
  },
  {
    target: './protocol',
    from: '.',
    except: ['./protocol', './node_modules'],
    message: 'protocol/ holds the shared wire types and imports nothing from the repository outside protocol/.',
  },
  {
    target: './backend-relay',
    from: ['./electron', './renderer'],
    message: 'The relay and the kiosk share only protocol/.',
  },
  {
    target: ['./electron', './renderer'],
    from: './backend-relay',
    message: 'The relay and the kiosk share only protocol/.',
  },
  {
    target: production,
    from: ['./scripts', './bench'],
    message: 'Production code does not import dev tooling; move the shared code into a production folder (e.g. build/).',
  },
  {
    target: [...production, './scripts', './bench', './*.ts'],
    from: './test',
    message: 'Only tests import from test/; move shared helpers next to the code that uses them.',
  },
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'out/',
      'dist/',
      'release/',
      'renderer/dist/',
      'console/dist/',
      'bench/results/',
      'docs/screenshots/',
      'test-results/',
      'playwright-report/',
      '.cabpay/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: root, zones: boundaries }],
      // The boundary rule skips imports it cannot resolve, so every import must resolve.
      'import-x/no-unresolved': 'error',
      // Unused bindings starting with _ are deliberate, and so are the siblings a rest pattern leaves out.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true, caughtErrors: 'none' }],
      '@typescript-eslint/no-unused-expressions': ['error', { allowShortCircuit: true, allowTernary: true }],
      // Matching control characters is the point of the terminal-text sanitisers and their tests.
      'no-control-regex': 'off',
    },
  },
  {
    // Tests, tooling and the operators' CLIs read ad-hoc JSON answers field by field.
    files: ['test/**', 'bench/**', 'scripts/**', 'backend-relay/fleet-cli.ts', 'backend-relay/updates/release-cli.ts', 'backend-relay/console/operator-cli.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Type-aware, so only where a dropped promise loses a payment or a write: it doubles the lint time.
    files: ['backend-relay/**/*.ts', 'electron/**/*.ts', 'renderer/src/**/*.{ts,tsx}', 'protocol/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: root } },
    rules: { '@typescript-eslint/no-floating-promises': 'error' },
  },
  {
    files: ['electron/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'electron', message: 'electron/core runs under plain Node (tests, preview, chaos); take Electron APIs through the shell in electron/.' },
          ],
          patterns: [{ group: ['electron/*'], message: 'electron/core runs under plain Node; take Electron APIs through the shell in electron/.' }],
        },
      ],
    },
  },
  {
    files: ['renderer/src/**'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      // The classic hooks rules; the React Compiler rules in the plugin's preset would add a third to the lint time.
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer reaches the kiosk through the preload bridge only.' }],
          patterns: [{ group: ['node:*'], message: 'The renderer runs in a sandboxed browser page: no Node built-ins.' }],
        },
      ],
    },
  },
);
