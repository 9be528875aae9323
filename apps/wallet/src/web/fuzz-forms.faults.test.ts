/**
 * Hostile input against every HTML form of the wallet (issue 8, item 5): the cashier, the host app's
 * sign-in and authorizations, the console (sign-up, sign-in, licence, keys, notifications, mini programs
 * and their uploads), ops (sign-in, merchant decisions, reviews). The routes are not listed by hand: an
 * onRoute hook collects every POST route (and every GET page) the server registers, so a form added later
 * is fuzzed without touching this file.
 *
 * Requests carry valid sessions and CSRF tokens (so the handlers are reached) and hostile bodies:
 * urlencoded fields with script, SQL and unicode payloads, NUL, duplicates, odd names, broken
 * percent-encoding, bodies over the limit, JSON and multipart where a form is expected, multipart with
 * hostile files and file names. The property, for every request: an answer within the timeout, never a
 * 5xx, a 4xx with a message, no payload reflected as markup, and the database unchanged unless the form
 * succeeded (a 303 redirect) — a refusal changes nothing.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { dbSnapshot, diffSnapshots, type DbSnapshot } from '../../../../test/db-snapshot.ts';
import {
  SQL_PAYLOADS,
  UNICODE_TRICKS,
  XSS_PAYLOADS,
  deepJson,
  hostileKey,
  hostileString,
  plainText,
  rawJson,
  wellFormed,
} from '../../../../test/fuzz-arbitraries.ts';
import { LONG, scale, timeoutMs } from '../../../../test/long.ts';
import { specCall } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser } from '../../../../test/wallet-harness.ts';
import type { WalletContext } from '../context.ts';
import { buildServer } from '../http/server.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import { createWorkspaceMiniProgram, uploadVersion } from '../services/workspace.ts';
import { openWallet } from '../wallet.ts';
import { CSRF_COOKIE } from './session.ts';
import {
  consoleSession,
  opsSession,
  pngLogo,
  testMiniProgramZip,
  walletSession,
} from './workspace.fixtures.ts';

const REQUEST_TIMEOUT_MS = 10_000;
/** The form body limit of register-web.ts, passed by a margin. */
const OVER_FORM_LIMIT = 9 * 1024;
const SEED = process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : undefined;

/** Every field name a wallet form uses (read from the *-routes.ts handlers), to aim the payloads. */
const FORM_FIELDS = [
  'pin',
  'phone',
  'next',
  'name',
  'email',
  'password',
  'legalName',
  'licenceNumber',
  'country',
  'address',
  'websiteUrl',
  'contactName',
  'contactEmail',
  'contactPhone',
  'reason',
  'override',
  'decision',
  'publicKeyPem',
  'force',
  'back',
  'status',
  'description',
  'serverOrigins',
  'note',
  'appId',
  'scopes',
  'consent',
] as const;

/** Website URLs that must never be fetched (private, loopback, metadata) or are not http(s) at all. */
const HOSTILE_URLS = [
  'http://127.0.0.1:1/',
  'http://localhost./',
  'http://[::1]/',
  'http://169.254.169.254/latest/meta-data/',
  'http://0x7f000001/',
  'http://10.0.0.1/',
  'file:///etc/passwd',
  'javascript:window.__xss=1',
  'data:text/html,<script>window.__xss=1</script>',
  'gopher://127.0.0.1:25/',
  `http://${'a'.repeat(300)}.test/`,
];

const BROKEN_BODIES = [
  '%',
  '%zz=1',
  'a=%E0%A4%A',
  'pin=%00%00',
  '&&&===&',
  'a[]=1&a[]=2&a[b]=3',
  '__proto__[admin]=1&constructor[prototype][admin]=1',
  ';;;',
  '=',
  '_csrf',
  'x'.repeat(100),
];

type BodyKind =
  | { kind: 'form'; pairs: [string, string][]; csrf: 'valid' | 'missing' | 'wrong' | 'twice' }
  | { kind: 'raw'; text: string }
  | { kind: 'json'; fields: Record<string, unknown> }
  | { kind: 'multipart'; fields: [string, string][]; file?: { field: string; name: string; data: Buffer } }
  | { kind: 'huge' }
  | { kind: 'content-type'; type: string };

const valueArb = fc.oneof(
  { weight: 5, arbitrary: hostileString() },
  { weight: 2, arbitrary: plainText() },
  { weight: 1, arbitrary: fc.constantFrom(...HOSTILE_URLS) },
);
const nameArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...FORM_FIELDS) },
  { weight: 1, arbitrary: hostileKey() },
);
const pairsArb = fc.array(fc.tuple(nameArb, valueArb), { minLength: 0, maxLength: 8 });

