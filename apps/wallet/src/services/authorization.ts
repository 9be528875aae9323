/**
 * User authorization (decisions.md "User authorization"; alipay-plus-reference.md §14).
 *
 * - The host app asks `assessAuthRequest` what a `my.getAuthCode({scopes})` would grant and whether the
 *   consent sheet must be shown, then `issueAuthCodeForUser` issues the code (after consent, if needed).
 * - The merchant's server redeems the code with `applyToken` (AUTHORIZATION_CODE), refreshes with
 *   `applyToken` (REFRESH_TOKEN: single use, rotated), revokes with `cancelToken`, and reads the user with
 *   `inquireUserInfo`, limited to the scopes of the code the token descends from.
 *
 * A code lives 5 minutes and is bound to the user, the mini program (or none) and the merchant; an access
 * token lives 1 hour, a refresh token 30 days. Codes and tokens are stored as SHA-256 hashes. Every token
 * redeemed from one code forms a family: cancelToken, a reused refresh token or a reused code revoke the
 * whole family (RFC 6749 §4.1.2 and OAuth 2.1 refresh-token reuse detection). A user who revokes a mini
 * program's access in the host app stops every token and unused code under that grant.
 */
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { userInfoAccess, type UserInfoAccess } from '@billetera/domain';
import {
  SCOPES,
  SCOPE_NOT_GRANTED,
  fieldsOf,
  formatWireTime,
  isScope,
  resultOf,
  type ApplyTokenReply,
  type ApplyTokenRequest,
  type CancelTokenReply,
  type CancelTokenRequest,
  type InquiryUserInfoReply,
  type InquiryUserInfoRequest,
  type OpenUserInfo,
  type Scope,
} from '@billetera/protocol';
import {
  claimAuthCode,
  claimRefreshToken,
  customerIdFor,
  featuresOf,
  findAuthCode,
  findAuthToken,
  findGrantById,
  findGrantFor,
  findMerchantById,
  findMiniProgram,
  findUserById,
  insertAuthCode,
  insertAuthToken,
  liveGrantsOfUser,
  recordConsent,
  revokeGrant as revokeGrantRow,
  revokeTokenFamily,
  type Grant,
  type GrantView,
  type Merchant,
  type User,
} from '@billetera/store';
import type { Transaction } from 'kysely';
import type { Database } from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { UserInputError } from './users.ts';

export const AUTH_CODE_TTL_MS = 5 * 60_000;
export const ACCESS_TOKEN_TTL_MS = 3600_000;
export const REFRESH_TOKEN_TTL_MS = 30 * 24 * 3600_000;

type Tx = Transaction<Database>;

const sha256 = (value: string): string => createHash('sha256').update(value).digest('hex');
/** 18 random bytes: 24 base64url characters (the reference allows 32). */
const newAuthCode = (): string => randomBytes(18).toString('base64url');
const newToken = (prefix: 'bat' | 'brt'): string => `${prefix}_${randomBytes(32).toString('base64url')}`;
/** 20 digits, like Alipay's customer ids; random, so it says nothing about the wallet's own user id. */
function newCustomerId(): string {
  let digits = '2188';
  while (digits.length < 20) digits += String(randomInt(10));
  return digits;
}

// ------------------------------------------------------------------------------ scopes and the host app

export interface ScopeChoice {
  /** The scopes that can be granted, in the order asked, without duplicates. */
  grantable: Scope[];
  /** Scopes that cannot be granted, each with the reason code of `authErrorScopes`. */
  refused: Record<string, string>;
}

/** Splits requested scopes into grantable ones and refused ones, given what USER_INFO allows. */
export function chooseScopes(requested: readonly string[], access: UserInfoAccess): ScopeChoice {
  const grantable: Scope[] = [];
  const refused: Record<string, string> = {};
  for (const s of requested) {
    if (grantable.includes(s as Scope) || s in refused) continue;
    if (isScope(s) && (access === 'ALL' || (access === 'SILENT_ONLY' && SCOPES[s].silent))) grantable.push(s);
    else refused[s] = SCOPE_NOT_GRANTED;
  }
  return { grantable, refused };
}

export type AuthAssessment =
  | { kind: 'NO_APP' }
  | { kind: 'NO_FEATURE'; appName: string }
  | { kind: 'NOTHING_GRANTABLE'; appName: string; refused: Record<string, string> }
  | {
      kind: 'OK';
      appId: string;
      appName: string;
      merchantName: string;
      grantable: Scope[];
      refused: Record<string, string>;
      /** What the consent sheet must list; empty when the request is silent or already granted. */
      consent: { scope: Scope; label: string }[];
    };

