/**
 * Issue 8, security: one merchant, one user and one mini program can never reach another's data, over real
 * HTTP on a SQLite file and a real PostgreSQL.
 *
 * - Merchant B, signing with its own valid key, aims EVERY operation of the catalogue (OPERATIONS: v1, v2
 *   and the other wallets' alias paths) at merchant A's payments, refunds, auth codes, tokens, partnerId
 *   and mini programs: every answer is a refusal identical to the one for an id that does not exist (no
 *   existence oracle), the database is unchanged, and A's codes and tokens still work afterwards. B reusing
 *   A's paymentRequestId gets an order of its own, never A's reply.
 * - A wallet user's session cannot pay, read or revoke what belongs to another user.
 * - A mini program cannot have the host open the cashier for another mini program's payment, even one of
 *   the same merchant (`/app/api/payments`, which host.js asks before opening the sheet, and `?pay=`).
 */
import { createHash } from 'node:crypto';
import { OPERATIONS, type OperationName, type OperationPath } from '@billetera/protocol';
import { findPaymentById } from '@billetera/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { LONG } from '../../../../test/long.ts';
import { specCall, specKeys, verifyReply, type SpecReply } from '../../../../test/spec-merchant.ts';
import { addMerchant, addUser, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import { issueAuthCode } from '../services/authorization.ts';
import { confirmPayment } from '../services/confirm-payment.ts';
import { createMiniProgram } from '../services/mini-programs.ts';
import type { RunningWallet } from '../wallet.ts';
import { walletSession, type TestSession } from '../web/workspace.fixtures.ts';

const PATHS = Object.keys(OPERATIONS) as OperationPath[];
const P = {
  pay1: '/api/open/v1/payments/pay',
  inquiry1: '/api/open/v1/payments/inquiryPayment',
  cancel1: '/api/open/v1/payments/cancel',
  refund1: '/api/open/v1/payments/refund',
  apply1: '/api/open/v1/authorizations/applyToken',
  user1: '/api/open/v1/users/inquiryUserInfo',
} as const;

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
              ? createHash('sha256').update(v).digest('hex')
              : v,
        ),
      )
      .sort();
  }
  return JSON.stringify(out);
}

interface Tokens {
  accessToken: string;
  refreshToken: string;
  customerId: string;
}

/** A's things that B aims at. */
interface Targets {
  paidId: string;
  paidRequestId: string;
  unpaidId: string;
  unpaidRequestId: string;
  refundId: string;
  refundRequestId: string;
  authCode: string;
  tokens: Tokens;
  partnerId: string;
  appId: string;
}

/** Ids of the same shapes that exist nowhere: the answer for A's must be the same. */
const UNKNOWN: Targets = {
  paidId: 'pay_00000000000000000000000000',
  paidRequestId: 'no-such-request-1',
  unpaidId: 'pay_00000000000000000000000001',
  unpaidRequestId: 'no-such-request-2',
  refundId: 'rfd_00000000000000000000000000',
  refundRequestId: 'no-such-refund',
  authCode: 'A'.repeat(24),
  tokens: { accessToken: 'B'.repeat(40), refreshToken: 'C'.repeat(40), customerId: '0'.repeat(20) },
  partnerId: 'P000000000000000',
  appId: '3333010071465913',
};

/** `body` answers undefined where the attack means nothing (v2 bodies have no partnerId: it is ignored). */
type Attack = { what: string; body: (t: Targets, v1: boolean, b: TestMerchant) => object | undefined };

