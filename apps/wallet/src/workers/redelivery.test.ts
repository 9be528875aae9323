/**
 * Redelivery of notifications, on both databases with a fake clock: a FAILED notification redelivered by
 * hand gets a whole new round of the retry ladder (due at once, then 2 min, 10 min, ... 15 h, 8 attempts)
 * with its attempt history kept and numbered on; a DELIVERED one only with force; the body (its
 * notificationId and sequence) never changes; all of a merchant's FAILED ones at once; and the CLI
 * (`billetera notifications list|redeliver`) as a separate process (on SQLite: a second process on the
 * same file).
 */
import { FakeClock, MAX_ATTEMPTS, RETRY_LADDER_MS } from '@billetera/domain';
import { attemptsOf, findNotification, notificationsForPayment, type Notification } from '@billetera/store';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { startNotifyReceiver } from '../../../../test/spec-merchant.ts';
import {
  addMerchant,
  addUser,
  runCli,
  startTestWallet,
  type TestMerchant,
} from '../../../../test/wallet-harness.ts';
import type { WalletContext } from '../context.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import { createPayment } from '../services/create-payment.ts';
import { listDeliveries, redeliver, redeliverFailed } from '../services/notification-admin.ts';
import type { RunningWallet } from '../wallet.ts';
import { Notifier } from './notifier.ts';

let seq = 0;
async function paidPayment(ctx: WalletContext, shop: TestMerchant): Promise<string> {
  const user = await addUser(ctx, { USD: 1_000n });
  const out = await createPayment(ctx, shop.merchant, {
    partnerId: shop.merchant.partnerId,
    paymentRequestId: `rd-${++seq}`,
    paymentOrderTitle: 'Tea',
    paymentAmount: { currency: 'USD', value: '100' },
  });
  const paymentId = out.reply.paymentId!;
  expect((await confirmPayment(ctx, { paymentId, phone: user.phone, pin: user.pin })).ok).toBe(true);
  return paymentId;
}

