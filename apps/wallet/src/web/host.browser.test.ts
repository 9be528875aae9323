/**
 * The payment capability's six steps in headless Chromium, with the real wallet, the real demo shop (a
 * merchant on sdk-node) and its mini program on jsapi: host sign-in -> open the demo shop -> buy ->
 * my.tradePay -> cashier PIN -> success -> the mini program's result page shows PAID as confirmed by the
 * merchant server -> balances moved once. Plus closing the sheet (6001) and the miniProgramUrl link.
 */
import { merchantAccount, userAccount } from '@billetera/domain';
import { startDemoShop } from '@billetera/demo-shop';
import { balanceOf, checkLedger } from '@billetera/store';
import type { Browser, Page } from 'playwright-core';
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
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import { createMiniProgram, moveMiniProgram } from '../services/mini-programs.ts';
import { createUser, topUpUser } from '../services/users.ts';
import type { RunningWallet } from '../wallet.ts';

const chromiumPath = requireBrowser();
/** A browser walk on a loaded 2-core machine (the whole suite runs in parallel) can take a while. */
const BROWSER_TEST_TIMEOUT_MS = 90_000;

describe.skipIf(!chromiumPath)('host app, mini program and my.tradePay in Chromium', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let shop: Awaited<ReturnType<typeof startDemoShop>>;
  let merchant: TestMerchant;
  let appId: string;
  let browser: Browser;

  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    wallet = await startTestWallet(env);
    merchant = await addMerchant(wallet.ctx, { name: 'Billetera Demo Shop' });
    appId = (
      await createMiniProgram(wallet.ctx, {
        clientId: merchant.merchant.clientId,
        name: 'Demo Shop',
        entryUrl: 'http://127.0.0.1:9/mini/',
        features: ['USER_INFO'],
      })
    ).appId;
    shop = await startDemoShop({
      port: 0,
      walletUrl: wallet.url,
      clientId: merchant.merchant.clientId,
      partnerId: merchant.merchant.partnerId,
      privateKeyPem: merchant.keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      walletPublicKeyPem: wallet.ctx.secrets.walletPublicKeyPem,
      appId,
      logLevel: 'silent',
    });
    await moveMiniProgram(wallet.ctx, appId, `${shop.url}/mini/`);
    browser = await launchChromium(chromiumPath!);
  });
  afterAll(async () => {
    await browser?.close();
    await shop?.close();
    await wallet?.close();
    await env?.cleanup();
  });

  async function openShop(phone: string, pin: string): Promise<Page> {
    const page = await (await phoneContext(browser)).newPage();
    await page.goto(`${wallet.url}/app`);
    await signIn(page, phone, pin);
    await page.getByRole('link', { name: /Demo Shop/ }).click();
    await page.frameLocator('#mini').getByRole('button', { name: 'Buy Café de olla' }).waitFor();
    return page;
  }

  it(
    'walks all six steps and moves the money once',
    async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const merchantBefore = await balanceOf(
        wallet.ctx.store.db,
        merchantAccount(merchant.merchant.id, 'USD'),
      );
      const page = await openShop(user.phone, user.pin);
      await shoot(page, 'host-01-mini-program');
      const mini = page.frameLocator('#mini');
      await clickInFrame(mini.getByRole('button', { name: 'Buy Café de olla' }));

      const sheet = page.frameLocator('#sheet-frame');
      await sheet.getByRole('heading', { name: 'Confirm payment' }).waitFor();
      expect(await sheet.locator('.payee').innerText()).toBe('Billetera Demo Shop');
      expect(await sheet.locator('.amount').first().innerText()).toBe('3.50 USD');
      await shoot(page, 'host-02-cashier-sheet');
      await sheet.getByRole('link', { name: 'Pay' }).click();
      await sheet.getByLabel('PIN').fill(user.pin);
      await sheet.getByRole('button', { name: 'Pay 3.50 USD' }).click();
      await sheet.getByRole('heading', { name: 'Payment successful' }).waitFor();
      await shoot(page, 'host-03-success');
      await sheet.getByRole('button', { name: 'Done' }).click();

      const status = mini.locator('#order-status');
      await mini.locator('#order-status[data-status="PAID"]').waitFor({ timeout: 15_000 });
      expect(await status.innerText()).toBe('Paid');
      expect(await page.locator('#sheet').isHidden()).toBe(true);
      await shoot(page, 'host-04-result-paid');

      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(4_650n);
      expect(await balanceOf(wallet.ctx.store.db, merchantAccount(merchant.merchant.id, 'USD'))).toBe(
        merchantBefore + 350n,
      );
      const entries = await wallet.ctx.store.db
        .selectFrom('postings as p')
        .innerJoin('accounts as a', 'a.id', 'p.account_id')
        .select('p.entry_id')
        .where('a.owner_id', '=', user.id)
        .where('p.amount', '<', 0n)
        .execute();
      expect(entries).toHaveLength(1);
      expect(await checkLedger(wallet.ctx.store.db)).toEqual([]);

      // The merchant refunds from the mini program: the money goes back, once.
      await clickInFrame(mini.getByRole('button', { name: 'Refund' }));
      await mini.locator('#order-status[data-status="REFUNDED"]').waitFor({ timeout: 15_000 });
      await shoot(page, 'host-05-refunded');
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(5_000n);
      expect(await balanceOf(wallet.ctx.store.db, merchantAccount(merchant.merchant.id, 'USD'))).toBe(
        merchantBefore,
      );
      expect(await checkLedger(wallet.ctx.store.db)).toEqual([]);

      // The home page shows the payment and the refund in the activity, and the balance.
      await page.goto(`${wallet.url}/app`);
      expect(await page.locator('#balances').textContent()).toContain('50.00 USD');
      expect(await page.locator('#activity').textContent()).toContain('Billetera Demo Shop · Café de olla');
      expect(await page.locator('#activity').textContent()).toContain(
        'Refund from Billetera Demo Shop · Café de olla',
      );
      await page.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'closing the cashier sheet answers 6001 and debits nothing',
    async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const page = await openShop(user.phone, user.pin);
      const mini = page.frameLocator('#mini');
      await clickInFrame(mini.getByRole('button', { name: 'Buy Tamales (6)' }));
      await page.frameLocator('#sheet-frame').getByRole('heading', { name: 'Confirm payment' }).waitFor();
      await page.getByRole('button', { name: 'Close' }).click();
      await mini.locator('#order-status[data-status="CANCELLED_BY_USER"]').waitFor();
      await shoot(page, 'host-06-sheet-closed');
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(5_000n);
      await page.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'a miniProgramUrl opens the mini program and resumes the cashier for that payment',
    async () => {
      const user = await addUser(wallet.ctx, { USD: 5_000n });
      const order = (await (
        await fetch(`${shop.url}/api/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ productId: 'tamales-6' }),
        })
      ).json()) as {
        miniProgramUrl?: string;
        tradeNO: string;
      };
      expect(order.miniProgramUrl).toBe(`${wallet.ctx.publicUrl}/app/mini/${appId}?pay=${order.tradeNO}`);
      const page = await (await phoneContext(browser)).newPage();
      await page.goto(order.miniProgramUrl!);
      await signIn(page, user.phone, user.pin);
      const sheet = page.frameLocator('#sheet-frame');
      await sheet.getByRole('heading', { name: 'Confirm payment' }).waitFor();
      expect(await sheet.locator('.amount').first().innerText()).toBe('12.00 USD');
      await sheet.getByRole('link', { name: 'Pay' }).click();
      await sheet.getByLabel('PIN').fill(user.pin);
      await sheet.getByRole('button', { name: 'Pay 12.00 USD' }).click();
      await sheet.getByRole('heading', { name: 'Payment successful' }).waitFor();
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(3_800n);
      await page.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'signs the user in to the demo shop after consent, greets them, and pays with their customerId',
    async () => {
      const phone = `+1777${process.pid % 1000}${String(Date.now() % 100_000).padStart(5, '0')}`;
      const user = await createUser(wallet.ctx, { phone, pin: '123456', displayName: 'Lupita' });
      await topUpUser(wallet.ctx, { phone, amountMinor: 5_000n, currency: 'USD' });
      const page = await openShop(phone, '123456');
      const mini = page.frameLocator('#mini');
      await clickInFrame(mini.getByRole('button', { name: 'Sign in with Billetera' }));
      const consent = page.getByRole('dialog', { name: /Allow Demo Shop to use your information/ });
      await consent.waitFor();
      expect(await consent.textContent()).toContain('Billetera Demo Shop will receive:');
      expect(await consent.textContent()).toContain('Your nickname and avatar');
      await shoot(page, 'host-07-demo-shop-consent');
      await page.waitForTimeout(600); // Allow is disabled for a moment after the sheet opens
      await consent.getByRole('button', { name: 'Allow', exact: true }).click();
      await mini.getByText('Hola, Lupita!').waitFor();
      await shoot(page, 'host-08-demo-shop-greeting');

      const customer = await wallet.ctx.store.db
        .selectFrom('customer_ids')
        .select('customer_id')
        .where('user_id', '=', user.id)
        .where('merchant_id', '=', merchant.merchant.id)
        .executeTakeFirstOrThrow();
      await clickInFrame(mini.getByRole('button', { name: 'Buy Café de olla' }));
      await page.frameLocator('#sheet-frame').getByRole('heading', { name: 'Confirm payment' }).waitFor();
      const payment = await wallet.ctx.store.db
        .selectFrom('payments')
        .select(['order_json'])
        .where('merchant_id', '=', merchant.merchant.id)
        .orderBy('created_at', 'desc')
        .executeTakeFirstOrThrow();
      expect(JSON.parse(payment.order_json ?? '{}')).toMatchObject({
        buyer: { referenceBuyerId: customer.customer_id },
      });
      await page.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'shares nothing with the demo shop when the user refuses',
    async () => {
      const user = await addUser(wallet.ctx, { USD: 100n });
      const page = await openShop(user.phone, user.pin);
      const mini = page.frameLocator('#mini');
      await clickInFrame(mini.getByRole('button', { name: 'Sign in with Billetera' }));
      const consent = page.getByRole('dialog', { name: /Allow Demo Shop to use your information/ });
      await consent.getByRole('button', { name: "Don't allow" }).click();
      await mini.getByText('Not signed in: nothing was shared with the shop.').waitFor();
      await shoot(page, 'host-09-demo-shop-refused');
      // No grant means no code was issued, so the shop had nothing to redeem; no customerId exists.
      const count = (table: 'user_grants' | 'customer_ids') =>
        wallet.ctx.store.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .where('user_id', '=', user.id)
          .executeTakeFirstOrThrow()
          .then((r) => Number(r.n));
      expect(await count('user_grants')).toBe(0);
      expect(await count('customer_ids')).toBe(0);
      expect(await mini.getByRole('button', { name: 'Sign in with Billetera' }).isVisible()).toBe(true);
      await page.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it('keeps the mini program away from wallet cookies and answers only its own iframe', async () => {
    const user = await addUser(wallet.ctx, { USD: 100n });
    const page = await openShop(user.phone, user.pin);
    expect(await page.locator('#mini').getAttribute('sandbox')).toBe('allow-scripts');
    const frame = page.frames().find((f) => f.url().startsWith(shop.url))!;
    // An opaque origin: no access to the wallet's cookies or to the host page.
    expect(await frame.evaluate('window.origin')).toBe('null');
    expect(
      await frame.evaluate('(() => { try { return document.cookie; } catch (e) { return e.name; } })()'),
    ).toBe('SecurityError');
    expect(
      await frame.evaluate(
        '(() => { try { return String(window.parent.document); } catch (e) { return e.name; } })()',
      ),
    ).toBe('SecurityError');
    // A message from another window (the host page itself) that pretends to be the jsapi gets no answer.
    const answered = await page.evaluate(`new Promise((resolve) => {
      window.addEventListener('message', (e) => { if (e.data && e.data.source === 'billetera-host') resolve(true); });
      window.postMessage({ source: 'billetera-jsapi', version: 1, id: 'forged', method: 'getSiteInfo', params: {} }, '*');
      setTimeout(() => resolve(false), 500);
    })`);
    expect(answered).toBe(false);
    await page.context().close();
  });
});