const fileArb = fc.record({
  field: fc.constantFrom('logo', 'zip', 'file', '_csrf'),
  name: fc.oneof(
    fc.constantFrom('../../etc/passwd', 'a\u0000.png', 'x.zip', '<img src=x onerror=1>.png', ''),
    hostileString(),
  ),
  data: fc.oneof(
    fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)),
    fc.constant(pngLogo(8)),
    fc.constant(Buffer.from('PK\u0003\u0004 not really a zip')),
    fc.constant(testMiniProgramZip({ title: '<script>window.__xss=1</script>', orderUrl: 'javascript:1' })),
  ),
});

const bodyArb: fc.Arbitrary<BodyKind> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(
        pairsArb,
        fc.constantFrom<'valid' | 'missing' | 'wrong' | 'twice'>(
          'valid',
          'valid',
          'valid',
          'missing',
          'wrong',
          'twice',
        ),
      )
      .map(([pairs, csrf]): BodyKind => ({ kind: 'form', pairs, csrf })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(...BROKEN_BODIES).map((text): BodyKind => ({ kind: 'raw', text })),
  },
  {
    weight: 2,
    arbitrary: fc
      .dictionary(
        nameArb,
        fc.oneof(
          valueArb,
          fc.constantFrom<unknown>(null, 1, true, [], {}, ['a', 'b'], deepJson(5_000, 'array')),
        ),
        {
          maxKeys: 6,
        },
      )
      .map((fields): BodyKind => ({ kind: 'json', fields })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(pairsArb, fc.option(fileArb, { nil: undefined }))
      .map(([fields, file]): BodyKind => ({ kind: 'multipart', fields, ...(file ? { file } : {}) })),
  },
  { weight: 1, arbitrary: fc.constant<BodyKind>({ kind: 'huge' }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        'text/plain',
        'application/xml',
        'multipart/form-data',
        'multipart/form-data; boundary=',
        'application/x-www-form-urlencoded; charset=utf-16',
        '*/*',
      )
      .map((type): BodyKind => ({ kind: 'content-type', type })),
  },
);

interface Route {
  method: string;
  url: string;
}

interface Who {
  cookie: string;
  csrf: string;
}

interface Answer {
  status: number;
  type: string;
  text: string;
}

