/**
 * The payment lifecycle over real HTTP with a merchant written only from the spec, on a SQLite file and
 * a real PostgreSQL: v2 pay and inquiry, cancel, refund and inquiryRefund in both wire shapes, every
 * refusal code (and that a refusal changes nothing), notifyRefund and the notification extensions, and
 * v1/v2 parity (the same scenario through both shapes ends in the same ledger state).
 *
 * The last test of each backend checks that every code the operation catalogue says an operation
 * produces was produced here, through that operation's paths.
 */
import {
  FakeClock,
  REFUND_WINDOW_MS,
  fundingAccount,
  merchantAccount,
  transfer,
  userAccount,
} from '@billetera/domain';
import {
  OPERATIONS,
  OPERATION_CODES,
  PAYMENT_OPERATIONS,
  formatWireTime,
  type OperationName,
  type OperationPath,
} from '@billetera/protocol';
import { balanceOf, checkLedger, notificationsForPayment, postEntry } from '@billetera/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import {
  isoNow,
  specCall,
  specKeys,
  specVerify,
  startNotifyReceiver,
  verifyReply,
  type SpecReply,
} from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import type { RunningWallet } from '../wallet.ts';
import { Notifier } from '../workers/notifier.ts';

const P = {
  pay1: '/api/open/v1/payments/pay',
  pay2: '/api/open/v2/payments/pay',
  inquiry1: '/api/open/v1/payments/inquiryPayment',
  inquiry2: '/api/open/v2/payments/inquiryPayment',
  cancel1: '/api/open/v1/payments/cancel',
  cancel2: '/api/open/v2/payments/cancel',
  refund1: '/api/open/v1/payments/refund',
  refund2: '/api/open/v2/payments/refund',
  inquiryRefund1: '/api/open/v1/payments/inquiryRefund',
  inquiryRefund2: '/api/open/v2/payments/inquiryRefund',
} as const satisfies Record<string, OperationPath>;

type Version = 'v1' | 'v2';

