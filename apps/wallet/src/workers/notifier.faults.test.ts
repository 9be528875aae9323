/**
 * Issue 8, merchant endpoint faults, on both databases with real HTTP endpoints on 127.0.0.1.
 *
 * notifier.test.ts proves the ladder against one endpoint answering 500, what counts as an
 * acknowledgement, and a first timeout or refused connection; redelivery.test.ts proves redelivery by
 * the service and the CLI. This suite goes further:
 *   1. every way a merchant endpoint can fail (down, hanging, slow, a stalled body, a reset connection,
 *      500, a redirect, nine kinds of garbage reply) walks the WHOLE ladder at exactly its times (fake
 *      clock: not a millisecond early), side by side in one notifier; a twin of each recovers at some
 *      step and its acknowledgement stops the ladder there; the others end FAILED after the 8th attempt;
 *      then the merchant fixes its endpoint and Redeliver (the console's button over HTTP, and the CLI
 *      as a separate process) delivers every one of them, the same body, numbered on;
 *   2. one merchant whose endpoint hangs, with a backlog larger than the notifier's in-flight limit,
 *      never delays another merchant's notifications: the running notifier delivers those on time
 *      (real clock; latency measured and printed).
 */
import { FakeClock, RETRY_LADDER_MS } from '@billetera/domain';
import {
  attemptsOf,
  checkLedger,
  findNotification,
  notificationsForPayment,
  type AttemptOutcome,
} from '@billetera/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { expectInvariants } from '../../../../test/invariants.ts';
import { LONG, scale, timeoutMs } from '../../../../test/long.ts';
import { addMerchant, addUser, runCli, startTestWallet } from '../../../../test/wallet-harness.ts';
import type { WalletContext } from '../context.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import { createPayment } from '../services/create-payment.ts';
import { consoleClient } from '../web/console-test-session.ts';
import type { RunningWallet } from '../wallet.ts';
import { startFaultEndpoint, type EndpointMode, type FaultEndpoint } from './merchant-endpoint.fixture.ts';
import { Notifier, type NotifierOptions } from './notifier.ts';

/**
 * The notifier's timeout in the ladder walk: short, so that a walk of 8 steps takes seconds, yet far above
 * what a healthy local endpoint needs even on a loaded 2-core machine (the slow endpoint answers after 3x);
 * the long walk sends 136 at once, in one process with their endpoints, so it gives them longer.
 */
const WALK_TIMEOUT_MS = scale(1_000, 3_000);

interface Fault {
  mode: Exclude<EndpointMode, 'ack'>;
  outcome: AttemptOutcome;
  httpStatus: number | null;
  error?: RegExp;
}

const FAULTS: Fault[] = [
  { mode: 'down', outcome: 'NETWORK_ERROR', httpStatus: null, error: /ECONNREFUSED/ },
  {
    mode: 'hang',
    outcome: 'TIMEOUT',
    httpStatus: null,
    error: new RegExp(`no reply within ${WALK_TIMEOUT_MS} ms`),
  },
  {
    mode: 'slow',
    outcome: 'TIMEOUT',
    httpStatus: null,
    error: new RegExp(`no reply within ${WALK_TIMEOUT_MS} ms`),
  },
  {
    mode: 'stall-body',
    outcome: 'TIMEOUT',
    httpStatus: null,
    error: new RegExp(`no reply within ${WALK_TIMEOUT_MS} ms`),
  },
  { mode: 'reset', outcome: 'NETWORK_ERROR', httpStatus: null },
  { mode: 'http-500', outcome: 'HTTP_ERROR', httpStatus: 500, error: /HTTP 500/ },
  { mode: 'redirect', outcome: 'HTTP_ERROR', httpStatus: 302, error: /HTTP 302/ },
  { mode: 'not-json', outcome: 'NOT_ACKNOWLEDGED', httpStatus: 200 },
  { mode: 'empty-200', outcome: 'NOT_ACKNOWLEDGED', httpStatus: 200 },
  { mode: 'no-result', outcome: 'NOT_ACKNOWLEDGED', httpStatus: 200 },
  { mode: 'no-status', outcome: 'NOT_ACKNOWLEDGED', httpStatus: 200 },
  { mode: 'result-f', outcome: 'NOT_ACKNOWLEDGED', httpStatus: 200 },
  { mode: 'result-u', outcome: 'NOT_ACKNOWLEDGED', httpStatus: 200 },
  { mode: 'lowercase-s', outcome: 'NOT_ACKNOWLEDGED', httpStatus: 200 },
  { mode: 'wrong-type', outcome: 'NOT_ACKNOWLEDGED', httpStatus: 200 },
  { mode: 'huge', outcome: 'NOT_ACKNOWLEDGED', httpStatus: 200 },
  { mode: 'signed-f', outcome: 'NOT_ACKNOWLEDGED', httpStatus: 200 },
];

