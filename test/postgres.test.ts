import { existsSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  createTestSqliteFile,
  testPostgresAdminUrl,
  type TestDatabase,
} from './postgres.ts';

describe('createTestDatabase', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('gives a fresh UTF-8 database on the run’s server that answers `select 1`', async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ one: number; db: string; enc: string }>(
        'select 1 as one, current_database() as db, pg_encoding_to_char(encoding) as enc from pg_database where datname = current_database()',
      );
      expect(rows).toEqual([{ one: 1, db: db.name, enc: 'UTF8' }]);
      const tables = await client.query(
        "select count(*)::int as n from pg_tables where schemaname = 'public'",
      );
      expect(tables.rows[0]).toEqual({ n: 0 });
    } finally {
      await client.end();
    }
  });

  it('gives each call its own database, and drop() removes it even with a connection open', async () => {
    const other = await createTestDatabase();
    expect(other.name).not.toBe(db.name);
    const client = new pg.Client({ connectionString: other.url });
    client.on('error', () => undefined); // the forced drop terminates this connection
    await client.connect();
    await other.drop();
    await other.drop(); // idempotent
    await client.end().catch(() => undefined);

    const admin = new pg.Client({ connectionString: testPostgresAdminUrl() });
    await admin.connect();
    try {
      const { rows } = await admin.query('select datname from pg_database where datname = any($1)', [
        [db.name, other.name],
      ]);
      expect(rows).toEqual([{ datname: db.name }]);
    } finally {
      await admin.end();
    }
  });

  it('listens on 127.0.0.1 only when the server is the embedded one', async () => {
    if (process.env['DATABASE_URL']) return; // someone else's server: not ours to judge
    const client = new pg.Client({ connectionString: testPostgresAdminUrl() });
    await client.connect();
    try {
      const { rows } = await client.query<{ listen: string; sockets: string }>(
        "select current_setting('listen_addresses') as listen, current_setting('unix_socket_directories') as sockets",
      );
      expect(rows[0]).toEqual({ listen: '127.0.0.1', sockets: '' });
    } finally {
      await client.end();
    }
  });
});

describe('createTestSqliteFile', () => {
  it('makes a temp directory with a not-yet-existing file path in it, and removes it on cleanup', () => {
    const sqlite = createTestSqliteFile();
    expect(dirname(sqlite.path)).toBe(sqlite.dataDir);
    expect(existsSync(sqlite.dataDir)).toBe(true);
    expect(existsSync(sqlite.path)).toBe(false);
    writeFileSync(sqlite.path, 'x');
    sqlite.cleanup();
    sqlite.cleanup();
    expect(existsSync(sqlite.dataDir)).toBe(false);
  });

  it('never hands out the same directory twice', () => {
    const a = createTestSqliteFile();
    const b = createTestSqliteFile();
    try {
      expect(a.dataDir).not.toBe(b.dataDir);
    } finally {
      a.cleanup();
      b.cleanup();
    }
  });
});
