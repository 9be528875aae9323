/**
 * Issue 8, security: rate limits (http/rate-limit.ts) over real HTTP on 127.0.0.1. Every client here binds
 * its own loopback source address (127.0.0.2, 127.0.0.3, ...), so "another IP" is a real other IP.
 *
 * - A merchant over its limit gets the signed `U / REQUEST_TRAFFIC_EXCEED_LIMIT` with a Retry-After, on
 *   every OpenAPI path, and nothing of the refused request is written (the same paymentRequestId is a
 *   fresh order afterwards); another merchant is unaffected; the bucket refills.
 * - An IP that floods unsigned junk is refused before its body is read (an oversized body gets the
 *   traffic answer, not "body too large"), unsigned; another IP and signed traffic from any IP are not.
 * - Sign-in, sign-up, PIN and consent floods get 429 with a Retry-After, and the refused attempt never
 *   reaches the account (its failure count does not move).
 * - A locked console or ops account answers exactly like a wrong password.
 */
import http from 'node:http';
import type { KeyObject } from 'node:crypto';
import { OPERATIONS, type OperationPath } from '@billetera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { scale, timeoutMs } from '../../../../test/long.ts';
import { isoNow, specSign, verifyReply, type SpecReply } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import { createOperator, INVALID_CREDENTIALS_MESSAGE, signUpMerchant } from '../services/staff-accounts.ts';
import type { RunningWallet } from '../wallet.ts';
import { walletSession } from '../web/workspace.fixtures.ts';
import { ipKey, TokenBuckets } from './rate-limit.ts';

interface Reply {
  status: number;
  headers: Record<string, string>;
  raw: string;
}

/** Connections per source address. */
const IN_FLIGHT = 64;
const agents = new Map<string, http.Agent>();
/** An HTTP request from a chosen loopback source address (kept alive per address). */
function request(
  url: string,
  o: { from: string; method?: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<Reply> {
  let agent = agents.get(o.from);
  if (!agent)
    agents.set(
      o.from,
      (agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT, localAddress: o.from })),
    );
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: o.method ?? 'POST', headers: o.headers ?? {}, agent, timeout: 20_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: Object.fromEntries(
              Object.entries(res.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join('\n') : (v ?? '')]),
            ),
            raw: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end(o.body);
  });
}

/** A signed OpenAPI call (the spec merchant's signing) from a chosen address. */
async function signedCall(
  base: string,
  path: string,
  body: string,
  who: { clientId: string; privateKey: KeyObject },
  from: string,
): Promise<SpecReply> {
  const time = isoNow();
  const signature = specSign(path, who.clientId, time, body, who.privateKey);
  const r = await request(base + path, {
    from,
    headers: {
      'content-type': 'application/json; charset=UTF-8',
      'client-id': who.clientId,
      'request-time': time,
      signature: `algorithm=RSA256,keyVersion=1,signature=${signature}`,
    },
    body,
  });
  return { ...r, body: JSON.parse(r.raw) as SpecReply['body'] };
}

const code = (r: { body: SpecReply['body'] }) => r.body.result.resultCode;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PAY = '/api/open/v1/payments/pay';

function payBody(m: TestMerchant, id: string): string {
  return JSON.stringify({
    partnerId: m.merchant.partnerId,
    paymentRequestId: id,
    paymentOrderTitle: 'Tea',
    paymentAmount: { currency: 'USD', value: '100' },
  });
}

const signer = (m: TestMerchant) => ({ clientId: m.merchant.clientId, privateKey: m.keys.privateKey });

afterAll(() => {
  for (const a of agents.values()) a.destroy();
});

