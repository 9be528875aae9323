/**
 * The lifecycle through the merchant SDK against the real wallet (notifier running), on both databases:
 * v2 pay, a refund whose notifyRefund the merchant verifies with sdk-node on the same URL as its
 * notifyPayment (verifyAnyNotification), inquiryRefund, cancel, and the SDK's errors for refusals.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BilleteraApiError, createClient, type AnyNotification } from '@billetera/sdk-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { addMerchant, addUser, startTestWallet } from '../../../../test/wallet-harness.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import type { RunningWallet } from '../wallet.ts';

for (const backend of BACKENDS) {
  describe(`sdk-node lifecycle against the wallet on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let server: http.Server;
    let notifyUrl: string;
    const verified: AnyNotification[] = [];

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env);
      server = http.createServer();
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      notifyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/billetera/notify`;
    });
    afterAll(async () => {
      server?.closeAllConnections();
      await new Promise((r) => server?.close(r));
      await wallet?.close();
      await env?.cleanup();
    });

    it('pays with v2, refunds twice, verifies both notification kinds on one URL, inquires and cancels', async () => {
      const { merchant, keys } = await addMerchant(wallet.ctx, { notifyUrl });
      const client = createClient({
        baseUrl: wallet.url,
        clientId: merchant.clientId,
        privateKey: keys.privateKey,
        walletPublicKey: wallet.ctx.secrets.walletPublicKeyPem,
      });
      server.removeAllListeners('request');
      server.on('request', (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          try {
            verified.push(
              client.verifyAnyNotification(Buffer.concat(chunks), req.headers, { path: req.url ?? '' }),
            );
            void client
              .acknowledgement()
              .then((ack) => res.writeHead(ack.statusCode, ack.headers).end(ack.body));
          } catch {
            res.writeHead(400).end();
          }
        });
      });
      const user = await addUser(wallet.ctx, { USD: 5_000n });

      const pay = await client.v2.pay({
        paymentRequestId: 'sdk-order-1',
        productCode: 'CASHIER_PAYMENT',
        paymentAmount: { currency: 'USD', value: '1500' },
        order: { orderDescription: 'Lamp', buyer: { referenceBuyerId: 'buyer-1' } },
      });
      expect(pay.redirectActionForm?.redirectionUrl).toBe(`${wallet.ctx.publicUrl}/cashier/${pay.paymentId}`);
      expect(
        (await confirmPayment(wallet.ctx, { paymentId: pay.paymentId!, phone: user.phone, pin: user.pin }))
          .ok,
      ).toBe(true);

      const refund = await client.v2.refund({
        refundRequestId: 'sdk-refund-1',
        paymentRequestId: 'sdk-order-1',
        refundAmount: { currency: 'USD', value: '500' },
        refundNotifyUrl: notifyUrl,
      });
      expect(refund.refundId).toMatch(/^rfd_/);
      const second = await client.refund({
        partnerId: merchant.partnerId,
        refundRequestId: 'sdk-refund-2',
        paymentId: pay.paymentId!,
        refundAmount: { currency: 'USD', value: '1000' },
      });
      const error = await client.v2
        .refund({
          refundRequestId: 'sdk-refund-3',
          paymentId: pay.paymentId!,
          refundAmount: { currency: 'USD', value: '1' },
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BilleteraApiError);
      expect((error as BilleteraApiError).resultCode).toBe('REFUND_AMOUNT_EXCEED');

      expect(await client.inquiryRefund({ refundRequestId: 'sdk-refund-2' })).toMatchObject({
        refundId: second.refundId,
        refundStatus: 'SUCCESS',
        refundAmount: { currency: 'USD', value: '1000' },
      });
      expect((await client.v2.inquiryPayment({ paymentId: pay.paymentId! })).paymentStatus).toBe('SUCCESS');

      const other = await client.pay({
        partnerId: merchant.partnerId,
        paymentRequestId: 'sdk-order-2',
        paymentOrderTitle: 'Chair',
        paymentAmount: { currency: 'USD', value: '100' },
      });
      expect((await client.v2.cancel({ paymentId: other.paymentId! })).cancelTime).toEqual(
        expect.any(String),
      );
      expect((await client.cancel({ paymentRequestId: 'sdk-order-2' })).cancelTime).toEqual(
        expect.any(String),
      );

      // notifyPayment (sequence 1) and the one notifyRefund (sequence 2; the second refund gave no URL).
      for (let i = 0; i < 200 && verified.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
      expect(verified.map((v) => [v.type, v.notification.sequence])).toEqual([
        ['payment', 1],
        ['refund', 2],
      ]);
      expect(verified[1]!.notification).toMatchObject({
        refundId: refund.refundId,
        refundRequestId: 'sdk-refund-1',
        paymentId: pay.paymentId,
        refundStatus: 'SUCCESS',
      });
      const statuses = async () =>
        (await wallet.ctx.store.db.selectFrom('notifications').select('status').execute()).map(
          (r) => r.status,
        );
      for (let i = 0; i < 200 && (await statuses()).some((s) => s !== 'DELIVERED'); i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(await statuses()).toEqual(['DELIVERED', 'DELIVERED']);
    });
  });
}
