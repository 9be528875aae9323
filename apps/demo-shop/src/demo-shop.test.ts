/**
 * The demo shop against the REAL wallet (real sockets, SQLite file): the catalogue, orders paid and
 * confirmed by the signed notification, the inquiry fallback when no notification can arrive, forged
 * notifications, the shop's refusals, CORS for the sandboxed mini program, and the mini program's page.
 * The browser walk through the same pages lives with the browser tests.
 */
import { createFixtureSigner, type FixtureSigner, type NotifyPayment } from '@billetera/sdk-node';
import { findPaymentById } from '@billetera/store';
import { confirmPayment, expirePaymentInTx, type RunningWallet } from '@billetera/wallet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../test/backends.ts';
import { addMerchant, addUser, startTestWallet } from '../../../test/wallet-harness.ts';
import { startDemoShop, type RunningDemoShop } from './demo-shop.ts';

const [sqlite] = BACKENDS;
if (sqlite?.name !== 'sqlite') throw new Error('BACKENDS[0] is expected to be SQLite');

interface Json {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(base: string, path: string, init: RequestInit = {}): Promise<Json> {
  const res = await fetch(new URL(path, base), init);
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

const postJson = (base: string, path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(base, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

async function shopFor(wallet: RunningWallet, opts: { verified?: boolean; walletUrl?: string } = {}) {
  const { merchant, keys } = await addMerchant(wallet.ctx, { verified: opts.verified ?? true });
  const shop = await startDemoShop({
    port: 0,
    walletUrl: opts.walletUrl ?? wallet.url,
    clientId: merchant.clientId,
    partnerId: merchant.partnerId,
    privateKeyPem: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    walletPublicKeyPem: wallet.ctx.secrets.walletPublicKeyPem,
    logLevel: process.env['TEST_LOG_LEVEL'] ?? 'silent',
  });
  return { shop, merchant };
}

interface CreatedOrder {
  orderId: string;
  tradeNO: string;
  paymentUrl: string;
}

async function order(shop: RunningDemoShop, productId = 'cafe-de-olla'): Promise<CreatedOrder> {
  const res = await postJson(shop.url, '/api/orders', { productId });
  expect(res.status).toBe(201);
  return res.body as unknown as CreatedOrder;
}

async function waitForStatus(shop: RunningDemoShop, orderId: string, status: string): Promise<Json> {
  for (let i = 0; i < 200; i++) {
    const res = await call(shop.url, `/api/orders/${orderId}`);
    if (res.body['status'] === status) return res;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`order ${orderId} never became ${status}`);
}

/** Posts a notification signed by `signer` (the real wallet key, or a forger's) to the shop. */
async function notify(
  shop: RunningDemoShop,
  signer: FixtureSigner,
  clientId: string,
  notification: NotifyPayment,
  tamper: (body: string) => string = (b) => b,
): Promise<Json> {
  const signed = await signer.signNotification({ notification, path: '/billetera/notify', clientId });
  return call(shop.url, '/billetera/notify', {
    method: 'POST',
    headers: signed.headers,
    body: tamper(signed.body),
  });
}

describe('demo shop against the wallet, notifications on', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let shop: RunningDemoShop;
  let clientId: string;
  let partnerId: string;
  let walletSigner: FixtureSigner;
  let user: { phone: string; pin: string };

  beforeAll(async () => {
    env = await sqlite.create();
    wallet = await startTestWallet(env);
    ({
      shop,
      merchant: { clientId, partnerId },
    } = await shopFor(wallet));
    walletSigner = await createFixtureSigner({ walletPrivateKey: wallet.ctx.secrets.walletPrivateKey });
    user = await addUser(wallet.ctx, { USD: 100_000n, JPY: 100_000n });
  });
  afterAll(async () => {
    await shop?.close();
    await wallet?.close();
    await env?.cleanup();
  });

  const notificationFor = (o: CreatedOrder, status: 'SUCCESS' | 'FAIL', value = '350'): NotifyPayment => ({
    partnerId,
    paymentId: o.tradeNO,
    paymentRequestId: o.orderId,
    paymentAmount: { currency: 'USD', value },
    paymentStatus: status,
  });

  it('is healthy and lists the products with formatted prices', async () => {
    expect((await call(shop.url, '/health')).status).toBe(200);
    const res = await call(shop.url, '/api/products');
    expect(res.status).toBe(200);
    expect(res.body['products']).toEqual([
      expect.objectContaining({
        id: 'cafe-de-olla',
        name: 'Café de olla',
        price: { currency: 'USD', value: '350' },
        formattedPrice: '3.50 USD',
      }),
      expect.objectContaining({ id: 'tamales-6', name: 'Tamales (6)', formattedPrice: '12.00 USD' }),
      expect.objectContaining({
        id: 'matcha-set',
        name: 'Matcha set',
        price: { currency: 'JPY', value: '1200' },
        formattedPrice: '1,200 JPY',
      }),
    ]);
  });

  it("creates an order whose tradeNO and paymentUrl are the wallet's payment and cashier", async () => {
    const res = await postJson(shop.url, '/api/orders', { productId: 'matcha-set', siteName: 'BILLETERA' });
    expect(res.status).toBe(201);
    const { orderId, tradeNO } = res.body as unknown as CreatedOrder;
    expect(orderId).toMatch(/^ord_[A-Za-z0-9_-]+$/);
    expect(tradeNO).toMatch(/^pay_/);
    expect(res.body).toEqual({
      orderId,
      tradeNO,
      paymentUrl: `${wallet.url}/cashier/${tradeNO}`,
      amount: { currency: 'JPY', value: '1200' },
      formattedAmount: '1,200 JPY',
    });

    const payment = await findPaymentById(wallet.ctx.store.db, tradeNO);
    expect(payment).toMatchObject({
      paymentRequestId: orderId,
      orderTitle: 'Matcha set',
      currency: 'JPY',
      amount: 1200n,
    });
    expect(JSON.parse(payment?.extendInfo ?? '{}')).toEqual({ customerBelongsTo: 'BILLETERA' });
    expect(payment?.notifyUrl).toBe(`${shop.url}/billetera/notify`);

    const read = await call(shop.url, `/api/orders/${orderId}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('cache-control')).toBe('no-store');
    expect(read.body).toMatchObject({
      orderId,
      status: 'AWAITING_PAYMENT',
      confirmedBy: null,
      product: { id: 'matcha-set', name: 'Matcha set' },
      formattedAmount: '1,200 JPY',
      paymentId: tradeNO,
    });
  });

  it('marks the order PAID when the wallet notifies, and keeps it so', async () => {
    const created = await order(shop);
    const confirmed = await confirmPayment(wallet.ctx, { paymentId: created.tradeNO, ...user });
    expect(confirmed.ok).toBe(true);
    const paid = await waitForStatus(shop, created.orderId, 'PAID');
    expect(paid.body).toMatchObject({
      status: 'PAID',
      confirmedBy: 'notification',
      formattedAmount: '3.50 USD',
    });

    // The wallet counted the acknowledgement: the notification is delivered, not retried.
    for (let i = 0; i < 200; i++) {
      const row = await wallet.ctx.store.db
        .selectFrom('notifications')
        .select('status')
        .where('payment_id', '=', created.tradeNO)
        .executeTakeFirst();
      if (row?.status === 'DELIVERED') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const row = await wallet.ctx.store.db
      .selectFrom('notifications')
      .select('status')
      .where('payment_id', '=', created.tradeNO)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('DELIVERED');

    // A duplicate, and a contradicting FAIL, are acknowledged and change nothing; refresh asks no one.
    expect((await notify(shop, walletSigner, clientId, notificationFor(created, 'SUCCESS'))).status).toBe(
      200,
    );
    const late = await notify(shop, walletSigner, clientId, notificationFor(created, 'FAIL'));
    expect(late.status).toBe(200);
    expect(late.body).toMatchObject({ result: { resultStatus: 'S', resultCode: 'SUCCESS' } });
    expect((await call(shop.url, `/api/orders/${created.orderId}?refresh=1`)).body).toMatchObject({
      status: 'PAID',
      confirmedBy: 'notification',
    });
  });

  it('marks the order FAILED when the wallet notifies that it expired', async () => {
    const created = await order(shop);
    await wallet.ctx.store.transaction((tx) => expirePaymentInTx(wallet.ctx, tx, created.tradeNO));
    wallet.ctx.onOutbox();
    const failed = await waitForStatus(shop, created.orderId, 'FAILED');
    expect(failed.body).toMatchObject({ confirmedBy: 'notification' });
  });

  it('refuses forged or altered notifications with 400 and leaves the order as it was', async () => {
    const created = await order(shop);
    const forger = await createFixtureSigner();
    const forged = await notify(shop, forger, clientId, notificationFor(created, 'SUCCESS'));
    expect(forged.status).toBe(400);
    expect(forged.body).toMatchObject({ result: { resultStatus: 'F', resultCode: 'INVALID_SIGNATURE' } });

    // Signed by the real wallet for 1 cent, then the amount rewritten: the bytes no longer verify.
    const altered = await notify(
      shop,
      walletSigner,
      clientId,
      notificationFor(created, 'SUCCESS', '1'),
      (b) => b.replace('"value":"1"', '"value":"350"'),
    );
    expect(altered.status).toBe(400);

    const unsigned = await call(shop.url, '/billetera/notify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(notificationFor(created, 'SUCCESS')),
    });
    expect(unsigned.status).toBe(400);

    expect((await call(shop.url, `/api/orders/${created.orderId}`)).body).toMatchObject({
      status: 'AWAITING_PAYMENT',
      confirmedBy: null,
    });
  });

  it('acknowledges a genuine notification for an order it does not know, or that does not match', async () => {
    const unknown = await notify(shop, walletSigner, clientId, {
      partnerId,
      paymentId: 'pay_elsewhere',
      paymentRequestId: 'ord_forgotten',
      paymentAmount: { currency: 'USD', value: '350' },
      paymentStatus: 'SUCCESS',
    });
    expect(unknown.status).toBe(200);
    expect(unknown.body).toMatchObject({ result: { resultStatus: 'S' } });
    expect(unknown.headers.get('signature')).toMatch(/^algorithm=RSA256,/);

    const created = await order(shop);
    const wrongAmount = await notify(shop, walletSigner, clientId, notificationFor(created, 'SUCCESS', '1'));
    expect(wrongAmount.status).toBe(200);
    expect((await call(shop.url, `/api/orders/${created.orderId}`)).body['status']).toBe('AWAITING_PAYMENT');
  });

  it('refuses unknown products and malformed bodies with 400, unknown orders with 404', async () => {
    const unknown = await postJson(shop.url, '/api/orders', { productId: 'caviar' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: 'UNKNOWN_PRODUCT' });

    for (const body of [{}, { productId: 7 }, [], { productId: 'cafe-de-olla', siteName: 'x'.repeat(65) }]) {
      const res = await postJson(shop.url, '/api/orders', body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'INVALID_REQUEST' });
    }
    const notJson = await call(shop.url, '/api/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"productId":',
    });
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get('access-control-allow-origin')).toBe('*');
    const tooLarge = await postJson(shop.url, '/api/orders', {
      productId: 'cafe-de-olla',
      pad: 'x'.repeat(8000),
    });
    expect(tooLarge.status).toBe(413);

    const missing = await call(shop.url, '/api/orders/ord_nope?refresh=1');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: 'ORDER_NOT_FOUND' });
  });

  it('answers the sandboxed mini program (origin "null") with open CORS and preflight', async () => {
    const preflight = await fetch(new URL('/api/orders', shop.url), {
      method: 'OPTIONS',
      headers: {
        origin: 'null',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('content-type');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();

    const created = await postJson(shop.url, '/api/orders', { productId: 'tamales-6' }, { origin: 'null' });
    expect(created.status).toBe(201);
    expect(created.headers.get('access-control-allow-origin')).toBe('*');
    const products = await call(shop.url, '/api/products', { headers: { origin: 'null' } });
    expect(products.headers.get('access-control-allow-origin')).toBe('*');
    // The notify endpoint is for the wallet's server, not for browsers.
    const notifyPreflight = await fetch(new URL('/billetera/notify', shop.url), { method: 'OPTIONS' });
    expect(notifyPreflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("serves the mini program with the wallet's jsapi script and a content security policy", async () => {
    const res = await fetch(new URL('/mini/', shop.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    const jsapi = `<script src="${wallet.url}/jsapi/my.js"></script>`;
    expect(html).toContain(jsapi);
    expect(html.indexOf(jsapi)).toBeLessThan(html.indexOf('<script src="app.js"></script>'));
    expect(html).not.toContain('billetera-jsapi');
    expect(html).toMatch(/<p id="order-status" data-status="AWAITING_PAYMENT">/);
    expect(html).toContain('aria-live="polite"');

    const origin = new URL(wallet.url).origin;
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of [
      "default-src 'self'",
      `script-src 'self' ${origin}`,
      "style-src 'self'",
      "connect-src 'self'",
      "img-src 'self' data:",
      `frame-ancestors 'self' ${origin}`,
    ])
      expect(csp.split('; ')).toContain(directive);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');

    for (const [file, type] of [
      ['app.js', /^text\/javascript/],
      ['app.css', /^text\/css/],
      ['index.html', /^text\/html/],
    ] as const) {
      const asset = await fetch(new URL(`/mini/${file}`, shop.url));
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(type);
      expect(asset.headers.get('content-security-policy')).toBe(csp);
    }
    expect(await (await fetch(new URL('/mini/index.html', shop.url))).text()).toBe(html);
    expect((await fetch(new URL('/mini/server.ts', shop.url))).status).toBe(404);
    expect((await fetch(new URL('/mini/%2e%2e%2fpackage.json', shop.url))).status).toBe(404);
    const bare = await fetch(new URL('/mini', shop.url), { redirect: 'manual' });
    expect(bare.status).toBe(301);
    expect(bare.headers.get('location')).toBe('/mini/');
    expect(shop.entryUrl).toBe(`${shop.url}/mini/`);
  });

  it("answers 502 with the wallet's code when the wallet refuses or cannot be reached", async () => {
    const unverified = await shopFor(wallet, { verified: false });
    const stopped = await shopFor(wallet, { walletUrl: 'http://127.0.0.1:9' });
    try {
      const refused = await postJson(unverified.shop.url, '/api/orders', { productId: 'cafe-de-olla' });
      expect(refused.status).toBe(502);
      expect(refused.body).toMatchObject({ error: 'PARTNER_STATUS_ABNORMAL', message: expect.any(String) });

      const unreachable = await postJson(stopped.shop.url, '/api/orders', { productId: 'cafe-de-olla' });
      expect(unreachable.status).toBe(502);
      expect(unreachable.body).toMatchObject({ error: 'WALLET_UNREACHABLE' });
      expect((await call(stopped.shop.url, '/health')).status).toBe(200);
    } finally {
      await unverified.shop.close();
      await stopped.shop.close();
    }
  });
});

describe('demo shop when no notification can arrive: the inquiry fallback', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let shop: RunningDemoShop;
  let clientId: string;
  let partnerId: string;
  let user: { phone: string; pin: string };

  beforeAll(async () => {
    env = await sqlite.create();
    // No notifier, no sweeper: the shop hears nothing unless it asks.
    wallet = await startTestWallet(env, { workers: false });
    ({
      shop,
      merchant: { clientId, partnerId },
    } = await shopFor(wallet));
    user = await addUser(wallet.ctx, { USD: 100_000n });
  });
  afterAll(async () => {
    await shop?.close();
    await wallet?.close();
    await env?.cleanup();
  });

  it('confirms a paid order by inquiry on ?refresh=1, and a late notification changes nothing', async () => {
    const created = await order(shop);
    const before = await call(shop.url, `/api/orders/${created.orderId}?refresh=1`);
    expect(before.body).toMatchObject({ status: 'AWAITING_PAYMENT', confirmedBy: null });

    expect((await confirmPayment(wallet.ctx, { paymentId: created.tradeNO, ...user })).ok).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect((await call(shop.url, `/api/orders/${created.orderId}`)).body['status']).toBe('AWAITING_PAYMENT');

    // Inquiries are spaced (about one a second per order); the mini program keeps polling meanwhile.
    const confirmed = await waitForRefresh(shop, created.orderId, 'PAID');
    expect(confirmed.body).toMatchObject({
      status: 'PAID',
      confirmedBy: 'inquiry',
      paymentId: created.tradeNO,
    });

    const signer = await createFixtureSigner({ walletPrivateKey: wallet.ctx.secrets.walletPrivateKey });
    const late = await notify(shop, signer, clientId, {
      partnerId,
      paymentId: created.tradeNO,
      paymentRequestId: created.orderId,
      paymentAmount: { currency: 'USD', value: '350' },
      paymentStatus: 'SUCCESS',
    });
    expect(late.status).toBe(200);
    expect((await call(shop.url, `/api/orders/${created.orderId}`)).body).toMatchObject({
      status: 'PAID',
      confirmedBy: 'inquiry',
    });
  });

  it('marks an expired order FAILED by inquiry', async () => {
    const created = await order(shop, 'tamales-6');
    await wallet.ctx.store.transaction((tx) => expirePaymentInTx(wallet.ctx, tx, created.tradeNO));
    const failed = await waitForRefresh(shop, created.orderId, 'FAILED');
    expect(failed.body).toMatchObject({ confirmedBy: 'inquiry', formattedAmount: '12.00 USD' });
  });
});

async function waitForRefresh(shop: RunningDemoShop, orderId: string, status: string): Promise<Json> {
  for (let i = 0; i < 40; i++) {
    const res = await call(shop.url, `/api/orders/${orderId}?refresh=1`);
    expect(res.status).toBe(200);
    if (res.body['status'] === status) return res;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`order ${orderId} never became ${status} by inquiry`);
}