describe('token buckets and addresses (units)', () => {
  it('takes up to the burst, refills at the rate, and says how long to wait', () => {
    let now = 0;
    const b = new TokenBuckets({ perSecond: 2, burst: 3 }, () => now);
    expect([b.take('a'), b.take('a'), b.take('a')]).toEqual([0, 0, 0]);
    expect(b.take('a')).toBe(500);
    expect(b.take('b')).toBe(0);
    now = 499;
    expect(b.take('a')).toBeGreaterThan(0);
    now = 500;
    expect(b.take('a')).toBe(0);
    now = 60_000;
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a') > 0]).toEqual([0, 0, 0, true]);
  });

  it('keeps at most maxKeys buckets, dropping full ones first', () => {
    let now = 0;
    const b = new TokenBuckets({ perSecond: 1, burst: 1 }, () => now, 100);
    for (let i = 0; i < 100; i++) b.take(`k${i}`);
    now = 10_000; // all of them full again
    for (let i = 0; i < 1_000; i++) b.take(`n${i}`);
    expect(b.size).toBeLessThanOrEqual(100);
    expect(b.take('n999')).toBeGreaterThan(0); // the newest key was kept, empty
  });

  it('counts IPv4 as is (also IPv4-mapped) and IPv6 by its /64', () => {
    expect(ipKey('203.0.113.7')).toBe('203.0.113.7');
    expect(ipKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(ipKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(ipKey('2001:db8:1:2::9')).toBe(ipKey('2001:0db8:0001:0002:ffff::1'));
    expect(ipKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(ipKey('::1')).toBe('0:0:0:0::/64');
    expect(ipKey('2001:db8:1:3::1')).not.toBe(ipKey('2001:db8:1:2::1'));
  });
});

for (const backend of BACKENDS) {
  describe(`OpenAPI rate limit per merchant on ${backend.name}`, () => {
    const BURST = 5;
    const RATE = 4;
    let env: BackendEnv;
    let wallet: RunningWallet;
    let a: TestMerchant;
    let b: TestMerchant;
    let c: TestMerchant;
    const payments = async (m: TestMerchant) =>
      Number(
        (
          await wallet.ctx.store.db
            .selectFrom('payments')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('merchant_id', '=', m.merchant.id)
            .executeTakeFirstOrThrow()
        ).n,
      );

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env, {
        workers: false,
        rateLimits: { merchant: { perSecond: RATE, burst: BURST } },
      });
      a = await addMerchant(wallet.ctx, { name: 'Busy Shop' });
      b = await addMerchant(wallet.ctx, { name: 'Quiet Shop' });
      c = await addMerchant(wallet.ctx, { name: 'Every Path Shop' });
    });
    afterAll(async () => {
      await wallet?.close();
      await env?.cleanup();
    });

    it('refuses a merchant over its limit with a signed U reply and a Retry-After, writes nothing, spares others, refills', async () => {
      const pub = wallet.ctx.secrets.walletPublicKeyPem;
      // Pays one after the other until one is refused (the burst, plus what refilled meanwhile).
      let accepted = 0;
      let over: SpecReply | undefined;
      for (let i = 0; i < BURST + 40 && !over; i++) {
        const r = await signedCall(wallet.url, PAY, payBody(a, `a-${i}`), signer(a), '127.0.0.2');
        if (code(r) === 'ACCEPT') accepted++;
        else over = r;
      }
      expect(accepted).toBeGreaterThanOrEqual(BURST);
      if (!over) throw new Error('never refused');
      const refusedId = `a-${accepted}`;
      expect(over.status).toBe(200);
      expect(over.body.result).toMatchObject({
        resultStatus: 'U',
        resultCode: 'REQUEST_TRAFFIC_EXCEED_LIMIT',
      });
      expect(over.body.result.resultMessage).toMatch(/retry after \d+ s/);
      expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(verifyReply(over, PAY, pub)).toBe(true);
      expect(over.headers['client-id']).toBe(a.merchant.clientId);
      expect(await payments(a)).toBe(accepted);

      // Another merchant, from the same address, is not affected.
      const other = await Promise.all(
        Array.from({ length: BURST }, (_, i) =>
          signedCall(wallet.url, PAY, payBody(b, `b-${i}`), signer(b), '127.0.0.2'),
        ),
      );
      expect(other.map(code)).toEqual(Array(BURST).fill('ACCEPT'));

      // The bucket refills at RATE per second: the refused order can be sent again and is created then.
      await sleep(Math.ceil(1000 / RATE) + 50);
      const again = await signedCall(wallet.url, PAY, payBody(a, refusedId), signer(a), '127.0.0.2');
      expect(code(again)).toBe('ACCEPT');
      expect(again.headers['idempotent-replayed']).toBeUndefined();
      expect(await payments(a)).toBe(accepted + 1);
    });

    // The same code on both databases: once is enough (the refusal comes before any storage).
    it.runIf(backend.name === 'sqlite')(
      'answers REQUEST_TRAFFIC_EXCEED_LIMIT on every OpenAPI path, before the body is looked at',
      async () => {
        const seen = new Map<string, string>();
        for (const path of Object.keys(OPERATIONS) as OperationPath[]) {
          // Twice the burst at once: whatever this path answers to the first ones, the rest are refused.
          for (let round = 0; round < 5 && !seen.has(path); round++) {
            const replies = await Promise.all(
              Array.from({ length: BURST + 3 }, () =>
                signedCall(wallet.url, path, '{"not":"a valid body"}', signer(c), '127.0.0.3'),
              ),
            );
            const r = replies.find((x) => code(x) === 'REQUEST_TRAFFIC_EXCEED_LIMIT');
            if (r) seen.set(path, r.body.result.resultStatus);
          }
        }
        expect([...seen.keys()].sort()).toEqual(Object.keys(OPERATIONS).sort());
        expect(new Set(seen.values())).toEqual(new Set(['U']));
      },
    );

    it(
      'under a flood of concurrent pays, accepts only what the bucket allows and writes only those',
      async () => {
        const flood = scale(60, 3_000);
        const fresh = await addMerchant(wallet.ctx, { name: 'Flood Shop' });
        const started = performance.now();
        const replies = await Promise.all(
          Array.from({ length: flood }, (_, i) =>
            signedCall(wallet.url, PAY, payBody(fresh, `f-${i}`), signer(fresh), `127.0.1.${(i % 8) + 1}`),
          ),
        );
        const seconds = (performance.now() - started) / 1000;
        const accepted = replies.filter((r) => code(r) === 'ACCEPT').length;
        const refused = replies.filter((r) => code(r) === 'REQUEST_TRAFFIC_EXCEED_LIMIT').length;
        expect(accepted + refused).toBe(flood);
        expect(accepted).toBeGreaterThanOrEqual(BURST);
        expect(accepted).toBeLessThanOrEqual(BURST + Math.ceil(RATE * seconds) + 1);
        expect(await payments(fresh)).toBe(accepted);
        console.log(
          `faults: rate limit ${backend.name}: ${flood.toLocaleString('en')} concurrent pays from one merchant in ${seconds.toFixed(1)} s, ${accepted} accepted (burst ${BURST} + ${RATE}/s), ${refused.toLocaleString('en')} refused, ${(await payments(fresh)) - accepted} written by refused ones`,
        );
      },
      timeoutMs(30_000, 180_000),
    );
  });
}

