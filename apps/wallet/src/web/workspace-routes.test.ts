/**
 * The workspace over real HTTP: the console's forms (multipart create and upload, CSRF, 404 for another
 * merchant's appId), the ops queue (approve, a second decision refused), the files under /mp (published
 * for everyone; previews only with a valid, unexpired token; the CSP sandbox and nosniff on every answer),
 * the host's list, logo and frame, and the Payment feature enforced on the host's payment check and on the
 * signed OpenAPI.
 */
import { FakeClock } from '@billetera/domain';
import { featuresOf, findMiniProgram, type Merchant } from '@billetera/store';
import { strToU8, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { specCall } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import type { RunningWallet } from '../wallet.ts';
import { freezeMerchant, unfreezeMerchant } from '../services/onboarding.ts';
import { PREVIEW_TTL_MS } from '../services/workspace.ts';
import {
  consoleSession,
  opsSession,
  pngLogo,
  testMiniProgramZip,
  walletSession,
  type TestSession,
} from './workspace.fixtures.ts';

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
}

describe('the workspace over HTTP', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let shopA: TestMerchant;
  let shopB: Merchant;
  let a: TestSession;
  let b: TestSession;
  let pending: TestSession;
  let ops: TestSession;
  let user: TestSession;
  let appId: string;
  const clock = new FakeClock(Date.now());
  const APP = 'Tienda Luna';

  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    wallet = await startTestWallet(env, { clock, workers: false });
    shopA = await addMerchant(wallet.ctx, { name: 'Luna Shop' });
    shopB = (await addMerchant(wallet.ctx, { name: 'Other Shop' })).merchant;
    const draft = (await addMerchant(wallet.ctx, { name: 'Draft Shop', verified: false })).merchant;
    a = await consoleSession(wallet.ctx, shopA.merchant.id);
    b = await consoleSession(wallet.ctx, shopB.id);
    pending = await consoleSession(wallet.ctx, draft.id);
    ops = await opsSession(wallet.ctx);
    const u = await addUser(wallet.ctx, { USD: 10_000n });
    user = await walletSession(wallet.ctx, u.id);
  });
  afterAll(async () => {
    await wallet?.close();
    await env?.cleanup();
  });

  async function call(
    path: string,
    o: { session?: TestSession; form?: Record<string, string> | FormData; method?: string } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (o.session) headers['cookie'] = o.session.header;
    let body: string | FormData | undefined;
    if (o.form instanceof FormData) body = o.form;
    else if (o.form) {
      body = new URLSearchParams(o.form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(wallet.url + path, {
      method: o.method ?? (o.form ? 'POST' : 'GET'),
      headers,
      redirect: 'manual',
      ...(body !== undefined ? { body } : {}),
    });
    return {
      status: res.status,
      headers: res.headers,
      text: await res.text(),
      location: res.headers.get('location'),
    };
  }

  const multipart = (
    session: TestSession,
    fields: Record<string, string>,
    file?: [string, Buffer, string],
  ) => {
    const fd = new FormData();
    fd.set('_csrf', session.csrf);
    for (const [k, v] of Object.entries(fields)) fd.set(k, v);
    if (file) fd.set(file[0], new Blob([file[1]]), file[2]);
    return fd;
  };

  const zipOf = (title: string) => testMiniProgramZip({ title, orderUrl: 'http://127.0.0.1:9/order' });

  it('sends signed-out visitors to the console sign-in', async () => {
    const res = await call('/console/apps');
    expect(res.status).toBe(303);
    expect(res.location).toBe('/console/sign-in?next=%2Fconsole%2Fapps');
  });

  it('tells a merchant that is not verified why it cannot create mini programs, and refuses the form', async () => {
    const page = await call('/console/apps', { session: pending });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Creating mini programs needs a verified business');
    expect(page.text).not.toContain('id="create-form"');
    const post = await call('/console/apps', {
      session: pending,
      form: multipart(pending, { name: 'Nope' }),
    });
    expect(post.status).toBe(403);
    expect(post.text).toContain('not verified yet');
  });

  it('creates a mini program from the multipart form, with CSRF and a logo', async () => {
    const noCsrf = new FormData();
    noCsrf.set('name', APP);
    expect((await call('/console/apps', { session: a, form: noCsrf })).status).toBe(403);

    const bad = await call('/console/apps', {
      session: a,
      form: multipart(a, { name: APP }, ['logo', Buffer.from('<svg></svg>'), 'logo.svg']),
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('The logo must be a PNG or JPEG image.');
    expect(bad.text).toContain(`value="${APP}"`);

    const created = await call('/console/apps', {
      session: a,
      form: multipart(a, { name: APP, description: 'Coffee & <cake>', serverOrigins: 'http://127.0.0.1:9' }, [
        'logo',
        pngLogo(),
        'logo.png',
      ]),
    });
    expect(created.status).toBe(303);
    const m = /^\/console\/apps\/(\d{19})\?done=created$/.exec(created.location ?? '');
    expect(m).not.toBeNull();
    appId = m![1]!;
    const page = await call(`/console/apps/${appId}?done=created`, { session: a });
    expect(page.text).toContain('Mini program created.');
    expect(page.text).toContain('Coffee &amp; &lt;cake&gt;');
    const logo = await call(`/console/apps/${appId}/logo`, { session: a });
    expect(logo.status).toBe(200);
    expect(logo.headers.get('content-type')).toBe('image/png');
    expect(logo.headers.get('x-content-type-options')).toBe('nosniff');
    const list = await call('/console/apps', { session: a });
    expect(list.text).toContain(APP);
    expect(list.text).toContain(appId);
  });

  it('uploads versions through the form, and refuses bad zips with a clear message', async () => {
    const tooBig = await call(`/console/apps/${appId}/versions`, {
      session: a,
      form: multipart(a, {}, ['zip', Buffer.alloc(5 * 1024 * 1024 + 10), 'big.zip']),
    });
    expect(tooBig.status).toBe(400);
    expect(tooBig.text).toContain('The zip is larger than 5 MiB.');

    const evil = Buffer.from(zipSync({ 'index.html': strToU8('x'), '../escape.js': strToU8('x') }));
    const refused = await call(`/console/apps/${appId}/versions`, {
      session: a,
      form: multipart(a, {}, ['zip', evil, 'evil.zip']),
    });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain(
      'The zip was refused: &quot;../escape.js&quot; points outside the mini program',
    );

    const ok = await call(`/console/apps/${appId}/versions`, {
      session: a,
      form: multipart(a, { note: 'First cut' }, ['zip', zipOf(APP), 'build.zip']),
    });
    expect(ok.status).toBe(303);
    expect(ok.location).toBe(`/console/apps/${appId}?done=uploaded&v=1`);
    const page = await call(ok.location!, { session: a });
    expect(page.text).toContain('Version 1 uploaded.');
    expect(page.text).toContain('First cut');
    expect(page.text).toContain(`/console/apps/${appId}/versions/1/submit`);
  });

  it('serves a version only through a valid preview link before it is published', async () => {
    const closed = await call(`/mp/${appId}/1/index.html`);
    expect(closed.status).toBe(404);
    expect(closed.headers.get('x-content-type-options')).toBe('nosniff');
    expect(closed.headers.get('content-security-policy')).toContain('sandbox');

    const preview = await call(`/console/apps/${appId}/versions/1/preview`, { session: a });
    expect(preview.status).toBe(200);
    const entry = /data-entry-url="([^"]+)"/.exec(preview.text)?.[1] ?? '';
    expect(entry).toMatch(new RegExp(`^/mp/${appId}/1/p/\\d+\\.[A-Za-z0-9_-]{43}/index\\.html$`));
    expect(preview.text).toContain('Preview · version 1');
    expect(preview.headers.get('content-security-policy')).toContain("frame-src 'self'");

    const page = await call(entry);
    expect(page.status).toBe(200);
    expect(page.text).toContain(`<h1>${APP}</h1>`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('private, no-store');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp.startsWith('sandbox allow-scripts;')).toBe(true);
    expect(csp).toContain(`script-src 'self' ${new URL(wallet.ctx.publicUrl).origin};`);
    expect(csp).toContain('connect-src');
    expect(csp).toContain('http://127.0.0.1:9');
    expect(csp).toContain("frame-ancestors 'self'");
    const js = await call(entry.replace('index.html', 'js/app.js'));
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await call(entry.replace('index.html', 'img/cup.png'))).headers.get('content-type')).toBe(
      'image/png',
    );

    const [, token] = /\/p\/([^/]+)\//.exec(entry) ?? [];
    const forged = entry.replace(token!, `${token!.split('.')[0]}.${'x'.repeat(43)}`);
    expect((await call(forged)).status).toBe(404);
    expect((await call(entry.replace(`/${appId}/1/`, `/${appId}/2/`))).status).toBe(404);
    clock.advance(PREVIEW_TTL_MS + 1000);
    try {
      expect((await call(entry)).status).toBe(404);
    } finally {
      clock.advance(-(PREVIEW_TTL_MS + 1000));
    }
  });

  it('never shows or lets another merchant act on the mini program (404 everywhere)', async () => {
    const list = await call('/console/apps', { session: b });
    expect(list.text).not.toContain(appId);
    expect(list.text).not.toContain(APP);
    for (const path of [
      `/console/apps/${appId}`,
      `/console/apps/${appId}/logo`,
      `/console/apps/${appId}/versions/1/preview`,
    ])
      expect((await call(path, { session: b })).status, path).toBe(404);
    const upload = await call(`/console/apps/${appId}/versions`, {
      session: b,
      form: multipart(b, {}, ['zip', zipOf('Hijack'), 'h.zip']),
    });
    expect(upload.status).toBe(404);
    for (const path of [
      `/console/apps/${appId}/versions/1/submit`,
      `/console/apps/${appId}/features/PAYMENT/remove`,
      `/console/apps/${appId}/features/USER_INFO/add`,
    ])
      expect((await call(path, { session: b, form: { _csrf: b.csrf } })).status, path).toBe(404);
    const details = await call(`/console/apps/${appId}/details`, {
      session: b,
      form: multipart(b, { description: 'pwned' }),
    });
    expect(details.status).toBe(404);
    expect((await findMiniProgram(wallet.ctx.store.db, appId))?.description).toBe('Coffee & <cake>');
    expect(await featuresOf(wallet.ctx.store.db, appId)).toEqual(new Map([['PAYMENT', 'ACTIVE']]));
  });

  it('goes through review at /ops/reviews, publishes, and appears in the host for everyone', async () => {
    expect((await call(`/console/apps/${appId}/versions/1/submit`, { session: a, form: {} })).status).toBe(
      403,
    );
    const submitted = await call(`/console/apps/${appId}/versions/1/submit`, {
      session: a,
      form: { _csrf: a.csrf },
    });
    expect(submitted.location).toBe(`/console/apps/${appId}?done=submitted&v=1`);

    expect((await call('/ops/reviews', { session: a })).status).toBe(303);
    const queue = await call('/ops/reviews', { session: ops });
    expect(queue.status).toBe(200);
    expect(queue.text).toContain(APP);
    const versionId = /action="\/ops\/reviews\/versions\/(mpv_[A-Za-z0-9_-]+)"/.exec(queue.text)?.[1];
    expect(versionId).toBeDefined();
    const opsPreview = await call(`/ops/reviews/versions/${versionId}/preview`, { session: ops });
    expect(opsPreview.status).toBe(200);
    expect(opsPreview.text).toContain('Review · version 1');

    const noReason = await call(`/ops/reviews/versions/${versionId}`, {
      session: ops,
      form: { _csrf: ops.csrf, decision: 'REJECT', reason: '' },
    });
    expect(noReason.status).toBe(400);
    const approve = { _csrf: ops.csrf, decision: 'APPROVE', reason: '' };
    const done = await call(`/ops/reviews/versions/${versionId}`, { session: ops, form: approve });
    expect(done.location).toBe('/ops/reviews?done=version-approved');
    const again = await call(`/ops/reviews/versions/${versionId}`, { session: ops, form: approve });
    expect(again.status).toBe(409);
    expect(again.text).toContain('no longer waiting for review');

    const home = () => call('/app', { session: user });
    expect((await home()).text).toContain('Mini programs');
    expect((await home()).text).not.toContain(APP);
    expect((await call(`/app/mini/${appId}`, { session: user })).status).toBe(404);
    const published = await call(`/console/apps/${appId}/versions/1/publish`, {
      session: a,
      form: { _csrf: a.csrf },
    });
    expect(published.location).toBe(`/console/apps/${appId}?done=published&v=1`);

    const listed = await home();
    expect(listed.text).toContain(APP);
    expect(listed.text).toContain(`src="/app/logo/${appId}"`);
    const logo = await call(`/app/logo/${appId}`);
    expect(logo.headers.get('content-type')).toBe('image/png');
    expect(logo.headers.get('x-content-type-options')).toBe('nosniff');

    const shell = await call(`/app/mini/${appId}`, { session: user });
    expect(shell.text).toContain(`data-entry-url="/mp/${appId}/1/index.html"`);
    expect(shell.text).toContain(`data-scope="/mp/${appId}/1/"`);
    expect(shell.text).toContain('data-features="PAYMENT"');

    for (const path of [`/mp/${appId}/1/index.html`, `/mp/${appId}/1/`]) {
      const file = await call(path);
      expect(file.status, path).toBe(200);
      expect(file.headers.get('cache-control')).toBe('public, max-age=60');
      expect(file.headers.get('content-security-policy')).toMatch(/^sandbox allow-scripts;/);
      expect(file.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await call(`/mp/${appId}/1/nope.js`)).status).toBe(404);
    expect((await call(`/mp/${appId}/1/p/whatever/index.html`)).status).toBe(404);

    // Frozen, the merchant's mini program leaves the host; unfrozen, it is back.
    const freeze = { merchantId: shopA.merchant.id, actor: 'cli' as const };
    expect((await freezeMerchant(wallet.ctx, freeze)).ok).toBe(true);
    expect((await home()).text).not.toContain(APP);
    expect((await call(`/app/mini/${appId}`, { session: user })).status).toBe(404);
    expect((await unfreezeMerchant(wallet.ctx, freeze)).ok).toBe(true);
    expect((await home()).text).toContain(APP);
    expect((await call(`/app/mini/${appId}`, { session: user })).status).toBe(200);
  });

  it('enforces the Payment feature in the host and the signed OpenAPI, and takes User information via ops', async () => {
    const pay = (withApp: boolean) =>
      specCall(
        wallet.url,
        '/api/open/v1/payments/pay',
        JSON.stringify({
          partnerId: shopA.merchant.partnerId,
          paymentRequestId: `http-${Math.random()}`,
          paymentOrderTitle: 'Latte',
          paymentAmount: { currency: 'USD', value: '450' },
          ...(withApp ? { appId } : {}),
        }),
        { clientId: shopA.merchant.clientId, privateKey: shopA.keys.privateKey },
      );
    const accepted = await pay(true);
    expect(accepted.body.result.resultCode).toBe('ACCEPT');
    const paymentId = accepted.body['paymentId'] as string;
    const check = () => call(`/app/api/payments/${paymentId}?appId=${appId}`, { session: user });
    expect((await check()).status).toBe(200);

    const removed = await call(`/console/apps/${appId}/features/PAYMENT/remove`, {
      session: a,
      form: { _csrf: a.csrf },
    });
    expect(removed.location).toBe(`/console/apps/${appId}?done=feature-removed`);
    const refused = await check();
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.text)).toEqual({
      error: 4,
      errorMessage: `${APP} has not added the Payment feature`,
    });
    const denied = await pay(true);
    expect(denied.body.result).toMatchObject({ resultStatus: 'F', resultCode: 'ACCESS_DENIED' });
    expect(denied.body.result.resultMessage).toContain('has not added the Payment feature');
    expect((await pay(false)).body.result.resultCode).toBe('ACCEPT');
    const shell = await call(`/app/mini/${appId}?pay=${paymentId}`, { session: user });
    expect(shell.text).toContain('data-features=""');
    expect(shell.text).toContain('data-resume-payment=""');
    await call(`/console/apps/${appId}/features/PAYMENT/add`, { session: a, form: { _csrf: a.csrf } });
    expect((await check()).status).toBe(200);

    const requested = await call(`/console/apps/${appId}/features/USER_INFO/add`, {
      session: a,
      form: { _csrf: a.csrf },
    });
    expect(requested.location).toBe(`/console/apps/${appId}?done=feature-requested`);
    const detail = await call(requested.location!, { session: a });
    expect(detail.text).toContain('Only the user id is shared until an operator approves.');
    const queue = await call('/ops/reviews', { session: ops });
    expect(queue.text).toContain(`/ops/reviews/features/${appId}/USER_INFO`);
    const approved = await call(`/ops/reviews/features/${appId}/USER_INFO`, {
      session: ops,
      form: { _csrf: ops.csrf, decision: 'APPROVE', reason: '' },
    });
    expect(approved.location).toBe('/ops/reviews?done=feature-approved');
    expect((await featuresOf(wallet.ctx.store.db, appId)).get('USER_INFO')).toBe('ACTIVE');
    const shellAfter = await call(`/app/mini/${appId}`, { session: user });
    expect(shellAfter.text).toContain('data-features="PAYMENT USER_INFO"');
  });

  it('saves the details form: description, server origins and a new logo', async () => {
    const refused = await call(`/console/apps/${appId}/details`, {
      session: a,
      form: multipart(a, { description: 'x', serverOrigins: 'https://api.luna.test/v1' }),
    });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('must be an origin only');
    const saved = await call(`/console/apps/${appId}/details`, {
      session: a,
      form: multipart(
        a,
        { description: 'Now with churros', serverOrigins: 'https://api.luna.test\nhttp://127.0.0.1:9' },
        ['logo', pngLogo(64, [10, 20, 30]), 'new.png'],
      ),
    });
    expect(saved.location).toBe(`/console/apps/${appId}?done=saved`);
    const app = await findMiniProgram(wallet.ctx.store.db, appId);
    expect(app).toMatchObject({
      description: 'Now with churros',
      serverOrigins: ['https://api.luna.test', 'http://127.0.0.1:9'],
    });
    const file = await call(`/mp/${appId}/1/index.html`);
    expect(file.headers.get('content-security-policy')).toContain(
      `connect-src 'self' ${new URL(wallet.ctx.publicUrl).origin} https://api.luna.test http://127.0.0.1:9;`,
    );
    const logo = await call(`/app/logo/${appId}`);
    expect(Buffer.from(await (await fetch(`${wallet.url}/app/logo/${appId}`)).arrayBuffer())).toEqual(
      pngLogo(64, [10, 20, 30]),
    );
    expect(logo.status).toBe(200);
  });
});
