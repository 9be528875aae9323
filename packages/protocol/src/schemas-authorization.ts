/**
 * Wire schemas (TypeBox) for the user-authorization OpenAPIs: applyToken, cancelToken and
 * inquiryUserInfo (alipay-plus-reference.md §5 OpenUserInfo and §14; decisions.md "User authorization").
 * v1 and v2 share the bodies. As elsewhere, unknown fields are tolerated and known ones checked strictly.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ResultSchema } from './schemas.ts';

const Str = (maxLength: number, minLength = 0, description?: string) =>
  Type.String(description === undefined ? { maxLength, minLength } : { maxLength, minLength, description });
const WireTime = (description: string) =>
  Type.String({ description: `ISO 8601 with an offset, e.g. 2026-11-25T19:35:54+00:00: ${description}` });

export const GRANT_TYPES = ['AUTHORIZATION_CODE', 'REFRESH_TOKEN'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];

export const ApplyTokenRequestSchema = Type.Object({
  grantType: Str(
    32,
    1,
    'AUTHORIZATION_CODE or REFRESH_TOKEN; anything else is AUTH_CLIENT_UNSUPPORTED_GRANT_TYPE',
  ),
  authCode: Type.Optional(Str(32, 1, 'required for AUTHORIZATION_CODE: the code from my.getAuthCode')),
  refreshToken: Type.Optional(
    Str(128, 1, 'required for REFRESH_TOKEN; single use, rotated on every refresh'),
  ),
  referenceClientId: Type.Optional(
    Str(128, 1, 'the mini program (appId) the code was issued in; when given it must match'),
  ),
  extendInfo: Type.Optional(Str(4096)),
});
export type ApplyTokenRequest = Static<typeof ApplyTokenRequestSchema>;

export const ApplyTokenReplySchema = Type.Object({
  result: ResultSchema,
  accessToken: Type.Optional(Str(128, 1, 'lives 1 hour')),
  accessTokenExpiryTime: Type.Optional(WireTime('when the access token stops working')),
  refreshToken: Type.Optional(Str(128, 1, 'lives 30 days; single use')),
  refreshTokenExpiryTime: Type.Optional(WireTime('when the refresh token stops working')),
  customerId: Type.Optional(
    Str(64, 1, "the user as this merchant sees them: a stable pseudonym, never the wallet's own id"),
  ),
  extendInfo: Type.Optional(Str(4096)),
});
export type ApplyTokenReply = Static<typeof ApplyTokenReplySchema>;

export const CancelTokenRequestSchema = Type.Object({
  accessToken: Str(128, 1, 'the access token to revoke; its refresh token stops working too'),
  extendInfo: Type.Optional(Str(4096)),
});
export type CancelTokenRequest = Static<typeof CancelTokenRequestSchema>;

export const CancelTokenReplySchema = Type.Object({
  result: ResultSchema,
  extendInfo: Type.Optional(Str(4096)),
});
export type CancelTokenReply = Static<typeof CancelTokenReplySchema>;

export const InquiryUserInfoRequestSchema = Type.Object({
  accessToken: Str(128, 1),
  authClientId: Type.Optional(Str(128, 1, "when given, must be the caller's Client-Id")),
  extendInfo: Type.Optional(Str(4096)),
});
export type InquiryUserInfoRequest = Static<typeof InquiryUserInfoRequestSchema>;

export const UserNameSchema = Type.Object({
  fullName: Type.Optional(Str(128)),
  firstName: Type.Optional(Str(32)),
  middleName: Type.Optional(Str(32)),
  lastName: Type.Optional(Str(32)),
});

export const LoginIdInfoSchema = Type.Object({
  loginIdType: Type.Union([Type.Literal('MOBILE_PHONE'), Type.Literal('EMAIL')]),
  loginId: Type.Optional(Str(64, 1, 'PLAINTEXT_USER_LOGIN_ID only')),
  maskLoginId: Type.Optional(Str(64, 1, 'USER_LOGIN_ID')),
  hashLoginId: Type.Optional(
    Str(64, 1, 'USER_LOGIN_ID or HASH_LOGIN_ID: SHA-256 of the login id, hex; the same for every merchant'),
  ),
});

export const ContactInfoSchema = Type.Object({
  contactNo: Str(64, 1),
  contactType: Type.Union([Type.Literal('MOBILE_PHONE'), Type.Literal('TELEPHONE'), Type.Literal('EMAIL')]),
});

/** OpenUserInfo: only the fields the granted scopes release are present. */
export const OpenUserInfoSchema = Type.Object({
  userId: Str(64, 1, 'the same value as applyToken’s customerId'),
  status: Type.Union([Type.Literal('ACTIVE'), Type.Literal('FROZEN'), Type.Literal('INACTIVE')]),
  nickName: Type.Optional(Str(64)),
  userName: Type.Optional(UserNameSchema),
  avatar: Type.Optional(Str(1024)),
  gender: Type.Optional(
    Type.String({ description: 'v1: F or M (ES dictionary); v2: FEMALE or MALE (AMP v2 samples)' }),
  ),
  birthday: Type.Optional(Type.String({ description: 'v1 name; YYYY-MM-DD' })),
  birthDate: Type.Optional(Type.String({ description: 'v2 name; YYYY-MM-DD' })),
  nationality: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166 alpha-2' })),
  loginIdInfos: Type.Optional(Type.Array(LoginIdInfoSchema)),
  contactInfos: Type.Optional(Type.Array(ContactInfoSchema)),
  extendInfo: Type.Optional(Str(4096)),
});
export type OpenUserInfo = Static<typeof OpenUserInfoSchema>;

export const InquiryUserInfoReplySchema = Type.Object({
  result: ResultSchema,
  userInfo: Type.Optional(OpenUserInfoSchema),
});
export type InquiryUserInfoReply = Static<typeof InquiryUserInfoReplySchema>;
