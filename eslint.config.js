// ESLint flat config: the recommended rules of ESLint, typescript-eslint (syntax only: svelte-check does the type
// checking) and eslint-plugin-svelte. Formatting is Prettier's job (`npm run format`), so no stylistic rule is on.
import { defineConfig, globalIgnores } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import svelteConfig from './svelte.config.js';

export default defineConfig(
  globalIgnores([
    'dist/',
    'dev-dist/',
    'test-results/',
    'playwright-report/',
    'bench-data/',
    'hostile-data/',
    'public/',
    'node_modules/',
  ]),
  js.configs.recommended,
  tseslint.configs.recommended,
  svelte.configs.recommended,
  {
    languageOptions: {
      // the app runs in the page and in Web Workers; tests, scripts and configs run in Node
      globals: { ...globals.browser, ...globals.worker, ...globals.node },
    },
  },
  {
    rules: {
      // `_`-prefixed names mark parameters an interface requires and bindings kept on purpose; `{ a: _, ...rest }`
      // is how the code drops a key from a copy
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Off: components and src/ui/state keep plain Map/Set/URL on purpose: views replace a $state Map with a new
      // one (copy on write) instead of mutating it, and private bookkeeping (worker ids, pending writes, URLs built
      // for one fetch) is never read by a template or a $derived. SvelteMap/SvelteSet would add tracking to each.
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },
  {
    // tests read JSON fixtures (public/sample/EXPECTED.json) whose shape the assertions themselves check
    files: ['tests/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: {
        parser: tseslint.parser,
        extraFileExtensions: ['.svelte'],
        svelteConfig,
      },
    },
  },
);
