import { formatWireTime, parseSignatureHeader, type PayV1Request } from '@billetera/protocol';
import {
  generateRsaKeyPair,
  loadPrivateKey,
  loadPublicKey,
  verifySignature,
  type KeyPairPem,
} from '@billetera/protocol/signing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClient, type ClientOptions } from './billetera-client.ts';
import { createFixtureSigner, type FixtureSigner } from './fixture-signer.ts';
import { startScriptedWallet, type RecordedRequest, type ScriptedWallet } from './scripted-wallet.testkit.ts';
import {
  AuthenticationError,
  BilleteraApiError,
  ConnectionError,
  IdempotencyError,
  InvalidRequestError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  SignatureVerificationError,
  UnexpectedResponseError,
  UnknownResultError,
} from './sdk-errors.ts';

const CLIENT_ID = 'TEST_5X00000000000000';
const PAY_PATH = '/api/open/v1/payments/pay';
const START = Date.parse('2026-03-01T10:00:00Z');

const PAY: PayV1Request = {
  partnerId: 'P000000000000001',
  paymentOrderTitle: 'Zapatos ñandú',
  paymentRequestId: 'req-2026-0001',
  paymentAmount: { currency: 'USD', value: '1999' },
  paymentFactor: { isCashierPayment: true },
  paymentNotifyUrl: 'https://shop.example/billetera/notify',
};
const ACCEPT = {
  result: { resultStatus: 'A', resultCode: 'ACCEPT', resultMessage: 'accept' },
  paymentId: 'pay_7Qx2',
  actionForm: { actionFormType: 'REDIRECTION', redirectionUrl: 'https://wallet.example/cashier/pay_7Qx2' },
};
const outcome = (resultStatus: string, resultCode: string, resultMessage = `${resultCode} message`) => ({
  result: { resultStatus, resultCode, resultMessage },
});

let merchant: KeyPairPem;
let wallet: FixtureSigner;
let impostor: FixtureSigner;
let server: ScriptedWallet;
let clock: number;

beforeAll(async () => {
  [merchant, wallet, impostor] = await Promise.all([
    generateRsaKeyPair(),
    createFixtureSigner(),
    createFixtureSigner(),
  ]);
});
beforeEach(async () => {
  server = await startScriptedWallet(wallet);
  clock = START;
});
afterEach(() => server.close());

/** A client on the scripted wallet whose clock moves one second per reading, with short backoffs. */
function client(overrides: Partial<ClientOptions> = {}) {
  return createClient({
    baseUrl: server.baseUrl,
    clientId: CLIENT_ID,
    privateKey: merchant.privateKeyPem,
    walletPublicKey: wallet.walletPublicKeyPem,
    retryDelay: { baseMs: 1, maxMs: 4 },
    now: () => (clock += 1000),
    ...overrides,
  });
}

