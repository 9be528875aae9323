/**
 * The authorization scopes a mini program may ask for with `my.getAuthCode({scopes})`, what each one
 * shares, and how it is shown on the consent sheet (alipay-plus-reference.md §14; decisions.md "User
 * authorization"). `auth_base` and `USER_ID` are silent: they share only the merchant's pseudonym for
 * the user (`customerId`), which every grant carries anyway. Any other supported scope needs consent.
 */

/** The OpenUserInfo fields a scope releases (`userId` and `status` are always in). */
export type UserInfoField =
  | 'nickName'
  | 'userName'
  | 'avatar'
  | 'gender'
  | 'birthday'
  | 'nationality'
  | 'loginId'
  | 'maskLoginId'
  | 'hashLoginId'
  | 'contactInfos';

export interface ScopeInfo {
  /** Silent scopes never show the consent sheet. */
  readonly silent: boolean;
  /** What the consent sheet says is shared, e.g. "Your nickname". */
  readonly label: string;
  readonly fields: readonly UserInfoField[];
}

const scope = (label: string, fields: readonly UserInfoField[], silent = false): ScopeInfo => ({
  silent,
  label,
  fields,
});

export const SCOPES = {
  auth_base: scope('Your user id for this merchant', [], true),
  USER_ID: scope('Your user id for this merchant', [], true),
  auth_user: scope('Your nickname and avatar', ['nickName', 'avatar']),
  USER_NICKNAME: scope('Your nickname', ['nickName']),
  USER_NAME: scope('Your full name', ['userName']),
  USER_AVATAR: scope('Your avatar', ['avatar']),
  USER_GENDER: scope('Your gender', ['gender']),
  USER_BIRTHDAY: scope('Your date of birth', ['birthday']),
  USER_NATIONALITY: scope('Your nationality', ['nationality']),
  USER_LOGIN_ID: scope('Your login id, masked and hashed', ['maskLoginId', 'hashLoginId']),
  HASH_LOGIN_ID: scope('A hash of your login id', ['hashLoginId']),
  PLAINTEXT_USER_LOGIN_ID: scope('Your login id (your phone number)', ['loginId']),
  USER_CONTACTINFO: scope('Your phone number', ['contactInfos']),
  PLAINTEXT_MOBILE_PHONE: scope('Your phone number', ['contactInfos']),
} as const satisfies Record<string, ScopeInfo>;

export type Scope = keyof typeof SCOPES;

/** The scope `my.getAuthCode()` asks for when given none (as in Alipay). */
export const DEFAULT_SCOPE: Scope = 'auth_base';
/** At most this many scopes in one request (the jsapi refuses more before asking the host). */
export const MAX_SCOPES = 32;
/**
 * The per-scope code in `authErrorScopes` for a scope that was not granted: unknown to Billetera (e.g.
 * SEND_MESSAGE, USER_ADDRESS), not allowed by the mini program's features, or refused by the user.
 */
export const SCOPE_NOT_GRANTED = '40006';

export function isScope(value: string): value is Scope {
  return Object.prototype.hasOwnProperty.call(SCOPES, value);
}

export const isSilentScope = (s: Scope): boolean => SCOPES[s].silent;

/** The fields a set of granted scopes releases. */
export function fieldsOf(scopes: readonly Scope[]): Set<UserInfoField> {
  const out = new Set<UserInfoField>();
  for (const s of scopes) for (const f of SCOPES[s].fields) out.add(f);
  return out;
}
