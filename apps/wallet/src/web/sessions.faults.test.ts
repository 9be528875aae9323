/**
 * Issue 8, security: sessions and PIN guessing over real HTTP, for wallet users (/login), merchant console
 * accounts (/console/sign-in) and operators (/ops/sign-in).
 *
 * - Session fixation: a session cookie planted before sign-in (an unknown value, or the attacker's own
 *   live session) is never the one the victim gets, and never becomes the victim's.
 * - Sign-out and expiry end sessions on the server: the old cookie, replayed, is nobody's. Cookies are
 *   `__Host-`, HttpOnly, Secure, SameSite=Lax (CSRF: Strict), host-only; the database keeps only hashes.
 * - PIN guessing: 5 wrong PINs lock the user wherever they were typed (cashier, host sign-in, another
 *   session), the right PIN is refused everywhere until the lock runs out, and 20 wrong PINs raced at once
 *   through both doors are never evaluated more than 5 times (SQLite file and real PostgreSQL).
 */
import { createHash } from 'node:crypto';
import { FakeClock, MAX_PIN_ATTEMPTS, PIN_LOCK_MS } from '@billetera/domain';
import { findUserById } from '@billetera/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { LONG, scale, timeoutMs } from '../../../../test/long.ts';
import { specCall } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import { createMiniProgram } from '../services/mini-programs.ts';
import { createOperator, signUpMerchant } from '../services/staff-accounts.ts';
import type { RunningWallet } from '../wallet.ts';
import { SESSION_COOKIE, SESSION_TTL_MS } from './session.ts';
import { STAFF_COOKIES, STAFF_SESSION_TTL_MS } from './staff-session.ts';

const hash = (v: string) => createHash('sha256').update(v).digest('base64url');
const csrfOf = (page: string) => /name="_csrf" value="([^"]+)"/.exec(page)?.[1];

/** A cookie-keeping HTTP client: one browser. */
class Browser {
  readonly cookies = new Map<string, string>();
  /** Every Set-Cookie line received, newest last. */
  readonly setCookies: string[] = [];
  lastPage = '';
  constructor(private readonly base: string) {}

  get(path: string) {
    return this.send('GET', path);
  }
  /** Posts a form with the `_csrf` of the last page this browser loaded (unless the form has one). */
  post(path: string, form: Record<string, string>) {
    const csrf = csrfOf(this.lastPage);
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
      this.setCookies.push(c);
      const pair = c.split(';')[0] ?? '';
      const i = pair.indexOf('=');
      const [name, value] = [pair.slice(0, i), pair.slice(i + 1)];
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    if (method === 'GET' || res.status >= 400) this.lastPage = text;
    return { status: res.status, location: res.headers.get('location') ?? '', text };
  }
}

/** The flags every session cookie must carry: `__Host-` (so Secure, Path=/, no Domain), HttpOnly, Lax. */
function expectSessionCookieFlags(setCookie: string, name: string) {
  expect(setCookie.startsWith(`${name}=`)).toBe(true);
  expect(name.startsWith('__Host-')).toBe(true);
  expect(setCookie).toMatch(/;\s*Path=\/(;|$)/i);
  expect(setCookie).toMatch(/;\s*HttpOnly/i);
  expect(setCookie).toMatch(/;\s*Secure/i);
  expect(setCookie).toMatch(/;\s*SameSite=Lax/i);
  expect(setCookie).not.toMatch(/;\s*Domain=/i);
  expect(setCookie).toMatch(/;\s*Max-Age=\d+/i);
}

const lastSet = (b: Browser, name: string) =>
  [...b.setCookies].reverse().find((c) => c.startsWith(`${name}=`)) ?? '';

