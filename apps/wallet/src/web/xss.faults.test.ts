/**
 * XSS in real Chromium (issue 8, item 5): script and markup payloads go into every merchant- and
 * user-supplied text the wallet shows — merchant and applicant names, licence fields, the website check's
 * finding (the site's <title>), a rejection reason, order titles and v2 order descriptions, goods, a
 * refund reason, notification URLs and a merchant endpoint's reply, mini program names, descriptions,
 * version notes and a version's rejection reason, a user's display name — through the same services
 * and APIs a real merchant or user would use. Then every page that shows them is opened: the cashier
 * (sheet, PIN, success), the host (home, mini program page, authorizations), the console (overview,
 * licence, payments, timeline, notifications, credentials, apps) and ops (merchants, a merchant, reviews).
 *
 * On each page: no payload ran (a `window.__xss` flag, a dialog listener, CSP violation reports), none
 * became markup (no inline handler, no inline script or style holding a payload, no javascript: link),
 * and the payload is there as text.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { strToU8, zipSync } from 'fflate';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { launchChromium, shoot } from '../../../../test/browser-harness.ts';
import { requireBrowser } from '../../../../test/browser.ts';
import { LONG } from '../../../../test/long.ts';
import { specCall, startNotifyReceiver } from '../../../../test/spec-merchant.ts';
import { addMerchant, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import { issueAuthCodeForUser } from '../services/authorization.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import { rejectMerchant, submitLicenceAndCheck } from '../services/onboarding.ts';
import { signUpMerchant } from '../services/staff-accounts.ts';
import { createUser, topUpUser } from '../services/users.ts';
import {
  addMiniProgramFeature,
  createWorkspaceMiniProgram,
  decideFeatureRequest,
  publishMiniProgramVersion,
  reviewVersion,
  submitVersion,
  uploadVersion,
} from '../services/workspace.ts';
import type { RunningWallet } from '../wallet.ts';
import { STAFF_COOKIES } from './staff-session.ts';
import { consoleSession, opsSession, walletSession, type TestSession } from './workspace.fixtures.ts';

const chromiumPath = requireBrowser();
const BROWSER_TEST_TIMEOUT_MS = 180_000;

/**
 * A payload for one field, tagged with the field's name so a page shows which one it got. Five shapes
 * (attribute break-out, script, svg, title/textarea break-out, event handler in a quoted attribute),
 * each short enough for a 60-character name.
 */
const SHAPES = [
  (t: string) => `"><img src=x onerror="window.__xss='${t}'">${t}`,
  (t: string) => `<script>window.__xss='${t}'</script>${t}`,
  (t: string) => `'><svg onload="window.__xss='${t}'">${t}`,
  (t: string) => `</title></textarea><script>window.__xss='${t}'</script>`,
  (t: string) => `" autofocus onfocus="window.__xss='${t}'" x="${t}`,
];
let shape = 0;
const payload = (tag: string): string => (SHAPES[shape++ % SHAPES.length] ?? SHAPES[0]!)(tag);

/** What a page's main document shows of the payloads: none may have become markup or have run. */
const INSPECT = `(() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.startsWith('on')) bad.push('handler ' + a.name + ' on <' + el.localName + '>');
      if (['href', 'src', 'action', 'formaction', 'xlink:href'].includes(a.name) && /^\\s*javascript:/i.test(a.value))
        bad.push('javascript: in ' + a.name + ' of <' + el.localName + '>');
      if (a.name === 'srcdoc' && a.value.includes('__xss')) bad.push('srcdoc payload');
    }
    if ((el.localName === 'script' || el.localName === 'style') && el.textContent.includes('__xss'))
      bad.push('inline <' + el.localName + '> payload');
    if (el.localName === 'img' && el.getAttribute('src') === 'x') bad.push('<img src=x>');
  }
  return {
    flag: window.__xss === undefined ? null : String(window.__xss),
    csp: window.__cspViolations || [],
    bad,
    shown: document.body.innerText.includes('__xss'),
    title: document.title,
  };
})()`;

interface Inspection {
  flag: string | null;
  csp: string[];
  bad: string[];
  shown: boolean;
  title: string;
}

