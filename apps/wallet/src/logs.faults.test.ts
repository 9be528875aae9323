/**
 * Issue 8, security: no secret ever reaches the logs. A whole flow runs against a real wallet whose pino
 * logger writes at `trace` (the most it can say) into a buffer: operator and console sign-ins (right and
 * wrong passwords), merchant sign-up, a public key added and a private key pasted by mistake, a signed pay,
 * a wallet user's sign-in with a wrong PIN and then the right one, the cashier's PIN confirm, a consent and
 * its auth code, applyToken, inquiryUserInfo, a refresh and cancelToken, sign-outs. Then no PIN, password,
 * private key (the merchant's or the wallet's), PIN key, auth code, access or refresh token, session cookie
 * or CSRF token appears in any line.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoNow, specCall, type SpecReply } from '../../../test/spec-merchant.ts';
import { LONG } from '../../../test/long.ts';
import { createMiniProgram } from './services/mini-programs.ts';
import { verifyMerchantByCli } from './services/onboarding.ts';
import { createOperator } from './services/staff-accounts.ts';
import { createUser, topUpUser } from './services/users.ts';
import { startWallet, type RunningWallet } from './wallet.ts';

const PIN = '790461';
const WRONG_PIN = '108253';
const MERCHANT_PASSWORD = 'correct horse battery staple 42';
const WRONG_MERCHANT_PASSWORD = 'incorrect mule battery staple 17';
const OPERATOR_PASSWORD = 'operator secret passphrase 99';

/** A cookie-keeping client that remembers every cookie and CSRF token it was ever given. */
class Client {
  readonly cookies = new Map<string, string>();
  readonly seen = new Set<string>();
  page = '';
  constructor(private readonly base: string) {}
  async get(path: string) {
    return this.send('GET', path);
  }
  async post(path: string, form: Record<string, string>) {
    const csrf = /name="_csrf" value="([^"]+)"/.exec(this.page)?.[1];
    return this.send('POST', path, { ...(csrf ? { _csrf: csrf } : {}), ...form });
  }
  private async send(method: string, path: string, form?: Record<string, string>) {
    const res = await fetch(this.base + path, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const pair = c.split(';')[0] ?? '';
      const i = pair.indexOf('=');
      const [name, value] = [pair.slice(0, i), pair.slice(i + 1)];
      if (value) {
        this.cookies.set(name, value);
        this.seen.add(value);
      }
    }
    const text = await res.text();
    for (const m of text.matchAll(/(?:name="_csrf" value|data-csrf)="([^"]+)"/g))
      if (m[1]) this.seen.add(m[1]);
    if (method === 'GET' || res.status >= 400) this.page = text;
    return { status: res.status, location: res.headers.get('location') ?? '', text };
  }
}

