/**
 * The store contract: what every database adapter must do. Run on a SQLite file and on a real
 * PostgreSQL by store.test.ts.
 */
import { FakeClock, fundingAccount, merchantAccount, transfer, userAccount } from '@billetera/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendEnv } from '../../../test/backends.ts';
import { sequentialIds } from '../../../test/backends.ts';
import {
  InsufficientFundsError,
  activeMerchantKeys,
  addMerchantKey,
  attemptsOf,
  balanceOf,
  claimRefundAmount,
  findRefundById,
  findRefundByRequestId,
  insertRefundIfAbsent,
  listNotifications,
  redeliverFailedNotifications,
  redeliverNotification,
  refundsForPayment,
  type Refund,
  balancesOf,
  checkLedger,
  deleteExpiredSessions,
  deleteSession,
  findLiveSession,
  findMiniProgram,
  insertMiniProgram,
  insertSession,
  publishedMiniPrograms,
  setMerchantStatus,
  updateMiniProgramEntry,
  userHistory,
  claimNotification,
  enqueueNotification,
  findDueNotifications,
  findExpiredPayments,
  findMerchantByClientId,
  findNotification,
  findPaymentById,
  findPaymentByRequestId,
  findUserByPhone,
  finishPayment,
  insertMerchant,
  insertPaymentIfAbsent,
  insertUser,
  nextDueAt,
  EMPTY_PROFILE,
  openStore,
  postEntry,
  recordAttempt,
  type Merchant,
  type NewPayment,
  type Store,
} from './index.ts';