/** What `my.getAuthCode({scopes})` in this mini program would do for this user. Changes nothing. */
export async function assessAuthRequest(
  ctx: WalletContext,
  userId: string,
  appId: string,
  requested: readonly string[],
): Promise<AuthAssessment> {
  const db = ctx.store.db;
  const app = await findMiniProgram(db, appId);
  if (!app || app.status !== 'PUBLISHED') return { kind: 'NO_APP' };
  const access = userInfoAccess((await featuresOf(db, appId)).get('USER_INFO'));
  if (access === 'NONE') return { kind: 'NO_FEATURE', appName: app.name };
  const { grantable, refused } = chooseScopes(requested, access);
  if (grantable.length === 0) return { kind: 'NOTHING_GRANTABLE', appName: app.name, refused };
  const merchant = await findMerchantById(db, app.merchantId);
  const grant = await findGrantFor(db, userId, app.merchantId, appId);
  const held = new Set(grant && grant.revokedAt === null ? grant.scopes : []);
  const consent: { scope: Scope; label: string }[] = [];
  for (const scope of grantable) {
    const { silent, label } = SCOPES[scope];
    if (!silent && !held.has(scope) && !consent.some((c) => c.label === label))
      consent.push({ scope, label });
  }
  return {
    kind: 'OK',
    appId,
    appName: app.name,
    merchantName: merchant?.name ?? '',
    grantable,
    refused,
    consent,
  };
}

export interface IssuedAuthCode {
  authCode: string;
  scopes: Scope[];
  expiresAt: number;
}

/**
 * The host app's half of `my.getAuthCode`: re-assesses the request (nothing the page sent is trusted)
 * and issues a code when no consent is needed or the user just gave it.
 */
export async function issueAuthCodeForUser(
  ctx: WalletContext,
  userId: string,
  appId: string,
  requested: readonly string[],
  consentGiven: boolean,
): Promise<
  | { kind: 'ISSUED'; code: IssuedAuthCode; refused: Record<string, string> }
  | { kind: 'CONSENT_REQUIRED' }
  | Exclude<AuthAssessment, { kind: 'OK' }>
> {
  const assessment = await assessAuthRequest(ctx, userId, appId, requested);
  if (assessment.kind !== 'OK') return assessment;
  if (assessment.consent.length > 0 && !consentGiven) return { kind: 'CONSENT_REQUIRED' };
  const app = await findMiniProgram(ctx.store.db, appId);
  if (!app) return { kind: 'NO_APP' };
  const code = await writeAuthCode(ctx, userId, app.merchantId, appId, assessment.grantable);
  return { kind: 'ISSUED', code, refused: assessment.refused };
}

/**
 * Issues a code with the user's consent taken as given: `billetera sandbox auth-code` and tests. With an
 * appId the mini program must be the merchant's and its features limit the scopes; without one the
 * merchant must be verified (decisions.md).
 */
export async function issueAuthCode(
  ctx: WalletContext,
  input: { userId: string; merchantId: string; appId?: string | undefined; scopes: readonly string[] },
): Promise<IssuedAuthCode> {
  const db = ctx.store.db;
  const requested = input.scopes.length > 0 ? input.scopes : ['auth_base'];
  const unknown = requested.filter((s) => !isScope(s));
  if (unknown.length > 0)
    throw new UserInputError(
      `unsupported scope ${unknown.join(', ')}; supported: ${Object.keys(SCOPES).join(', ')}`,
    );
  const merchant = await findMerchantById(db, input.merchantId);
  if (!merchant) throw new UserInputError(`no merchant ${input.merchantId}`);
  if (!(await findUserById(db, input.userId))) throw new UserInputError(`no user ${input.userId}`);
  let access: UserInfoAccess = 'ALL';
  if (input.appId !== undefined) {
    const app = await findMiniProgram(db, input.appId);
    if (!app || app.merchantId !== merchant.id)
      throw new UserInputError(`mini program ${input.appId} does not belong to ${merchant.clientId}`);
    access = userInfoAccess((await featuresOf(db, input.appId)).get('USER_INFO'));
  } else if (merchant.status !== 'VERIFIED') {
    throw new UserInputError(`merchant ${merchant.clientId} is not verified`);
  }
  const { grantable, refused } = chooseScopes(requested, access);
  const notAllowed = Object.keys(refused);
  if (notAllowed.length > 0)
    throw new UserInputError(
      `mini program ${input.appId ?? ''} may not ask for ${notAllowed.join(', ')} (its User information feature is ${access === 'NONE' ? 'missing' : 'not approved for consent scopes'})`,
    );
  return writeAuthCode(ctx, input.userId, merchant.id, input.appId ?? '', grantable);
}

