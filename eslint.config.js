// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'data/**', '**/dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Plain browser scripts served as they are: the cashier/host static files and the demo mini program.
    files: ['apps/wallet/src/web/static/**/*.js', 'apps/demo-shop/mini/**/*.js'],
    languageOptions: { globals: { ...globals.browser, my: 'readonly' }, sourceType: 'script' },
  },
  {
    files: ['scripts/**/*.mjs', 'apps/cli/bin/**/*.js', '*.config.js'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
);
