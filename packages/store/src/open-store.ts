/**
 * Opens the store: SQLite (a file, WAL, durable commits) by default, PostgreSQL when given a URL.
 * Both read integers back as bigint, and both run the same migrations at open.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
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
  sql,
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
  /** SQLite only: how many transactions ran and in how many durable commits (group commit). */
  readonly commitStats?: () => { transactions: number; commits: number };
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

/** A query runner: the database, or a transaction of it. */
export type Tx = Transaction<Database> | Kysely<Database>;

/**
 * Runs `fn` in a savepoint of the caller's transaction: if it throws, its writes alone are undone and
 * the error goes on; the rest of the transaction stays.
 */
export async function withSavepoint<T>(
  tx: Transaction<Database>,
  name: string,
  fn: () => Promise<T>,
): Promise<T> {
  if (!/^[a-z_]+$/.test(name)) throw new Error(`savepoint name ${name} is not a plain identifier`);
  await sql.raw(`savepoint ${name}`).execute(tx);
  try {
    const value = await fn();
    await sql.raw(`release savepoint ${name}`).execute(tx);
    return value;
  } catch (err) {
    await sql.raw(`rollback to savepoint ${name}`).execute(tx);
    await sql.raw(`release savepoint ${name}`).execute(tx);
    throw err;
  }
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
  const stats = sqlStats();
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
      return (stats ? stats.wrap(sql, stmt) : stmt) as unknown as SqliteStatement;
    },
    close: () => {
      stats?.write();
      database.close();
    },
  };
}

/**
 * `BILLETERA_SQL_STATS=<file>` (a profiling aid for `npm run bench`): counts and times every SQLite
 * statement by SQL text and writes the totals as JSON to the file when the store closes.
 */
function sqlStats():
  { wrap(sql: string, stmt: BetterSqlite3.Statement): unknown; write(): void } | undefined {
  const file = process.env['BILLETERA_SQL_STATS'];
  if (!file) return undefined;
  const totals = new Map<string, { count: number; ms: number }>();
  const timed =
    <A extends unknown[], R>(sql: string, fn: (...args: A) => R) =>
    (...args: A): R => {
      const t0 = performance.now();
      try {
        return fn(...args);
      } finally {
        const t = totals.get(sql) ?? { count: 0, ms: 0 };
        t.count++;
        t.ms += performance.now() - t0;
        totals.set(sql, t);
      }
    };
  return {
    wrap: (sql, stmt) => ({
      reader: stmt.reader,
      all: timed(sql, stmt.all.bind(stmt)),
      run: timed(sql, stmt.run.bind(stmt)),
      iterate: stmt.iterate.bind(stmt),
    }),
    write: () => {
      const rows = [...totals].map(([sql, t]) => ({ sql, ...t })).sort((a, b) => b.ms - a.ms);
      writeFileSync(`${file}.${process.pid}.json`, JSON.stringify(rows, null, 1));
    },
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
  const group = new GroupCommit(db);
  return {
    db,
    dialect: 'sqlite',
    location: file,
    transaction: (fn) => group.run(fn),
    commitStats: () => group.stats(),
    close: () => db.destroy(),
  };
}

/** The real setImmediate, even where a test installs fake timers. */
const deferToNextTurn = setImmediate;

/** Most transactions that share one SQLite commit. */
const MAX_GROUP_COMMIT = 64;

interface Pending {
  fn: (tx: Transaction<Database>) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/**
 * Group commit for SQLite. better-sqlite3 runs on the event loop, so a durable COMMIT (an fsync of the
 * WAL) stops the whole process for its duration, and one commit per transaction caps the wallet at the
 * disk's fsync rate. Instead, transactions that arrive together (in the same turn of the event loop)
 * run one after another inside ONE `BEGIN IMMEDIATE ... COMMIT`, each in its own SAVEPOINT:
 *
 * - a transaction that throws is rolled back to its savepoint alone, and its caller gets its error;
 *   the others are unaffected (each sees the writes of those before it, exactly as if they had run
 *   one after another);
 * - no caller hears its result before the shared COMMIT is durable; if the COMMIT fails, every
 *   transaction of the group fails with that error and none of their writes exist.
 *
 * So outcomes are never mixed, and a crash at any point loses nothing that was answered. A group of one
 * runs without a savepoint. The group starts on `setImmediate`, after the I/O callbacks of this turn of
 * the event loop, which is how transactions from concurrent requests find each other.
 */
class GroupCommit {
  private readonly queue: Pending[] = [];
  private running = false;
  private transactions = 0;
  private commits = 0;

  constructor(private readonly db: Kysely<Database>) {}

  stats(): { transactions: number; commits: number } {
    return { transactions: this.transactions, commits: this.commits };
  }

  run<T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.running) {
        this.running = true;
        deferToNextTurn(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.runGroup(this.queue.splice(0, MAX_GROUP_COMMIT));
    } finally {
      this.running = false;
    }
  }

  private async runGroup(group: Pending[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.db.transaction().execute(async (tx) => {
        if (group.length === 1) return [{ ok: true, value: await group[0]!.fn(tx) }];
        const out: Outcome[] = [];
        for (const p of group) {
          await sql.raw('savepoint group_member').execute(tx);
          let outcome: Outcome;
          try {
            outcome = { ok: true, value: await p.fn(tx) };
          } catch (err) {
            outcome = { ok: false, err };
          }
          // If these fail, the connection is in trouble: the whole group rolls back and fails (below).
          if (!outcome.ok) await sql.raw('rollback to savepoint group_member').execute(tx);
          await sql.raw('release savepoint group_member').execute(tx);
          out.push(outcome);
        }
        return out;
      });
    } catch (err) {
      // The group of one threw (its own error), or the COMMIT / a savepoint failed: nothing was written.
      for (const p of group) p.reject(err);
      return;
    }
    this.transactions += group.length;
    this.commits++;
    group.forEach((p, i) => {
      const o = outcomes[i]!;
      if (o.ok) p.resolve(o.value);
      else p.reject(o.err);
    });
  }
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
  // Nor one that is checked out but between queries (inside a transaction, or just acquired): pg emits the
  // server's "terminating connection" on the client itself, where nobody listens, and that killed the
  // process. The work using it fails on its own; at release the pool drops the broken client.
  pool.on('connect', (client) => client.on('error', () => undefined));
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
