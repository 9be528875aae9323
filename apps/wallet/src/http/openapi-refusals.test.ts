/**
 * Every refusal of the signed OpenAPI, one by one: a catalogued code in an HTTP 200 signed reply, a
 * message that names what is wrong, and nothing changed in the database.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import {
  isoNow,
  specCall,
  specKeys,
  specSign,
  verifyReply,
  type SpecReply,
} from '../../../../test/spec-merchant.ts';
import { addMerchant, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import { addMerchantKey } from '@billetera/store';
import type { RunningWallet } from '../wallet.ts';
import { OPENAPI_BODY_LIMIT_BYTES } from './openapi-routes.ts';

const PAY = '/api/open/v1/payments/pay';
const INQUIRY = '/api/open/v1/payments/inquiryPayment';

for (const backend of BACKENDS) {
  describe(`OpenAPI refusals on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let shop: TestMerchant;
    let other: TestMerchant;
    let counter = 0;
    const countPayments = async () =>
      Number(
        (
          await wallet.ctx.store.db
            .selectFrom('payments')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const payBody = (over: Record<string, unknown> = {}) =>
      JSON.stringify({
        partnerId: shop.merchant.partnerId,
        paymentRequestId: `req-${++counter}`,
        paymentOrderTitle: 'Shoes',
        paymentAmount: { currency: 'USD', value: '1999' },
        ...over,
      });
    const call = (body: string, o: Partial<Parameters<typeof specCall>[3]> = {}, path = PAY) =>
      specCall(wallet.url, path, body, {
        clientId: shop.merchant.clientId,
        privateKey: shop.keys.privateKey,
        ...o,
      });

    let paymentsBefore = 0;
    /** Asserts a signed F reply with this code, a message matching `message`, and no new payment. */
    async function expectRefusal(reply: SpecReply, code: string, message: RegExp, path = PAY) {
      expect(reply.status).toBe(200);
      expect(reply.body.result.resultStatus).toBe('F');
      expect(reply.body.result.resultCode).toBe(code);
      expect(reply.body.result.resultMessage).toMatch(message);
      expect(verifyReply(reply, path, wallet.ctx.secrets.walletPublicKeyPem)).toBe(true);
      expect(await countPayments()).toBe(paymentsBefore);
    }

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env, { workers: false });
      shop = await addMerchant(wallet.ctx);
      other = await addMerchant(wallet.ctx, { keys: specKeys(true), name: 'Other Shop' });
    });
    afterAll(async () => {
      await wallet?.close();
      await env?.cleanup();
    });
    beforeEach(async () => {
      paymentsBefore = await countPayments();
    });

    it('refuses a tampered body (signature over other bytes)', async () => {
      const body = payBody();
      await expectRefusal(
        await call(body, { signBody: body.replace('1999', '1') }),
        'INVALID_SIGNATURE',
        /does not match/,
      );
    });

    it('refuses a signature made for another path', async () => {
      await expectRefusal(
        await call(payBody(), { signPath: INQUIRY }),
        'INVALID_SIGNATURE',
        /does not match/,
      );
    });

    it('refuses a request signed with another key', async () => {
      const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      await expectRefusal(
        await call(payBody(), { privateKey: stranger }),
        'INVALID_SIGNATURE',
        /does not match/,
      );
    });

    it("refuses a request signed with another merchant's key", async () => {
      await expectRefusal(
        await call(payBody(), { privateKey: other.keys.privateKey }),
        'INVALID_SIGNATURE',
        /does not match/,
      );
    });

    it('refuses an unknown Client-Id', async () => {
      await expectRefusal(
        await call(payBody(), { clientId: 'NOSUCHCLIENT0000' }),
        'CLIENT_INVALID',
        /unknown Client-Id/,
      );
    });

    it('refuses an unknown keyVersion', async () => {
      await expectRefusal(await call(payBody(), { keyVersion: 7 }), 'KEY_NOT_FOUND', /keyVersion 7/);
    });

    it('refuses a Request-Time an hour off, either way', async () => {
      await expectRefusal(
        await call(payBody(), { requestTime: isoNow(Date.now() - 3_600_000) }),
        'INVALID_SIGNATURE',
        /outside the window/,
      );
      await expectRefusal(
        await call(payBody(), { requestTime: isoNow(Date.now() + 3_600_000) }),
        'INVALID_SIGNATURE',
        /outside the window/,
      );
    });

    it('refuses an unparseable Request-Time, and a missing Signature or Client-Id', async () => {
      await expectRefusal(
        await call(payBody(), { requestTime: 'yesterday' }),
        'PARAM_ILLEGAL',
        /Request-Time/,
      );
      await expectRefusal(await call(payBody(), { signatureHeader: '' }), 'INVALID_SIGNATURE', /missing/);
      await expectRefusal(
        await call(payBody(), { signatureHeader: 'algorithm=RSA256,keyVersion=1,signature=%%%' }),
        'INVALID_SIGNATURE',
        /invalid/,
      );
      await expectRefusal(await call(payBody(), { clientId: '' }), 'PARAM_ILLEGAL', /Client-Id/);
    });

    it('refuses malformed JSON, a JSON array and an empty body', async () => {
      await expectRefusal(await call('{"partnerId": '), 'PARAM_ILLEGAL', /not valid JSON/);
      await expectRefusal(await call('[1,2]'), 'PARAM_ILLEGAL', /JSON object/);
      await expectRefusal(await call(''), 'PARAM_ILLEGAL', /empty/);
    });

    it('refuses missing fields, naming them', async () => {
      const body = JSON.parse(payBody()) as Record<string, unknown>;
      for (const field of ['paymentRequestId', 'paymentOrderTitle', 'paymentAmount', 'partnerId']) {
        const copy = { ...body };
        delete copy[field];
        await expectRefusal(
          await call(JSON.stringify(copy)),
          'PARAM_ILLEGAL',
          new RegExp(`${field}.*required`),
        );
      }
      await expectRefusal(
        await call(payBody({ paymentAmount: { currency: 'USD' } })),
        'PARAM_ILLEGAL',
        /paymentAmount\.value.*required/,
      );
    });

    it('refuses negative, zero, fractional, float and oversized amounts', async () => {
      for (const value of ['-100', '0', '19.99', '0100']) {
        await expectRefusal(
          await call(payBody({ paymentAmount: { currency: 'USD', value } })),
          'PARAM_ILLEGAL',
          /paymentAmount\.value/,
        );
      }
      await expectRefusal(
        await call(payBody({ paymentAmount: { currency: 'USD', value: 1999 } })),
        'PARAM_ILLEGAL',
        /paymentAmount\.value.*string/,
      );
      await expectRefusal(
        await call(payBody({ paymentAmount: { currency: 'USD', value: '12345678901234567' } })),
        'PARAM_ILLEGAL',
        /paymentAmount\.value/,
      );
      await expectRefusal(
        await call(payBody({ paymentAmount: { currency: 'USD', value: '9999999999999999' } })),
        'PAYMENT_AMOUNT_EXCEED_LIMIT',
        /at most/,
      );
    });

    it('refuses fields that are too long, naming them', async () => {
      await expectRefusal(
        await call(payBody({ paymentRequestId: 'x'.repeat(65) })),
        'PARAM_ILLEGAL',
        /paymentRequestId.*at most 64/,
      );
      await expectRefusal(
        await call(payBody({ paymentOrderTitle: 'x'.repeat(257) })),
        'PARAM_ILLEGAL',
        /paymentOrderTitle.*at most 256/,
      );
    });

    it('refuses an unsupported currency (unknown, or non-monetary like gold)', async () => {
      await expectRefusal(
        await call(payBody({ paymentAmount: { currency: 'ABC', value: '100' } })),
        'CURRENCY_NOT_SUPPORT',
        /ABC/,
      );
      await expectRefusal(
        await call(payBody({ paymentAmount: { currency: 'XAU', value: '100' } })),
        'CURRENCY_NOT_SUPPORT',
        /XAU/,
      );
      await expectRefusal(
        await call(payBody({ paymentAmount: { currency: 'usd', value: '100' } })),
        'PARAM_ILLEGAL',
        /currency/,
      );
    });

    it('refuses a body over the size limit with an HTTP 200 envelope', async () => {
      const huge = payBody({ extendInfo: 'x'.repeat(OPENAPI_BODY_LIMIT_BYTES) });
      await expectRefusal(await call(huge), 'PARAM_ILLEGAL', /larger than/);
    });

    it('refuses the same paymentRequestId with another body, and replays the same one', async () => {
      const body = payBody({ paymentRequestId: 'dup-1' });
      const first = await call(body);
      expect(first.body.result.resultCode).toBe('ACCEPT');
      paymentsBefore = await countPayments();
      const replay = await call(body);
      expect(replay.raw).toBe(first.raw);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      // Same meaning, other key order: still the same request.
      const reordered = JSON.stringify(
        Object.fromEntries(Object.entries(JSON.parse(body) as object).reverse()),
      );
      expect((await call(reordered)).body['paymentId']).toBe(first.body['paymentId']);
      await expectRefusal(
        await call(payBody({ paymentRequestId: 'dup-1', paymentAmount: { currency: 'USD', value: '2000' } })),
        'REPEAT_REQ_INCONSISTENT',
        /different parameters/,
      );
    });

    it("answers ORDER_NOT_EXIST for another merchant's payment, exactly as for an unknown one", async () => {
      const mine = await call(payBody());
      paymentsBefore = await countPayments();
      const id = mine.body['paymentId'] as string;
      const asOther = (body: string) =>
        specCall(wallet.url, INQUIRY, body, {
          clientId: other.merchant.clientId,
          privateKey: other.keys.privateKey,
        });
      const stolen = await asOther(JSON.stringify({ paymentId: id }));
      const unknown = await asOther(JSON.stringify({ paymentId: 'pay_doesnotexist' }));
      await expectRefusal(stolen, 'ORDER_NOT_EXIST', /does not exist/, INQUIRY);
      expect(stolen.body).toEqual(unknown.body);
      const byRequestId = await asOther(
        JSON.stringify({ paymentRequestId: JSON.parse(mine.raw).paymentRequestId }),
      );
      await expectRefusal(byRequestId, 'ORDER_NOT_EXIST', /does not exist/, INQUIRY);
    });

    it('refuses a partnerId that is not the caller', async () => {
      await expectRefusal(
        await call(payBody({ partnerId: other.merchant.partnerId })),
        'ACCESS_DENIED',
        /partnerId/,
      );
    });

    it('refuses payments for a merchant whose licence is not verified', async () => {
      const unverified = await addMerchant(wallet.ctx, { verified: false, keys: specKeys(true) });
      const reply = await specCall(wallet.url, PAY, payBody({ partnerId: unverified.merchant.partnerId }), {
        clientId: unverified.merchant.clientId,
        privateKey: unverified.keys.privateKey,
      });
      await expectRefusal(reply, 'PARTNER_STATUS_ABNORMAL', /verified/);
    });

    it('refuses a paymentExpiryTime in the past or beyond 7 days, and bad URLs', async () => {
      await expectRefusal(
        await call(payBody({ paymentExpiryTime: isoNow(Date.now() - 1000) })),
        'PARAM_ILLEGAL',
        /paymentExpiryTime.*future/,
      );
      await expectRefusal(
        await call(payBody({ paymentExpiryTime: isoNow(Date.now() + 8 * 86_400_000) })),
        'PARAM_ILLEGAL',
        /paymentExpiryTime.*7 days/,
      );
      await expectRefusal(
        await call(payBody({ paymentExpiryTime: 'soon' })),
        'PARAM_ILLEGAL',
        /paymentExpiryTime/,
      );
      await expectRefusal(
        await call(payBody({ paymentNotifyUrl: 'javascript:alert(1)' })),
        'PARAM_ILLEGAL',
        /paymentNotifyUrl/,
      );
      await expectRefusal(
        await call(payBody({ extraParams: { ORDER: 'not json' } })),
        'PARAM_ILLEGAL',
        /extraParams\.ORDER/,
      );
      await expectRefusal(
        await call(payBody({ paymentFactor: { isAgreementPay: true } })),
        'PARAM_ILLEGAL',
        /isAgreementPay/,
      );
      await expectRefusal(await call(payBody({ appId: '3333010071465913' })), 'ACCESS_DENIED', /appId/);
    });

    it('answers INVALID_API for an unknown path and METHOD_NOT_SUPPORTED for GET, both signed', async () => {
      const path = '/api/open/v1/payments/teleport';
      await expectRefusal(await call('{}', {}, path), 'INVALID_API', /no such API/, path);
      const res = await fetch(wallet.url + PAY);
      const raw = await res.text();
      expect(res.status).toBe(200);
      expect(JSON.parse(raw).result.resultCode).toBe('METHOD_NOT_SUPPORTED');
    });

    it('refuses inquiry without an id', async () => {
      await expectRefusal(
        await call(JSON.stringify({ partnerId: shop.merchant.partnerId }), {}, INQUIRY),
        'PARAM_ILLEGAL',
        /paymentId or paymentRequestId/,
        INQUIRY,
      );
    });

    it('accepts the tolerated forms: no spaces, URL-safe base64, no keyVersion (newest key), epoch-ms time, lower-case headers', async () => {
      const time = String(Date.now());
      const body = payBody();
      const std = decodeURIComponent(specSign(PAY, shop.merchant.clientId, time, body, shop.keys.privateKey));
      const urlSafe = std.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      const reply = await call(body, {
        requestTime: time,
        signatureHeader: `algorithm=RSA256,signature=${urlSafe}`,
      });
      expect(reply.body.result.resultCode).toBe('ACCEPT');
    });

    it('accepts both key versions during a rotation, and the newest when keyVersion is absent', async () => {
      const next = specKeys(true);
      expect(await addMerchantKey(wallet.ctx.store.db, shop.merchant.id, next.publicKeyPem, Date.now())).toBe(
        2,
      );
      await new Promise((r) => setTimeout(r, 1_100)); // the cache reloads on an unknown version at most once a second
      expect(
        (await call(payBody(), { privateKey: next.privateKey, keyVersion: 2 })).body.result.resultCode,
      ).toBe('ACCEPT');
      expect((await call(payBody(), { keyVersion: 1 })).body.result.resultCode).toBe('ACCEPT');
      const noVersion = (key: typeof next.privateKey) => {
        const time = isoNow();
        const body = payBody();
        return call(body, {
          requestTime: time,
          signatureHeader: `algorithm=RSA256, signature=${specSign(PAY, shop.merchant.clientId, time, body, key)}`,
        });
      };
      expect((await noVersion(next.privateKey)).body.result.resultCode).toBe('ACCEPT');
      paymentsBefore = await countPayments();
      await expectRefusal(await noVersion(shop.keys.privateKey), 'INVALID_SIGNATURE', /does not match/);
    });
  });
}
