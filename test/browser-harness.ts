/**
 * Shared pieces of the browser tests: Debian's Chromium through playwright-core with the flags this
 * machine needs, a phone-sized page (390x844), and screenshots kept under .test-artifacts/ (git-ignored).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

export const PHONE = { width: 390, height: 844 };
export const ARTIFACTS = join(import.meta.dirname, '..', '.test-artifacts', 'screenshots');

/**
 * Chromium with the flags this machine needs. Site isolation is off for the tests: with it, the mini
 * program (another origin) runs in a separate renderer, and Playwright now and then attached to that
 * frame too late to see its scripts. The iframe's sandbox and opaque origin, which the tests check, are
 * enforced by Blink either way.
 */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    args: [
      '--disable-site-isolation-trials',
      '--disable-features=IsolateOrigins,site-per-process',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export async function phoneContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext({ viewport: PHONE, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
}

/**
 * Saves a screenshot as .test-artifacts/screenshots/<name>.png: the phone screen as a user sees it (a
 * full-page capture resizes the viewport, which re-lays out iframes under the test's feet).
 */
export async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** Signs in through whatever sign-in form the page shows. */
export async function signIn(page: Page, phone: string, pin: string): Promise<void> {
  await page.getByLabel('Phone number').fill(phone);
  await page.getByLabel('PIN').fill(pin);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/**
 * Clicks an element inside the mini program's cross-origin iframe by dispatching the click on the element
 * itself. A coordinate click from the top page was now and then lost in headless Chromium (the sandboxed
 * frame had not taken input yet), and Playwright's stability check can stall on such a frame; the mini
 * program needs no trusted event, so a dispatched click tests the same code path.
 */
export async function clickInFrame(target: Locator): Promise<void> {
  await target.waitFor({ state: 'visible' });
  if (!(await target.isEnabled())) throw new Error('the element is disabled');
  await target.dispatchEvent('click');
}
