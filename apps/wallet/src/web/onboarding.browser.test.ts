/**
 * Merchant onboarding in headless Chromium, with the real wallet and a local test website: a merchant
 * signs up on a phone, submits its licence (its site passes the check), sees "In review"; an operator signs
 * in at /ops on a desktop and approves; the console shows VERIFIED with the Client-Id. Then the rejection
 * path: a failed check with its findings, fix and resubmit, a rejection with a reason the merchant sees.
 * Screenshots at 390x844 and 1280x800 land in .test-artifacts/screenshots/onboarding-*.png.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { launchChromium, phoneContext, shoot } from '../../../../test/browser-harness.ts';
import { requireBrowser } from '../../../../test/browser.ts';
import { createOperator } from '../services/staff-accounts.ts';
import { startTestWebsite, type TestWebsite } from '../services/test-website.fixture.ts';
import { startWallet, type RunningWallet } from '../wallet.ts';

const chromiumPath = requireBrowser();
/** A browser walk on a loaded 2-core machine (the whole suite runs in parallel) can take a while. */
const BROWSER_TEST_TIMEOUT_MS = 90_000;
const DESKTOP = { width: 1280, height: 800 };
const OPERATOR = { email: 'ops@billetera.example', password: 'operator password 1' };
const PASSWORD = 'a long enough password';

