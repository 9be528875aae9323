import {
  NOTIFY_ACK_BODY,
  formatWireTime,
  parseSignatureHeader,
  type NotifyPayment,
} from '@billetera/protocol';
import {
  generateRsaKeyPair,
  loadPublicKey,
  signMessage,
  verifySignature,
  type KeyPairPem,
} from '@billetera/protocol/signing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createClient, type BilleteraClient } from './billetera-client.ts';
import { acknowledgement } from './build-acknowledgement.ts';
import { createFixtureSigner, type FixtureSigner } from './fixture-signer.ts';
import { InvalidRequestError, SignatureVerificationError } from './sdk-errors.ts';
import { verifyNotification } from './verify-notification.ts';

const CLIENT_ID = 'TEST_5X00000000000000';
const NOTIFY_PATH = '/billetera/notify?shop=1';
const SENT_AT = Date.parse('2026-03-01T10:00:00Z');

const NOTIFICATION: NotifyPayment = {
  partnerId: 'P000000000000001',
  paymentId: 'pay_7Qx2',
  paymentRequestId: 'req-2026-0001',
  paymentAmount: { currency: 'USD', value: '1999' },
  paymentStatus: 'SUCCESS',
  paymentTime: '2026-03-01T09:59:58+00:00',
};

let merchant: KeyPairPem;
let wallet: FixtureSigner;
let impostor: FixtureSigner;
let shop: BilleteraClient;

beforeAll(async () => {
  [merchant, wallet, impostor] = await Promise.all([
    generateRsaKeyPair(),
    createFixtureSigner({ now: () => SENT_AT }),
    createFixtureSigner({ now: () => SENT_AT }),
  ]);
  shop = clientAt(SENT_AT + 2_000);
});

function clientAt(now: number, toleranceSec?: number): BilleteraClient {
  return createClient({
    baseUrl: 'http://127.0.0.1:9',
    clientId: CLIENT_ID,
    privateKey: merchant.privateKeyPem,
    walletPublicKey: wallet.walletPublicKeyPem,
    now: () => now,
    ...(toleranceSec === undefined ? {} : { toleranceSec }),
  });
}

const notify = (
  overrides: { signer?: FixtureSigner; clientId?: string; path?: string; time?: string } = {},
) =>
  (overrides.signer ?? wallet).signNotification({
    notification: NOTIFICATION,
    path: overrides.path ?? NOTIFY_PATH,
    clientId: overrides.clientId ?? CLIENT_ID,
    ...(overrides.time === undefined ? {} : { time: overrides.time }),
  });

/** A wallet-signed message with any body, to test what happens after the signature holds. */
async function signedRaw(body: string) {
  const time = formatWireTime(SENT_AT);
  const signature = await signMessage({
    path: NOTIFY_PATH,
    clientId: CLIENT_ID,
    time,
    body,
    privateKey: wallet.walletPrivateKey,
    keyVersion: 1,
  });
  return { body, headers: { 'client-id': CLIENT_ID, 'request-time': time, signature } };
}

function signatureFailure(run: () => unknown): SignatureVerificationError {
  try {
    run();
  } catch (err) {
    if (err instanceof SignatureVerificationError) return err;
    throw err;
  }
  throw new Error('expected a SignatureVerificationError');
}