/** Each attempt's time after the first one, when every attempt fails: 0, 2 min, 12 min, 22 min, ... */
const LADDER_OFFSETS = RETRY_LADDER_MS.map((_, i) =>
  RETRY_LADDER_MS.slice(0, i + 1).reduce((s, x) => s + x, 0),
);

let seq = 0;
/** A paid payment of this merchant: exactly one notifyPayment owed. Returns its notification id. */
async function owedNotification(
  ctx: WalletContext,
  shop: Awaited<ReturnType<typeof addMerchant>>,
  user: { phone: string; pin: string },
): Promise<string> {
  const out = await createPayment(ctx, shop.merchant, {
    partnerId: shop.merchant.partnerId,
    paymentRequestId: `f-${++seq}`,
    paymentOrderTitle: 'Fault',
    paymentAmount: { currency: 'USD', value: '100' },
  });
  const paymentId = out.reply.paymentId!;
  expect((await confirmPayment(ctx, { paymentId, phone: user.phone, pin: user.pin })).ok).toBe(true);
  const [n] = await notificationsForPayment(ctx.store.db, paymentId);
  return n!.id;
}

const percentile = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A notifier whose outbox reads and claims go through a query counter (its transactions do not). */
function countingNotifier(ctx: WalletContext, options: NotifierOptions) {
  let count = 0;
  const db = ctx.store.db.withPlugin({
    transformQuery: (args) => {
      count++;
      return args.node;
    },
    transformResult: (args) => Promise.resolve(args.result),
  });
  const notifier = new Notifier({ ...ctx, store: { ...ctx.store, db } }, options);
  return { notifier, queries: () => count };
}