describe.skipIf(!chromiumPath)('merchant onboarding in the console and ops', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let site: TestWebsite;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    site = await startTestWebsite();
    wallet = await startWallet({
      dataDir: env.dataDir,
      port: 0,
      logLevel: process.env['TEST_LOG_LEVEL'] ?? 'silent',
      workers: false,
      allowPrivateWebsites: true,
    });
    await createOperator(wallet.ctx, OPERATOR);
    browser = await launchChromium(chromiumPath!);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await wallet?.close();
    await site?.close();
    await env?.cleanup();
  });

  async function phone(): Promise<Page> {
    const c = await phoneContext(browser);
    contexts.push(c);
    return c.newPage();
  }
  async function desktop(): Promise<Page> {
    const c = await browser.newContext({ viewport: DESKTOP });
    contexts.push(c);
    return c.newPage();
  }

  async function signUp(page: Page, name: string, email: string): Promise<void> {
    await page.goto(`${wallet.url}/console`);
    await page.getByRole('link', { name: 'Create a merchant account' }).click();
    await page.getByLabel('Shop name').fill(name);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name }).waitFor();
  }

  async function fillLicence(page: Page, websitePath: string): Promise<void> {
    await page.getByLabel('Legal name').fill('Café Ejemplo S.A. de C.V.');
    await page.getByLabel('Licence number').fill('RFC-CEJ-123456');
    await page.getByLabel('Country').selectOption('MX');
    await page.getByLabel('Registered address').fill('Calle Falsa 123, Ciudad de México');
    await page.getByLabel('Website').fill(site.url + websitePath);
    await page.getByLabel('Contact name').fill('Ana Pérez');
    await page.getByLabel('Contact email').fill('ana@cafe.example');
  }

  async function opsSignIn(page: Page): Promise<void> {
    await page.goto(`${wallet.url}/ops`);
    await page.getByLabel('Email').fill(OPERATOR.email);
    await page.getByLabel('Password').fill(OPERATOR.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Merchants' }).waitFor();
  }

  it(
    'signs up, passes the website check, is approved at /ops and sees its Client-Id',
    { timeout: BROWSER_TEST_TIMEOUT_MS },
    async () => {
      const shop = await phone();
      await signUp(shop, 'Café Ejemplo', 'owner@cafe.example');
      await expect(shop.locator('.ob-badge').textContent()).resolves.toBe('Draft');
      await shoot(shop, 'onboarding-1-draft-phone');

      await shop.getByRole('link', { name: 'Submit your business licence' }).click();
      // Errors first: nothing filled in (the contact email is prefilled with the account's).
      await shop.getByRole('button', { name: 'Submit and check my website' }).click();
      await shop.getByRole('alert').waitFor();
      expect(await shop.getByRole('alert').textContent()).toContain('Please correct these 6');
      await shoot(shop, 'onboarding-2-licence-errors-phone');

      await fillLicence(shop, '/shop');
      await shoot(shop, 'onboarding-3-licence-filled-phone');
      await shop.getByRole('button', { name: 'Submit and check my website' }).click();
      await shop.getByRole('status').waitFor();
      expect(await shop.locator('.ob-badge').textContent()).toBe('In review');
      expect(await shop.locator('.ob-findings li.ob-bad').count()).toBe(0);
      expect(await shop.locator('.ob-findings li.ob-ok').count()).toBe(7);
      await shoot(shop, 'onboarding-4-in-review-phone');
      await shop.locator('#check-title').evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await shoot(shop, 'onboarding-5-in-review-findings-phone');

      const ops = await desktop();
      await opsSignIn(ops);
      await shoot(ops, 'onboarding-6-ops-list-desktop');
      await ops.getByRole('link', { name: 'Café Ejemplo' }).click();
      await ops.getByRole('heading', { name: 'Website check' }).waitFor();
      expect(await ops.locator('.ob-findings').textContent()).toContain('price “12.00 USD”');
      await shoot(ops, 'onboarding-7-ops-merchant-desktop');
      await ops.getByRole('button', { name: 'Approve' }).click();
      await ops.getByRole('status').waitFor();
      expect(await ops.getByRole('status').textContent()).toContain('Approved');
      await shoot(ops, 'onboarding-8-ops-approved-desktop');

      await shop.reload();
      expect(await shop.locator('.ob-badge').textContent()).toBe('Verified');
      const clientId = (await shop.locator('#client-id').textContent()) ?? '';
      expect(clientId).toMatch(/^[A-Z2-7]{16}$/);
      await shoot(shop, 'onboarding-9-verified-phone');

      const wide = await desktop();
      await wide.goto(`${wallet.url}/console`);
      await wide.getByLabel('Email').fill('owner@cafe.example');
      await wide.getByLabel('Password').fill(PASSWORD);
      await wide.getByRole('button', { name: 'Sign in' }).click();
      expect(await wide.locator('#client-id').textContent()).toBe(clientId);
      await shoot(wide, 'onboarding-10-verified-desktop');
    },
  );

  it(
    'shows a failed check, takes a fixed resubmission, and shows the rejection reason',
    { timeout: BROWSER_TEST_TIMEOUT_MS },
    async () => {
      const shop = await desktop();
      await signUp(shop, 'Tienda Rota', 'owner@rota.example');
      await shop.getByRole('link', { name: 'Submit your business licence' }).click();
      await fillLicence(shop, '/404');
      await shop.getByRole('button', { name: 'Submit and check my website' }).click();
      await shop.getByRole('link', { name: 'Fix and resubmit' }).waitFor();
      expect(await shop.locator('.ob-badge').textContent()).toBe('Website check failed');
      expect(await shop.locator('.ob-findings li.ob-bad').first().textContent()).toContain('HTTP 404');
      await shoot(shop, 'onboarding-11-check-failed-desktop');

      await shop.getByRole('link', { name: 'Fix and resubmit' }).click();
      expect(await shop.getByLabel('Website').inputValue()).toBe(`${site.url}/404`);
      await shoot(shop, 'onboarding-12-resubmit-form-desktop');
      await shop.getByLabel('Website').fill(`${site.url}/shop`);
      await shop.getByRole('button', { name: 'Resubmit and check my website' }).click();
      await shop.getByRole('status').waitFor();
      expect(await shop.locator('.ob-badge').textContent()).toBe('In review');

      const ops = await phone();
      await opsSignIn(ops);
      await ops.getByRole('link', { name: 'Tienda Rota' }).click();
      await ops.getByLabel('Reason for rejecting').fill('The licence number does not match the legal name.');
      await shoot(ops, 'onboarding-13-ops-reject-phone');
      await ops.getByRole('button', { name: 'Reject' }).click();
      await ops.getByRole('status').waitFor();
      await shoot(ops, 'onboarding-14-ops-rejected-phone');

      const mobile = await phone();
      await mobile.goto(`${wallet.url}/console`);
      await mobile.getByLabel('Email').fill('owner@rota.example');
      await mobile.getByLabel('Password').fill(PASSWORD);
      await mobile.getByRole('button', { name: 'Sign in' }).click();
      expect(await mobile.locator('.ob-badge').textContent()).toBe('Rejected');
      expect(await mobile.locator('.ob-rejection').textContent()).toContain(
        'The licence number does not match the legal name.',
      );
      await shoot(mobile, 'onboarding-15-rejected-phone');
      await mobile.getByRole('link', { name: 'Fix and resubmit' }).click();
      expect(await mobile.locator('.ob-rejection').textContent()).toContain('does not match');
      await shoot(mobile, 'onboarding-16-fix-after-rejection-phone');
    },
  );
});