describe('OpenAPI rate limit per IP (sqlite)', () => {
  const BURST = 20;
  let env: BackendEnv;
  let wallet: RunningWallet;
  let m: TestMerchant;
  const junk = (from: string, body: string | Buffer = '{}') =>
    request(wallet.url + PAY, {
      from,
      headers: { 'content-type': 'application/json', 'client-id': 'nobody', 'request-time': isoNow() },
      body,
    });

  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    wallet = await startTestWallet(env, {
      workers: false,
      rateLimits: { openApiIp: { perSecond: 2, burst: BURST } },
    });
    m = await addMerchant(wallet.ctx, { name: 'Shared Address Shop' });
  });
  afterAll(async () => {
    await wallet?.close();
    await env?.cleanup();
  });

  it('refuses an IP after its allowance of unauthenticated calls, before reading, unsigned; other IPs and signed calls are not', async () => {
    const first: Reply[] = [];
    for (let i = 0; i < BURST; i++) first.push(await junk('127.0.0.4'));
    expect(first.map((r) => (JSON.parse(r.raw) as SpecReply['body']).result.resultCode)).toEqual(
      Array(BURST).fill('CLIENT_INVALID'),
    );
    expect(first.every((r) => r.headers['signature'])).toBe(true);

    // Over it: refused before the body is read (a 1 MiB body is not "too large" here) and unsigned.
    const refused = await junk('127.0.0.4', Buffer.alloc(1024 * 1024, 'x'));
    expect(refused.status).toBe(200);
    expect(JSON.parse(refused.raw)).toMatchObject({
      result: { resultStatus: 'U', resultCode: 'REQUEST_TRAFFIC_EXCEED_LIMIT' },
    });
    expect(refused.headers['signature']).toBeUndefined();
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);

    // Every kind of request from that IP is refused; from another IP junk is still answered normally.
    const fromBlocked = await signedCall(
      wallet.url,
      '/api/open/v1/payments/inquiryPayment',
      '{"paymentRequestId":"nope"}',
      signer(m),
      '127.0.0.4',
    );
    expect(code(fromBlocked)).toBe('REQUEST_TRAFFIC_EXCEED_LIMIT');
    expect(JSON.parse((await junk('127.0.0.5')).raw)).toMatchObject({
      result: { resultCode: 'CLIENT_INVALID' },
    });

    // Signed calls never spend an IP's allowance: twice the burst from one address, all answered.
    const signed: SpecReply[] = [];
    for (let i = 0; i < 2 * BURST; i++)
      signed.push(
        await signedCall(
          wallet.url,
          '/api/open/v1/payments/inquiryPayment',
          `{"paymentRequestId":"nope-${i}"}`,
          signer(m),
          '127.0.0.6',
        ),
      );
    expect(new Set(signed.map(code))).toEqual(new Set(['ORDER_NOT_EXIST']));

    // The IP's bucket refills (2 per second).
    await sleep(600);
    expect(JSON.parse((await junk('127.0.0.4')).raw)).toMatchObject({
      result: { resultCode: 'CLIENT_INVALID' },
    });
  });

  it(
    'keeps refusing a flood cheaply: figures',
    async () => {
      const n = scale(300, 5_000);
      // Empty the bucket of a fresh address, then flood it.
      for (let i = 0; i < BURST; i++) await junk('127.0.0.7');
      const started = performance.now();
      const replies = await Promise.all(Array.from({ length: n }, () => junk('127.0.0.7')));
      const ms = performance.now() - started;
      const codes = replies.map((r) => (JSON.parse(r.raw) as SpecReply['body']).result.resultCode);
      const refused = codes.filter((c) => c === 'REQUEST_TRAFFIC_EXCEED_LIMIT').length;
      // Only what refilled during the flood was answered (2 per second), plus what was in flight when a
      // token appeared (the bucket is looked at on arrival, spent when authentication fails).
      const answered = n - refused;
      const tokens = Math.ceil((2 * ms) / 1000) + 1;
      expect(answered).toBeLessThanOrEqual(tokens * IN_FLIGHT);
      expect(replies.filter((r) => r.headers['signature']).length).toBe(answered);
      console.log(
        `faults: rate limit per IP: ${n.toLocaleString('en')} unsigned requests flooded in ${(ms / 1000).toFixed(2)} s, ${refused.toLocaleString('en')} refused unsigned before reading (${((ms * 1000) / n).toFixed(0)} µs each, wall), ${answered} answered as the bucket refilled`,
      );
    },
    timeoutMs(30_000, 120_000),
  );
});

