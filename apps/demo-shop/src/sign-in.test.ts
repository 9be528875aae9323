/**
 * "Sign in with Billetera" against the REAL wallet (real sockets, SQLite file): the user's consent is
 * given with the wallet's `issueAuthCode` (what the host app does after the consent sheet), the shop
 * exchanges the code (applyToken), reads the user (inquiryUserInfo) and keeps a session; an order placed
 * with that session carries the user's customerId as the v2 `order.buyer.referenceBuyerId`. Bad, used
 * and mismatched codes are clear 4xx refusals that create no session.
 */
import { findPaymentById } from '@billetera/store';
import { createUser, issueAuthCode, type RunningWallet } from '@billetera/wallet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../test/backends.ts';
import { addMerchant, startTestWallet, type TestMerchant } from '../../../test/wallet-harness.ts';
import { startDemoShop, type RunningDemoShop } from './demo-shop.ts';

const [sqlite] = BACKENDS;
if (sqlite?.name !== 'sqlite') throw new Error('BACKENDS[0] is expected to be SQLite');

interface Json {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function postJson(base: string, path: string, body: unknown): Promise<Json> {
  const res = await fetch(new URL(path, base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'null' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

function startShop(wallet: RunningWallet, { merchant, keys }: TestMerchant, appId?: string) {
  return startDemoShop({
    port: 0,
    walletUrl: wallet.url,
    clientId: merchant.clientId,
    partnerId: merchant.partnerId,
    privateKeyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    walletPublicKeyPem: wallet.ctx.secrets.walletPublicKeyPem,
    ...(appId !== undefined ? { appId } : {}),
    logLevel: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  });
}

let phones = 0;
const newPhone = () => `+1556${process.pid % 1000}${String(++phones).padStart(5, '0')}`;

describe('sign in with Billetera, against the wallet', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let merchant: TestMerchant;
  let shop: RunningDemoShop;
  let lupita: { id: string };

  beforeAll(async () => {
    env = await sqlite.create();
    wallet = await startTestWallet(env);
    merchant = await addMerchant(wallet.ctx, { name: 'Billetera Demo Shop' });
    shop = await startShop(wallet, merchant);
    lupita = await createUser(wallet.ctx, { phone: newPhone(), pin: '123456', displayName: 'Lupita' });
  });
  afterAll(async () => {
    await shop?.close();
    await wallet?.close();
    await env?.cleanup();
  });

  /** The user agrees to share `scopes` with the shop (what the host app's consent sheet does). */
  const consent = async (userId: string, scopes: string[] = ['auth_user']) =>
    (await issueAuthCode(wallet.ctx, { userId, merchantId: merchant.merchant.id, scopes })).authCode;

  const storedCustomerId = async (userId: string) =>
    (
      await wallet.ctx.store.db
        .selectFrom('customer_ids')
        .select('customer_id')
        .where('merchant_id', '=', merchant.merchant.id)
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow()
    ).customer_id;

  it('creates a session with the nickname and the customerId the wallet gave this shop', async () => {
    const res = await postJson(shop.url, '/api/session', { authCode: await consent(lupita.id) });
    expect(res.status).toBe(201);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const customerId = await storedCustomerId(lupita.id);
    expect(res.body).toEqual({
      sessionId: expect.stringMatching(/^ses_[A-Za-z0-9_-]{24}$/),
      customerId,
      nickName: 'Lupita',
    });
    // A pseudonym for this shop, never the wallet's own user id; and no token leaves the shop.
    expect(customerId).not.toBe(lupita.id);
    expect(JSON.stringify(res.body)).not.toContain(lupita.id);

    // Signing in again is a new session for the same customer.
    const again = await postJson(shop.url, '/api/session', { authCode: await consent(lupita.id) });
    expect(again.status).toBe(201);
    expect(again.body['customerId']).toBe(customerId);
    expect(again.body['sessionId']).not.toBe(res.body['sessionId']);
  });

  it('leaves nickName out when the user shared only their id (auth_base)', async () => {
    const res = await postJson(shop.url, '/api/session', {
      authCode: await consent(lupita.id, ['auth_base']),
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      sessionId: expect.any(String),
      customerId: await storedCustomerId(lupita.id),
    });
  });

  it('puts the signed-in customer in the pay request as order.buyer.referenceBuyerId', async () => {
    const session = await postJson(shop.url, '/api/session', { authCode: await consent(lupita.id) });
    const { sessionId, customerId } = session.body as { sessionId: string; customerId: string };

    const signedIn = await postJson(shop.url, '/api/orders', { productId: 'matcha-set', sessionId });
    expect(signedIn.status).toBe(201);
    const { orderId, tradeNO, paymentUrl } = signedIn.body as Record<string, string>;
    expect(paymentUrl).toBe(`${wallet.url}/cashier/${tradeNO}`);
    const payment = await findPaymentById(wallet.ctx.store.db, tradeNO!);
    expect(payment).toMatchObject({ paymentRequestId: orderId, orderTitle: 'Matcha set', amount: 1200n });
    expect(JSON.parse(payment?.orderJson ?? 'null')).toEqual({
      referenceOrderId: orderId,
      orderDescription: 'Matcha set',
      orderAmount: { currency: 'JPY', value: '1200' },
      buyer: { referenceBuyerId: customerId },
    });

    // Without a session the order has no buyer.
    const anonymous = await postJson(shop.url, '/api/orders', { productId: 'matcha-set' });
    expect(anonymous.status).toBe(201);
    const other = await findPaymentById(wallet.ctx.store.db, anonymous.body['tradeNO'] as string);
    expect(JSON.parse(other?.orderJson ?? 'null')).not.toHaveProperty('buyer');
  });

  it('refuses a used or unknown authCode with 401 and the wallet code, and creates no session', async () => {
    const authCode = await consent(lupita.id);
    const first = await postJson(shop.url, '/api/session', { authCode });
    expect(first.status).toBe(201);

    const reused = await postJson(shop.url, '/api/session', { authCode });
    expect(reused.status).toBe(401);
    expect(reused.body).toEqual({ error: 'USED_CODE', message: expect.stringMatching(/already used/) });
    expect(reused.headers.get('access-control-allow-origin')).toBe('*');

    const unknown = await postJson(shop.url, '/api/session', { authCode: 'not-a-real-code' });
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual({ error: 'INVALID_CODE', message: expect.stringMatching(/not valid/) });
    for (const refused of [reused, unknown]) expect(refused.body).not.toHaveProperty('sessionId');
  });

  it('refuses malformed sign-ins with 400, and orders with an unknown session with 401', async () => {
    for (const body of [{}, { authCode: '' }, { authCode: 7 }, [], { authCode: 'x'.repeat(129) }]) {
      const res = await postJson(shop.url, '/api/session', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'INVALID_REQUEST' });
    }
    const badShape = await postJson(shop.url, '/api/orders', {
      productId: 'cafe-de-olla',
      sessionId: 'who-knows',
    });
    expect(badShape.status).toBe(400);
    expect(badShape.body).toMatchObject({ error: 'INVALID_REQUEST' });

    const forgotten = await postJson(shop.url, '/api/orders', {
      productId: 'cafe-de-olla',
      sessionId: `ses_${'A'.repeat(24)}`,
    });
    expect(forgotten.status).toBe(401);
    expect(forgotten.body).toMatchObject({ error: 'SESSION_NOT_FOUND' });
  });

  it('sends its appId as referenceClientId: a code issued elsewhere is refused', async () => {
    const inApp = await startShop(wallet, merchant, 'app_not_where_the_code_came_from');
    try {
      const res = await postJson(inApp.url, '/api/session', { authCode: await consent(lupita.id) });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: 'REFERENCE_CLIENT_ID_NOT_MATCH' });
    } finally {
      await inApp.close();
    }
  });

  it('answers 502 when the wallet cannot be reached', async () => {
    const stopped = await startDemoShop({
      port: 0,
      walletUrl: 'http://127.0.0.1:9',
      clientId: merchant.merchant.clientId,
      partnerId: merchant.merchant.partnerId,
      privateKeyPem: merchant.keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      walletPublicKeyPem: wallet.ctx.secrets.walletPublicKeyPem,
      logLevel: 'silent',
    });
    try {
      const res = await postJson(stopped.url, '/api/session', { authCode: 'ac_whatever' });
      expect(res.status).toBe(502);
      expect(res.body).toMatchObject({ error: 'WALLET_UNREACHABLE' });
    } finally {
      await stopped.close();
    }
  });
});
