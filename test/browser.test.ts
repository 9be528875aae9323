import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHROMIUM_PATH, findChromium, requireBrowser } from './browser.ts';

describe('browser helpers', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('findChromium() reports /usr/bin/chromium exactly when it exists', () => {
    expect(findChromium()).toBe(existsSync(CHROMIUM_PATH) ? CHROMIUM_PATH : undefined);
  });

  it('requireBrowser() returns the path, or throws when REQUIRE_BROWSER=1 and Chromium is missing', () => {
    vi.stubEnv('REQUIRE_BROWSER', '1');
    if (findChromium()) expect(requireBrowser()).toBe(CHROMIUM_PATH);
    else expect(() => requireBrowser()).toThrow(/REQUIRE_BROWSER=1 but no Chromium/);
  });

  it('requireBrowser() without REQUIRE_BROWSER warns loudly once and returns undefined when Chromium is missing', () => {
    vi.stubEnv('REQUIRE_BROWSER', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    if (findChromium()) {
      expect(requireBrowser()).toBe(CHROMIUM_PATH);
      expect(warn).not.toHaveBeenCalled();
      return;
    }
    expect(requireBrowser()).toBeUndefined();
    expect(requireBrowser()).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/BROWSER TESTS SKIPPED/);
  });
});