for (const backend of BACKENDS) {
  describe(`notification redelivery on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    const clock = new FakeClock(Date.now());
    const receivers: { close(): Promise<void> }[] = [];
    let up = false;
    let receiver: Awaited<ReturnType<typeof startNotifyReceiver>>;

    /** Runs one whole round of the ladder against a merchant that is down; the row ends FAILED. */
    async function failRound(notifier: Notifier, ...ids: string[]): Promise<void> {
      for (let i = 0; i < MAX_ATTEMPTS; i++) {
        const wait = RETRY_LADDER_MS[i]!;
        if (wait > 0) {
          clock.advance(wait - 1);
          expect(await notifier.runOnce()).toBe(0);
          clock.advance(1);
        }
        expect(await notifier.runOnce()).toBe(ids.length);
      }
      for (const id of ids)
        expect(await findNotification(wallet.ctx.store.db, id)).toMatchObject({ status: 'FAILED' });
    }

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env, { clock, workers: false });
      receiver = await startNotifyReceiver(() =>
        up
          ? {
              status: 200,
              body: '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}',
            }
          : { status: 503, body: 'down' },
      );
      receivers.push(receiver);
    });
    afterEach(() => {
      up = false;
    });
    afterAll(async () => {
      await Promise.all(receivers.map((r) => r.close()));
      await wallet?.close();
      await env?.cleanup();
    });

    it('gives a redelivered FAILED notification a new round of the whole ladder, keeping and numbering on its history', async () => {
      const shop = await addMerchant(wallet.ctx, { notifyUrl: receiver.url });
      const paymentId = await paidPayment(wallet.ctx, shop);
      const [n] = await notificationsForPayment(wallet.ctx.store.db, paymentId);
      const notifier = new Notifier(wallet.ctx, { owner: 'redeliver' });
      await failRound(notifier, n!.id);

      clock.advance(3 * 24 * 3600_000);
      const redeliveredAt = clock.now();
      expect(await redeliver(wallet.ctx, { notificationId: n!.id })).toMatchObject({
        status: 'PENDING',
        attempts: MAX_ATTEMPTS,
        ladderBase: MAX_ATTEMPTS,
        redeliveries: 1,
        nextAttemptAt: redeliveredAt,
      });
      await failRound(notifier, n!.id);
      const attempts = await attemptsOf(wallet.ctx.store.db, n!.id);
      expect(attempts.map((a) => a.attemptNo)).toEqual(
        Array.from({ length: 2 * MAX_ATTEMPTS }, (_, i) => i + 1),
      );
      // The second round follows the ladder from the redelivery: 0 s, 2 min, 10 min, ... after each attempt.
      const second = attempts.slice(MAX_ATTEMPTS).map((a) => a.startedAt - redeliveredAt);
      expect(second).toEqual(
        RETRY_LADDER_MS.map((_, i) => RETRY_LADDER_MS.slice(0, i + 1).reduce((s, x) => s + x, 0)),
      );

      // The merchant is back: one more redelivery is acknowledged at once.
      up = true;
      await redeliver(wallet.ctx, { notificationId: n!.id });
      expect(await notifier.runOnce()).toBe(1);
      expect(await findNotification(wallet.ctx.store.db, n!.id)).toMatchObject({
        status: 'DELIVERED',
        attempts: 2 * MAX_ATTEMPTS + 1,
        redeliveries: 2,
      });
      // Every send carried the very same body: same notificationId and sequence.
      const bodies = new Set(
        receiver.received.filter((r) => r.rawBody.includes(n!.id)).map((r) => r.rawBody),
      );
      expect(bodies.size).toBe(1);
      expect(JSON.parse([...bodies][0]!)).toMatchObject({ paymentId, notificationId: n!.id, sequence: 1 });
    });

    it('redelivers a DELIVERED notification only with force, and refuses one still pending', async () => {
      up = true;
      const shop = await addMerchant(wallet.ctx, { notifyUrl: receiver.url });
      const paymentId = await paidPayment(wallet.ctx, shop);
      const [n] = await notificationsForPayment(wallet.ctx.store.db, paymentId);
      await expect(redeliver(wallet.ctx, { notificationId: n!.id })).rejects.toThrow(
        /PENDING: it is still being delivered/,
      );
      const notifier = new Notifier(wallet.ctx, { owner: 'force' });
      expect(await notifier.runOnce()).toBeGreaterThanOrEqual(1);
      await expect(redeliver(wallet.ctx, { notificationId: n!.id })).rejects.toThrow(/use --force/);
      await expect(redeliver(wallet.ctx, { notificationId: 'ntf_nope', force: true })).rejects.toThrow(
        /no notification/,
      );
      expect(await redeliver(wallet.ctx, { notificationId: n!.id, force: true })).toMatchObject({
        status: 'PENDING',
        attempts: 1,
        deliveredAt: null,
      });
      expect(await notifier.runOnce()).toBe(1);
      expect(await findNotification(wallet.ctx.store.db, n!.id)).toMatchObject({
        status: 'DELIVERED',
        attempts: 2,
      });
      expect((await attemptsOf(wallet.ctx.store.db, n!.id)).map((a) => a.outcome)).toEqual([
        'ACKNOWLEDGED',
        'ACKNOWLEDGED',
      ]);
    });

    it("redelivers all of one merchant's FAILED notifications, and lists deliveries with their attempts", async () => {
      const a = await addMerchant(wallet.ctx, { notifyUrl: receiver.url, name: 'A' });
      const b = await addMerchant(wallet.ctx, { notifyUrl: receiver.url, name: 'B' });
      const ids: Notification[] = [];
      for (const shop of [a, a, b]) {
        const paymentId = await paidPayment(wallet.ctx, shop);
        ids.push((await notificationsForPayment(wallet.ctx.store.db, paymentId))[0]!);
      }
      const notifier = new Notifier(wallet.ctx, { owner: 'bulk' });
      await failRound(notifier, ...ids.map((n) => n.id));

      const listed = await listDeliveries(wallet.ctx, { clientId: a.merchant.clientId, status: 'FAILED' });
      expect(listed.map((d) => d.notification.id).sort()).toEqual([ids[0]!.id, ids[1]!.id].sort());
      expect(
        listed.every((d) => d.attempts.length === MAX_ATTEMPTS && d.clientId === a.merchant.clientId),
      ).toBe(true);

      expect(await redeliverFailed(wallet.ctx, { clientId: a.merchant.clientId })).toBe(2);
      expect((await findNotification(wallet.ctx.store.db, ids[0]!.id))?.status).toBe('PENDING');
      expect((await findNotification(wallet.ctx.store.db, ids[1]!.id))?.status).toBe('PENDING');
      expect((await findNotification(wallet.ctx.store.db, ids[2]!.id))?.status).toBe('FAILED');
      expect(await redeliverFailed(wallet.ctx, { clientId: a.merchant.clientId })).toBe(0);
      await expect(redeliverFailed(wallet.ctx, { clientId: 'NOSUCHCLIENT' })).rejects.toThrow(/no merchant/);

      // The CLI, as a separate process on the same database. It is a thin layer over the services
      // tested above on both databases; its process start costs seconds, so it runs on SQLite only.
      if (backend.name !== 'sqlite') return;
      const list = await runCli(env, ['notifications', 'list', '--client-id', b.merchant.clientId, '--json']);
      expect(list.stderr).toBe('');
      const shown = JSON.parse(list.stdout) as {
        notifications: { notificationId: string; status: string; attemptLog: unknown[]; body: unknown }[];
      };
      expect(shown.notifications).toMatchObject([
        {
          notificationId: ids[2]!.id,
          status: 'FAILED',
          attemptsInRound: MAX_ATTEMPTS,
          body: { notificationId: ids[2]!.id, sequence: 1 },
        },
      ]);
      expect(shown.notifications[0]!.attemptLog).toHaveLength(MAX_ATTEMPTS);
      const again = await runCli(env, [
        'notifications',
        'redeliver',
        '--client-id',
        b.merchant.clientId,
        '--all-failed',
        '--json',
      ]);
      expect([again.code, JSON.parse(again.stdout)]).toEqual([0, { redelivered: 1 }]);
      expect(await findNotification(wallet.ctx.store.db, ids[2]!.id)).toMatchObject({
        status: 'PENDING',
        ladderBase: MAX_ATTEMPTS,
      });
    }, 30_000);
  });
}