/** Rebuilds the content to sign by hand, so the test does not trust the SDK's own builder. */
function merchantSigned(req: RecordedRequest, body = req.body.toString('utf8')): boolean {
  const parsed = parseSignatureHeader(String(req.headers['signature']));
  if (!parsed.ok) return false;
  const content = `POST ${req.path}\n${String(req.headers['client-id'])}.${String(req.headers['request-time'])}.${body}`;
  return verifySignature(content, parsed.value.signature, loadPublicKey(merchant.publicKeyPem));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

function expectResignedSameBody(requests: RecordedRequest[]): void {
  const [first, second] = requests;
  if (!first || !second) throw new Error('expected two requests');
  expect(second.body.equals(first.body)).toBe(true);
  expect(second.headers['request-time']).not.toBe(first.headers['request-time']);
  expect(second.headers['signature']).not.toBe(first.headers['signature']);
  expect(merchantSigned(first)).toBe(true);
  expect(merchantSigned(second)).toBe(true);
}

describe('requests', () => {
  it('sends the body once serialised, with the four headers, signed over the exact content', async () => {
    server.script({ reply: ACCEPT });
    await client().pay(PAY);

    const [req] = server.requests;
    if (!req) throw new Error('no request arrived');
    expect(req.method).toBe('POST');
    expect(req.path).toBe(PAY_PATH);
    expect(req.body.toString('utf8')).toBe(JSON.stringify(PAY));
    expect(req.headers['content-type']).toBe('application/json; charset=UTF-8');
    expect(req.headers['client-id']).toBe(CLIENT_ID);
    expect(req.headers['request-time']).toBe(formatWireTime(START + 1000));
    expect(merchantSigned(req)).toBe(true);
    expect(merchantSigned(req, req.body.toString('utf8').replace('1999', '1998'))).toBe(false);
  });

  it('leaves keyVersion out unless configured (the wallet then uses the newest key)', async () => {
    server.script({ reply: ACCEPT }, { reply: ACCEPT });
    await client().pay(PAY);
    await client({ keyVersion: 3 }).pay(PAY);

    const [plain, versioned] = server.requests.map((r) =>
      parseSignatureHeader(String(r.headers['signature'])),
    );
    expect(plain?.ok && plain.value.keyVersion).toBeUndefined();
    expect(versioned?.ok && versioned.value.keyVersion).toBe(3);
    expect(String(server.requests[1]?.headers['signature'])).toMatch(
      /^algorithm=RSA256,keyVersion=3,signature=/,
    );
  });

  it('keeps and signs a path prefix of baseUrl', async () => {
    server.script({ reply: ACCEPT });
    await client({ baseUrl: `${server.baseUrl}/wallet/` }).pay(PAY);

    const [req] = server.requests;
    expect(req?.path).toBe(`/wallet${PAY_PATH}`);
    expect(req && merchantSigned(req)).toBe(true);
  });

  it('accepts KeyObjects, and refuses a bad key or option when the client is created', () => {
    const keys = {
      privateKey: loadPrivateKey(merchant.privateKeyPem),
      walletPublicKey: wallet.walletPublicKey,
    };
    expect(() => createClient({ baseUrl: server.baseUrl, clientId: CLIENT_ID, ...keys })).not.toThrow();
    expect(() => client({ privateKey: 'not a pem' })).toThrow();
    expect(() =>
      client({ walletPublicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' }),
    ).toThrow();
    expect(() => client({ maxRetries: 11 })).toThrow(RangeError);
    expect(() => client({ timeoutMs: 0 })).toThrow(RangeError);
    expect(() => client({ baseUrl: 'ftp://wallet.example' })).toThrow(TypeError);
  });
});

describe('replies', () => {
  it('pay resolves on A / ACCEPT with the cashier URL', async () => {
    server.script({ reply: ACCEPT });
    const reply = await client().pay(PAY);
    expect(reply).toEqual(ACCEPT);
    expect(reply.actionForm?.redirectionUrl).toBe('https://wallet.example/cashier/pay_7Qx2');
  });

  it('inquiryPayment posts to its path and resolves on S', async () => {
    const found = { ...outcome('S', 'SUCCESS'), paymentId: 'pay_7Qx2', paymentStatus: 'SUCCESS' };
    server.script({ reply: found });
    const reply = await client().inquiryPayment({ paymentId: 'pay_7Qx2' });
    expect(reply.paymentStatus).toBe('SUCCESS');
    expect(server.requests[0]?.path).toBe('/api/open/v1/payments/inquiryPayment');
    expect(server.requests[0]?.body.toString()).toBe('{"paymentId":"pay_7Qx2"}');
  });

  it.each([
    [
      'a body changed after signing',
      { tamper: (b: string) => b.replace('pay_7Qx2', 'pay_evil') },
      'content-changed',
      /body/,
    ],
    [
      'a reply signed with another key',
      { signer: 'impostor' },
      'wrong-key',
      /not made with the configured wallet public key/,
    ],
    ['no signature header', { omit: ['signature'] }, 'missing-header', /signature header is missing/],
    [
      'no response-time header',
      { omit: ['response-time'] },
      'missing-header',
      /response-time header is missing/,
    ],
    ['a reply for another Client-Id', { asClientId: 'OTHER' }, 'client-id-mismatch', /"OTHER"/],
  ] as const)('refuses %s, without retrying', async (_name, change, reason, message) => {
    const { signer, ...rest } = change as { signer?: 'impostor' };
    server.script({ reply: ACCEPT, ...rest, ...(signer ? { signer: impostor } : {}) });
    const err = await rejection(client().pay(PAY));
    expect(err).toBeInstanceOf(SignatureVerificationError);
    expect((err as SignatureVerificationError).reason).toBe(reason);
    expect((err as Error).message).toMatch(message);
    expect(server.requests).toHaveLength(1);
  });

  it('refuses a signed body that is not an OpenAPI reply', async () => {
    server.script({ reply: '<html>maintenance</html>' });
    const err = await rejection(client().pay(PAY));
    expect(err).toBeInstanceOf(UnexpectedResponseError);
    expect((err as UnexpectedResponseError).statusCode).toBe(200);
    expect(server.requests).toHaveLength(1);
  });
});

describe('F results', () => {
  it.each([
    ['CLIENT_INVALID', AuthenticationError],
    ['KEY_NOT_FOUND', AuthenticationError],
    ['INVALID_SIGNATURE', AuthenticationError],
    ['PARAM_ILLEGAL', InvalidRequestError],
    ['CURRENCY_NOT_SUPPORT', InvalidRequestError],
    ['INVALID_API', InvalidRequestError],
    ['REPEAT_REQ_INCONSISTENT', IdempotencyError],
    ['ACCESS_DENIED', PermissionError],
    ['PARTNER_STATUS_ABNORMAL', PermissionError],
    ['ORDER_NOT_EXIST', NotFoundError],
    ['RISK_REJECT', BilleteraApiError],
    ['USER_BALANCE_NOT_ENOUGH', BilleteraApiError],
  ] as const)('%s throws %O, never retried', async (code, ErrorClass) => {
    const reply = { ...outcome('F', code, `why ${code} happened`), paymentRequestId: PAY.paymentRequestId };
    server.script({ reply });
    const err = await rejection(client({ maxRetries: 2 }).pay(PAY));

    expect((err as object).constructor).toBe(ErrorClass);
    const apiError = err as BilleteraApiError;
    expect(apiError.name).toBe(ErrorClass.name);
    expect(apiError.resultCode).toBe(code);
    expect(apiError.resultMessage).toBe(`why ${code} happened`);
    expect(apiError.result).toEqual(reply.result);
    expect(apiError.reply).toEqual(reply);
    expect(apiError.traceId).toMatch(/^[0-9a-f-]{36}$/);
    expect(apiError.attempts).toBe(1);
    expect(server.requests).toHaveLength(1);
  });
});

describe('retries', () => {
  it('retries a U with the same body, re-signed with a fresh Request-Time', async () => {
    server.script({ reply: outcome('U', 'UNKNOWN_EXCEPTION') }, { reply: ACCEPT });
    await expect(client().pay(PAY)).resolves.toEqual(ACCEPT);
    expect(server.requests).toHaveLength(2);
    expectResignedSameBody(server.requests);
  });

  it('throws UnknownResultError when every attempt is U, after maxRetries retries', async () => {
    const busy = { reply: outcome('U', 'PAYMENT_IN_PROCESS') };
    server.script(busy, busy, busy);
    const err = await rejection(client({ maxRetries: 2 }).pay(PAY));
    expect(err).toBeInstanceOf(UnknownResultError);
    expect(err).not.toBeInstanceOf(RateLimitError);
    expect((err as UnknownResultError).resultCode).toBe('PAYMENT_IN_PROCESS');
    expect((err as UnknownResultError).attempts).toBe(3);
    expect(server.requests).toHaveLength(3);
  });

  it('throws RateLimitError when the wallet keeps throttling', async () => {
    const throttled = { reply: outcome('U', 'REQUEST_TRAFFIC_EXCEED_LIMIT') };
    server.script(throttled, throttled);
    const err = await rejection(client({ maxRetries: 1 }).inquiryPayment({ paymentRequestId: 'r' }));
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toBeInstanceOf(UnknownResultError);
    expect((err as RateLimitError).attempts).toBe(2);
  });

  it('does not retry with maxRetries 0', async () => {
    server.script({ reply: outcome('U', 'UNKNOWN_EXCEPTION') }, { reply: ACCEPT });
    const err = await rejection(client({ maxRetries: 0 }).pay(PAY));
    expect(err).toBeInstanceOf(UnknownResultError);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a dropped connection, re-signed, same body', async () => {
    server.script('drop', { reply: ACCEPT });
    await expect(client().pay(PAY)).resolves.toEqual(ACCEPT);
    expect(server.requests).toHaveLength(2);
    expectResignedSameBody(server.requests);
  });

  it('throws ConnectionError when the connection drops on every attempt', async () => {
    server.script('drop', 'drop', 'drop');
    const err = await rejection(client({ maxRetries: 2 }).pay(PAY));
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).not.toBeInstanceOf(UnexpectedResponseError);
    expect((err as ConnectionError).timedOut).toBe(false);
    expect((err as ConnectionError).attempts).toBe(3);
    expect(server.requests).toHaveLength(3);
  });

  it('names the socket error when nothing listens', async () => {
    const gone = await startScriptedWallet(wallet);
    await gone.close();
    const err = await rejection(client({ baseUrl: gone.baseUrl, maxRetries: 0 }).pay(PAY));
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('retries after a timeout, and throws a timed-out ConnectionError when every attempt hangs', async () => {
    server.script('hang', { reply: ACCEPT });
    await expect(client({ timeoutMs: 200 }).pay(PAY)).resolves.toEqual(ACCEPT);
    expectResignedSameBody(server.requests);

    server.script('hang', 'hang');
    const err = await rejection(client({ timeoutMs: 200, maxRetries: 1 }).pay(PAY));
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).timedOut).toBe(true);
    expect((err as ConnectionError).attempts).toBe(2);
    expect(server.requests).toHaveLength(4);
  });

  it('retries a gateway error (502/503) but not other statuses', async () => {
    server.script({ status: 503, body: 'unavailable' }, { reply: ACCEPT });
    await expect(client().pay(PAY)).resolves.toEqual(ACCEPT);
    expect(server.requests).toHaveLength(2);

    for (const status of [404, 302]) {
      server.requests.length = 0;
      server.script({ status, body: `<h1>${status}</h1>` });
      const err = await rejection(client().pay(PAY));
      expect(err).toBeInstanceOf(UnexpectedResponseError);
      expect(err).toBeInstanceOf(ConnectionError);
      expect((err as UnexpectedResponseError).statusCode).toBe(status);
      expect((err as UnexpectedResponseError).bodyExcerpt).toBe(`<h1>${status}</h1>`);
      expect(server.requests).toHaveLength(1);
    }
  });
});
