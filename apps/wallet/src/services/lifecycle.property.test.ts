/**
 * Property test of the whole payment lifecycle on both databases (fast-check prints the seed of a
 * failing run; rerun with it to reproduce): any sequence of pay, confirm, cancel, refund (new or
 * repeated), expire (the clock moves and the sweeper runs) and merchant payout leaves the ledger
 * balanced (checkLedger: entries sum to zero, balances equal their postings, none negative), refunds
 * never above payments, every outcome the one an in-memory model predicts, and every balance equal to
 * the model's.
 */
import { FakeClock, fundingAccount, merchantAccount, transfer, userAccount } from '@billetera/domain';
import {
  InsufficientFundsError,
  balanceOf,
  checkLedger,
  findPaymentById,
  postEntry,
  refundsForPayment,
} from '@billetera/store';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { addMerchant, addUser, startTestWallet } from '../../../../test/wallet-harness.ts';
import type { RunningWallet } from '../wallet.ts';
import { cancelPayment } from './cancel-payment.ts';
import { confirmPayment } from './confirm-payment.ts';
import { createPayment, createPaymentV2 } from './create-payment.ts';
import { expireDuePayments } from './expire-payment.ts';
import { refundPayment } from './refund-payment.ts';

const CURRENCIES = ['USD', 'JPY'] as const;
type Currency = (typeof CURRENCIES)[number];

/** Weighted so that most sequences pay, confirm and refund (refusals of every kind still come up). */
const op = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('pay' as const),
      v2: fc.boolean(),
      currency: fc.constantFrom(...CURRENCIES),
      amount: fc.integer({ min: 1, max: 1_000 }),
      expiryMin: fc.integer({ min: 1, max: 30 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant('confirm' as const), payment: fc.nat(), user: fc.nat() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cancel' as const), payment: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('refund' as const),
      v2: fc.boolean(),
      /** Mostly a paid payment (when there is one); otherwise any. */
      paidOnly: fc.integer({ min: 0, max: 3 }).map((x) => x > 0),
      payment: fc.nat(),
      amount: fc.integer({ min: 1, max: 600 }),
      otherCurrency: fc.integer({ min: 0, max: 9 }).map((x) => x === 0),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('repeatRefund' as const), refund: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('expire' as const), minutes: fc.integer({ min: 0, max: 40 }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('payout' as const),
      currency: fc.constantFrom(...CURRENCIES),
      /** Percent of the merchant's balance: above 100 is refused (and below it, refunds may be). */
      percent: fc.integer({ min: 50, max: 120 }),
    }),
  },
);

interface ModelPayment {
  id: string;
  status: 'PROCESSING' | 'SUCCESS' | 'FAIL' | 'CANCELLED';
  currency: Currency;
  amount: bigint;
  refunded: bigint;
  expiresAt: number;
  payer: number | undefined;
}

