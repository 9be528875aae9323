/**
 * Billetera itself, on one backend: signed pay (peak at a fixed concurrency, then latency at half that
 * rate, open loop), inquiryPayment, cashier confirms (HTTP form posts with signed-in sessions, as users
 * pay), notifications (throughput, and latency from the payment's commit to the merchant's ack), refunds,
 * and the wallet's memory over the whole series. The wallet runs in its own process with its workers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openWallet, type WalletContext } from '@billetera/wallet';
import { startChild, WALLET_ENTRY, type Child } from '../lib/children.ts';
import {
  addBenchMerchant,
  addCashierUsers,
  insertPayments,
  startAckServer,
  type BenchMerchant,
  type CashierUser,
} from '../lib/fixture.ts';
import { Histogram } from '../lib/histogram.ts';
import type { LoadGenerator, RequestSpec, RunResult, Target } from '../lib/loadgen.ts';
import type { BenchPostgres } from '../lib/postgres.ts';
import { RssSampler } from '../lib/proc.ts';
import { ms, type Report } from '../lib/report.ts';
import type { Settings } from '../lib/settings.ts';
import type { Ceilings } from './ceilings.ts';

export interface Backend {
  name: 'sqlite' | 'postgres';
  pg?: BenchPostgres | undefined;
}

interface Env {
  s: Settings;
  gen: LoadGenerator;
  report: Report;
  c: Ceilings;
  backend: Backend;
  ctx: WalletContext;
  m: BenchMerchant;
  users: CashierUser[];
  wallets: Child[];
  targets: Target[];
  section: string;
  ack: Awaited<ReturnType<typeof startAckServer>>;
}

export const PAY_PATH = '/api/open/v1/payments/pay';
const INQUIRY_PATH = '/api/open/v1/payments/inquiryPayment';
const REFUND_PATH = '/api/open/v1/payments/refund';

/** A running wallet (1..n processes) on a fresh data dir and database, with its fixture. */
export async function withWallet<T>(
  s: Settings,
  backend: Backend,
  opts: { processes?: number; users?: number; tag: string },
  fn: (e: Omit<Env, 'gen' | 'report' | 'c' | 'section' | 's'>) => Promise<T>,
): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'billetera-bench-wallet-'));
  const db = backend.pg ? await backend.pg.createDatabase() : undefined;
  const ack = await startAckServer();
  const wallets: Child[] = [];
  let ctx: WalletContext | undefined;
  try {
    ctx = await openWallet({ dataDir, databaseUrl: db?.url, logLevel: 'silent' });
    const m = await addBenchMerchant(ctx, ack.url);
    const users = await addCashierUsers(ctx, opts.users ?? 64, opts.tag);
    const config = JSON.stringify({ dataDir, databaseUrl: db?.url, logLevel: s.logLevel, workers: true });
    for (let i = 0; i < (opts.processes ?? 1); i++)
      wallets.push(await startChild(WALLET_ENTRY, { BENCH_WALLET_CONFIG: config }));
    const targets = wallets.map((w) => {
      const u = new URL(w.url);
      return { host: u.hostname, port: Number(u.port) };
    });
    return await fn({ backend, ctx, m, users, wallets, targets, ack });
  } finally {
    for (const w of wallets) await w.stop();
    await ack.close();
    await ctx?.store.close();
    await db?.drop().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const observe = (e: Pick<Env, 'wallets' | 'backend'>) => [
  ...e.wallets.map((w, i) => ({ name: `wallet${i}`, pid: w.pid })),
  ...(e.backend.pg?.pid ? [{ name: 'postgres', pid: e.backend.pg.pid, tree: true }] : []),
];

/** Latency and CPU facts of a run, for the notes column. */
export function runNote(r: RunResult, extra = ''): string {
  const walletCores = Object.entries(r.cores)
    .filter(([k]) => k.startsWith('wallet'))
    .reduce((a, [, v]) => a + v, 0);
  const pgCores = r.cores['postgres'];
  return [
    extra,
    `p50 ${ms(r.hist.quantile(0.5))} p99 ${ms(r.hist.quantile(0.99))} max ${ms(r.hist.max)} ms`,
    `wallet ${walletCores.toFixed(2)} cores`,
    pgCores === undefined ? '' : `postgres ${pgCores.toFixed(2)}`,
    `generator ${r.benchCores.toFixed(2)} (ELU ${r.workerEluMax.toFixed(2)})`,
    r.errors ? `${r.errors} ERRORS: ${r.errorSamples[0]?.slice(0, 120)}` : '',
    r.exhausted ? 'ran out of prepared requests' : '',
  ]
    .filter(Boolean)
    .join(', ');
}

type CommitCounts = { transactions: number; commits: number };

/** Transactions and durable commits of the wallet processes so far (SQLite's group commit), if known. */
async function commitCounts(e: Pick<Env, 'wallets'>): Promise<CommitCounts | undefined> {
  let sum: CommitCounts | undefined;
  for (const w of e.wallets) {
    const c = (await w.stats())['commits'] as CommitCounts | null | undefined;
    if (!c) return undefined;
    sum = {
      transactions: (sum?.transactions ?? 0) + c.transactions,
      commits: (sum?.commits ?? 0) + c.commits,
    };
  }
  return sum;
}

/** "N transactions in M commits" between two counts, for the notes column. */
function groupNote(before: CommitCounts | undefined, after: CommitCounts | undefined): string {
  if (!before || !after) return '';
  const tx = after.transactions - before.transactions;
  const commits = after.commits - before.commits;
  return `${tx} transactions in ${commits} commits (${(tx / Math.max(1, commits)).toFixed(1)} per commit)`;
}

function check(r: RunResult, what: string): void {
  if (r.ok === 0) throw new Error(`${what}: no good reply. ${r.errorSamples.join(' | ')}`);
}

const total = (s: Settings) => s.durationMs + s.warmupMs;
/** How many requests to prepare for a closed run: enough for twice the expected rate, within the ceiling. */
const budget = (s: Settings, ceiling: number, expected?: number) =>
  Math.ceil((Math.min(ceiling, expected ? expected * 2.5 : ceiling) * total(s)) / 1000) + s.concurrency * 4;

let requestCounter = 0;
const uniq = () =>
  `${Date.now().toString(36)}-${(requestCounter++).toString(36)}-${randomBytes(3).toString('hex')}`;

export function paySpecs(e: Pick<Env, 'm'>, n: number): RequestSpec[] {
  return Array.from({ length: n }, () => ({
    path: PAY_PATH,
    sign: true,
    resultStatus: 'A',
    capture: 'paymentId',
    body: JSON.stringify({
      partnerId: e.m.merchant.partnerId,
      paymentRequestId: `bench-${uniq()}`,
      paymentOrderTitle: 'Bench order',
      paymentAmount: { currency: 'USD', value: '100' },
    }),
  }));
}

export function confirmSpecs(users: CashierUser[], paymentIds: string[]): RequestSpec[] {
  return paymentIds.map((id, i) => {
    const u = users[i % users.length]!;
    return {
      path: `/cashier/${id}/confirm`,
      body: `_csrf=${encodeURIComponent(u.csrf)}&pin=${u.pin}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: u.cookie },
      status: 303,
    };
  });
}

async function paidSince(
  ctx: WalletContext,
  merchantId: string,
  since: number,
): Promise<Map<string, number>> {
  const rows = await ctx.store.db
    .selectFrom('payments')
    .select(['id', 'paid_at'])
    .where('merchant_id', '=', merchantId)
    .where('status', '=', 'SUCCESS')
    .where('paid_at', '>=', BigInt(since))
    .execute();
  return new Map(rows.map((r) => [r.id, Number(r.paid_at)]));
}

async function waitForAcks(e: Pick<Env, 'ack'>, ids: Iterable<string>, timeoutMs: number): Promise<number> {
  const list = [...ids];
  const until = Date.now() + timeoutMs;
  for (;;) {
    const missing = list.filter((id) => !e.ack.acks.has(id)).length;
    if (missing === 0 || Date.now() > until) return missing;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function runBilletera(
  s: Settings,
  gen: LoadGenerator,
  report: Report,
  c: Ceilings,
  backend: Backend,
): Promise<void> {
  await withWallet(s, backend, { tag: backend.name === 'sqlite' ? '1' : '2' }, async (w) => {
    const e: Env = { ...w, s, gen, report, c, section: backend.name };
    const rss = new RssSampler(() => e.wallets.map((x) => x.pid)).start();
    try {
      await series(e);
    } finally {
      rss.stop();
    }
    const mib = (b: number) => b / 2 ** 20;
    const values = rss.samples.map((x) => mib(x.rss));
    const first = values[0] ?? NaN;
    const last = values[values.length - 1] ?? NaN;
    const third = Math.max(1, Math.floor(values.length / 3));
    const early = Math.max(...values.slice(0, third));
    report.add({
      section: e.section,
      figure: 'wallet RSS, end of the series',
      value: last,
      unit: 'MiB',
      note: `start ${first.toFixed(0)}, max ${Math.max(...values).toFixed(0)}, max of first third ${early.toFixed(0)} MiB; ${values.length} samples over ${(rss.samples.at(-1)!.atMs / 1000).toFixed(0)} s`,
      detail: { rssMiB: values.map((v) => Math.round(v)) },
    });
  });
}

async function series(e: Env): Promise<void> {
  const { s, gen, c, report, section } = e;
  const db1 = section === 'sqlite' ? c.sqliteOne : c.pgOne;
  const dbName = section === 'sqlite' ? 'SQLite 1/tx' : 'PostgreSQL 1/tx';
  const signedCeil = Math.min(c.bareHttp, c.rsaPairAllCores);
  const signedBound = c.bareHttp < c.rsaPairAllCores ? 'bare HTTP' : 'RSA sign+verify';
  const writeCeil = Math.min(signedCeil, db1);
  const writeBound = signedCeil < db1 ? signedBound : dbName;
  gen.setSigner({
    clientId: e.m.merchant.clientId,
    privateKeyPem: e.m.privateKeyPem,
    keyVersion: e.m.keyVersion,
  });
  const run = (mode: 'closed' | 'open', extra: { rate?: number; cycle?: boolean } = {}) =>
    gen.run({
      targets: e.targets,
      mode,
      concurrency: s.concurrency,
      durationMs: total(s),
      warmupMs: s.warmupMs,
      observe: observe(e),
      ...extra,
    });

  // pay, closed loop at a fixed concurrency: the peak.
  let prep = await gen.prepare(paySpecs(e, budget(s, writeCeil)));
  const pay = await run('closed');
  check(pay, 'pay');
  report.add({
    section,
    figure: `pay v1 (signed), c=${s.concurrency}`,
    value: pay.rate,
    unit: 'req/s',
    ceiling: writeCeil,
    bound: writeBound,
    note: runNote(pay, `signed ahead in ${(prep.ms / 1000).toFixed(1)} s`),
  });
  const processing = [...pay.captured];

  // pay, open loop at half the peak rate: latency when not saturated.
  const half = Math.max(1, pay.rate / 2);
  prep = await gen.prepare(paySpecs(e, Math.ceil((half * total(s)) / 1000) + 8));
  const payHalf = await run('open', { rate: half });
  check(payHalf, 'pay at half peak');
  report.add({
    section,
    figure: `pay p99 at half peak (${half.toFixed(0)}/s)`,
    value: payHalf.hist.quantile(0.99) / 1000,
    unit: 'ms',
    note: runNote(payHalf, 'goal < 20 ms'),
  });
  processing.push(...payHalf.captured);

  // inquiryPayment: a read; the same signed requests are reused (no replay check on reads).
  await gen.prepare(
    processing.slice(0, 256).map((id) => ({
      path: INQUIRY_PATH,
      sign: true,
      resultStatus: 'S',
      body: JSON.stringify({ partnerId: e.m.merchant.partnerId, paymentId: id }),
    })),
  );
  const inquiry = await run('closed', { cycle: true });
  check(inquiry, 'inquiryPayment');
  report.add({
    section,
    figure: `inquiryPayment (signed), c=${s.concurrency}`,
    value: inquiry.rate,
    unit: 'req/s',
    ceiling: signedCeil,
    bound: signedBound,
    note: runNote(inquiry),
  });

  // confirms: the cashier's PIN form, many signed-in users at once.
  const confirmCeil = Math.min(c.bareHttp, db1);
  const confirmBound = c.bareHttp < db1 ? 'bare HTTP' : dbName;
  const need = budget(s, confirmCeil, pay.rate);
  if (processing.length < need)
    processing.push(...(await insertPayments(e.ctx, e.m.merchant.id, need - processing.length)));
  const confirmStart = Date.now();
  await gen.prepare(confirmSpecs(e.users, processing.splice(0, need)));
  const commitsBefore = await commitCounts(e);
  const confirm = await run('closed');
  const commitsAfter = await commitCounts(e);
  check(confirm, 'confirm');
  const paidPeak = await paidSince(e.ctx, e.m.merchant.id, confirmStart);
  report.add({
    section,
    figure: `payment confirms (cashier), c=${s.concurrency}`,
    value: confirm.rate,
    unit: 'confirms/s',
    ceiling: confirmCeil,
    bound: confirmBound,
    note: runNote(
      confirm,
      [
        `${e.users.length} users; ${paidPeak.size} paid in the DB${paidPeak.size < confirm.ok ? ' (FEWER than 303 replies)' : ''}`,
        groupNote(commitsBefore, commitsAfter),
      ]
        .filter(Boolean)
        .join('; '),
    ),
  });

  // notifications of those confirms: delivered per second while confirms run at their peak.
  const missing = await waitForAcks(e, paidPeak.keys(), 30_000);
  const ackTimes = [...paidPeak.keys()]
    .map((id) => e.ack.acks.get(id))
    .filter((t): t is number => t !== undefined);
  const spanMs = Math.max(1, Math.max(...ackTimes) - Math.min(...paidPeak.values()));
  const notifyCeil = Math.min(c.bareHttp, c.rsaSignPerCore * c.cpus);
  report.add({
    section,
    figure: 'notifications acked, during peak confirms',
    value: (ackTimes.length * 1000) / spanMs,
    unit: 'notif/s',
    ceiling: notifyCeil,
    bound: c.bareHttp < c.rsaSignPerCore * c.cpus ? 'bare HTTP' : 'RSA sign x cores',
    note: `${ackTimes.length} acks from first commit to last ack (bounded by the confirm rate too)${missing ? `, ${missing} NOT ACKED in 30 s` : ''}`,
  });

  // confirms at half their peak rate, open loop: confirm latency, and commit -> ack latency.
  const halfConfirm = Math.max(1, confirm.rate / 2);
  const n = Math.ceil((halfConfirm * total(s)) / 1000) + 8;
  if (processing.length < n)
    processing.push(...(await insertPayments(e.ctx, e.m.merchant.id, n - processing.length)));
  const halfStart = Date.now();
  await gen.prepare(confirmSpecs(e.users, processing.splice(0, n)));
  const confirmHalf = await run('open', { rate: halfConfirm });
  check(confirmHalf, 'confirm at half peak');
  report.add({
    section,
    figure: `confirm p99 at half peak (${halfConfirm.toFixed(0)}/s)`,
    value: confirmHalf.hist.quantile(0.99) / 1000,
    unit: 'ms',
    note: runNote(confirmHalf, 'goal < 20 ms'),
  });
  const paidHalf = await paidSince(e.ctx, e.m.merchant.id, halfStart);
  const missingHalf = await waitForAcks(e, paidHalf.keys(), 30_000);
  const lat = new Histogram();
  for (const [id, paidAt] of paidHalf) {
    const at = e.ack.acks.get(id);
    if (at !== undefined) lat.record((at - paidAt) * 1000);
  }
  report.add({
    section,
    figure: 'notification commit -> ack p99, half-peak confirms',
    value: lat.quantile(0.99) / 1000,
    unit: 'ms',
    note: `p50 ${ms(lat.quantile(0.5))} ms, max ${ms(lat.max)} ms over ${lat.total} payments (ms clock; paid_at is taken just before the commit)${missingHalf ? `, ${missingHalf} NOT ACKED in 30 s` : ''}`,
  });

  // refunds: signed, each one a transfer back from the merchant; 10 % of a paid payment each.
  const paidIds = [...paidPeak.keys(), ...paidHalf.keys()];
  const refundCount = Math.min(budget(s, writeCeil, pay.rate), paidIds.length * 10);
  const refunds: RequestSpec[] = Array.from({ length: refundCount }, (_, i) => ({
    path: REFUND_PATH,
    sign: true,
    resultStatus: 'S',
    body: JSON.stringify({
      partnerId: e.m.merchant.partnerId,
      refundRequestId: `rf-${uniq()}`,
      paymentId: paidIds[i % paidIds.length],
      refundAmount: { currency: 'USD', value: '10' },
    }),
  }));
  prep = await gen.prepare(refunds);
  const refund = await run('closed');
  check(refund, 'refund');
  report.add({
    section,
    figure: `refunds (signed), c=${s.concurrency}`,
    value: refund.rate,
    unit: 'req/s',
    ceiling: writeCeil,
    bound: writeBound,
    note: runNote(refund),
  });

  // complete payments: the steady-state mix of one signed pay (a new order), one cashier confirm (of an
  // order made before) and the notification that confirm causes, as one closed-loop run. A complete
  // payment costs two RSA signatures (the pay reply and the notification) and one verify.
  const pairs = budget(
    s,
    Math.min(c.bareHttp / 2, signedCeil / 2, db1 / 2),
    Math.min(pay.rate, confirm.rate),
  );
  if (processing.length < pairs)
    processing.push(...(await insertPayments(e.ctx, e.m.merchant.id, pairs - processing.length)));
  const pays = paySpecs(e, pairs);
  const confirms = confirmSpecs(e.users, processing.splice(0, pairs));
  await gen.prepare(pays.flatMap((p, i) => [p, confirms[i]!]));
  const completeStart = Date.now();
  const commitsBeforeMix = await commitCounts(e);
  const mix = await run('closed');
  const commitsAfterMix = await commitCounts(e);
  check(mix, 'complete payments');
  const paidMix = await paidSince(e.ctx, e.m.merchant.id, completeStart);
  const missingMix = await waitForAcks(e, paidMix.keys(), 30_000);
  const completeCeil = Math.min(
    c.bareHttp / 2,
    c.cpus / (2 / c.rsaSignPerCore + 1 / c.rsaVerifyPerCore),
    db1,
  );
  report.add({
    section,
    figure: `complete payments (pay + confirm + notification), c=${s.concurrency}`,
    value: mix.rate / 2,
    unit: 'payments/s',
    ceiling: completeCeil,
    bound:
      completeCeil === db1
        ? dbName
        : completeCeil === c.bareHttp / 2
          ? 'bare HTTP / 2'
          : 'RSA 2 signs + 1 verify',
    note: runNote(
      mix,
      [
        `${paidMix.size} paid, ${paidMix.size - missingMix} acked`,
        missingMix ? `${missingMix} NOT ACKED in 30 s` : '',
        groupNote(commitsBeforeMix, commitsAfterMix),
      ]
        .filter(Boolean)
        .join('; '),
    ),
  });
}
