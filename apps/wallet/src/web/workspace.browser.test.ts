/**
 * The workspace in headless Chromium, the way the users meet it: a merchant creates a mini
 * program in the console (logo, server origin), uploads a zip built here, previews it in the host frame,
 * submits it; an operator approves it at /ops/reviews; the merchant publishes it; a wallet user finds it
 * (with its logo) in the host app, opens it (my.getSiteInfo answers, its origin is opaque) and pays through
 * it: its page asks the merchant's server for an order, which calls the signed pay API with the appId, and
 * my.tradePay opens the cashier. With the Payment feature removed, my.tradePay fails with error 4. A
 * wallet-hosted file opened on its own still runs in an opaque origin (the CSP sandbox).
 *
 * Console and ops pages are shot at 1280x800 and 390x844, the host at 390x844.
 */
import { merchantAccount, userAccount } from '@billetera/domain';
import { balanceOf, checkLedger } from '@billetera/store';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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
import type { RunningWallet } from '../wallet.ts';
import {
  consoleSession,
  opsSession,
  pngLogo,
  startOrderServer,
  testMiniProgramZip,
  type TestSession,
} from './workspace.fixtures.ts';

const chromiumPath = requireBrowser();
const BROWSER_TEST_TIMEOUT_MS = 120_000;
const DESKTOP = { width: 1280, height: 800 };
const APP = 'Cafe Colibri';

