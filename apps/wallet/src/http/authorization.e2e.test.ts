/**
 * User authorization over real HTTP with a merchant written only from the spec, on a SQLite file and a
 * real PostgreSQL, with a fake clock for every lifetime: applyToken (both grant types), cancelToken and
 * inquiryUserInfo on every path, every code of the reference (USED_CODE, EXPIRED_CODE, INVALID_CODE,
 * refresh reuse, expired and cancelled tokens, another merchant's code...), scope limits, customerId
 * pseudonyms, features, user revocation, hashing at rest and racing redemptions. The last test of each
 * backend checks that every code the catalogue says these operations produce was produced here.
 */
import { createHash } from 'node:crypto';
import { FakeClock } from '@billetera/domain';
import {
  AUTHORIZATION_OPERATIONS,
  OPERATIONS,
  OPERATION_CODES,
  type OperationName,
  type OperationPath,
} from '@billetera/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type BackendEnv } from '../../../../test/backends.ts';
import { isoNow, specCall, verifyReply, type SpecReply } from '../../../../test/spec-merchant.ts';
import { addMerchant, runCli, startTestWallet, type TestMerchant } from '../../../../test/wallet-harness.ts';
import {
  ACCESS_TOKEN_TTL_MS,
  AUTH_CODE_TTL_MS,
  REFRESH_TOKEN_TTL_MS,
  issueAuthCode,
  listGrants,
  revokeUserGrant,
} from '../services/authorization.ts';
import { createMiniProgram, setMiniProgramFeature } from '../services/mini-programs.ts';
import { createUser } from '../services/users.ts';
import type { RunningWallet } from '../wallet.ts';

const P = {
  apply1: '/api/open/v1/authorizations/applyToken',
  apply2: '/api/open/v2/authorizations/applyToken',
  cancel1: '/api/open/v1/authorizations/cancelToken',
  cancel2: '/api/open/v2/authorizations/cancelToken',
  user1: '/api/open/v1/users/inquiryUserInfo',
  user2: '/api/open/v2/users/inquiryUserInfo',
  userAlias1: '/api/open/v1/customers/user/inquiryUserInfoByAccessToken',
  userAlias2: '/api/open/v2/customers/user/inquiryUserInfo',
} as const satisfies Record<string, OperationPath>;

const ALL_PROFILE_SCOPES = [
  'USER_ID',
  'USER_NICKNAME',
  'USER_NAME',
  'USER_AVATAR',
  'USER_GENDER',
  'USER_BIRTHDAY',
  'USER_NATIONALITY',
  'USER_LOGIN_ID',
  'USER_CONTACTINFO',
];

interface Tokens {
  accessToken: string;
  refreshToken: string;
  customerId: string;
  accessTokenExpiryTime: string;
  refreshTokenExpiryTime: string;
}

