/**
 * Issue 8, security: the headers of EVERY kind of response, over real HTTP. The routes are read from the
 * running server's route tree (so a new route is covered the day it is added) and each is requested with
 * every method it has, signed out and with the session of its area; then the responses no route list
 * names: static files, 404s, errors, the signed OpenAPI's refusals, rate-limit refusals, and cookies set
 * by real sign-ins and sign-outs. Every response must:
 *
 * - never be sniffed (`X-Content-Type-Options: nosniff`) and send no referrer;
 * - say who may frame it (CSP `frame-ancestors`), load nothing from elsewhere it does not name, and never
 *   allow inline or eval'd scripts (`'unsafe-inline'` / `'unsafe-eval'` in the script sources);
 * - when it is HTML or JSON (pages with personal data, API replies), not be stored (`no-store`), except a
 *   published mini program's own files;
 * - set cookies only as `__Host-` cookies: Secure, HttpOnly, SameSite, Path=/;
 * - carry HSTS (and `upgrade-insecure-requests`) only when the wallet's public URL is https.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { specCall } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import { createOperator, signUpMerchant } from '../services/staff-accounts.ts';
import {
  createWorkspaceMiniProgram,
  publishMiniProgramVersion,
  reviewVersion,
  submitVersion,
  uploadVersion,
} from '../services/workspace.ts';
import { startWallet, type RunningWallet } from '../wallet.ts';
import {
  consoleSession,
  opsSession,
  pngLogo,
  testMiniProgramZip,
  walletSession,
  type TestSession,
} from './workspace.fixtures.ts';

interface Route {
  url: string;
  methods: string[];
}

/**
 * Every route of the server with its methods, from Fastify's radix tree (`printRoutes()`): each line is a
 * fragment of the path below its parent's, a line with methods is a route.
 */
function routesOf(tree: string): Route[] {
  const stack: string[] = [];
  const out: Route[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/.exec(line.trimEnd());
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    const url = (stack[depth - 1] ?? '') + (m[2] ?? '');
    stack[depth] = url;
    if (m[3]) out.push({ url, methods: m[3].split(', ') });
  }
  return out;
}

interface Seen {
  what: string;
  status: number;
  headers: Headers;
  cookies: string[];
}

const SECURE_REFERRER = new Set([
  'no-referrer',
  'same-origin',
  'strict-origin',
  'strict-origin-when-cross-origin',
]);

/** What every response must carry; `https` when the wallet is reached over https. */
function checkHeaders(r: Seen, https: boolean): string[] {
  const problems: string[] = [];
  const h = (name: string) => r.headers.get(name) ?? '';
  const type = h('content-type');
  if (h('x-content-type-options') !== 'nosniff') problems.push('no nosniff');
  if (!SECURE_REFERRER.has(h('referrer-policy'))) problems.push(`referrer-policy "${h('referrer-policy')}"`);
  const csp = h('content-security-policy');
  if (!csp) problems.push('no CSP');
  const directives = new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map((d) => [d[0] ?? '', d.slice(1)]),
  );
  // Pages say who may frame them in CSP; other responses (images, plain-text 404s) may do it with XFO.
  if (!directives.has('frame-ancestors') && (/text\/html/.test(type) || !h('x-frame-options')))
    problems.push('no frame-ancestors (nor X-Frame-Options)');
  const scripts = directives.get('script-src') ?? directives.get('default-src');
  if (!scripts) problems.push('CSP without script-src or default-src');
  else if (scripts.some((s) => s === "'unsafe-inline'" || s === "'unsafe-eval'" || s === '*'))
    problems.push(`scripts allowed: ${scripts.join(' ')}`);
  const hosted = r.what.includes(' /mp/');
  if ((/text\/html|json/.test(type) || r.status >= 400) && !/no-store/.test(h('cache-control'))) {
    if (!(hosted && /^public, max-age=\d+$/.test(h('cache-control'))))
      problems.push(`cache-control "${h('cache-control')}" on ${type}`);
  }
  if (https) {
    if (!/^max-age=\d{7,}/.test(h('strict-transport-security'))) problems.push('no HSTS over https');
    if (
      /text\/html/.test(type) &&
      !hosted &&
      !csp.includes('upgrade-insecure-requests') &&
      !r.what.includes('/docs/')
    )
      problems.push('no upgrade-insecure-requests over https');
  } else {
    if (h('strict-transport-security')) problems.push('HSTS over plain http');
    if (csp.includes('upgrade-insecure-requests')) problems.push('upgrade-insecure-requests over plain http');
  }
  if (h('x-powered-by') || h('server')) problems.push('names its software');
  for (const cookie of r.cookies) {
    const [pair = '', ...attrs] = cookie.split(';').map((p) => p.trim());
    const has = (a: RegExp) => attrs.some((x) => a.test(x));
    if (!pair.startsWith('__Host-')) problems.push(`cookie without __Host-: ${pair.split('=')[0]}`);
    if (!has(/^Secure$/i)) problems.push(`cookie not Secure: ${pair.split('=')[0]}`);
    if (!has(/^HttpOnly$/i)) problems.push(`cookie not HttpOnly: ${pair.split('=')[0]}`);
    if (!has(/^SameSite=(Strict|Lax)$/i)) problems.push(`cookie without SameSite: ${pair.split('=')[0]}`);
    if (!has(/^Path=\/$/i)) problems.push(`cookie without Path=/: ${pair.split('=')[0]}`);
    if (has(/^Domain=/i)) problems.push(`cookie with a Domain: ${pair.split('=')[0]}`);
  }
  return problems.map((p) => `${r.what} -> ${r.status}: ${p}`);
}

