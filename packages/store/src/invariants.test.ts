/**
 * The invariant checker on a SQLite file and a real PostgreSQL. A database built through the store's own
 * functions (top-ups, payments that succeed, fail, are cancelled or stay open, partial refunds,
 * notifications delivered, retried, failed and pending) keeps every invariant. Then each corruption below
 * is written with direct SQL inside a transaction that is rolled back afterwards, and exactly the
 * invariant it breaks must report it, naming the offending row. Constraints that would refuse a
 * corruption (the non-negative CHECKs, the unique idempotency keys) are dropped inside that transaction.
 *
 * Last, at scale: a bulk-generated consistent ledger (2,000 payments here, 1,000,000 on SQLite and
 * 300,000 on PostgreSQL in the long version) passes, and one planted double debit in it is found.
 */
import {
  FakeClock,
  fundingAccount,
  merchantAccount,
  transfer,
  userAccount,
  type AccountRef,
  type OwnerType,
} from '@billetera/domain';
import { availableParallelism, loadavg } from 'node:os';
import { sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, sequentialIds, type Backend, type BackendEnv } from '../../../test/backends.ts';
import { LONG, scale, timeoutMs } from '../../../test/long.ts';
import {
  INVARIANTS,
  checkInvariants,
  claimNotification,
  claimRefundAmount,
  enqueueNotification,
  finishPayment,
  insertMerchant,
  insertPaymentIfAbsent,
  insertRefundIfAbsent,
  postEntry,
  recordAttempt,
  type Database,
  type InvariantName,
  type InvariantReport,
  type Merchant,
  type Store,
} from './index.ts';

type Tx = Transaction<Database>;

/** The ids of what the healthy database holds, for the corruptions to aim at. */
interface World {
  merchantA: string;
  merchantB: string;
  user1: string;
  user2: string;
  /** SUCCESS at A by user1, 10000 USD, refunded 3000 (notified) + 2000; notified, delivered on retry. */
  p1: string;
  /** SUCCESS at B (no notify URL) by user2. */
  p2: string;
  /** FAIL (expired) at A; its notification FAILED. */
  p3: string;
  /** CANCELLED at A. */
  p4: string;
  /** PROCESSING at A. */
  p5: string;
  /** SUCCESS at A by user1, 20000 USD; its notification PENDING. */
  p6: string;
  /** SUCCESS at A by user1 in JPY, with its own notify URL; delivered. */
  p7: string;
  /** PROCESSING at B. */
  p8: string;
  r1: string;
  r2: string;
  topupUser1Usd: string;
  topupUser2Usd: string;
}

interface Corruption {
  invariant: InvariantName;
  what: string;
  corrupt: (tx: Tx, w: World, dialect: Store['dialect']) => Promise<void>;
  /** A value the offending row must carry (an id). */
  offender: (w: World) => string | Promise<string>;
}

