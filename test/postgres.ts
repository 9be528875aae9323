/**
 * Database helpers for tests: a fresh PostgreSQL database per test file, a temp SQLite file.
 *
 *   const db = await createTestDatabase();   // in beforeAll
 *   ... open a pool / kysely on db.url ...
 *   await db.drop();                         // in afterAll, after closing your pool
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { PG_URL_ENV } from './provided-context.ts';

export interface TestDatabase {
  /** Connection URL of the new database (same server, user and password as the admin URL). */
  url: string;
  /** Database name, `billetera_test_<pid>_<random>`. */
  name: string;
  /** Drops the database, closing any connection still open to it. Safe to call twice. */
  drop(): Promise<void>;
}

/**
 * The test run's PostgreSQL superuser URL: provided by test/global-setup.ts (the embedded server, or
 * `DATABASE_URL`). Throws when none is known, e.g. when a test file runs without the vitest config.
 */
export function testPostgresAdminUrl(): string {
  let provided: string | undefined;
  try {
    provided = inject('pgAdminUrl');
  } catch {
    provided = undefined; // not inside a vitest worker
  }
  const url = provided || process.env[PG_URL_ENV] || process.env['DATABASE_URL'];
  if (!url) {
    throw new Error(
      'No test PostgreSQL server: run the tests through vitest.config.ts (its globalSetup starts one) or set DATABASE_URL.',
    );
  }
  return url;
}

/** Creates a uniquely named, empty database on the test server, so each test file is isolated. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = testPostgresAdminUrl();
  const name = `billetera_test_${process.pid}_${randomBytes(6).toString('hex')}`;
  await runAsAdmin(adminUrl, `CREATE DATABASE "${name}" ENCODING 'UTF8' TEMPLATE template0`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop: () => (dropped ??= runAsAdmin(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  };
}

async function runAsAdmin(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface TestSqliteFile {
  /** Path of a SQLite database file that does not exist yet, inside `dataDir`. */
  path: string;
  /** A fresh temp directory (the place for WAL/SHM files, keys or anything else a test writes). */
  dataDir: string;
  /** Removes `dataDir` and everything in it. Safe to call twice. */
  cleanup(): void;
}

/** A temp directory with a SQLite file path in it: store tests run on a real file, not only `:memory:`. */
export function createTestSqliteFile(): TestSqliteFile {
  const dataDir = mkdtempSync(join(tmpdir(), 'billetera-sqlite-'));
  return {
    path: join(dataDir, 'billetera.sqlite'),
    dataDir,
    cleanup: () => rmSync(dataDir, { recursive: true, force: true }),
  };
}
