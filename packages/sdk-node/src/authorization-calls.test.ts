/**
 * The user-authorization calls (applyToken, cancelToken, inquiryUserInfo) against a scripted wallet:
 * each goes to its own path (v1, and v2 under `client.v2`), signed over the body exactly as given; S
 * resolves with the reply, F throws the catalogue's error class with its code and is never retried, U
 * is retried with the same body, and a reply that does not verify is refused.
 */
import { parseSignatureHeader, type ApplyTokenReply, type InquiryUserInfoReply } from '@billetera/protocol';
import {
  generateRsaKeyPair,
  loadPublicKey,
  verifySignature,
  type KeyPairPem,
} from '@billetera/protocol/signing';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createClient, type BilleteraClient } from './billetera-client.ts';
import { createFixtureSigner, type FixtureSigner } from './fixture-signer.ts';
import { startScriptedWallet, type RecordedRequest, type ScriptedWallet } from './scripted-wallet.testkit.ts';
import {
  BilleteraApiError,
  InvalidRequestError,
  PermissionError,
  SignatureVerificationError,
  UnknownResultError,
} from './sdk-errors.ts';

const CLIENT_ID = 'TEST_AUTHZ00000001';
const NOW = Date.parse('2026-03-01T10:00:00Z');
const S = { resultStatus: 'S' as const, resultCode: 'SUCCESS', resultMessage: 'success' };
const fail = (resultCode: string, resultStatus = 'F') => ({
  result: { resultStatus, resultCode, resultMessage: `why ${resultCode}` },
});

const TOKEN: ApplyTokenReply = {
  result: S,
  accessToken: 'at_2yq8Jw',
  accessTokenExpiryTime: '2026-03-01T11:00:00+00:00',
  refreshToken: 'rt_Kx01vZ',
  refreshTokenExpiryTime: '2026-03-31T10:00:00+00:00',
  customerId: 'cus_4Nf7',
};
const USER_INFO: InquiryUserInfoReply = {
  result: S,
  userInfo: { userId: 'cus_4Nf7', status: 'ACTIVE', nickName: 'Lupita', avatar: 'https://w.example/a.png' },
};

let merchant: KeyPairPem;
let wallet: FixtureSigner;
let impostor: FixtureSigner;
let server: ScriptedWallet;
let client: BilleteraClient;

