/**
 * The `/jsapi/my.js` bundle: built in memory, evaluated in a bare context, then run for real in
 * Chromium inside a sandboxed iframe whose parent page plays the wallet's host app.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runInNewContext } from 'node:vm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../test/browser-harness.ts';
import { requireBrowser } from '../../../test/browser.ts';
import { BRIDGE_REQUEST_SOURCE, BRIDGE_RESPONSE_SOURCE, JSAPI_ERROR_NO_HOST } from './bridge-protocol.ts';
import { buildJsapiBundle } from './build.ts';
import type { My } from './types.ts';

/** How long the page may take to report its results. */
const PAGE_RESULT_TIMEOUT_MS = 15_000;

describe('buildJsapiBundle', () => {
  it('builds one classic script with no Node dependencies, once per process', async () => {
    const first = buildJsapiBundle();
    expect(buildJsapiBundle()).toBe(first);
    const bundle = await first;
    expect(bundle).toMatch(/^\/\* Billetera jsapi/);
    expect(bundle).not.toMatch(/\bimport\s|\brequire\(|node:|\bexport\s/);
    expect(await buildJsapiBundle()).toBe(bundle);
  });

  it('defines window.my, replacing whatever was there, and fails with 1001 outside the wallet', async () => {
    const window: { my?: unknown; parent?: unknown } = { my: 'planted' };
    window.parent = window;
    Object.assign(window, { addEventListener: () => undefined, postMessage: () => undefined });
    runInNewContext(await buildJsapiBundle(), { window, queueMicrotask, setTimeout, clearTimeout });
    const my = window.my as My;
    expect(Object.keys(my).sort()).toEqual(
      ['alert', 'getAuthCode', 'getSiteInfo', 'navigateTo', 'showToast', 'tradePay'].sort(),
    );
    await expect(my.getSiteInfo()).rejects.toMatchObject({ error: JSAPI_ERROR_NO_HOST });
  });
});

const chromiumPath = requireBrowser();

/** The host app stub: answers per the bridge protocol, only to its own iframe. */
const PARENT_PAGE = `<!doctype html>
<html><body>
<iframe id="mini" sandbox="allow-scripts" src="/mini.html"></iframe>
<iframe id="forger" sandbox="allow-scripts" src="/forger.html"></iframe>
<script>
const mini = document.getElementById('mini');
const forger = document.getElementById('forger');
window.requests = [];
let forgerReady;
const forgerLoaded = new Promise((resolve) => { forgerReady = resolve; });
let afterForgery;
window.done = new Promise((resolve) => {
  window.addEventListener('message', (event) => {
    const msg = event.data;
    if (event.source === forger.contentWindow) {
      if (msg.type === 'ready') forgerReady();
      if (msg.type === 'forged') afterForgery();
      return;
    }
    if (event.source !== mini.contentWindow) return;
    if (msg && msg.type === 'done') { resolve(msg.out); return; }
    if (!msg || msg.source !== '${BRIDGE_REQUEST_SOURCE}' || msg.version !== 1) return;
    window.requests.push({ method: msg.method, params: msg.params, origin: event.origin });
    const reply = (body) =>
      event.source.postMessage({ source: '${BRIDGE_RESPONSE_SOURCE}', version: 1, id: msg.id, ...body }, '*');
    if (msg.method === 'getSiteInfo') {
      reply({ ok: true, result: { siteName: 'Billetera Test', siteRegion: 'ES' } });
    } else if (msg.method === 'tradePay' && msg.params.tradeNO === 'T-FORGED') {
      // A sibling frame learns the id and answers first with a forged success; the real answer follows.
      afterForgery = () => reply({ ok: true, result: { resultCode: '6001' } });
      forgerLoaded.then(() => forger.contentWindow.postMessage({ type: 'forge', id: msg.id }, '*'));
    } else if (msg.method === 'tradePay') {
      reply({ ok: true, result: { resultCode: msg.params.tradeNO === 'T-OK' ? '9000' : '4000' } });
    } else {
      reply({ ok: false, error: { error: 4, errorMessage: 'not in this stub' } });
    }
  });
});
</script>
</body></html>`;

/** A mini program: Alipay-style calls, results posted back to the parent. */
const MINI_PAGE = `<!doctype html>
<html><body>
<script src="/my.js"></script>
<script>
(async () => {
  const out = { origin: self.origin };
  try {
    out.siteInfo = await new Promise((resolve, reject) => my.getSiteInfo({ success: resolve, fail: reject }));
    out.pay = await my.tradePay({ tradeNO: 'T-OK' });
    out.payWithForgery = await my.tradePay({ tradeNO: 'T-FORGED' });
    out.denied = await my.navigateTo({ url: '/pages/x' }).then(() => 'resolved', (e) => e);
    out.invalid = await my.tradePay({}).then(() => 'resolved', (e) => e);
  } catch (e) {
    out.error = (e && e.errorMessage) || String(e);
  }
  parent.postMessage({ type: 'done', out }, '*');
})();
</script>
</body></html>`;

/** Another frame of the page trying to answer for the host. */
const FORGER_PAGE = `<!doctype html>
<html><body><script>
addEventListener('message', (event) => {
  if (event.source !== parent || !event.data || event.data.type !== 'forge') return;
  const forged = { source: '${BRIDGE_RESPONSE_SOURCE}', version: 1, id: event.data.id, ok: true, result: { resultCode: '9000' } };
  parent.frames[0].postMessage(forged, '*');
  parent.postMessage({ type: 'forged' }, '*');
});
parent.postMessage({ type: 'ready' }, '*');
</script></body></html>`;

const TOP_LEVEL_PAGE = `<!doctype html><html><body><script src="/my.js"></script></body></html>`;

async function startServer(): Promise<{ server: Server; origin: string }> {
  const bundle = await buildJsapiBundle();
  const pages: Record<string, [string, string]> = {
    '/': ['text/html', PARENT_PAGE],
    '/mini.html': ['text/html', MINI_PAGE],
    '/forger.html': ['text/html', FORGER_PAGE],
    '/top.html': ['text/html', TOP_LEVEL_PAGE],
    '/my.js': ['text/javascript', bundle],
  };
  const server = createServer((req, res) => {
    const page = pages[req.url ?? ''];
    if (req.url === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (page === undefined) {
      res.writeHead(404).end();
      return;
    }
    res
      .writeHead(200, { 'content-type': `${page[0]}; charset=utf-8`, 'cache-control': 'no-store' })
      .end(page[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}` };
}

/** Awaits a promise-valued page expression, failing with the page's errors after a limit. */
async function awaitInPage(page: Page, expression: string, problems: string[]): Promise<unknown> {
  const limited = `Promise.race([${expression}, new Promise((_, reject) =>
    setTimeout(() => reject(new Error('no result within ${PAGE_RESULT_TIMEOUT_MS} ms')), ${PAGE_RESULT_TIMEOUT_MS}))])`;
  try {
    return await page.evaluate(limited);
  } catch (err) {
    throw new Error(`${String(err)}\npage problems:\n${problems.join('\n')}`);
  }
}

describe.skipIf(!chromiumPath)('my.js in Chromium, inside a sandboxed iframe', () => {
  let browser: Browser;
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    ({ server, origin } = await startServer());
    if (chromiumPath === undefined) throw new Error('unreachable: the suite is skipped without Chromium');
    browser = await launchChromium(chromiumPath);
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  async function open(path: string): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    await page.goto(`${origin}${path}`);
    return { page, problems };
  }

  it('talks to the host stub: callbacks and promises, forged answers ignored, errors passed on', async () => {
    const { page, problems } = await open('/');
    const out = await awaitInPage(page, 'window.done', problems);
    expect(out).toEqual({
      origin: 'null', // the sandbox without allow-same-origin gives the mini program an opaque origin
      siteInfo: { siteName: 'Billetera Test', siteRegion: 'ES' },
      pay: { resultCode: '9000' },
      payWithForgery: { resultCode: '6001' },
      denied: { error: 4, errorMessage: 'not in this stub' },
      invalid: { error: 2, errorMessage: expect.stringMatching(/exactly one of tradeNO/) },
    });
    const requests = await page.evaluate('window.requests');
    expect(requests).toEqual([
      { method: 'getSiteInfo', params: {}, origin: 'null' },
      { method: 'tradePay', params: { tradeNO: 'T-OK' }, origin: 'null' },
      { method: 'tradePay', params: { tradeNO: 'T-FORGED' }, origin: 'null' },
      { method: 'navigateTo', params: { url: '/pages/x' }, origin: 'null' },
    ]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('fails with 1001 in a top-level page, where there is no wallet around it', async () => {
    const { page, problems } = await open('/top.html');
    const error = await awaitInPage(page, 'my.getSiteInfo().then(() => "resolved", (e) => e)', problems);
    expect(error).toMatchObject({ error: JSAPI_ERROR_NO_HOST });
    await page.close();
  });
});
