/**
 * User authorization in headless Chromium, with the real wallet and a tiny test mini program (served here
 * on its own origin, in the host's sandboxed iframe, calling `my.getAuthCode`): a silent auth_base code,
 * the consent sheet (Allow -> a code the merchant redeems over the real signed OpenAPI; Don't allow ->
 * error 11 and nothing written), a mini program without the User information feature (error 4), the
 * "Authorized mini programs" page and its revoke, and the CSRF guard of the host endpoint.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import {
  clickInFrame,
  launchChromium,
  phoneContext,
  shoot,
  signIn,
} from '../../../../test/browser-harness.ts';
import { requireBrowser } from '../../../../test/browser.ts';
import { specCall, type SpecReply } from '../../../../test/spec-merchant.ts';
import { addMerchant, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import { createMiniProgram } from '../services/mini-programs.ts';
import { createUser } from '../services/users.ts';
import type { RunningWallet } from '../wallet.ts';

const chromiumPath = requireBrowser();
/** A browser walk on a loaded 2-core machine (the whole suite runs in parallel) can take a while. */
const BROWSER_TEST_TIMEOUT_MS = 90_000;

const APP_NAME = 'Calaca Rewards';
const MERCHANT_NAME = 'Calaca Coffee Co.';
const NICKNAME = 'Ana Calaca';