const CORRUPTIONS: Corruption[] = [
  {
    invariant: 'ledger-balanced',
    what: 'a top-up posts JPY on a USD account (money made in USD)',
    corrupt: async (tx, w) => {
      const funding = await accountId(tx, 'PLATFORM', 'funding', 'JPY');
      const usd = await accountId(tx, 'USER', w.user1, 'USD');
      await rawEntry(tx, 'jnl_wrong_currency', 'TOPUP', 'corrupt', [
        { account: funding, currency: 'JPY', amount: -100n },
        { account: usd, currency: 'JPY', amount: 100n },
      ]);
    },
    offender: () => 'jnl_wrong_currency',
  },
  {
    invariant: 'entries-balanced',
    what: "two top-ups' funding postings altered in opposite directions (accounts still add up)",
    corrupt: async (tx, w) => {
      await addToPosting(tx, w.topupUser1Usd, 1n, -10n);
      await addToPosting(tx, w.topupUser2Usd, 1n, 10n);
    },
    offender: (w) => w.topupUser2Usd,
  },
  {
    invariant: 'balance-equals-postings',
    what: "7 cents moved from user1's balance to merchant A's without postings",
    corrupt: async (tx, w) => {
      await addToBalance(tx, await accountId(tx, 'USER', w.user1, 'USD'), -7n);
      await addToBalance(tx, await accountId(tx, 'MERCHANT', w.merchantA, 'USD'), 7n);
    },
    offender: (w) => w.merchantA,
  },
  {
    invariant: 'no-negative-balance',
    what: 'a balanced entry overdraws user2 (the CHECK dropped)',
    corrupt: async (tx, w, dialect) => {
      await dropConstraints(tx, dialect, 'accounts', 'c');
      const account = await accountId(tx, 'USER', w.user2, 'USD');
      const overdraft = (await balance(tx, account)) + 50n;
      await rawEntry(tx, 'jnl_overdraft', 'TOPUP', 'corrupt', [
        { account, currency: 'USD', amount: -overdraft },
        { account: await accountId(tx, 'PLATFORM', 'funding', 'USD'), currency: 'USD', amount: overdraft },
      ]);
    },
    offender: (w) => w.user2,
  },
  {
    invariant: 'payment-states',
    what: 'a SUCCESS payment paid at its expiry time',
    corrupt: async (tx, w) => {
      await tx
        .updateTable('payments')
        .set({ paid_at: sql`expires_at` })
        .where('id', '=', w.p1)
        .execute();
    },
    offender: (w) => w.p1,
  },
  {
    invariant: 'payment-money-moved',
    what: 'a payment debited twice',
    corrupt: async (tx, w) => {
      await rawEntry(tx, 'jnl_double', 'PAYMENT', w.p1, [
        { account: await accountId(tx, 'USER', w.user1, 'USD'), currency: 'USD', amount: -10_000n },
        { account: await accountId(tx, 'MERCHANT', w.merchantA, 'USD'), currency: 'USD', amount: 10_000n },
      ]);
    },
    offender: (w) => w.p1,
  },
  {
    invariant: 'payment-money-moved',
    what: 'an expired (FAIL) payment that debited the user',
    corrupt: async (tx, w) => {
      await rawEntry(tx, 'jnl_failed_debit', 'PAYMENT', w.p3, [
        { account: await accountId(tx, 'USER', w.user1, 'USD'), currency: 'USD', amount: -500n },
        { account: await accountId(tx, 'MERCHANT', w.merchantA, 'USD'), currency: 'USD', amount: 500n },
      ]);
    },
    offender: (w) => w.p3,
  },
  {
    invariant: 'payment-money-moved',
    what: 'a payment marked SUCCESS without moving money',
    corrupt: async (tx, w) => {
      await tx
        .updateTable('payments')
        .set({ status: 'SUCCESS', user_id: w.user2, paid_at: sql`created_at` })
        .where('id', '=', w.p8)
        .execute();
    },
    offender: (w) => w.p8,
  },
  {
    invariant: 'payment-money-moved',
    what: 'a PAYMENT entry about no payment',
    corrupt: async (tx, w) => {
      await rawEntry(tx, 'jnl_orphan', 'PAYMENT', 'pay_nowhere', [
        { account: await accountId(tx, 'USER', w.user1, 'USD'), currency: 'USD', amount: -1n },
        { account: await accountId(tx, 'MERCHANT', w.merchantA, 'USD'), currency: 'USD', amount: 1n },
      ]);
    },
    offender: () => 'pay_nowhere',
  },
  {
    invariant: 'refunds-within-payment',
    what: "a payment's refunded total above its refunds",
    corrupt: async (tx, w) => {
      await tx
        .updateTable('payments')
        .set({ refunded_amount: sql`refunded_amount + 1` })
        .where('id', '=', w.p1)
        .execute();
    },
    offender: (w) => w.p1,
  },
  {
    invariant: 'refunds-within-payment',
    what: 'refunds exceeding the amount paid, their money moved (the CHECK dropped)',
    corrupt: async (tx, w, dialect) => {
      await dropConstraints(tx, dialect, 'payments', 'c');
      const over = 10_000n - 5_000n + 1n;
      await tx
        .insertInto('refunds')
        .values(refundRow({ id: 'rfd_over', merchantId: w.merchantA, paymentId: w.p1, amount: over }))
        .execute();
      await tx
        .updateTable('payments')
        .set({ refunded_amount: sql`refunded_amount + ${over}` })
        .where('id', '=', w.p1)
        .execute();
      await rawEntry(tx, 'jnl_over', 'REFUND', 'rfd_over', [
        { account: await accountId(tx, 'MERCHANT', w.merchantA, 'USD'), currency: 'USD', amount: -over },
        { account: await accountId(tx, 'USER', w.user1, 'USD'), currency: 'USD', amount: over },
      ]);
    },
    offender: (w) => w.p1,
  },
  {
    invariant: 'refund-money-moved',
    what: 'a refund whose money never moved (its entry removed, balances restored)',
    corrupt: async (tx, w) => {
      const entry = await tx
        .selectFrom('journal_entries')
        .select('id')
        .where('reference_id', '=', w.r2)
        .executeTakeFirstOrThrow();
      await tx.deleteFrom('postings').where('entry_id', '=', entry.id).execute();
      await tx.deleteFrom('journal_entries').where('id', '=', entry.id).execute();
      await addToBalance(tx, await accountId(tx, 'MERCHANT', w.merchantA, 'USD'), 2_000n);
      await addToBalance(tx, await accountId(tx, 'USER', w.user1, 'USD'), -2_000n);
    },
    offender: (w) => w.r2,
  },
  {
    invariant: 'refund-money-moved',
    what: 'a refund paid out twice',
    corrupt: async (tx, w) => {
      await rawEntry(tx, 'jnl_refund_twice', 'REFUND', w.r1, [
        { account: await accountId(tx, 'MERCHANT', w.merchantA, 'USD'), currency: 'USD', amount: -3_000n },
        { account: await accountId(tx, 'USER', w.user1, 'USD'), currency: 'USD', amount: 3_000n },
      ]);
    },
    offender: (w) => w.r1,
  },
  {
    invariant: 'notification-owed',
    what: "a paid payment's notifyPayment lost from the outbox",
    corrupt: (tx, w) => deleteNotification(tx, w.p1, 'PAYMENT'),
    offender: (w) => w.p1,
  },
  {
    invariant: 'notification-owed',
    what: "an expired payment's notifyPayment (FAIL) lost",
    corrupt: (tx, w) => deleteNotification(tx, w.p3, 'PAYMENT'),
    offender: (w) => w.p3,
  },
  {
    invariant: 'notification-owed',
    what: "a refund's notifyRefund lost",
    corrupt: (tx, w) => deleteNotification(tx, w.p1, 'REFUND'),
    offender: (w) => w.r1,
  },
  {
    invariant: 'notification-owed',
    what: 'a notification neither delivered, pending nor failed',
    corrupt: async (tx, w) => {
      await tx.updateTable('notifications').set({ status: 'LOST' }).where('payment_id', '=', w.p6).execute();
    },
    offender: (w) => w.p6,
  },
  {
    invariant: 'notification-owed',
    what: 'a payment notified twice',
    corrupt: async (tx, w) => {
      const row = await tx
        .selectFrom('notifications')
        .selectAll()
        .where('payment_id', '=', w.p6)
        .executeTakeFirstOrThrow();
      await tx
        .insertInto('notifications')
        .values({ ...row, id: 'ntf_twice', seq: row.seq + 100n })
        .execute();
    },
    offender: (w) => w.p6,
  },
  {
    invariant: 'notification-attempts-recorded',
    what: 'an attempt counted that was never recorded',
    corrupt: async (tx, w) => {
      await tx
        .updateTable('notifications')
        .set({ attempts: sql`attempts + 1` })
        .where('payment_id', '=', w.p1)
        .where('kind', '=', 'PAYMENT')
        .execute();
    },
    offender: (w) => w.p1,
  },
  {
    invariant: 'notification-attempts-recorded',
    what: 'a DELIVERED notification without an acknowledged attempt',
    corrupt: async (tx, w) => {
      const n = await notificationOf(tx, w.p7, 'PAYMENT');
      await tx
        .updateTable('notification_attempts')
        .set({ outcome: 'HTTP_ERROR' })
        .where('notification_id', '=', n)
        .execute();
    },
    offender: (w) => w.p7,
  },
  {
    invariant: 'idempotency-keys-unique',
    what: 'two orders for one paymentRequestId (the unique key dropped)',
    corrupt: async (tx, w, dialect) => {
      await dropUniqueKeys(tx, dialect, 'payments');
      const row = await tx
        .selectFrom('payments')
        .selectAll()
        .where('id', '=', w.p5)
        .executeTakeFirstOrThrow();
      await tx
        .insertInto('payments')
        .values({ ...row, id: 'pay_second_order' })
        .execute();
    },
    offender: (w) => `req_${w.p5}`,
  },
  {
    invariant: 'idempotency-keys-unique',
    what: 'two refunds for one refundRequestId (the unique key dropped)',
    corrupt: async (tx, w, dialect) => {
      await dropUniqueKeys(tx, dialect, 'refunds');
      const row = await tx.selectFrom('refunds').selectAll().where('id', '=', w.r2).executeTakeFirstOrThrow();
      await tx
        .insertInto('refunds')
        .values({ ...row, id: 'rfd_second', status: 'FAIL' })
        .execute();
    },
    offender: (w) => `rreq_${w.r2}`,
  },
];