/** A merchant website whose <title> is a payload: the website check quotes it in its findings. */
async function startHostileWebsite(title: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end(`<!doctype html><html><head><title>${title}</title></head><body><p>Hi.</p></body></html>`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A mini program that asks for the user's name at once: the host opens its consent sheet. */
function miniProgramZip(title: string): Buffer {
  const index = `<!doctype html><title>${title}</title><script src="/jsapi/my.js"></script>
<script src="app.js" defer></script><h1>${title}</h1>`;
  const app = `my.getAuthCode({ scopes: ['USER_NAME'] }).catch(() => undefined);`;
  return Buffer.from(zipSync({ app: { 'index.html': strToU8(index), 'app.js': strToU8(app) } }));
}

describe.skipIf(!chromiumPath)('no XSS on any page that shows merchant- or user-supplied text', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let browser: Browser;
  let shop: TestMerchant;
  let receiver: Awaited<ReturnType<typeof startNotifyReceiver>>;
  let website: Awaited<ReturnType<typeof startHostileWebsite>>;
  const sessions = new Map<string, TestSession>();
  /** role -> the paths it opens. */
  const pages: [string, string][] = [];
  const refused: string[] = [];
  let fields = 0;
  let consentPath = '';

  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    wallet = await startTestWallet(env);
    const ctx = wallet.ctx;
    /** A console session for an existing account (the applicant signed up through the service). */
    const accountSession = async (accountId: string): Promise<TestSession> => {
      const value = randomBytes(32).toString('base64url');
      const csrf = randomBytes(32).toString('base64url');
      await ctx.store.db
        .insertInto('staff_sessions')
        .values({
          id_hash: createHash('sha256').update(value).digest('base64url'),
          kind: 'MERCHANT',
          subject_id: accountId,
          csrf_token: csrf,
          created_at: BigInt(Date.now()),
          expires_at: BigInt(Date.now() + 3600_000),
        })
        .execute();
      const name = STAFF_COOKIES.MERCHANT;
      return { name, value, csrf, header: `${name}=${value}` };
    };
    ctx.allowPrivateWebsites = true; // the hostile website runs on 127.0.0.1
    const reply = payload('reply');
    receiver = await startNotifyReceiver(() => ({ status: 500, body: reply }));
    website = await startHostileWebsite(payload('wtitle'));
    fields += 2;

    // The merchant and its payments: v1 (title, goods), v2 (order description, goods), a refund reason.
    shop = await addMerchant(ctx, { name: payload('mname'), notifyUrl: receiver.url });
    const user = await createUser(ctx, {
      phone: '+15557770001',
      pin: '123456',
      displayName: payload('uname'),
    });
    await topUpUser(ctx, { phone: user.phone, amountMinor: 1_000_000n, currency: 'USD' });
    fields += 2;
    const call = (path: string, body: object) =>
      specCall(wallet.url, path, JSON.stringify(body), {
        clientId: shop.merchant.clientId,
        privateKey: shop.keys.privateKey,
      });
    const v1 = async (tag: string) => {
      const r = await call('/api/open/v1/payments/pay', {
        partnerId: shop.merchant.partnerId,
        paymentRequestId: `xss-${tag}`,
        paymentOrderTitle: payload(tag),
        paymentAmount: { currency: 'USD', value: '1250' },
        paymentNotifyUrl: `${receiver.url}?q=${encodeURIComponent(payload('nurl'))}`,
        extraParams: { ORDER: JSON.stringify({ goods: [{ goodsName: payload('goods1') }] }) },
      });
      expect(r.body.result.resultCode, JSON.stringify(r.body)).toBe('ACCEPT');
      fields += 3;
      return r.body['paymentId'] as string;
    };
    const open = await v1('title-open');
    const paid = await v1('title-paid');
    const v2 = await call('/api/open/v2/payments/pay', {
      paymentRequestId: 'xss-v2',
      paymentAmount: { currency: 'USD', value: '990' },
      order: { orderDescription: payload('odesc'), goods: [{ goodsName: payload('goods2') }] },
    });
    expect(v2.body.result.resultCode, JSON.stringify(v2.body)).toBe('ACCEPT');
    fields += 2;
    const openV2 = v2.body['paymentId'] as string;
    expect((await confirmPayment(ctx, { paymentId: paid, phone: user.phone, pin: '123456' })).ok).toBe(true);
    const refund = await call('/api/open/v1/payments/refund', {
      partnerId: shop.merchant.partnerId,
      refundRequestId: 'xss-refund',
      paymentId: paid,
      refundAmount: { currency: 'USD', value: '250' },
      refundReason: payload('rreason'),
      refundNotifyUrl: `${receiver.url}?r=${encodeURIComponent(payload('rurl'))}`,
    });
    expect(refund.body.result.resultCode, JSON.stringify(refund.body)).toBe('SUCCESS');
    fields += 2;
    // The notifier tries the merchant endpoint, which answers 500 with a payload: the reply is recorded.
    await receiver.waitFor(2, 15_000);

    // An applicant: sign-up name, licence fields, the website check's finding, a rejection reason.
    const ops = await opsSession(ctx);
    const signedUp = await signUpMerchant(ctx, {
      name: payload('aname'),
      email: 'applicant@xss.test',
      password: 'a long enough passphrase 42',
    });
    if (!signedUp.ok) throw new Error(`sign-up refused: ${JSON.stringify(signedUp.errors)}`);
    const applicant = signedUp.merchant;
    const submitted = await submitLicenceAndCheck(ctx, applicant.id, `merchant:${signedUp.accountId}`, {
      legalName: payload('legal'),
      licenceNumber: 'LIC-12345',
      country: 'MX',
      address: payload('addr'),
      websiteUrl: `${website.url}/?q=${encodeURIComponent(payload('wurl'))}`,
      contactName: payload('cname'),
      contactEmail: 'contact@xss.test',
      contactPhone: '',
    });
    expect(submitted.ok, JSON.stringify(submitted)).toBe(true);
    const rejected = await rejectMerchant(ctx, {
      merchantId: applicant.id,
      actor: `operator:${ops.operatorId}`,
      reason: payload('reject'),
    });
    if (!rejected.ok) refused.push(`reject: ${rejected.message}`);
    fields += 6;

    // Mini programs: a published one (host list, mini page, a grant), one in review with a feature
    // request, one whose version was rejected.
    const app = async (tag: string) => {
      const mini = await createWorkspaceMiniProgram(ctx, shop.merchant, 'cli', {
        name: payload(`${tag}n`).slice(0, 60),
        description: payload(`${tag}d`),
        serverOrigins: '',
        logo: undefined,
      });
      const v = await uploadVersion(
        ctx,
        shop.merchant,
        'cli',
        mini.appId,
        miniProgramZip(payload(`${tag}z`)),
        payload(`${tag}v`),
      );
      await submitVersion(ctx, shop.merchant, 'cli', mini.appId, v.version);
      fields += 4;
      return { appId: mini.appId, versionId: v.id, version: v.version };
    };
    const live = await app('a1');
    await reviewVersion(ctx, ops.operatorId, live.versionId, 'APPROVE', '');
    await publishMiniProgramVersion(ctx, shop.merchant, 'cli', live.appId, live.version);
    await addMiniProgramFeature(ctx, shop.merchant, 'cli', live.appId, 'USER_INFO');
    await decideFeatureRequest(ctx, ops.operatorId, live.appId, 'USER_INFO', 'APPROVE', '');
    const code = await issueAuthCodeForUser(ctx, user.id, live.appId, ['USER_NICKNAME'], true);
    expect(code.kind).toBe('ISSUED');
    const review = await app('a2');
    await addMiniProgramFeature(ctx, shop.merchant, 'cli', review.appId, 'USER_INFO');
    const rejectedApp = await app('a3');
    await reviewVersion(ctx, ops.operatorId, rejectedApp.versionId, 'REJECT', payload('vreject'));
    fields += 1;

    sessions.set('user', await walletSession(ctx, user.id));
    sessions.set('shop', await consoleSession(ctx, shop.merchant.id));
    sessions.set('applicant', await accountSession(signedUp.accountId));
    sessions.set('ops', ops);
    consentPath = `/app/mini/${live.appId}`;
    pages.push(
      ['user', '/app'],
      ['user', `/app/mini/${live.appId}`],
      ['user', `/cashier/${open}`],
      ['user', `/cashier/${open}/pin`],
      ['user', `/cashier/${openV2}`],
      ['user', `/cashier/${paid}`],
      ['user', '/app/authorizations'],
      ['shop', '/console'],
      ['shop', '/console/payments'],
      ['shop', `/console/payments/${paid}`],
      ['shop', `/console/payments/${openV2}`],
      ['shop', '/console/notifications'],
      ['shop', '/console/credentials'],
      ['shop', '/console/apps'],
      ['shop', `/console/apps/${live.appId}`],
      ['shop', `/console/apps/${rejectedApp.appId}`],
      ['applicant', '/console'],
      ['applicant', '/console/licence'],
      ['ops', '/ops'],
      ['ops', `/ops/merchants/${applicant.id}`],
      ['ops', `/ops/merchants/${shop.merchant.id}`],
      ['ops', '/ops/reviews'],
    );
    browser = await launchChromium(chromiumPath!);
  }, BROWSER_TEST_TIMEOUT_MS);

  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await website?.close();
    await wallet?.close();
    await env?.cleanup();
  });

  async function contextFor(role: string): Promise<BrowserContext> {
    const session = sessions.get(role);
    if (!session) throw new Error(`no session for ${role}`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
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
    // Reports of anything the CSP blocked on the page (an inline handler or script that got through).
    await context.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => {
      (window.__cspViolations = window.__cspViolations || []).push(e.violatedDirective + ' ' + e.blockedURI);
    });`);
    return context;
  }

  it('detects a payload that became markup (a check of the check)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.setContent(`<p>${SHAPES.map((f) => f('selftest')).join('</p><p>')}</p>`);
    await page.waitForTimeout(100);
    const seen = (await page.evaluate(INSPECT)) as Inspection;
    expect(seen.flag).toBe('selftest');
    expect(seen.bad.length).toBeGreaterThanOrEqual(3);
    await context.close();
  });

  it(
    'runs no payload and shows each as text, on every page',
    async () => {
      const problems: string[] = [];
      const contexts = new Map<string, BrowserContext>();
      for (const [role, path] of pages) {
        const context = contexts.get(role) ?? (await contextFor(role));
        contexts.set(role, context);
        const page = await context.newPage();
        const dialogs: string[] = [];
        page.on('dialog', (d) => {
          dialogs.push(d.message());
          void d.dismiss();
        });
        const res = await page.goto(wallet.url + path, { waitUntil: 'load' });
        // The published mini program asks for the user's name: its consent sheet names it and its merchant.
        if (path === consentPath)
          await page
            .locator('#consent')
            .waitFor({ state: 'visible', timeout: 15_000 })
            .catch(() => problems.push(`${role} ${path}: the consent sheet did not open`));
        await page.waitForTimeout(100); // autofocus / onload handlers would have fired by now
        const seen = (await page.evaluate(INSPECT)) as Inspection;
        const where = `${role} ${path} (HTTP ${res?.status()}, "${seen.title}")`;
        if (res?.status() !== 200) problems.push(`${where}: not 200`);
        if (seen.flag !== null) problems.push(`${where}: payload ran (window.__xss = ${seen.flag})`);
        if (dialogs.length > 0) problems.push(`${where}: dialog ${dialogs.join(', ')}`);
        if (seen.csp.length > 0) problems.push(`${where}: CSP blocked ${seen.csp.join(', ')}`);
        if (seen.bad.length > 0) problems.push(`${where}: markup from a payload: ${seen.bad.join(', ')}`);
        if (!seen.shown) problems.push(`${where}: no payload shown as text (is the page showing the data?)`);
        if (LONG) await shoot(page, `xss-${role}-${path.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}`);
        await page.close();
      }
      for (const context of contexts.values()) await context.close();
      console.log(
        `faults: xss: ${pages.length} pages opened in Chromium, ${fields} payload fields, 0 payloads ran${refused.length > 0 ? ` (refused on input: ${refused.join('; ')})` : ''}`,
      );
      expect(problems).toEqual([]);
    },
    BROWSER_TEST_TIMEOUT_MS,
  );
});
