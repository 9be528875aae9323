/**
 * The lifecycle calls of the client against a scripted wallet: each goes to its own path (v1, and v2
 * under `client.v2`), signed, with the body as given; S resolves, F throws the catalogue's error class.
 * And the refund notification: verifyRefundNotification, and verifyAnyNotification telling the kinds apart.
 */
import {
  NotifyRefundSchema,
  compileValidator,
  type NotifyPayment,
  type NotifyRefund,
} from '@billetera/protocol';
import { generateRsaKeyPair, type KeyPairPem } from '@billetera/protocol/signing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClient, type BilleteraClient } from './billetera-client.ts';
import { createFixtureSigner, type FixtureSigner } from './fixture-signer.ts';
import { startScriptedWallet, type ScriptedWallet } from './scripted-wallet.testkit.ts';
import { BilleteraApiError, InvalidRequestError, NotFoundError } from './sdk-errors.ts';

const CLIENT_ID = 'TEST_LIFECYCLE0001';
const NOW = Date.parse('2026-03-01T10:00:00Z');
const S = { resultStatus: 'S', resultCode: 'SUCCESS', resultMessage: 'Success' };

let merchant: KeyPairPem;
let wallet: FixtureSigner;
let server: ScriptedWallet;
let client: BilleteraClient;

beforeAll(async () => {
  [merchant, wallet] = await Promise.all([generateRsaKeyPair(), createFixtureSigner({ now: () => NOW })]);
});
beforeEach(async () => {
  server = await startScriptedWallet(wallet);
  client = createClient({
    baseUrl: server.baseUrl,
    clientId: CLIENT_ID,
    privateKey: merchant.privateKeyPem,
    walletPublicKey: wallet.walletPublicKeyPem,
    now: () => NOW,
    maxRetries: 0,
  });
});
afterEach(() => server.close());

