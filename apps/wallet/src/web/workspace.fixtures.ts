/**
 * What the workspace's HTTP and browser tests share: signed-in console, ops and wallet sessions made
 * straight in the database (the sign-in pages have tests of their own), a tiny PNG logo, and the test
 * mini program's zip, built with fflate.
 */
import { createHash, randomBytes, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32, deflateSync } from 'node:zlib';
import { insertMerchantAccount, insertOperator, insertSession } from '@billetera/store';
import { strToU8, zipSync } from 'fflate';
import { specCall } from '../../../../test/spec-merchant.ts';
import type { WalletContext } from '../context.ts';
import { SESSION_COOKIE } from './session.ts';
import { STAFF_COOKIES, STAFF_SESSION_TTL_MS } from './staff-session.ts';

const hash = (value: string): string => createHash('sha256').update(value).digest('base64url');
const token = (): string => randomBytes(32).toString('base64url');

export interface TestSession {
  /** The cookie's name and value, e.g. for a `cookie` header. */
  name: string;
  value: string;
  csrf: string;
  /** `name=value`. */
  header: string;
}

async function staffSession(ctx: WalletContext, kind: 'MERCHANT' | 'OPERATOR', subjectId: string) {
  const value = token();
  const csrf = token();
  const now = ctx.clock.now();
  await ctx.store.db
    .insertInto('staff_sessions')
    .values({
      id_hash: hash(value),
      kind,
      subject_id: subjectId,
      csrf_token: csrf,
      created_at: BigInt(now),
      expires_at: BigInt(now + STAFF_SESSION_TTL_MS),
    })
    .execute();
  const name = STAFF_COOKIES[kind];
  return { name, value, csrf, header: `${name}=${value}` };
}

/** A console account for the merchant, signed in. */
export async function consoleSession(ctx: WalletContext, merchantId: string): Promise<TestSession> {
  const id = `macc_${token().slice(0, 16)}`;
  await insertMerchantAccount(ctx.store.db, {
    id,
    merchantId,
    email: `${id}@shop.test`,
    passwordHash: 'unused',
    createdAt: ctx.clock.now(),
  });
  return staffSession(ctx, 'MERCHANT', id);
}

/** An operator, signed in to ops. */
export async function opsSession(ctx: WalletContext): Promise<TestSession & { operatorId: string }> {
  const operatorId = `op_${token().slice(0, 16)}`;
  await insertOperator(ctx.store.db, {
    id: operatorId,
    email: `${operatorId}@ops.test`,
    passwordHash: 'unused',
    createdAt: ctx.clock.now(),
  });
  return { ...(await staffSession(ctx, 'OPERATOR', operatorId)), operatorId };
}

/** A wallet user's host app session. */
export async function walletSession(ctx: WalletContext, userId: string): Promise<TestSession> {
  const value = token();
  const csrf = token();
  const now = ctx.clock.now();
  await insertSession(ctx.store.db, {
    idHash: hash(value),
    userId,
    csrfToken: csrf,
    createdAt: now,
    expiresAt: now + 3600_000,
  });
  return { name: SESSION_COOKIE, value, csrf, header: `${SESSION_COOKIE}=${value}` };
}