for (const backend of BACKENDS) {
  describe(`invariants on ${backend.name}`, () => {
    let env: BackendEnv;
    let store: Store;
    let world: World;

    beforeAll(async () => {
      env = await backend.create();
      store = await env.openStore();
      world = await seed(store);
    });
    afterAll(async () => {
      await store?.close();
      await env?.cleanup();
    });

    it('a database made by payments, refunds and notifications keeps every invariant', async () => {
      const report = await checkInvariants(store.db);
      expect(report.violations).toEqual([]);
      expect(report.ok).toBe(true);
      expect(Object.keys(report.checked)).toEqual([...INVARIANTS]);
      // 8 payments, 2 refunds, 5 notifications: the checks looked at every one.
      expect(report.checked['payment-money-moved']).toBe(8);
      expect(report.checked['refund-money-moved']).toBe(2);
      expect(report.checked['notification-attempts-recorded']).toBe(5);
      expect(report.checked['notification-owed']).toBe(10);
    });

    for (const c of CORRUPTIONS) {
      it(`${c.invariant} alone catches ${c.what}`, async () => {
        const report = await corrupted(store, (tx) => c.corrupt(tx, world, store.dialect));
        expect(report.ok).toBe(false);
        expect([...new Set(report.violations.map((v) => v.invariant))]).toEqual([c.invariant]);
        const offender = await c.offender(world);
        const rows = report.violations.flatMap((v) => v.rows) as Record<string, unknown>[];
        expect(rows.some((r) => Object.values(r).includes(offender))).toBe(true);
        expect(report.violations.every((v) => /^\d+ /.test(v.message))).toBe(true);
      });
    }

    it('has a corruption for every invariant', () => {
      expect(new Set(CORRUPTIONS.map((c) => c.invariant))).toEqual(new Set(INVARIANTS));
    });

    it('lists at most 20 offending rows and counts them all', async () => {
      const report = await corrupted(store, async (tx) => {
        for (let i = 0; i < 25; i++) {
          await rawEntry(tx, `jnl_empty_${i}`, 'TOPUP', 'corrupt', []);
        }
      });
      expect(report.violations).toHaveLength(1);
      expect(report.violations[0]?.invariant).toBe('entries-balanced');
      expect(report.violations[0]?.message).toMatch(/^25 journal entries without postings/);
      expect(report.violations[0]?.rows).toHaveLength(20);
    });

    it('the corruptions were rolled back: the database keeps every invariant again', async () => {
      expect((await checkInvariants(store.db)).ok).toBe(true);
    });

    atScale(backend);
  });
}

