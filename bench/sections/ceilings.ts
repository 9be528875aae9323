/**
 * Ceilings, measured in the same run as the figures they bound: RSA-2048 per core, a bare Fastify
 * route through the same load generator, and durable transfer-shaped commits on SQLite and PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { BARE_ENTRY, startChild } from '../lib/children.ts';
import type { LoadGenerator } from '../lib/loadgen.ts';
import type { BenchPostgres } from '../lib/postgres.ts';
import { ms, type Report } from '../lib/report.ts';
import type { Settings } from '../lib/settings.ts';

export interface Ceilings {
  cpus: number;
  rsaSignPerCore: number;
  rsaVerifyPerCore: number;
  /** One sign + one verify per request, on every core: what a signed call can reach at best. */
  rsaPairAllCores: number;
  bareHttp: number;
  sqliteOne: number;
  sqliteBatched: number;
  pgOne: number;
  pgBatched: number;
}

/** RSA in a worker thread: one thread, one core. Plain JS (no TypeScript loader needed). */
const RSA_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const c = require('node:crypto');
const { privateKey, publicKey } = c.generateKeyPairSync('rsa', { modulusLength: 2048 });
const msg = Buffer.alloc(400, 97);
const loop = (fn) => { let n = 0; const t0 = performance.now(); while (performance.now() - t0 < workerData.ms) { fn(); n++; } return n * 1000 / (performance.now() - t0); };
for (let i = 0; i < 20; i++) c.sign('sha256', msg, privateKey);
const sign = loop(() => c.sign('sha256', msg, privateKey));
const sig = c.sign('sha256', msg, privateKey);
const verify = loop(() => c.verify('sha256', msg, publicKey, sig));
parentPort.postMessage({ sign, verify });
`;

export async function rsaCeiling(msPerOp: number): Promise<{ sign: number; verify: number }> {
  const w = new Worker(RSA_WORKER, { eval: true, workerData: { ms: msPerOp } });
  try {
    return await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  } finally {
    await w.terminate();
  }
}

export async function bareHttpCeiling(
  s: Settings,
  gen: LoadGenerator,
): Promise<{ rate: number; p50: number; p99: number; note: string }> {
  const child = await startChild(BARE_ENTRY);
  try {
    const url = new URL(child.url);
    gen.setSigner(undefined);
    const body = JSON.stringify({
      partnerId: 'P1',
      paymentRequestId: 'x'.repeat(32),
      paymentOrderTitle: 'Bench',
    });
    await gen.prepare(Array.from({ length: 64 }, () => ({ path: '/echo', body, resultStatus: 'A' })));
    const r = await gen.run({
      targets: [{ host: url.hostname, port: Number(url.port) }],
      mode: 'closed',
      concurrency: s.concurrency,
      durationMs: s.durationMs + s.warmupMs,
      warmupMs: s.warmupMs,
      cycle: true,
      observe: [{ name: 'server', pid: child.pid }],
    });
    if (r.errors > 0) throw new Error(`bare HTTP: ${r.errors} errors: ${r.errorSamples.join('; ')}`);
    return {
      rate: r.rate,
      p50: r.hist.quantile(0.5),
      p99: r.hist.quantile(0.99),
      note: `c=${s.concurrency} p50 ${ms(r.hist.quantile(0.5))} ms p99 ${ms(r.hist.quantile(0.99))} ms; server ${r.cores['server']?.toFixed(2)} cores, generator ${r.benchCores.toFixed(2)} cores (worker ELU max ${r.workerEluMax.toFixed(2)})`,
    };
  } finally {
    await child.stop();
  }
}

const ACCOUNTS = 1_000;
const pickPair = (): [string, string] => {
  const a = Math.floor(Math.random() * ACCOUNTS);
  let b = Math.floor(Math.random() * (ACCOUNTS - 1));
  if (b >= a) b++;
  const ids: [string, string] = [`acc_${String(a).padStart(6, '0')}`, `acc_${String(b).padStart(6, '0')}`];
  return ids[0] < ids[1] ? ids : [ids[1], ids[0]];
};

/**
 * SQLite: a transfer is two balance updates (the debit guarded like Billetera's) and two journal rows,
 * in BEGIN IMMEDIATE ... COMMIT, with open-store.ts's pragmas (WAL, synchronous=FULL, foreign keys,
 * busy timeout). Prepared statements, no ORM: this is what the file and the disk allow.
 */
export function sqliteCeiling(durationMs: number, perCommit: number): number {
  const dir = mkdtempSync(join(tmpdir(), 'billetera-bench-sqlite-'));
  try {
    const db = new BetterSqlite3(join(dir, 'ceiling.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    db.exec(`CREATE TABLE accounts (id TEXT PRIMARY KEY, balance INTEGER NOT NULL CHECK (balance >= 0));
      CREATE TABLE journal (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), amount INTEGER NOT NULL, created_at INTEGER NOT NULL);`);
    const insert = db.prepare('INSERT INTO accounts VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < ACCOUNTS; i++) insert.run(`acc_${String(i).padStart(6, '0')}`, 1_000_000_000);
    })();
    const debit = db.prepare('UPDATE accounts SET balance = balance - ? WHERE id = ? AND balance - ? >= 0');
    const credit = db.prepare('UPDATE accounts SET balance = balance + ? WHERE id = ?');
    const journal = db.prepare('INSERT INTO journal VALUES (?, ?, ?, ?)');
    const begin = db.prepare('BEGIN IMMEDIATE');
    const commit = db.prepare('COMMIT');
    let n = 0;
    const one = () => {
      const [a, b] = pickPair();
      if (debit.run(1, a, 1).changes !== 1) throw new Error('ceiling: debit refused');
      credit.run(1, b);
      const id = randomBytes(12).toString('base64url');
      journal.run(`${id}_1`, a, -1, Date.now());
      journal.run(`${id}_2`, b, 1, Date.now());
    };
    const t0 = performance.now();
    while (performance.now() - t0 < durationMs) {
      begin.run();
      for (let i = 0; i < perCommit; i++) one();
      commit.run();
      n += perCommit;
    }
    const rate = (n * 1000) / (performance.now() - t0);
    db.close();
    return rate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * PostgreSQL: the same transfer, each transaction sent as ONE round trip (a multi-statement simple
 * query), from `connections` clients at once (Billetera's pool size), so the server can group commits.
 */
export async function postgresCeiling(
  server: BenchPostgres,
  durationMs: number,
  perCommit: number,
  connections: number,
): Promise<number> {
  const db = await server.createDatabase();
  const clients: pg.Client[] = [];
  try {
    const setup = new pg.Client({ connectionString: db.url });
    clients.push(setup);
    await setup.connect();
    await setup.query(`CREATE TABLE accounts (id TEXT PRIMARY KEY, balance BIGINT NOT NULL CHECK (balance >= 0));
      CREATE TABLE journal (id TEXT PRIMARY KEY, account_id TEXT NOT NULL REFERENCES accounts(id), amount BIGINT NOT NULL, created_at BIGINT NOT NULL);
      INSERT INTO accounts SELECT 'acc_' || lpad(g::text, 6, '0'), 1000000000 FROM generate_series(0, ${ACCOUNTS - 1}) g;`);
    for (let i = 0; i < connections; i++) {
      const c = new pg.Client({ connectionString: db.url });
      clients.push(c);
      await c.connect();
    }
    let n = 0;
    const deadline = performance.now() + durationMs;
    const t0 = performance.now();
    const lane = async (c: pg.Client) => {
      while (performance.now() < deadline) {
        const updates = new Map<string, number>();
        const rows: string[] = [];
        for (let i = 0; i < perCommit; i++) {
          const [a, b] = pickPair();
          updates.set(a, (updates.get(a) ?? 0) - 1);
          updates.set(b, (updates.get(b) ?? 0) + 1);
          const id = randomBytes(12).toString('base64url');
          rows.push(`('${id}_1','${a}',-1,${Date.now()})`, `('${id}_2','${b}',1,${Date.now()})`);
        }
        // Accounts in id order, as Billetera does, so concurrent transfers never deadlock.
        const sqlUpdates = [...updates.entries()]
          .sort(([x], [y]) => (x < y ? -1 : 1))
          .map(
            ([id, d]) =>
              `UPDATE accounts SET balance = balance + ${d} WHERE id = '${id}' AND balance + ${d} >= 0;`,
          )
          .join('');
        await c.query(`BEGIN;${sqlUpdates}INSERT INTO journal VALUES ${rows.join(',')};COMMIT;`);
        n += perCommit;
      }
    };
    await Promise.all(clients.slice(1).map(lane));
    return (n * 1000) / (performance.now() - t0);
  } finally {
    for (const c of clients) await c.end().catch(() => undefined);
    await db.drop().catch(() => undefined);
  }
}

export async function runCeilings(
  s: Settings,
  gen: LoadGenerator,
  report: Report,
  pgServer: BenchPostgres | undefined,
  cpus: number,
): Promise<Ceilings> {
  const section = 'ceiling';
  const rsa = await rsaCeiling(s.quick ? 500 : 2_000);
  report.add({ section, figure: 'RSA-2048 SHA-256 sign, one core', value: rsa.sign, unit: '/s' });
  report.add({ section, figure: 'RSA-2048 SHA-256 verify, one core', value: rsa.verify, unit: '/s' });
  const pair = 1 / (1 / rsa.sign + 1 / rsa.verify);
  report.add({
    section,
    figure: `signed call: 1 sign + 1 verify x ${cpus} cores`,
    value: pair * cpus,
    unit: 'req/s',
    note: `${pair.toFixed(0)}/s per core`,
  });
  const bare = await bareHttpCeiling(s, gen);
  report.add({
    section,
    figure: 'bare Fastify POST route',
    value: bare.rate,
    unit: 'req/s',
    note: bare.note,
  });
  const d = s.quick ? 1_000 : 3_000;
  const sqliteOne = sqliteCeiling(d, 1);
  report.add({
    section,
    figure: 'SQLite transfer commits, 1 per tx',
    value: sqliteOne,
    unit: 'tx/s',
    note: 'WAL, synchronous=FULL',
  });
  const sqliteBatched = sqliteCeiling(d, 100);
  report.add({ section, figure: 'SQLite transfers, 100 per tx', value: sqliteBatched, unit: 'transfers/s' });
  let pgOne = NaN;
  let pgBatched = NaN;
  if (pgServer) {
    const settings = `fsync=${pgServer.settings['fsync']}, synchronous_commit=${pgServer.settings['synchronous_commit']}`;
    pgOne = await postgresCeiling(pgServer, d, 1, 10);
    report.add({
      section,
      figure: 'PostgreSQL transfer commits, 1 per tx',
      value: pgOne,
      unit: 'tx/s',
      note: `10 connections, 1 round trip per tx; ${settings}`,
    });
    pgBatched = await postgresCeiling(pgServer, d, 100, 10);
    report.add({
      section,
      figure: 'PostgreSQL transfers, 100 per tx',
      value: pgBatched,
      unit: 'transfers/s',
      note: '10 connections',
    });
  }
  return {
    cpus,
    rsaSignPerCore: rsa.sign,
    rsaVerifyPerCore: rsa.verify,
    rsaPairAllCores: pair * cpus,
    bareHttp: bare.rate,
    sqliteOne,
    sqliteBatched,
    pgOne,
    pgBatched,
  };
}
