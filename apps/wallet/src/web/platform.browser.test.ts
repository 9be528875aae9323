/**
 * Issue 6's whole walk in Chromium, through the real pages only: a merchant signs up in the console and
 * submits its licence pointing at a local test website -> the website check passes -> an operator
 * approves at /ops -> the merchant generates a key in the browser -> creates a mini program, uploads a
 * zip, submits it -> the operator approves the version -> the merchant publishes it -> a wallet user
 * opens it in the host app and pays through it (the merchant's server signs pay with the new key).
 */
import { readFile } from 'node:fs/promises';
import { merchantAccount, userAccount } from '@billetera/domain';
import { balanceOf, checkLedger, findMerchantByClientId } from '@billetera/store';
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
import { loadKey } from '../../../../test/spec-merchant.ts';
import { addUser } from '../../../../test/wallet-harness.ts';
import { createOperator } from '../services/staff-accounts.ts';
import { startTestWebsite, type TestWebsite } from '../services/test-website.fixture.ts';
import { startWallet, type RunningWallet } from '../wallet.ts';
import { startOrderServer, testMiniProgramZip, type OrderSigner } from './workspace.fixtures.ts';

const chromiumPath = requireBrowser();
const TIMEOUT_MS = 180_000;
const DESKTOP = { width: 1280, height: 800 };
const OPERATOR = { email: 'ops@platform.example', password: 'operator password 1' };
const SHOP = 'Tlayuda Express';
const APP = 'Tlayudas';

