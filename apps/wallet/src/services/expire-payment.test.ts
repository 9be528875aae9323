/**
 * Order expiry, on both databases. With a fake clock: the default and the given expiry time, the sweeper
 * failing an unpaid order exactly at its time (not a millisecond early) and owing one FAIL notification,
 * no debit after it, and a confirm that raced the expiry (the sweeper committed between the confirm's PIN
 * check and its payment transaction). In real time: an order with a 3-second expiry is notified FAIL
 * within 5 seconds after its time (the only timed assertion, as the issue asks).
 */
import { DEFAULT_EXPIRY_MS, FakeClock, ORDER_EXPIRED_REASON, userAccount } from '@billetera/domain';
import { formatWireTime } from '@billetera/protocol';
import {
  balanceOf,
  checkLedger,
  findPaymentById,
  notificationsForPayment,
  type Store,
} from '@billetera/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { isoNow, specCall, startNotifyReceiver } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import type { WalletContext } from '../context.ts';
import type { RunningWallet } from '../wallet.ts';
import { confirmPayment } from './confirm-payment.ts';
import { createPayment } from './create-payment.ts';
import { expireDuePayments } from './expire-payment.ts';

for (const backend of BACKENDS) {
  describe(`order expiry with a fake clock on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let shop: TestMerchant;
    const clock = new FakeClock(Date.now());
    let n = 0;
    const order = async (expiryMs?: number) => {
      const out = await createPayment(wallet.ctx, shop.merchant, {
        partnerId: shop.merchant.partnerId,
        paymentRequestId: `exp-${++n}`,
        paymentOrderTitle: 'Ticket',
        paymentAmount: { currency: 'USD', value: '500' },
        ...(expiryMs === undefined ? {} : { paymentExpiryTime: formatWireTime(clock.now() + expiryMs) }),
      });
      expect(out.reply.result.resultCode).toBe('ACCEPT');
      const id = out.reply.paymentId!;
      // The reply's paymentExpiryTime is in whole seconds; the stored time is exact.
      const stored = await findPaymentById(wallet.ctx.store.db, id);
      expect(formatWireTime(stored!.expiresAt)).toBe(out.reply.paymentExpiryTime);
      return { id, expiresAt: stored!.expiresAt };
    };

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env, { clock, workers: false });
      shop = await addMerchant(wallet.ctx, { notifyUrl: 'http://127.0.0.1:9/notify' });
    });
    afterAll(async () => {
      expect(await checkLedger(wallet.ctx.store.db)).toEqual([]);
      await wallet?.close();
      await env?.cleanup();
    });

    it('fails an unpaid order exactly at its expiry time, notifies FAIL once, and never debits after it', async () => {
      const fallback = await order();
      expect(fallback.expiresAt).toBe(clock.now() + DEFAULT_EXPIRY_MS);
      const { id, expiresAt } = await order(10 * 60_000);
      const user = await addUser(wallet.ctx, { USD: 1_000n });

      clock.set(expiresAt - 1);
      await expireDuePayments(wallet.ctx);
      expect((await findPaymentById(wallet.ctx.store.db, id))?.status).toBe('PROCESSING');
      clock.set(expiresAt);
      expect(await expireDuePayments(wallet.ctx)).toBeGreaterThanOrEqual(1);
      expect(await findPaymentById(wallet.ctx.store.db, id)).toMatchObject({
        status: 'FAIL',
        failReason: ORDER_EXPIRED_REASON,
        paidAt: null,
      });
      expect(await expireDuePayments(wallet.ctx)).toBe(0);

      const notes = await notificationsForPayment(wallet.ctx.store.db, id);
      expect(notes.map((x) => [x.kind, x.seq, x.status])).toEqual([['PAYMENT', 1, 'PENDING']]);
      expect(JSON.parse(notes[0]!.body)).toMatchObject({
        paymentId: id,
        paymentStatus: 'FAIL',
        paymentFailReason: 'ORDER_EXPIRED',
        notificationId: notes[0]!.id,
        sequence: 1,
      });

      const late = await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: user.pin });
      expect(late).toMatchObject({ ok: false, code: 'ORDER_EXPIRED' });
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(1_000n);
      expect(await notificationsForPayment(wallet.ctx.store.db, id)).toHaveLength(1);
    });

    /** The ctx, with `before` run just before the confirm's second transaction (its payment transaction). */
    const racing = (before: () => Promise<void>): WalletContext => {
      const real: Store = wallet.ctx.store;
      let calls = 0;
      const store: Store = {
        ...real,
        db: real.db,
        transaction: async (fn) => {
          // The confirm's one transaction (PIN check + payment) starts after its early read of the order.
          if (++calls === 1) await before();
          return real.transaction(fn);
        },
      };
      return { ...wallet.ctx, store };
    };

    it('never debits a confirm that raced the expiry: the sweeper committed between its first read and its transaction', async () => {
      const { id, expiresAt } = await order(60_000);
      const user = await addUser(wallet.ctx, { USD: 1_000n });
      clock.set(expiresAt - 1); // the confirm starts in time...
      const ctx = racing(async () => {
        clock.set(expiresAt); // ...and the order expires under it
        expect(await expireDuePayments(wallet.ctx)).toBe(1);
      });
      const out = await confirmPayment(ctx, { paymentId: id, phone: user.phone, pin: user.pin });
      expect(out).toMatchObject({ ok: false, code: 'ORDER_EXPIRED' });
      expect(await findPaymentById(wallet.ctx.store.db, id)).toMatchObject({ status: 'FAIL', userId: null });
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(1_000n);
      const entries = await wallet.ctx.store.db
        .selectFrom('journal_entries')
        .select('id')
        .where('reference_id', '=', id)
        .execute();
      expect(entries).toEqual([]);
      expect(await notificationsForPayment(wallet.ctx.store.db, id)).toHaveLength(1);
    });

    it('fails the order itself when the confirm reaches its transaction at the expiry time, before the sweeper', async () => {
      const { id, expiresAt } = await order(60_000);
      const user = await addUser(wallet.ctx, { USD: 1_000n });
      clock.set(expiresAt - 1);
      const ctx = racing(async () => clock.set(expiresAt));
      const out = await confirmPayment(ctx, { paymentId: id, phone: user.phone, pin: user.pin });
      expect(out).toMatchObject({ ok: false, code: 'ORDER_EXPIRED' });
      expect((await findPaymentById(wallet.ctx.store.db, id))?.status).toBe('FAIL');
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(1_000n);
      const notes = await notificationsForPayment(wallet.ctx.store.db, id);
      expect(notes.map((x) => (JSON.parse(x.body) as { paymentStatus: string }).paymentStatus)).toEqual([
        'FAIL',
      ]);
      expect(await expireDuePayments(wallet.ctx)).toBe(0);
    });
  });
}

describe('order expiry in real time', () => {
  it('notifies FAIL for an order with a 3-second expiry within 5 seconds after its time, on both databases', async () => {
    const EXPIRY_MS = 3_000;
    const WITHIN_MS = 5_000;
    await Promise.all(
      BACKENDS.map(async (backend) => {
        const env = await backend.create();
        const receiver = await startNotifyReceiver();
        const wallet = await startTestWallet(env);
        try {
          const { merchant, keys } = await addMerchant(wallet.ctx, { notifyUrl: receiver.url });
          const expiresAt = Date.now() + EXPIRY_MS;
          const reply = await specCall(
            wallet.url,
            '/api/open/v1/payments/pay',
            JSON.stringify({
              partnerId: merchant.partnerId,
              paymentRequestId: 'three-seconds',
              paymentOrderTitle: 'Flash sale',
              paymentAmount: { currency: 'USD', value: '100' },
              paymentExpiryTime: isoNow(expiresAt),
            }),
            { clientId: merchant.clientId, privateKey: keys.privateKey },
          );
          expect(reply.body.result.resultCode).toBe('ACCEPT');
          await receiver.waitFor(1, EXPIRY_MS + WITHIN_MS + 2_000);
          const got = receiver.received[0]!;
          expect(JSON.parse(got.rawBody)).toMatchObject({
            paymentId: reply.body['paymentId'],
            paymentStatus: 'FAIL',
            paymentFailReason: 'ORDER_EXPIRED',
          });
          expect(got.at, `${backend.name}: not before its time`).toBeGreaterThanOrEqual(expiresAt);
          expect(got.at - expiresAt, `${backend.name}: within 5 s after its time`).toBeLessThanOrEqual(
            WITHIN_MS,
          );
        } finally {
          await wallet.close();
          await receiver.close();
          await env.cleanup();
        }
      }),
    );
  }, 20_000);
});
