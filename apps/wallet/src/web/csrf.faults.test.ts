/**
 * Issue 8, security: CSRF on EVERY state-changing route of the web app. The POST routes are read from the
 * running Fastify server (everything outside the signed /api/open), so a new form fails this test until it
 * has a case here. Each case prepares a target that a valid submission really changes, then submits it
 * three ways that a forged cross-site request could: without a token, with another live session's token,
 * and with a stale token (the same account's session that was signed out; for the signed-out forms, a
 * token without its double-submit cookie). All three are refused and the whole database stays byte for
 * byte the same; then the same submission with the right token changes it (the control).
 */
import { createHash, randomBytes } from 'node:crypto';
import { insertMerchantAccount, insertOperator, type Merchant } from '@billetera/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { LONG, scale } from '../../../../test/long.ts';
import { specCall } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet } from '../../../../test/wallet-harness.ts';
import type { WalletContext } from '../context.ts';
import { issueAuthCode } from '../services/authorization.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import { createMiniProgram } from '../services/mini-programs.ts';
import { freezeMerchant, submitLicenceAndCheck } from '../services/onboarding.ts';
import { createOperator, signUpMerchant } from '../services/staff-accounts.ts';
import {
  addMiniProgramFeature,
  createWorkspaceMiniProgram,
  submitVersion,
  uploadVersion,
} from '../services/workspace.ts';
import type { RunningWallet } from '../wallet.ts';
import { CSRF_COOKIE, SESSION_COOKIE } from './session.ts';
import { STAFF_COOKIES } from './staff-session.ts';
import { pngLogo, testMiniProgramZip } from './workspace.fixtures.ts';

const hash = (v: string) => createHash('sha256').update(v).digest('base64url');
const token = () => randomBytes(32).toString('base64url');

type Who = 'USER' | 'MERCHANT' | 'OPERATOR' | 'ANON';
type Variant = 'none' | 'other' | 'stale' | 'valid';
type Fields = Record<string, string | Blob>;

/** One prepared submission: where, how it is encoded, and what it carries besides the token. */
interface Prepared {
  url: string;
  encoding: 'form' | 'multipart' | 'json';
  fields: Fields;
}

interface Case {
  who: Who;
  /** What happens to a refused submission: the page says so (403), or it goes back (sign-outs: 303). */
  refused: number;
  /** `subject` is the user, merchant account or operator id the signed-in session belongs to. */
  prepare(subject: string): Promise<Prepared>;
  /** A subject other than the default one (the verified shop's account, a fresh user, the operator). */
  subject?: () => Promise<string>;
}

/** Every table, every row, as one string. */
async function snapshot(wallet: RunningWallet): Promise<string> {
  const db = wallet.ctx.store.db;
  const tables = (await db.introspection.getTables()).map((t) => t.name).sort();
  const out: Record<string, string[]> = {};
  for (const table of tables) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- every table, whatever its columns
    const rows = (await (db as any).selectFrom(table).selectAll().execute()) as unknown[];
    out[table] = rows
      .map((r) =>
        JSON.stringify(r, (_k, v: unknown) =>
          typeof v === 'bigint'
            ? `${v}n`
            : v instanceof Uint8Array
              ? hash(Buffer.from(v).toString('base64'))
              : v,
        ),
      )
      .sort();
  }
  return JSON.stringify(out);
}

/** The POST routes of the running server, as registered (`/cashier/:paymentId/confirm`), from its route tree. */
function postRoutes(tree: string): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+) \(([^)]*)\)/.exec(line);
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    stack.length = depth;
    const full = (stack[depth - 1] ?? '') + (m[2] ?? '');
    stack[depth] = full;
    if ((m[3] ?? '').split(', ').includes('POST')) routes.push(full);
  }
  return routes;
}

/** A session of this kind for this subject, made as the sign-in would (only the hash is stored). */
async function sessionFor(
  ctx: WalletContext,
  who: Exclude<Who, 'ANON'>,
  subject: string,
): Promise<{ cookie: string; csrf: string; end(): Promise<void> }> {
  const value = token();
  const csrf = token();
  const now = ctx.clock.now();
  if (who === 'USER') {
    await ctx.store.db
      .insertInto('sessions')
      .values({
        id_hash: hash(value),
        user_id: subject,
        csrf_token: csrf,
        created_at: BigInt(now),
        expires_at: BigInt(now + 3600_000),
      })
      .execute();
    return {
      cookie: `${SESSION_COOKIE}=${value}`,
      csrf,
      end: async () =>
        void (await ctx.store.db.deleteFrom('sessions').where('id_hash', '=', hash(value)).execute()),
    };
  }
  await ctx.store.db
    .insertInto('staff_sessions')
    .values({
      id_hash: hash(value),
      kind: who,
      subject_id: subject,
      csrf_token: csrf,
      created_at: BigInt(now),
      expires_at: BigInt(now + 3600_000),
    })
    .execute();
  return {
    cookie: `${STAFF_COOKIES[who]}=${value}`,
    csrf,
    end: async () =>
      void (await ctx.store.db.deleteFrom('staff_sessions').where('id_hash', '=', hash(value)).execute()),
  };
}