/** For each operation, what B sends aiming at A's things (v1 bodies also carry a partnerId). */
const ATTACKS: Record<OperationName, Attack[]> = {
  pay: [
    {
      what: "A's partnerId",
      body: (t, v1) => (v1 ? payBody(v1, t.partnerId, { paymentRequestId: 'iso-pay-partner' }) : undefined),
    },
    {
      what: "A's appId",
      body: (t, v1, b) =>
        payBody(v1, b.merchant.partnerId, { appId: t.appId, paymentRequestId: 'iso-pay-app' }),
    },
  ],
  inquiryPayment: [
    { what: "A's paymentId", body: (t) => ({ paymentId: t.paidId }) },
    { what: "A's paymentRequestId", body: (t) => ({ paymentRequestId: t.paidRequestId }) },
    {
      what: "A's partnerId",
      body: (t, v1) => (v1 ? { partnerId: t.partnerId, paymentId: t.paidId } : undefined),
    },
  ],
  cancel: [
    { what: "A's unpaid paymentId", body: (t) => ({ paymentId: t.unpaidId }) },
    { what: "A's unpaid paymentRequestId", body: (t) => ({ paymentRequestId: t.unpaidRequestId }) },
  ],
  refund: [
    {
      what: "A's paid paymentId",
      body: (t, v1, b) => ({
        ...(v1 ? { partnerId: b.merchant.partnerId } : {}),
        refundRequestId: 'iso-refund-1',
        paymentId: t.paidId,
        refundAmount: { currency: 'USD', value: '100' },
      }),
    },
    {
      what: "A's paid paymentRequestId",
      body: (t, v1, b) => ({
        ...(v1 ? { partnerId: b.merchant.partnerId } : {}),
        refundRequestId: 'iso-refund-2',
        paymentRequestId: t.paidRequestId,
        refundAmount: { currency: 'USD', value: '100' },
      }),
    },
  ],
  inquiryRefund: [
    { what: "A's refundId", body: (t) => ({ refundId: t.refundId }) },
    { what: "A's refundRequestId", body: (t) => ({ refundRequestId: t.refundRequestId }) },
  ],
  applyToken: [
    { what: "A's auth code", body: (t) => ({ grantType: 'AUTHORIZATION_CODE', authCode: t.authCode }) },
    {
      what: "A's refresh token",
      body: (t) => ({ grantType: 'REFRESH_TOKEN', refreshToken: t.tokens.refreshToken }),
    },
  ],
  cancelToken: [{ what: "A's access token", body: (t) => ({ accessToken: t.tokens.accessToken }) }],
  inquiryUserInfo: [{ what: "A's access token", body: (t) => ({ accessToken: t.tokens.accessToken }) }],
};

/** A reply with each of A's ids it echoes put back as the unknown one of the same kind. */
function echoed(raw: string, t: Targets): string {
  let out = raw;
  for (const key of ['appId', 'partnerId', 'paidId', 'unpaidId', 'refundId'] as const)
    out = out.split(t[key]).join(UNKNOWN[key]);
  return out;
}

function payBody(v1: boolean, partnerId: string, over: Record<string, unknown>): object {
  return v1
    ? {
        partnerId,
        paymentOrderTitle: 'Isolation',
        paymentAmount: { currency: 'USD', value: '100' },
        ...over,
      }
    : { paymentAmount: { currency: 'USD', value: '100' }, order: { orderDescription: 'Isolation' }, ...over };
}

