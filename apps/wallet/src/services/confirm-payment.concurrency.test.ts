/**
 * Many confirms at once against one user balance, on both databases, in one process (PostgreSQL: a
 * pool of connections) and across processes (the CLI's `sandbox pay`, as several testers or servers
 * would): never an overdraft, never two debits for one order.
 */
import { checkLedger, balanceOf, findPaymentById } from '@billetera/store';
import { userAccount, merchantAccount } from '@billetera/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import {
  addMerchant,
  addUser,
  runCli,
  startTestWallet,
  type TestMerchant,
} from '../../../../test/wallet-harness.ts';
import type { RunningWallet } from '../wallet.ts';
import { confirmPayment } from './confirm-payment.ts';
import { createPayment } from './create-payment.ts';

for (const backend of BACKENDS) {
  describe(`concurrent confirms on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let shop: TestMerchant;
    let n = 0;
    const newPayment = async (value: string) => {
      const out = await createPayment(wallet.ctx, shop.merchant, {
        partnerId: shop.merchant.partnerId,
        paymentRequestId: `k-${++n}`,
        paymentOrderTitle: 'Ticket',
        paymentAmount: { currency: 'USD', value },
      });
      return out.reply.paymentId!;
    };
    const debitsFor = async (paymentId: string) =>
      (
        await wallet.ctx.store.db
          .selectFrom('journal_entries')
          .select('id')
          .where('reference_id', '=', paymentId)
          .execute()
      ).length;

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

    it('25 parallel confirms against a balance for 10: exactly 10 succeed and the balance ends at zero', async () => {
      const user = await addUser(wallet.ctx, { USD: 10_000n });
      const ids = await Promise.all(Array.from({ length: 25 }, () => newPayment('1000')));
      const merchantBefore = await balanceOf(wallet.ctx.store.db, merchantAccount(shop.merchant.id, 'USD'));
      const outcomes = await Promise.all(
        ids.map((paymentId) => confirmPayment(wallet.ctx, { paymentId, phone: user.phone, pin: user.pin })),
      );
      expect(outcomes.filter((o) => o.ok)).toHaveLength(10);
      expect(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.code)).toEqual(
        Array(15).fill('USER_BALANCE_NOT_ENOUGH'),
      );
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(0n);
      expect(await balanceOf(wallet.ctx.store.db, merchantAccount(shop.merchant.id, 'USD'))).toBe(
        merchantBefore + 10_000n,
      );
      for (const id of ids) {
        const paid = (await findPaymentById(wallet.ctx.store.db, id))?.status === 'SUCCESS';
        expect(await debitsFor(id)).toBe(paid ? 1 : 0);
      }
    });

    it('12 parallel confirms of one order by four users: one debit, the others told it is already paid', async () => {
      const users = await Promise.all(Array.from({ length: 4 }, () => addUser(wallet.ctx, { USD: 5_000n })));
      const id = await newPayment('700');
      const outcomes = await Promise.all(
        Array.from({ length: 12 }, (_, i) => users[i % 4]!).map((u) =>
          confirmPayment(wallet.ctx, { paymentId: id, phone: u.phone, pin: u.pin }),
        ),
      );
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok).every((o) => !o.ok && o.code === 'ORDER_STATUS_INVALID')).toBe(
        true,
      );
      expect(await debitsFor(id)).toBe(1);
      const balances = await Promise.all(
        users.map((u) => balanceOf(wallet.ctx.store.db, userAccount(u.id, 'USD'))),
      );
      expect(balances.sort()).toEqual([4_300n, 5_000n, 5_000n, 5_000n]);
    });

    it('separate processes: 6 confirms against a balance for 3, and 4 confirms of one order', async () => {
      const user = await addUser(wallet.ctx, { USD: 3_000n });
      const ids = await Promise.all(Array.from({ length: 6 }, () => newPayment('1000')));
      const same = await newPayment('500');
      const other = await addUser(wallet.ctx, { USD: 5_000n });
      const runs = await Promise.all([
        ...ids.map((id) => runCli(env, ['sandbox', 'pay', id, '--phone', user.phone, '--pin', user.pin])),
        ...Array.from({ length: 4 }, () =>
          runCli(env, ['sandbox', 'pay', same, '--phone', other.phone, '--pin', other.pin]),
        ),
      ]);
      const [many, one] = [runs.slice(0, 6), runs.slice(6)];
      expect(many.filter((r) => r.code === 0)).toHaveLength(3);
      expect(
        many.filter((r) => r.code !== 0).every((r) => r.stderr.includes('USER_BALANCE_NOT_ENOUGH')),
      ).toBe(true);
      expect(one.filter((r) => r.code === 0)).toHaveLength(1);
      expect(one.filter((r) => r.code !== 0).every((r) => r.stderr.includes('ORDER_STATUS_INVALID'))).toBe(
        true,
      );
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(0n);
      expect(await balanceOf(wallet.ctx.store.db, userAccount(other.id, 'USD'))).toBe(4_500n);
      expect(await debitsFor(same)).toBe(1);
    }, 120_000);
  });
}