for (const backend of BACKENDS) {
  describe(`merchant endpoint faults on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    const clock = new FakeClock(Date.now());
    const endpoints: FaultEndpoint[] = [];
    const endpoint = async (...args: Parameters<typeof startFaultEndpoint>) => {
      const e = await startFaultEndpoint(...args);
      endpoints.push(e);
      return e;
    };

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env, { clock, workers: false });
    });
    afterAll(async () => {
      await Promise.all(endpoints.map((e) => e.close()));
      if (wallet) expect(await checkLedger(wallet.ctx.store.db)).toEqual([]);
      await wallet?.close();
      await env?.cleanup();
    });

    // The walk waits for real timeouts at each of its 8 steps: inside `npm test` it runs on SQLite only
    // (notifier.test.ts and redelivery.test.ts walk the ladder on PostgreSQL too), in the long run on both.
    if (LONG || backend.name === 'sqlite')
      it(
        'every fault walks the whole ladder on time, an acknowledgement stops it, and Redeliver works once the endpoint is fixed',
        async () => {
          const ctx = wallet.ctx;
          const user = await addUser(ctx, { USD: 10_000_000n });
          // A redirect must never be followed: its target would acknowledge, and must see nothing.
          const target = await endpoint('ack');
          const slowMs = 3 * WALK_TIMEOUT_MS;

          // One merchant per fault that never recovers, and `twins` per fault that recover at a step.
          const twins = scale(1, RETRY_LADDER_MS.length - 1);
          type Row = { fault: Fault; ep: FaultEndpoint; id: string; merchantId: string; recoverAt?: number };
          const failing: Row[] = [];
          const recovering: Row[] = [];
          for (const [k, fault] of FAULTS.entries()) {
            for (let j = 0; j <= twins; j++) {
              const ep = await endpoint(fault.mode, { slowMs, redirectTo: target.url });
              const shop = await addMerchant(ctx, { notifyUrl: ep.url, name: `Shop ${fault.mode} ${j}` });
              const row: Row = {
                fault,
                ep,
                id: await owedNotification(ctx, shop, user),
                merchantId: shop.merchant.id,
              };
              if (j === 0) failing.push(row);
              else
                recovering.push({
                  ...row,
                  recoverAt: 1 + ((k + (j - 1) * 3) % (RETRY_LADDER_MS.length - 1)),
                });
            }
          }

          const notifier = new Notifier(ctx, {
            owner: 'faults-walk',
            timeoutMs: WALK_TIMEOUT_MS,
            maxInFlight: 1_000,
          });
          const start = clock.now();
          let attempts = 0;
          for (let step = 0; step < RETRY_LADDER_MS.length; step++) {
            for (const r of recovering) if (r.recoverAt === step) await r.ep.setMode('ack');
            const wait = RETRY_LADDER_MS[step]!;
            if (wait > 0) {
              clock.advance(wait - 1);
              expect(await notifier.runOnce(), `step ${step}: nothing is due a millisecond early`).toBe(0);
              clock.advance(1);
            }
            // Every due row is attempted in this same pass: no fault holds up another merchant's delivery.
            const due = failing.length + recovering.filter((r) => r.recoverAt! >= step).length;
            const started = await notifier.runOnce();
            if (started !== due) {
              const rows = await Promise.all(
                [...failing, ...recovering].map(async (r) => ({
                  mode: r.fault.mode,
                  recoverAt: r.recoverAt,
                  log: (await attemptsOf(ctx.store.db, r.id)).map(
                    (a) => `${a.outcome}:${a.latencyMs.toFixed(0)}ms`,
                  ),
                })),
              );
              console.log(JSON.stringify(rows));
            }
            expect(started, `step ${step}`).toBe(due);
            attempts += due;
          }
          clock.advance(48 * 3600_000);
          expect(await notifier.runOnce()).toBe(0);

          for (const r of failing) {
            const what = `${r.fault.mode}`;
            expect(await findNotification(ctx.store.db, r.id), what).toMatchObject({
              status: 'FAILED',
              attempts: 8,
            });
            const log = await attemptsOf(ctx.store.db, r.id);
            expect(
              log.map((a) => a.startedAt - start),
              what,
            ).toEqual(LADDER_OFFSETS);
            expect(new Set(log.map((a) => a.outcome)), what).toEqual(new Set([r.fault.outcome]));
            expect(new Set(log.map((a) => a.httpStatus)), what).toEqual(new Set([r.fault.httpStatus]));
            if (r.fault.error) for (const a of log) expect(a.error, what).toMatch(r.fault.error);
            if (r.fault.mode === 'huge') expect(log[0]!.replyExcerpt).toHaveLength(500);
            expect(r.ep.received, what).toHaveLength(r.fault.mode === 'down' ? 0 : 8);
          }
          for (const r of recovering) {
            const what = `${r.fault.mode} recovering at step ${r.recoverAt}`;
            const n = r.recoverAt!;
            expect(await findNotification(ctx.store.db, r.id), what).toMatchObject({
              status: 'DELIVERED',
              attempts: n + 1,
            });
            const log = await attemptsOf(ctx.store.db, r.id);
            expect(
              log.map((a) => a.startedAt - start),
              what,
            ).toEqual(LADDER_OFFSETS.slice(0, n + 1));
            expect(
              log.map((a) => a.outcome),
              what,
            ).toEqual([...Array<AttemptOutcome>(n).fill(r.fault.outcome), 'ACKNOWLEDGED']);
            expect(r.ep.received, what).toHaveLength(r.fault.mode === 'down' ? 1 : n + 1);
          }
          expect(target.received, 'a redirect was followed').toHaveLength(0);

          // The merchants fix their endpoints; Redeliver from the console (and the CLI).
          for (const r of failing) await r.ep.setMode('ack');
          // The CLI costs a process start of seconds: redelivery.test.ts runs it in `npm test`, this in the long run.
          const byCli = LONG && backend.name === 'sqlite' ? failing[0]! : undefined;
          for (const r of failing) {
            if (r === byCli) continue;
            const web = await consoleClient(ctx, wallet.url, r.merchantId);
            const res = await web.post(`/console/notifications/${r.id}/redeliver`, { back: 'list' });
            expect([res.status, res.location]).toEqual([303, `/console/notifications?redelivered=${r.id}`]);
          }
          if (byCli) {
            const cli = await runCli(env, ['notifications', 'redeliver', byCli.id, '--json']);
            expect([cli.code, cli.stderr]).toEqual([0, '']);
          }
          // Redelivered rows are due at once (the CLI process stamps its own, real, clock: not later).
          clock.set(Math.max(clock.now(), Date.now()));
          expect(await notifier.runOnce()).toBe(failing.length);
          for (const r of failing) {
            expect(await findNotification(ctx.store.db, r.id), r.fault.mode).toMatchObject({
              status: 'DELIVERED',
              attempts: 9,
              redeliveries: 1,
            });
            const log = await attemptsOf(ctx.store.db, r.id);
            expect(log.map((a) => a.attemptNo)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
            expect(log[8]!.outcome).toBe('ACKNOWLEDGED');
            // Every send carried the very same body (notificationId and sequence included).
            const bodies = new Set(r.ep.received.map((q) => q.rawBody));
            expect(bodies.size, r.fault.mode).toBe(1);
            expect(JSON.parse([...bodies][0]!)).toMatchObject({ notificationId: r.id, sequence: 1 });
          }
          // The recovered ones were left alone.
          for (const r of recovering)
            expect(await findNotification(ctx.store.db, r.id)).toMatchObject({
              status: 'DELIVERED',
              redeliveries: 0,
            });

          await expectInvariants(ctx.store.db);
          console.log(
            `faults: notifier ${backend.name}: ${FAULTS.length} fault kinds x ${twins + 1} merchants, ` +
              `${attempts + failing.length} attempts, every one on its ladder time, ` +
              `${failing.length} FAILED then redelivered, ${recovering.length} stopped by their ack`,
          );
        },
        timeoutMs(60_000, 180_000),
      );

    it('waits while a delivery hangs instead of polling the outbox in a loop', async () => {
      const hang = await endpoint('hang');
      const user = await addUser(wallet.ctx, { USD: 1_000n });
      const shop = await addMerchant(wallet.ctx, { notifyUrl: hang.url, name: 'Hanging Shop' });
      const id = await owedNotification(wallet.ctx, shop, user);
      const { notifier, queries } = countingNotifier(wallet.ctx, { owner: 'no-spin', timeoutMs: 10_000 });
      notifier.start();
      try {
        for (const until = Date.now() + 5_000; hang.received.length === 0 && Date.now() < until;)
          await sleep(10);
        expect(hang.received).toHaveLength(1);
        const from = queries();
        await sleep(1_000);
        // The one row being sent is leased: nothing is due until it is done (or the 1 s poll).
        expect(queries() - from, 'outbox queries in 1 s while one delivery hangs').toBeLessThan(20);
      } finally {
        await hang.close(); // the hanging attempt fails at once, and stop() does not wait 10 s
        await notifier.stop();
      }
      expect(await findNotification(wallet.ctx.store.db, id)).toMatchObject({
        status: 'PENDING',
        attempts: 1,
      });
    });

    it(
      "one merchant hanging with a backlog never delays another merchant's notifications",
      async () => {
        // A wallet of its own on the real clock; the notifier below runs its loop as in production.
        const own = await backend.create();
        const hangTimeoutMs = 4_000;
        const live = await startTestWallet(own, { workers: false });
        const hang = await startFaultEndpoint('hang');
        const fast = await startFaultEndpoint('ack');
        let stopNotifier = () => Promise.resolve();
        try {
          const ctx = live.ctx;
          const user = await addUser(ctx, { USD: 10_000_000n });
          const stuck = await addMerchant(ctx, { notifyUrl: hang.url, name: 'Stuck Shop' });
          const quick = await addMerchant(ctx, { notifyUrl: fast.url, name: 'Quick Shop' });
          const backlog = scale(80, 200);
          const stuckIds: string[] = [];
          for (let i = 0; i < backlog; i++) stuckIds.push(await owedNotification(ctx, stuck, user));
          // The production notifier (32 in flight), reading the outbox through a query counter.
          const { notifier, queries } = countingNotifier(ctx, {
            owner: 'hang-and-fast',
            timeoutMs: hangTimeoutMs,
          });
          ctx.onOutbox = () => notifier.wake();
          notifier.start();
          stopNotifier = () => notifier.stop();
          // The stuck merchant's endpoint now holds every connection the notifier gives it.
          for (const until = Date.now() + 5_000; hang.received.length === 0 && Date.now() < until;)
            await sleep(10);
          expect(hang.received.length).toBeGreaterThan(0);
          // While those hang, the notifier waits instead of polling the outbox in a loop.
          await sleep(200);
          const idleFrom = queries();
          await sleep(1_000);
          const idleQueries = queries() - idleFrom;
          const hangingAtOnce = hang.received.length;
          expect(idleQueries, 'outbox queries in 1 s while deliveries hang').toBeLessThan(20);

          const count = scale(8, 60);
          const latencies: number[] = [];
          for (let i = 0; i < count; i++) {
            const t0 = Date.now();
            await owedNotification(ctx, quick, user);
            for (const until = t0 + hangTimeoutMs * 2; fast.received.length <= i && Date.now() < until;)
              await sleep(2);
            expect(fast.received.length, `quick notification ${i + 1} not delivered`).toBe(i + 1);
            latencies.push(fast.received[i]!.at - t0);
          }
          const max = Math.max(...latencies);
          console.log(
            `faults: notifier ${backend.name}: ${count} notifications of a healthy merchant while another hangs ` +
              `with ${backlog} owed: latency p50 ${percentile(latencies, 50)} ms, max ${max} ms ` +
              `(hanging attempts time out after ${hangTimeoutMs} ms); ${hangingAtOnce} hanging at once, ` +
              `${idleQueries} outbox queries in 1 s while they hang`,
          );
          // Blocked behind the hanging ones, a delivery would wait for their timeout.
          expect(max).toBeLessThan(hangTimeoutMs / 2);
          // Nothing of the stuck merchant was lost or given up: still owed, at most one attempt each.
          for (const id of stuckIds) {
            const n = await findNotification(ctx.store.db, id);
            expect(n?.status).toBe('PENDING');
            expect(n!.attempts).toBeLessThanOrEqual(1);
          }
          await expectInvariants(ctx.store.db);
        } finally {
          await hang.close();
          await fast.close();
          await stopNotifier();
          await live.close();
          await own.cleanup();
        }
      },
      timeoutMs(60_000, 180_000),
    );
  });
}

if (LONG) console.log('faults: notifier suite running its long version');