for (const backend of BACKENDS) {
  describe(`payment lifecycle over HTTP on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let shop: TestMerchant;
    let other: TestMerchant;
    let receiver: Awaited<ReturnType<typeof startNotifyReceiver>>;
    const clock = new FakeClock(Date.now());
    const observed = new Map<OperationName, Set<string>>();
    let n = 0;
    const uid = (prefix: string) => `${prefix}-${++n}`;

    /** A signed call as `who`, recording the code answered for the path's operation. */
    async function call(
      path: string,
      body: unknown,
      who: TestMerchant = shop,
      o: Partial<Parameters<typeof specCall>[3]> = {},
    ) {
      const reply = await specCall(wallet.url, path, typeof body === 'string' ? body : JSON.stringify(body), {
        clientId: who.merchant.clientId,
        privateKey: who.keys.privateKey,
        requestTime: isoNow(clock.now()),
        ...o,
      });
      expect(reply.status).toBe(200);
      expect(verifyReply(reply, path, wallet.ctx.secrets.walletPublicKeyPem)).toBe(true);
      note(path, reply.body.result.resultCode);
      return reply;
    }
    function note(path: string, code: string) {
      const spec = (OPERATIONS as Record<string, { name: OperationName }>)[path];
      for (const name of spec ? [spec.name] : (Object.keys(OPERATION_CODES) as OperationName[])) {
        if (!spec && code !== 'INVALID_API') continue;
        const seen = observed.get(name) ?? new Set<string>();
        seen.add(code);
        observed.set(name, seen);
      }
    }
    const db = () => wallet.ctx.store.db;
    const count = async (table: 'refunds' | 'journal_entries' | 'notifications') =>
      Number(
        (
          await db()
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    /** What a refusal must leave untouched: rows of money and refunds, and every payment's state. */
    const fingerprint = async () => ({
      refunds: await count('refunds'),
      entries: await count('journal_entries'),
      notifications: await count('notifications'),
      payments: await db()
        .selectFrom('payments')
        .select(['id', 'status', 'refunded_amount'])
        .orderBy('id')
        .execute(),
    });
    async function expectRefusal(
      reply: SpecReply,
      code: string,
      message: RegExp,
      before: Awaited<ReturnType<typeof fingerprint>>,
    ) {
      expect(reply.body.result).toMatchObject({ resultStatus: 'F', resultCode: code });
      expect(reply.body.result.resultMessage).toMatch(message);
      expect(await fingerprint()).toEqual(before);
    }

    const payBody = (version: Version, over: Record<string, unknown> = {}, who: TestMerchant = shop) =>
      version === 'v1'
        ? {
            partnerId: who.merchant.partnerId,
            paymentRequestId: uid('order'),
            paymentOrderTitle: 'Shoes',
            paymentAmount: { currency: 'USD', value: '1000' },
            ...over,
          }
        : {
            paymentRequestId: uid('order'),
            productCode: 'CASHIER_PAYMENT',
            paymentAmount: { currency: 'USD', value: '1000' },
            order: { referenceOrderId: 'R1', orderDescription: 'Shoes' },
            ...over,
          };
    async function pay(version: Version, over: Record<string, unknown> = {}, who: TestMerchant = shop) {
      const body = payBody(version, over, who);
      const reply = await call(version === 'v1' ? P.pay1 : P.pay2, body, who);
      expect(reply.body.result.resultCode).toBe('ACCEPT');
      return { paymentId: reply.body['paymentId'] as string, paymentRequestId: body.paymentRequestId };
    }
    async function paid(
      version: Version,
      user: { phone: string; pin: string },
      over: Record<string, unknown> = {},
      who: TestMerchant = shop,
    ) {
      const p = await pay(version, over, who);
      const out = await confirmPayment(wallet.ctx, {
        paymentId: p.paymentId,
        phone: user.phone,
        pin: user.pin,
      });
      expect(out.ok).toBe(true);
      return p;
    }
    const refundBody = (version: Version, over: Record<string, unknown>, who: TestMerchant = shop) => ({
      ...(version === 'v1' ? { partnerId: who.merchant.partnerId } : {}),
      refundRequestId: uid('refund'),
      refundAmount: { currency: 'USD', value: '100' },
      ...over,
    });

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env, { clock, workers: false });
      receiver = await startNotifyReceiver();
      shop = await addMerchant(wallet.ctx, { notifyUrl: receiver.url });
      other = await addMerchant(wallet.ctx, { keys: specKeys(true), name: 'Other Shop' });
    });
    afterAll(async () => {
      if (wallet) expect(await checkLedger(wallet.ctx.store.db)).toEqual([]);
      await wallet?.close();
      await receiver?.close();
      await env?.cleanup();
    });

    it('v2 pay answers A with redirectActionForm; inquiry, replay and refusals work as in v1', async () => {
      const body = payBody('v2', {
        paymentRedirectUrl: 'https://shop.example/done',
        extendInfo: '{"customerBelongsTo":"X"}',
      });
      const first = await call(P.pay2, body);
      const id = first.body['paymentId'] as string;
      const cashier = `${wallet.ctx.publicUrl}/cashier/${id}`;
      expect(first.body).toMatchObject({
        result: { resultStatus: 'A', resultCode: 'ACCEPT' },
        paymentId: id,
        acquirementId: id,
        paymentRequestId: body.paymentRequestId,
        redirectActionForm: { method: 'GET', redirectionUrl: cashier },
        checkoutUrl: cashier,
      });
      expect(first.body['actionForm']).toBeUndefined();
      const replay = await call(P.pay2, body);
      expect([replay.raw, replay.headers['idempotent-replayed']]).toEqual([first.raw, 'true']);

      const found = await call(P.inquiry2, { paymentRequestId: body.paymentRequestId });
      expect(found.body).toMatchObject({
        result: { resultCode: 'SUCCESS' },
        paymentId: id,
        paymentStatus: 'PROCESSING',
      });
      const stored = await db()
        .selectFrom('payments')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect([
        stored.api_version,
        stored.order_title,
        stored.return_url,
        JSON.parse(stored.order_json ?? ''),
      ]).toEqual([
        'v2',
        'Shoes',
        'https://shop.example/done',
        { referenceOrderId: 'R1', orderDescription: 'Shoes' },
      ]);

      const before = await fingerprint();
      // The same paymentRequestId through v1 is another request, never a replay in the wrong shape.
      await expectRefusal(
        await call(P.pay1, payBody('v1', { paymentRequestId: body.paymentRequestId })),
        'REPEAT_REQ_INCONSISTENT',
        /different parameters/,
        before,
      );
      await expectRefusal(
        await call(P.pay2, { ...body, paymentAmount: { currency: 'USD', value: '999' } }),
        'REPEAT_REQ_INCONSISTENT',
        /different parameters/,
        before,
      );
      await expectRefusal(
        await call(P.pay2, payBody('v2', { productCode: 'AGREEMENT_PAYMENT' })),
        'PARAM_ILLEGAL',
        /productCode.*CASHIER_PAYMENT/,
        before,
      );
      await expectRefusal(
        await call(P.pay2, payBody('v2', { productCode: 'PC_1' })),
        'PARAM_ILLEGAL',
        /productCode/,
        before,
      );
      await expectRefusal(
        await call(P.pay2, payBody('v2', { order: { referenceOrderId: 'R' } })),
        'PARAM_ILLEGAL',
        /order\.orderDescription.*required/,
        before,
      );
      await expectRefusal(
        await call(P.pay2, payBody('v2', { paymentRedirectUrl: 'javascript:alert(1)' })),
        'PARAM_ILLEGAL',
        /paymentRedirectUrl/,
        before,
      );
      await expectRefusal(
        await call(P.pay2, payBody('v2', { appId: '3333010071465913' })),
        'ACCESS_DENIED',
        /appId/,
        before,
      );
      await expectRefusal(
        await call(P.pay2, payBody('v2', { paymentAmount: { currency: 'XAU', value: '1' } })),
        'CURRENCY_NOT_SUPPORT',
        /XAU/,
        before,
      );
      await expectRefusal(
        await call(P.pay2, payBody('v2', { paymentAmount: { currency: 'USD', value: '9999999999999999' } })),
        'PAYMENT_AMOUNT_EXCEED_LIMIT',
        /at most/,
        before,
      );
      const unverified = await addMerchant(wallet.ctx, {
        verified: false,
        keys: specKeys(true),
        name: 'Unverified',
      });
      await expectRefusal(
        await call(P.pay2, payBody('v2'), unverified),
        'PARTNER_STATUS_ABNORMAL',
        /not verified \(status DRAFT\)/,
        before,
      );
      await expectRefusal(
        await call(P.inquiry2, {}),
        'PARAM_ILLEGAL',
        /paymentId or paymentRequestId/,
        before,
      );
      await expectRefusal(
        await call(P.inquiry2, { paymentId: id }, other),
        'ORDER_NOT_EXIST',
        /does not exist/,
        before,
      );
      await expectRefusal(
        await call(P.inquiry1, { partnerId: other.merchant.partnerId, paymentId: id }),
        'ACCESS_DENIED',
        /partnerId/,
        before,
      );
    });

    it('cancel (v1 and v2) moves an unpaid order to CANCELLED, idempotently, without a notification', async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      for (const version of ['v1', 'v2'] as const) {
        const path = version === 'v1' ? P.cancel1 : P.cancel2;
        const p = await pay(version);
        clock.advance(1_000);
        const body =
          version === 'v1'
            ? { partnerId: shop.merchant.partnerId, paymentRequestId: p.paymentRequestId }
            : { paymentId: p.paymentId };
        const cancelled = await call(path, body);
        expect(cancelled.body).toEqual({
          result: { resultStatus: 'S', resultCode: 'SUCCESS', resultMessage: 'Success' },
          paymentId: p.paymentId,
          paymentRequestId: p.paymentRequestId,
          cancelTime: formatWireTime(clock.now()),
        });
        expect(cancelled.headers['idempotent-replayed']).toBeUndefined();
        clock.advance(1_000);
        const again = await call(path, body);
        expect(again.raw).toBe(cancelled.raw);
        expect(again.headers['idempotent-replayed']).toBe('true');
        expect((await call(P.inquiry2, { paymentId: p.paymentId })).body['paymentStatus']).toBe('CANCELLED');
        const confirm = await confirmPayment(wallet.ctx, {
          paymentId: p.paymentId,
          phone: user.phone,
          pin: user.pin,
        });
        expect(confirm).toMatchObject({ ok: false, code: 'ORDER_STATUS_INVALID' });
        expect(await notificationsForPayment(db(), p.paymentId)).toEqual([]);
      }
      expect(await balanceOf(db(), userAccount(user.id, 'USD'))).toBe(5_000n);
    });

    it('refuses to cancel paid, failed, expired, unknown and foreign orders, changing nothing', async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const done = await paid('v1', user);
      const soon = await pay('v2', { paymentExpiryTime: isoNow(clock.now() + 60_000) });
      const mine = await pay('v1');
      const unverified = await addMerchant(wallet.ctx, {
        verified: false,
        keys: specKeys(true),
        name: 'New Shop',
      });
      let before = await fingerprint();
      await expectRefusal(
        await call(P.cancel2, { paymentId: done.paymentId }),
        'ORDER_STATUS_INVALID',
        /paid.*refund/,
        before,
      );
      await expectRefusal(
        await call(P.cancel1, {}),
        'PARAM_ILLEGAL',
        /paymentId or paymentRequestId/,
        before,
      );
      await expectRefusal(
        await call(P.cancel2, { paymentId: 'pay_nope' }),
        'ORDER_NOT_EXIST',
        /does not exist/,
        before,
      );
      await expectRefusal(
        await call(P.cancel2, { paymentId: mine.paymentId }, other),
        'ORDER_NOT_EXIST',
        /does not exist/,
        before,
      );
      await expectRefusal(
        await call(P.cancel1, { partnerId: other.merchant.partnerId, paymentId: mine.paymentId }),
        'ACCESS_DENIED',
        /partnerId/,
        before,
      );
      await expectRefusal(
        await call(P.cancel2, { paymentId: 'pay_x' }, unverified),
        'PARTNER_STATUS_ABNORMAL',
        /not verified \(status DRAFT\)/,
        before,
      );

      // Past its expiry time but not swept yet: the cancel fails the order (and owes its FAIL notification).
      clock.advance(60_000);
      const expired = await call(P.cancel2, { paymentId: soon.paymentId });
      expect(expired.body.result).toMatchObject({ resultStatus: 'F', resultCode: 'ORDER_STATUS_INVALID' });
      expect(expired.body.result.resultMessage).toMatch(/expired at/);
      const notes = await notificationsForPayment(db(), soon.paymentId);
      expect(
        notes.map((x) => JSON.parse(x.body) as { paymentStatus: string; paymentFailReason: string }),
      ).toMatchObject([{ paymentStatus: 'FAIL', paymentFailReason: 'ORDER_EXPIRED' }]);
      before = await fingerprint();
      await expectRefusal(
        await call(P.cancel1, { paymentId: soon.paymentId }),
        'ORDER_STATUS_INVALID',
        /expired/,
        before,
      );
    });

    it('refunds partially and several times, in both shapes, reversing exactly what was paid', async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const merchantBefore = await balanceOf(db(), merchantAccount(shop.merchant.id, 'USD'));
      const p = await paid('v1', user, { paymentAmount: { currency: 'USD', value: '1000' } });
      expect(await balanceOf(db(), userAccount(user.id, 'USD'))).toBe(4_000n);

      const r1 = await call(
        P.refund1,
        refundBody('v1', {
          paymentId: p.paymentId,
          refundAmount: { currency: 'USD', value: '300' },
          refundReason: 'one shoe',
        }),
      );
      expect(r1.body).toMatchObject({
        result: { resultStatus: 'S', resultCode: 'SUCCESS' },
        paymentId: p.paymentId,
        refundAmount: { currency: 'USD', value: '300' },
      });
      expect(r1.body['refundId']).toMatch(/^rfd_/);
      expect(typeof r1.body['refundTime']).toBe('string');
      const r2 = await call(
        P.refund2,
        refundBody('v2', {
          paymentRequestId: p.paymentRequestId,
          refundAmount: { currency: 'USD', value: '700' },
        }),
      );
      expect(r2.body.result.resultCode).toBe('SUCCESS');

      expect(await balanceOf(db(), userAccount(user.id, 'USD'))).toBe(5_000n);
      expect(await balanceOf(db(), merchantAccount(shop.merchant.id, 'USD'))).toBe(merchantBefore);
      const payment = await db()
        .selectFrom('payments')
        .select(['status', 'refunded_amount'])
        .where('id', '=', p.paymentId)
        .executeTakeFirstOrThrow();
      expect([payment.status, BigInt(payment.refunded_amount)]).toEqual(['SUCCESS', 1000n]);
      // Each refund is one REFUND entry: merchant -> the paying user, in the payment's currency.
      for (const [reply, amount] of [
        [r1, 300n],
        [r2, 700n],
      ] as const) {
        const postings = await db()
          .selectFrom('journal_entries as j')
          .innerJoin('postings as p', 'p.entry_id', 'j.id')
          .innerJoin('accounts as a', 'a.id', 'p.account_id')
          .select(['j.kind', 'a.owner_type', 'a.owner_id', 'p.currency', 'p.amount'])
          .where('j.reference_id', '=', reply.body['refundId'] as string)
          .orderBy('p.amount')
          .execute();
        expect(postings.map((x) => [x.kind, x.owner_type, x.owner_id, x.currency, BigInt(x.amount)])).toEqual(
          [
            ['REFUND', 'MERCHANT', shop.merchant.id, 'USD', -amount],
            ['REFUND', 'USER', user.id, 'USD', amount],
          ],
        );
      }
      const before = await fingerprint();
      await expectRefusal(
        await call(
          P.refund2,
          refundBody('v2', { paymentId: p.paymentId, refundAmount: { currency: 'USD', value: '1' } }),
        ),
        'REFUND_AMOUNT_EXCEED',
        /at most 0/,
        before,
      );
    });

    it('is idempotent by refundRequestId: same payload replays (either shape), another is refused, a refusal stores nothing', async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const p = await paid('v2', user, { paymentAmount: { currency: 'USD', value: '500' } });
      const body = refundBody('v1', {
        paymentId: p.paymentId,
        refundAmount: { currency: 'USD', value: '200' },
      });
      const first = await call(P.refund1, body);
      expect(first.body.result.resultCode).toBe('SUCCESS');
      const again = await call(P.refund1, JSON.stringify(Object.fromEntries(Object.entries(body).reverse())));
      expect(again.body).toEqual(first.body);
      expect(again.headers['idempotent-replayed']).toBe('true');
      const { partnerId: _partnerId, ...v2body } = body;
      expect((await call(P.refund2, v2body)).body).toEqual(first.body);
      // A partnerId in a v2 body is an unknown field there, ignored like any other.
      expect((await call(P.refund2, { ...v2body, partnerId: other.merchant.partnerId })).body).toEqual(
        first.body,
      );

      const before = await fingerprint();
      await expectRefusal(
        await call(P.refund1, { ...body, refundAmount: { currency: 'USD', value: '201' } }),
        'REPEAT_REQ_INCONSISTENT',
        /different parameters/,
        before,
      );
      // A refused request stores nothing: the same id, corrected, goes through.
      const reused = refundBody('v2', {
        paymentId: p.paymentId,
        refundAmount: { currency: 'USD', value: '301' },
      });
      await expectRefusal(await call(P.refund2, reused), 'REFUND_AMOUNT_EXCEED', /at most 300/, before);
      const fixed = await call(P.refund2, { ...reused, refundAmount: { currency: 'USD', value: '300' } });
      expect(fixed.body.result.resultCode).toBe('SUCCESS');
      // Scoped by merchant: another merchant may use the same refundRequestId for its own payment.
      const theirs = await paid('v1', user, { paymentAmount: { currency: 'USD', value: '50' } }, other);
      const mirror = await call(
        P.refund2,
        { ...reused, paymentId: theirs.paymentId, refundAmount: { currency: 'USD', value: '50' } },
        other,
      );
      expect(mirror.body.result.resultCode).toBe('SUCCESS');
      expect(mirror.body['refundId']).not.toBe(fixed.body['refundId']);
    });

    it('refuses refunds of payments that are not SUCCESS, in another currency, unknown, foreign, malformed or not the caller’s', async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const p = await paid('v1', user);
      const unpaid = await pay('v2');
      const cancelled = await pay('v2');
      await call(P.cancel2, { paymentId: cancelled.paymentId });
      const theirs = await paid('v2', user, {}, other);
      const unverified = await addMerchant(wallet.ctx, {
        verified: false,
        keys: specKeys(true),
        name: 'Fresh Shop',
      });
      const before = await fingerprint();
      const refund = (version: Version, over: Record<string, unknown>, who: TestMerchant = shop) =>
        call(version === 'v1' ? P.refund1 : P.refund2, refundBody(version, over, who), who);

      await expectRefusal(
        await refund('v2', { paymentId: unpaid.paymentId }),
        'ORDER_STATUS_INVALID',
        /PROCESSING/,
        before,
      );
      await expectRefusal(
        await refund('v1', { paymentId: cancelled.paymentId }),
        'ORDER_STATUS_INVALID',
        /CANCELLED/,
        before,
      );
      await expectRefusal(
        await refund('v2', { paymentId: p.paymentId, refundAmount: { currency: 'EUR', value: '100' } }),
        'CURRENCY_NOT_SUPPORT',
        /must be the payment's currency USD/,
        before,
      );
      await expectRefusal(
        await refund('v2', { paymentId: 'pay_unknown' }),
        'ORDER_NOT_EXIST',
        /does not exist/,
        before,
      );
      await expectRefusal(
        await refund('v2', { paymentId: theirs.paymentId }),
        'ORDER_NOT_EXIST',
        /does not exist/,
        before,
      );
      await expectRefusal(
        await refund('v2', { paymentRequestId: theirs.paymentRequestId }),
        'ORDER_NOT_EXIST',
        /does not exist/,
        before,
      );
      await expectRefusal(
        await call(
          P.refund1,
          refundBody('v1', { partnerId: other.merchant.partnerId, paymentId: p.paymentId }),
        ),
        'ACCESS_DENIED',
        /partnerId/,
        before,
      );
      await expectRefusal(await refund('v2', {}), 'PARAM_ILLEGAL', /paymentId or paymentRequestId/, before);
      await expectRefusal(
        await call(P.refund1, {
          partnerId: shop.merchant.partnerId,
          paymentId: p.paymentId,
          refundAmount: { currency: 'USD', value: '1' },
        }),
        'PARAM_ILLEGAL',
        /refundRequestId.*required/,
        before,
      );
      await expectRefusal(
        await refund('v2', { paymentId: p.paymentId, refundAmount: { currency: 'USD', value: '1.5' } }),
        'PARAM_ILLEGAL',
        /refundAmount\.value/,
        before,
      );
      await expectRefusal(
        await refund('v2', { paymentId: p.paymentId, refundNotifyUrl: 'ftp://x' }),
        'PARAM_ILLEGAL',
        /refundNotifyUrl/,
        before,
      );
      await expectRefusal(
        await refund('v2', { paymentId: p.paymentId }, unverified),
        'PARTNER_STATUS_ABNORMAL',
        /not verified \(status DRAFT\)/,
        before,
      );
    });

    it('refuses a refund the merchant balance cannot cover (PARTNER_BALANCE_NOT_ENOUGH), leaving the payment refundable', async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const poor = await addMerchant(wallet.ctx, { keys: specKeys(true), name: 'Poor Shop' });
      const p = await paid('v2', user, { paymentAmount: { currency: 'USD', value: '800' } }, poor);
      // The merchant was paid out (settlement to its bank): 700 of its 800 leave the wallet.
      await wallet.ctx.store.transaction((tx) =>
        postEntry(
          tx,
          transfer(
            'PAYOUT',
            'payout-1',
            merchantAccount(poor.merchant.id, 'USD'),
            fundingAccount('USD'),
            700n,
          ),
          wallet.ctx.ids,
          clock.now(),
        ),
      );
      const before = await fingerprint();
      await expectRefusal(
        await call(
          P.refund2,
          refundBody('v2', { paymentId: p.paymentId, refundAmount: { currency: 'USD', value: '101' } }),
          poor,
        ),
        'PARTNER_BALANCE_NOT_ENOUGH',
        /does not cover 1\.01 USD/,
        before,
      );
      const ok = await call(
        P.refund2,
        refundBody('v2', { paymentId: p.paymentId, refundAmount: { currency: 'USD', value: '100' } }),
        poor,
      );
      expect(ok.body.result.resultCode).toBe('SUCCESS');
      expect(await balanceOf(db(), merchantAccount(poor.merchant.id, 'USD'))).toBe(0n);
    });

    it('answers inquiryRefund by refundId or refundRequestId in both shapes, and ORDER_NOT_EXIST for others', async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const p = await paid('v1', user);
      const body = refundBody('v2', {
        paymentId: p.paymentId,
        refundReason: 'too small',
        extendInfo: '{"k":1}',
      });
      const r = await call(P.refund2, body);
      const refundId = r.body['refundId'] as string;
      const expected = {
        result: { resultStatus: 'S', resultCode: 'SUCCESS' },
        refundId,
        refundRequestId: body.refundRequestId,
        paymentId: p.paymentId,
        refundAmount: { currency: 'USD', value: '100' },
        refundReason: 'too small',
        refundTime: r.body['refundTime'],
        refundStatus: 'SUCCESS',
        extendInfo: '{"k":1}',
      };
      expect((await call(P.inquiryRefund2, { refundId })).body).toMatchObject(expected);
      expect(
        (
          await call(P.inquiryRefund1, {
            partnerId: shop.merchant.partnerId,
            refundRequestId: body.refundRequestId,
          })
        ).body,
      ).toMatchObject(expected);
      const before = await fingerprint();
      await expectRefusal(
        await call(P.inquiryRefund2, { refundId: 'rfd_nope' }),
        'ORDER_NOT_EXIST',
        /no such refund/,
        before,
      );
      await expectRefusal(
        await call(P.inquiryRefund2, { refundId }, other),
        'ORDER_NOT_EXIST',
        /no such refund/,
        before,
      );
      await expectRefusal(
        await call(P.inquiryRefund1, { refundRequestId: body.refundRequestId }, other),
        'ORDER_NOT_EXIST',
        /no such refund/,
        before,
      );
      await expectRefusal(
        await call(P.inquiryRefund1, {}),
        'PARAM_ILLEGAL',
        /refundId or refundRequestId/,
        before,
      );
      await expectRefusal(
        await call(P.inquiryRefund1, { partnerId: other.merchant.partnerId, refundId }),
        'ACCESS_DENIED',
        /partnerId/,
        before,
      );
    });

    it('notifies a refund only when refundNotifyUrl was given, signed, numbered after its payment’s notification', async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const p = await paid('v2', user, {
        paymentNotifyUrl: receiver.url,
        paymentAmount: { currency: 'USD', value: '900' },
      });
      const refundUrl = receiver.url.replace('/notify/payment', '/notify/refund?shop=1');
      const notified = await call(
        P.refund2,
        refundBody('v2', {
          paymentId: p.paymentId,
          refundNotifyUrl: refundUrl,
          refundReason: 'late',
          extendInfo: '{"a":"b"}',
        }),
      );
      await call(P.refund1, refundBody('v1', { paymentId: p.paymentId })); // no refundNotifyUrl: no notification
      const rows = await notificationsForPayment(db(), p.paymentId);
      expect(rows.map((r) => [r.kind, r.seq, r.url])).toEqual([
        ['PAYMENT', 1, receiver.url],
        ['REFUND', 2, refundUrl],
      ]);

      const start = receiver.received.length;
      await new Notifier(wallet.ctx, { owner: 'lifecycle' }).drain();
      const got = receiver.received.slice(start).filter((x) => rows.some((r) => x.rawBody.includes(r.id)));
      expect(got).toHaveLength(2);
      for (const x of got) {
        expect(
          specVerify({
            path: x.path,
            clientId: String(x.headers['client-id']),
            time: String(x.headers['request-time']),
            rawBody: x.rawBody,
            signatureHeader: String(x.headers['signature']),
            walletPublicKeyPem: wallet.ctx.secrets.walletPublicKeyPem,
          }),
        ).toBe(true);
      }
      const bodies = got
        .map((x) => JSON.parse(x.rawBody) as Record<string, unknown>)
        .sort((a, b) => Number(a['sequence']) - Number(b['sequence']));
      expect(bodies[0]).toMatchObject({
        paymentId: p.paymentId,
        paymentStatus: 'SUCCESS',
        notificationId: rows[0]!.id,
        sequence: 1,
      });
      expect(bodies[1]).toEqual({
        refundId: notified.body['refundId'],
        refundRequestId: notified.body['refundRequestId'],
        paymentId: p.paymentId,
        refundAmount: { currency: 'USD', value: '100' },
        refundStatus: 'SUCCESS',
        refundTime: notified.body['refundTime'],
        refundReason: 'late',
        extendInfo: '{"a":"b"}',
        notificationId: rows[1]!.id,
        sequence: 2,
      });
      expect(got.find((x) => x.rawBody.includes('refundId'))?.path).toBe('/notify/refund?shop=1');
    });

    it('v1/v2 parity: the same scenario through both shapes ends in the same ledger state', async () => {
      const run = async (version: Version) => {
        const keys = specKeys(true);
        const m = await addMerchant(wallet.ctx, { keys, name: `Parity ${version}`, notifyUrl: receiver.url });
        const u = await addUser(wallet.ctx, { USD: 10_000n, JPY: 5_000n });
        const refund = version === 'v1' ? P.refund1 : P.refund2;
        const a = await paid(version, u, { paymentAmount: { currency: 'USD', value: '2500' } }, m);
        const b = await paid(version, u, { paymentAmount: { currency: 'JPY', value: '1200' } }, m);
        const c = await pay(version, { paymentAmount: { currency: 'USD', value: '300' } }, m);
        const d = await pay(version, { paymentExpiryTime: isoNow(clock.now() + 5_000) }, m);
        const codes = [
          (
            await call(
              refund,
              refundBody(
                version,
                { paymentId: a.paymentId, refundAmount: { currency: 'USD', value: '1000' } },
                m,
              ),
              m,
            )
          ).body.result.resultCode,
          (
            await call(
              refund,
              refundBody(
                version,
                { paymentRequestId: a.paymentRequestId, refundAmount: { currency: 'USD', value: '500' } },
                m,
              ),
              m,
            )
          ).body.result.resultCode,
          (
            await call(
              refund,
              refundBody(
                version,
                { paymentId: a.paymentId, refundAmount: { currency: 'USD', value: '1001' } },
                m,
              ),
              m,
            )
          ).body.result.resultCode,
          (
            await call(
              refund,
              refundBody(
                version,
                { paymentId: b.paymentId, refundAmount: { currency: 'JPY', value: '1200' } },
                m,
              ),
              m,
            )
          ).body.result.resultCode,
          (await call(version === 'v1' ? P.cancel1 : P.cancel2, { paymentId: c.paymentId }, m)).body.result
            .resultCode,
          (await call(refund, refundBody(version, { paymentId: c.paymentId }, m), m)).body.result.resultCode,
        ];
        return { m, u, ids: [a, b, c, d].map((x) => x.paymentId), codes };
      };
      const one = await run('v1');
      const two = await run('v2');
      clock.advance(5_000);
      const { expireDuePayments } = await import('../services/expire-payment.ts');
      await expireDuePayments(wallet.ctx);

      const state = async (r: Awaited<ReturnType<typeof run>>) => ({
        codes: r.codes,
        user: (
          await wallet.ctx.store.db
            .selectFrom('accounts')
            .select(['currency', 'balance'])
            .where('owner_id', '=', r.u.id)
            .orderBy('currency')
            .execute()
        ).map((x) => [x.currency, BigInt(x.balance)]),
        merchant: (
          await wallet.ctx.store.db
            .selectFrom('accounts')
            .select(['currency', 'balance'])
            .where('owner_id', '=', r.m.merchant.id)
            .orderBy('currency')
            .execute()
        ).map((x) => [x.currency, BigInt(x.balance)]),
        payments: await Promise.all(
          r.ids.map(async (id) => {
            const row = await db()
              .selectFrom('payments')
              .select(['status', 'amount', 'refunded_amount', 'fail_reason'])
              .where('id', '=', id)
              .executeTakeFirstOrThrow();
            const entries = await db()
              .selectFrom('journal_entries as j')
              .leftJoin('refunds as r', 'r.id', 'j.reference_id')
              .innerJoin('postings as p', 'p.entry_id', 'j.id')
              .select(['j.kind', 'p.currency', 'p.amount'])
              .where((eb) => eb.or([eb('j.reference_id', '=', id), eb('r.payment_id', '=', id)]))
              .where('p.amount', '>', 0n)
              .orderBy('j.created_at')
              .orderBy('p.amount')
              .execute();
            const notes = await notificationsForPayment(db(), id);
            return {
              status: row.status,
              amount: BigInt(row.amount),
              refunded: BigInt(row.refunded_amount),
              failReason: row.fail_reason,
              entries: entries.map((e) => [e.kind, e.currency, BigInt(e.amount)]),
              notifications: notes.map((x) => [
                x.kind,
                x.seq,
                (JSON.parse(x.body) as { paymentStatus?: string }).paymentStatus,
              ]),
            };
          }),
        ),
      });
      const s1 = await state(one);
      expect(s1.codes).toEqual([
        'SUCCESS',
        'SUCCESS',
        'REFUND_AMOUNT_EXCEED',
        'SUCCESS',
        'SUCCESS',
        'ORDER_STATUS_INVALID',
      ]);
      expect(s1.user).toEqual([
        ['JPY', 5_000n],
        ['USD', 10_000n - 2_500n + 1_500n],
      ]);
      expect(s1.payments.map((p) => p.status)).toEqual(['SUCCESS', 'SUCCESS', 'CANCELLED', 'FAIL']);
      expect(await state(two)).toEqual(s1);
    });

    it('answers the signature layer the same on every new path, always signed', async () => {
      for (const path of Object.values(P)) {
        await call(path, '{}', shop, { clientId: 'NOSUCHCLIENT0000' }).then((r) =>
          expect(r.body.result.resultCode).toBe('CLIENT_INVALID'),
        );
        await call(path, '{}', shop, { keyVersion: 9 }).then((r) =>
          expect(r.body.result.resultCode).toBe('KEY_NOT_FOUND'),
        );
        await call(path, '{"a":1}', shop, { signBody: '{"a":2}' }).then((r) =>
          expect(r.body.result.resultCode).toBe('INVALID_SIGNATURE'),
        );
        await call(path, '{"a":1}', shop, { requestTime: isoNow(clock.now() - 3_600_000) }).then((r) =>
          expect(r.body.result.resultMessage).toMatch(/outside the window/),
        );
        await call(path, '[', shop).then((r) => expect(r.body.result.resultCode).toBe('PARAM_ILLEGAL'));
        const get = await fetch(wallet.url + path);
        const raw = await get.text();
        expect(get.status).toBe(200);
        expect((JSON.parse(raw) as SpecReply['body']).result.resultCode).toBe('METHOD_NOT_SUPPORTED');
        note(path, 'METHOD_NOT_SUPPORTED');
      }
      const unknown = await call('/api/open/v3/payments/refund', '{}');
      expect(unknown.body.result.resultCode).toBe('INVALID_API');
    });

    it('answers U / UNKNOWN_EXCEPTION with a trace id and no detail when the database fails, on every path', async () => {
      const real = wallet.ctx.store;
      const broken = new Error('disk on fire');
      wallet.ctx.store = {
        ...real,
        get db(): never {
          throw broken;
        },
        transaction: () => Promise.reject(broken),
      };
      try {
        for (const path of Object.values(P)) {
          const body = path.includes('/v1/') ? { partnerId: shop.merchant.partnerId } : {};
          const reply = await call(path, {
            ...body,
            ...payBody(path.includes('/v1/') ? 'v1' : 'v2'),
            refundRequestId: 'r',
            refundId: 'rfd_x',
            paymentId: 'pay_x',
            refundAmount: { currency: 'USD', value: '1' },
          });
          expect(reply.body.result).toMatchObject({ resultStatus: 'U', resultCode: 'UNKNOWN_EXCEPTION' });
          expect(reply.body.result.resultMessage).toMatch(/trace id [0-9a-f-]{36}/);
          expect(reply.raw).not.toContain('disk on fire');
        }
      } finally {
        wallet.ctx.store = real;
      }
    });

    it('keeps the refund window: 365 days after payment a refund is REFUND_WINDOW_EXCEED', async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const p = await paid('v2', user);
      clock.advance(REFUND_WINDOW_MS - 1);
      expect(
        (
          await call(
            P.refund2,
            refundBody('v2', { paymentId: p.paymentId, refundAmount: { currency: 'USD', value: '1' } }),
          )
        ).body.result.resultCode,
      ).toBe('SUCCESS');
      clock.advance(1);
      const before = await fingerprint();
      await expectRefusal(
        await call(P.refund2, refundBody('v2', { paymentId: p.paymentId })),
        'REFUND_WINDOW_EXCEED',
        /window closed at/,
        before,
      );
    });

    it('has produced, through these paths, every code the catalogue says each operation produces', () => {
      for (const name of PAYMENT_OPERATIONS) {
        const uses = OPERATION_CODES[name];
        const produced = Object.entries(uses)
          .filter(([, use]) => use?.produced)
          .map(([code]) => code)
          // Produced on every path by http/rate-limit.faults.test.ts (it needs a wallet with tiny limits).
          .filter((code) => code !== 'REQUEST_TRAFFIC_EXCEED_LIMIT')
          .sort();
        expect([...(observed.get(name) ?? [])].filter((c) => produced.includes(c)).sort(), name).toEqual(
          produced,
        );
      }
    });
  });
}
