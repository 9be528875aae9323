/**
 * Refunds and cancels racing each other, on both databases (PostgreSQL: a pool of connections, so the
 * transactions really overlap): refunds never exceed the paid amount, duplicates of one refundRequestId
 * create one refund, and a cancel racing a confirm leaves either a paid order or a cancelled one, never
 * both and never a debit without the status.
 */
import { merchantAccount, userAccount } from '@billetera/domain';
import { balanceOf, checkLedger, findPaymentById, refundsForPayment } from '@billetera/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import type { RunningWallet } from '../wallet.ts';
import { cancelPayment } from './cancel-payment.ts';
import { confirmPayment } from './confirm-payment.ts';
import { createPaymentV2 } from './create-payment.ts';
import { refundPayment } from './refund-payment.ts';

for (const backend of BACKENDS) {
  describe(`concurrent refunds and cancels on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let shop: TestMerchant;
    let n = 0;
    const order = async (value: string) => {
      const out = await createPaymentV2(wallet.ctx, shop.merchant, {
        paymentRequestId: `race-${++n}`,
        paymentAmount: { currency: 'USD', value },
        order: { orderDescription: 'Race' },
      });
      return out.reply.paymentId!;
    };
    const paidOrder = async (value: string, user: { phone: string; pin: string }) => {
      const id = await order(value);
      expect((await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: user.pin })).ok).toBe(
        true,
      );
      return id;
    };
    const refund = (paymentId: string, value: string, refundRequestId = `rr-${++n}`) =>
      refundPayment(wallet.ctx, shop.merchant, {
        apiVersion: 'v2',
        refundRequestId,
        paymentId,
        refundAmount: { currency: 'USD', value },
      });
    const refundEntries = async (paymentId: string) =>
      (await refundsForPayment(wallet.ctx.store.db, paymentId)).length;

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env, { workers: false });
      shop = await addMerchant(wallet.ctx);
    });
    afterAll(async () => {
      expect(await checkLedger(wallet.ctx.store.db)).toEqual([]);
      await wallet?.close();
      await env?.cleanup();
    });

    it('12 parallel refunds of 300 against a payment of 1000: exactly 3 succeed, the total never exceeds it', async () => {
      const user = await addUser(wallet.ctx, { USD: 1_000n });
      const id = await paidOrder('1000', user);
      const outcomes = await Promise.all(Array.from({ length: 12 }, () => refund(id, '300')));
      const codes = outcomes.map((o) => o.reply.result.resultCode);
      expect(codes.filter((c) => c === 'SUCCESS')).toHaveLength(3);
      expect(codes.filter((c) => c !== 'SUCCESS')).toEqual(Array(9).fill('REFUND_AMOUNT_EXCEED'));
      expect((await findPaymentById(wallet.ctx.store.db, id))?.refundedAmount).toBe(900n);
      expect(await refundEntries(id)).toBe(3);
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(900n);
    });

    it('parallel refunds of different sizes: the successes add up to at most the payment, and exactly to what moved', async () => {
      const user = await addUser(wallet.ctx, { USD: 2_000n });
      const id = await paidOrder('2000', user);
      const amounts = [700, 600, 500, 400, 300, 200, 100, 50, 25, 1];
      const outcomes = await Promise.all(amounts.map((a) => refund(id, String(a))));
      const refunded = outcomes
        .map((o, i) => (o.reply.result.resultCode === 'SUCCESS' ? BigInt(amounts[i]!) : 0n))
        .reduce((s, x) => s + x, 0n);
      expect(refunded).toBeLessThanOrEqual(2_000n);
      expect(
        outcomes.every((o) => ['SUCCESS', 'REFUND_AMOUNT_EXCEED'].includes(o.reply.result.resultCode)),
      ).toBe(true);
      expect((await findPaymentById(wallet.ctx.store.db, id))?.refundedAmount).toBe(refunded);
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(refunded);
    });

    it('10 parallel duplicates of one refundRequestId create one refund and all get its reply', async () => {
      const user = await addUser(wallet.ctx, { USD: 1_000n });
      const merchantBefore = await balanceOf(wallet.ctx.store.db, merchantAccount(shop.merchant.id, 'USD'));
      const id = await paidOrder('800', user);
      const outcomes = await Promise.all(Array.from({ length: 10 }, () => refund(id, '250', `dup-${id}`)));
      expect(outcomes.map((o) => o.reply.result.resultCode)).toEqual(Array(10).fill('SUCCESS'));
      expect(new Set(outcomes.map((o) => o.reply.refundId)).size).toBe(1);
      expect(outcomes.filter((o) => !o.replayed)).toHaveLength(1);
      expect(await refundEntries(id)).toBe(1);
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(450n);
      expect(await balanceOf(wallet.ctx.store.db, merchantAccount(shop.merchant.id, 'USD'))).toBe(
        merchantBefore + 550n,
      );
    });

    it('a cancel racing a confirm: each order ends paid (debited once) or cancelled (not debited), never both', async () => {
      const user = await addUser(wallet.ctx, { USD: 10_000n });
      const ids = await Promise.all(Array.from({ length: 8 }, () => order('100')));
      const results = await Promise.all(
        ids.map((paymentId) =>
          Promise.all([
            confirmPayment(wallet.ctx, { paymentId, phone: user.phone, pin: user.pin }),
            cancelPayment(wallet.ctx, shop.merchant, { paymentId }),
          ]),
        ),
      );
      let paid = 0;
      for (const [i, [confirmed, cancelled]] of results.entries()) {
        const p = await findPaymentById(wallet.ctx.store.db, ids[i]!);
        const debits = await wallet.ctx.store.db
          .selectFrom('journal_entries')
          .select('id')
          .where('reference_id', '=', ids[i]!)
          .execute();
        if (p?.status === 'SUCCESS') {
          paid++;
          expect(confirmed.ok).toBe(true);
          expect(cancelled.reply.result.resultCode).toBe('ORDER_STATUS_INVALID');
          expect(debits).toHaveLength(1);
        } else {
          expect(p?.status).toBe('CANCELLED');
          expect(confirmed).toMatchObject({ ok: false, code: 'ORDER_STATUS_INVALID' });
          expect(cancelled.reply.result.resultCode).toBe('SUCCESS');
          expect(debits).toHaveLength(0);
        }
      }
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(
        10_000n - BigInt(paid) * 100n,
      );
    });
  });
}