describe('verifyNotification', () => {
  it('returns the notification when the wallet signed it for this merchant and path', async () => {
    const { body, headers } = await notify();
    expect(shop.verifyNotification(body, headers, { path: NOTIFY_PATH })).toEqual(NOTIFICATION);
  });

  it('takes a Buffer body, headers in any case or as Headers, and a full URL', async () => {
    const { body, headers } = await notify();
    const titled = {
      'Client-Id': headers['client-id'],
      'REQUEST-TIME': headers['request-time'],
      Signature: headers['signature'],
    };
    const url = `https://shop.example${NOTIFY_PATH}`;
    expect(shop.verifyNotification(Buffer.from(body), titled, { path: NOTIFY_PATH })).toEqual(NOTIFICATION);
    expect(shop.verifyNotification(body, new Headers(headers), { path: url })).toEqual(NOTIFICATION);
  });

  it('works standalone with the wallet public key and this Client-Id', async () => {
    const { body, headers } = await notify();
    const options = { path: NOTIFY_PATH, walletPublicKey: wallet.walletPublicKeyPem, now: () => SENT_AT };
    expect(verifyNotification(body, headers, { ...options, clientId: CLIENT_ID })).toEqual(NOTIFICATION);
    const err = signatureFailure(() => verifyNotification(body, headers, { ...options, clientId: 'OTHER' }));
    expect(err.reason).toBe('client-id-mismatch');
  });

  it('refuses a changed or re-serialised body as content-changed', async () => {
    const { body, headers } = await notify();
    const changed = body.replace('"1999"', '"19990"');
    const reserialised = JSON.stringify(JSON.parse(body), null, 2);
    for (const other of [changed, reserialised]) {
      const err = signatureFailure(() => shop.verifyNotification(other, headers, { path: NOTIFY_PATH }));
      expect(err.reason).toBe('content-changed');
      expect(err.attempts).toBe(0);
    }
  });

  it('refuses a path other than the signed one', async () => {
    const { body, headers } = await notify();
    const err = signatureFailure(() => shop.verifyNotification(body, headers, { path: '/billetera/notify' }));
    expect(err.reason).toBe('content-changed');
    expect(err.message).toContain('(/billetera/notify)');
  });

  it('refuses a notification signed with another key as wrong-key', async () => {
    const { body, headers } = await notify({ signer: impostor });
    const err = signatureFailure(() => shop.verifyNotification(body, headers, { path: NOTIFY_PATH }));
    expect(err.reason).toBe('wrong-key');
  });

  it('refuses a notification for another merchant', async () => {
    const { body, headers } = await notify({ clientId: 'SOMEONE_ELSE' });
    const err = signatureFailure(() => shop.verifyNotification(body, headers, { path: NOTIFY_PATH }));
    expect(err.reason).toBe('client-id-mismatch');
    expect(err.message).toContain('SOMEONE_ELSE');
  });

  it('accepts ±300 s around the clock and refuses beyond, saying how far off', async () => {
    const { body, headers } = await notify();
    const check = { path: NOTIFY_PATH };
    expect(clientAt(SENT_AT + 299_000).verifyNotification(body, headers, check)).toEqual(NOTIFICATION);
    expect(clientAt(SENT_AT - 299_000).verifyNotification(body, headers, check)).toEqual(NOTIFICATION);

    const stale = signatureFailure(() =>
      clientAt(SENT_AT + 301_000).verifyNotification(body, headers, check),
    );
    expect(stale.reason).toBe('time-outside-window');
    expect(stale.message).toContain('301 s old');
    const early = signatureFailure(() =>
      clientAt(SENT_AT - 301_000).verifyNotification(body, headers, check),
    );
    expect(early.message).toContain('301 s in the future');
  });

  it('takes the window from toleranceSec, on the client or per call', async () => {
    const { body, headers } = await notify();
    const late = SENT_AT + 400_000;
    expect(clientAt(late, 600).verifyNotification(body, headers, { path: NOTIFY_PATH })).toEqual(
      NOTIFICATION,
    );
    expect(
      clientAt(late).verifyNotification(body, headers, { path: NOTIFY_PATH, toleranceSec: 500 }),
    ).toEqual(NOTIFICATION);
    const err = signatureFailure(() =>
      clientAt(SENT_AT + 61_000).verifyNotification(body, headers, { path: NOTIFY_PATH, toleranceSec: 60 }),
    );
    expect(err.reason).toBe('time-outside-window');
  });

  it('refuses a Request-Time that is not a wire time', async () => {
    const { body, headers } = await notify({ time: 'yesterday' });
    const err = signatureFailure(() => shop.verifyNotification(body, headers, { path: NOTIFY_PATH }));
    expect(err.reason).toBe('bad-time');
  });

  it.each(['client-id', 'request-time', 'signature'])('refuses a notification without %s', async (name) => {
    const { body, headers } = await notify();
    const without = Object.fromEntries(Object.entries(headers).filter(([key]) => key !== name));
    const err = signatureFailure(() => shop.verifyNotification(body, without, { path: NOTIFY_PATH }));
    expect(err.reason).toBe('missing-header');
    expect(err.message).toContain(`${name} header is missing`);
  });

  it('refuses a malformed Signature header', async () => {
    const { body, headers } = await notify();
    const broken = { ...headers, signature: 'algorithm=RSA256,keyVersion=1' };
    const err = signatureFailure(() => shop.verifyNotification(body, broken, { path: NOTIFY_PATH }));
    expect(err.reason).toBe('malformed-header');
  });

  it('refuses a signed body that is not a valid notifyPayment, naming the field', async () => {
    const badStatus = await signedRaw(JSON.stringify({ ...NOTIFICATION, paymentStatus: 'MAYBE' }));
    const notJson = await signedRaw('paymentStatus=SUCCESS');
    const check = { path: NOTIFY_PATH };
    expect(() => shop.verifyNotification(badStatus.body, badStatus.headers, check)).toThrow(
      /paymentStatus: has an unsupported value/,
    );
    expect(() => shop.verifyNotification(notJson.body, notJson.headers, check)).toThrow(InvalidRequestError);
    try {
      shop.verifyNotification(notJson.body, notJson.headers, check);
    } catch (err) {
      expect((err as InvalidRequestError).resultCode).toBe('PARAM_ILLEGAL');
      expect((err as InvalidRequestError).message).toMatch(/not valid JSON/);
    }
  });

  it('refuses a body that a JSON parser already turned into an object', async () => {
    const { body, headers } = await notify();
    const parsed = JSON.parse(body) as unknown as string;
    expect(() => shop.verifyNotification(parsed, headers, { path: NOTIFY_PATH })).toThrow(/raw request body/);
  });
});