function encode(
  p: Prepared,
  csrf: string | undefined,
): {
  body: string | FormData | URLSearchParams;
  headers: Record<string, string>;
} {
  if (p.encoding === 'json')
    return {
      body: JSON.stringify(p.fields),
      headers: {
        'content-type': 'application/json',
        ...(csrf === undefined ? {} : { 'x-csrf-token': csrf }),
      },
    };
  if (p.encoding === 'multipart') {
    const form = new FormData();
    if (csrf !== undefined) form.append('_csrf', csrf);
    for (const [k, v] of Object.entries(p.fields))
      form.append(k, v, ...(v instanceof Blob ? ['upload.bin'] : []));
    return { body: form, headers: {} };
  }
  const form = new URLSearchParams();
  if (csrf !== undefined) form.set('_csrf', csrf);
  for (const [k, v] of Object.entries(p.fields)) if (typeof v === 'string') form.set(k, v);
  return { body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
}

for (const backend of scale([BACKENDS[0]!], BACKENDS)) {
  describe(`CSRF on every form on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let ctx: WalletContext;
    let shop: Merchant;
    let operatorId: string;
    let shopAccount: string;
    let n = 0;
    const uid = (p: string) => `${p}${process.pid}x${++n}`;
    const site = 'http://127.0.0.1:9/shop'; // a loopback website: the check fails at once (CHECK_FAILED)
    const licence = {
      legalName: 'Forged Form S.A.',
      licenceNumber: 'RFC-FFS-123456',
      country: 'MX',
      address: 'Calle Falsa 123',
      websiteUrl: site,
      contactName: 'Ana Pérez',
      contactEmail: 'ana@forms.example',
      contactPhone: '',
    };

    async function accountOf(merchantId: string): Promise<string> {
      const id = `macc_${token().slice(0, 16)}`;
      await insertMerchantAccount(ctx.store.db, {
        id,
        merchantId,
        email: `${id}@csrf.test`,
        passwordHash: 'unused',
        createdAt: ctx.clock.now(),
      });
      return id;
    }
    async function checkFailedMerchant(): Promise<string> {
      const m = (await addMerchant(ctx, { verified: false, name: uid('Unchecked ') })).merchant;
      await submitLicenceAndCheck(ctx, m.id, 'cli', licence);
      const row = await ctx.store.db
        .selectFrom('merchants')
        .select('status')
        .where('id', '=', m.id)
        .executeTakeFirstOrThrow();
      expect(row.status).toBe('CHECK_FAILED');
      return m.id;
    }
    async function app(merchant: Merchant = shop): Promise<string> {
      return (
        await createWorkspaceMiniProgram(ctx, merchant, 'cli', {
          name: uid('App '),
          description: '',
          serverOrigins: '',
        })
      ).appId;
    }
    const zip = () => testMiniProgramZip({ title: 'Forms', orderUrl: 'http://127.0.0.1:9/order' });
    async function payment(notifyUrl?: string): Promise<string> {
      const m = await addMerchant(ctx, { name: uid('Payee '), ...(notifyUrl ? { notifyUrl } : {}) });
      const reply = await specCall(
        wallet.url,
        '/api/open/v1/payments/pay',
        JSON.stringify({
          partnerId: m.merchant.partnerId,
          paymentRequestId: uid('csrf-'),
          paymentOrderTitle: 'Forms',
          paymentAmount: { currency: 'USD', value: '100' },
        }),
        { clientId: m.merchant.clientId, privateKey: m.keys.privateKey },
      );
      return reply.body['paymentId'] as string;
    }

    /** The subject a case's session belongs to: created per case, so controls never disturb each other. */
    async function subjectFor(who: Who): Promise<string> {
      switch (who) {
        case 'USER':
          return (await addUser(ctx, { USD: 10_000n }, '246810')).id;
        case 'MERCHANT':
          return shopAccount;
        case 'OPERATOR':
          return operatorId;
        case 'ANON':
          return '';
      }
    }

    const CASES: Record<string, Case> = {
      '/login': {
        who: 'ANON',
        refused: 403,
        prepare: async () => {
          const u = await addUser(ctx, {}, '135790');
          return { url: '/login', encoding: 'form', fields: { phone: u.phone, pin: '135790', next: '/app' } };
        },
      },
      '/logout': {
        who: 'USER',
        refused: 303,
        prepare: async () => ({ url: '/logout', encoding: 'form', fields: {} }),
      },
      '/cashier/:paymentId/confirm': {
        who: 'USER',
        refused: 403,
        prepare: async () => ({
          url: `/cashier/${await payment()}/confirm`,
          encoding: 'form',
          fields: { pin: '246810' },
        }),
      },
      '/app/api/auth-codes': {
        who: 'USER',
        refused: 403,
        prepare: async () => {
          const mini = await createMiniProgram(ctx, {
            clientId: shop.clientId,
            name: uid('Greeter '),
            entryUrl: 'http://127.0.0.1:9/mini/',
            features: ['USER_INFO'],
          });
          return {
            url: '/app/api/auth-codes',
            encoding: 'json',
            fields: { appId: mini.appId, scopes: ['auth_base'], consent: false } as never,
          };
        },
      },
      '/app/authorizations/:grantId/revoke': {
        who: 'USER',
        refused: 403,
        prepare: async (userId) => {
          await issueAuthCode(ctx, { userId, merchantId: shop.id, scopes: ['USER_ID'] });
          const grant = await ctx.store.db
            .selectFrom('user_grants')
            .select('id')
            .where('user_id', '=', userId)
            .executeTakeFirstOrThrow();
          return { url: `/app/authorizations/${grant.id}/revoke`, encoding: 'form', fields: {} };
        },
      },
      '/console/sign-up': {
        who: 'ANON',
        refused: 403,
        prepare: async () => ({
          url: '/console/sign-up',
          encoding: 'form',
          fields: {
            name: 'Forged Shop',
            email: `${uid('forged')}@csrf.test`,
            password: 'a long enough password',
          },
        }),
      },
      '/console/sign-in': {
        who: 'ANON',
        refused: 403,
        prepare: async () => {
          const email = `${uid('owner')}@csrf.test`;
          expect(
            (await signUpMerchant(ctx, { name: 'Signed Up', email, password: 'a long enough password' })).ok,
          ).toBe(true);
          return {
            url: '/console/sign-in',
            encoding: 'form',
            fields: { email, password: 'a long enough password' },
          };
        },
      },
      '/console/sign-out': {
        who: 'MERCHANT',
        refused: 303,
        prepare: async () => ({ url: '/console/sign-out', encoding: 'form', fields: {} }),
      },
      '/console/licence': {
        who: 'MERCHANT',
        refused: 403,
        // A merchant that has not submitted yet.
        subject: async () =>
          accountOf((await addMerchant(ctx, { verified: false, name: uid('Draft ') })).merchant.id),
        prepare: async () => ({ url: '/console/licence', encoding: 'form', fields: licence }),
      },
      '/console/credentials/keys': {
        who: 'MERCHANT',
        refused: 403,
        prepare: async () => {
          const { generateKeyPairSync } = await import('node:crypto');
          const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
            .publicKey.export({ type: 'spki', format: 'pem' })
            .toString();
          return { url: '/console/credentials/keys', encoding: 'form', fields: { publicKeyPem: pem } };
        },
      },
      '/console/credentials/keys/:version/retire': {
        who: 'MERCHANT',
        refused: 403,
        prepare: async () => {
          // The session's merchant (shop) has versions 1 and 2 from the keys case or this one.
          const { generateKeyPairSync } = await import('node:crypto');
          const { addPublicKey } = await import('../services/credentials.ts');
          const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
            .publicKey.export({ type: 'spki', format: 'pem' })
            .toString();
          const added = await addPublicKey(ctx, shop, { publicKeyPem: pem, actor: 'cli' });
          if (!added.ok) throw new Error(added.message);
          return {
            url: `/console/credentials/keys/${added.keyVersion}/retire`,
            encoding: 'form',
            fields: {},
          };
        },
      },
      '/console/notifications/:notificationId/redeliver': {
        who: 'MERCHANT',
        refused: 403,
        prepare: async () => {
          const paymentId = await specCall(
            wallet.url,
            '/api/open/v1/payments/pay',
            JSON.stringify({
              partnerId: shop.partnerId,
              paymentRequestId: uid('ntf-'),
              paymentOrderTitle: 'Notified',
              paymentAmount: { currency: 'USD', value: '100' },
            }),
            { clientId: shop.clientId, privateKey: shopKey },
          ).then((r) => r.body['paymentId'] as string);
          const payer = await addUser(ctx, { USD: 1_000n });
          expect((await confirmPayment(ctx, { paymentId, phone: payer.phone, pin: payer.pin })).ok).toBe(
            true,
          );
          const note = await ctx.store.db
            .updateTable('notifications')
            .set({ status: 'FAILED' })
            .where('payment_id', '=', paymentId)
            .returning('id')
            .executeTakeFirstOrThrow();
          return { url: `/console/notifications/${note.id}/redeliver`, encoding: 'form', fields: {} };
        },
      },
      '/console/apps': {
        who: 'MERCHANT',
        refused: 403,
        prepare: async () => ({
          url: '/console/apps',
          encoding: 'multipart',
          fields: {
            name: uid('Forged app '),
            description: 'x',
            logo: new Blob([pngLogo(16)], { type: 'image/png' }),
          },
        }),
      },
      '/console/apps/:appId/details': {
        who: 'MERCHANT',
        refused: 403,
        prepare: async () => ({
          url: `/console/apps/${await app()}/details`,
          encoding: 'multipart',
          fields: { description: 'Changed by a forged form', serverOrigins: '' },
        }),
      },
      '/console/apps/:appId/versions': {
        who: 'MERCHANT',
        refused: 403,
        prepare: async () => ({
          url: `/console/apps/${await app()}/versions`,
          encoding: 'multipart',
          fields: { note: 'forged', zip: new Blob([zip()], { type: 'application/zip' }) },
        }),
      },
      '/console/apps/:appId/versions/:version/:op': {
        who: 'MERCHANT',
        refused: 403,
        prepare: async () => {
          const appId = await app();
          const v = await uploadVersion(ctx, shop, 'cli', appId, zip());
          return { url: `/console/apps/${appId}/versions/${v.version}/submit`, encoding: 'form', fields: {} };
        },
      },
      '/console/apps/:appId/features/:feature/:op': {
        who: 'MERCHANT',
        refused: 403,
        prepare: async () => ({
          url: `/console/apps/${await app()}/features/USER_INFO/add`,
          encoding: 'form',
          fields: {},
        }),
      },
      '/ops/sign-in': {
        who: 'ANON',
        refused: 403,
        prepare: async () => {
          const email = `${uid('op')}@csrf.test`;
          expect((await createOperator(ctx, { email, password: 'operator password 1' })).ok).toBe(true);
          return {
            url: '/ops/sign-in',
            encoding: 'form',
            fields: { email, password: 'operator password 1' },
          };
        },
      },
      '/ops/sign-out': {
        who: 'OPERATOR',
        refused: 303,
        prepare: async () => ({ url: '/ops/sign-out', encoding: 'form', fields: {} }),
      },
      '/ops/merchants/:id/approve': {
        who: 'OPERATOR',
        refused: 403,
        prepare: async () => ({
          url: `/ops/merchants/${await checkFailedMerchant()}/approve`,
          encoding: 'form',
          fields: { override: '1' },
        }),
      },
      '/ops/merchants/:id/reject': {
        who: 'OPERATOR',
        refused: 403,
        prepare: async () => ({
          url: `/ops/merchants/${await checkFailedMerchant()}/reject`,
          encoding: 'form',
          fields: { reason: 'Forged rejection' },
        }),
      },
      '/ops/merchants/:id/freeze': {
        who: 'OPERATOR',
        refused: 403,
        prepare: async () => ({
          url: `/ops/merchants/${(await addMerchant(ctx, { name: uid('Freezable ') })).merchant.id}/freeze`,
          encoding: 'form',
          fields: { reason: 'Forged freeze' },
        }),
      },
      '/ops/merchants/:id/unfreeze': {
        who: 'OPERATOR',
        refused: 403,
        prepare: async () => {
          const m = (await addMerchant(ctx, { name: uid('Frozen ') })).merchant;
          expect((await freezeMerchant(ctx, { merchantId: m.id, actor: 'cli', reason: 'test' })).ok).toBe(
            true,
          );
          return { url: `/ops/merchants/${m.id}/unfreeze`, encoding: 'form', fields: {} };
        },
      },
      '/ops/reviews/versions/:id': {
        who: 'OPERATOR',
        refused: 403,
        prepare: async () => {
          const appId = await app();
          const v = await uploadVersion(ctx, shop, 'cli', appId, zip());
          await submitVersion(ctx, shop, 'cli', appId, v.version);
          return { url: `/ops/reviews/versions/${v.id}`, encoding: 'form', fields: { decision: 'APPROVE' } };
        },
      },
      '/ops/reviews/features/:appId/:feature': {
        who: 'OPERATOR',
        refused: 403,
        prepare: async () => {
          const appId = await app();
          await addMiniProgramFeature(ctx, shop, 'cli', appId, 'USER_INFO');
          return {
            url: `/ops/reviews/features/${appId}/USER_INFO`,
            encoding: 'form',
            fields: { decision: 'APPROVE' },
          };
        },
      },
    };

    let shopKey: Parameters<typeof specCall>[3]['privateKey'];

    beforeAll(async () => {
      env = await backend!.create();
      // Rate limits are rate-limit.faults.test.ts's: here every request must reach the check under test.
      wallet = await startTestWallet(env, { workers: false, rateLimits: false });
      ctx = wallet.ctx;
      const created = await addMerchant(ctx, { name: 'Forms Shop', notifyUrl: 'http://127.0.0.1:9/notify' });
      shop = created.merchant;
      shopKey = created.keys.privateKey;
      shopAccount = await accountOf(shop.id);
      operatorId = `op_${token().slice(0, 16)}`;
      await insertOperator(ctx.store.db, {
        id: operatorId,
        email: `${operatorId}@ops.test`,
        passwordHash: 'unused',
        createdAt: ctx.clock.now(),
      });
    });
    afterAll(async () => {
      await wallet?.close();
      await env?.cleanup();
    });

    it('has a case for every POST route outside the signed OpenAPI (new forms must add one)', () => {
      const routes = postRoutes(wallet.app.printRoutes({ commonPrefix: false, method: 'POST' })).filter(
        (r) => !r.startsWith('/api/open/'),
      );
      expect(routes.length).toBeGreaterThan(20);
      expect(routes.sort()).toEqual(Object.keys(CASES).sort());
    });

    it('refuses every form without its token, with another session’s and with a stale one, changing nothing', async () => {
      let refusals = 0;
      for (const [route, c] of Object.entries(CASES)) {
        const subject = c.subject ? await c.subject() : await subjectFor(c.who);
        const prepared = await c.prepare(subject);
        // The sessions: this subject's current one, another subject's, and this subject's ended one.
        let cookie = '';
        const tokens: Record<Variant, { csrf: string | undefined; cookie: string }> = {} as never;
        if (c.who === 'ANON') {
          const mine = token();
          const theirs = token();
          cookie = `${CSRF_COOKIE}=${mine}`;
          tokens.none = { csrf: undefined, cookie };
          tokens.other = { csrf: theirs, cookie };
          tokens.stale = { csrf: mine, cookie: '' };
          tokens.valid = { csrf: mine, cookie };
        } else {
          const old = await sessionFor(ctx, c.who, subject);
          await old.end();
          const current = await sessionFor(ctx, c.who, subject);
          const another = await sessionFor(
            ctx,
            c.who,
            c.who === 'MERCHANT'
              ? await accountOf((await addMerchant(ctx, { name: uid('Other ') })).merchant.id)
              : c.who === 'USER'
                ? (await addUser(ctx)).id
                : operatorId,
          );
          cookie = current.cookie;
          tokens.none = { csrf: undefined, cookie };
          tokens.other = { csrf: another.csrf, cookie };
          tokens.stale = { csrf: old.csrf, cookie };
          tokens.valid = { csrf: current.csrf, cookie };
        }
        const submit = (variant: Variant) => {
          const { body, headers } = encode(prepared, tokens[variant].csrf);
          return fetch(wallet.url + prepared.url, {
            method: 'POST',
            headers: { ...headers, ...(tokens[variant].cookie ? { cookie: tokens[variant].cookie } : {}) },
            body,
            redirect: 'manual',
          });
        };
        const before = await snapshot(wallet);
        for (const variant of ['none', 'other', 'stale'] as const) {
          const res = await submit(variant);
          expect(res.status, `${route} with ${variant} token`).toBe(c.refused);
          expect(
            res.headers.getSetCookie().filter((s) => /^__Host-billetera_(session|console|ops)=[^;]/.test(s)),
            `${route} with ${variant} token signs nobody in`,
          ).toEqual([]);
          expect(await snapshot(wallet), `${route} with ${variant} token`).toBe(before);
          refusals++;
        }
        const res = await submit('valid');
        expect(res.status, `${route} with its token: ${await res.clone().text()}`).toBeLessThan(400);
        expect(await snapshot(wallet), `${route} with its token changes something`).not.toBe(before);
      }
      if (LONG)
        console.log(
          `faults: csrf ${backend!.name}: ${refusals} forged submissions on ${Object.keys(CASES).length} routes refused, 0 written`,
        );
    }, 120_000);
  });
}