async function fetchSeen(
  base: string,
  what: { method: string; path: string; label?: string },
  init: { cookie?: string; body?: string | Buffer; type?: string; headers?: Record<string, string> } = {},
): Promise<Seen> {
  const res = await fetch(base + what.path, {
    method: what.method,
    redirect: 'manual',
    headers: {
      ...(init.cookie ? { cookie: init.cookie } : {}),
      ...(init.type ? { 'content-type': init.type } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
  await res.arrayBuffer();
  return {
    what: `${what.method} ${what.path}${what.label ? ` (${what.label})` : ''}`,
    status: res.status,
    headers: res.headers,
    cookies: res.headers.getSetCookie(),
  };
}

const tokenOf = (page: string) => /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
const cookieOf = (res: Response) => (res.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';

describe('security headers on every response (sqlite)', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  let shop: TestMerchant;
  let sessions: { user: TestSession; console: TestSession; ops: TestSession & { operatorId: string } };
  const ids: Record<string, string> = {};
  const seen: Seen[] = [];

  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    wallet = await startTestWallet(env, { workers: false });
    const ctx = wallet.ctx;
    shop = await addMerchant(ctx, { name: 'Header <Shop>' });
    const user = await addUser(ctx, { USD: 10_000n });
    sessions = {
      user: await walletSession(ctx, user.id),
      console: await consoleSession(ctx, shop.merchant.id),
      ops: await opsSession(ctx),
    };
    const pay = await specCall(
      wallet.url,
      '/api/open/v1/payments/pay',
      JSON.stringify({
        partnerId: shop.merchant.partnerId,
        paymentRequestId: 'headers-1',
        paymentOrderTitle: '<script>alert(1)</script>',
        paymentAmount: { currency: 'USD', value: '100' },
      }),
      { clientId: shop.merchant.clientId, privateKey: shop.keys.privateKey },
    );
    ids['paymentId'] = String(pay.body['paymentId']);
    const actor = 'merchant:headers';
    const app = await createWorkspaceMiniProgram(ctx, shop.merchant, actor, {
      name: 'Header App',
      description: 'headers',
      serverOrigins: '',
      logo: pngLogo(),
    });
    const v = await uploadVersion(
      ctx,
      shop.merchant,
      actor,
      app.appId,
      testMiniProgramZip({ title: 'Hdr', orderUrl: 'http://127.0.0.1:9/order' }),
    );
    await submitVersion(ctx, shop.merchant, actor, app.appId, v.version);
    await reviewVersion(ctx, sessions.ops.operatorId, v.id, 'APPROVE', '');
    await publishMiniProgramVersion(ctx, shop.merchant, actor, app.appId, v.version);
    Object.assign(ids, { appId: app.appId, version: String(v.version), versionId: v.id });
  });
  afterAll(async () => {
    await wallet?.close();
    await env?.cleanup();
  });

  /** A concrete path for a route pattern, with this test's real ids where it has them. */
  function concrete(pattern: string): string {
    const byName: Record<string, string> = {
      paymentId: ids['paymentId'] ?? 'x',
      appId: ids['appId'] ?? 'x',
      version: ids['version'] ?? '1',
      grantId: 'grt_none',
      notificationId: 'ntf_none',
      feature: 'USER_INFO',
      op: 'submit',
    };
    return pattern
      .replace(/:id\b/, pattern.startsWith('/ops/merchants') ? shop.merchant.id : (ids['versionId'] ?? 'x'))
      .replace(/:(\w+)/g, (_, name: string) => byName[name] ?? 'x')
      .replace(/\/\*$/, pattern.startsWith('/mp/') ? '/index.html' : '/billetera.css');
  }

  const sessionFor = (path: string): TestSession | undefined =>
    path.startsWith('/console')
      ? sessions.console
      : path.startsWith('/ops')
        ? sessions.ops
        : /^\/(app|cashier|login|logout)/.test(path)
          ? sessions.user
          : undefined;

  it('sends strict headers on every route, every method, signed out and signed in', async () => {
    const routes = routesOf(wallet.app.printRoutes());
    const patterns = routes.map((r) => r.url);
    // The parse found the tree (a sample of routes of every area).
    for (const known of [
      '/health',
      '/cashier/:paymentId/confirm',
      '/console/apps/:appId',
      '/ops/reviews',
      '/api/open/v2/payments/refund',
      '/mp/:appId/:version/*',
    ])
      expect(patterns).toContain(known);
    let requests = 0;
    for (const route of routes) {
      const path = concrete(route.url);
      for (const method of route.methods) {
        const session = sessionFor(path);
        for (const cookie of [undefined, session?.header]) {
          if (cookie === undefined && session !== undefined && method === 'HEAD') continue;
          const body = method === 'POST' || method === 'PUT' || method === 'PATCH' ? 'a=1' : undefined;
          seen.push(
            await fetchSeen(
              wallet.url,
              { method, path, label: cookie ? 'signed in' : 'signed out' },
              {
                ...(cookie ? { cookie } : {}),
                ...(body ? { body, type: 'application/x-www-form-urlencoded' } : {}),
              },
            ),
          );
          requests++;
          if (!session) break;
        }
      }
    }
    expect(requests).toBeGreaterThan(routes.length);
    // The pages that matter were really reached, not just refused.
    const ok = (what: string) => seen.some((s) => s.what.startsWith(what) && s.status === 200);
    for (const page of [
      `GET /cashier/${ids['paymentId']} (signed in)`,
      'GET /app (signed in)',
      `GET /app/mini/${ids['appId']} (signed in)`,
      `GET /mp/${ids['appId']}/${ids['version']}/index.html`,
      'GET /console (signed in)',
      '/ops/merchants',
      'GET /docs/api',
      'GET /api/open/openapi.json',
      'GET /jsapi/my.js',
    ])
      expect(ok(page) || ok(`GET ${page}`), page).toBe(true);
    expect(seen.flatMap((s) => checkHeaders(s, false))).toEqual([]);
    console.log(`faults: security headers: ${routes.length} routes, ${requests} responses checked`);
  });

  it('sends them on static files, 404s, errors and refusals too', async () => {
    const extra: Seen[] = [];
    const get = (path: string, label?: string) =>
      fetchSeen(wallet.url, { method: 'GET', path, ...(label ? { label } : {}) });
    for (const file of ['billetera.css', 'host.js', 'forms.js', 'no-such-file.js'])
      extra.push(await get(`/static/${file}`));
    extra.push(
      await get('/no-such-page'),
      await get('/api/open/v1/no-such-api'),
      await get(`/mp/${ids['appId']}/99/index.html`),
    );
    extra.push(
      await get(`/mp/${ids['appId']}/${ids['version']}/js/app.js`),
      await get(`/app/logo/${ids['appId']}`),
    );
    // A form body over the limit (413), a body the form parser refuses, unsigned and unknown OpenAPI calls.
    extra.push(
      await fetchSeen(
        wallet.url,
        { method: 'POST', path: '/login', label: 'too large' },
        { body: 'a='.padEnd(64 * 1024, 'x'), type: 'application/x-www-form-urlencoded' },
      ),
      await fetchSeen(
        wallet.url,
        { method: 'POST', path: '/login', label: 'bad type' },
        { body: '{', type: 'application/json' },
      ),
      await fetchSeen(
        wallet.url,
        { method: 'POST', path: '/api/open/v1/payments/pay', label: 'unsigned' },
        { body: '{}', type: 'application/json' },
      ),
      await fetchSeen(
        wallet.url,
        { method: 'POST', path: '/api/open/v1/payments/pay', label: 'too large' },
        { body: Buffer.alloc(65 * 1024, 'x'), type: 'application/json' },
      ),
      await fetchSeen(
        wallet.url,
        { method: 'POST', path: '/app/api/auth-codes', label: 'malformed JSON' },
        {
          body: '{',
          type: 'application/json',
          cookie: sessions.user.header,
          headers: { 'x-csrf-token': sessions.user.csrf },
        },
      ),
    );
    expect(extra.map((s) => s.status)).toContain(404);
    expect(extra.map((s) => s.status)).toContain(413);
    expect(extra.flatMap((s) => checkHeaders(s, false))).toEqual([]);
    // Static files and the jsapi bundle may be cached; pages never.
    expect(extra[0]?.headers.get('cache-control')).toMatch(/max-age/);
  });

  it('sets every cookie as a __Host- cookie (sign-in, sign-up, sign-out of each area)', async () => {
    const ctx = wallet.ctx;
    const password = 'a long enough password';
    await signUpMerchant(ctx, { name: 'Cookie Shop', email: 'cookie@headers.example', password });
    await createOperator(ctx, { email: 'cookie-ops@headers.example', password });
    const user = await addUser(ctx, { USD: 100n });
    const out: Seen[] = [];
    const flows = [
      {
        page: '/app',
        action: '/login',
        fields: { phone: user.phone, pin: user.pin, next: '/app' },
        out: '/logout',
      },
      {
        page: '/console/sign-in',
        action: '/console/sign-in',
        fields: { email: 'cookie@headers.example', password },
        out: '/console/sign-out',
      },
      {
        page: '/ops/sign-in',
        action: '/ops/sign-in',
        fields: { email: 'cookie-ops@headers.example', password },
        out: '/ops/sign-out',
      },
      {
        page: '/console/sign-up',
        action: '/console/sign-up',
        fields: { name: 'New Shop', email: 'new@headers.example', password },
        out: '/console/sign-out',
      },
    ];
    for (const f of flows) {
      const first = await fetch(wallet.url + f.page, { redirect: 'manual' });
      const csrfCookie = cookieOf(first);
      out.push({
        what: `GET ${f.page}`,
        status: first.status,
        headers: first.headers,
        cookies: first.headers.getSetCookie(),
      });
      const csrf = tokenOf(await first.text());
      const signIn = await fetch(wallet.url + f.action, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookie },
        body: new URLSearchParams({ ...f.fields, _csrf: csrf }).toString(),
      });
      expect(signIn.status, f.action).toBe(303);
      const session = cookieOf(signIn);
      expect(session, f.action).toMatch(/^__Host-/);
      out.push({
        what: `POST ${f.action}`,
        status: signIn.status,
        headers: signIn.headers,
        cookies: signIn.headers.getSetCookie(),
      });
      // Signing out clears the cookie with the same attributes.
      const signedIn = await fetch(
        wallet.url + (f.page === '/app' ? '/app' : (f.page.split('/sign')[0] ?? '/')),
        { headers: { cookie: session } },
      );
      const token = tokenOf(await signedIn.text());
      const signOut = await fetch(wallet.url + f.out, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: session },
        body: new URLSearchParams({ _csrf: token }).toString(),
      });
      out.push({
        what: `POST ${f.out}`,
        status: signOut.status,
        headers: signOut.headers,
        cookies: signOut.headers.getSetCookie(),
      });
    }
    expect(out.flatMap((s) => s.cookies).length).toBeGreaterThanOrEqual(2 * flows.length);
    expect(out.flatMap((s) => checkHeaders(s, false))).toEqual([]);
  });
});