async function writeAuthCode(
  ctx: WalletContext,
  userId: string,
  merchantId: string,
  appId: string,
  scopes: Scope[],
): Promise<IssuedAuthCode> {
  const authCode = newAuthCode();
  const now = ctx.clock.now();
  const expiresAt = now + AUTH_CODE_TTL_MS;
  await ctx.store.transaction(async (tx) => {
    const grant = await recordConsent(
      tx,
      { id: ctx.ids.next('grt'), userId, merchantId, appId, scopes },
      now,
    );
    await insertAuthCode(tx, {
      codeHash: sha256(authCode),
      grantId: grant.id,
      scopes,
      createdAt: now,
      expiresAt,
    });
  });
  return { authCode, scopes, expiresAt };
}

export interface GrantListing {
  grantId: string;
  appId: string;
  /** The mini program's name, or the merchant's for a grant to the merchant itself. */
  name: string;
  merchantName: string;
  /** What was shared, as the consent sheet said it, without repeats. */
  shared: string[];
  grantedAt: number;
}

/** The mini programs (and merchants) that hold access to what this user shared, newest first. */
export async function listGrants(ctx: WalletContext, userId: string): Promise<GrantListing[]> {
  const grants: GrantView[] = await liveGrantsOfUser(ctx.store.db, userId);
  return grants.map((g) => ({
    grantId: g.id,
    appId: g.appId,
    name: g.appName ?? g.merchantName,
    merchantName: g.merchantName,
    shared: [...new Set(g.scopes.filter(isScope).map((s) => SCOPES[s].label))],
    grantedAt: g.updatedAt,
  }));
}

/** Revokes one of this user's grants; false when it is not theirs or already revoked. */
export async function revokeUserGrant(ctx: WalletContext, userId: string, grantId: string): Promise<boolean> {
  return ctx.store.transaction((tx) => revokeGrantRow(tx, grantId, userId, ctx.clock.now()));
}

// ---------------------------------------------------------------------------------------- the OpenAPI

type Refused = { result: ReturnType<typeof resultOf> };
const refuse = (code: Parameters<typeof resultOf>[0], message?: string): Refused => ({
  result: resultOf(code, message),
});

const NOT_VERIFIED_MESSAGE =
  'this merchant is not verified (business licence and website check) or is frozen';

/** The grant's mini program still has USER_INFO? Decides which of `scopes` still count. */
async function effectiveScopes(
  tx: Tx,
  grant: Grant,
  scopes: readonly string[],
): Promise<Scope[] | undefined> {
  const known = scopes.filter(isScope);
  if (grant.appId === '') return known;
  const access = userInfoAccess((await featuresOf(tx, grant.appId)).get('USER_INFO'));
  if (access === 'NONE') return undefined;
  return access === 'ALL' ? known : known.filter((s) => SCOPES[s].silent);
}

async function issueTokens(
  ctx: WalletContext,
  tx: Tx,
  grant: Grant,
  familyId: string,
  scopes: readonly string[],
): Promise<ApplyTokenReply> {
  const now = ctx.clock.now();
  const accessToken = newToken('bat');
  const refreshToken = newToken('brt');
  const accessExpires = now + ACCESS_TOKEN_TTL_MS;
  const refreshExpires = now + REFRESH_TOKEN_TTL_MS;
  const base = { familyId, grantId: grant.id, scopes: [...scopes], createdAt: now };
  await insertAuthToken(tx, {
    ...base,
    tokenHash: sha256(accessToken),
    kind: 'ACCESS',
    expiresAt: accessExpires,
  });
  await insertAuthToken(tx, {
    ...base,
    tokenHash: sha256(refreshToken),
    kind: 'REFRESH',
    expiresAt: refreshExpires,
  });
  const customerId = await customerIdFor(tx, grant.merchantId, grant.userId, now, newCustomerId);
  return {
    result: resultOf('SUCCESS'),
    accessToken,
    accessTokenExpiryTime: formatWireTime(accessExpires),
    refreshToken,
    refreshTokenExpiryTime: formatWireTime(refreshExpires),
    customerId,
  };
}