for (const backend of BACKENDS) {
  describe(`isolation between merchants, users and mini programs on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let a: TestMerchant;
    let b: TestMerchant;
    let t: Targets;
    let payer: { phone: string; pin: string; id: string };
    let appA2: string;
    let appB: string;
    let n = 0;

    const call = async (who: TestMerchant, path: string, body: object): Promise<SpecReply> => {
      const reply = await specCall(wallet.url, path, JSON.stringify(body), {
        clientId: who.merchant.clientId,
        privateKey: who.keys.privateKey,
      });
      expect(reply.status).toBe(200);
      expect(verifyReply(reply, path, wallet.ctx.secrets.walletPublicKeyPem)).toBe(true);
      return reply;
    };
    const pay = async (who: TestMerchant, over: Record<string, unknown> = {}) => {
      const reply = await call(who, P.pay1, {
        partnerId: who.merchant.partnerId,
        paymentRequestId: `iso-${process.pid}-${++n}`,
        paymentOrderTitle: `Order ${n} of ${who.merchant.name}`,
        paymentAmount: { currency: 'USD', value: '1000' },
        ...over,
      });
      expect(reply.body.result.resultCode).toBe('ACCEPT');
      return {
        id: reply.body['paymentId'] as string,
        requestId: JSON.parse(reply.raw).paymentRequestId as string,
      };
    };

    beforeAll(async () => {
      env = await backend.create();
      // Rate limits are rate-limit.faults.test.ts's: here every request must reach the check under test.
      wallet = await startTestWallet(env, { workers: false, rateLimits: false });
      a = await addMerchant(wallet.ctx, { name: 'Shop A' });
      b = await addMerchant(wallet.ctx, { name: 'Shop B', keys: specKeys(true) });
      const mini = (who: TestMerchant, name: string) =>
        createMiniProgram(wallet.ctx, {
          clientId: who.merchant.clientId,
          name,
          entryUrl: 'http://127.0.0.1:9/mini/',
          features: ['USER_INFO'],
        }).then((m) => m.appId);
      const appA = await mini(a, 'A one');
      appA2 = await mini(a, 'A two');
      appB = await mini(b, 'B one');
      payer = await addUser(wallet.ctx, { USD: 1_000_000n });
      const paid = await pay(a, { appId: appA });
      expect(
        await confirmPayment(wallet.ctx, { paymentId: paid.id, phone: payer.phone, pin: payer.pin }),
      ).toMatchObject({
        ok: true,
      });
      const unpaid = await pay(a, { appId: appA });
      const refund = await call(a, P.refund1, {
        partnerId: a.merchant.partnerId,
        refundRequestId: `iso-rf-${process.pid}`,
        paymentId: paid.id,
        refundAmount: { currency: 'USD', value: '300' },
      });
      expect(refund.body.result.resultCode).toBe('SUCCESS');
      const code = async () =>
        (
          await issueAuthCode(wallet.ctx, {
            userId: payer.id,
            merchantId: a.merchant.id,
            appId: appA,
            scopes: ['USER_NICKNAME'],
          })
        ).authCode;
      const redeemed = await call(a, P.apply1, { grantType: 'AUTHORIZATION_CODE', authCode: await code() });
      expect(redeemed.body.result.resultCode).toBe('SUCCESS');
      t = {
        paidId: paid.id,
        paidRequestId: paid.requestId,
        unpaidId: unpaid.id,
        unpaidRequestId: unpaid.requestId,
        refundId: refund.body['refundId'] as string,
        refundRequestId: `iso-rf-${process.pid}`,
        authCode: await code(),
        tokens: redeemed.body as unknown as Tokens,
        partnerId: a.merchant.partnerId,
        appId: appA,
      };
    });
    afterAll(async () => {
      await wallet?.close();
      await env?.cleanup();
    });

    it("refuses B on every operation aimed at A's things, exactly as for things that do not exist", async () => {
      const before = await snapshot(wallet);
      const covered = new Set<string>();
      let attacks = 0;
      for (const path of PATHS) {
        const spec = OPERATIONS[path];
        for (const attack of ATTACKS[spec.name]) {
          const v1 = spec.version === 'v1';
          const body = attack.body(t, v1, b);
          const unknown = attack.body(UNKNOWN, v1, b);
          if (!body || !unknown) continue;
          const aimed = await call(b, path, body);
          const control = await call(b, path, unknown);
          const label = `${path}: ${attack.what}`;
          expect(aimed.body.result.resultStatus, label).toBe('F');
          expect(
            [
              'ORDER_NOT_EXIST',
              'ACCESS_DENIED',
              'INVALID_CODE',
              'INVALID_REFRESH_TOKEN',
              'INVALID_ACCESS_TOKEN',
            ],
            label,
          ).toContain(aimed.body.result.resultCode);
          // Nothing in the reply tells A's ids from unknown ones (a message may echo the id it was given).
          expect(JSON.parse(echoed(aimed.raw, t)), label).toEqual(control.body);
          for (const secret of [t.paidId, t.unpaidId, t.refundId, t.tokens.customerId, t.paidRequestId])
            expect(aimed.raw, label).not.toContain(secret);
          covered.add(path);
          attacks++;
        }
      }
      expect([...covered].sort()).toEqual([...PATHS].sort());
      expect(await snapshot(wallet)).toBe(before);

      // A's things still work for A: nothing was consumed, cancelled or revoked by B's attempts.
      expect((await call(a, P.user1, { accessToken: t.tokens.accessToken })).body.result.resultCode).toBe(
        'SUCCESS',
      );
      const refreshed = await call(a, P.apply1, {
        grantType: 'REFRESH_TOKEN',
        refreshToken: t.tokens.refreshToken,
      });
      expect(refreshed.body.result.resultCode).toBe('SUCCESS');
      expect(refreshed.body['customerId']).toBe(t.tokens.customerId);
      const redeemed = await call(a, P.apply1, { grantType: 'AUTHORIZATION_CODE', authCode: t.authCode });
      expect(redeemed.body.result.resultCode).toBe('SUCCESS');
      const paid = await findPaymentById(wallet.ctx.store.db, t.paidId);
      expect(paid).toMatchObject({ status: 'SUCCESS', refundedAmount: 300n });
      expect((await call(a, P.cancel1, { paymentId: t.unpaidId })).body.result.resultCode).toBe('SUCCESS');
      if (LONG)
        console.log(
          `faults: isolation ${backend.name}: ${attacks} cross-merchant calls on ${PATHS.length} paths refused, 0 written`,
        );
    });

    it("gives B its own order for A's paymentRequestId, never A's reply", async () => {
      for (const path of PATHS.filter((p) => OPERATIONS[p].name === 'pay')) {
        const fresh = await pay(a);
        const v1 = OPERATIONS[path].version === 'v1';
        const reply = await call(
          b,
          path,
          payBody(v1, b.merchant.partnerId, { paymentRequestId: fresh.requestId }),
        );
        expect(reply.body.result.resultCode).toBe('ACCEPT');
        expect(reply.headers['idempotent-replayed']).toBeUndefined();
        expect(reply.body['paymentId']).not.toBe(fresh.id);
        expect(reply.raw).not.toContain(fresh.id);
        // B's inquiry by that request id finds B's order; A's finds A's.
        const mine = await call(
          b,
          OPERATIONS[path].version === 'v1' ? P.inquiry1 : '/api/open/v2/payments/inquiryPayment',
          {
            paymentRequestId: fresh.requestId,
          },
        );
        expect(mine.body['paymentId']).toBe(reply.body['paymentId']);
        const ofA = await call(a, P.inquiry1, { paymentRequestId: fresh.requestId });
        expect(ofA.body['paymentId']).toBe(fresh.id);
        expect(ofA.body['paymentStatus']).toBe('PROCESSING');
      }
    });

    it("keeps a user's cashier, history and authorizations from another user's session", async () => {
      const other = await addUser(wallet.ctx, { USD: 50_000n });
      const x: TestSession = await walletSession(wallet.ctx, payer.id);
      const y: TestSession = await walletSession(wallet.ctx, other.id);
      const get = (s: TestSession, path: string) =>
        fetch(wallet.url + path, { headers: { cookie: s.header }, redirect: 'manual' });
      const post = (s: TestSession, path: string, form: Record<string, string>) =>
        fetch(wallet.url + path, {
          method: 'POST',
          headers: { cookie: s.header, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(form),
          redirect: 'manual',
        });
      const title = `Order 1 of ${a.merchant.name}`;
      const before = await snapshot(wallet);

      // The payer sees the receipt; the other user sees only that it is paid, and nothing of the payer.
      const receipt = await (await get(x, `/cashier/${t.paidId}`)).text();
      expect(receipt).toContain('Payment successful');
      const seen = await get(y, `/cashier/${t.paidId}`);
      const seenText = await seen.text();
      expect(seen.status).toBe(200);
      expect(seenText).toContain('already paid');
      expect(seenText).not.toContain('Payment successful');
      expect(seenText).not.toContain(payer.phone);
      // Confirming it with the other user's own right PIN moves nothing.
      const confirm = await post(y, `/cashier/${t.paidId}/confirm`, { _csrf: y.csrf, pin: other.pin });
      expect([303, 200, 409]).toContain(confirm.status);
      expect(await findPaymentById(wallet.ctx.store.db, t.paidId)).toMatchObject({
        status: 'SUCCESS',
        userId: payer.id,
      });
      // The status API says who paid only to the payer.
      const status = async (s: TestSession) =>
        (await get(s, `/app/api/payments/${t.paidId}?appId=${t.appId}`)).json() as Promise<{
          paidByYou: boolean;
        }>;
      expect((await status(x)).paidByYou).toBe(true);
      expect((await status(y)).paidByYou).toBe(false);
      // Activity and authorizations are the session user's own.
      expect(await (await get(x, '/app')).text()).toContain(title);
      expect(await (await get(y, '/app')).text()).not.toContain(title);
      expect(await (await get(x, '/app/authorizations')).text()).toContain('A one');
      expect(await (await get(y, '/app/authorizations')).text()).not.toContain('A one');
      const grant = await wallet.ctx.store.db
        .selectFrom('user_grants')
        .select('id')
        .where('user_id', '=', payer.id)
        .executeTakeFirstOrThrow();
      const revoke = await post(y, `/app/authorizations/${grant.id}/revoke`, { _csrf: y.csrf });
      expect(revoke.status).toBe(404);
      expect(await snapshot(wallet)).toBe(before);
      expect((await call(a, P.user1, { accessToken: t.tokens.accessToken })).body.result.resultCode).toBe(
        'SUCCESS',
      );
    });

    it("never lets a mini program open the cashier for another mini program's payment", async () => {
      const user = await addUser(wallet.ctx, { USD: 50_000n });
      const s = await walletSession(wallet.ctx, user.id);
      const status = (paymentId: string, appId: string) =>
        fetch(`${wallet.url}/app/api/payments/${paymentId}?appId=${appId}`, {
          headers: { cookie: s.header },
        });
      const ofA1 = await pay(a, { appId: t.appId });
      const ofA2 = await pay(a, { appId: appA2 });
      const web = await pay(a); // a web checkout of A: no mini program
      const ofB = await pay(b, { appId: appB });
      // Its own payment, and its merchant's web checkout: allowed (the controls).
      expect((await status(ofA1.id, t.appId)).status).toBe(200);
      expect((await status(web.id, t.appId)).status).toBe(200);
      // Another merchant's, and another mini program's of the same merchant: as if it did not exist.
      for (const [paymentId, appId] of [
        [ofB.id, t.appId],
        [ofA2.id, t.appId],
        [ofA1.id, appA2],
        [ofA1.id, appB],
      ] as const) {
        const res = await status(paymentId, appId);
        expect(res.status, `${paymentId} in ${appId}`).toBe(404);
        expect(await res.text()).not.toContain('PROCESSING');
      }
      // A link into the host that resumes a payment resumes only the mini program's own.
      const resumeOf = async (appId: string, paymentId: string) => {
        const page = await (
          await fetch(`${wallet.url}/app/mini/${appId}?pay=${paymentId}`, { headers: { cookie: s.header } })
        ).text();
        return /data-resume-payment="([^"]*)"/.exec(page)?.[1];
      };
      expect(await resumeOf(t.appId, ofA1.id)).toBe(ofA1.id);
      expect(await resumeOf(t.appId, ofA2.id)).toBe('');
      expect(await resumeOf(t.appId, ofB.id)).toBe('');
      expect(await resumeOf(t.appId, 'pay_doesnotexist')).toBe('');
    });
  });
}