describe('secrets never reach the logs', () => {
  const lines: string[] = [];
  let dataDir: string;
  let wallet: RunningWallet;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'billetera-logs-'));
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const logger = pino({ level: 'trace' }, sink) as unknown as FastifyBaseLogger;
    wallet = await startWallet({ dataDir, port: 0, logger, workers: true, rateLimits: false });
  });
  afterAll(async () => {
    await wallet?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('logs a whole flow at trace level without a PIN, password, key, code, token, cookie or CSRF token', async () => {
    const secrets = new Map<string, string>();
    const ctx = wallet.ctx;

    // Operators: a wrong password, then the right one; sign-out.
    expect((await createOperator(ctx, { email: 'ops@logs.test', password: OPERATOR_PASSWORD })).ok).toBe(
      true,
    );
    const ops = new Client(wallet.url);
    await ops.get('/ops/sign-in');
    expect(
      (await ops.post('/ops/sign-in', { email: 'ops@logs.test', password: 'not the password at all' }))
        .status,
    ).toBe(400);
    expect(
      (await ops.post('/ops/sign-in', { email: 'ops@logs.test', password: OPERATOR_PASSWORD })).status,
    ).toBe(303);
    await ops.get('/ops');

    // A merchant signs up in the console, signs out, fails and then succeeds to sign in.
    const shop = new Client(wallet.url);
    await shop.get('/console/sign-up');
    expect(
      (
        await shop.post('/console/sign-up', {
          name: 'Log Shop',
          email: 'owner@logs.test',
          password: MERCHANT_PASSWORD,
        })
      ).status,
    ).toBe(303);
    await shop.get('/console');
    await shop.post('/console/sign-out', {});
    await shop.get('/console/sign-in');
    expect(
      (await shop.post('/console/sign-in', { email: 'owner@logs.test', password: WRONG_MERCHANT_PASSWORD }))
        .status,
    ).toBe(400);
    expect(
      (await shop.post('/console/sign-in', { email: 'owner@logs.test', password: MERCHANT_PASSWORD })).status,
    ).toBe(303);
    const merchant = await ctx.store.db
      .selectFrom('merchants')
      .innerJoin('merchant_accounts', 'merchant_accounts.merchant_id', 'merchants.id')
      .select(['merchants.client_id as clientId', 'merchants.partner_id as partnerId'])
      .where('merchant_accounts.email', '=', 'owner@logs.test')
      .executeTakeFirstOrThrow();
    expect(
      await verifyMerchantByCli(ctx, { clientId: merchant.clientId, skipWebsiteCheck: true }),
    ).toMatchObject({ ok: true });

    // Keys: a private key pasted by mistake (refused), then the public key.
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const privatePem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await shop.get('/console/credentials');
    expect(
      (await shop.post('/console/credentials/keys', { publicKeyPem: privatePem })).status,
    ).toBeGreaterThanOrEqual(400);
    await shop.get('/console/credentials');
    const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect((await shop.post('/console/credentials/keys', { publicKeyPem: publicPem })).status).toBe(303);

    // A mini program with User information, a user, a signed pay, the user's sign-in and PIN confirm.
    const mini = await createMiniProgram(ctx, {
      clientId: merchant.clientId,
      name: 'Log App',
      entryUrl: 'http://127.0.0.1:9/mini/',
      features: ['USER_INFO'],
    });
    const phone = '+15557770123';
    await createUser(ctx, { phone, pin: PIN, displayName: 'Logged' });
    await topUpUser(ctx, { phone, amountMinor: 100_000n, currency: 'USD' });
    const signed = (path: string, body: object): Promise<SpecReply> =>
      specCall(wallet.url, path, JSON.stringify(body), {
        clientId: merchant.clientId,
        privateKey: pair.privateKey,
        requestTime: isoNow(),
      });
    const paid = await signed('/api/open/v1/payments/pay', {
      partnerId: merchant.partnerId,
      paymentRequestId: 'logs-1',
      paymentOrderTitle: 'Logged order',
      paymentAmount: { currency: 'USD', value: '1250' },
      appId: mini.appId,
    });
    expect(paid.body.result.resultCode).toBe('ACCEPT');
    const paymentId = paid.body['paymentId'] as string;
    const user = new Client(wallet.url);
    await user.get(`/cashier/${paymentId}`);
    expect((await user.post('/login', { phone, pin: WRONG_PIN, next: `/cashier/${paymentId}` })).status).toBe(
      400,
    );
    expect((await user.post('/login', { phone, pin: PIN, next: `/cashier/${paymentId}` })).status).toBe(303);
    await user.get(`/cashier/${paymentId}/pin`);
    expect((await user.post(`/cashier/${paymentId}/confirm`, { pin: PIN })).status).toBe(303);
    expect((await user.get(`/cashier/${paymentId}`)).text).toContain('Payment successful');

    // my.getAuthCode through the host's endpoint, with consent; applyToken, inquiryUserInfo, refresh, cancel.
    const host = await user.get(`/app/mini/${mini.appId}`);
    const hostCsrf = /data-csrf="([^"]+)"/.exec(host.text)?.[1] ?? '';
    const newAuthCode = async (): Promise<string> => {
      const res = await fetch(`${wallet.url}/app/api/auth-codes`, {
        method: 'POST',
        headers: {
          cookie: [...user.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
          'content-type': 'application/json',
          'x-csrf-token': hostCsrf,
        },
        body: JSON.stringify({ appId: mini.appId, scopes: ['USER_NICKNAME'], consent: true }),
      });
      return ((await res.json()) as { authCode: string }).authCode;
    };
    const authCode = await newAuthCode();
    expect(authCode).toMatch(/^\S{24}$/);
    const tokens = await signed('/api/open/v1/authorizations/applyToken', {
      grantType: 'AUTHORIZATION_CODE',
      authCode,
    });
    expect(tokens.body.result.resultCode).toBe('SUCCESS');
    const accessToken = tokens.body['accessToken'] as string;
    const refreshToken = tokens.body['refreshToken'] as string;
    expect((await signed('/api/open/v1/users/inquiryUserInfo', { accessToken })).body.result.resultCode).toBe(
      'SUCCESS',
    );
    // A used code and a made-up token: refusals are logged too.
    expect(
      (await signed('/api/open/v1/authorizations/applyToken', { grantType: 'AUTHORIZATION_CODE', authCode }))
        .body.result.resultCode,
    ).toBe('USED_CODE');
    const fresh = await signed('/api/open/v2/authorizations/applyToken', {
      grantType: 'REFRESH_TOKEN',
      refreshToken,
    });
    expect(fresh.body.result.resultCode).toBe('INVALID_REFRESH_TOKEN'); // the reused code revoked the family
    const again = await signed('/api/open/v1/authorizations/applyToken', {
      grantType: 'AUTHORIZATION_CODE',
      authCode: await newAuthCode(),
    });
    expect(again.body.result.resultCode).toBe('SUCCESS');
    const refreshed = await signed('/api/open/v1/authorizations/applyToken', {
      grantType: 'REFRESH_TOKEN',
      refreshToken: again.body['refreshToken'] as string,
    });
    expect(refreshed.body.result.resultCode).toBe('SUCCESS');
    expect(
      (
        await signed('/api/open/v1/authorizations/cancelToken', {
          accessToken: refreshed.body['accessToken'] as string,
        })
      ).body.result.resultCode,
    ).toBe('SUCCESS');
    await user.get('/app');
    await user.post('/logout', {});
    await shop.get('/console');
    await shop.post('/console/sign-out', {});
    await ops.get('/ops');
    await ops.post('/ops/sign-out', {});
    // Let the notifier send (and log) the payment's notification attempt.
    await new Promise((r) => setTimeout(r, 300));

    // What must never be logged.
    secrets.set('PIN', PIN);
    secrets.set('wrong PIN', WRONG_PIN);
    secrets.set('merchant password', MERCHANT_PASSWORD);
    secrets.set('wrong merchant password', WRONG_MERCHANT_PASSWORD);
    secrets.set('operator password', OPERATOR_PASSWORD);
    secrets.set('auth code', authCode);
    secrets.set('access token', accessToken);
    secrets.set('refresh token', refreshToken);
    for (const [i, t] of [
      again.body['accessToken'],
      again.body['refreshToken'],
      refreshed.body['accessToken'],
      refreshed.body['refreshToken'],
    ].entries())
      secrets.set(`token ${i + 2}`, String(t));
    secrets.set('PIN key (base64)', ctx.secrets.pinKey.toString('base64'));
    secrets.set('PIN key (hex)', ctx.secrets.pinKey.toString('hex'));
    const keyLines = (pem: string) => pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----'));
    for (const [i, l] of keyLines(privatePem).entries()) secrets.set(`merchant private key line ${i}`, l);
    const walletPem = ctx.secrets.walletPrivateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const [i, l] of keyLines(walletPem).entries()) secrets.set(`wallet private key line ${i}`, l);
    for (const [i, v] of [...ops.seen, ...shop.seen, ...user.seen].entries())
      secrets.set(`cookie or CSRF token ${i}`, v);
    secrets.set('host CSRF token', hostCsrf);

    // The log said plenty (so silence is not what passes this test): every request, at trace level.
    const text = lines.join('\n');
    expect(lines.length).toBeGreaterThan(50);
    expect(text).toContain('incoming request');
    expect(text).toContain(`/cashier/${paymentId}/confirm`);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();

    const leaks: string[] = [];
    for (const [what, value] of secrets) {
      expect(value.length, what).toBeGreaterThanOrEqual(6);
      const found = /^\d+$/.test(value)
        ? new RegExp(`(?<![0-9])${value}(?![0-9])`).test(text)
        : text.includes(value) || text.includes(encodeURIComponent(value));
      if (found) leaks.push(`${what}: ${lines.find((l) => l.includes(value))?.slice(0, 300) ?? ''}`);
    }
    expect(leaks).toEqual([]);
    if (LONG)
      console.log(`faults: logs: ${lines.length} trace lines scanned for ${secrets.size} secrets, 0 found`);
  });
});
