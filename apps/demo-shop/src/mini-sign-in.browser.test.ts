/**
 * The mini program's "Sign in with Billetera" card in headless Chromium. The page is opened on its own
 * (not inside the host app) with a scripted `my` in place of the wallet's jsapi, so the test decides what
 * `my.getAuthCode` answers; the authCode itself comes from the real wallet (`issueAuthCode`, the user's
 * consent), and the shop exchanges it with the real wallet. The walk inside the host app, with the
 * wallet's consent sheet, is with the host's browser tests.
 */
import { findPaymentById } from '@billetera/store';
import { createUser, issueAuthCode, type RunningWallet } from '@billetera/wallet';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../test/backends.ts';
import { clickInFrame, launchChromium, phoneContext, shoot } from '../../../test/browser-harness.ts';
import { requireBrowser } from '../../../test/browser.ts';
import { addMerchant, startTestWallet, type TestMerchant } from '../../../test/wallet-harness.ts';
import { startDemoShop, type RunningDemoShop } from './demo-shop.ts';

const chromiumPath = requireBrowser();
const BROWSER_TEST_TIMEOUT_MS = 90_000;
const NOT_SIGNED_IN = 'Not signed in: nothing was shared with the shop.';

/**
 * Stands in for `<wallet>/jsapi/my.js`: records every call in `window.__calls`; getAuthCode answers what
 * `window.__nextAuth` says (`{ authCode }`, or a refusal with error 11), tradePay answers 6001.
 */
const FAKE_MY = `
window.__calls = [];
window.__nextAuth = { error: 11 };
window.my = {
  getAuthCode(options) {
    window.__calls.push(['getAuthCode', options]);
    const next = window.__nextAuth;
    return next.authCode
      ? Promise.resolve({ authCode: next.authCode, authSuccessScopes: options.scopes, authErrorScopes: {} })
      : Promise.reject({ error: next.error, errorMessage: 'the user did not agree' });
  },
  tradePay(options) {
    window.__calls.push(['tradePay', options]);
    return Promise.resolve({ resultCode: '6001' });
  },
  getSiteInfo: () => Promise.resolve({ siteName: 'BILLETERA' }),
  alert: () => Promise.resolve({}),
  showToast: () => Promise.resolve({}),
};
`;

type Call = [string, Record<string, unknown>];

let phones = 0;
const newPhone = () => `+1557${process.pid % 1000}${String(++phones).padStart(5, '0')}`;

