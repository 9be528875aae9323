/**
 * The notifier against real merchant endpoints on 127.0.0.1, driven by a fake clock: the whole retry
 * ladder, what counts as an acknowledgement, timeouts, refused connections, and crashes (after the
 * commit, and in the middle of a send).
 */
import { createServer } from 'node:net';
import { FakeClock, RETRY_LADDER_MS } from '@billetera/domain';
import { attemptsOf, findNotification, notificationsForPayment, claimNotification } from '@billetera/store';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { startNotifyReceiver } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet } from '../../../../test/wallet-harness.ts';
import type { WalletContext } from '../context.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import { createPayment } from '../services/create-payment.ts';
import type { RunningWallet } from '../wallet.ts';
import { Notifier } from './notifier.ts';

let seq = 0;
/** Creates a payment through the pay use case and pays it, so exactly one notification is owed. */
async function paidPayment(ctx: WalletContext, notifyUrl: string): Promise<string> {
  const { merchant } = await addMerchant(ctx, { notifyUrl });
  const user = await addUser(ctx, { USD: 10_000n });
  const out = await createPayment(ctx, merchant, {
    partnerId: merchant.partnerId,
    paymentRequestId: `n-${++seq}`,
    paymentOrderTitle: 'Tea',
    paymentAmount: { currency: 'USD', value: '250' },
  });
  const paymentId = out.reply.paymentId!;
  const confirmed = await confirmPayment(ctx, { paymentId, phone: user.phone, pin: user.pin });
  expect(confirmed.ok).toBe(true);
  return paymentId;
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}/notify`;
}

for (const backend of BACKENDS) {
  describe(`notifier on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    const clock = new FakeClock(Date.now());
    const receivers: { close(): Promise<void> }[] = [];
    const receiver = async (...args: Parameters<typeof startNotifyReceiver>) => {
      const r = await startNotifyReceiver(...args);
      receivers.push(r);
      return r;
    };

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env, { clock, workers: false });
    });
    afterEach(async () => {
      await Promise.all(receivers.splice(0).map((r) => r.close()));
    });
    afterAll(async () => {
      await wallet?.close();
      await env?.cleanup();
    });

    it('walks the whole ladder (0 s, 2 min, 10 min, 10 min, 1 h, 2 h, 6 h, 15 h), then marks the delivery failed', async () => {
      const down = await receiver(() => ({ status: 500, body: 'internal error' }));
      const paymentId = await paidPayment(wallet.ctx, down.url);
      const start = clock.now();
      const notifier = new Notifier(wallet.ctx, { owner: 'ladder' });
      let elapsed = 0;
      for (let i = 0; i < RETRY_LADDER_MS.length; i++) {
        const wait = RETRY_LADDER_MS[i]!;
        if (wait > 0) {
          clock.advance(wait - 1);
          expect(await notifier.runOnce()).toBe(0); // not a millisecond early
          clock.advance(1);
        }
        elapsed += wait;
        expect(await notifier.runOnce()).toBe(1);
      }
      clock.advance(48 * 3600_000);
      expect(await notifier.runOnce()).toBe(0);

      const [n] = await notificationsForPayment(wallet.ctx.store.db, paymentId);
      expect(n).toMatchObject({ status: 'FAILED', attempts: 8, lastError: 'HTTP 500' });
      const attempts = await attemptsOf(wallet.ctx.store.db, n!.id);
      expect(attempts.map((a) => a.startedAt - start)).toEqual(
        RETRY_LADDER_MS.map((_, i) => RETRY_LADDER_MS.slice(0, i + 1).reduce((s, x) => s + x, 0)),
      );
      expect(elapsed).toBe(1462 * 60_000); // about 24 h
      expect(
        attempts.every(
          (a) => a.outcome === 'HTTP_ERROR' && a.httpStatus === 500 && a.replyExcerpt === 'internal error',
        ),
      ).toBe(true);
      expect(down.received).toHaveLength(8);
    });

    it('counts only HTTP 200 with resultStatus "S" as an acknowledgement', async () => {
      const replies = [
        {
          status: 200,
          body: '{"result":{"resultStatus":"F","resultCode":"PROCESS_FAIL","resultMessage":"no"}}',
        },
        { status: 200, body: 'OK' },
        {
          status: 201,
          body: '{"result":{"resultStatus":"S","resultCode":"SUCCESS","resultMessage":"success"}}',
        },
        {
          status: 200,
          body: '{"result":{"resultStatus":"U","resultCode":"UNKNOWN_EXCEPTION","resultMessage":"later"}}',
        },
        {
          status: 200,
          body: '{"result":{"resultStatus":"S","resultCode":"SUCCESS","resultMessage":"success"}}',
        },
      ];
      const picky = await receiver((_n, i) => replies[i]!);
      const paymentId = await paidPayment(wallet.ctx, picky.url);
      const notifier = new Notifier(wallet.ctx, { owner: 'ack' });
      for (let i = 0; i < replies.length; i++) {
        clock.advance(RETRY_LADDER_MS[i]!);
        expect(await notifier.runOnce()).toBe(1);
      }
      const [n] = await notificationsForPayment(wallet.ctx.store.db, paymentId);
      expect(n).toMatchObject({ status: 'DELIVERED', attempts: 5 });
      expect((await attemptsOf(wallet.ctx.store.db, n!.id)).map((a) => a.outcome)).toEqual([
        'NOT_ACKNOWLEDGED',
        'NOT_ACKNOWLEDGED',
        'HTTP_ERROR',
        'NOT_ACKNOWLEDGED',
        'ACKNOWLEDGED',
      ]);
    });

    it('records a timeout and a refused connection as failed attempts, to be retried', async () => {
      const slow = await receiver(() => ({
        status: 200,
        body: '{"result":{"resultStatus":"S"}}',
        delayMs: 3_000,
      }));
      const slowPayment = await paidPayment(wallet.ctx, slow.url);
      const refusedPayment = await paidPayment(wallet.ctx, await closedPortUrl());
      const notifier = new Notifier(wallet.ctx, { owner: 'faults', timeoutMs: 300 });
      expect(await notifier.runOnce()).toBe(2);
      const [timedOut] = await notificationsForPayment(wallet.ctx.store.db, slowPayment);
      const [refused] = await notificationsForPayment(wallet.ctx.store.db, refusedPayment);
      expect(timedOut).toMatchObject({
        status: 'PENDING',
        attempts: 1,
        nextAttemptAt: clock.now() + RETRY_LADDER_MS[1]!,
      });
      expect(await attemptsOf(wallet.ctx.store.db, timedOut!.id)).toMatchObject([
        { outcome: 'TIMEOUT', httpStatus: null, error: 'no reply within 300 ms' },
      ]);
      expect(refused).toMatchObject({ status: 'PENDING', attempts: 1 });
      expect(await attemptsOf(wallet.ctx.store.db, refused!.id)).toMatchObject([
        { outcome: 'NETWORK_ERROR', httpStatus: null },
      ]);
      expect((await attemptsOf(wallet.ctx.store.db, refused!.id))[0]!.error).toMatch(/ECONNREFUSED/);
    });

    it('sends again, as the same attempt, a notification whose sender died mid-send (its lease runs out)', async () => {
      const ok = await receiver();
      const paymentId = await paidPayment(wallet.ctx, ok.url);
      const [n] = await notificationsForPayment(wallet.ctx.store.db, paymentId);
      // A worker claimed it and died before recording anything.
      expect(await claimNotification(wallet.ctx.store.db, n!.id, 'dead-worker', clock.now(), 15_000)).toBe(
        true,
      );
      const notifier = new Notifier(wallet.ctx, { owner: 'survivor', leaseMs: 15_000 });
      expect(await notifier.runOnce()).toBe(0);
      clock.advance(15_000);
      expect(await notifier.runOnce()).toBe(1);
      expect(await findNotification(wallet.ctx.store.db, n!.id)).toMatchObject({
        status: 'DELIVERED',
        attempts: 1,
      });
      expect(ok.received).toHaveLength(1);
    });

    it('keeps delivering to fast merchants while one merchant is slow', async () => {
      const slow = await receiver(() => ({
        status: 200,
        body: '{"result":{"resultStatus":"S"}}',
        delayMs: 2_000,
      }));
      const fast = await receiver();
      await paidPayment(wallet.ctx, slow.url);
      await paidPayment(wallet.ctx, fast.url);
      const notifier = new Notifier(wallet.ctx, { owner: 'mixed', pollMs: 50 });
      notifier.start();
      try {
        await fast.waitFor(1, 1_500);
        expect(slow.received.length).toBeLessThanOrEqual(1);
      } finally {
        await notifier.stop();
      }
    });
  });

  describe(`a crash between commit and delivery on ${backend.name}`, () => {
    it('still delivers after a restart', async () => {
      const env = await backend.create();
      const ok = await startNotifyReceiver();
      try {
        const first = await startTestWallet(env, { workers: false });
        const paymentId = await paidPayment(first.ctx, ok.url);
        await first.close(); // the process goes away with the notification committed but not sent
        expect(ok.received).toHaveLength(0);
        const second = await startTestWallet(env);
        try {
          await ok.waitFor(1, 10_000);
          expect(JSON.parse(ok.received[0]!.rawBody)).toMatchObject({ paymentId, paymentStatus: 'SUCCESS' });
        } finally {
          await second.close();
        }
      } finally {
        await ok.close();
        await env.cleanup();
      }
    });
  });
}