/** Runs `corrupt` and the check in one transaction, then rolls it all back. */
async function corrupted(store: Store, corrupt: (tx: Tx) => Promise<void>): Promise<InvariantReport> {
  let report: InvariantReport | undefined;
  const rollback = new Error('rollback');
  await expect(
    store.transaction(async (tx) => {
      try {
        await corrupt(tx);
      } finally {
        if (store.dialect === 'sqlite') await sql`PRAGMA ignore_check_constraints = OFF`.execute(tx);
      }
      report = await checkInvariants(tx);
      throw rollback;
    }),
  ).rejects.toBe(rollback);
  if (!report) throw new Error('no report');
  return report;
}

// ---------------------------------------------------------------------------------------------------------
// The healthy database, made with the store's functions as the wallet's use cases call them.

async function seed(store: Store): Promise<World> {
  const ids = sequentialIds();
  const clock = new FakeClock();
  const merchant = async (id: string, notifyUrl: string | null) => {
    const m: Merchant = {
      id,
      clientId: `CLIENT_${id}`,
      partnerId: `P_${id}`,
      name: id,
      website: null,
      notifyUrl,
      status: 'VERIFIED',
      createdAt: clock.now(),
    };
    await insertMerchant(store.db, m);
    return m;
  };
  const a = await merchant('mch_a', 'http://127.0.0.1:9/notify');
  const b = await merchant('mch_b', null);
  const user1 = 'usr_1';
  const user2 = 'usr_2';

  const topUp = async (user: string, currency: string, amount: bigint) => {
    const reference = `topup_${user}_${currency}`;
    await store.transaction((tx) =>
      postEntry(
        tx,
        transfer('TOPUP', reference, fundingAccount(currency), userAccount(user, currency), amount),
        ids,
        clock.now(),
      ),
    );
    const entry = await store.db
      .selectFrom('journal_entries')
      .select('id')
      .where('reference_id', '=', reference)
      .executeTakeFirstOrThrow();
    return entry.id;
  };
  const topupUser1Usd = await topUp(user1, 'USD', 100_000n);
  await topUp(user1, 'JPY', 50_000n);
  const topupUser2Usd = await topUp(user2, 'USD', 20_000n);

  const create = async (m: Merchant, amount: bigint, currency = 'USD', notifyUrl: string | null = null) => {
    const id = ids.next('pay');
    await insertPaymentIfAbsent(store.db, {
      id,
      merchantId: m.id,
      paymentRequestId: `req_${id}`,
      requestHash: 'h',
      apiVersion: 'v1',
      status: 'PROCESSING',
      currency,
      amount,
      orderTitle: 'Order',
      appId: null,
      notifyUrl,
      returnUrl: null,
      extendInfo: null,
      orderJson: null,
      replyJson: '{}',
      expiresAt: clock.now() + 15 * 60_000,
      createdAt: clock.now(),
      paidAt: null,
      userId: null,
      failReason: null,
    });
    return id;
  };
  const notify = (tx: Tx, m: Merchant, paymentId: string, url: string | null, refundId?: string) =>
    url === null
      ? Promise.resolve()
      : enqueueNotification(
          tx,
          {
            merchantId: m.id,
            paymentId,
            url,
            body: (seq, id) => JSON.stringify({ paymentId, seq, id }),
            now: clock.now(),
            ...(refundId ? { kind: 'REFUND' as const, refundId } : {}),
          },
          ids,
        ).then(() => undefined);
  const pay = async (
    m: Merchant,
    user: string,
    amount: bigint,
    currency = 'USD',
    notifyUrl: string | null = null,
  ) => {
    const id = await create(m, amount, currency, notifyUrl);
    clock.advance(1_000);
    await store.transaction(async (tx) => {
      if (!(await finishPayment(tx, id, { status: 'SUCCESS', userId: user, paidAt: clock.now() })))
        throw new Error('could not pay');
      await postEntry(
        tx,
        transfer('PAYMENT', id, userAccount(user, currency), merchantAccount(m.id, currency), amount),
        ids,
        clock.now(),
      );
      await notify(tx, m, id, notifyUrl ?? m.notifyUrl);
    });
    return id;
  };
  const refund = async (
    m: Merchant,
    paymentId: string,
    user: string,
    amount: bigint,
    notifyUrl: string | null,
  ) => {
    const id = ids.next('rfd');
    await store.transaction(async (tx) => {
      await insertRefundIfAbsent(tx, {
        id,
        merchantId: m.id,
        paymentId,
        refundRequestId: `rreq_${id}`,
        requestHash: 'h',
        apiVersion: 'v1',
        status: 'SUCCESS',
        currency: 'USD',
        amount,
        reason: null,
        notifyUrl,
        extendInfo: null,
        createdAt: clock.now(),
        refundedAt: clock.now(),
        failReason: null,
      });
      if (!(await claimRefundAmount(tx, paymentId, amount))) throw new Error('could not refund');
      await postEntry(
        tx,
        transfer('REFUND', id, merchantAccount(m.id, 'USD'), userAccount(user, 'USD'), amount),
        ids,
        clock.now(),
      );
      await notify(tx, m, paymentId, notifyUrl, id);
    });
    return id;
  };
  /** One delivery attempt of a payment's (or refund's) notification, as the notifier records it. */
  const attempt = async (
    paymentId: string,
    kind: 'PAYMENT' | 'REFUND',
    next: 'DELIVERED' | 'PENDING' | 'FAILED',
  ) => {
    const id = await notificationOf(store.db, paymentId, kind);
    expect(await claimNotification(store.db, id, 'worker', clock.now(), 15_000)).toBe(true);
    const recorded = await store.transaction((tx) =>
      recordAttempt(
        tx,
        {
          notificationId: id,
          owner: 'worker',
          attempt: {
            startedAt: clock.now(),
            latencyMs: 12,
            httpStatus: next === 'DELIVERED' ? 200 : 500,
            outcome: next === 'DELIVERED' ? 'ACKNOWLEDGED' : 'HTTP_ERROR',
            replyExcerpt: null,
            error: null,
          },
          next:
            next === 'DELIVERED'
              ? { status: 'DELIVERED', at: clock.now() }
              : next === 'PENDING'
                ? { status: 'PENDING', nextAttemptAt: clock.now() }
                : { status: 'FAILED' },
        },
        ids,
      ),
    );
    expect(recorded).toBe(true);
  };

  const p1 = await pay(a, user1, 10_000n);
  const p2 = await pay(b, user2, 5_000n);
  const p3 = await create(a, 700n);
  const p4 = await create(a, 800n);
  const p5 = await create(a, 900n);
  const p6 = await pay(a, user1, 20_000n);
  const p7 = await pay(a, user1, 3_000n, 'JPY', 'http://127.0.0.1:9/own-notify');
  const p8 = await create(b, 1_000n);
  await store.transaction(async (tx) => {
    expect(await finishPayment(tx, p3, { status: 'FAIL', failReason: 'ORDER_EXPIRED' })).toBe(true);
    await notify(tx, a, p3, a.notifyUrl);
  });
  expect(await finishPayment(store.db, p4, { status: 'CANCELLED', cancelledAt: clock.now() })).toBe(true);
  const r1 = await refund(a, p1, user1, 3_000n, 'http://127.0.0.1:9/refunds');
  const r2 = await refund(a, p1, user1, 2_000n, null);

  await attempt(p1, 'PAYMENT', 'PENDING');
  await attempt(p1, 'PAYMENT', 'DELIVERED');
  await attempt(p1, 'REFUND', 'DELIVERED');
  await attempt(p3, 'PAYMENT', 'FAILED');
  await attempt(p7, 'PAYMENT', 'DELIVERED');

  return {
    merchantA: a.id,
    merchantB: b.id,
    user1,
    user2,
    p1,
    p2,
    p3,
    p4,
    p5,
    p6,
    p7,
    p8,
    r1,
    r2,
    topupUser1Usd,
    topupUser2Usd,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Direct SQL for the corruptions.

async function accountId(tx: Tx, ownerType: OwnerType, ownerId: string, currency: string): Promise<string> {
  const row = await tx
    .selectFrom('accounts')
    .select('id')
    .where('owner_type', '=', ownerType)
    .where('owner_id', '=', ownerId)
    .where('currency', '=', currency)
    .executeTakeFirstOrThrow();
  return row.id;
}

async function balance(tx: Tx, account: string): Promise<bigint> {
  const row = await tx
    .selectFrom('accounts')
    .select('balance')
    .where('id', '=', account)
    .executeTakeFirstOrThrow();
  return BigInt(row.balance);
}

async function addToBalance(tx: Tx, account: string, amount: bigint): Promise<void> {
  await tx
    .updateTable('accounts')
    .set({ balance: sql`balance + ${amount}` })
    .where('id', '=', account)
    .execute();
}

async function addToPosting(tx: Tx, entryId: string, line: bigint, amount: bigint): Promise<void> {
  await tx
    .updateTable('postings')
    .set({ amount: sql`amount + ${amount}` })
    .where('entry_id', '=', entryId)
    .where('line', '=', line)
    .execute();
}

/** A journal entry written by hand, its postings applied to the balances (nothing checked). */
async function rawEntry(
  tx: Tx,
  id: string,
  kind: string,
  referenceId: string,
  postings: Array<{ account: string; currency: string; amount: bigint }>,
): Promise<void> {
  await tx
    .insertInto('journal_entries')
    .values({ id, kind, reference_id: referenceId, created_at: 1n })
    .execute();
  for (const [i, p] of postings.entries()) {
    await tx
      .insertInto('postings')
      .values({
        entry_id: id,
        line: BigInt(i + 1),
        account_id: p.account,
        currency: p.currency,
        amount: p.amount,
      })
      .execute();
    await addToBalance(tx, p.account, p.amount);
  }
}

function refundRow(r: { id: string; merchantId: string; paymentId: string; amount: bigint }) {
  return {
    id: r.id,
    merchant_id: r.merchantId,
    payment_id: r.paymentId,
    refund_request_id: `rreq_${r.id}`,
    request_hash: 'h',
    api_version: 'v1',
    status: 'SUCCESS',
    currency: 'USD',
    amount: r.amount,
    reason: null,
    notify_url: null,
    extend_info: null,
    created_at: 1n,
    refunded_at: 1n,
    fail_reason: null,
  };
}

async function notificationOf(
  db: Store['db'] | Tx,
  paymentId: string,
  kind: 'PAYMENT' | 'REFUND',
): Promise<string> {
  const row = await db
    .selectFrom('notifications')
    .select('id')
    .where('payment_id', '=', paymentId)
    .where('kind', '=', kind)
    .executeTakeFirstOrThrow();
  return row.id;
}

async function deleteNotification(tx: Tx, paymentId: string, kind: 'PAYMENT' | 'REFUND'): Promise<void> {
  const id = await notificationOf(tx, paymentId, kind);
  await tx.deleteFrom('notification_attempts').where('notification_id', '=', id).execute();
  await tx.deleteFrom('notifications').where('id', '=', id).execute();
}

/**
 * Lets the rest of the transaction break the table's CHECK constraints. PostgreSQL: drops them
 * (transactional DDL, rolled back with the rest). SQLite: ignores them until `corrupted` turns it off.
 */
async function dropConstraints(
  tx: Tx,
  dialect: Store['dialect'],
  table: string,
  type: 'c' | 'u',
): Promise<void> {
  if (dialect === 'sqlite') {
    await sql`PRAGMA ignore_check_constraints = ON`.execute(tx);
    return;
  }
  const { rows } = await sql<{ conname: string }>`SELECT conname FROM pg_constraint
    WHERE conrelid = ${table}::regclass AND contype = ${type}`.execute(tx);
  expect(rows.length).toBeGreaterThan(0);
  for (const r of rows)
    await sql`ALTER TABLE ${sql.table(table)} DROP CONSTRAINT ${sql.id(r.conname)}`.execute(tx);
}

/**
 * Lets the rest of the transaction insert duplicate idempotency keys. PostgreSQL drops the unique
 * constraints; SQLite cannot drop a table's own UNIQUE, so the table is renamed away and copied without
 * it (DDL is transactional there too).
 */
async function dropUniqueKeys(
  tx: Tx,
  dialect: Store['dialect'],
  table: 'payments' | 'refunds',
): Promise<void> {
  if (dialect === 'postgres') return dropConstraints(tx, dialect, table, 'u');
  await sql`ALTER TABLE ${sql.table(table)} RENAME TO ${sql.table(`${table}_kept`)}`.execute(tx);
  await sql`CREATE TABLE ${sql.table(table)} AS SELECT * FROM ${sql.table(`${table}_kept`)}`.execute(tx);
}

// ---------------------------------------------------------------------------------------------------------
// At scale.

function atScale(backend: Backend): void {
  const payments = scale(2_000, backend.name === 'sqlite' ? 1_000_000 : 300_000);
  it(
    `checks ${payments.toLocaleString('en-US')} payments and finds one planted double debit`,
    async () => {
      const env = await backend.create();
      const store = await env.openStore();
      try {
        const started = performance.now();
        const refunds = await bulkLedger(store, payments);
        const builtMs = performance.now() - started;

        const t0 = performance.now();
        const report = await checkInvariants(store.db);
        const checkMs = performance.now() - t0;
        expect(report.violations).toEqual([]);
        expect(report.checked['payment-money-moved']).toBe(payments);
        expect(report.checked['refund-money-moved']).toBe(refunds);

        const planted = `pay_s${Math.ceil(payments / 2)}`;
        const t1 = performance.now();
        const broken = await corrupted(store, async (tx) => {
          const user = await accountId(tx, 'USER', 'usr_s', 'USD');
          const merchant = await accountId(tx, 'MERCHANT', 'mch_s', 'USD');
          await rawEntry(tx, 'jnl_planted', 'PAYMENT', planted, [
            { account: user, currency: 'USD', amount: -100n },
            { account: merchant, currency: 'USD', amount: 100n },
          ]);
        });
        const brokenMs = performance.now() - t1;
        expect(broken.violations.map((v) => [v.invariant, v.rows])).toEqual([
          ['payment-money-moved', [expect.objectContaining({ payment_id: planted, entries: '2' })]],
        ]);
        if (LONG) {
          console.log(
            `faults: check ${backend.name}: ${payments.toLocaleString('en-US')} payments, ${refunds.toLocaleString('en-US')} refunds, ` +
              `${(payments * 2 + refunds * 2 + 2).toLocaleString('en-US')} postings checked in ${(checkMs / 1000).toFixed(1)} s, 0 violations ` +
              `(built in ${(builtMs / 1000).toFixed(1)} s, load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} cores)`,
          );
          console.log(
            `faults: check ${backend.name}: 1 planted double debit among ${payments.toLocaleString('en-US')} payments found in ${(brokenMs / 1000).toFixed(1)} s`,
          );
        }
      } finally {
        await store.close();
        await env.cleanup();
      }
    },
    timeoutMs(30_000, 1_800_000),
  );
}

/**
 * A consistent ledger of `n` SUCCESS payments of 1.00 USD by one user at one merchant, each with its
 * PAYMENT entry and a delivered notification, every tenth refunded 0.30 with its REFUND entry: written
 * set-based (recursive CTEs run on both databases), in one transaction. Returns how many refunds.
 */
async function bulkLedger(store: Store, n: number): Promise<number> {
  const refunds = Math.floor(n / 10);
  const paid = BigInt(n) * 100n;
  const refunded = BigInt(refunds) * 30n;
  const seq = sql`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${sql.lit(n)})`;
  const now = 1_800_000_000_000;
  await insertMerchant(store.db, {
    id: 'mch_s',
    clientId: 'CLIENT_S',
    partnerId: 'P_S',
    name: 'Scale Shop',
    website: null,
    notifyUrl: 'http://127.0.0.1:9/notify',
    status: 'VERIFIED',
    createdAt: now,
  });
  await store.transaction(async (tx) => {
    const account = (id: string, ref: AccountRef, balance: bigint) =>
      tx
        .insertInto('accounts')
        .values({
          id,
          owner_type: ref.ownerType,
          owner_id: ref.ownerId,
          currency: ref.currency,
          balance,
          created_at: 1n,
        })
        .execute();
    await account('acc_f', fundingAccount('USD'), -paid);
    await account('acc_u', userAccount('usr_s', 'USD'), refunded);
    await account('acc_m', merchantAccount('mch_s', 'USD'), paid - refunded);
    await rawEntryNoBalance(tx, 'jnl_s0', 'TOPUP', 'topup_s', [
      ['acc_f', -paid],
      ['acc_u', paid],
    ]);
    await sql`${seq} INSERT INTO payments (id, merchant_id, payment_request_id, request_hash, api_version, status,
        currency, amount, order_title, reply_json, expires_at, created_at, paid_at, user_id, notify_seq,
        refunded_amount)
      SELECT 'pay_s' || i, 'mch_s', 'req_s' || i, 'h', 'v1', 'SUCCESS', 'USD', 100, 'Order', '{}',
        ${sql.lit(now + 900_000)}, ${sql.lit(now)}, ${sql.lit(now + 1_000)}, 'usr_s', 1,
        CASE WHEN i % 10 = 0 THEN 30 ELSE 0 END
      FROM seq`.execute(tx);
    await sql`${seq} INSERT INTO journal_entries (id, kind, reference_id, created_at)
      SELECT 'jnl_s' || i, 'PAYMENT', 'pay_s' || i, ${sql.lit(now)} FROM seq`.execute(tx);
    await sql`${seq} INSERT INTO postings (entry_id, line, account_id, currency, amount)
      SELECT 'jnl_s' || i, 1, 'acc_u', 'USD', -100 FROM seq
      UNION ALL SELECT 'jnl_s' || i, 2, 'acc_m', 'USD', 100 FROM seq`.execute(tx);
    await sql`${seq} INSERT INTO refunds (id, merchant_id, payment_id, refund_request_id, request_hash, api_version,
        status, currency, amount, created_at, refunded_at)
      SELECT 'rfd_s' || i, 'mch_s', 'pay_s' || i, 'rreq_s' || i, 'h', 'v1', 'SUCCESS', 'USD', 30,
        ${sql.lit(now)}, ${sql.lit(now)}
      FROM seq WHERE i % 10 = 0`.execute(tx);
    await sql`${seq} INSERT INTO journal_entries (id, kind, reference_id, created_at)
      SELECT 'jnl_r' || i, 'REFUND', 'rfd_s' || i, ${sql.lit(now)} FROM seq WHERE i % 10 = 0`.execute(tx);
    await sql`${seq} INSERT INTO postings (entry_id, line, account_id, currency, amount)
      SELECT 'jnl_r' || i, 1, 'acc_m', 'USD', -30 FROM seq WHERE i % 10 = 0
      UNION ALL SELECT 'jnl_r' || i, 2, 'acc_u', 'USD', 30 FROM seq WHERE i % 10 = 0`.execute(tx);
    await sql`${seq} INSERT INTO notifications (id, merchant_id, payment_id, seq, kind, url, body, status, attempts,
        next_attempt_at, created_at, delivered_at)
      SELECT 'ntf_s' || i, 'mch_s', 'pay_s' || i, 1, 'PAYMENT', 'http://127.0.0.1:9/notify', '{}', 'DELIVERED', 1,
        ${sql.lit(now)}, ${sql.lit(now)}, ${sql.lit(now + 2_000)}
      FROM seq`.execute(tx);
    await sql`${seq} INSERT INTO notification_attempts (id, notification_id, attempt_no, started_at, latency_ms,
        http_status, outcome)
      SELECT 'att_s' || i, 'ntf_s' || i, 1, ${sql.lit(now + 1_500)}, 20, 200, 'ACKNOWLEDGED' FROM seq`.execute(
      tx,
    );
  });
  return refunds;
}

async function rawEntryNoBalance(
  tx: Tx,
  id: string,
  kind: string,
  referenceId: string,
  postings: Array<[string, bigint]>,
): Promise<void> {
  await tx
    .insertInto('journal_entries')
    .values({ id, kind, reference_id: referenceId, created_at: 1n })
    .execute();
  await tx
    .insertInto('postings')
    .values(
      postings.map(([account, amount], i) => ({
        entry_id: id,
        line: BigInt(i + 1),
        account_id: account,
        currency: 'USD',
        amount,
      })),
    )
    .execute();
}
