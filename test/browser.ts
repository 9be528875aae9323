/**
 * Browser tests drive Debian's Chromium (apt package `chromium`) through playwright-core; nothing is
 * downloaded. CI (.ci/run) installs it and sets REQUIRE_BROWSER=1, so there a missing browser is an error;
 * on a developer machine without it, browser tests are skipped with a loud warning.
 *
 *   const chromium = requireBrowser();
 *   describe.skipIf(!chromium)('checkout in a browser', () => { ... executablePath: chromium ... });
 */
import { existsSync } from 'node:fs';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Path of the system Chromium, or undefined when it is not installed. */
export function findChromium(): string | undefined {
  return existsSync(CHROMIUM_PATH) ? CHROMIUM_PATH : undefined;
}

let warned = false;

/**
 * Chromium's path for a browser test. Throws when `REQUIRE_BROWSER=1` and Chromium is missing; otherwise a
 * missing browser returns undefined (skip the test) after one loud warning per test process.
 */
export function requireBrowser(): string | undefined {
  const chromium = findChromium();
  if (chromium) return chromium;
  if (process.env['REQUIRE_BROWSER'] === '1') {
    throw new Error(
      `REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM_PATH}: install it with ` +
        '`apt-get install -y --no-install-recommends chromium` (.ci/run does).',
    );
  }
  if (!warned) {
    warned = true;
    const bar = '!'.repeat(78);
    console.warn(
      `\n${bar}\n!! BROWSER TESTS SKIPPED: no Chromium at ${CHROMIUM_PATH}.\n` +
        '!! Install it (apt-get install -y --no-install-recommends chromium) or run with REQUIRE_BROWSER=1\n' +
        `!! to make this an error. CI sets REQUIRE_BROWSER=1.\n${bar}\n`,
    );
  }
  return undefined;
}
