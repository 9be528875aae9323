/**
 * The console's credentials and payment views in headless Chromium, with the real wallet: sign in,
 * generate a key pair in the browser (WebCrypto; the private key arrives as a download and never in a
 * request), register its public key as version 2, sign a real OpenAPI call with the downloaded private key,
 * retire version 1 (KEY_NOT_FOUND at once), and read a payment's timeline and the notifications. Screenshots
 * on a desktop (1280x800) and a phone (390x844) screen land in .test-artifacts/screenshots/.
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { PHONE, launchChromium, shoot } from '../../../../test/browser-harness.ts';
import { requireBrowser } from '../../../../test/browser.ts';
import { isoNow, specCall, startNotifyReceiver } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import { createPayment } from '../services/create-payment.ts';
import { refundPayment } from '../services/refund-payment.ts';
import { hashPassword } from '../services/staff-accounts.ts';
import type { RunningWallet } from '../wallet.ts';

const chromiumPath = requireBrowser();
const BROWSER_TEST_TIMEOUT_MS = 120_000;
const DESKTOP = { width: 1280, height: 800 };
const EMAIL = 'owner@calaca.example';
const PASSWORD = 'correct horse battery staple';
const PAY = '/api/open/v1/payments/pay';

describe.skipIf(!chromiumPath)('console credentials and payment views in a browser', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let shop: TestMerchant;
  let receiver: Awaited<ReturnType<typeof startNotifyReceiver>>;
  let browser: Browser;
  let paymentId: string;
  let n = 0;

  const pay = (keyVersion: number, privateKey = shop.keys.privateKey) =>
    specCall(
      wallet.url,
      PAY,
      JSON.stringify({
        partnerId: shop.merchant.partnerId,
        paymentRequestId: `browser-${++n}`,
        paymentOrderTitle: 'Key check',
        paymentAmount: { currency: 'USD', value: '100' },
      }),
      { clientId: shop.merchant.clientId, privateKey, keyVersion, requestTime: isoNow() },
    );

  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    wallet = await startTestWallet(env);
    let calls = 0;
    // The first notification attempt fails (so the timeline shows a retry), the rest are acknowledged.
    receiver = await startNotifyReceiver(() =>
      ++calls === 1
        ? { status: 500, body: '<html>Internal Server Error</html>' }
        : {
            status: 200,
            body: '{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"}}',
          },
    );
    shop = await addMerchant(wallet.ctx, { name: 'Calaca Coffee Co.', notifyUrl: receiver.url });
    await wallet.ctx.store.db
      .insertInto('merchant_accounts')
      .values({
        id: 'macc_browser',
        merchant_id: shop.merchant.id,
        email: EMAIL,
        password_hash: await hashPassword(PASSWORD),
        created_at: BigInt(Date.now()),
      })
      .execute();

    // A few orders, one of them paid (notified after a retry) and partly refunded.
    const user = await addUser(wallet.ctx, { USD: 100_000n });
    for (const [title, value] of [
      ['Oat latte', '450'],
      ['Beans 1 kg', '2899'],
    ] as const)
      await createPayment(wallet.ctx, shop.merchant, {
        partnerId: shop.merchant.partnerId,
        paymentRequestId: `order-${title}`,
        paymentOrderTitle: title,
        paymentAmount: { currency: 'USD', value },
      });
    const created = await createPayment(wallet.ctx, shop.merchant, {
      partnerId: shop.merchant.partnerId,
      paymentRequestId: 'order-1001',
      paymentOrderTitle: 'Flat white and croissant',
      paymentAmount: { currency: 'USD', value: '1250' },
    });
    paymentId = created.reply.paymentId!;
    expect((await confirmPayment(wallet.ctx, { paymentId, phone: user.phone, pin: user.pin })).ok).toBe(true);
    await receiver.waitFor(1);
    // notifyPayment now waits for its retry (2 min); the refund's notification is acknowledged.
    const refund = await refundPayment(wallet.ctx, shop.merchant, {
      apiVersion: 'v1',
      partnerId: shop.merchant.partnerId,
      refundRequestId: 'refund-1001-a',
      paymentId,
      refundAmount: { currency: 'USD', value: '450' },
      refundReason: 'Croissant sold out',
      refundNotifyUrl: receiver.url,
    });
    expect(refund.reply.result.resultStatus).toBe('S');
    await receiver.waitFor(2);
    browser = await launchChromium(chromiumPath!);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await wallet?.close();
    await env?.cleanup();
  });

  async function signedIn(
    viewport: { width: number; height: number },
    path: string,
  ): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport, acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(`${wallet.url}${path}`);
    // Signed out: the console's sign-in page, then back here.
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${wallet.url}${path}`);
    return { context, page };
  }

  it(
    'generates a key in the browser, signs with the downloaded private key, retires v1, and shows a timeline',
    async () => {
      const { context, page } = await signedIn(DESKTOP, '/console/credentials');
      const posted: string[] = [];
      page.on('request', (r) => {
        if (r.method() === 'POST') posted.push(r.postData() ?? '');
      });
      await page.getByRole('heading', { name: 'Credentials', level: 1 }).waitFor();
      expect(await page.locator('#client-id').innerText()).toBe(shop.merchant.clientId);
      expect(await page.locator('#partner-id').innerText()).toBe(shop.merchant.partnerId);
      await shoot(page, 'console-credentials-desktop');

      // Generate: the public key fills the field, the private key is a download.
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Generate a key pair' }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(`billetera-${shop.merchant.clientId}-v2-private-key.pem`);
      const privatePem = await readFile((await download.path())!, 'utf8');
      expect(privatePem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      const publicPem = await page.getByLabel('Public key (PEM)').inputValue();
      expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
      // The private key is in no form field of the page.
      const fieldValues = await page.$$eval('input, textarea', (els) =>
        els.map((e) => (e as unknown as { value: string }).value),
      );
      expect(fieldValues.some((v) => v.includes('PRIVATE KEY'))).toBe(false);
      await expect(page.locator('#private-key-note').innerText()).resolves.toContain(
        'Keep your private key safe',
      );
      await shoot(page, 'console-credentials-generated-desktop');

      await page.getByRole('button', { name: 'Add key as version 2' }).click();
      await page.waitForURL(/added=2/);
      expect(await page.locator('.cv-notice').innerText()).toContain('Key version 2 added');
      expect(await page.locator('#key-2').innerText()).toContain('Active');
      // Nothing private ever left the browser.
      expect(posted.some((p) => decodeURIComponent(p.replace(/\+/g, ' ')).includes('PRIVATE KEY'))).toBe(
        false,
      );
      expect(posted.some((p) => decodeURIComponent(p.replace(/\+/g, ' ')).includes('BEGIN PUBLIC KEY'))).toBe(
        true,
      );

      // The downloaded private key signs a request the wallet accepts as keyVersion 2; v1 still works.
      const browserKey = createPrivateKey(privatePem);
      expect((await pay(2, browserKey)).body.result.resultCode).toBe('ACCEPT');
      expect((await pay(1)).body.result.resultCode).toBe('ACCEPT');

      // Retire v1 after the confirmation page.
      await page.getByRole('link', { name: 'Retire key version 1' }).click();
      await page.getByRole('heading', { name: 'Retire key version 1?' }).waitFor();
      await shoot(page, 'console-retire-confirm-desktop');
      await page.getByRole('button', { name: 'Retire version 1' }).click();
      await page.waitForURL(/retired=1/);
      expect(await page.locator('#key-1').innerText()).toContain('Retired');
      expect((await pay(1)).body.result.resultCode).toBe('KEY_NOT_FOUND');
      expect((await pay(2, browserKey)).body.result.resultCode).toBe('ACCEPT');
      await shoot(page, 'console-credentials-rotated-desktop');

      // The wallet's public key as a file.
      const [walletKey] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Download wallet public key' }).click(),
      ]);
      expect(await readFile((await walletKey.path())!, 'utf8')).toBe(wallet.ctx.secrets.walletPublicKeyPem);

      // Payments, then the paid order's timeline.
      await page.getByRole('navigation').getByRole('link', { name: 'Payments' }).click();
      await page.getByRole('heading', { name: 'Payments', level: 1 }).waitFor();
      await shoot(page, 'console-payments-desktop');
      await page.getByRole('link', { name: paymentId }).click();
      await page.getByRole('heading', { name: `Payment ${paymentId}` }).waitFor();
      const timeline = await page.locator('.cv-timeline').innerText();
      expect(timeline).toContain('Created');
      expect(timeline).toContain('12.50 USD');
      expect(timeline).toContain('Paid');
      expect(timeline).toContain('Refunded');
      expect(timeline).toContain('refund-1001-a');
      expect(timeline).toContain('notifyPayment #1');
      expect(timeline).toContain('HTTP error');
      expect(timeline).toContain('<html>Internal Server Error</html>');
      expect(timeline).toContain('Acknowledged');
      await shoot(page, 'console-timeline-desktop');

      await page.getByRole('navigation').getByRole('link', { name: 'Notifications' }).click();
      await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
      await shoot(page, 'console-notifications-desktop');
      await context.close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );

  it(
    'works on a phone screen',
    async () => {
      const { context, page } = await signedIn(PHONE, '/console/payments');
      await shoot(page, 'console-payments-phone');
      await page.getByRole('link', { name: paymentId }).click();
      await page.getByRole('heading', { name: `Payment ${paymentId}` }).waitFor();
      await shoot(page, 'console-timeline-phone');
      await page.locator('.cv-timeline').scrollIntoViewIfNeeded();
      await page.mouse.wheel(0, 700);
      await shoot(page, 'console-timeline-attempts-phone');
      await page.goto(`${wallet.url}/console/credentials`);
      await shoot(page, 'console-credentials-phone');
      await page.locator('#add-key').scrollIntoViewIfNeeded();
      await shoot(page, 'console-credentials-add-phone');
      await page.goto(`${wallet.url}/console/notifications`);
      await shoot(page, 'console-notifications-phone');
      // Nothing wider than the screen.
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      expect(overflow).toBeLessThanOrEqual(0);
      await context.close();
    },
    BROWSER_TEST_TIMEOUT_MS,
  );
});