for (const backend of BACKENDS) {
  describe(`sessions and PIN guessing on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let shop: TestMerchant;
    const clock = new FakeClock(Date.now());
    let n = 0;
    const db = () => wallet.ctx.store.db;

    async function payment(): Promise<string> {
      const reply = await specCall(
        wallet.url,
        '/api/open/v1/payments/pay',
        JSON.stringify({
          partnerId: shop.merchant.partnerId,
          paymentRequestId: `ses-${process.pid}-${++n}`,
          paymentOrderTitle: 'Session test',
          paymentAmount: { currency: 'USD', value: '100' },
          paymentExpiryTime: new Date(clock.now() + 24 * 3600_000).toISOString(),
        }),
        {
          clientId: shop.merchant.clientId,
          privateKey: shop.keys.privateKey,
          requestTime: new Date(clock.now()).toISOString(),
        },
      );
      return reply.body['paymentId'] as string;
    }
    /** Signs a user in through /app's form. */
    async function userSignIn(b: Browser, phone: string, pin: string) {
      await b.get('/app');
      return b.post('/login', { phone, pin, next: '/app' });
    }

    beforeAll(async () => {
      env = await backend.create();
      // Rate limits are rate-limit.faults.test.ts's: here every request must reach the check under test.
      wallet = await startTestWallet(env, { clock, workers: false, rateLimits: false });
      shop = await addMerchant(wallet.ctx, { name: 'Session Shop' });
    });
    afterAll(async () => {
      await wallet?.close();
      await env?.cleanup();
    });

    it('gives wallet users a new session at sign-in, whatever cookie was planted before', async () => {
      const victim = await addUser(wallet.ctx, { USD: 1_000n });
      const attacker = await addUser(wallet.ctx, { USD: 1_000n });
      // The attacker's own live session, and an unknown value, planted in the victim's browser.
      const attackerBrowser = new Browser(wallet.url);
      expect((await userSignIn(attackerBrowser, attacker.phone, attacker.pin)).status).toBe(303);
      const attackerSession = attackerBrowser.cookies.get(SESSION_COOKIE) ?? '';
      expect(attackerSession).toMatch(/^[A-Za-z0-9_-]{43}$/);
      for (const planted of [attackerSession, 'planted-by-the-attacker-0000000000000000000']) {
        // The victim opens the sign-in form; the attacker's cookie is slipped in before it is sent.
        const b = new Browser(wallet.url);
        await b.get('/app');
        b.cookies.set(SESSION_COOKIE, planted);
        const out = await b.post('/login', { phone: victim.phone, pin: victim.pin, next: '/app' });
        expect(out).toMatchObject({ status: 303, location: '/app' });
        const fresh = b.cookies.get(SESSION_COOKIE) ?? '';
        expect(fresh).not.toBe(planted);
        expect(fresh).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expectSessionCookieFlags(lastSet(b, SESSION_COOKIE), SESSION_COOKIE);
        // The planted cookie never became the victim's.
        const withPlanted = new Browser(wallet.url);
        withPlanted.cookies.set(SESSION_COOKIE, planted);
        const home = await withPlanted.get('/app');
        expect(home.text).not.toContain(victim.phone);
        const row = await db()
          .selectFrom('sessions')
          .select('user_id')
          .where('id_hash', '=', hash(planted))
          .executeTakeFirst();
        expect(row?.user_id ?? null).toBe(planted === attackerSession ? attacker.id : null);
        // The database holds the hash of the victim's cookie, never the cookie itself.
        const mine = await db()
          .selectFrom('sessions')
          .selectAll()
          .where('id_hash', '=', hash(fresh))
          .executeTakeFirstOrThrow();
        expect(mine.user_id).toBe(victim.id);
        expect(
          JSON.stringify(await db().selectFrom('sessions').selectAll().execute(), (_k, v: unknown) =>
            typeof v === 'bigint' ? String(v) : v,
          ),
        ).not.toContain(fresh);
      }
      // The anonymous CSRF cookie is Strict.
      const anon = new Browser(wallet.url);
      await anon.get('/app');
      const csrfCookie = lastSet(anon, '__Host-billetera_csrf');
      expect(csrfCookie).toMatch(/HttpOnly/i);
      expect(csrfCookie).toMatch(/Secure/i);
      expect(csrfCookie).toMatch(/SameSite=Strict/i);
    });

    it('ends a wallet session on the server at sign-out and at expiry', async () => {
      const user = await addUser(wallet.ctx, { USD: 10_000n });
      const b = new Browser(wallet.url);
      await userSignIn(b, user.phone, user.pin);
      const cookie = b.cookies.get(SESSION_COOKIE) ?? '';
      const home = await b.get('/app');
      const csrf = csrfOf(home.text) ?? '';
      expect(home.text).toMatch(/Log out/i);
      expect(await b.post('/logout', {})).toMatchObject({ status: 303 });
      expect(lastSet(b, SESSION_COOKIE)).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);
      expect(
        await db()
          .selectFrom('sessions')
          .select('user_id')
          .where('id_hash', '=', hash(cookie))
          .executeTakeFirst(),
      ).toBeUndefined();
      // The old cookie and its token, replayed: nobody's session, nothing paid.
      const replay = new Browser(wallet.url);
      replay.cookies.set(SESSION_COOKIE, cookie);
      expect((await replay.get('/app')).text).toContain('name="pin"');
      const id = await payment();
      const confirm = await fetch(`${wallet.url}/cashier/${id}/confirm`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          cookie: `${SESSION_COOKIE}=${cookie}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ _csrf: csrf, pin: user.pin }),
      });
      expect(confirm.status).toBe(303);
      expect(
        await db().selectFrom('payments').select('status').where('id', '=', id).executeTakeFirstOrThrow(),
      ).toEqual({
        status: 'PROCESSING',
      });
      // Expiry: the server stops honouring the cookie at its end of life, whatever the browser keeps.
      const again = new Browser(wallet.url);
      await userSignIn(again, user.phone, user.pin);
      expect((await again.get('/app')).text).toMatch(/Log out/i);
      clock.advance(SESSION_TTL_MS);
      expect((await again.get('/app')).text).toContain('name="pin"');
      clock.advance(-SESSION_TTL_MS);
    });

    it('gives console and ops staff a new session at sign-in and ends it at sign-out and expiry', async () => {
      const email = `owner${process.pid}${++n}@sessions.test`;
      expect(
        (await signUpMerchant(wallet.ctx, { name: 'Staff Shop', email, password: 'a long enough password' }))
          .ok,
      ).toBe(true);
      const opEmail = `op${process.pid}${++n}@sessions.test`;
      expect((await createOperator(wallet.ctx, { email: opEmail, password: 'operator password 1' })).ok).toBe(
        true,
      );
      const areas = [
        { area: '/console', cookie: STAFF_COOKIES.MERCHANT, email, password: 'a long enough password' },
        { area: '/ops', cookie: STAFF_COOKIES.OPERATOR, email: opEmail, password: 'operator password 1' },
      ];
      for (const a of areas) {
        // An attacker's own live session in this area, planted in the victim's browser.
        const attacker = new Browser(wallet.url);
        await attacker.get(`${a.area}/sign-in`);
        expect(
          (await attacker.post(`${a.area}/sign-in`, { email: a.email, password: a.password })).status,
        ).toBe(303);
        const planted = attacker.cookies.get(a.cookie) ?? '';
        expect(planted).not.toBe('');
        const victim = new Browser(wallet.url);
        await victim.get(`${a.area}/sign-in`);
        victim.cookies.set(a.cookie, planted);
        expect(
          (await victim.post(`${a.area}/sign-in`, { email: a.email, password: a.password })).status,
        ).toBe(303);
        const fresh = victim.cookies.get(a.cookie) ?? '';
        expect(fresh).not.toBe(planted);
        expectSessionCookieFlags(lastSet(victim, a.cookie), a.cookie);
        // The planted session was ended by the sign-in over it: replayed, it is nobody's.
        expect((await attacker.get(a.area)).status).toBe(303);
        const row = await db()
          .selectFrom('staff_sessions')
          .select('subject_id')
          .where('id_hash', '=', hash(planted))
          .executeTakeFirst();
        expect(row).toBeUndefined();
        // Signed in now. The server ends the session at its expiry, whatever the browser keeps...
        expect((await victim.get(a.area)).status).toBe(200);
        clock.advance(STAFF_SESSION_TTL_MS);
        expect((await victim.get(a.area)).status).toBe(303);
        clock.advance(-STAFF_SESSION_TTL_MS);
        // ...and at sign-out.
        expect((await victim.get(a.area)).status).toBe(200);
        expect((await victim.post(`${a.area}/sign-out`, {})).status).toBe(303);
        expect(lastSet(victim, a.cookie)).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/i);
        const replay = new Browser(wallet.url);
        replay.cookies.set(a.cookie, fresh);
        expect(await replay.get(a.area)).toMatchObject({ status: 303 });
      }
      // A session of one area is nothing in another.
      const user = await addUser(wallet.ctx);
      const b = new Browser(wallet.url);
      await userSignIn(b, user.phone, user.pin);
      const userCookie = b.cookies.get(SESSION_COOKIE) ?? '';
      for (const a of areas) {
        const cross = new Browser(wallet.url);
        cross.cookies.set(a.cookie, userCookie);
        expect((await cross.get(a.area)).status).toBe(303);
      }
    });

    it('locks after 5 wrong PINs wherever they were typed, everywhere, until the lock runs out', async () => {
      const user = await addUser(wallet.ctx, { USD: 10_000n }, '271828');
      const merchant = await addMerchant(wallet.ctx, { name: 'Consent Shop' });
      const mini = await createMiniProgram(wallet.ctx, {
        clientId: merchant.merchant.clientId,
        name: 'Consent App',
        entryUrl: 'http://127.0.0.1:9/mini/',
        features: ['USER_INFO'],
      });
      const one = new Browser(wallet.url);
      const two = new Browser(wallet.url);
      await userSignIn(one, user.phone, user.pin);
      await userSignIn(two, user.phone, user.pin);
      const id = await payment();
      const wrongAtCashier = async (b: Browser) => {
        await b.get(`/cashier/${id}/pin`);
        return b.post(`/cashier/${id}/confirm`, { pin: '000000' });
      };
      const wrongAtSignIn = () => userSignIn(new Browser(wallet.url), user.phone, '000000');
      const answers = [
        await wrongAtCashier(one),
        await wrongAtSignIn(),
        await wrongAtCashier(two),
        await wrongAtSignIn(),
      ];
      expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400]);
      expect(answers.map((a) => /Wrong PIN, (\d) attempts? left/.exec(a.text)?.[1])).toEqual([
        '4',
        '3',
        '2',
        '1',
      ]);
      const fifth = await wrongAtCashier(one);
      expect(fifth.status).toBe(423);
      // The right PIN is refused through every door now, in every session.
      await two.get(`/cashier/${id}/pin`);
      expect((await two.post(`/cashier/${id}/confirm`, { pin: user.pin })).status).toBe(423);
      expect((await userSignIn(new Browser(wallet.url), user.phone, user.pin)).status).toBe(423);
      expect(
        await db().selectFrom('payments').select('status').where('id', '=', id).executeTakeFirstOrThrow(),
      ).toEqual({
        status: 'PROCESSING',
      });
      // The consent sheet asks for no PIN: it neither counts attempts nor lifts the lock.
      const home = await one.get(`/app/mini/${mini.appId}`);
      const csrf = /data-csrf="([^"]+)"/.exec(home.text)?.[1] ?? '';
      const consent = await fetch(`${wallet.url}/app/api/auth-codes`, {
        method: 'POST',
        headers: {
          cookie: `${SESSION_COOKIE}=${one.cookies.get(SESSION_COOKIE) ?? ''}`,
          'content-type': 'application/json',
          'x-csrf-token': csrf,
        },
        body: JSON.stringify({ appId: mini.appId, scopes: ['USER_NICKNAME'], consent: true }),
      });
      expect(consent.status).toBeLessThan(500);
      const locked = await findUserById(db(), user.id);
      expect(locked).toMatchObject({
        pinFailedAttempts: MAX_PIN_ATTEMPTS,
        pinLockedUntil: clock.now() + PIN_LOCK_MS,
      });
      clock.advance(PIN_LOCK_MS - 1);
      expect((await userSignIn(new Browser(wallet.url), user.phone, user.pin)).status).toBe(423);
      clock.advance(1);
      expect((await userSignIn(new Browser(wallet.url), user.phone, user.pin)).status).toBe(303);
      await two.get(`/cashier/${id}/pin`);
      expect((await two.post(`/cashier/${id}/confirm`, { pin: user.pin })).status).toBe(303);
      clock.advance(-PIN_LOCK_MS);
    });

    it(
      'never evaluates more than 5 of many wrong PINs raced at once through sign-in and the cashier',
      { timeout: timeoutMs(30_000, 300_000) },
      async () => {
        const rounds = scale(1, 10);
        const racers = scale(20, 100);
        let raced = 0;
        for (let round = 0; round < rounds; round++) {
          const user = await addUser(wallet.ctx, { USD: 10_000n }, '314159');
          const id = await payment();
          // Signed-in sessions for the cashier half (made before the race: the race is of wrong PINs only).
          const sessions: Browser[] = [];
          for (let i = 0; i < 4; i++) {
            const b = new Browser(wallet.url);
            await userSignIn(b, user.phone, user.pin);
            await b.get(`/cashier/${id}/pin`);
            sessions.push(b);
          }
          const signIns: Browser[] = [];
          for (let i = 0; i < racers / 2; i++) {
            const b = new Browser(wallet.url);
            await b.get('/app');
            signIns.push(b);
          }
          const answers = await Promise.all([
            ...signIns.map((b) => b.post('/login', { phone: user.phone, pin: '999999', next: '/app' })),
            ...Array.from({ length: racers / 2 }, (_, i) =>
              (sessions[i % sessions.length] as Browser).post(`/cashier/${id}/confirm`, { pin: '999999' }),
            ),
          ]);
          const statuses = answers.map((a) => a.status).sort();
          // Exactly 4 answers say "wrong PIN"; the 5th wrong one locked; every later one met the lock.
          expect(statuses.filter((s) => s === 400)).toHaveLength(MAX_PIN_ATTEMPTS - 1);
          expect(statuses.filter((s) => s === 423)).toHaveLength(racers - (MAX_PIN_ATTEMPTS - 1));
          expect(await findUserById(db(), user.id)).toMatchObject({ pinFailedAttempts: MAX_PIN_ATTEMPTS });
          expect((await userSignIn(new Browser(wallet.url), user.phone, user.pin)).status).toBe(423);
          raced += racers;
        }
        if (LONG)
          console.log(
            `faults: pin race ${backend.name}: ${raced} wrong PINs raced in ${rounds} rounds, at most ${MAX_PIN_ATTEMPTS} evaluated per user`,
          );
      },
    );
  });
}