for (const backend of BACKENDS) {
  describe(`user authorization over HTTP on ${backend.name}`, () => {
    let env: BackendEnv;
    let wallet: RunningWallet;
    let shop: TestMerchant;
    let other: TestMerchant;
    let unverified: TestMerchant;
    let appId: string;
    let otherAppId: string;
    let pendingAppId: string;
    let bareAppId: string;
    let userId: string;
    let phone: string;
    const clock = new FakeClock(Date.now());
    const observed = new Map<OperationName, Set<string>>();
    let phones = 0;

    async function call(path: OperationPath, body: unknown, who: TestMerchant = shop): Promise<SpecReply> {
      const reply = await specCall(wallet.url, path, typeof body === 'string' ? body : JSON.stringify(body), {
        clientId: who.merchant.clientId,
        privateKey: who.keys.privateKey,
        requestTime: isoNow(clock.now()),
      });
      expect(reply.status).toBe(200);
      expect(verifyReply(reply, path, wallet.ctx.secrets.walletPublicKeyPem)).toBe(true);
      const name = OPERATIONS[path].name;
      const seen = observed.get(name) ?? new Set<string>();
      seen.add(reply.body.result.resultCode);
      observed.set(name, seen);
      return reply;
    }
    const code = (reply: SpecReply) => reply.body.result.resultCode;
    const db = () => wallet.ctx.store.db;

    async function newCode(
      scopes: string[] = ['auth_base'],
      o: { app?: string | null; user?: string; who?: TestMerchant } = {},
    ): Promise<string> {
      const app = o.app === undefined ? appId : o.app;
      const issued = await issueAuthCode(wallet.ctx, {
        userId: o.user ?? userId,
        merchantId: (o.who ?? shop).merchant.id,
        ...(app !== null ? { appId: app } : {}),
        scopes,
      });
      return issued.authCode;
    }
    async function redeem(authCode: string, who: TestMerchant = shop, path: OperationPath = P.apply1) {
      return call(path, { grantType: 'AUTHORIZATION_CODE', authCode }, who);
    }
    async function tokens(scopes: string[] = ['auth_base'], o: Parameters<typeof newCode>[1] = {}) {
      const reply = await redeem(await newCode(scopes, o), o.who ?? shop);
      expect(reply.body.result).toEqual({
        resultStatus: 'S',
        resultCode: 'SUCCESS',
        resultMessage: 'Success',
      });
      return reply.body as unknown as Tokens;
    }
    const userInfo = (accessToken: string, path: OperationPath = P.user1, who: TestMerchant = shop) =>
      call(path, { accessToken }, who);
    const refresh = (refreshToken: string, who: TestMerchant = shop) =>
      call(P.apply1, { grantType: 'REFRESH_TOKEN', refreshToken }, who);

    async function freshUser(): Promise<string> {
      const u = await createUser(wallet.ctx, {
        phone: `+1666${process.pid % 1000}${String(++phones).padStart(5, '0')}`,
        pin: '123456',
        displayName: 'Someone',
      });
      return u.id;
    }

    beforeAll(async () => {
      env = await backend.create();
      wallet = await startTestWallet(env, { clock, workers: false });
      shop = await addMerchant(wallet.ctx, { name: 'Auth Shop' });
      other = await addMerchant(wallet.ctx, { name: 'Other Shop' });
      unverified = await addMerchant(wallet.ctx, { name: 'Unverified Shop', verified: false });
      const mini = (name: string, clientId: string, features: string[]) =>
        createMiniProgram(wallet.ctx, {
          clientId,
          name,
          entryUrl: 'http://127.0.0.1:9/mini/',
          features,
        }).then((m) => m.appId);
      appId = await mini('Greeter', shop.merchant.clientId, ['USER_INFO']);
      otherAppId = await mini('Second', shop.merchant.clientId, ['USER_INFO']);
      pendingAppId = await mini('Pending', shop.merchant.clientId, []);
      await setMiniProgramFeature(wallet.ctx, pendingAppId, 'USER_INFO', 'PENDING');
      bareAppId = await mini('Bare', shop.merchant.clientId, []);
      phone = `+34${process.pid % 1000}${String(Date.now() % 1e6).padStart(7, '0')}`;
      const user = await createUser(wallet.ctx, {
        phone,
        pin: '123456',
        displayName: 'Lucía',
        profile: {
          fullName: 'Lucía Pérez',
          gender: 'F',
          birthDate: '1992-02-29',
          nationality: 'ES',
          avatarUrl: 'https://avatars.example/lucia.png',
        },
      });
      userId = user.id;
    });
    afterAll(async () => {
      await wallet?.close();
      await env?.cleanup();
    });

    it('redeems a code for tokens with the lifetimes of decisions.md and a pseudonymous customerId', async () => {
      const t = await tokens(['auth_base']);
      expect(t.accessToken).toMatch(/^bat_[A-Za-z0-9_-]{43}$/);
      expect(t.refreshToken).toMatch(/^brt_[A-Za-z0-9_-]{43}$/);
      expect(t.customerId).toMatch(/^[0-9]{20}$/);
      expect(t.customerId).not.toContain(userId);
      expect(Date.parse(t.accessTokenExpiryTime)).toBe(
        Math.floor((clock.now() + ACCESS_TOKEN_TTL_MS) / 1000) * 1000,
      );
      expect(Date.parse(t.refreshTokenExpiryTime)).toBe(
        Math.floor((clock.now() + REFRESH_TOKEN_TTL_MS) / 1000) * 1000,
      );
      const info = await userInfo(t.accessToken);
      expect(info.body['userInfo']).toEqual({ userId: t.customerId, status: 'ACTIVE' });
    });

    it('answers v2 and the other wallets’ paths with the same operation', async () => {
      const reply = await redeem(await newCode(['USER_ID']), shop, P.apply2);
      expect(code(reply)).toBe('SUCCESS');
      const t = reply.body as unknown as Tokens;
      for (const path of [P.user1, P.user2, P.userAlias1, P.userAlias2]) {
        const info = await userInfo(t.accessToken, path);
        expect(code(info), path).toBe('SUCCESS');
        expect(info.body['userInfo'], path).toEqual({ userId: t.customerId, status: 'ACTIVE' });
      }
      expect(code(await call(P.cancel2, { accessToken: t.accessToken }))).toBe('SUCCESS');
    });

    it('releases exactly what the granted scopes allow, in the v1 and v2 shapes', async () => {
      const t = await tokens(ALL_PROFILE_SCOPES);
      const v1 = (await userInfo(t.accessToken, P.user1)).body['userInfo'];
      const masked = phone.replace(/[0-9](?=[0-9]{4})/g, '*');
      expect(v1).toEqual({
        userId: t.customerId,
        status: 'ACTIVE',
        nickName: 'Lucía',
        userName: { fullName: 'Lucía Pérez' },
        avatar: 'https://avatars.example/lucia.png',
        gender: 'F',
        birthday: '1992-02-29',
        nationality: 'ES',
        loginIdInfos: [
          {
            loginIdType: 'MOBILE_PHONE',
            maskLoginId: masked,
            hashLoginId: expect.stringMatching(/^[0-9a-f]{64}$/),
          },
        ],
        contactInfos: [{ contactNo: phone, contactType: 'MOBILE_PHONE' }],
      });
      const v2 = (await userInfo(t.accessToken, P.user2)).body['userInfo'] as Record<string, unknown>;
      expect(v2['gender']).toBe('FEMALE');
      expect(v2['birthDate']).toBe('1992-02-29');
      expect(v2['birthday']).toBeUndefined();

      const nick = await tokens(['USER_NICKNAME']);
      expect((await userInfo(nick.accessToken)).body['userInfo']).toEqual({
        userId: nick.customerId,
        status: 'ACTIVE',
        nickName: 'Lucía',
      });
      const plain = await tokens(['PLAINTEXT_USER_LOGIN_ID', 'HASH_LOGIN_ID']);
      expect((await userInfo(plain.accessToken)).body['userInfo']).toMatchObject({
        loginIdInfos: [{ loginIdType: 'MOBILE_PHONE', loginId: phone, hashLoginId: expect.any(String) }],
      });
      const legacy = await tokens(['auth_user']);
      expect(Object.keys((await userInfo(legacy.accessToken)).body['userInfo'] as object).sort()).toEqual([
        'avatar',
        'nickName',
        'status',
        'userId',
      ]);
    });

    it('gives each merchant its own stable customerId for the same user', async () => {
      const a = await tokens(['auth_base']);
      const b = await tokens(['auth_base'], { app: otherAppId });
      const c = await tokens(['auth_base'], { app: null });
      expect(b.customerId).toBe(a.customerId);
      expect(c.customerId).toBe(a.customerId);
      const elsewhere = await tokens(['auth_base'], { app: null, who: other });
      expect(elsewhere.customerId).not.toBe(a.customerId);
      const someoneElse = await tokens(['auth_base'], { user: await freshUser() });
      expect(someoneElse.customerId).not.toBe(a.customerId);
    });

    it('refuses a code redeemed twice (USED_CODE) and revokes what the first redemption got', async () => {
      const authCode = await newCode(['USER_NICKNAME']);
      const first = await redeem(authCode);
      expect(code(first)).toBe('SUCCESS');
      const t = first.body as unknown as Tokens;
      const again = await redeem(authCode);
      expect(again.body.result).toMatchObject({ resultStatus: 'F', resultCode: 'USED_CODE' });
      expect(again.body['accessToken']).toBeUndefined();
      expect(code(await userInfo(t.accessToken))).toBe('INVALID_ACCESS_TOKEN');
      expect(code(await refresh(t.refreshToken))).toBe('INVALID_REFRESH_TOKEN');
    });

    it('lets a code live 5 minutes, no longer (EXPIRED_CODE)', async () => {
      const early = await newCode();
      const late = await newCode();
      clock.advance(AUTH_CODE_TTL_MS - 1);
      expect(code(await redeem(early))).toBe('SUCCESS');
      clock.advance(1);
      expect(code(await redeem(late))).toBe('EXPIRED_CODE');
    });

    it('treats an unknown code and another merchant’s code alike (INVALID_CODE), without consuming it', async () => {
      const unknown = await redeem('AAAAAAAAAAAAAAAAAAAAAAAA');
      expect(unknown.body.result).toMatchObject({ resultStatus: 'F', resultCode: 'INVALID_CODE' });
      const authCode = await newCode();
      const stolen = await redeem(authCode, other);
      expect(stolen.body.result).toEqual(unknown.body.result);
      expect(code(await redeem(authCode))).toBe('SUCCESS');
    });

    it('checks referenceClientId against the mini program the code was issued in', async () => {
      const authCode = await newCode();
      const wrong = await call(P.apply1, {
        grantType: 'AUTHORIZATION_CODE',
        authCode,
        referenceClientId: otherAppId,
      });
      expect(code(wrong)).toBe('REFERENCE_CLIENT_ID_NOT_MATCH');
      const right = await call(P.apply1, {
        grantType: 'AUTHORIZATION_CODE',
        authCode,
        referenceClientId: appId,
      });
      expect(code(right)).toBe('SUCCESS');
      const t = right.body as unknown as Tokens;
      expect(
        code(
          await call(P.apply1, {
            grantType: 'REFRESH_TOKEN',
            refreshToken: t.refreshToken,
            referenceClientId: otherAppId,
          }),
        ),
      ).toBe('REFERENCE_CLIENT_ID_NOT_MATCH');
    });

    it('refuses unsupported grant types and missing or malformed fields', async () => {
      const grant = await call(P.apply1, { grantType: 'PASSWORD', authCode: 'x' });
      expect(grant.body.result).toMatchObject({
        resultStatus: 'F',
        resultCode: 'AUTH_CLIENT_UNSUPPORTED_GRANT_TYPE',
      });
      expect(code(await call(P.apply1, { grantType: 'AUTHORIZATION_CODE' }))).toBe('PARAM_ILLEGAL');
      expect(code(await call(P.apply1, { grantType: 'REFRESH_TOKEN' }))).toBe('PARAM_ILLEGAL');
      expect(code(await call(P.apply1, { grantType: 'AUTHORIZATION_CODE', authCode: 'x'.repeat(33) }))).toBe(
        'PARAM_ILLEGAL',
      );
      expect(code(await call(P.apply1, { authCode: 'x' }))).toBe('PARAM_ILLEGAL');
      expect(code(await call(P.user1, { accessToken: 7 }))).toBe('PARAM_ILLEGAL');
      expect(code(await call(P.cancel1, {}))).toBe('PARAM_ILLEGAL');
      expect(code(await call(P.user1, '{"accessToken":'))).toBe('PARAM_ILLEGAL');
    });

    it('rotates refresh tokens, and a reused one revokes the whole family (USED_REFRESH_TOKEN)', async () => {
      const t = await tokens(['USER_NICKNAME']);
      const r1 = await refresh(t.refreshToken);
      expect(code(r1)).toBe('SUCCESS');
      const t2 = r1.body as unknown as Tokens;
      expect(t2.refreshToken).not.toBe(t.refreshToken);
      expect(t2.accessToken).not.toBe(t.accessToken);
      expect(t2.customerId).toBe(t.customerId);
      expect((await userInfo(t2.accessToken)).body['userInfo']).toMatchObject({ nickName: 'Lucía' });

      const reuse = await refresh(t.refreshToken);
      expect(reuse.body.result).toMatchObject({ resultStatus: 'F', resultCode: 'USED_REFRESH_TOKEN' });
      expect(code(await userInfo(t2.accessToken))).toBe('INVALID_ACCESS_TOKEN');
      expect(code(await refresh(t2.refreshToken))).toBe('INVALID_REFRESH_TOKEN');
    });

    it('expires access tokens after 1 hour and refresh tokens after 30 days', async () => {
      const t = await tokens();
      clock.advance(ACCESS_TOKEN_TTL_MS - 1);
      expect(code(await userInfo(t.accessToken))).toBe('SUCCESS');
      clock.advance(1);
      expect(code(await userInfo(t.accessToken))).toBe('EXPIRED_ACCESS_TOKEN');
      const renewed = await refresh(t.refreshToken);
      expect(code(renewed)).toBe('SUCCESS');
      const t2 = renewed.body as unknown as Tokens;
      expect(code(await userInfo(t2.accessToken))).toBe('SUCCESS');
      clock.advance(REFRESH_TOKEN_TTL_MS);
      expect(code(await refresh(t2.refreshToken))).toBe('EXPIRED_REFRESH_TOKEN');
    });

    it('refuses unknown refresh tokens, another merchant’s, and an access token posing as one', async () => {
      const t = await tokens();
      expect(code(await refresh(`brt_${'A'.repeat(43)}`))).toBe('INVALID_REFRESH_TOKEN');
      expect(code(await refresh(t.refreshToken, other))).toBe('INVALID_REFRESH_TOKEN');
      expect(code(await refresh(t.accessToken))).toBe('INVALID_REFRESH_TOKEN');
      expect(code(await refresh(t.refreshToken))).toBe('SUCCESS');
    });

    it('cancels a token and its refresh token, idempotently, only for its own merchant', async () => {
      const t = await tokens(['USER_NICKNAME']);
      const foreign = await call(P.cancel1, { accessToken: t.accessToken }, other);
      expect(foreign.body.result).toMatchObject({ resultStatus: 'F', resultCode: 'INVALID_ACCESS_TOKEN' });
      expect(code(await userInfo(t.accessToken))).toBe('SUCCESS');
      expect(code(await call(P.cancel1, { accessToken: t.refreshToken }))).toBe('INVALID_ACCESS_TOKEN');

      const cancelled = await call(P.cancel1, { accessToken: t.accessToken });
      expect(cancelled.body.result).toEqual({
        resultStatus: 'S',
        resultCode: 'SUCCESS',
        resultMessage: 'Success',
      });
      expect(code(await userInfo(t.accessToken))).toBe('INVALID_ACCESS_TOKEN');
      expect(code(await refresh(t.refreshToken))).toBe('INVALID_REFRESH_TOKEN');
      expect(code(await call(P.cancel1, { accessToken: t.accessToken }))).toBe('SUCCESS');

      const expired = await tokens();
      clock.advance(ACCESS_TOKEN_TTL_MS);
      expect(code(await call(P.cancel1, { accessToken: expired.accessToken }))).toBe('SUCCESS');
      expect(code(await refresh(expired.refreshToken))).toBe('INVALID_REFRESH_TOKEN');
    });

    it('refuses another merchant’s access token and a mismatched authClientId', async () => {
      const t = await tokens();
      expect(code(await userInfo(t.accessToken, P.user1, other))).toBe('INVALID_ACCESS_TOKEN');
      expect(code(await userInfo(t.refreshToken))).toBe('INVALID_ACCESS_TOKEN');
      const mismatch = await call(P.user1, {
        accessToken: t.accessToken,
        authClientId: other.merchant.clientId,
      });
      expect(mismatch.body.result).toMatchObject({ resultStatus: 'F', resultCode: 'INVALID_AUTH_CLIENT' });
      const match = await call(P.user1, { accessToken: t.accessToken, authClientId: shop.merchant.clientId });
      expect(code(match)).toBe('SUCCESS');
    });

    it('refuses a merchant that is not verified (INVALID_AUTH_CLIENT_STATUS) on every operation', async () => {
      const authCode = await newCode(['auth_base'], { app: null });
      for (const [path, body] of [
        [P.apply1, { grantType: 'AUTHORIZATION_CODE', authCode }],
        [P.cancel1, { accessToken: 'bat_x' }],
        [P.user2, { accessToken: 'bat_x' }],
      ] as const) {
        const reply = await call(path, body, unverified);
        expect(reply.body.result, path).toMatchObject({
          resultStatus: 'F',
          resultCode: 'INVALID_AUTH_CLIENT_STATUS',
        });
      }
      await expect(
        issueAuthCode(wallet.ctx, { userId, merchantId: unverified.merchant.id, scopes: ['auth_base'] }),
      ).rejects.toThrow(/not verified/);
    });

    it('follows the mini program’s features: none, pending (silent scopes only), taken away (ACCESS_DENIED)', async () => {
      await expect(newCode(['auth_base'], { app: bareAppId })).rejects.toThrow(/feature is missing/);
      expect(await newCode(['USER_ID'], { app: pendingAppId })).toMatch(/^[A-Za-z0-9_-]{24}$/);
      await expect(newCode(['USER_NICKNAME'], { app: pendingAppId })).rejects.toThrow(/not approved/);

      const app = (
        await createMiniProgram(wallet.ctx, {
          clientId: shop.merchant.clientId,
          name: 'Revoked later',
          entryUrl: 'http://127.0.0.1:9/mini/',
          features: ['USER_INFO'],
        })
      ).appId;
      const t = await tokens(['USER_NICKNAME'], { app });
      const unused = await newCode(['USER_NICKNAME'], { app });
      await setMiniProgramFeature(wallet.ctx, app, 'USER_INFO', 'REJECTED');
      expect(code(await userInfo(t.accessToken))).toBe('ACCESS_DENIED');
      expect(code(await redeem(unused))).toBe('ACCESS_DENIED');
      expect(code(await refresh(t.refreshToken))).toBe('ACCESS_DENIED');
      await setMiniProgramFeature(wallet.ctx, app, 'USER_INFO', 'PENDING');
      // Back to pending: the token works again, but releases only what silent scopes allow.
      expect((await userInfo(t.accessToken)).body['userInfo']).toEqual({
        userId: t.customerId,
        status: 'ACTIVE',
      });
    });

    it('stops every token and unused code when the user revokes the grant in the host app', async () => {
      const user = await freshUser();
      const t = await tokens(['USER_NICKNAME'], { user });
      const unused = await newCode(['USER_NICKNAME'], { user });
      const grants = await listGrants(wallet.ctx, user);
      expect(grants).toEqual([
        expect.objectContaining({
          appId,
          name: 'Greeter',
          merchantName: 'Auth Shop',
          shared: ['Your nickname'],
        }),
      ]);
      expect(await revokeUserGrant(wallet.ctx, userId, grants[0]!.grantId)).toBe(false); // not that user's
      expect(await revokeUserGrant(wallet.ctx, user, grants[0]!.grantId)).toBe(true);
      expect(await revokeUserGrant(wallet.ctx, user, grants[0]!.grantId)).toBe(false);
      expect(await listGrants(wallet.ctx, user)).toEqual([]);
      expect(code(await userInfo(t.accessToken))).toBe('INVALID_ACCESS_TOKEN');
      expect(code(await refresh(t.refreshToken))).toBe('INVALID_REFRESH_TOKEN');
      expect(code(await redeem(unused))).toBe('INVALID_CODE');
      // A new consent makes a live grant again, with only the new scopes.
      const again = await tokens(['auth_base'], { user });
      expect(code(await userInfo(again.accessToken))).toBe('SUCCESS');
      expect((await listGrants(wallet.ctx, user))[0]?.shared).toEqual(['Your user id for this merchant']);
    });

    it('stores codes and tokens only as hashes', async () => {
      const authCode = await newCode(['USER_NICKNAME']);
      const t = (await redeem(authCode)).body as unknown as Tokens;
      const codes = await db().selectFrom('auth_codes').selectAll().execute();
      const rows = await db().selectFrom('auth_tokens').selectAll().execute();
      const dump = JSON.stringify([codes, rows], (_k, v: unknown) =>
        typeof v === 'bigint' ? v.toString() : v,
      );
      for (const secret of [authCode, t.accessToken, t.refreshToken]) expect(dump).not.toContain(secret);
      expect(codes.length).toBeGreaterThan(0);
      expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
    });

    it('lets exactly one of many racing redemptions of a code or a refresh token win', async () => {
      const authCode = await newCode();
      const racing = await Promise.all(Array.from({ length: 8 }, () => redeem(authCode)));
      const codes = racing.map(code);
      expect(codes.filter((c) => c === 'SUCCESS')).toHaveLength(1);
      expect(codes.filter((c) => c !== 'SUCCESS').every((c) => c === 'USED_CODE')).toBe(true);

      const t = await tokens();
      const rotations = (await Promise.all(Array.from({ length: 8 }, () => refresh(t.refreshToken)))).map(
        code,
      );
      expect(rotations.filter((c) => c === 'SUCCESS').length).toBeLessThanOrEqual(1);
      expect(rotations.every((c) => c === 'SUCCESS' || c === 'USED_REFRESH_TOKEN')).toBe(true);
      // Any reuse seen revokes the family: no live token is left of it.
      const hash = createHash('sha256').update(t.refreshToken).digest('hex');
      const row = await db()
        .selectFrom('auth_tokens')
        .select('family_id')
        .where('token_hash', '=', hash)
        .executeTakeFirstOrThrow();
      const live = await db()
        .selectFrom('auth_tokens')
        .select('token_hash')
        .where('family_id', '=', row.family_id)
        .where('revoked_at', 'is', null)
        .execute();
      expect(live).toEqual([]);
    });

    it.runIf(backend.name === 'sqlite')(
      'issues a redeemable code from `billetera sandbox auth-code`',
      async () => {
        clock.set(Date.now()); // the CLI runs on the real clock
        const out = await runCli(env, [
          'sandbox',
          'auth-code',
          '--phone',
          phone,
          '--client-id',
          shop.merchant.clientId,
          '--app-id',
          appId,
          '--scopes',
          'USER_ID,USER_NICKNAME',
          '--json',
        ]);
        expect(out.stderr).toBe('');
        expect(out.code).toBe(0);
        const printed = JSON.parse(out.stdout) as { authCode: string; scopes: string[] };
        expect(printed.scopes).toEqual(['USER_ID', 'USER_NICKNAME']);
        const reply = await redeem(printed.authCode);
        expect(code(reply)).toBe('SUCCESS');
        const info = await userInfo((reply.body as unknown as Tokens).accessToken);
        expect(info.body['userInfo']).toMatchObject({ nickName: 'Lucía' });

        const refused = await runCli(env, [
          'sandbox',
          'auth-code',
          '--phone',
          phone,
          '--client-id',
          shop.merchant.clientId,
          '--scopes',
          'SEND_MESSAGE',
        ]);
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toMatch(/unsupported scope SEND_MESSAGE/);
      },
    );

    it('has produced every code the catalogue says the authorization operations produce', () => {
      for (const name of AUTHORIZATION_OPERATIONS) {
        const produced = Object.entries(OPERATION_CODES[name])
          .filter(([, use]) => use?.produced)
          .map(([c]) => c)
          .filter(
            (c) =>
              ![
                'CLIENT_INVALID',
                'KEY_NOT_FOUND',
                'INVALID_SIGNATURE',
                'INVALID_API',
                'METHOD_NOT_SUPPORTED',
                'UNKNOWN_EXCEPTION',
                // Produced on every path by http/rate-limit.faults.test.ts.
                'REQUEST_TRAFFIC_EXCEED_LIMIT',
              ].includes(c),
          )
          .sort();
        expect([...(observed.get(name) ?? [])].filter((c) => produced.includes(c)).sort(), name).toEqual(
          produced,
        );
      }
    });
  });
}