describe.skipIf(!chromiumPath)('the mini program workspace in a browser', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let merchant: TestMerchant;
  let orders: Awaited<ReturnType<typeof startOrderServer>>;
  let browser: Browser;
  let merchantSession: TestSession;
  let operatorSession: TestSession;
  let appId = '';

  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    wallet = await startTestWallet(env);
    merchant = await addMerchant(wallet.ctx, { name: 'Colibri Coffee Ltd' });
    orders = await startOrderServer(
      wallet.url,
      () => ({ ...merchant.merchant, privateKey: merchant.keys.privateKey }),
      () => appId,
    );
    merchantSession = await consoleSession(wallet.ctx, merchant.merchant.id);
    operatorSession = await opsSession(wallet.ctx);
    browser = await launchChromium(chromiumPath!);
  });
  afterAll(async () => {
    await browser?.close();
    await orders?.close();
    await wallet?.close();
    await env?.cleanup();
  });

  async function staffContext(session: TestSession, phone = false): Promise<BrowserContext> {
    const context = phone
      ? await phoneContext(browser)
      : await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1 });
    await context.addCookies([
      // `url` would be refused for a __Host- cookie on http://; an IP's domain cookie is host-only anyway.
      {
        name: session.name,
        value: session.value,
        domain: new URL(wallet.url).hostname,
        path: '/',
        secure: true,
        httpOnly: true,
        sameSite: 'Lax',
      },
    ]);
    return context;
  }

  /** The same page on a phone, for a look at the narrow layout. */
  async function shootOnPhone(session: TestSession, path: string, name: string): Promise<void> {
    const context = await staffContext(session, true);
    const page = await context.newPage();
    await page.goto(wallet.url + path);
    await shoot(page, name);
    await context.close();
  }

  it(
    'create -> upload -> preview -> review -> publish -> a user opens it in the host and pays through it',
    async () => {
      const console_ = await (await staffContext(merchantSession)).newPage();
      await console_.goto(`${wallet.url}/console/apps`);
      await console_.getByRole('heading', { name: 'Create a mini program' }).waitFor();
      await shoot(console_, 'workspace-01-console-empty');

      await console_.getByLabel('Name').fill(APP);
      await console_.getByLabel('Description (optional)').fill('Coffee to go, ordered from your wallet.');
      await console_
        .getByLabel('Logo (optional)')
        .setInputFiles({ name: 'colibri.png', mimeType: 'image/png', buffer: pngLogo(96, [23, 122, 96]) });
      await console_.getByLabel('Server origins (optional)').fill(orders.url);
      await console_.getByRole('button', { name: 'Create mini program' }).click();
      await console_.getByText('Mini program created.').waitFor();
      appId = (await console_.locator('#app-id').innerText()).trim();
      expect(appId).toMatch(/^\d{19}$/);

      await console_.getByLabel('Zip of your mini program').setInputFiles({
        name: 'colibri.zip',
        mimeType: 'application/zip',
        buffer: testMiniProgramZip({ title: APP, orderUrl: `${orders.url}/order` }),
      });
      await console_.getByLabel('What changed (optional)').fill('First release');
      await console_.getByRole('button', { name: 'Upload', exact: true }).click();
      await console_.getByText('Version 1 uploaded.').waitFor();
      await shoot(console_, 'workspace-02-console-uploaded');

      // Preview: the host frame around version 1, through a preview link.
      await console_.getByRole('link', { name: 'Preview version 1' }).click();
      const preview = console_.frameLocator('#mini');
      await preview.locator('body[data-ready]').waitFor();
      expect(await preview.locator('#site').innerText()).toBe('BILLETERA');
      expect(await preview.locator('#origin').innerText()).toBe('null');
      expect(await preview.locator('#cookies').innerText()).not.toBe('visible');
      await shoot(console_, 'workspace-03-preview');
      await console_.getByRole('link', { name: `Back to ${APP} in the console` }).click();

      await console_.getByRole('button', { name: 'Submit version 1 for review' }).click();
      await console_.getByText('Version 1 is submitted').waitFor();

      // An operator reviews it.
      const ops = await (await staffContext(operatorSession)).newPage();
      await ops.goto(`${wallet.url}/ops/reviews`);
      await ops.getByRole('heading', { name: /Mini program versions/ }).waitFor();
      await shoot(ops, 'workspace-04-ops-queue');
      await shootOnPhone(operatorSession, '/ops/reviews', 'workspace-04b-ops-queue-phone');
      await ops.getByRole('button', { name: `Approve ${APP} version 1` }).click();
      await ops.getByText('Version approved').waitFor();
      expect(await ops.locator('#no-versions').isVisible()).toBe(true);
      await ops.context().close();

      await console_.reload();
      await console_.getByRole('button', { name: 'Publish version 1' }).click();
      await console_.getByText('Version 1 is live').waitFor();
      expect(await console_.locator('#live').innerText()).toBe('Live: version 1');
      await shoot(console_, 'workspace-05-console-published');
      await shootOnPhone(merchantSession, `/console/apps/${appId}`, 'workspace-05b-console-detail-phone');
      await console_.goto(`${wallet.url}/console/apps`);
      await shoot(console_, 'workspace-06-console-list');

      // A wallet user finds it, opens it and pays through it.
      const user = await addUser(wallet.ctx, { USD: 2_000n });
      const phone = await (await phoneContext(browser)).newPage();
      await phone.goto(`${wallet.url}/app`);
      await signIn(phone, user.phone, user.pin);
      const link = phone.getByRole('link', { name: new RegExp(APP) });
      await link.waitFor();
      expect(
        await link
          .locator('img')
          .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      ).toBe(96);
      await shoot(phone, 'workspace-07-host-list');
      await link.click();
      const mini = phone.frameLocator('#mini');
      await mini.locator('body[data-ready]').waitFor();
      expect(await mini.locator('#site').innerText()).toBe('BILLETERA');
      expect(await mini.locator('#origin').innerText()).toBe('null');
      expect(
        await mini
          .locator('img')
          .evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth),
      ).toBe(48);
      await shoot(phone, 'workspace-08-host-mini');

      const merchantBefore = await balanceOf(
        wallet.ctx.store.db,
        merchantAccount(merchant.merchant.id, 'USD'),
      );
      await clickInFrame(mini.getByRole('button', { name: 'Pay 4.50 USD' }));
      const sheet = phone.frameLocator('#sheet-frame');
      await sheet.getByRole('heading', { name: 'Confirm payment' }).waitFor();
      await sheet.getByRole('link', { name: 'Pay' }).click();
      await sheet.getByLabel('PIN').fill(user.pin);
      await sheet.getByRole('button', { name: 'Pay 4.50 USD' }).click();
      await sheet.getByRole('heading', { name: 'Payment successful' }).waitFor();
      await sheet.getByRole('button', { name: 'Done' }).click();
      await mini.locator('#result[data-state="done"]').waitFor();
      expect(await mini.locator('#result').innerText()).toBe('resultCode 9000');
      await shoot(phone, 'workspace-09-host-paid');
      expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(1_550n);
      expect(await balanceOf(wallet.ctx.store.db, merchantAccount(merchant.merchant.id, 'USD'))).toBe(
        merchantBefore + 450n,
      );
      expect(await checkLedger(wallet.ctx.store.db)).toEqual([]);

      // Without the Payment feature, my.tradePay fails in the mini program with error 4.
      await console_.goto(`${wallet.url}/console/apps/${appId}`);
      await console_.getByRole('button', { name: 'Remove the Payment feature' }).click();
      await console_.getByText('Feature removed.').waitFor();
      await phone.reload();
      await mini.locator('body[data-ready]').waitFor();
      await clickInFrame(mini.getByRole('button', { name: 'Pay without an order' }));
      await mini.locator('#result[data-state="error"]').waitFor();
      expect(await mini.locator('#result').innerText()).toBe(
        `error 4: ${APP} has not added the Payment feature`,
      );
      expect(await phone.locator('#sheet').isHidden()).toBe(true);
      await shoot(phone, 'workspace-10-host-payment-refused');
      await console_.getByRole('button', { name: 'Add the User information feature' }).click();
      await console_.getByText('User information requested').waitFor();
      await console_.locator('#features-title').scrollIntoViewIfNeeded();
      await shoot(console_, 'workspace-10b-console-features');
      // Its server cannot place an order for it either (ACCESS_DENIED), so "Pay" fails before the cashier.
      await clickInFrame(mini.getByRole('button', { name: 'Pay 4.50 USD' }));
      await mini.locator('#result[data-state="error"]').waitFor();
      expect(await mini.locator('#result').innerText()).toBe('order refused: ACCESS_DENIED');

      // A hosted file opened on its own runs in an opaque origin, not as the wallet.
      const alone = await (await phoneContext(browser)).newPage();
      await alone.goto(`${wallet.url}/mp/${appId}/1/index.html`);
      await alone.locator('body[data-ready]').waitFor();
      expect(await alone.evaluate(() => (globalThis as unknown as { origin: string }).origin)).toBe('null');
      expect(await alone.locator('#site').innerText()).toBe('error 1001');
      await alone.context().close();

      await phone.context().close();
      await console_.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'shows an unverified merchant why it cannot create mini programs',
    async () => {
      const pending = await addMerchant(wallet.ctx, { name: 'Pending Shop', verified: false });
      const session = await consoleSession(wallet.ctx, pending.merchant.id);
      const page: Page = await (await staffContext(session)).newPage();
      await page.goto(`${wallet.url}/console/apps`);
      await page.getByRole('heading', { name: 'Creating mini programs needs a verified business' }).waitFor();
      expect(await page.locator('#create-form').count()).toBe(0);
      await shoot(page, 'workspace-11-console-not-verified');
      await page.context().close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );
});