/** A solid-colour square PNG (a real one: browsers draw it). */
export function pngLogo(size = 48, rgb: [number, number, number] = [214, 92, 40]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body) >>> 0, body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(size * 3).map((_, i) => rgb[i % 3] ?? 0)]);
  const raw = Buffer.concat(Array.from({ length: size }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * The test mini program: shows my.getSiteInfo, its own origin (opaque: "null") and whether it can read
 * cookies; "Pay" asks the merchant's server (`orderUrl`, a server origin it may call) for an order and
 * pays it with my.tradePay; "Pay without an order" calls my.tradePay at once (for the feature check).
 */
export function testMiniProgramZip(o: { title: string; orderUrl: string }): Buffer {
  const index = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>${o.title}</title>
    <link rel="stylesheet" href="style.css" />
    <script src="/jsapi/my.js"></script>
    <script src="js/app.js" defer></script>
  </head>
  <body>
    <h1>${o.title}</h1>
    <p>Site: <strong id="site">…</strong></p>
    <p>Origin: <code id="origin">…</code> · cookies: <code id="cookies">…</code></p>
    <button id="pay">Pay 4.50 USD</button>
    <button id="pay-direct">Pay without an order</button>
    <p id="result" role="status"></p>
    <img src="img/cup.png" alt="" width="48" height="48" />
  </body>
</html>`;
  const app = `
const out = document.getElementById('result');
const show = (text, state) => { out.textContent = text; out.dataset.state = state; };
document.getElementById('origin').textContent = String(self.origin);
let cookies;
try { cookies = document.cookie === '' ? 'none' : 'visible'; } catch (e) { cookies = 'blocked'; }
document.getElementById('cookies').textContent = cookies;
my.getSiteInfo().then(
  (info) => { document.getElementById('site').textContent = info.siteName; document.body.dataset.ready = '1'; },
  (err) => { document.getElementById('site').textContent = 'error ' + err.error; document.body.dataset.ready = '1'; },
);
function pay(params) {
  return my.tradePay(params).then(
    (r) => show('resultCode ' + r.resultCode, 'done'),
    (e) => show('error ' + e.error + ': ' + e.errorMessage, 'error'),
  );
}
document.getElementById('pay').addEventListener('click', () => {
  show('Ordering…', 'busy');
  fetch(${JSON.stringify(o.orderUrl)}, { method: 'POST' })
    .then((res) => res.json())
    .then((order) => order.paymentUrl ? pay({ paymentUrl: order.paymentUrl }) : show('order refused: ' + order.error, 'error'))
    .catch((e) => show('order failed: ' + e, 'error'));
});
document.getElementById('pay-direct').addEventListener('click', () => pay({ tradeNO: 'pay_doesnotexist' }));
`;
  const css = `body{font-family:system-ui,sans-serif;margin:0;padding:1rem;background:#fff8ef;color:#2b1a0e}
h1{color:#b3541e}button{font:inherit;padding:.7rem 1rem;margin:.3rem 0;width:100%;border-radius:8px;border:2px solid #b3541e;background:#b3541e;color:#fff}
#pay-direct{background:#fff;color:#b3541e}#result{font-weight:600;min-height:1.5em}`;
  return Buffer.from(
    zipSync({
      [`${o.title.toLowerCase().replace(/\W+/g, '-')}`]: {
        'index.html': strToU8(index),
        'style.css': strToU8(css),
        js: { 'app.js': strToU8(app) },
        img: { 'cup.png': pngLogo(48, [120, 70, 30]) },
      },
    }),
  );
}

/** Who the order server signs as: read when an order comes (a merchant's key may be added mid-test). */
export interface OrderSigner {
  clientId: string;
  partnerId: string;
  privateKey: KeyObject;
  keyVersion?: number;
}

/**
 * The merchant's server for the test mini program: POST /order places a 4.50 USD order with signed
 * `payments/pay` for the mini program and answers its cashier URL (CORS open: the mini program's origin
 * is opaque).
 */
export async function startOrderServer(
  walletUrl: string,
  signer: () => OrderSigner,
  appId: () => string,
): Promise<{ url: string; close(): Promise<void> }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    const send = (status: number, body: object) =>
      res
        .writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
        .end(JSON.stringify(body));
    if (req.method !== 'POST' || req.url !== '/order') return send(404, { error: 'not found' });
    const who = signer();
    specCall(
      walletUrl,
      '/api/open/v1/payments/pay',
      JSON.stringify({
        partnerId: who.partnerId,
        paymentRequestId: `order-${process.pid}-${Date.now()}-${++n}`,
        paymentOrderTitle: 'Flat white',
        paymentAmount: { currency: 'USD', value: '450' },
        appId: appId(),
      }),
      { clientId: who.clientId, privateKey: who.privateKey, keyVersion: who.keyVersion },
    ).then(
      (reply) => {
        const form = reply.body['actionForm'] as { redirectionUrl?: string } | undefined;
        send(
          200,
          form?.redirectionUrl
            ? { paymentUrl: form.redirectionUrl }
            : { error: reply.body.result.resultCode },
        );
      },
      (err: unknown) => send(500, { error: String(err) }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
