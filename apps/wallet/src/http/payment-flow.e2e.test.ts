/**
 * The whole signed payment path with a merchant written only from the spec: pay -> `billetera sandbox pay`
 * (a separate process, as a tester would run it) -> signed notifyPayment -> inquiryPayment SUCCESS.
 * Real HTTP sockets, a real SQLite file and a real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { specCall, specVerify, startNotifyReceiver, verifyReply } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, runCli, startTestWallet } from '../../../../test/wallet-harness.ts';
import type { RunningWallet } from '../wallet.ts';

for (const backend of BACKENDS) {
  describe(`signed payment flow on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let receiver: Awaited<ReturnType<typeof startNotifyReceiver>>;
    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env);
      receiver = await startNotifyReceiver();
    });
    afterAll(async () => {
      await wallet?.close();
      await receiver?.close();
      await env?.cleanup();
    });

    it('pays, notifies and answers the inquiry, every message signed', async () => {
      const walletKey = (
        (await (await fetch(`${wallet.url}/api/open/keys`)).json()) as { keys: { publicKey: string }[] }
      ).keys[0]!.publicKey;
      const { merchant, keys } = await addMerchant(wallet.ctx, { notifyUrl: receiver.url });
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const auth = { clientId: merchant.clientId, privateKey: keys.privateKey };

      const payPath = '/api/open/v1/payments/pay';
      const payBody = JSON.stringify({
        partnerId: merchant.partnerId,
        paymentRequestId: 'order-1001',
        paymentOrderTitle: 'Running shoes',
        paymentAmount: { currency: 'USD', value: '1999' },
        paymentFactor: { isCashierPayment: true },
        extendInfo: '{"customerBelongsTo":"BILLETERA"}',
      });
      const pay = await specCall(wallet.url, payPath, payBody, auth);
      expect(pay.status).toBe(200);
      expect(pay.body.result).toEqual({ resultStatus: 'A', resultCode: 'ACCEPT', resultMessage: 'accept' });
      expect(verifyReply(pay, payPath, walletKey)).toBe(true);
      expect(pay.headers['client-id']).toBe(merchant.clientId);
      expect(pay.headers['signature']).toMatch(/^algorithm=RSA256,keyVersion=1,signature=[A-Za-z0-9%]+$/);
      const paymentId = pay.body['paymentId'] as string;
      expect(paymentId).toMatch(/^pay_[A-Za-z0-9_-]{22}$/);
      expect(pay.body['acquirementId']).toBe(paymentId);
      expect(pay.body['actionForm']).toEqual({
        actionFormType: 'REDIRECTION',
        redirectionUrl: `${wallet.ctx.publicUrl}/cashier/${paymentId}`,
      });

      const before = await specCall(
        wallet.url,
        '/api/open/v1/payments/inquiryPayment',
        JSON.stringify({ partnerId: merchant.partnerId, paymentId }),
        auth,
      );
      expect(before.body['paymentStatus']).toBe('PROCESSING');

      const paid = await runCli(env, [
        'sandbox',
        'pay',
        paymentId,
        '--phone',
        user.phone,
        '--pin',
        user.pin,
        '--json',
      ]);
      expect(paid.stderr).toBe('');
      expect(paid.code).toBe(0);
      expect(JSON.parse(paid.stdout)).toMatchObject({
        ok: true,
        paymentId,
        paymentStatus: 'SUCCESS',
        payee: 'Test Shop',
      });

      await receiver.waitFor(1);
      const n = receiver.received[0]!;
      expect(n.path).toBe('/notify/payment');
      expect(
        specVerify({
          path: n.path,
          clientId: String(n.headers['client-id']),
          time: String(n.headers['request-time']),
          rawBody: n.rawBody,
          signatureHeader: String(n.headers['signature']),
          walletPublicKeyPem: walletKey,
        }),
      ).toBe(true);
      expect(n.headers['client-id']).toBe(merchant.clientId);
      expect(JSON.parse(n.rawBody)).toMatchObject({
        partnerId: merchant.partnerId,
        paymentId,
        paymentRequestId: 'order-1001',
        paymentAmount: { currency: 'USD', value: '1999' },
        paymentStatus: 'SUCCESS',
        extendInfo: '{"customerBelongsTo":"BILLETERA"}',
      });

      const inquiryPath = '/api/open/v1/payments/inquiryPayment';
      const after = await specCall(
        wallet.url,
        inquiryPath,
        JSON.stringify({ partnerId: merchant.partnerId, paymentRequestId: 'order-1001' }),
        auth,
      );
      expect(verifyReply(after, inquiryPath, walletKey)).toBe(true);
      expect(after.body).toMatchObject({
        result: { resultStatus: 'S', resultCode: 'SUCCESS' },
        paymentId,
        paymentStatus: 'SUCCESS',
        paymentAmount: { currency: 'USD', value: '1999' },
      });
      expect(typeof after.body['paymentTime']).toBe('string');

      const shown = await runCli(env, ['user', 'show', '--phone', user.phone, '--json']);
      expect(JSON.parse(shown.stdout).balances).toEqual([{ currency: 'USD', value: '3001' }]);

      // The delivery is recorded as acknowledged, once.
      await new Promise((r) => setTimeout(r, 100));
      const rows = await wallet.ctx.store.db
        .selectFrom('notifications')
        .selectAll()
        .where('payment_id', '=', paymentId)
        .execute();
      expect(rows.map((r) => [r.status, Number(r.attempts)])).toEqual([['DELIVERED', 1]]);
      expect(receiver.received).toHaveLength(1);
    });

    it('refuses a second sandbox pay of the same order with a clear message and a non-zero exit', async () => {
      const { merchant, keys } = await addMerchant(wallet.ctx, { notifyUrl: receiver.url });
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const pay = await specCall(
        wallet.url,
        '/api/open/v1/payments/pay',
        JSON.stringify({
          partnerId: merchant.partnerId,
          paymentRequestId: 'twice',
          paymentOrderTitle: 'Tea',
          paymentAmount: { currency: 'USD', value: '100' },
        }),
        { clientId: merchant.clientId, privateKey: keys.privateKey },
      );
      const id = pay.body['paymentId'] as string;
      expect((await runCli(env, ['sandbox', 'pay', id, '--phone', user.phone, '--pin', user.pin])).code).toBe(
        0,
      );
      const again = await runCli(env, ['sandbox', 'pay', id, '--phone', user.phone, '--pin', user.pin]);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toContain('ORDER_STATUS_INVALID: This order has already been paid');
      const wrongPin = await runCli(env, ['sandbox', 'pay', id, '--phone', user.phone, '--pin', '000000']);
      expect(wrongPin.code).not.toBe(0);
      const shown = await runCli(env, ['user', 'show', '--phone', user.phone, '--json']);
      expect(JSON.parse(shown.stdout).balances).toEqual([{ currency: 'USD', value: '4900' }]);
    });
  });
}