/** `authorizations/applyToken` (v1 and v2). Refusals that revoke a family commit that revocation. */
export async function applyToken(
  ctx: WalletContext,
  merchant: Merchant,
  input: ApplyTokenRequest,
): Promise<ApplyTokenReply> {
  if (merchant.status !== 'VERIFIED') return refuse('INVALID_AUTH_CLIENT_STATUS', NOT_VERIFIED_MESSAGE);
  if (input.grantType === 'AUTHORIZATION_CODE') {
    if (input.authCode === undefined)
      return refuse('PARAM_ILLEGAL', 'authCode is required for grantType AUTHORIZATION_CODE');
    const authCode = input.authCode;
    return ctx.store.transaction((tx) => redeemCode(ctx, tx, merchant, authCode, input.referenceClientId));
  }
  if (input.grantType === 'REFRESH_TOKEN') {
    if (input.refreshToken === undefined)
      return refuse('PARAM_ILLEGAL', 'refreshToken is required for grantType REFRESH_TOKEN');
    const refreshToken = input.refreshToken;
    return ctx.store.transaction((tx) => rotate(ctx, tx, merchant, refreshToken, input.referenceClientId));
  }
  return refuse(
    'AUTH_CLIENT_UNSUPPORTED_GRANT_TYPE',
    `grantType ${input.grantType.slice(0, 32)} is not supported: use AUTHORIZATION_CODE or REFRESH_TOKEN`,
  );
}

async function redeemCode(
  ctx: WalletContext,
  tx: Tx,
  merchant: Merchant,
  authCode: string,
  referenceClientId: string | undefined,
): Promise<ApplyTokenReply> {
  const now = ctx.clock.now();
  const code = await findAuthCode(tx, sha256(authCode));
  const grant = code && (await findGrantById(tx, code.grantId));
  // Another merchant's code reads exactly like an unknown one.
  if (!code || !grant || grant.merchantId !== merchant.id || grant.revokedAt !== null)
    return refuse('INVALID_CODE', 'no such authCode for this merchant');
  if (referenceClientId !== undefined && referenceClientId !== grant.appId)
    return refuse('REFERENCE_CLIENT_ID_NOT_MATCH', 'the authCode was not issued in this referenceClientId');
  if (code.usedAt !== null) {
    if (code.familyId !== null) await revokeTokenFamily(tx, code.familyId, now);
    return refuse(
      'USED_CODE',
      'the authCode was already redeemed; the tokens issued for it are revoked. Ask the user again.',
    );
  }
  if (now >= code.expiresAt) return refuse('EXPIRED_CODE', 'the authCode has expired (codes live 5 minutes)');
  const scopes = await effectiveScopes(tx, grant, code.scopes);
  if (!scopes) return refuse('ACCESS_DENIED', 'the mini program no longer has the User information feature');
  const familyId = ctx.ids.next('fam');
  if (!(await claimAuthCode(tx, code.codeHash, familyId, now)))
    return refuse('USED_CODE', 'the authCode was already redeemed');
  return issueTokens(ctx, tx, grant, familyId, scopes);
}

async function rotate(
  ctx: WalletContext,
  tx: Tx,
  merchant: Merchant,
  refreshToken: string,
  referenceClientId: string | undefined,
): Promise<ApplyTokenReply> {
  const now = ctx.clock.now();
  const token = await findAuthToken(tx, sha256(refreshToken));
  const grant = token && (await findGrantById(tx, token.grantId));
  if (!token || token.kind !== 'REFRESH' || !grant || grant.merchantId !== merchant.id)
    return refuse('INVALID_REFRESH_TOKEN', 'no such live refresh token for this merchant');
  if (token.usedAt !== null) {
    await revokeTokenFamily(tx, token.familyId, now);
    return refuse(
      'USED_REFRESH_TOKEN',
      'the refresh token was already used; every token of this authorization is now revoked',
    );
  }
  if (grant.revokedAt !== null || token.revokedAt !== null)
    return refuse('INVALID_REFRESH_TOKEN', 'no such live refresh token for this merchant');
  if (referenceClientId !== undefined && referenceClientId !== grant.appId)
    return refuse('REFERENCE_CLIENT_ID_NOT_MATCH', 'the token was not issued in this referenceClientId');
  if (now >= token.expiresAt) return refuse('EXPIRED_REFRESH_TOKEN', 'the refresh token has expired');
  const scopes = await effectiveScopes(tx, grant, token.scopes);
  if (!scopes) return refuse('ACCESS_DENIED', 'the mini program no longer has the User information feature');
  if (!(await claimRefreshToken(tx, token.tokenHash, now))) {
    await revokeTokenFamily(tx, token.familyId, now);
    return refuse('USED_REFRESH_TOKEN', 'the refresh token was already used');
  }
  return issueTokens(ctx, tx, grant, token.familyId, scopes);
}

