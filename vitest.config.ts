import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'apps/*/src/**/*.test.ts',
      'test/**/*.test.ts',
      'bench/**/*.test.ts',
    ],
    environment: 'node',
    // Limits named here: a test may take 30 s (real PostgreSQL, RSA, a browser later), a hook 60 s.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // Starts ONE PostgreSQL server for the whole run (unless DATABASE_URL is set) and provides its URL.
    globalSetup: ['./test/global-setup.ts'],
  },
});