beforeAll(async () => {
  [merchant, wallet, impostor] = await Promise.all([
    generateRsaKeyPair(),
    createFixtureSigner({ now: () => NOW }),
    createFixtureSigner({ now: () => NOW }),
  ]);
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

/** The request's signature, checked from a hand-built content to sign with the merchant's public key. */
function merchantSigned(req: RecordedRequest): boolean {
  const parsed = parseSignatureHeader(String(req.headers['signature']));
  if (!parsed.ok) return false;
  const content = `POST ${req.path}\n${String(req.headers['client-id'])}.${String(req.headers['request-time'])}.${req.body.toString('utf8')}`;
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

const APPLY_CODE = {
  grantType: 'AUTHORIZATION_CODE',
  authCode: 'ac_9Tz1',
  referenceClientId: '2026030100000001',
};
const APPLY_REFRESH = { grantType: 'REFRESH_TOKEN', refreshToken: 'rt_Kx01vZ', extendInfo: '{"a":1}' };
const CANCEL = { accessToken: 'at_2yq8Jw' };
const INQUIRY = { accessToken: 'at_2yq8Jw', authClientId: CLIENT_ID };

describe('authorization calls', () => {
  const cases: [string, string, (c: BilleteraClient) => Promise<unknown>, object, object][] = [
    [
      'applyToken (authCode)',
      '/api/open/v1/authorizations/applyToken',
      (c) => c.applyToken(APPLY_CODE),
      APPLY_CODE,
      TOKEN,
    ],
    [
      'applyToken (refresh)',
      '/api/open/v1/authorizations/applyToken',
      (c) => c.applyToken(APPLY_REFRESH),
      APPLY_REFRESH,
      TOKEN,
    ],
    [
      'cancelToken',
      '/api/open/v1/authorizations/cancelToken',
      (c) => c.cancelToken(CANCEL),
      CANCEL,
      { result: S },
    ],
    [
      'inquiryUserInfo',
      '/api/open/v1/users/inquiryUserInfo',
      (c) => c.inquiryUserInfo(INQUIRY),
      INQUIRY,
      USER_INFO,
    ],
    [
      'v2.applyToken',
      '/api/open/v2/authorizations/applyToken',
      (c) => c.v2.applyToken(APPLY_CODE),
      APPLY_CODE,
      TOKEN,
    ],
    [
      'v2.cancelToken',
      '/api/open/v2/authorizations/cancelToken',
      (c) => c.v2.cancelToken(CANCEL),
      CANCEL,
      { result: S },
    ],
    [
      'v2.inquiryUserInfo',
      '/api/open/v2/users/inquiryUserInfo',
      (c) => c.v2.inquiryUserInfo({ accessToken: 'at_2yq8Jw' }),
      { accessToken: 'at_2yq8Jw' },
      {
        result: S,
        userInfo: { userId: 'cus_4Nf7', status: 'ACTIVE', birthDate: '1990-05-04', gender: 'FEMALE' },
      },
    ],
  ];

  it.each(cases)(
    '%s posts to %s the body as given, signed, and resolves on S with the reply',
    async (_name, path, run, body, reply) => {
      server.script({ reply });
      await expect(run(client)).resolves.toEqual(reply);
      expect(server.requests).toHaveLength(1);
      const [sent] = server.requests;
      expect(sent?.path).toBe(path);
      expect(sent?.body.toString('utf8')).toBe(JSON.stringify(body));
      expect(sent?.headers['client-id']).toBe(CLIENT_ID);
      expect(merchantSigned(sent!)).toBe(true);
    },
  );

  it('types the replies: the token and the user as the wallet sent them', async () => {
    server.script({ reply: TOKEN }, { reply: USER_INFO });
    const token = await client.applyToken(APPLY_CODE);
    expect([token.accessToken, token.customerId]).toEqual(['at_2yq8Jw', 'cus_4Nf7']);
    const { userInfo } = await client.inquiryUserInfo({ accessToken: token.accessToken ?? '' });
    expect(userInfo?.nickName).toBe('Lupita');
    expect(userInfo?.userId).toBe(token.customerId);
  });

  it.each([
    ['INVALID_CODE', BilleteraApiError, (c: BilleteraClient) => c.applyToken(APPLY_CODE)],
    ['USED_CODE', BilleteraApiError, (c: BilleteraClient) => c.v2.applyToken(APPLY_CODE)],
    ['EXPIRED_CODE', BilleteraApiError, (c: BilleteraClient) => c.applyToken(APPLY_CODE)],
    ['REFERENCE_CLIENT_ID_NOT_MATCH', BilleteraApiError, (c: BilleteraClient) => c.applyToken(APPLY_CODE)],
    [
      'AUTH_CLIENT_UNSUPPORTED_GRANT_TYPE',
      BilleteraApiError,
      (c: BilleteraClient) => c.applyToken({ grantType: 'PASSWORD' }),
    ],
    ['USED_REFRESH_TOKEN', BilleteraApiError, (c: BilleteraClient) => c.v2.applyToken(APPLY_REFRESH)],
    ['EXPIRED_REFRESH_TOKEN', BilleteraApiError, (c: BilleteraClient) => c.applyToken(APPLY_REFRESH)],
    ['INVALID_ACCESS_TOKEN', BilleteraApiError, (c: BilleteraClient) => c.cancelToken(CANCEL)],
    ['EXPIRED_ACCESS_TOKEN', BilleteraApiError, (c: BilleteraClient) => c.v2.inquiryUserInfo(INQUIRY)],
    ['INVALID_AUTH_CLIENT', BilleteraApiError, (c: BilleteraClient) => c.inquiryUserInfo(INQUIRY)],
    ['ACCESS_DENIED', PermissionError, (c: BilleteraClient) => c.inquiryUserInfo(INQUIRY)],
    ['PARAM_ILLEGAL', InvalidRequestError, (c: BilleteraClient) => c.v2.cancelToken({ accessToken: 'x' })],
  ] as const)('an F / %s throws %O with the code, never retried', async (code, ErrorClass, run) => {
    const retrying = createClient({
      baseUrl: server.baseUrl,
      clientId: CLIENT_ID,
      privateKey: merchant.privateKeyPem,
      walletPublicKey: wallet.walletPublicKeyPem,
      now: () => NOW,
      maxRetries: 2,
      retryDelay: { baseMs: 1, maxMs: 2 },
    });
    server.script({ reply: fail(code) });
    const err = await rejection(run(retrying));
    expect((err as object).constructor).toBe(ErrorClass);
    expect(err).toMatchObject({ resultCode: code, resultMessage: `why ${code}`, attempts: 1 });
    expect(server.requests).toHaveLength(1);
  });

  it('retries a U with the same bytes, and throws UnknownResultError when it stays U', async () => {
    const retrying = createClient({
      baseUrl: server.baseUrl,
      clientId: CLIENT_ID,
      privateKey: merchant.privateKeyPem,
      walletPublicKey: wallet.walletPublicKeyPem,
      now: () => NOW,
      maxRetries: 1,
      retryDelay: { baseMs: 1, maxMs: 2 },
    });
    server.script({ reply: fail('UNKNOWN_EXCEPTION', 'U') }, { reply: USER_INFO });
    await expect(retrying.v2.inquiryUserInfo(INQUIRY)).resolves.toEqual(USER_INFO);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]?.body.equals(server.requests[0]!.body)).toBe(true);
    expect(server.requests.every(merchantSigned)).toBe(true);

    server.script({ reply: fail('UNKNOWN_EXCEPTION', 'U') }, { reply: fail('UNKNOWN_EXCEPTION', 'U') });
    const err = await rejection(retrying.cancelToken(CANCEL));
    expect(err).toBeInstanceOf(UnknownResultError);
    expect(err).toMatchObject({ resultCode: 'UNKNOWN_EXCEPTION', attempts: 2 });
  });

  it('never retries applyToken: its code or refresh token may already be spent', async () => {
    const retrying = createClient({
      baseUrl: server.baseUrl,
      clientId: CLIENT_ID,
      privateKey: merchant.privateKeyPem,
      walletPublicKey: wallet.walletPublicKeyPem,
      now: () => NOW,
      maxRetries: 3,
      retryDelay: { baseMs: 1, maxMs: 2 },
    });
    for (const apply of [retrying.applyToken, retrying.v2.applyToken]) {
      server.script({ reply: fail('UNKNOWN_EXCEPTION', 'U') }, { reply: fail('UNKNOWN_EXCEPTION', 'U') });
      const before = server.requests.length;
      const err = await rejection(apply({ grantType: 'AUTHORIZATION_CODE', authCode: 'code-1' }));
      expect(err).toBeInstanceOf(UnknownResultError);
      expect(err).toMatchObject({ attempts: 1 });
      expect(server.requests.length - before).toBe(1);
    }
  });

  it.each([
    [
      'a token changed after signing',
      { tamper: (b: string) => b.replace('cus_4Nf7', 'cus_evil') },
      'content-changed',
    ],
    ['a reply signed with another key', { signer: 'impostor' }, 'wrong-key'],
    ['an unsigned reply', { omit: ['signature'] }, 'missing-header'],
    ['a reply for another Client-Id', { asClientId: 'OTHER' }, 'client-id-mismatch'],
  ] as const)('refuses %s, so a forged customerId never reaches the shop', async (_name, change, reason) => {
    const { signer, ...rest } = change as { signer?: 'impostor' };
    server.script({ reply: TOKEN, ...rest, ...(signer ? { signer: impostor } : {}) });
    const err = await rejection(client.applyToken(APPLY_CODE));
    expect(err).toBeInstanceOf(SignatureVerificationError);
    expect((err as SignatureVerificationError).reason).toBe(reason);
  });
});