/** `authorizations/cancelToken`: revokes the access token's family. Idempotent, also for expired tokens. */
export async function cancelToken(
  ctx: WalletContext,
  merchant: Merchant,
  input: CancelTokenRequest,
): Promise<CancelTokenReply> {
  if (merchant.status !== 'VERIFIED') return refuse('INVALID_AUTH_CLIENT_STATUS', NOT_VERIFIED_MESSAGE);
  return ctx.store.transaction(async (tx) => {
    const token = await findAuthToken(tx, sha256(input.accessToken));
    const grant = token && (await findGrantById(tx, token.grantId));
    if (!token || token.kind !== 'ACCESS' || !grant || grant.merchantId !== merchant.id)
      return refuse('INVALID_ACCESS_TOKEN', 'no such access token for this merchant');
    await revokeTokenFamily(tx, token.familyId, ctx.clock.now());
    return { result: resultOf('SUCCESS') };
  });
}

/** `users/inquiryUserInfo` (and the other wallets' paths): OpenUserInfo limited to the token's scopes. */
export async function inquireUserInfo(
  ctx: WalletContext,
  merchant: Merchant,
  input: InquiryUserInfoRequest,
  version: 'v1' | 'v2',
): Promise<InquiryUserInfoReply> {
  if (input.authClientId !== undefined && input.authClientId !== merchant.clientId)
    return refuse('INVALID_AUTH_CLIENT', 'authClientId is not the Client-Id of this request');
  if (merchant.status !== 'VERIFIED') return refuse('INVALID_AUTH_CLIENT_STATUS', NOT_VERIFIED_MESSAGE);
  return ctx.store.transaction(async (tx) => {
    const token = await findAuthToken(tx, sha256(input.accessToken));
    const grant = token && (await findGrantById(tx, token.grantId));
    if (
      !token ||
      token.kind !== 'ACCESS' ||
      !grant ||
      grant.merchantId !== merchant.id ||
      token.revokedAt !== null ||
      grant.revokedAt !== null
    )
      return refuse('INVALID_ACCESS_TOKEN', 'no such live access token for this merchant');
    const now = ctx.clock.now();
    if (now >= token.expiresAt)
      return refuse('EXPIRED_ACCESS_TOKEN', 'the access token has expired: renew it with applyToken');
    const scopes = await effectiveScopes(tx, grant, token.scopes);
    if (!scopes)
      return refuse('ACCESS_DENIED', 'the mini program no longer has the User information feature');
    const user = await findUserById(tx, grant.userId);
    if (!user) return refuse('INVALID_ACCESS_TOKEN', 'the user of this token no longer exists');
    const customerId = await customerIdFor(tx, grant.merchantId, grant.userId, now, newCustomerId);
    return { result: resultOf('SUCCESS'), userInfo: openUserInfo(user, customerId, scopes, version) };
  });
}

/** The phone number with all but the last four digits masked, e.g. `+*******0001`. */
export const maskPhone = (phone: string): string => phone.replace(/[0-9](?=[0-9]{4})/g, '*');

export function openUserInfo(
  user: User,
  customerId: string,
  scopes: readonly Scope[],
  version: 'v1' | 'v2',
): OpenUserInfo {
  const fields = fieldsOf(scopes);
  const p = user.profile;
  const info: OpenUserInfo = { userId: customerId, status: user.status === 'ACTIVE' ? 'ACTIVE' : 'FROZEN' };
  if (fields.has('nickName') && user.displayName !== null) info.nickName = user.displayName;
  if (fields.has('userName') && p.fullName !== null) info.userName = { fullName: p.fullName };
  if (fields.has('avatar') && p.avatarUrl !== null) info.avatar = p.avatarUrl;
  if (fields.has('gender') && p.gender !== null)
    info.gender = version === 'v1' ? p.gender : p.gender === 'F' ? 'FEMALE' : 'MALE';
  if (fields.has('birthday') && p.birthDate !== null) {
    if (version === 'v1') info.birthday = p.birthDate;
    else info.birthDate = p.birthDate;
  }
  if (fields.has('nationality') && p.nationality !== null) info.nationality = p.nationality;
  if (fields.has('loginId') || fields.has('maskLoginId') || fields.has('hashLoginId')) {
    info.loginIdInfos = [
      {
        loginIdType: 'MOBILE_PHONE',
        ...(fields.has('loginId') ? { loginId: user.phone } : {}),
        ...(fields.has('maskLoginId') ? { maskLoginId: maskPhone(user.phone) } : {}),
        ...(fields.has('hashLoginId') ? { hashLoginId: sha256(user.phone) } : {}),
      },
    ];
  }
  if (fields.has('contactInfos'))
    info.contactInfos = [{ contactNo: user.phone, contactType: 'MOBILE_PHONE' }];
  return info;
}