export function storeContract(create: () => Promise<BackendEnv>): void {
  let env: BackendEnv;
  let store: Store;
  const ids = sequentialIds();
  const clock = new FakeClock();
  const merchant: Merchant = {
    id: 'mch_contract',
    clientId: 'CLIENTCONTRACT01',
    partnerId: 'P00000000000000000001',
    name: 'Contract Shop',
    website: null,
    notifyUrl: 'http://127.0.0.1:9/notify',
    status: 'VERIFIED',
    createdAt: clock.now(),
  };

  beforeAll(async () => {
    env = await create();
    store = await env.openStore();
    await insertMerchant(store.db, merchant);
  });
  afterAll(async () => {
    await store?.close();
    await env?.cleanup();
  });

  const payment = (over: Partial<NewPayment> = {}): NewPayment => ({
    id: ids.next('pay'),
    merchantId: merchant.id,
    paymentRequestId: ids.next('pay').replace('pay_', 'req_'),
    requestHash: 'h1',
    apiVersion: 'v1',
    status: 'PROCESSING',
    currency: 'USD',
    amount: 1999n,
    orderTitle: 'Shoes',
    appId: null,
    notifyUrl: null,
    returnUrl: null,
    extendInfo: null,
    orderJson: null,
    replyJson: '{}',
    expiresAt: clock.now() + 60_000,
    createdAt: clock.now(),
    paidAt: null,
    userId: null,
    failReason: null,
    ...over,
  });

  it('runs migrations idempotently: a second open on the same database works', async () => {
    const again = env.databaseUrl ? await openStore({ databaseUrl: env.databaseUrl }) : await env.openStore();
    expect(await findMerchantByClientId(again.db, merchant.clientId)).toMatchObject({ id: merchant.id });
    await again.close();
  });

  it('numbers merchant key versions 1, 2, ... and lists active keys newest first', async () => {
    expect(await addMerchantKey(store.db, merchant.id, 'PEM-1', clock.now())).toBe(1);
    expect(await addMerchantKey(store.db, merchant.id, 'PEM-2', clock.now())).toBe(2);
    const keys = await activeMerchantKeys(store.db, merchant.id);
    expect(keys.map((k) => [k.keyVersion, k.publicKeyPem])).toEqual([
      [2, 'PEM-2'],
      [1, 'PEM-1'],
    ]);
  });

  it('keeps phone numbers unique', async () => {
    const user = {
      id: 'usr_a',
      phone: '+100',
      pinHash: 'x',
      pinFailedAttempts: 0,
      pinLockedUntil: null,
      status: 'ACTIVE' as const,
      displayName: null,
      profile: EMPTY_PROFILE,
      createdAt: 1,
    };
    await insertUser(store.db, user);
    await expect(insertUser(store.db, { ...user, id: 'usr_b' })).rejects.toThrow();
    expect(await findUserByPhone(store.db, '+100')).toMatchObject({
      id: 'usr_a',
      pinFailedAttempts: 0,
      pinLockedUntil: null,
    });
  });

  it('round-trips 16-digit amounts exactly (no float on the way)', async () => {
    const big = 9_999_999_999_999_999n;
    const p = payment({ amount: big });
    await insertPaymentIfAbsent(store.db, p);
    expect((await findPaymentById(store.db, p.id))?.amount).toBe(big);
    const entry = transfer('TOPUP', 't-big', fundingAccount('XOF'), userAccount('usr_big', 'XOF'), big);
    await store.transaction((tx) => postEntry(tx, entry, ids, clock.now()));
    expect(await balanceOf(store.db, userAccount('usr_big', 'XOF'))).toBe(big);
    expect(await balanceOf(store.db, fundingAccount('XOF'))).toBe(-big);
  });

  it('posts a balanced transfer and refuses an overdraft without changing anything', async () => {
    await store.transaction((tx) =>
      postEntry(
        tx,
        transfer('TOPUP', 't1', fundingAccount('USD'), userAccount('usr_a', 'USD'), 1000n),
        ids,
        clock.now(),
      ),
    );
    const pay = transfer(
      'PAYMENT',
      'p1',
      userAccount('usr_a', 'USD'),
      merchantAccount(merchant.id, 'USD'),
      1001n,
    );
    await expect(store.transaction((tx) => postEntry(tx, pay, ids, clock.now()))).rejects.toBeInstanceOf(
      InsufficientFundsError,
    );
    expect(await balanceOf(store.db, userAccount('usr_a', 'USD'))).toBe(1000n);
    expect(await balanceOf(store.db, merchantAccount(merchant.id, 'USD'))).toBe(0n);
    await store.transaction((tx) =>
      postEntry(
        tx,
        { ...pay, postings: pay.postings.map((p) => ({ ...p, amount: p.amount < 0n ? -1000n : 1000n })) },
        ids,
        clock.now(),
      ),
    );
    expect(await balancesOf(store.db, 'USER', 'usr_a')).toEqual([{ currency: 'USD', value: 0n }]);
    expect(await checkLedger(store.db)).toEqual([]);
  });

  it('refuses an unbalanced journal entry', async () => {
    const bad = {
      kind: 'TOPUP' as const,
      referenceId: 'bad',
      postings: [
        { account: userAccount('usr_a', 'USD'), amount: 5n },
        { account: fundingAccount('USD'), amount: -4n },
      ],
    };
    await expect(store.transaction((tx) => postEntry(tx, bad, ids, clock.now()))).rejects.toThrow(
      /does not balance/,
    );
  });

  it('has a database-level guard: a non-platform balance cannot be set below zero', async () => {
    await expect(
      store.db
        .updateTable('accounts')
        .set({ balance: -1n })
        .where('owner_type', '=', 'USER')
        .where('owner_id', '=', 'usr_a')
        .execute(),
    ).rejects.toThrow();
  });

  it('rolls back everything a failed transaction did', async () => {
    await expect(
      store.transaction(async (tx) => {
        await postEntry(
          tx,
          transfer('TOPUP', 't-rb', fundingAccount('EUR'), userAccount('usr_rb', 'EUR'), 50n),
          ids,
          clock.now(),
        );
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await balanceOf(store.db, userAccount('usr_rb', 'EUR'))).toBe(0n);
    const entries = await store.db
      .selectFrom('journal_entries')
      .select('id')
      .where('reference_id', '=', 't-rb')
      .execute();
    expect(entries).toEqual([]);
  });

  it('checkLedger reports a balance that disagrees with its postings', async () => {
    await store.db
      .updateTable('accounts')
      .set({ balance: sql<bigint>`balance + 1` })
      .where('owner_type', '=', 'PLATFORM')
      .where('currency', '=', 'USD')
      .execute();
    const problems = await checkLedger(store.db);
    expect(problems.map((p) => p.kind).sort()).toEqual(['balance-mismatch', 'unbalanced-currency']);
    await store.db
      .updateTable('accounts')
      .set({ balance: sql<bigint>`balance - 1` })
      .where('owner_type', '=', 'PLATFORM')
      .where('currency', '=', 'USD')
      .execute();
    expect(await checkLedger(store.db)).toEqual([]);
  });

  it('creates one payment per (merchant, paymentRequestId)', async () => {
    const first = payment({ paymentRequestId: 'same-key' });
    expect(await insertPaymentIfAbsent(store.db, first)).toBe(true);
    expect(await insertPaymentIfAbsent(store.db, { ...first, id: ids.next('pay') })).toBe(false);
    expect((await findPaymentByRequestId(store.db, merchant.id, 'same-key'))?.id).toBe(first.id);
  });

  it('finishes a payment only from PROCESSING, and SUCCESS only before expiry', async () => {
    const p = payment();
    await insertPaymentIfAbsent(store.db, p);
    expect(
      await finishPayment(store.db, p.id, { status: 'SUCCESS', userId: 'usr_a', paidAt: p.expiresAt }),
    ).toBe(false);
    expect(
      await finishPayment(store.db, p.id, { status: 'SUCCESS', userId: 'usr_a', paidAt: p.expiresAt - 1 }),
    ).toBe(true);
    expect(await finishPayment(store.db, p.id, { status: 'CANCELLED' })).toBe(false);
    expect(await findPaymentById(store.db, p.id)).toMatchObject({
      status: 'SUCCESS',
      userId: 'usr_a',
      paidAt: p.expiresAt - 1,
    });
  });

  it('finds expired PROCESSING payments', async () => {
    const p = payment({ expiresAt: clock.now() - 1 });
    await insertPaymentIfAbsent(store.db, p);
    const expired = await findExpiredPayments(store.db, clock.now(), 100);
    expect(expired.map((e) => e.id)).toContain(p.id);
    expect(expired.every((e) => e.status === 'PROCESSING' && e.expiresAt <= clock.now())).toBe(true);
  });

  it('keeps mini programs per merchant and lists the published ones', async () => {
    const base = { merchantId: merchant.id, description: 'd', logoUrl: null, createdAt: clock.now() };
    await insertMiniProgram(store.db, {
      ...base,
      appId: '2026000000000000001',
      name: 'Zeta',
      entryUrl: 'http://127.0.0.1:1/a/',
      status: 'PUBLISHED',
    });
    await insertMiniProgram(store.db, {
      ...base,
      appId: '2026000000000000002',
      name: 'Alpha',
      entryUrl: 'http://127.0.0.1:1/b/',
      status: 'DRAFT',
    });
    expect((await publishedMiniPrograms(store.db)).map((m) => m.appId)).toEqual(['2026000000000000001']);
    await updateMiniProgramEntry(store.db, '2026000000000000001', 'http://127.0.0.1:2/a/');
    expect(await findMiniProgram(store.db, '2026000000000000001')).toMatchObject({
      entryUrl: 'http://127.0.0.1:2/a/',
      merchantId: merchant.id,
    });
    expect(await findMiniProgram(store.db, 'nope')).toBeUndefined();

    // A frozen merchant's mini programs leave the host's list, and come back when it is unfrozen.
    await setMerchantStatus(store.db, merchant.id, 'FROZEN');
    expect(await publishedMiniPrograms(store.db)).toEqual([]);
    await setMerchantStatus(store.db, merchant.id, 'VERIFIED');
    expect((await publishedMiniPrograms(store.db)).map((m) => m.appId)).toEqual(['2026000000000000001']);
  });

  it('finds live sessions only, and deletes expired ones', async () => {
    const now = clock.now();
    await insertSession(store.db, {
      idHash: 'live',
      userId: 'usr_a',
      csrfToken: 't1',
      createdAt: now,
      expiresAt: now + 1000,
    });
    await insertSession(store.db, {
      idHash: 'old',
      userId: 'usr_a',
      csrfToken: 't2',
      createdAt: now - 2000,
      expiresAt: now - 1,
    });
    expect(await findLiveSession(store.db, 'live', now)).toMatchObject({ userId: 'usr_a', csrfToken: 't1' });
    expect(await findLiveSession(store.db, 'live', now + 1000)).toBeUndefined();
    expect(await findLiveSession(store.db, 'old', now)).toBeUndefined();
    expect(await deleteExpiredSessions(store.db, now)).toBe(1);
    await deleteSession(store.db, 'live');
    expect(await findLiveSession(store.db, 'live', now)).toBeUndefined();
  });

  it("lists a user's ledger history newest first, with the payee of payments", async () => {
    const p = payment({ orderTitle: 'Tea' });
    await insertPaymentIfAbsent(store.db, p);
    await store.transaction((tx) =>
      postEntry(
        tx,
        transfer('TOPUP', 'h-top', fundingAccount('USD'), userAccount('usr_h', 'USD'), 500n),
        ids,
        clock.now(),
      ),
    );
    await store.transaction((tx) =>
      postEntry(
        tx,
        transfer('PAYMENT', p.id, userAccount('usr_h', 'USD'), merchantAccount(merchant.id, 'USD'), 200n),
        ids,
        clock.now() + 1,
      ),
    );
    const history = await userHistory(store.db, 'usr_h', 10);
    expect(history.map((h) => [h.kind, h.amount, h.merchantName, h.orderTitle])).toEqual([
      ['PAYMENT', -200n, 'Contract Shop', 'Tea'],
      ['TOPUP', 500n, null, null],
    ]);
  });

  describe('notification outbox', () => {
    it('numbers notifications per payment, lets one worker claim a row, and records attempts only for the lease holder', async () => {
      const p = payment();
      await insertPaymentIfAbsent(store.db, p);
      const now = clock.now();
      const n1 = await store.transaction((tx) =>
        enqueueNotification(
          tx,
          { merchantId: merchant.id, paymentId: p.id, url: 'http://x/n', body: (s) => `{"seq":${s}}`, now },
          ids,
        ),
      );
      const n2 = await store.transaction((tx) =>
        enqueueNotification(
          tx,
          { merchantId: merchant.id, paymentId: p.id, url: 'http://x/n', body: (s) => `{"seq":${s}}`, now },
          ids,
        ),
      );
      expect([n1.seq, n2.seq, n2.body]).toEqual([1, 2, '{"seq":2}']);
      expect(await nextDueAt(store.db)).toBeLessThanOrEqual(now);

      expect((await findDueNotifications(store.db, now, 100)).map((n) => n.id)).toContain(n1.id);
      expect(await claimNotification(store.db, n1.id, 'w1', now, 15_000)).toBe(true);
      expect(await claimNotification(store.db, n1.id, 'w2', now, 15_000)).toBe(false);
      expect((await findDueNotifications(store.db, now, 100)).map((n) => n.id)).not.toContain(n1.id);

      const attempt = {
        startedAt: now,
        latencyMs: 12,
        httpStatus: 500,
        outcome: 'HTTP_ERROR' as const,
        replyExcerpt: 'oops',
        error: 'HTTP 500',
      };
      const later = { status: 'PENDING' as const, nextAttemptAt: now + 120_000 };
      expect(
        await store.transaction((tx) =>
          recordAttempt(tx, { notificationId: n1.id, owner: 'w2', attempt, next: later }, ids),
        ),
      ).toBe(false);
      expect(
        await store.transaction((tx) =>
          recordAttempt(tx, { notificationId: n1.id, owner: 'w1', attempt, next: later }, ids),
        ),
      ).toBe(true);
      expect(await findNotification(store.db, n1.id)).toMatchObject({
        status: 'PENDING',
        attempts: 1,
        nextAttemptAt: now + 120_000,
        leaseOwner: null,
        lastError: 'HTTP 500',
      });
      expect(await attemptsOf(store.db, n1.id)).toMatchObject([
        { attemptNo: 1, httpStatus: 500, outcome: 'HTTP_ERROR', replyExcerpt: 'oops' },
      ]);
    });

    it('lets another worker take over a row whose lease ran out (the first worker died mid-send)', async () => {
      const p = payment();
      await insertPaymentIfAbsent(store.db, p);
      const now = clock.now();
      const n = await store.transaction((tx) =>
        enqueueNotification(
          tx,
          { merchantId: merchant.id, paymentId: p.id, url: 'http://x/n', body: () => '{}', now },
          ids,
        ),
      );
      expect(await claimNotification(store.db, n.id, 'dead', now, 15_000)).toBe(true);
      expect(await claimNotification(store.db, n.id, 'alive', now + 14_999, 15_000)).toBe(false);
      expect(await claimNotification(store.db, n.id, 'alive', now + 15_000, 15_000)).toBe(true);
      const attempt = {
        startedAt: now,
        latencyMs: 5,
        httpStatus: 200,
        outcome: 'ACKNOWLEDGED' as const,
        replyExcerpt: null,
        error: null,
      };
      // The dead worker's late bookkeeping is refused; the live one's counts.
      expect(
        await store.transaction((tx) =>
          recordAttempt(
            tx,
            { notificationId: n.id, owner: 'dead', attempt, next: { status: 'DELIVERED', at: now } },
            ids,
          ),
        ),
      ).toBe(false);
      expect(
        await store.transaction((tx) =>
          recordAttempt(
            tx,
            { notificationId: n.id, owner: 'alive', attempt, next: { status: 'DELIVERED', at: now } },
            ids,
          ),
        ),
      ).toBe(true);
      expect(await findNotification(store.db, n.id)).toMatchObject({ status: 'DELIVERED', attempts: 1 });
    });
  });

  describe('refunds (0003_lifecycle)', () => {
    const paidPayment = async (amount = 1000n) => {
      const p = payment({ amount });
      await insertPaymentIfAbsent(store.db, p);
      await finishPayment(store.db, p.id, { status: 'SUCCESS', userId: 'usr_a', paidAt: clock.now() });
      return p;
    };
    const refund = (p: NewPayment, over: Partial<Refund> = {}): Refund => ({
      id: ids.next('rfd'),
      merchantId: merchant.id,
      paymentId: p.id,
      refundRequestId: ids.next('rfd').replace('rfd_', 'rr_'),
      requestHash: 'h',
      apiVersion: 'v2',
      status: 'SUCCESS',
      currency: 'USD',
      amount: 100n,
      reason: null,
      notifyUrl: null,
      extendInfo: null,
      createdAt: clock.now(),
      refundedAt: clock.now(),
      failReason: null,
      ...over,
    });

    it('starts a payment with nothing refunded, and claims refunds only up to the paid amount', async () => {
      const p = await paidPayment(1000n);
      expect(await findPaymentById(store.db, p.id)).toMatchObject({ refundedAmount: 0n, cancelledAt: null });
      expect(await claimRefundAmount(store.db, p.id, 600n)).toBe(true);
      expect(await claimRefundAmount(store.db, p.id, 401n)).toBe(false);
      expect(await claimRefundAmount(store.db, p.id, 400n)).toBe(true);
      expect(await claimRefundAmount(store.db, p.id, 1n)).toBe(false);
      expect((await findPaymentById(store.db, p.id))?.refundedAmount).toBe(1000n);
    });

    it('claims nothing on a payment that is not SUCCESS', async () => {
      const p = payment();
      await insertPaymentIfAbsent(store.db, p);
      expect(await claimRefundAmount(store.db, p.id, 1n)).toBe(false);
    });

    it('has a database-level guard: the refunded total cannot exceed the amount', async () => {
      const p = await paidPayment(50n);
      await expect(
        store.db.updateTable('payments').set({ refunded_amount: 51n }).where('id', '=', p.id).execute(),
      ).rejects.toThrow();
    });

    it('keeps one refund per (merchant, refundRequestId), finds it both ways, and lists a payment’s refunds', async () => {
      const p = await paidPayment();
      const first = refund(p, { refundRequestId: 'same-refund', reason: 'r', extendInfo: '{}' });
      expect(await insertRefundIfAbsent(store.db, first)).toBe(true);
      expect(await insertRefundIfAbsent(store.db, { ...first, id: ids.next('rfd') })).toBe(false);
      expect(await findRefundByRequestId(store.db, merchant.id, 'same-refund')).toEqual(first);
      expect(await findRefundById(store.db, first.id)).toEqual(first);
      const second = refund(p, { amount: 7n });
      await insertRefundIfAbsent(store.db, second);
      expect((await refundsForPayment(store.db, p.id)).map((r) => [r.id, r.amount])).toEqual([
        [first.id, 100n],
        [second.id, 7n],
      ]);
    });

    it('records the cancel time of a cancelled payment', async () => {
      const p = payment();
      await insertPaymentIfAbsent(store.db, p);
      expect(await finishPayment(store.db, p.id, { status: 'CANCELLED', cancelledAt: clock.now() + 5 })).toBe(
        true,
      );
      expect(await findPaymentById(store.db, p.id)).toMatchObject({
        status: 'CANCELLED',
        cancelledAt: clock.now() + 5,
      });
    });
  });

  describe('notification redelivery (0003_lifecycle)', () => {
    const failedNotification = async () => {
      const p = payment();
      await insertPaymentIfAbsent(store.db, p);
      const now = clock.now();
      const n = await store.transaction((tx) =>
        enqueueNotification(
          tx,
          {
            merchantId: merchant.id,
            paymentId: p.id,
            url: 'http://x/r',
            kind: 'REFUND',
            refundId: 'rfd_x',
            body: (s, id) => JSON.stringify({ s, id }),
            now,
          },
          ids,
        ),
      );
      expect(JSON.parse(n.body)).toEqual({ s: 1, id: n.id });
      expect(n).toMatchObject({ kind: 'REFUND', refundId: 'rfd_x', ladderBase: 0, redeliveries: 0 });
      expect(await claimNotification(store.db, n.id, 'w', now, 15_000)).toBe(true);
      const attempt = {
        startedAt: now,
        latencyMs: 1,
        httpStatus: 500,
        outcome: 'HTTP_ERROR' as const,
        replyExcerpt: null,
        error: 'HTTP 500',
      };
      await store.transaction((tx) =>
        recordAttempt(tx, { notificationId: n.id, owner: 'w', attempt, next: { status: 'FAILED' } }, ids),
      );
      return n;
    };

    it('redelivers a FAILED row as a new round: due now, attempts kept, ladder base moved, body unchanged', async () => {
      const n = await failedNotification();
      expect(await redeliverNotification(store.db, n.id, { now: clock.now() + 99 })).toBe(true);
      expect(await findNotification(store.db, n.id)).toMatchObject({
        status: 'PENDING',
        attempts: 1,
        ladderBase: 1,
        redeliveries: 1,
        nextAttemptAt: clock.now() + 99,
        body: n.body,
      });
      expect(await redeliverNotification(store.db, n.id, { now: clock.now() })).toBe(false);
      expect(await redeliverNotification(store.db, 'ntf_missing', { now: clock.now(), force: true })).toBe(
        false,
      );
    });

    it('redelivers a DELIVERED row only with force', async () => {
      const p = payment();
      await insertPaymentIfAbsent(store.db, p);
      const now = clock.now();
      const n = await store.transaction((tx) =>
        enqueueNotification(
          tx,
          { merchantId: merchant.id, paymentId: p.id, url: 'http://x/n', body: () => '{}', now },
          ids,
        ),
      );
      await claimNotification(store.db, n.id, 'w', now, 15_000);
      const ok = {
        startedAt: now,
        latencyMs: 1,
        httpStatus: 200,
        outcome: 'ACKNOWLEDGED' as const,
        replyExcerpt: null,
        error: null,
      };
      await store.transaction((tx) =>
        recordAttempt(
          tx,
          { notificationId: n.id, owner: 'w', attempt: ok, next: { status: 'DELIVERED', at: now } },
          ids,
        ),
      );
      expect(await redeliverNotification(store.db, n.id, { now })).toBe(false);
      expect(await redeliverNotification(store.db, n.id, { now, force: true })).toBe(true);
      expect(await findNotification(store.db, n.id)).toMatchObject({
        status: 'PENDING',
        deliveredAt: null,
        ladderBase: 1,
      });
    });

    it("lists a merchant's notifications by status, newest first, and redelivers all its FAILED ones", async () => {
      const a = await failedNotification();
      clock.advance(1);
      const b = await failedNotification();
      const failed = await listNotifications(store.db, {
        merchantId: merchant.id,
        status: 'FAILED',
        limit: 100,
      });
      expect(failed.map((x) => x.id).slice(0, 2)).toEqual([b.id, a.id]);
      expect(await listNotifications(store.db, { paymentId: a.paymentId, limit: 10 })).toHaveLength(1);
      const count = await redeliverFailedNotifications(store.db, merchant.id, clock.now());
      expect(count).toBe(failed.length);
      expect(
        await listNotifications(store.db, { merchantId: merchant.id, status: 'FAILED', limit: 100 }),
      ).toEqual([]);
      expect(await redeliverFailedNotifications(store.db, 'mch_other', clock.now())).toBe(0);
    });
  });
}