describe.skipIf(!chromiumPath)('the mini program signs in with Billetera, in Chromium', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let merchant: TestMerchant;
  let shop: RunningDemoShop;
  let browser: Browser;

  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    wallet = await startTestWallet(env);
    merchant = await addMerchant(wallet.ctx, { name: 'Billetera Demo Shop' });
    shop = await startDemoShop({
      port: 0,
      walletUrl: wallet.url,
      clientId: merchant.merchant.clientId,
      partnerId: merchant.merchant.partnerId,
      privateKeyPem: merchant.keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      walletPublicKeyPem: wallet.ctx.secrets.walletPublicKeyPem,
      logLevel: 'silent',
    });
    browser = await launchChromium(chromiumPath!);
  });
  afterAll(async () => {
    await browser?.close();
    await shop?.close();
    await wallet?.close();
    await env?.cleanup();
  });

  /** The mini program with the scripted `my`, and every request it sends to the shop's API. */
  async function openMini(): Promise<{ page: Page; apiRequests: Request[] }> {
    const page = await (await phoneContext(browser)).newPage();
    await page.route(`${wallet.url}/jsapi/my.js`, (route) =>
      route.fulfill({ contentType: 'text/javascript', body: FAKE_MY }),
    );
    const apiRequests: Request[] = [];
    page.on('request', (req) => {
      if (new URL(req.url()).pathname.startsWith('/api/') && req.method() === 'POST') apiRequests.push(req);
    });
    await page.goto(`${shop.url}/mini/`);
    await page.getByRole('button', { name: 'Buy Café de olla' }).waitFor();
    return { page, apiRequests };
  }

  // The test has no DOM types: page-side code is given as strings, or through globalThis.
  const calls = (page: Page) => page.evaluate<Call[]>('window.__calls');
  const answerAuthWith = (page: Page, next: { authCode: string } | { error: number }) =>
    page.evaluate((n) => {
      (globalThis as unknown as { __nextAuth: unknown }).__nextAuth = n;
    }, next);
  const greeting = (page: Page, text: string) =>
    page.locator('#greeting').filter({ hasText: text }).waitFor({ timeout: 15_000 });
  const consent = async (userId: string) =>
    (
      await issueAuthCode(wallet.ctx, {
        userId,
        merchantId: merchant.merchant.id,
        scopes: ['auth_user'],
      })
    ).authCode;

  it(
    'asks only on a click; a refusal shares nothing; a grant greets by nickname and buys as that customer',
    async () => {
      const user = await createUser(wallet.ctx, { phone: newPhone(), pin: '123456', displayName: 'Lupita' });
      const { page, apiRequests } = await openMini();
      try {
        // The first screen offers the sign-in and asks nothing by itself.
        const button = page.locator('#sign-in');
        expect(await button.isVisible()).toBe(true);
        expect(await button.textContent()).toBe('Sign in with Billetera');
        await page.waitForTimeout(300);
        expect(await calls(page)).toEqual([]);
        expect(await page.locator('#greeting').textContent()).toBe('');
        await shoot(page, 'demo-shop-sign-in-01-offered');

        // The user refuses (error 11): the page says so, and nothing goes to the shop.
        await clickInFrame(button);
        await greeting(page, NOT_SIGNED_IN);
        expect(await page.locator('#greeting').textContent()).toBe(NOT_SIGNED_IN);
        expect(await calls(page)).toEqual([['getAuthCode', { scopes: ['auth_user'] }]]);
        expect(apiRequests).toEqual([]);
        expect(await button.isVisible()).toBe(true);
        await shoot(page, 'demo-shop-sign-in-02-refused');

        // Any other failure reads the same.
        await answerAuthWith(page, { error: 3 });
        await page.evaluate("document.getElementById('greeting').textContent = ''");
        await clickInFrame(button);
        await greeting(page, NOT_SIGNED_IN);
        expect(apiRequests).toEqual([]);

        // The user agrees: the code goes to the shop, which greets them by nickname.
        await answerAuthWith(page, { authCode: await consent(user.id) });
        await clickInFrame(button);
        await greeting(page, 'Hola, Lupita!');
        expect(await page.locator('#greeting').textContent()).toBe('Hola, Lupita!');
        await button.waitFor({ state: 'hidden' });
        expect(apiRequests.map((r) => new URL(r.url()).pathname)).toEqual(['/api/session']);
        const session = (await (await apiRequests[0]!.response())!.json()) as {
          sessionId: string;
          customerId: string;
        };
        await shoot(page, 'demo-shop-sign-in-03-greeted');

        // An order now carries the session, and the wallet's payment names the customer as the buyer.
        await clickInFrame(page.getByRole('button', { name: 'Buy Matcha set' }));
        await page.locator('#order-status[data-status="CANCELLED_BY_USER"]').waitFor({ timeout: 15_000 });
        const orderRequest = apiRequests.find((r) => new URL(r.url()).pathname === '/api/orders');
        expect(orderRequest?.postDataJSON()).toEqual({
          productId: 'matcha-set',
          siteName: 'BILLETERA',
          sessionId: session.sessionId,
        });
        const tradePay = (await calls(page)).find(([name]) => name === 'tradePay');
        const payment = await findPaymentById(wallet.ctx.store.db, String(tradePay?.[1]['tradeNO']));
        expect(JSON.parse(payment?.orderJson ?? '{}')).toMatchObject({
          buyer: { referenceBuyerId: session.customerId },
        });

        // Back on the products, the greeting is still there (kept in the page's memory).
        await clickInFrame(page.getByRole('button', { name: 'Back to products' }));
        await greeting(page, 'Hola, Lupita!');
        expect(await button.isHidden()).toBe(true);
      } finally {
        await page.context().close();
      }
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'shows a nickname as text, never as markup',
    async () => {
      const nick = '<img src=x onerror="window.__owned=1">Ana';
      const user = await createUser(wallet.ctx, { phone: newPhone(), pin: '123456', displayName: nick });
      const { page } = await openMini();
      try {
        await answerAuthWith(page, { authCode: await consent(user.id) });
        await clickInFrame(page.locator('#sign-in'));
        await greeting(page, 'Hola, ');
        expect(await page.locator('#greeting').textContent()).toBe(`Hola, ${nick}!`);
        expect(await page.locator('#greeting img').count()).toBe(0);
        expect(await page.evaluate('window.__owned')).toBeUndefined();
      } finally {
        await page.context().close();
      }
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'greets a user without a nickname as friend',
    async () => {
      const user = await createUser(wallet.ctx, { phone: newPhone(), pin: '123456' });
      const { page } = await openMini();
      try {
        await answerAuthWith(page, { authCode: await consent(user.id) });
        await clickInFrame(page.locator('#sign-in'));
        await greeting(page, 'Hola, friend!');
        await page.locator('#sign-in').waitFor({ state: 'hidden' });
      } finally {
        await page.context().close();
      }
    },
    BROWSER_TEST_TIMEOUT_MS,
  );
});
