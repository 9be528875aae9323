/**
 * The confirm use case on both databases: PIN attempts and lockout (fake clock), expiry (no debit after
 * it, FAIL notification owed), final orders, low balance: each refusal changes no money.
 */
import { FakeClock, MAX_PIN_ATTEMPTS, PIN_LOCK_MS } from '@billetera/domain';
import { balanceOf, checkLedger, findPaymentById, notificationsForPayment } from '@billetera/store';
import { merchantAccount, userAccount } from '@billetera/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import type { RunningWallet } from '../wallet.ts';
import { confirmPayment } from './confirm-payment.ts';
import { createPayment } from './create-payment.ts';
import { expireDuePayments } from './expire-payment.ts';

for (const backend of BACKENDS) {
  describe(`confirm payment on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let shop: TestMerchant;
    const clock = new FakeClock(Date.now());
    let n = 0;
    const newPayment = async (value = '1000', expiryMs?: number) => {
      const out = await createPayment(wallet.ctx, shop.merchant, {
        partnerId: shop.merchant.partnerId,
        paymentRequestId: `c-${++n}`,
        paymentOrderTitle: 'Coffee',
        paymentAmount: { currency: 'USD', value },
        ...(expiryMs !== undefined
          ? { paymentExpiryTime: new Date(clock.now() + expiryMs).toISOString() }
          : {}),
      });
      expect(out.reply.result.resultCode).toBe('ACCEPT');
      return out.reply.paymentId!;
    };
    const balance = (userId: string) => balanceOf(wallet.ctx.store.db, userAccount(userId, 'USD'));

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

    it('debits the user, credits the merchant, marks SUCCESS and owes one notification', async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const merchantBefore = await balanceOf(wallet.ctx.store.db, merchantAccount(shop.merchant.id, 'USD'));
      const id = await newPayment('1999');
      const out = await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: user.pin });
      expect(out.ok).toBe(true);
      expect(await balance(user.id)).toBe(3001n);
      expect(await balanceOf(wallet.ctx.store.db, merchantAccount(shop.merchant.id, 'USD'))).toBe(
        merchantBefore + 1999n,
      );
      expect(await findPaymentById(wallet.ctx.store.db, id)).toMatchObject({
        status: 'SUCCESS',
        userId: user.id,
        paidAt: clock.now(),
      });
      const notes = await notificationsForPayment(wallet.ctx.store.db, id);
      expect(notes.map((x) => [x.seq, x.status, JSON.parse(x.body).paymentStatus])).toEqual([
        [1, 'PENDING', 'SUCCESS'],
      ]);
    });

    it('counts wrong PINs down, locks for 15 minutes after 5, and unlocks after', async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const id = await newPayment('100', 3 * 3600_000);
      for (let left = MAX_PIN_ATTEMPTS - 1; left >= 1; left--) {
        const out = await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: '000000' });
        expect(out).toMatchObject({ ok: false, code: 'INVALID_PIN', attemptsLeft: left });
        if (!out.ok)
          expect(out.result.resultMessage).toBe(
            `Wrong PIN, ${left} ${left === 1 ? 'attempt' : 'attempts'} left`,
          );
      }
      expect(
        await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: '000000' }),
      ).toMatchObject({ code: 'PIN_LOCKED' });
      // Locked: even the right PIN is refused, and nothing moves.
      expect(
        await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: user.pin }),
      ).toMatchObject({ code: 'PIN_LOCKED' });
      expect(await balance(user.id)).toBe(5_000n);
      clock.advance(PIN_LOCK_MS - 1);
      expect(
        await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: user.pin }),
      ).toMatchObject({ code: 'PIN_LOCKED' });
      clock.advance(1);
      expect(
        await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: user.pin }),
      ).toMatchObject({ ok: true });
      expect(await balance(user.id)).toBe(4_900n);
    });

    it('a right PIN resets the count of wrong ones', async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      for (let i = 0; i < MAX_PIN_ATTEMPTS - 1; i++)
        await confirmPayment(wallet.ctx, { paymentId: await newPayment(), phone: user.phone, pin: '999999' });
      expect(
        await confirmPayment(wallet.ctx, { paymentId: await newPayment(), phone: user.phone, pin: user.pin }),
      ).toMatchObject({ ok: true });
      expect(
        await confirmPayment(wallet.ctx, { paymentId: await newPayment(), phone: user.phone, pin: '999999' }),
      ).toMatchObject({ attemptsLeft: MAX_PIN_ATTEMPTS - 1 });
    });

    it('a right PIN counts as right even when the payment itself is refused (balance too low)', async () => {
      // The PIN attempt and the payment share one transaction; a refused payment rolls back only its part.
      const user = await addUser(wallet.ctx, { USD: 50n });
      for (let i = 0; i < MAX_PIN_ATTEMPTS - 1; i++)
        await confirmPayment(wallet.ctx, { paymentId: await newPayment(), phone: user.phone, pin: '999999' });
      const poor = await newPayment('100');
      expect(
        await confirmPayment(wallet.ctx, { paymentId: poor, phone: user.phone, pin: user.pin }),
      ).toMatchObject({ ok: false, code: 'USER_BALANCE_NOT_ENOUGH' });
      expect(await findPaymentById(wallet.ctx.store.db, poor)).toMatchObject({ status: 'PROCESSING' });
      expect(await balance(user.id)).toBe(50n);
      expect(
        await confirmPayment(wallet.ctx, { paymentId: await newPayment(), phone: user.phone, pin: '999999' }),
      ).toMatchObject({ attemptsLeft: MAX_PIN_ATTEMPTS - 1 });
    });

    it('refuses an expired order without debiting, fails it and owes a FAIL notification', async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const id = await newPayment('100', 60_000);
      clock.advance(60_000); // exactly at the expiry time: no longer payable
      const out = await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: user.pin });
      expect(out).toMatchObject({ ok: false, code: 'ORDER_EXPIRED' });
      expect(await balance(user.id)).toBe(5_000n);
      expect(await findPaymentById(wallet.ctx.store.db, id)).toMatchObject({
        status: 'FAIL',
        failReason: 'ORDER_EXPIRED',
      });
      const notes = await notificationsForPayment(wallet.ctx.store.db, id);
      expect(notes.map((x) => JSON.parse(x.body))).toMatchObject([
        { paymentStatus: 'FAIL', paymentFailReason: 'ORDER_EXPIRED' },
      ]);
      // And later attempts keep saying so, without a second notification.
      expect(
        await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: user.pin }),
      ).toMatchObject({ code: 'ORDER_EXPIRED' });
      expect(await notificationsForPayment(wallet.ctx.store.db, id)).toHaveLength(1);
    });

    it('the sweeper expires unpaid orders on time and exactly once', async () => {
      const id = await newPayment('100', 30_000);
      clock.advance(29_999);
      await expireDuePayments(wallet.ctx);
      expect((await findPaymentById(wallet.ctx.store.db, id))?.status).toBe('PROCESSING');
      clock.advance(1);
      expect(await expireDuePayments(wallet.ctx)).toBeGreaterThanOrEqual(1);
      expect(await expireDuePayments(wallet.ctx)).toBe(0);
      expect((await findPaymentById(wallet.ctx.store.db, id))?.status).toBe('FAIL');
      expect(await notificationsForPayment(wallet.ctx.store.db, id)).toHaveLength(1);
    });

    it('refuses a balance that is too low and leaves the order payable', async () => {
      const user = await addUser(wallet.ctx, { USD: 999n });
      const id = await newPayment('1000');
      const out = await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: user.pin });
      expect(out).toMatchObject({ ok: false, code: 'USER_BALANCE_NOT_ENOUGH' });
      if (!out.ok) expect(out.result.resultMessage).toBe('Your balance is too low to pay 10.00 USD');
      expect(await balance(user.id)).toBe(999n);
      expect((await findPaymentById(wallet.ctx.store.db, id))?.status).toBe('PROCESSING');
      expect(await notificationsForPayment(wallet.ctx.store.db, id)).toHaveLength(0);
      const rich = await addUser(wallet.ctx, { USD: 1_000n });
      expect(
        await confirmPayment(wallet.ctx, { paymentId: id, phone: rich.phone, pin: rich.pin }),
      ).toMatchObject({ ok: true });
    });

    it('refuses a user without money in that currency, an unknown user and an unknown order', async () => {
      const yen = await addUser(wallet.ctx, { JPY: 100_000n });
      expect(
        await confirmPayment(wallet.ctx, { paymentId: await newPayment(), phone: yen.phone, pin: yen.pin }),
      ).toMatchObject({ code: 'USER_BALANCE_NOT_ENOUGH' });
      expect(
        await confirmPayment(wallet.ctx, {
          paymentId: await newPayment(),
          phone: '+19999999999',
          pin: '123456',
        }),
      ).toMatchObject({ code: 'USER_NOT_EXIST' });
      expect(
        await confirmPayment(wallet.ctx, { paymentId: 'pay_nope', phone: yen.phone, pin: yen.pin }),
      ).toMatchObject({ code: 'ORDER_NOT_EXIST' });
    });

    it('refuses an order that is already paid, without spending a PIN attempt', async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const id = await newPayment();
      expect((await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: user.pin })).ok).toBe(
        true,
      );
      const again = await confirmPayment(wallet.ctx, { paymentId: id, phone: user.phone, pin: '000000' });
      expect(again).toMatchObject({ code: 'ORDER_STATUS_INVALID' });
      if (!again.ok) expect(again.result.resultMessage).toBe('This order has already been paid');
      expect(
        await confirmPayment(wallet.ctx, { paymentId: await newPayment(), phone: user.phone, pin: '000000' }),
      ).toMatchObject({ attemptsLeft: MAX_PIN_ATTEMPTS - 1 });
    });
  });
}