/** The test mini program: buttons that call my.getAuthCode and write the outcome as JSON into #result. */
function miniProgramFiles(walletUrl: string): Record<string, { type: string; body: string }> {
  const index = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Auth test</title>
    <script src="${walletUrl}/jsapi/my.js"></script>
    <script src="app.js" defer></script>
  </head>
  <body>
    <h1>Auth test</h1>
    <button id="base">Base</button>
    <button id="profile">Profile</button>
    <button id="twice">Twice</button>
    <pre id="result"></pre>
    <pre id="result2"></pre>
  </body>
</html>`;
  const app = `
function ask(scopes, outId) {
  const out = document.getElementById(outId);
  delete out.dataset.done;
  out.textContent = '';
  my.getAuthCode({ scopes }).then(
    (r) => { out.textContent = JSON.stringify({ ok: true, ...r }); out.dataset.done = 'ok'; },
    (e) => { out.textContent = JSON.stringify({ ok: false, ...e }); out.dataset.done = 'error'; },
  );
}
const PROFILE = ['USER_NICKNAME', 'USER_CONTACTINFO'];
document.getElementById('base').addEventListener('click', () => ask('auth_base', 'result'));
document.getElementById('profile').addEventListener('click', () => ask(PROFILE, 'result'));
document.getElementById('twice').addEventListener('click', () => {
  ask(PROFILE, 'result');
  ask(PROFILE, 'result2');
});
`;
  return {
    '/mini/': { type: 'text/html; charset=utf-8', body: index },
    '/mini/app.js': { type: 'text/javascript; charset=utf-8', body: app },
  };
}

async function serveMiniProgram(walletUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const files = miniProgramFiles(walletUrl);
  const server = http.createServer((req, res) => {
    const file = files[new URL(req.url ?? '/', 'http://x').pathname];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mini/`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface Outcome {
  ok: boolean;
  authCode?: string;
  authSuccessScopes?: string[];
  authErrorScopes?: Record<string, string>;
  error?: number;
  errorMessage?: string;
}

describe.skipIf(!chromiumPath)('my.getAuthCode, the consent sheet and authorized mini programs', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let merchant: TestMerchant;
  let mini: Awaited<ReturnType<typeof serveMiniProgram>>;
  let appId: string;
  let plainAppId: string;
  let browser: Browser;
  let userCounter = 0;

  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    wallet = await startTestWallet(env);
    merchant = await addMerchant(wallet.ctx, { name: MERCHANT_NAME });
    mini = await serveMiniProgram(wallet.url);
    appId = (
      await createMiniProgram(wallet.ctx, {
        clientId: merchant.merchant.clientId,
        name: APP_NAME,
        entryUrl: mini.url,
        features: ['USER_INFO'],
      })
    ).appId;
    plainAppId = (
      await createMiniProgram(wallet.ctx, {
        clientId: merchant.merchant.clientId,
        name: 'Calaca Plain',
        entryUrl: mini.url,
      })
    ).appId;
    browser = await launchChromium(chromiumPath!);
  });
  afterAll(async () => {
    await browser?.close();
    await mini?.close();
    await wallet?.close();
    await env?.cleanup();
  });

  async function newUser(): Promise<{ phone: string; pin: string; id: string }> {
    const phone = `+1556${process.pid % 1000}${String(++userCounter).padStart(5, '0')}`;
    const user = await createUser(wallet.ctx, { phone, pin: '246810', displayName: NICKNAME });
    return { phone, pin: '246810', id: user.id };
  }

  async function openMini(
    user: { phone: string; pin: string },
    which = appId,
  ): Promise<{ page: Page; frame: FrameLocator }> {
    const page = await (await phoneContext(browser)).newPage();
    await page.goto(`${wallet.url}/app/mini/${which}`);
    await signIn(page, user.phone, user.pin);
    const frame = page.frameLocator('#mini');
    await frame.getByRole('button', { name: 'Base' }).waitFor();
    return { page, frame };
  }

  async function outcome(frame: FrameLocator, id = 'result'): Promise<Outcome> {
    const out = frame.locator(`#${id}[data-done]`);
    await out.waitFor({ timeout: 15_000 });
    return JSON.parse(await out.innerText()) as Outcome;
  }

  const countRows = async (table: 'user_grants' | 'auth_codes'): Promise<number> =>
    (await wallet.ctx.store.db.selectFrom(table).selectAll().execute()).length;

  const call = (path: string, body: object): Promise<SpecReply> =>
    specCall(wallet.url, path, JSON.stringify(body), {
      clientId: merchant.merchant.clientId,
      privateKey: merchant.keys.privateKey,
    });

  it(
    'a silent auth_base gives a code without any sheet',
    async () => {
      const user = await newUser();
      const { page, frame } = await openMini(user);
      await clickInFrame(frame.getByRole('button', { name: 'Base' }));
      const got = await outcome(frame);
      expect(got).toMatchObject({ ok: true, authSuccessScopes: ['auth_base'], authErrorScopes: {} });
      expect(got.authCode).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(await page.locator('#consent').isHidden()).toBe(true);
      // The CSRF token is not left in the page for anyone to read.
      expect(await page.locator('#mini').getAttribute('data-csrf')).toBeNull();
      await page.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'asks for consent, issues a code the merchant redeems, remembers the grant, and revokes it',
    async () => {
      const user = await newUser();
      const { page, frame } = await openMini(user);

      await clickInFrame(frame.getByRole('button', { name: 'Profile' }));
      const sheet = page.getByRole('dialog', { name: `Allow ${APP_NAME} to use your information?` });
      await sheet.waitFor();
      expect(await page.locator('#consent-lead').innerText()).toBe(`${MERCHANT_NAME} will receive:`);
      expect(await page.locator('#consent-items li').allInnerTexts()).toEqual([
        'Your nickname',
        'Your phone number',
      ]);
      // Focus starts on the safe choice, and Allow answers only once the sheet has been up a moment.
      expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('consent-deny');
      await page.locator('#consent-allow:enabled').waitFor();
      await shoot(page, 'auth-01-consent-sheet');
      await page.locator('#consent-allow').click();

      const got = await outcome(frame);
      expect(got).toMatchObject({
        ok: true,
        authSuccessScopes: ['USER_NICKNAME', 'USER_CONTACTINFO'],
        authErrorScopes: {},
      });
      expect(await page.locator('#consent').isHidden()).toBe(true);

      // The merchant's server redeems the code over the signed OpenAPI and reads the user.
      const token = await call('/api/open/v1/authorizations/applyToken', {
        grantType: 'AUTHORIZATION_CODE',
        authCode: got.authCode,
        referenceClientId: appId,
      });
      expect(token.body.result).toMatchObject({ resultStatus: 'S', resultCode: 'SUCCESS' });
      const accessToken = token.body['accessToken'] as string;
      const info = await call('/api/open/v1/users/inquiryUserInfo', { accessToken });
      expect(info.body.result.resultCode).toBe('SUCCESS');
      expect(info.body['userInfo']).toMatchObject({
        nickName: NICKNAME,
        contactInfos: [{ contactNo: user.phone, contactType: 'MOBILE_PHONE' }],
      });

      // Asking again for what was granted shows no sheet.
      await clickInFrame(frame.getByRole('button', { name: 'Profile' }));
      const again = await outcome(frame);
      expect(again).toMatchObject({ ok: true, authSuccessScopes: ['USER_NICKNAME', 'USER_CONTACTINFO'] });
      expect(again.authCode).not.toBe(got.authCode);
      expect(await page.locator('#consent').isHidden()).toBe(true);

      // The home page leads to the list; the grant is there with what it shares.
      await page.goto(`${wallet.url}/app`);
      await page.getByRole('link', { name: 'Authorized mini programs' }).click();
      await page.getByRole('heading', { name: 'Authorized mini programs' }).waitFor();
      const grant = page.locator('.grant');
      expect(await grant.count()).toBe(1);
      expect(await grant.getByRole('heading').innerText()).toBe(APP_NAME);
      expect(await grant.innerText()).toContain(`by ${MERCHANT_NAME}`);
      expect((await grant.locator('.shared li').allInnerTexts()).sort()).toEqual([
        'Your nickname',
        'Your phone number',
      ]);
      await shoot(page, 'auth-02-authorizations');

      await grant.getByRole('button', { name: 'Revoke access' }).click();
      await page.locator('#revoked-notice').waitFor();
      expect(await page.locator('#revoked-notice').innerText()).toContain(APP_NAME);
      expect(await page.locator('.grant').count()).toBe(0);
      expect(await page.locator('#no-grants').isVisible()).toBe(true);
      expect(page.url()).toMatch(/\/app\/authorizations\?revoked=/);
      await shoot(page, 'auth-03-revoked');

      const after = await call('/api/open/v1/users/inquiryUserInfo', { accessToken });
      expect(after.body.result.resultCode).toBe('INVALID_ACCESS_TOKEN');

      // After the revocation the mini program has to ask again.
      await page.goto(`${wallet.url}/app/mini/${appId}`);
      await clickInFrame(page.frameLocator('#mini').getByRole('button', { name: 'Profile' }));
      await page.locator('#consent').waitFor();
      await page.keyboard.press('Escape');
      expect(await outcome(page.frameLocator('#mini'))).toMatchObject({ ok: false, error: 11 });
      await page.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    "Don't allow (or Escape) answers error 11 and writes nothing; one sheet at a time",
    async () => {
      const user = await newUser();
      const { page, frame } = await openMini(user);
      const grants = await countRows('user_grants');
      const codes = await countRows('auth_codes');

      await clickInFrame(frame.getByRole('button', { name: 'Twice' }));
      await page.locator('#consent').waitFor();
      // Of two calls at once, one gets the sheet; the other, while it is open, fails at once with error 3.
      const busy = frame.locator('[data-done="error"]');
      await busy.waitFor();
      expect(JSON.parse(await busy.innerText())).toMatchObject({ ok: false, error: 3 });
      const asked = (await busy.getAttribute('id')) === 'result' ? 'result2' : 'result';
      await page.locator('#consent-deny').click();
      expect(await outcome(frame, asked)).toEqual({
        ok: false,
        error: 11,
        errorMessage: 'the user refused',
        authErrorScopes: { USER_NICKNAME: '40006', USER_CONTACTINFO: '40006' },
      });
      expect(await page.locator('#consent').isHidden()).toBe(true);

      await clickInFrame(frame.getByRole('button', { name: 'Profile' }));
      await page.locator('#consent').waitFor();
      await page.keyboard.press('Escape');
      expect(await outcome(frame)).toMatchObject({ ok: false, error: 11 });

      expect(await countRows('user_grants')).toBe(grants);
      expect(await countRows('auth_codes')).toBe(codes);
      await page.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'no consent sheet opens over the cashier sheet',
    async () => {
      const user = await newUser();
      const page = await (await phoneContext(browser)).newPage();
      // A miniProgramUrl resumes the cashier sheet at once (for one of this mini program's payments).
      const order = await call('/api/open/v1/payments/pay', {
        partnerId: merchant.merchant.partnerId,
        paymentRequestId: `sheet-${Date.now()}`,
        paymentOrderTitle: 'Order in progress',
        paymentAmount: { currency: 'USD', value: '100' },
        appId,
      });
      expect(order.body).toMatchObject({ result: { resultStatus: 'A' } });
      await page.goto(`${wallet.url}/app/mini/${appId}?pay=${String(order.body['paymentId'])}`);
      await signIn(page, user.phone, user.pin);
      await page.frameLocator('#sheet-frame').getByRole('heading', { name: 'Confirm payment' }).waitFor();
      const frame = page.frameLocator('#mini');
      await clickInFrame(frame.getByRole('button', { name: 'Profile' }));
      expect(await outcome(frame)).toMatchObject({
        ok: false,
        error: 3,
        errorMessage: expect.stringContaining('payment is in progress') as unknown,
      });
      expect(await page.locator('#consent').isHidden()).toBe(true);
      await page.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'a mini program without the User information feature gets error 4',
    async () => {
      const user = await newUser();
      const codes = await countRows('auth_codes');
      const { page, frame } = await openMini(user, plainAppId);
      await clickInFrame(frame.getByRole('button', { name: 'Base' }));
      const got = await outcome(frame);
      expect(got).toMatchObject({ ok: false, error: 4 });
      expect(got.errorMessage).toContain('User information');
      await clickInFrame(frame.getByRole('button', { name: 'Profile' }));
      expect(await outcome(frame)).toMatchObject({ ok: false, error: 4 });
      expect(await page.locator('#consent').isHidden()).toBe(true);
      expect(await countRows('auth_codes')).toBe(codes);
      await page.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'the host endpoint wants the CSRF header, and a grant can be revoked only by its user',
    async () => {
      const user = await newUser();
      const { page } = await openMini(user);
      const codes = await countRows('auth_codes');
      const post = (headers: Record<string, string>) =>
        page.evaluate(
          async ([id, h]) => {
            const res = await fetch('/app/api/auth-codes', {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...h },
              body: JSON.stringify({ appId: id, scopes: ['auth_base'], consent: true }),
            });
            return { status: res.status, cache: res.headers.get('cache-control'), body: await res.json() };
          },
          [appId, headers] as const,
        );
      const noHeader = await post({});
      expect(noHeader.status).toBe(403);
      expect(noHeader.body).not.toHaveProperty('authCode');
      expect((await post({ 'x-csrf-token': 'forged' })).status).toBe(403);
      expect(await countRows('auth_codes')).toBe(codes);

      // With the session's token (what host.js sends) it works, and is never cached.
      const home = await page.context().newPage();
      await home.goto(`${wallet.url}/app`);
      const csrf = await home.locator('input[name=_csrf]').first().inputValue();
      await home.close();
      const good = await post({ 'x-csrf-token': csrf });
      expect(good.status).toBe(200);
      expect(good.cache).toBe('no-store');
      expect(good.body).toMatchObject({ authSuccessScopes: ['auth_base'] });
      const bad = await page.evaluate(
        async ([token]) => {
          const res = await fetch('/app/api/auth-codes', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-csrf-token': token },
            body: JSON.stringify({ appId: 'x', scopes: [], consent: false }),
          });
          return res.status;
        },
        [csrf] as const,
      );
      expect(bad).toBe(400);

      // Another user cannot revoke this grant, and an unknown id is a 404 too.
      const grant = await wallet.ctx.store.db
        .selectFrom('user_grants')
        .select('id')
        .where('user_id', '=', user.id)
        .executeTakeFirstOrThrow();
      const other = await newUser();
      const otherPage = await (await phoneContext(browser)).newPage();
      await otherPage.goto(`${wallet.url}/app`);
      await signIn(otherPage, other.phone, other.pin);
      const otherCsrf = await otherPage.locator('input[name=_csrf]').first().inputValue();
      for (const id of [grant.id, 'grt_unknown']) {
        const status = await otherPage.evaluate(
          async ([grantId, token]) =>
            (
              await fetch(`/app/authorizations/${grantId}/revoke`, {
                method: 'POST',
                body: new URLSearchParams({ _csrf: token }),
                redirect: 'manual',
              })
            ).status,
          [id, otherCsrf] as const,
        );
        expect(status).toBe(404);
      }
      const still = await wallet.ctx.store.db
        .selectFrom('user_grants')
        .select('revoked_at')
        .where('id', '=', grant.id)
        .executeTakeFirstOrThrow();
      expect(still.revoked_at).toBeNull();
      // Signed out, the page is the sign-in form.
      const anon = await (await phoneContext(browser)).newPage();
      await anon.goto(`${wallet.url}/app/authorizations`);
      await anon.getByLabel('Phone number').waitFor();
      await anon.context().close();
      await otherPage.context().close();
      await page.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );
});
