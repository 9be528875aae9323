/**
 * Values the vitest globalSetup (test/global-setup.ts) hands to test files through `provide`/`inject`.
 * Declared once here so both sides agree on the names and types.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    /**
     * Superuser URL of the test run's PostgreSQL server (database `postgres`): the embedded server the
     * globalSetup started, or `DATABASE_URL` when that is set. Tests never use it directly: they call
     * `createTestDatabase()` from test/postgres.ts for a database of their own.
     */
    pgAdminUrl: string;
  }
}

/** Environment variable carrying the same URL, for child processes that tests spawn. */
export const PG_URL_ENV = 'BILLETERA_TEST_PG_URL';
