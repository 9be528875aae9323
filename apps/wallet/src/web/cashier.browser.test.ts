/**
 * The cashier in headless Chromium on a phone-sized screen: sign-in, the payment sheet, the PIN, success,
 * and every state that cannot be paid. Screenshots of each state go to .test-artifacts/screenshots/.
 */
import { userAccount } from '@billetera/domain';
import { balanceOf, finishPayment } from '@billetera/store';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { launchChromium, phoneContext, shoot, signIn } from '../../../../test/browser-harness.ts';
import { requireBrowser } from '../../../../test/browser.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import { createPayment } from '../services/create-payment.ts';
import type { RunningWallet } from '../wallet.ts';

const chromiumPath = requireBrowser();
/** A browser walk on a loaded 2-core machine (the whole suite runs in parallel) can take a while. */
const BROWSER_TEST_TIMEOUT_MS = 90_000;

describe.skipIf(!chromiumPath)('cashier in Chromium', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let browser: Browser;
  let shop: TestMerchant;
  let n = 0;
  const newPayment = async (
    value: string,
    currency = 'USD',
    extra: { paymentExpiryTime?: string; paymentReturnUrl?: string } = {},
  ) => {
    const out = await createPayment(wallet.ctx, shop.merchant, {
      partnerId: shop.merchant.partnerId,
      paymentRequestId: `b-${++n}`,
      paymentOrderTitle: 'Café de olla <b>hot</b>',
      paymentAmount: { currency, value },
      ...extra,
    });
    return out.reply.paymentId!;
  };

  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    wallet = await startTestWallet(env);
    shop = await addMerchant(wallet.ctx, { name: 'Tienda Demo' });
    browser = await launchChromium(chromiumPath!);
  });
  afterAll(async () => {
    await browser?.close();
    await wallet?.close();
    await env?.cleanup();
  }, BROWSER_TEST_TIMEOUT_MS);

  it(
    'signs in, shows payee, order and amount, takes the PIN and shows success with a way back',
    async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const id = await newPayment('1999', 'USD', { paymentReturnUrl: 'https://shop.example/orders/1' });
      const page = await (await phoneContext(browser)).newPage();
      await page.goto(`${wallet.url}/cashier/${id}`);
      await expect(
        page.getByRole('heading', { name: 'Log in to pay Tienda Demo' }).isVisible(),
      ).resolves.toBe(true);
      await shoot(page, 'cashier-01-sign-in');
      await signIn(page, user.phone, user.pin);

      await page.getByRole('heading', { name: 'Confirm payment' }).waitFor();
      expect(await page.locator('.payee').innerText()).toBe('Tienda Demo');
      // Merchant-supplied text is shown as text, never as markup.
      expect(await page.locator('.order-title').innerText()).toBe('Café de olla <b>hot</b>');
      expect(await page.locator('.order-title b').count()).toBe(0);
      expect(await page.locator('.amount').first().innerText()).toBe('19.99 USD');
      expect(await page.locator('.balance').textContent()).toContain('50.00 USD');
      await shoot(page, 'cashier-02-sheet');

      await page.getByRole('link', { name: 'Pay' }).click();
      await page.getByLabel('PIN').fill(user.pin);
      await shoot(page, 'cashier-03-pin');
      await page.getByRole('button', { name: 'Pay 19.99 USD' }).click();
      await page.getByRole('heading', { name: 'Payment successful' }).waitFor();
      expect(await page.locator('.amount').innerText()).toBe('19.99 USD');
      expect(await page.getByRole('link', { name: 'Return to Tienda Demo' }).getAttribute('href')).toBe(
        'https://shop.example/orders/1',
      );
      await shoot(page, 'cashier-04-success');
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(3_001n);
      await page.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'formats amounts for their currency (1,200 JPY)',
    async () => {
      const user = await addUser(wallet.ctx, { JPY: 5_000n });
      const id = await newPayment('1200', 'JPY');
      const page = await (await phoneContext(browser)).newPage();
      await page.goto(`${wallet.url}/cashier/${id}`);
      await signIn(page, user.phone, user.pin);
      expect(await page.locator('.amount').first().innerText()).toBe('1,200 JPY');
      expect(await page.locator('.balance').textContent()).toContain('5,000 JPY');
      await page.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'says "Wrong PIN, N attempts left" and locks the account after 5 wrong PINs',
    async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const id = await newPayment('100');
      const page = await (await phoneContext(browser)).newPage();
      await page.goto(`${wallet.url}/cashier/${id}`);
      await signIn(page, user.phone, user.pin);
      await page.getByRole('link', { name: 'Pay' }).click();
      for (let left = 4; left >= 1; left--) {
        await page.getByLabel('PIN').fill('000000');
        await page.getByRole('button', { name: /^Pay / }).click();
        await expect(page.getByRole('alert').innerText()).resolves.toBe(
          `Wrong PIN, ${left} ${left === 1 ? 'attempt' : 'attempts'} left`,
        );
        if (left === 4) await shoot(page, 'cashier-05-wrong-pin');
      }
      await page.getByLabel('PIN').fill('000000');
      await page.getByRole('button', { name: /^Pay / }).click();
      await page.getByRole('heading', { name: 'Account locked' }).waitFor();
      expect(await page.getByRole('status').textContent()).toMatch(/locked for 15 more minutes/);
      await shoot(page, 'cashier-06-locked');
      // Signing in elsewhere is refused too.
      const other = await (await phoneContext(browser)).newPage();
      await other.goto(`${wallet.url}/app`);
      await signIn(other, user.phone, user.pin);
      expect(await other.getByRole('alert').textContent()).toMatch(/Too many wrong PINs/);
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(5_000n);
      await page.context().close();
      await other.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'shows clear pages for balance too low, expired, cancelled and already paid orders',
    async () => {
      const poor = await addUser(wallet.ctx, { USD: 500n });
      const page = await (await phoneContext(browser)).newPage();
      await page.goto(`${wallet.url}/cashier/${await newPayment('1999')}`);
      await signIn(page, poor.phone, poor.pin);
      expect(await page.getByRole('alert').innerText()).toBe(
        'Balance too low: you need 19.99 USD and have 5.00 USD.',
      );
      expect(await page.getByRole('link', { name: 'Pay' }).count()).toBe(0);
      await shoot(page, 'cashier-07-balance-too-low');

      const expiring = await newPayment('100', 'USD', {
        paymentExpiryTime: new Date(Date.now() + 1_500).toISOString(),
      });
      await new Promise((r) => setTimeout(r, 2_600)); // the sweeper runs every second
      await page.goto(`${wallet.url}/cashier/${expiring}`);
      await page.getByRole('heading', { name: 'This order has expired' }).waitFor();
      await shoot(page, 'cashier-08-expired');

      const cancelled = await newPayment('100');
      await finishPayment(wallet.ctx.store.db, cancelled, { status: 'CANCELLED' });
      await page.goto(`${wallet.url}/cashier/${cancelled}`);
      await page.getByRole('heading', { name: 'This order was cancelled' }).waitFor();
      await shoot(page, 'cashier-09-cancelled');

      const rich = await addUser(wallet.ctx, { USD: 5_000n });
      const paid = await newPayment('100');
      const payer = await (await phoneContext(browser)).newPage();
      await payer.goto(`${wallet.url}/cashier/${paid}`);
      await signIn(payer, rich.phone, rich.pin);
      await payer.getByRole('link', { name: 'Pay' }).click();
      await payer.getByLabel('PIN').fill(rich.pin);
      await payer.getByRole('button', { name: /^Pay / }).click();
      await payer.getByRole('heading', { name: 'Payment successful' }).waitFor();
      await page.goto(`${wallet.url}/cashier/${paid}`);
      await page.getByRole('heading', { name: 'This order is already paid' }).waitFor();
      await shoot(page, 'cashier-10-already-paid');
      await page.goto(`${wallet.url}/cashier/pay_doesnotexist`);
      await page.getByRole('heading', { name: 'Payment not found' }).waitFor();
      await page.context().close();
      await payer.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'paying the same order in two tabs debits once; a double click pays once',
    async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const id = await newPayment('1000');
      const context = await phoneContext(browser);
      const [a, b] = [await context.newPage(), await context.newPage()];
      await a.goto(`${wallet.url}/cashier/${id}`);
      await signIn(a, user.phone, user.pin);
      for (const tab of [a, b]) {
        await tab.goto(`${wallet.url}/cashier/${id}/pin`);
        await tab.getByLabel('PIN').fill(user.pin);
      }
      await Promise.all([
        a.getByRole('button', { name: /^Pay / }).click(),
        b.getByRole('button', { name: /^Pay / }).click(),
      ]);
      await a.getByRole('heading', { name: 'Payment successful' }).waitFor();
      await b.getByRole('heading', { name: 'Payment successful' }).waitFor();
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(4_000n);

      const twice = await newPayment('1000');
      await a.goto(`${wallet.url}/cashier/${twice}/pin`);
      await a.getByLabel('PIN').fill(user.pin);
      await a.getByRole('button', { name: /^Pay / }).dblclick();
      await a.getByRole('heading', { name: 'Payment successful' }).waitFor();
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(3_000n);
      await context.close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it('sends security headers and refuses a form without its CSRF token', async () => {
    const res = await fetch(`${wallet.url}/cashier/${await newPayment('100')}`);
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'self'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const cookies = res.headers.getSetCookie();
    expect(cookies.some((c) => /^__Host-billetera_csrf=.*HttpOnly.*Secure.*SameSite=Strict/i.test(c))).toBe(
      true,
    );
    const forged = await fetch(`${wallet.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'phone=%2B15550000001&pin=123456&next=%2Fapp',
      redirect: 'manual',
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.getSetCookie().some((c) => c.startsWith('__Host-billetera_session='))).toBe(false);
  });
});