describe('lifecycle calls', () => {
  const amount = { currency: 'USD', value: '500' };
  const cases: [string, string, (c: BilleteraClient) => Promise<unknown>, object][] = [
    [
      'cancel',
      '/api/open/v1/payments/cancel',
      (c) => c.cancel({ partnerId: 'P1', paymentId: 'pay_1' }),
      { partnerId: 'P1', paymentId: 'pay_1' },
    ],
    [
      'refund',
      '/api/open/v1/payments/refund',
      (c) => c.refund({ partnerId: 'P1', refundRequestId: 'r1', paymentId: 'pay_1', refundAmount: amount }),
      { partnerId: 'P1', refundRequestId: 'r1', paymentId: 'pay_1', refundAmount: amount },
    ],
    [
      'inquiryRefund',
      '/api/open/v1/payments/inquiryRefund',
      (c) => c.inquiryRefund({ refundId: 'rfd_1' }),
      { refundId: 'rfd_1' },
    ],
    [
      'v2.pay',
      '/api/open/v2/payments/pay',
      (c) => c.v2.pay({ paymentRequestId: 'o1', paymentAmount: amount, order: { orderDescription: 'Tea' } }),
      { paymentRequestId: 'o1', paymentAmount: amount, order: { orderDescription: 'Tea' } },
    ],
    [
      'v2.inquiryPayment',
      '/api/open/v2/payments/inquiryPayment',
      (c) => c.v2.inquiryPayment({ paymentId: 'pay_1' }),
      { paymentId: 'pay_1' },
    ],
    [
      'v2.cancel',
      '/api/open/v2/payments/cancel',
      (c) => c.v2.cancel({ paymentRequestId: 'o1' }),
      { paymentRequestId: 'o1' },
    ],
    [
      'v2.refund',
      '/api/open/v2/payments/refund',
      (c) =>
        c.v2.refund({
          refundRequestId: 'r2',
          paymentRequestId: 'o1',
          refundAmount: amount,
          refundNotifyUrl: 'https://shop.example/r',
        }),
      {
        refundRequestId: 'r2',
        paymentRequestId: 'o1',
        refundAmount: amount,
        refundNotifyUrl: 'https://shop.example/r',
      },
    ],
    [
      'v2.inquiryRefund',
      '/api/open/v2/payments/inquiryRefund',
      (c) => c.v2.inquiryRefund({ refundRequestId: 'r2' }),
      { refundRequestId: 'r2' },
    ],
  ];

  it.each(cases)(
    '%s posts to %s with exactly the body given, and resolves on S',
    async (_name, path, run, body) => {
      server.script({ reply: { result: S, refundId: 'rfd_1' } });
      await expect(run(client)).resolves.toMatchObject({ result: S });
      expect(server.requests).toHaveLength(1);
      expect([server.requests[0]!.path, JSON.parse(server.requests[0]!.body.toString('utf8'))]).toEqual([
        path,
        body,
      ]);
      expect(String(server.requests[0]!.headers['signature'])).toMatch(/^algorithm=RSA256/);
    },
  );

  it('throws the catalogue’s error class for F results, and never retries them', async () => {
    server.script(
      {
        reply: {
          result: { resultStatus: 'F', resultCode: 'REFUND_AMOUNT_EXCEED', resultMessage: 'at most 0' },
        },
      },
      { reply: { result: { resultStatus: 'F', resultCode: 'ORDER_NOT_EXIST', resultMessage: 'no' } } },
      {
        reply: {
          result: { resultStatus: 'F', resultCode: 'CURRENCY_NOT_SUPPORT', resultMessage: 'USD only' },
        },
      },
    );
    const refund = { refundRequestId: 'r', paymentId: 'pay_1', refundAmount: amount };
    const exceeded = await client.v2.refund(refund).catch((e: unknown) => e);
    expect(exceeded).toBeInstanceOf(BilleteraApiError);
    expect(exceeded).toMatchObject({ resultCode: 'REFUND_AMOUNT_EXCEED', attempts: 1 });
    await expect(client.v2.cancel({ paymentId: 'pay_x' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.v2.refund(refund)).rejects.toBeInstanceOf(InvalidRequestError);
    expect(server.requests).toHaveLength(3);
  });
});

describe('refund notifications', () => {
  const PATH = '/billetera/refunds';
  const REFUND: NotifyRefund = {
    refundId: 'rfd_1',
    refundRequestId: 'r1',
    paymentId: 'pay_1',
    refundAmount: { currency: 'USD', value: '500' },
    refundStatus: 'SUCCESS',
    refundTime: '2026-03-01T09:59:59+00:00',
    notificationId: 'ntf_1',
    sequence: 2,
  };
  const PAYMENT: NotifyPayment = {
    partnerId: 'P1',
    paymentId: 'pay_1',
    paymentRequestId: 'o1',
    paymentAmount: { currency: 'USD', value: '500' },
    paymentStatus: 'SUCCESS',
    notificationId: 'ntf_0',
    sequence: 1,
  };
  const signed = (notification: NotifyPayment | NotifyRefund) =>
    wallet.signNotification({ notification, path: PATH, clientId: CLIENT_ID });

  it('verifies a notifyRefund and returns it typed; a refund body is not a payment notification', async () => {
    const { body, headers } = await signed(REFUND);
    expect(client.verifyRefundNotification(body, headers, { path: PATH })).toEqual(REFUND);
    expect(() => client.verifyNotification(body, headers, { path: PATH })).toThrow(InvalidRequestError);
    expect(() =>
      client.verifyRefundNotification(body.replace('500', '501'), headers, { path: PATH }),
    ).toThrow(/content-changed|rejected/);
    expect(compileValidator(NotifyRefundSchema)(JSON.parse(body)).ok).toBe(true);
  });

  it('tells the two kinds apart on one URL with verifyAnyNotification', async () => {
    const refund = await signed(REFUND);
    const payment = await signed(PAYMENT);
    expect(client.verifyAnyNotification(refund.body, refund.headers, { path: PATH })).toEqual({
      type: 'refund',
      notification: REFUND,
    });
    expect(client.verifyAnyNotification(payment.body, payment.headers, { path: PATH })).toEqual({
      type: 'payment',
      notification: PAYMENT,
    });
    const bad = await signed({ ...REFUND, refundStatus: 'DONE' } as unknown as NotifyRefund);
    expect(() => client.verifyAnyNotification(bad.body, bad.headers, { path: PATH })).toThrow(
      /not a notifyRefund/,
    );
  });
});