describe('acknowledgement', () => {
  it('is HTTP 200 with the S body, unsigned without a path', async () => {
    const ack = await shop.acknowledgement();
    expect(ack).toEqual({
      statusCode: 200,
      headers: { 'content-type': 'application/json; charset=UTF-8' },
      body: NOTIFY_ACK_BODY,
    });
    expect(JSON.parse(ack.body)).toEqual({
      result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
    });
  });

  it('is signed with the merchant key over the notification path when one is given', async () => {
    const ack = await shop.acknowledgement({ path: NOTIFY_PATH });
    const { headers } = ack;
    expect(headers['client-id']).toBe(CLIENT_ID);
    expect(headers['response-time']).toBe(formatWireTime(SENT_AT + 2_000));
    const parsed = parseSignatureHeader(headers['signature']);
    if (!parsed.ok) throw new Error(`bad signature header: ${parsed.problem}`);
    const content = `POST ${NOTIFY_PATH}\n${CLIENT_ID}.${headers['response-time']}.${ack.body}`;
    const merchantKey = loadPublicKey(merchant.publicKeyPem);
    expect(verifySignature(content, parsed.value.signature, merchantKey)).toBe(true);
    expect(verifySignature(content, parsed.value.signature, wallet.walletPublicKey)).toBe(false);
  });

  it('standalone, carries the keyVersion it is given', async () => {
    const ack = await acknowledgement({
      path: NOTIFY_PATH,
      clientId: CLIENT_ID,
      privateKey: merchant.privateKeyPem,
      keyVersion: 2,
    });
    expect(ack.headers['signature']).toMatch(/^algorithm=RSA256,keyVersion=2,signature=/);
  });
});