/** The CSRF double-submit cookie and token of a signed-out form page, fetched from `from`. */
async function formToken(
  base: string,
  path: string,
  from: string,
): Promise<{ cookie: string; csrf: string }> {
  const page = await request(base + path, { from, method: 'GET' });
  const cookie = (page.headers['set-cookie'] ?? '').split(';')[0] ?? '';
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.raw)?.[1] ?? '';
  expect(cookie).toMatch(/^__Host-billetera_csrf=/);
  expect(csrf).not.toBe('');
  return { cookie, csrf };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const errorText = (page: string) =>
  /<p[^>]*role="alert"[^>]*>([\s\S]*?)<\/p>/.exec(page)?.[1]?.replace(/\s+/g, ' ').trim();

describe('web rate limits per IP and sign-in answers (sqlite)', () => {
  const SIGN_IN_BURST = 4;
  const PIN_BURST = 3;
  let env: BackendEnv;
  let wallet: RunningWallet;
  const EMAIL = 'owner@limits.example';
  const PASSWORD = 'a long enough password';

  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    wallet = await startTestWallet(env, {
      workers: false,
      rateLimits: {
        // Next to no refill: a sign-in costs a scrypt (tens of ms), the bucket must not refill meanwhile.
        // Refilling is the token buckets' (units above, and the OpenAPI tests).
        signIn: { perSecond: 0.001, burst: SIGN_IN_BURST },
        pin: { perSecond: 0.001, burst: PIN_BURST },
      },
    });
    expect((await signUpMerchant(wallet.ctx, { name: 'Limits', email: EMAIL, password: PASSWORD })).ok).toBe(
      true,
    );
  });
  afterAll(async () => {
    await wallet?.close();
    await env?.cleanup();
  });

  const failedAttempts = async () =>
    Number(
      (
        await wallet.ctx.store.db
          .selectFrom('merchant_accounts')
          .select('failed_attempts')
          .where('email', '=', EMAIL)
          .executeTakeFirstOrThrow()
      ).failed_attempts,
    );

  async function post(path: string, from: string, fields: Record<string, string>, cookie: string) {
    return request(wallet.url + path, {
      from,
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: form(fields),
    });
  }

  it('answers 429 with a Retry-After to a sign-in flood, and the refused attempt never reaches the account', async () => {
    const from = '127.0.0.8';
    const { cookie, csrf } = await formToken(wallet.url, '/console/sign-in', from);
    for (let i = 0; i < SIGN_IN_BURST; i++) {
      const r = await post(
        '/console/sign-in',
        from,
        { _csrf: csrf, email: EMAIL, password: `wrong ${i}` },
        cookie,
      );
      expect(r.status).toBe(400);
    }
    expect(await failedAttempts()).toBe(SIGN_IN_BURST);
    const limited = await post(
      '/console/sign-in',
      from,
      { _csrf: csrf, email: EMAIL, password: PASSWORD },
      cookie,
    );
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.headers['cache-control']).toBe('no-store');
    expect(limited.raw).toContain('Too many attempts');
    expect(limited.headers['set-cookie']).toBeUndefined();
    expect(await failedAttempts()).toBe(SIGN_IN_BURST);

    // Another address signs in (the right password resets the count).
    const other = await formToken(wallet.url, '/console/sign-in', '127.0.0.9');
    const ok = await post(
      '/console/sign-in',
      '127.0.0.9',
      { _csrf: other.csrf, email: EMAIL, password: PASSWORD },
      other.cookie,
    );
    expect(ok.status).toBe(303);
    expect(await failedAttempts()).toBe(0);
  });

  it('limits every sign-in and sign-up form: wallet, console sign-up, ops', async () => {
    const cases: { page: string; action: string; fields: Record<string, string> }[] = [
      { page: '/app', action: '/login', fields: { phone: '+15550009999', pin: '000000', next: '/app' } },
      {
        page: '/console/sign-up',
        action: '/console/sign-up',
        fields: { name: 'x', email: 'not-an-email', password: 'short' },
      },
      {
        page: '/ops/sign-in',
        action: '/ops/sign-in',
        fields: { email: 'nobody@ops.example', password: 'nope' },
      },
    ];
    let octet = 20;
    for (const c of cases) {
      const from = `127.0.0.${octet++}`;
      const { cookie, csrf } = await formToken(wallet.url, c.page, from);
      const statuses: number[] = [];
      for (let i = 0; i <= SIGN_IN_BURST; i++)
        statuses.push((await post(c.action, from, { ...c.fields, _csrf: csrf }, cookie)).status);
      expect(
        statuses.slice(0, SIGN_IN_BURST).every((s) => s >= 400 && s < 429),
        c.action,
      ).toBe(true);
      expect(statuses[SIGN_IN_BURST], c.action).toBe(429);
    }
  });

  it('limits PIN posts in the cashier and consent calls per IP; the refused PIN is never counted', async () => {
    const merchant = await addMerchant(wallet.ctx, { name: 'PIN Shop' });
    const user = await addUser(wallet.ctx, { USD: 10_000n });
    const reply = await signedCall(
      wallet.url,
      PAY,
      payBody(merchant, 'pin-1'),
      signer(merchant),
      '127.0.0.30',
    );
    const paymentId = String(reply.body['paymentId']);
    const session = await walletSession(wallet.ctx, user.id);
    const pinFailures = async () =>
      Number(
        (
          await wallet.ctx.store.db
            .selectFrom('users')
            .select('pin_failed_attempts')
            .where('id', '=', user.id)
            .executeTakeFirstOrThrow()
        ).pin_failed_attempts,
      );
    const from = '127.0.0.31';
    const statuses: number[] = [];
    for (let i = 0; i <= PIN_BURST; i++)
      statuses.push(
        (
          await post(
            `/cashier/${paymentId}/confirm`,
            from,
            { _csrf: session.csrf, pin: '000000' },
            session.header,
          )
        ).status,
      );
    expect(statuses.slice(0, PIN_BURST)).toEqual(Array(PIN_BURST).fill(400));
    expect(statuses[PIN_BURST]).toBe(429);
    expect(await pinFailures()).toBe(PIN_BURST);

    const consent = async () =>
      request(wallet.url + '/app/api/auth-codes', {
        from: '127.0.0.32',
        headers: { 'content-type': 'application/json', cookie: session.header, 'x-csrf-token': session.csrf },
        body: JSON.stringify({ appId: '2026000000000000000', scopes: ['auth_base'], consent: false }),
      });
    const answers: Reply[] = [];
    for (let i = 0; i <= PIN_BURST; i++) answers.push(await consent());
    expect(answers.slice(0, PIN_BURST).map((r) => r.status)).toEqual(Array(PIN_BURST).fill(403));
    const limited = answers[PIN_BURST]!;
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.raw)).toMatchObject({
      error: 3,
      errorMessage: expect.stringMatching(/Too many/),
    });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('answers a locked console or ops account exactly like a wrong password (it stays locked)', async () => {
    const email = 'locked@limits.example';
    expect((await signUpMerchant(wallet.ctx, { name: 'Locked', email, password: PASSWORD })).ok).toBe(true);
    await createOperator(wallet.ctx, { email: 'ops-locked@limits.example', password: PASSWORD });
    const areas = [
      { path: '/console/sign-in', email, table: 'merchant_accounts' as const },
      { path: '/ops/sign-in', email: 'ops-locked@limits.example', table: 'operators' as const },
    ];
    let octet = 40;
    // Both areas at once, and the failures that lock in parallel (each is a scrypt; all are counted).
    const check = async (area: (typeof areas)[number]) => {
      // One address per attempt: the sign-in limit stays out of the way.
      const attempt = async (who: string, password: string) => {
        const from = `127.0.0.${octet++}`;
        const { cookie, csrf } = await formToken(wallet.url, area.path, from);
        const r = await post(area.path, from, { _csrf: csrf, email: who, password }, cookie);
        return { status: r.status, error: errorText(r.raw), raw: r.raw };
      };
      const wrongFirst = await attempt(area.email, 'wrong password 0');
      await Promise.all([1, 2, 3, 4].map((i) => attempt(area.email, `wrong password ${i}`)));
      const [lockedRight, lockedWrong, unknown] = await Promise.all([
        attempt(area.email, PASSWORD),
        attempt(area.email, 'wrong again'),
        attempt('nobody-at-all@limits.example', PASSWORD),
      ]);
      expect(unknown).toMatchObject({ status: 400, error: INVALID_CREDENTIALS_MESSAGE });
      // The whole page is a wrong password's (once the form's own token is set aside).
      const same = (raw: string) => raw.replace(/name="_csrf" value="[^"]+"/, '');
      for (const r of [lockedRight, lockedWrong]) {
        expect(r.status, area.path).toBe(unknown.status);
        expect(r.error, area.path).toBe(unknown.error);
        expect(same(r.raw), area.path).toBe(same(wrongFirst.raw));
      }
      const row = await wallet.ctx.store.db
        .selectFrom(area.table)
        .select('locked_until')
        .where('email', '=', area.email)
        .executeTakeFirstOrThrow();
      expect(Number(row.locked_until)).toBeGreaterThan(Date.now());
    };
    await Promise.all(areas.map(check));
  });

  it('says an email is taken only for a complete, valid sign-up form', async () => {
    const from = '127.0.0.60';
    const { cookie, csrf } = await formToken(wallet.url, '/console/sign-up', from);
    const invalid = await post(
      '/console/sign-up',
      from,
      { _csrf: csrf, name: 'x', email: EMAIL, password: 'short' },
      cookie,
    );
    expect(invalid.status).toBe(400);
    expect(invalid.raw).not.toMatch(/already exists|taken/i);
    const valid = await post(
      '/console/sign-up',
      from,
      { _csrf: csrf, name: 'Copycat', email: EMAIL, password: 'another long password' },
      cookie,
    );
    expect(valid.status).toBe(400);
    expect(valid.raw).toMatch(/already exists/);
  });
});
