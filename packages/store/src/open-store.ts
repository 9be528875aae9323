/**
 * Opens the store: SQLite (a file, WAL, durable commits) by default, PostgreSQL when given a URL.
 * Both read integers back as bigint, and both run the same migrations at open.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteStatement,
  type MigrationProvider,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { MIGRATIONS } from './migrations.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  /** Where the data lives, for messages: the SQLite file path or the PostgreSQL URL without password. */
  readonly location: string;
  /**
   * Runs `fn` in one transaction. SQLite: BEGIN IMMEDIATE (writers queue on the write lock, so a read
   * followed by a write can't be overtaken). PostgreSQL: READ COMMITTED; a serialization failure or
   * deadlock (40001, 40P01) rolls back and runs `fn` again, up to a named limit.
   */
  transaction<T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** `postgres://...` selects PostgreSQL. */
  databaseUrl?: string | undefined;
  /** SQLite file path, used when no databaseUrl is given. */
  sqliteFile?: string | undefined;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
  /** Skip migrations (a caller that knows they ran). */
  migrate?: boolean;
}

/** How long a SQLite writer waits for another process's write lock before failing. */
const SQLITE_BUSY_TIMEOUT_MS = 5_000;
/** How many times a PostgreSQL transaction is re-run after a serialization failure or deadlock. */
const MAX_TRANSACTION_RETRIES = 5;

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const store = options.databaseUrl
    ? openPostgres(options.databaseUrl, options.poolSize ?? 10)
    : openSqlite(requireFile(options));
  if (options.migrate !== false) {
    try {
      await migrateToLatest(store.db);
    } catch (err) {
      await store.close();
      throw err;
    }
  }
  return store;
}

function requireFile(options: OpenStoreOptions): string {
  if (!options.sqliteFile) throw new Error('openStore needs a databaseUrl or a sqliteFile');
  return options.sqliteFile;
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** How many distinct prepared statements the SQLite connection keeps (the app has a few hundred). */
const SQLITE_STATEMENT_CACHE_SIZE = 1_000;

/**
 * better-sqlite3 with its prepared statements kept by SQL text (least recently used dropped first): Kysely
 * prepares every query anew, and preparing costs as much as running a small query. Safe because the one
 * connection runs one query at a time (Kysely's driver holds a mutex around it).
 */
function withStatementCache(database: BetterSqlite3.Database): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        cache.delete(sql);
      } else {
        stmt = database.prepare(sql);
        if (cache.size >= SQLITE_STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
      }
      cache.set(sql, stmt);
      return stmt as unknown as SqliteStatement;
    },
    close: () => database.close(),
  };
}

class ImmediateSqliteDialect extends SqliteDialect {
  private readonly cached: SqliteDatabase;
  constructor(database: BetterSqlite3.Database) {
    const cached = withStatementCache(database);
    super({ database: cached });
    this.cached = cached;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.cached });
  }
}

function openSqlite(file: string): Store {
  mkdirSync(dirname(file), { recursive: true });
  const database = new BetterSqlite3(file);
  database.pragma('journal_mode = WAL');
  // FULL makes each commit durable in WAL mode (NORMAL may lose the last commits on power loss).
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  database.defaultSafeIntegers(true);
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect(database) });
  return {
    db,
    dialect: 'sqlite',
    location: file,
    transaction: (fn) => db.transaction().execute(fn),
    close: () => db.destroy(),
  };
}

const INT8_OID = 20;

function openPostgres(url: string, poolSize: number): Store {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => BigInt(value) : pg.types.getTypeParser(oid, format)) as never,
    },
  });
  // An idle client that loses its server (restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    location: redact(url),
    transaction: (fn) => withRetry(() => db.transaction().setIsolationLevel('read committed').execute(fn)),
    close: () => db.destroy(),
  };
}

async function withRetry<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if ((code !== '40001' && code !== '40P01') || attempt >= MAX_TRANSACTION_RETRIES) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)));
    }
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres';
  }
}

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

export async function migrateToLatest(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'billetera_migrations',
    migrationLockTableName: 'billetera_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