function multipartBody(
  fields: [string, string][],
  file: { field: string; name: string; data: Buffer } | undefined,
) {
  const boundary = `----fuzz${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  const quote = (s: string) => s.replace(/["\r\n]/g, '_');
  for (const [name, value] of fields)
    chunks.push(
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`,
      ),
    );
  if (file)
    chunks.push(
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="${quote(file.field)}"; filename="${quote(file.name)}"\r\ncontent-type: application/octet-stream\r\n\r\n`,
      ),
      file.data,
      Buffer.from('\r\n'),
    );
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

/** Payloads that must never come back as markup: every one with a character escaping would change. */
const MARKUP_PAYLOADS = XSS_PAYLOADS.filter((p) => /[<>"']/.test(p));

/**
 * Refusals that write by design: a wrong PIN is counted on the user (5 in a row lock payments), at the
 * cashier and at sign-in. Only that table may change.
 */
const COUNTED_ON_REFUSAL: [RegExp, string[]][] = [
  [/^\/cashier\/[^/]+\/confirm$/, ['users']],
  [/^\/login$/, ['users']],
];

const isSignOutUrl = (url: string) => /sign-out$|^\/logout$/.test(url);

for (const backend of BACKENDS) {
  const onSqlite = backend.name === 'sqlite';
  const postRuns = onSqlite ? scale(80, 3_000) : scale(15, 300);
  const getRuns = onSqlite ? scale(40, 1_000) : scale(10, 150);

  describe(`fuzz the forms on ${backend.name}`, () => {
    let env: BackendEnv;
    let ctx: WalletContext;
    let app: FastifyInstance;
    let base: string;
    const routes: Route[] = [];
    let params: Record<string, string[]>;
    let sessions: Record<'shop' | 'applicant' | 'ops' | 'user' | 'anonymous', Who>;
    let snapshot: DbSnapshot;
    const stats = { requests: 0, writes: 0, statuses: new Map<number, number>() };

    /** The session (and its CSRF token) a route's handler needs to be reached. */
    function whoFor(url: string): Who {
      // Sign-outs get no session: they would end the fuzzer's own.
      if (isSignOutUrl(url)) return sessions.anonymous;
      if (/^\/(login|console\/sign-(up|in)|ops\/sign-in)$/.test(url)) return sessions.anonymous;
      if (url.startsWith('/console/licence')) return sessions.applicant;
      if (url.startsWith('/console')) return sessions.shop;
      if (url.startsWith('/ops')) return sessions.ops;
      return sessions.user;
    }

    /** A concrete path for a route: each `:param` a known good value, or now and then a hostile one. */
    const pathArb = (route: Route): fc.Arbitrary<string> => {
      const names = [...route.url.matchAll(/:(\w+)/g)].map((m) => m[1] ?? '');
      if (names.length === 0) return fc.constant(route.url);
      return fc
        .tuple(
          ...names.map((n) =>
            fc.oneof(
              { weight: 4, arbitrary: fc.constantFrom(...(params[n] ?? ['x'])) },
              { weight: 1, arbitrary: hostileString() },
            ),
          ),
        )
        .map((values) => {
          let i = 0;
          return route.url.replace(
            /:(\w+)/g,
            () => encodeURIComponent(wellFormed(values[i++] ?? '')).slice(0, 2000) || 'x',
          );
        });
    };

    async function send(method: string, path: string, who: Who, body?: BodyKind): Promise<Answer> {
      const headers: Record<string, string> = { cookie: who.cookie };
      let payload: string | Buffer | undefined;
      if (body) {
        switch (body.kind) {
          case 'form': {
            const form = new URLSearchParams();
            if (body.csrf === 'valid' || body.csrf === 'twice') form.append('_csrf', who.csrf);
            if (body.csrf === 'twice') form.append('_csrf', who.csrf);
            if (body.csrf === 'wrong') form.append('_csrf', `${who.csrf}x`);
            for (const [k, v] of body.pairs) form.append(k, v);
            headers['content-type'] = 'application/x-www-form-urlencoded';
            payload = form.toString();
            break;
          }
          case 'raw':
            headers['content-type'] = 'application/x-www-form-urlencoded';
            payload = `_csrf=${encodeURIComponent(who.csrf)}&${body.text}`;
            break;
          case 'json':
            headers['content-type'] = 'application/json';
            headers['x-csrf-token'] = who.csrf;
            payload = rawJson({ _csrf: who.csrf, ...body.fields });
            break;
          case 'multipart': {
            const m = multipartBody([['_csrf', who.csrf], ...body.fields], body.file);
            headers['content-type'] = m.type;
            payload = m.body;
            break;
          }
          case 'huge':
            headers['content-type'] = 'application/x-www-form-urlencoded';
            payload = `_csrf=${encodeURIComponent(who.csrf)}&name=${'x'.repeat(OVER_FORM_LIMIT)}`;
            break;
          case 'content-type':
            headers['content-type'] = body.type;
            payload = `_csrf=${who.csrf}`;
            break;
        }
      }
      const res = await fetch(base + path, {
        method,
        headers,
        ...(payload === undefined ? {} : { body: payload }),
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const text = await res.text();
      return {
        status: res.status,
        type: res.headers.get('content-type') ?? '',
        text: text || (res.headers.get('location') ?? ''),
      };
    }

    /** The property's assertions for one answer. */
    async function expectAnswer(what: string, answer: Answer, path: string): Promise<void> {
      stats.requests++;
      stats.statuses.set(answer.status, (stats.statuses.get(answer.status) ?? 0) + 1);
      const where = `${what} -> ${answer.status} ${answer.text.slice(0, 300)}`;
      expect(answer.status, where).toBeLessThan(500);
      if (answer.status >= 400)
        expect(answer.text.trim().length, `4xx without a message: ${where}`).toBeGreaterThan(0);
      if (answer.type.includes('html'))
        for (const p of MARKUP_PAYLOADS)
          expect(answer.text.includes(p), `reflected as markup: ${p} in ${where}`).toBe(false);
      const after = await dbSnapshot(ctx.store);
      const succeeded =
        answer.status === 303 ||
        answer.status === 302 ||
        (answer.status === 200 && answer.text.includes('"authCode"'));
      const changed = diffSnapshots(snapshot, after).filter((line) => {
        const table = line.slice(0, line.indexOf(':'));
        return !(COUNTED_ON_REFUSAL.find(([route]) => route.test(path))?.[1] ?? []).includes(table);
      });
      if (succeeded) stats.writes++;
      else expect(changed, `database changed: ${where}`).toEqual([]);
      snapshot = after;
    }

    beforeAll(async () => {
      env = await backend.create();
      // Rate limits off: thousands of sign-in and PIN posts from one address are the point here (the
      // limits have their own suite, rate-limit.faults.test.ts).
      ctx = await openWallet({
        dataDir: env.dataDir,
        databaseUrl: env.databaseUrl,
        logLevel: 'silent',
        rateLimits: false,
      });
      app = buildServer(ctx);
      app.addHook('onRoute', (r) => {
        for (const method of [r.method].flat()) routes.push({ method, url: r.url });
      });
      base = await app.listen({ port: 0, host: '127.0.0.1' });
      ctx.publicUrl = base;

      const shop = await addMerchant(ctx, {
        name: 'Fuzz Forms Shop',
        notifyUrl: 'http://127.0.0.1:9/notify',
      });
      const applicant = await addMerchant(ctx, { name: 'Applicant', verified: false });
      const target = await addMerchant(ctx, { name: 'Ops Target', verified: false });
      const user = await addUser(ctx, { USD: 1_000_000n });
      const pay = async (value: string) => {
        const r = await specCall(
          base,
          '/api/open/v1/payments/pay',
          JSON.stringify({
            partnerId: shop.merchant.partnerId,
            paymentRequestId: `forms-${Math.random()}`,
            paymentOrderTitle: 'Seed',
            paymentAmount: { currency: 'USD', value },
          }),
          { clientId: shop.merchant.clientId, privateKey: shop.keys.privateKey },
        );
        return r.body['paymentId'] as string;
      };
      const open = await pay('100');
      const paid = await pay('200');
      expect((await confirmPayment(ctx, { paymentId: paid, phone: user.phone, pin: user.pin })).ok).toBe(
        true,
      );
      const mini = await createWorkspaceMiniProgram(ctx, shop.merchant, 'cli', {
        name: 'Fuzz App',
        description: 'fuzzed',
        serverOrigins: '',
        logo: undefined,
      });
      const version = await uploadVersion(
        ctx,
        shop.merchant,
        'cli',
        mini.appId,
        testMiniProgramZip({ title: 'Fuzz', orderUrl: 'http://127.0.0.1:9/order' }),
        'first',
      );
      const notification = await ctx.store.db
        .selectFrom('notifications')
        .select('id')
        .executeTakeFirstOrThrow();
      params = {
        paymentId: [open, paid],
        appId: [mini.appId],
        version: ['1', '2'],
        op: ['submit', 'publish', 'add', 'remove'],
        feature: ['PAYMENT', 'USER_INFO'],
        id: [target.merchant.id, version.id],
        grantId: ['grant_none'],
        notificationId: [notification.id],
      };
      const anonymousCsrf = 'anonymous-csrf-token-of-the-fuzzer-0123456789';
      const console1 = await consoleSession(ctx, shop.merchant.id);
      const console2 = await consoleSession(ctx, applicant.merchant.id);
      const ops = await opsSession(ctx);
      const wallet = await walletSession(ctx, user.id);
      const who = (t: { header: string; csrf: string }): Who => ({ cookie: t.header, csrf: t.csrf });
      sessions = {
        shop: who(console1),
        applicant: who(console2),
        ops: who(ops),
        user: who(wallet),
        anonymous: { cookie: `${CSRF_COOKIE}=${anonymousCsrf}`, csrf: anonymousCsrf },
      };
      snapshot = await dbSnapshot(ctx.store);
    });

    beforeEach(async () => {
      // A failed test leaves its change behind: each test starts from the database as it is.
      if (ctx) snapshot = await dbSnapshot(ctx.store);
    });

    afterAll(async () => {
      if (stats.requests > 0) {
        console.log(
          `faults: fuzz forms ${backend.name}: ${stats.requests.toLocaleString('en-US')} requests over ${postRoutes().length} form routes and ${getRoutes().length} pages, 0 errors, ${stats.writes} accepted`,
        );
        if (LONG)
          console.log(
            `faults: fuzz forms ${backend.name} statuses: ${[...stats.statuses.entries()]
              .sort((a, b) => a[0] - b[0])
              .map(([s, n]) => `${s} ${n}`)
              .join(', ')}`,
          );
      }
      await app?.close();
      await ctx?.store.close();
      await env?.cleanup();
    });

    const isOurs = (r: Route) =>
      !r.url.startsWith('/api/open') && !r.url.startsWith('/static') && r.url !== '*';
    const postRoutes = () => routes.filter((r) => r.method === 'POST' && isOurs(r));
    const getRoutes = () =>
      routes.filter(
        (r) => r.method === 'GET' && isOurs(r) && !r.url.startsWith('/mp/') && !r.url.includes('*'),
      );

    it('finds every form route the server registers', () => {
      const urls = postRoutes().map((r) => r.url);
      for (const known of [
        '/cashier/:paymentId/confirm',
        '/login',
        '/console/sign-up',
        '/console/licence',
        '/console/apps',
        '/console/apps/:appId/versions',
        '/console/credentials/keys',
        '/ops/merchants/:id/reject',
        '/ops/reviews/versions/:id',
        '/app/api/auth-codes',
      ])
        expect(urls).toContain(known);
    });

    it(
      'answers every form route, with each kind of hostile body, without a fault',
      async () => {
        const kinds: BodyKind[] = [
          { kind: 'form', pairs: FORM_FIELDS.map((f) => [f, 'nul\u0000byte']), csrf: 'valid' },
          {
            kind: 'form',
            pairs: FORM_FIELDS.map((f, i) => [f, XSS_PAYLOADS[i % XSS_PAYLOADS.length] ?? '']),
            csrf: 'valid',
          },
          {
            kind: 'form',
            pairs: FORM_FIELDS.map((f, i) => [f, SQL_PAYLOADS[i % SQL_PAYLOADS.length] ?? '']),
            csrf: 'valid',
          },
          ...(LONG
            ? UNICODE_TRICKS.map((u): BodyKind => ({
                kind: 'form',
                pairs: FORM_FIELDS.map((f) => [f, u]),
                csrf: 'valid',
              }))
            : []),
          { kind: 'raw', text: 'a=%E0%A4%A&pin=%00' },
          { kind: 'json', fields: { pin: ['1', '2'], name: { $ne: 1 }, deep: deepJson(5_000, 'array') } },
          { kind: 'multipart', fields: [['name', '<script>window.__xss=1</script>']] },
          { kind: 'huge' },
          { kind: 'content-type', type: 'text/plain' },
        ];
        // PostgreSQL gets the kinds that differ by database (NUL, sizes); SQLite all of them.
        const forBackend =
          onSqlite || LONG ? kinds : kinds.filter((_, i) => i === 0 || kinds[i]?.kind === 'huge');
        for (const route of postRoutes()) {
          const path = fc.sample(pathArb(route), { numRuns: 1, seed: 1 })[0] ?? route.url;
          const who = whoFor(route.url);
          for (const body of forBackend)
            await expectAnswer(`POST ${path} (${body.kind})`, await send('POST', path, who, body), path);
        }
      },
      timeoutMs(60_000, 600_000),
    );

    it(
      'holds for random hostile bodies on random form routes (fast-check)',
      async () => {
        const routeArb = fc.constantFrom(...postRoutes());
        const caseArb = routeArb.chain((route) => fc.tuple(fc.constant(route), pathArb(route), bodyArb));
        await fc.assert(
          fc.asyncProperty(caseArb, async ([route, path, body]) => {
            const what = `POST ${path} ${JSON.stringify(body).slice(0, 200)}`;
            await expectAnswer(what, await send('POST', path, whoFor(route.url), body), path);
          }),
          { numRuns: postRuns, ...(SEED === undefined ? {} : { seed: SEED }) },
        );
      },
      timeoutMs(60_000, 1_800_000),
    );

    it(
      'answers every page with hostile path parameters and query strings without a fault or a change',
      async () => {
        const routeArb = fc.constantFrom(...getRoutes());
        const query = fc.array(
          fc.tuple(
            fc.constantFrom(
              'q',
              'status',
              'next',
              'done',
              'v',
              'from',
              'to',
              'page',
              'embed',
              'revoked',
              'added',
              'pay',
              'problem',
              'n',
            ),
            valueArb,
          ),
          {
            maxLength: 4,
          },
        );
        await fc.assert(
          fc.asyncProperty(
            routeArb.chain((r) => fc.tuple(fc.constant(r), pathArb(r), query)),
            async ([route, path, q]) => {
              const search = new URLSearchParams(q).toString();
              const url = search ? `${path}?${search}` : path;
              const answer = await send('GET', url, whoFor(route.url));
              await expectAnswer(`GET ${url}`, answer, path);
            },
          ),
          { numRuns: getRuns, ...(SEED === undefined ? {} : { seed: SEED }) },
        );
      },
      timeoutMs(60_000, 1_800_000),
    );

    it('still serves the pages after the fuzzing', async () => {
      const health = await fetch(`${base}/health`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      expect(health.status).toBe(200);
      const home = await send('GET', '/console', sessions.shop);
      expect(home.status, home.text.slice(0, 500)).toBe(200);
    });
  });
}
