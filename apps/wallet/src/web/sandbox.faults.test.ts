/**
 * Issue 8, security: a hostile mini program in headless Chromium. It is uploaded, approved and published
 * like any other, runs under /mp/<appId>/<version>/ in the host's sandboxed iframe (CSP sandbox, opaque
 * origin), and tries everything from inside: read the wallet's cookies, call wallet pages and APIs with
 * credentials, navigate or replace the top window, open pop-ups, forge the cashier's messages, and make the
 * host open the cashier for another mini program's payment (same merchant or another) through my.tradePay.
 * The browser's network log is the witness: no request from the mini program carries a wallet cookie, and
 * the wallet answers those requests as to a stranger. Its own payment opens the cashier (the control).
 */
import { insertOperator } from '@billetera/store';
import { strToU8, zipSync } from 'fflate';
import type { Browser, BrowserContext, Frame, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { launchChromium, phoneContext, shoot } from '../../../../test/browser-harness.ts';
import { requireBrowser } from '../../../../test/browser.ts';
import { LONG } from '../../../../test/long.ts';
import { specCall } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import {
  createWorkspaceMiniProgram,
  publishMiniProgramVersion,
  reviewVersion,
  submitVersion,
  uploadVersion,
} from '../services/workspace.ts';
import type { RunningWallet } from '../wallet.ts';
import { walletSession, type TestSession } from './workspace.fixtures.ts';

/** The few browser globals the page functions below use (the repo compiles without the DOM library). */
declare const self: { origin: string };
declare const document: { cookie: string; body: { innerText: string } | null };
declare const location: { href: string };
declare const window: {
  top: { location: { href: string; replace(url: string): void } } | null;
  parent: { document: { title: string }; postMessage(message: unknown, target: string): void };
  open(url: string): unknown;
};

const chromiumPath = requireBrowser();
const TIMEOUT_MS = 120_000;
const OPERATOR = 'op_sandbox';

/** A mini program that only loads `my`; the test drives it from inside its frame. */
function hostileZip(title: string): Buffer {
  return Buffer.from(
    zipSync({
      'index.html': strToU8(`<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><title>${title}</title>
<script src="/jsapi/my.js"></script><script src="app.js" defer></script></head>
<body><h1>${title}</h1></body></html>`),
      'app.js': strToU8(`document.body.dataset.ready = '1';`),
    }),
  );
}

describe.skipIf(!chromiumPath)('a hostile mini program in its sandbox', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let browser: Browser;
  let shop: TestMerchant;
  let other: TestMerchant;
  let hostile = '';
  let sibling = '';
  let stranger = '';
  let session: TestSession;

  async function publish(who: TestMerchant, name: string): Promise<string> {
    const ctx = wallet.ctx;
    const app = await createWorkspaceMiniProgram(ctx, who.merchant, 'cli', {
      name,
      description: '',
      serverOrigins: '',
    });
    const v = await uploadVersion(ctx, who.merchant, 'cli', app.appId, hostileZip(name));
    await submitVersion(ctx, who.merchant, 'cli', app.appId, v.version);
    await reviewVersion(ctx, OPERATOR, v.id, 'APPROVE', '');
    await publishMiniProgramVersion(ctx, who.merchant, 'cli', app.appId, v.version);
    return app.appId;
  }
  let n = 0;
  async function payment(who: TestMerchant, appId: string): Promise<string> {
    const reply = await specCall(
      wallet.url,
      '/api/open/v1/payments/pay',
      JSON.stringify({
        partnerId: who.merchant.partnerId,
        paymentRequestId: `sandbox-${process.pid}-${++n}`,
        paymentOrderTitle: `Order ${n}`,
        paymentAmount: { currency: 'USD', value: '450' },
        appId,
      }),
      { clientId: who.merchant.clientId, privateKey: who.keys.privateKey },
    );
    expect(reply.body.result.resultCode).toBe('ACCEPT');
    return reply.body['paymentId'] as string;
  }
  async function signedIn(): Promise<BrowserContext> {
    const context = await phoneContext(browser);
    await context.addCookies([
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
  /** Opens the mini program in the host; its frame once `my` is loaded. */
  async function open(page: Page, appId: string): Promise<Frame> {
    await page.goto(`${wallet.url}/app/mini/${appId}`);
    await page.frameLocator('#mini').locator('body[data-ready]').waitFor();
    const frame = page.frames().find((f) => f.url().includes(`/mp/${appId}/`));
    if (!frame) throw new Error('the mini program frame is not there');
    return frame;
  }

  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    wallet = await startTestWallet(env, { workers: false, rateLimits: false });
    await insertOperator(wallet.ctx.store.db, {
      id: OPERATOR,
      email: 'ops@sandbox.test',
      passwordHash: 'unused',
      createdAt: wallet.ctx.clock.now(),
    });
    shop = await addMerchant(wallet.ctx, { name: 'Two Apps Ltd' });
    other = await addMerchant(wallet.ctx, { name: 'Someone Else Ltd' });
    hostile = await publish(shop, 'Hostile');
    sibling = await publish(shop, 'Sibling');
    stranger = await publish(other, 'Stranger');
    const user = await addUser(wallet.ctx, { USD: 100_000n });
    session = await walletSession(wallet.ctx, user.id);
    browser = await launchChromium(chromiumPath!);
  });
  afterAll(async () => {
    await browser?.close();
    await wallet?.close();
    await env?.cleanup();
  });

  it(
    'cannot read wallet cookies, call the wallet as the user, or touch the top window',
    async () => {
      const context = await signedIn();
      const page = await context.newPage();
      const fromMini: Request[] = [];
      page.on('request', (r) => {
        if (r.frame().url().includes('/mp/') || r.frame().parentFrame() !== null) fromMini.push(r);
      });
      const popups: Page[] = [];
      context.on('page', (p) => popups.push(p));
      const mini = await open(page, hostile);
      const ownPayment = await payment(shop, hostile);
      const wallet_ = new URL(wallet.url).origin;

      const seen = await mini.evaluate(
        async ({ walletOrigin, paymentId, appId }) => {
          const out: Record<string, string> = { origin: String(self.origin) };
          try {
            out['cookie'] = document.cookie === '' ? 'empty' : document.cookie;
          } catch (e) {
            out['cookie'] = `blocked: ${(e as Error).name}`;
          }
          const attempt = async (what: string, f: () => Promise<string>) => {
            try {
              out[what] = await f();
            } catch (e) {
              out[what] = `blocked: ${(e as Error).name}`;
            }
          };
          // Readable calls (CORS): refused by the browser, the wallet allows no other origin.
          await attempt('cors /app', async () =>
            (await fetch(`${walletOrigin}/app`, { credentials: 'include' })).text(),
          );
          await attempt('cors status', async () =>
            (
              await fetch(`${walletOrigin}/app/api/payments/${paymentId}?appId=${appId}`, {
                credentials: 'include',
              })
            ).text(),
          );
          // Blind calls (no-cors): they leave, but must leave without the user's cookies.
          await attempt(
            'blind /app',
            async () =>
              (await fetch(`${walletOrigin}/app`, { mode: 'no-cors', credentials: 'include' })).type,
          );
          await attempt(
            'blind status',
            async () =>
              (
                await fetch(`${walletOrigin}/app/api/payments/${paymentId}?appId=${appId}`, {
                  mode: 'no-cors',
                  credentials: 'include',
                })
              ).type,
          );
          await attempt(
            'blind logout',
            async () =>
              (
                await fetch(`${walletOrigin}/logout`, {
                  method: 'POST',
                  mode: 'no-cors',
                  credentials: 'include',
                  body: new URLSearchParams({ _csrf: 'x' }),
                })
              ).type,
          );
          // The top window: read, navigate, replace; and pop-ups.
          await attempt('read top', async () => String(window.top?.location.href));
          await attempt('navigate top', async () => {
            window.top!.location.href = `${walletOrigin}/app?hijacked=1`;
            return 'navigated';
          });
          await attempt('replace top', async () => {
            window.top!.location.replace(`${walletOrigin}/console?hijacked=1`);
            return 'replaced';
          });
          await attempt('read parent DOM', async () => String(window.parent.document.title));
          await attempt('popup', async () =>
            window.open(`${walletOrigin}/app?popup=1`) === null ? 'null' : 'opened',
          );
          return out;
        },
        { walletOrigin: wallet_, paymentId: ownPayment, appId: hostile },
      );
      await page.waitForTimeout(500);
      await shoot(page, 'sandbox-01-hostile');

      expect(seen['origin']).toBe('null');
      expect(seen['cookie']).toMatch(/^blocked|^empty$/);
      expect(seen['cors /app']).toMatch(/^blocked/);
      expect(seen['cors status']).toMatch(/^blocked/);
      for (const k of ['read top', 'navigate top', 'replace top', 'read parent DOM'])
        expect(seen[k], k).toMatch(/^blocked: SecurityError/);
      expect(seen['popup']).toMatch(/^null$|^blocked/);
      expect(popups).toHaveLength(0);
      expect(page.url()).toBe(`${wallet.url}/app/mini/${hostile}`);

      // The network's witness: what left the mini program toward the wallet carried no wallet cookie, and
      // the wallet treated it as a stranger's request.
      const toWallet = fromMini.filter(
        (r) =>
          r.url().startsWith(wallet_) &&
          !r.url().includes(`/mp/${hostile}/`) &&
          !r.url().endsWith('/jsapi/my.js'),
      );
      expect(toWallet.length).toBeGreaterThanOrEqual(4);
      for (const r of toWallet) {
        const headers = await r.allHeaders();
        expect(headers['cookie'] ?? '', r.url()).not.toMatch(/billetera_(session|csrf|console|ops)/);
        const res = await r.response();
        if (!res) continue;
        if (r.url().includes('/app/api/payments/')) expect(res.status()).toBe(401);
        if (r.url().endsWith('/app')) expect(await res.text()).toContain('name="pin"');
      }
      // Still signed in: the blind logout did nothing.
      const home = await page.goto(`${wallet.url}/app`);
      expect(await home?.text()).toMatch(/Log out/i);
      await context.close();
      if (LONG)
        console.log(
          `faults: sandbox: ${toWallet.length} requests from a hostile mini program reached the wallet, 0 with a wallet cookie`,
        );
    },
    TIMEOUT_MS,
  );

  it(
    "cannot make the host open the cashier for another mini program's payment; its own opens",
    async () => {
      const context = await signedIn();
      const page = await context.newPage();
      const mini = await open(page, hostile);
      const ofSibling = await payment(shop, sibling);
      const ofStranger = await payment(other, stranger);
      const own = await payment(shop, hostile);
      const sheetOpened: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/cashier/') && r.frame() !== mini) sheetOpened.push(r.url());
      });

      const refused = await mini.evaluate(
        async ({ ids, walletOrigin, forgedAppId }) => {
          const my = (window as unknown as { my: { tradePay(p: object): Promise<unknown> } }).my;
          const out: string[] = [];
          const tries: object[] = [];
          for (const id of ids) {
            tries.push(
              { tradeNO: id },
              { paymentUrl: `${walletOrigin}/cashier/${id}` },
              { tradeNO: id, appId: forgedAppId },
            );
          }
          for (const p of tries) {
            try {
              out.push(`resolved ${JSON.stringify(await my.tradePay(p))}`);
            } catch (e) {
              out.push(
                `error ${(e as { error: number }).error}: ${(e as { errorMessage: string }).errorMessage}`,
              );
            }
          }
          // A forged "close" from the cashier, posted by the mini program: ignored.
          window.parent.postMessage({ source: 'billetera-cashier', action: 'close' }, '*');
          return out;
        },
        { ids: [ofSibling, ofStranger], walletOrigin: new URL(wallet.url).origin, forgedAppId: sibling },
      );
      expect(refused).toHaveLength(6);
      for (const r of refused) expect(r).toBe('error 2: this mini program has no such payment');
      expect(await page.locator('#sheet').isHidden()).toBe(true);
      expect(sheetOpened).toEqual([]);

      // The control: its own payment opens the cashier sheet, signed in, with the order.
      const pending = mini.evaluate(async (id) => {
        const my = (window as unknown as { my: { tradePay(p: object): Promise<{ resultCode: string }> } }).my;
        return (await my.tradePay({ tradeNO: id })).resultCode;
      }, own);
      const sheet = page.frameLocator('#sheet-frame');
      await sheet.getByRole('heading', { name: 'Confirm payment' }).waitFor();
      expect(sheetOpened.some((u) => u.includes(`/cashier/${own}`))).toBe(true);
      await shoot(page, 'sandbox-02-own-payment');
      await page.locator('#sheet-close').click();
      expect(await pending).toBe('6001');
      await context.close();
    },
    TIMEOUT_MS,
  );

  it(
    'navigating its own frame to the cashier gets no signed-in cashier and cannot pay',
    async () => {
      const context = await signedIn();
      const page = await context.newPage();
      const mini = await open(page, hostile);
      const ofStranger = await payment(other, stranger);
      const url = `${new URL(wallet.url).origin}/cashier/${ofStranger}?embed=1`;
      await mini.evaluate((to) => {
        location.href = to;
      }, url);
      await page.waitForTimeout(1_000);
      const framed = page.frames().find((f) => f.url().includes(`/cashier/${ofStranger}`));
      const text = framed ? await framed.evaluate(() => document.body?.innerText ?? '').catch(() => '') : '';
      await shoot(page, 'sandbox-03-self-navigation');
      // Either the browser refused to show it, or the cashier saw no session: never the PIN form.
      expect(text).not.toMatch(/Confirm payment|Pay 4\.50/);
      const status = await wallet.ctx.store.db
        .selectFrom('payments')
        .select('status')
        .where('id', '=', ofStranger)
        .executeTakeFirstOrThrow();
      expect(status.status).toBe('PROCESSING');
      await context.close();
    },
    TIMEOUT_MS,
  );
});
