/**
 * The same signed payment path through the merchant SDK: a merchant server on 127.0.0.1 that verifies the
 * notification with sdk-node and acknowledges it, pay and inquiry through the SDK client, and the SDK's
 * typed errors for refusals, against the real wallet on both databases.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, IdempotencyError, NotFoundError, type NotifyPayment } from '@billetera/sdk-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { addMerchant, addUser, startTestWallet } from '../../../../test/wallet-harness.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import type { RunningWallet } from '../wallet.ts';

for (const backend of BACKENDS) {
  describe(`sdk-node against the wallet on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let merchantServer: http.Server;
    let notifyUrl: string;
    const verified: NotifyPayment[] = [];
    let verifyFailures = 0;

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env);
      merchantServer = http.createServer();
      await new Promise<void>((r) => merchantServer.listen(0, '127.0.0.1', r));
      notifyUrl = `http://127.0.0.1:${(merchantServer.address() as AddressInfo).port}/billetera/notify?shop=1`;
    });
    afterAll(async () => {
      merchantServer?.closeAllConnections();
      await new Promise((r) => merchantServer?.close(r));
      await wallet?.close();
      await env?.cleanup();
    });

    it('pays, verifies the notification, acknowledges it and confirms by inquiry', async () => {
      const { merchant, keys } = await addMerchant(wallet.ctx, { notifyUrl });
      const client = createClient({
        baseUrl: wallet.url,
        clientId: merchant.clientId,
        privateKey: keys.privateKey,
        walletPublicKey: wallet.ctx.secrets.walletPublicKeyPem,
      });
      merchantServer.removeAllListeners('request');
      merchantServer.on('request', (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          void (async () => {
            try {
              verified.push(
                client.verifyNotification(Buffer.concat(chunks), req.headers, { path: req.url ?? '' }),
              );
              const ack = await client.acknowledgement({ path: req.url ?? '' });
              res.writeHead(ack.statusCode, ack.headers).end(ack.body);
            } catch {
              verifyFailures++;
              res.writeHead(400).end();
            }
          })();
        });
      });

      const user = await addUser(wallet.ctx, { JPY: 5_000n });
      const reply = await client.pay({
        partnerId: merchant.partnerId,
        paymentRequestId: 'sdk-1',
        paymentOrderTitle: 'Ramen',
        paymentAmount: { currency: 'JPY', value: '1200' },
      });
      expect(reply.result.resultCode).toBe('ACCEPT');
      expect(reply.actionForm?.redirectionUrl).toBe(`${wallet.ctx.publicUrl}/cashier/${reply.paymentId}`);
      // The same call again is the same payment; another body under the same id is refused.
      expect(
        (
          await client.pay({
            partnerId: merchant.partnerId,
            paymentRequestId: 'sdk-1',
            paymentOrderTitle: 'Ramen',
            paymentAmount: { currency: 'JPY', value: '1200' },
          })
        ).paymentId,
      ).toBe(reply.paymentId);
      await expect(
        client.pay({
          partnerId: merchant.partnerId,
          paymentRequestId: 'sdk-1',
          paymentOrderTitle: 'Ramen',
          paymentAmount: { currency: 'JPY', value: '1300' },
        }),
      ).rejects.toBeInstanceOf(IdempotencyError);

      expect(
        (await confirmPayment(wallet.ctx, { paymentId: reply.paymentId!, phone: user.phone, pin: user.pin }))
          .ok,
      ).toBe(true);
      for (let i = 0; i < 200 && verified.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(verifyFailures).toBe(0);
      expect(verified).toMatchObject([
        {
          paymentId: reply.paymentId,
          paymentStatus: 'SUCCESS',
          paymentAmount: { currency: 'JPY', value: '1200' },
        },
      ]);

      const inquiry = await client.inquiryPayment({
        partnerId: merchant.partnerId,
        paymentId: reply.paymentId!,
      });
      expect(inquiry).toMatchObject({ result: { resultStatus: 'S' }, paymentStatus: 'SUCCESS' });
      await expect(client.inquiryPayment({ paymentId: 'pay_unknown' })).rejects.toBeInstanceOf(NotFoundError);

      for (let i = 0; i < 100; i++) {
        const rows = await wallet.ctx.store.db
          .selectFrom('notifications')
          .select('status')
          .where('payment_id', '=', reply.paymentId!)
          .execute();
        if (rows[0]?.status === 'DELIVERED') break;
        await new Promise((r) => setTimeout(r, 25));
      }
      const rows = await wallet.ctx.store.db
        .selectFrom('notifications')
        .select(['status', 'attempts'])
        .where('payment_id', '=', reply.paymentId!)
        .execute();
      expect(rows.map((r) => [r.status, Number(r.attempts)])).toEqual([['DELIVERED', 1]]);
    });
  });
}