describe('security headers over https (a public URL with https)', () => {
  let env: BackendEnv;
  let wallet: RunningWallet;
  beforeAll(async () => {
    env = await BACKENDS[0]!.create();
    wallet = await startWallet({
      dataDir: env.dataDir,
      port: 0,
      logLevel: 'silent',
      workers: false,
      publicUrl: 'https://wallet.billetera.test',
      rateLimits: { signIn: { perSecond: 0.001, burst: 1 }, openApiIp: { perSecond: 0.001, burst: 1 } },
    });
  });
  afterAll(async () => {
    await wallet?.close();
    await env?.cleanup();
  });

  it('adds HSTS to every response and upgrade-insecure-requests to pages, rate-limit refusals included', async () => {
    const get = (path: string) => fetchSeen(wallet.url, { method: 'GET', path });
    const form = { body: 'phone=1&pin=2', type: 'application/x-www-form-urlencoded' };
    const responses = [
      await get('/app'),
      await get('/console/sign-in'),
      await get('/health'),
      await get('/static/billetera.css'),
      await get('/no-such-page'),
      await get('/api/open/keys'),
      await fetchSeen(wallet.url, { method: 'POST', path: '/login' }, form),
      await fetchSeen(wallet.url, { method: 'POST', path: '/login', label: 'limited' }, form),
      await fetchSeen(wallet.url, { method: 'POST', path: '/api/open/v1/payments/pay' }, { body: '{}' }),
      await fetchSeen(
        wallet.url,
        { method: 'POST', path: '/api/open/v1/payments/pay', label: 'limited' },
        { body: '{}' },
      ),
    ];
    expect(responses.map((r) => r.status)).toContain(429);
    expect(responses.flatMap((s) => checkHeaders(s, true))).toEqual([]);
  });
});