describe.skipIf(!chromiumPath)('from sign-up to a paid order in a published mini program', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let site: TestWebsite;
  let orders: Awaited<ReturnType<typeof startOrderServer>>;
  let browser: Browser;
  let signer: OrderSigner | undefined;
  let appId = '';
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
    orders = await startOrderServer(
      wallet.url,
      () => {
        if (!signer) throw new Error('no merchant key yet');
        return signer;
      },
      () => appId,
    );
    browser = await launchChromium(chromiumPath!);
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await orders?.close();
    await wallet?.close();
    await site?.close();
    await env?.cleanup();
  });

  async function desktop(): Promise<Page> {
    const c = await browser.newContext({ viewport: DESKTOP, acceptDownloads: true });
    contexts.push(c);
    return c.newPage();
  }

  it('walks every step with real pages and moves the money once', { timeout: TIMEOUT_MS }, async () => {
    // 1. Sign up and submit the licence; the website check passes.
    const shop = await desktop();
    await shop.goto(`${wallet.url}/console`);
    await shop.getByRole('link', { name: 'Create a merchant account' }).click();
    await shop.getByLabel('Shop name').fill(SHOP);
    await shop.getByLabel('Email').fill('owner@tlayuda.example');
    await shop.getByLabel('Password').fill('a long enough password');
    await shop.getByRole('button', { name: 'Create account' }).click();
    await shop.getByRole('heading', { name: SHOP }).waitFor();
    await shop.getByRole('link', { name: 'Submit your business licence' }).click();
    await shop.getByLabel('Legal name').fill('Tlayuda Express S. de R.L.');
    await shop.getByLabel('Licence number').fill('RFC-TLE-654321');
    await shop.getByLabel('Country').selectOption('MX');
    await shop.getByLabel('Registered address').fill('Av. Juárez 10, Oaxaca de Juárez');
    await shop.getByLabel('Website').fill(`${site.url}/shop`);
    await shop.getByLabel('Contact name').fill('Rosa López');
    await shop.getByLabel('Contact email').fill('rosa@tlayuda.example');
    await shop.getByRole('button', { name: 'Submit and check my website' }).click();
    await shop.getByRole('status').waitFor();
    expect(await shop.locator('.ob-badge').textContent()).toBe('In review');
    await shoot(shop, 'platform-01-in-review');

    // 2. An operator approves with the check's findings in view.
    const ops = await desktop();
    await ops.goto(`${wallet.url}/ops`);
    await ops.getByLabel('Email').fill(OPERATOR.email);
    await ops.getByLabel('Password').fill(OPERATOR.password);
    await ops.getByRole('button', { name: 'Sign in' }).click();
    await ops.getByRole('link', { name: SHOP }).click();
    await ops.getByRole('heading', { name: 'Website check' }).waitFor();
    await ops.getByRole('button', { name: 'Approve' }).click();
    await ops.getByRole('status').waitFor();
    await shop.reload();
    expect(await shop.locator('.ob-badge').textContent()).toBe('Verified');
    const clientId = ((await shop.locator('#client-id').textContent()) ?? '').trim();
    await shoot(shop, 'platform-02-verified');

    // 3. A key generated in the browser; its private half comes only as a download.
    await shop.goto(`${wallet.url}/console/credentials`);
    const [download] = await Promise.all([
      shop.waitForEvent('download'),
      shop.getByRole('button', { name: 'Generate a key pair' }).click(),
    ]);
    const privatePem = await readFile((await download.path())!, 'utf8');
    await shop.getByRole('button', { name: 'Add key as version 1' }).click();
    await shop.waitForURL(/added=1/);
    const partnerId = ((await shop.locator('#partner-id').textContent()) ?? '').trim();
    signer = { clientId, partnerId, privateKey: loadKey(privatePem), keyVersion: 1 };
    await shoot(shop, 'platform-03-key-added');

    // 4. A mini program, uploaded and submitted; the operator approves the version; it is published.
    await shop.goto(`${wallet.url}/console/apps`);
    await shop.getByLabel('Name').fill(APP);
    await shop.getByLabel('Server origins (optional)').fill(orders.url);
    await shop.getByRole('button', { name: 'Create mini program' }).click();
    await shop.getByText('Mini program created.').waitFor();
    appId = (await shop.locator('#app-id').innerText()).trim();
    await shop.getByLabel('Zip of your mini program').setInputFiles({
      name: 'tlayudas.zip',
      mimeType: 'application/zip',
      buffer: testMiniProgramZip({ title: APP, orderUrl: `${orders.url}/order` }),
    });
    await shop.getByRole('button', { name: 'Upload', exact: true }).click();
    await shop.getByText('Version 1 uploaded.').waitFor();
    await shop.getByRole('button', { name: 'Submit version 1 for review' }).click();
    await shop.getByText('Version 1 is submitted').waitFor();
    await ops.goto(`${wallet.url}/ops/reviews`);
    await ops.getByRole('button', { name: `Approve ${APP} version 1` }).click();
    await ops.getByText('Version approved').waitFor();
    await shop.reload();
    await shop.getByRole('button', { name: 'Publish version 1' }).click();
    await shop.getByText('Version 1 is live').waitFor();
    await shoot(shop, 'platform-04-published');

    // 5. A wallet user opens it in the host app and pays through it.
    const merchant = await findMerchantByClientId(wallet.ctx.store.db, clientId);
    expect(merchant?.status).toBe('VERIFIED');
    const user = await addUser(wallet.ctx, { USD: 2_000n });
    const phone = await (await phoneContext(browser)).newPage();
    contexts.push(phone.context());
    await phone.goto(`${wallet.url}/app`);
    await signIn(phone, user.phone, user.pin);
    await phone.getByRole('link', { name: new RegExp(APP) }).click();
    const mini = phone.frameLocator('#mini');
    await mini.locator('body[data-ready]').waitFor();
    await clickInFrame(mini.getByRole('button', { name: 'Pay 4.50 USD' }));
    const sheet = phone.frameLocator('#sheet-frame');
    await sheet.getByRole('heading', { name: 'Confirm payment' }).waitFor();
    expect(await sheet.locator('.payee').innerText()).toBe(SHOP);
    await sheet.getByRole('link', { name: 'Pay' }).click();
    await sheet.getByLabel('PIN').fill(user.pin);
    await sheet.getByRole('button', { name: 'Pay 4.50 USD' }).click();
    await sheet.getByRole('heading', { name: 'Payment successful' }).waitFor();
    await sheet.getByRole('button', { name: 'Done' }).click();
    await mini.locator('#result[data-state="done"]').waitFor();
    expect(await mini.locator('#result').innerText()).toBe('resultCode 9000');
    await shoot(phone, 'platform-05-paid');

    expect(await balanceOf(wallet.ctx.store.db, userAccount(user.id, 'USD'))).toBe(1_550n);
    expect(await balanceOf(wallet.ctx.store.db, merchantAccount(merchant!.id, 'USD'))).toBe(450n);
    expect(await checkLedger(wallet.ctx.store.db)).toEqual([]);

    // The merchant sees the payment in its console.
    await shop.goto(`${wallet.url}/console/payments`);
    expect(await shop.locator('main').innerText()).toContain('4.50 USD');
    await shoot(shop, 'platform-06-console-payments');
  });
});