for (const backend of BACKENDS) {
  describe(`lifecycle properties on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    const clock = new FakeClock(Date.now());
    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env, { clock, workers: false });
    });
    afterAll(async () => {
      await wallet?.close();
      await env?.cleanup();
    });

    it('keeps the ledger balanced, balances non-negative, refunds within payments, outcomes as modelled', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 5, maxLength: 30 }), async (ops) => {
          run++;
          const ctx = wallet.ctx;
          const db = ctx.store.db;
          const { merchant } = await addMerchant(ctx, { name: `Prop ${run}` });
          const users = [
            await addUser(ctx, { USD: 3_000n, JPY: 2_000n }),
            await addUser(ctx, { USD: 500n, JPY: 100n }),
          ];
          const userBal = users.map(() => new Map<Currency, bigint>());
          userBal[0]!.set('USD', 3_000n).set('JPY', 2_000n);
          userBal[1]!.set('USD', 500n).set('JPY', 100n);
          const merchantBal = new Map<Currency, bigint>(CURRENCIES.map((c) => [c, 0n]));
          const payments: ModelPayment[] = [];
          const refunds: { body: Parameters<typeof refundPayment>[2]; refundId: string | undefined }[] = [];
          const expireDue = () => {
            for (const p of payments)
              if (p.status === 'PROCESSING' && clock.now() >= p.expiresAt) p.status = 'FAIL';
          };
          /** What a refund of `amount` in `currency` of `p` should answer now (and its effect on the model). */
          const expectRefund = (p: ModelPayment, currency: string, amount: bigint): string => {
            if (p.status !== 'SUCCESS') return 'ORDER_STATUS_INVALID';
            if (currency !== p.currency) return 'CURRENCY_NOT_SUPPORT';
            if (p.refunded + amount > p.amount) return 'REFUND_AMOUNT_EXCEED';
            if ((merchantBal.get(p.currency) ?? 0n) < amount) return 'PARTNER_BALANCE_NOT_ENOUGH';
            p.refunded += amount;
            merchantBal.set(p.currency, (merchantBal.get(p.currency) ?? 0n) - amount);
            const bal = userBal[p.payer!]!;
            bal.set(p.currency, (bal.get(p.currency) ?? 0n) + amount);
            return 'SUCCESS';
          };

          for (const [k, o] of ops.entries()) {
            clock.advance(1_000);
            switch (o.kind) {
              case 'pay': {
                const common = {
                  paymentRequestId: `p${run}-${k}`,
                  paymentAmount: { currency: o.currency, value: String(o.amount) },
                  paymentExpiryTime: new Date(clock.now() + o.expiryMin * 60_000).toISOString(),
                };
                const out = o.v2
                  ? await createPaymentV2(ctx, merchant, { ...common, order: { orderDescription: 'Item' } })
                  : await createPayment(ctx, merchant, {
                      ...common,
                      partnerId: merchant.partnerId,
                      paymentOrderTitle: 'Item',
                    });
                expect(out.reply.result.resultCode).toBe('ACCEPT');
                payments.push({
                  id: out.reply.paymentId!,
                  status: 'PROCESSING',
                  currency: o.currency,
                  amount: BigInt(o.amount),
                  refunded: 0n,
                  expiresAt: clock.now() + o.expiryMin * 60_000,
                  payer: undefined,
                });
                break;
              }
              case 'confirm': {
                const p = payments[o.payment % Math.max(1, payments.length)];
                if (!p) break;
                const u = o.user % users.length;
                const out = await confirmPayment(ctx, {
                  paymentId: p.id,
                  phone: users[u]!.phone,
                  pin: users[u]!.pin,
                });
                let expected: string;
                if (p.status === 'PROCESSING' && clock.now() >= p.expiresAt) {
                  p.status = 'FAIL';
                  expected = 'ORDER_EXPIRED';
                } else if (p.status === 'FAIL' && clock.now() >= p.expiresAt) expected = 'ORDER_EXPIRED';
                else if (p.status !== 'PROCESSING') expected = 'ORDER_STATUS_INVALID';
                else if ((userBal[u]!.get(p.currency) ?? 0n) < p.amount) expected = 'USER_BALANCE_NOT_ENOUGH';
                else {
                  expected = 'SUCCESS';
                  p.status = 'SUCCESS';
                  p.payer = u;
                  userBal[u]!.set(p.currency, (userBal[u]!.get(p.currency) ?? 0n) - p.amount);
                  merchantBal.set(p.currency, (merchantBal.get(p.currency) ?? 0n) + p.amount);
                }
                expect(out.ok ? 'SUCCESS' : out.code).toBe(expected);
                break;
              }
              case 'cancel': {
                const p = payments[o.payment % Math.max(1, payments.length)];
                if (!p) break;
                const out = await cancelPayment(ctx, merchant, { paymentId: p.id });
                let expected = 'ORDER_STATUS_INVALID';
                if (p.status === 'CANCELLED') expected = 'SUCCESS';
                else if (p.status === 'PROCESSING' && clock.now() >= p.expiresAt) p.status = 'FAIL';
                else if (p.status === 'PROCESSING') {
                  p.status = 'CANCELLED';
                  expected = 'SUCCESS';
                }
                expect(out.reply.result.resultCode).toBe(expected);
                break;
              }
              case 'refund': {
                const paid = payments.filter((x) => x.status === 'SUCCESS');
                const pool = o.paidOnly && paid.length > 0 ? paid : payments;
                const p = pool[o.payment % Math.max(1, pool.length)];
                if (!p) break;
                const currency = o.otherCurrency ? (p.currency === 'USD' ? 'JPY' : 'USD') : p.currency;
                const body = {
                  apiVersion: o.v2 ? ('v2' as const) : ('v1' as const),
                  ...(o.v2 ? {} : { partnerId: merchant.partnerId }),
                  refundRequestId: `r${run}-${k}`,
                  paymentId: p.id,
                  refundAmount: { currency, value: String(o.amount) },
                };
                const out = await refundPayment(ctx, merchant, body);
                expect(out.reply.result.resultCode).toBe(expectRefund(p, currency, BigInt(o.amount)));
                refunds.push({ body, refundId: out.reply.refundId });
                break;
              }
              case 'repeatRefund': {
                const r = refunds[o.refund % Math.max(1, refunds.length)];
                if (!r) break;
                const out = await refundPayment(ctx, merchant, r.body);
                if (r.refundId !== undefined) {
                  // A settled refund is replayed: same refund, nothing moves.
                  expect([out.reply.result.resultCode, out.reply.refundId, out.replayed]).toEqual([
                    'SUCCESS',
                    r.refundId,
                    true,
                  ]);
                } else {
                  // A refused one stored nothing: it is decided afresh.
                  const p = payments.find((x) => x.id === r.body.paymentId)!;
                  const code = expectRefund(
                    p,
                    r.body.refundAmount.currency,
                    BigInt(r.body.refundAmount.value),
                  );
                  expect(out.reply.result.resultCode).toBe(code);
                  r.refundId = out.reply.refundId;
                }
                break;
              }
              case 'expire': {
                clock.advance(o.minutes * 60_000);
                await expireDuePayments(ctx);
                expireDue();
                break;
              }
              case 'payout': {
                const have = merchantBal.get(o.currency) ?? 0n;
                const amount = have === 0n ? 1n : (have * BigInt(o.percent) + 99n) / 100n;
                try {
                  await ctx.store.transaction((tx) =>
                    postEntry(
                      tx,
                      transfer(
                        'PAYOUT',
                        `payout-${run}-${k}`,
                        merchantAccount(merchant.id, o.currency),
                        fundingAccount(o.currency),
                        amount,
                      ),
                      ctx.ids,
                      clock.now(),
                    ),
                  );
                  expect(have >= amount).toBe(true);
                  merchantBal.set(o.currency, have - amount);
                } catch (err) {
                  expect(err).toBeInstanceOf(InsufficientFundsError);
                  expect(have < amount).toBe(true);
                }
                break;
              }
            }
          }

          expect(await checkLedger(db)).toEqual([]);
          for (const p of payments) {
            const stored = (await findPaymentById(db, p.id))!;
            expect([stored.status, stored.refundedAmount]).toEqual([p.status, p.refunded]);
            expect(stored.refundedAmount).toBeLessThanOrEqual(stored.amount);
            const rows = await refundsForPayment(db, p.id);
            expect(rows.reduce((s, r) => s + r.amount, 0n)).toBe(stored.refundedAmount);
            const paymentEntries = await db
              .selectFrom('journal_entries')
              .select('kind')
              .where('reference_id', '=', p.id)
              .execute();
            expect(paymentEntries.map((e) => e.kind)).toEqual(p.status === 'SUCCESS' ? ['PAYMENT'] : []);
          }
          for (const c of CURRENCIES) {
            expect(await balanceOf(db, merchantAccount(merchant.id, c))).toBe(merchantBal.get(c));
            for (const [i, u] of users.entries())
              expect(await balanceOf(db, userAccount(u.id, c))).toBe(userBal[i]!.get(c));
          }
        }),
        { numRuns: 30 },
      );
    }, 60_000);
  });
}
