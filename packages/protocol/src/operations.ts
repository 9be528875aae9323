/**
 * The catalogue of OpenAPI operations the wallet serves: for each path its version, its request and
 * reply schemas, and, per operation, every result code it can answer with, or, for codes the reference
 * lists for it that Billetera never answers, why not. The wallet's routes, the OpenAPI document
 * (openapi-document.ts) and the docs are all built from this one table.
 */
import type { TSchema } from '@sinclair/typebox';
import { PATHS } from './paths.ts';
import type { ResultCode } from './result-codes.ts';
import {
  InquiryPaymentV1ReplySchema,
  InquiryPaymentV1RequestSchema,
  NotifyAckSchema,
  NotifyPaymentSchema,
  PayV1ReplySchema,
  PayV1RequestSchema,
} from './schemas.ts';
import {
  CancelReplySchema,
  CancelV1RequestSchema,
  CancelV2RequestSchema,
  InquiryPaymentV2ReplySchema,
  InquiryPaymentV2RequestSchema,
  InquiryRefundReplySchema,
  InquiryRefundV1RequestSchema,
  InquiryRefundV2RequestSchema,
  NotifyRefundSchema,
  PayV2ReplySchema,
  PayV2RequestSchema,
  RefundReplySchema,
  RefundV1RequestSchema,
  RefundV2RequestSchema,
} from './schemas-lifecycle.ts';
import {
  ApplyTokenReplySchema,
  ApplyTokenRequestSchema,
  CancelTokenReplySchema,
  CancelTokenRequestSchema,
  InquiryUserInfoReplySchema,
  InquiryUserInfoRequestSchema,
} from './schemas-authorization.ts';

export type ApiVersion = 'v1' | 'v2';
export type PaymentOperationName = 'pay' | 'inquiryPayment' | 'cancel' | 'refund' | 'inquiryRefund';
export type AuthorizationOperationName = 'applyToken' | 'cancelToken' | 'inquiryUserInfo';
export type OperationName = PaymentOperationName | AuthorizationOperationName;
export const PAYMENT_OPERATIONS: readonly PaymentOperationName[] = [
  'pay',
  'inquiryPayment',
  'cancel',
  'refund',
  'inquiryRefund',
];
export const AUTHORIZATION_OPERATIONS: readonly AuthorizationOperationName[] = [
  'applyToken',
  'cancelToken',
  'inquiryUserInfo',
];

export interface NamedSchema {
  name: string;
  schema: TSchema;
}

export interface OperationSpec {
  path: string;
  version: ApiVersion;
  name: OperationName;
  summary: string;
  request: NamedSchema;
  reply: NamedSchema;
  /** Set on another wallet's name for an operation: the canonical path it is an alias of. */
  aliasOf?: string;
}

const OPERATION_SUMMARIES: Record<OperationName, string> = {
  pay: 'Create a cashier payment: the order waits in PROCESSING for the payer (A / ACCEPT).',
  inquiryPayment: 'Read a payment by paymentId (wins) or paymentRequestId.',
  cancel: 'Cancel an unpaid order (PROCESSING -> CANCELLED). Idempotent; no notification is sent.',
  refund:
    'Refund part or all of a SUCCESS payment, once or several times, idempotent by refundRequestId. Settles synchronously.',
  inquiryRefund: 'Read a refund by refundId (wins) or refundRequestId.',
  applyToken:
    'Exchange an authCode from my.getAuthCode (AUTHORIZATION_CODE) or a refresh token (REFRESH_TOKEN, rotated) for an access token and the customerId.',
  cancelToken: 'Revoke an access token and the refresh token issued with it.',
  inquiryUserInfo: 'Read the user behind an access token, limited to the scopes they granted.',
};

const op = (
  path: string,
  version: ApiVersion,
  name: OperationName,
  request: NamedSchema,
  reply: NamedSchema,
  aliasOf?: string,
): OperationSpec => ({
  path,
  version,
  name,
  summary: OPERATION_SUMMARIES[name] + (aliasOf ? ` The same operation as ${aliasOf}.` : ''),
  request,
  reply,
  ...(aliasOf ? { aliasOf } : {}),
});

const APPLY_TOKEN = {
  request: { name: 'ApplyTokenRequest', schema: ApplyTokenRequestSchema },
  reply: { name: 'ApplyTokenReply', schema: ApplyTokenReplySchema },
};
const CANCEL_TOKEN = {
  request: { name: 'CancelTokenRequest', schema: CancelTokenRequestSchema },
  reply: { name: 'CancelTokenReply', schema: CancelTokenReplySchema },
};
const INQUIRY_USER_INFO = {
  request: { name: 'InquiryUserInfoRequest', schema: InquiryUserInfoRequestSchema },
  reply: { name: 'InquiryUserInfoReply', schema: InquiryUserInfoReplySchema },
};

/** Every signed OpenAPI operation, by path. v1 and v2 run the same use case; only the wire shape differs. */
export const OPERATIONS = {
  [PATHS.payV1]: op(
    PATHS.payV1,
    'v1',
    'pay',
    { name: 'PayV1Request', schema: PayV1RequestSchema },
    { name: 'PayV1Reply', schema: PayV1ReplySchema },
  ),
  [PATHS.inquiryPaymentV1]: op(
    PATHS.inquiryPaymentV1,
    'v1',
    'inquiryPayment',
    { name: 'InquiryPaymentV1Request', schema: InquiryPaymentV1RequestSchema },
    { name: 'InquiryPaymentReply', schema: InquiryPaymentV1ReplySchema },
  ),
  [PATHS.cancelV1]: op(
    PATHS.cancelV1,
    'v1',
    'cancel',
    { name: 'CancelV1Request', schema: CancelV1RequestSchema },
    { name: 'CancelReply', schema: CancelReplySchema },
  ),
  [PATHS.refundV1]: op(
    PATHS.refundV1,
    'v1',
    'refund',
    { name: 'RefundV1Request', schema: RefundV1RequestSchema },
    { name: 'RefundReply', schema: RefundReplySchema },
  ),
  [PATHS.inquiryRefundV1]: op(
    PATHS.inquiryRefundV1,
    'v1',
    'inquiryRefund',
    { name: 'InquiryRefundV1Request', schema: InquiryRefundV1RequestSchema },
    { name: 'InquiryRefundReply', schema: InquiryRefundReplySchema },
  ),
  [PATHS.payV2]: op(
    PATHS.payV2,
    'v2',
    'pay',
    { name: 'PayV2Request', schema: PayV2RequestSchema },
    { name: 'PayV2Reply', schema: PayV2ReplySchema },
  ),
  [PATHS.inquiryPaymentV2]: op(
    PATHS.inquiryPaymentV2,
    'v2',
    'inquiryPayment',
    { name: 'InquiryPaymentV2Request', schema: InquiryPaymentV2RequestSchema },
    { name: 'InquiryPaymentReply', schema: InquiryPaymentV2ReplySchema },
  ),
  [PATHS.cancelV2]: op(
    PATHS.cancelV2,
    'v2',
    'cancel',
    { name: 'CancelV2Request', schema: CancelV2RequestSchema },
    { name: 'CancelReply', schema: CancelReplySchema },
  ),
  [PATHS.refundV2]: op(
    PATHS.refundV2,
    'v2',
    'refund',
    { name: 'RefundV2Request', schema: RefundV2RequestSchema },
    { name: 'RefundReply', schema: RefundReplySchema },
  ),
  [PATHS.inquiryRefundV2]: op(
    PATHS.inquiryRefundV2,
    'v2',
    'inquiryRefund',
    { name: 'InquiryRefundV2Request', schema: InquiryRefundV2RequestSchema },
    { name: 'InquiryRefundReply', schema: InquiryRefundReplySchema },
  ),
  [PATHS.applyTokenV1]: op(PATHS.applyTokenV1, 'v1', 'applyToken', APPLY_TOKEN.request, APPLY_TOKEN.reply),
  [PATHS.cancelTokenV1]: op(
    PATHS.cancelTokenV1,
    'v1',
    'cancelToken',
    CANCEL_TOKEN.request,
    CANCEL_TOKEN.reply,
  ),
  [PATHS.inquiryUserInfoV1]: op(
    PATHS.inquiryUserInfoV1,
    'v1',
    'inquiryUserInfo',
    INQUIRY_USER_INFO.request,
    INQUIRY_USER_INFO.reply,
  ),
  [PATHS.applyTokenV2]: op(PATHS.applyTokenV2, 'v2', 'applyToken', APPLY_TOKEN.request, APPLY_TOKEN.reply),
  [PATHS.cancelTokenV2]: op(
    PATHS.cancelTokenV2,
    'v2',
    'cancelToken',
    CANCEL_TOKEN.request,
    CANCEL_TOKEN.reply,
  ),
  [PATHS.inquiryUserInfoV2]: op(
    PATHS.inquiryUserInfoV2,
    'v2',
    'inquiryUserInfo',
    INQUIRY_USER_INFO.request,
    INQUIRY_USER_INFO.reply,
  ),
  [PATHS.inquiryUserInfoByAccessTokenV1]: op(
    PATHS.inquiryUserInfoByAccessTokenV1,
    'v1',
    'inquiryUserInfo',
    INQUIRY_USER_INFO.request,
    INQUIRY_USER_INFO.reply,
    PATHS.inquiryUserInfoV1,
  ),
  [PATHS.inquiryUserInfoCustomersV2]: op(
    PATHS.inquiryUserInfoCustomersV2,
    'v2',
    'inquiryUserInfo',
    INQUIRY_USER_INFO.request,
    INQUIRY_USER_INFO.reply,
    PATHS.inquiryUserInfoV2,
  ),
} as const satisfies Record<string, OperationSpec>;

export type OperationPath = keyof typeof OPERATIONS;

/** The notifications the wallet POSTs to merchants (OpenAPI `webhooks`). */
export const NOTIFICATIONS = {
  notifyPayment: {
    summary:
      'A payment reached SUCCESS or FAIL (expiry). POSTed to paymentNotifyUrl, or the merchant default.',
    body: { name: 'NotifyPayment', schema: NotifyPaymentSchema },
    ack: { name: 'NotifyAck', schema: NotifyAckSchema },
  },
  notifyRefund: {
    summary: 'A refund settled. POSTed to the refund request’s refundNotifyUrl, only when one was given.',
    body: { name: 'NotifyRefund', schema: NotifyRefundSchema },
    ack: { name: 'NotifyAck', schema: NotifyAckSchema },
  },
} as const;

/** How an operation uses a code: when it answers with it, or why it never does. */
export type CodeUse = { produced: true; when: string } | { produced: false; why: string };

const yes = (when: string): CodeUse => ({ produced: true, when });
const no = (why: string): CodeUse => ({ produced: false, why });

/** Codes every operation shares: the signature and gateway layer, and the ones Billetera has no use for. */
const COMMON: Partial<Record<ResultCode, CodeUse>> = {
  PARAM_ILLEGAL: yes(
    'a required header is missing or Request-Time is unreadable; the body is not a JSON object or is over 64 KiB; a field is missing, too long or malformed (the message names it)',
  ),
  CLIENT_INVALID: yes('the Client-Id is unknown'),
  KEY_NOT_FOUND: yes('the merchant has no active key with that keyVersion'),
  INVALID_SIGNATURE: yes(
    'the signature does not verify over path, Client-Id, Request-Time and body, or Request-Time is more than 300 s off',
  ),
  INVALID_API: yes('the path is not one of these operations (a typo, an unknown version)'),
  METHOD_NOT_SUPPORTED: yes('the method is not POST'),
  UNKNOWN_EXCEPTION: yes(
    'an unexpected fault (the database is unreachable...): retry the same request or query; the message carries a trace id',
  ),
  REQUEST_TRAFFIC_EXCEED_LIMIT: yes(
    'the merchant is over its rate limit (signed reply), or its IP sent too many unauthenticated requests (unsigned reply, before the body is read); retry after the Retry-After header’s seconds',
  ),
  PROCESS_FAIL: no('every refusal has a specific code'),
  EXPIRED_AGENT_TOKEN: no(
    'there are no ISV agent tokens: an Agent-Token header is ignored and every call is its Client-Id’s own',
  ),
  INVALID_AGENT_TOKEN: no(
    'there are no ISV agent tokens: an Agent-Token header is ignored and every call is its Client-Id’s own',
  ),
};

const NOT_VERIFIED = yes(
  'the merchant’s business licence is not verified or its website check has not passed, or it is frozen',
);
const AUTH_NOT_VERIFIED = yes(
  'the merchant is not verified or is frozen (the authorization APIs’ name for PARTNER_STATUS_ABNORMAL)',
);
const PARTNER_ID = 'v1 only: partnerId is given and is not the caller’s';

export const OPERATION_CODES: Record<OperationName, Partial<Record<ResultCode, CodeUse>>> = {
  pay: {
    ...COMMON,
    ACCEPT: yes('the order was created (or replayed): send the payer to the cashier URL'),
    SUCCESS: no(
      'cashier payments are never paid synchronously: pay answers A / ACCEPT and the outcome comes by notifyPayment or inquiryPayment',
    ),
    PAYMENT_IN_PROCESS: no(
      'a duplicate that arrives while the first is in flight waits for it and gets its reply; never a second order',
    ),
    REPEAT_REQ_INCONSISTENT: yes('the paymentRequestId was used before with other fields'),
    ACCESS_DENIED: yes('v1: partnerId is not the caller’s; appId is not one of the caller’s mini programs'),
    PARTNER_STATUS_ABNORMAL: NOT_VERIFIED,
    PAYMENT_AMOUNT_EXCEED_LIMIT: yes('the amount is above 999,999,999,999,999 minor units'),
    CURRENCY_NOT_SUPPORT: yes('the currency is unknown or not money (XAU, XDR...)'),
    USER_NOT_EXIST: no(
      'the payer is unknown when the order is created; the cashier tells the payer when they confirm',
    ),
    USER_STATUS_ABNORMAL: no(
      'the payer is unknown when the order is created; the cashier tells the payer when they confirm',
    ),
    USER_BALANCE_NOT_ENOUGH: no(
      'the payer is unknown when the order is created; the cashier tells the payer when they confirm',
    ),
    PARTNER_NOT_EXIST: no('an unknown merchant is an unknown Client-Id: CLIENT_INVALID'),
    RISK_REJECT: no('Billetera has no risk engine'),
    ORDER_STATUS_INVALID: no(
      'a pay with a known paymentRequestId is replayed or REPEAT_REQ_INCONSISTENT; it never touches the order',
    ),
    USER_AMOUNT_EXCEED_LIMIT: no('Billetera has no per-user limits'),
    INVALID_ACCESS_TOKEN: no(
      'no agreement pay or payment codes: the paymentFactor flags for those flows are PARAM_ILLEGAL',
    ),
    EXPIRED_ACCESS_TOKEN: no(
      'no agreement pay or payment codes: the paymentFactor flags for those flows are PARAM_ILLEGAL',
    ),
    AUTH_CODE_ALREADY_USED: no(
      'no agreement pay or payment codes: the paymentFactor flags for those flows are PARAM_ILLEGAL',
    ),
    INVALID_CODE: no(
      'no agreement pay or payment codes: the paymentFactor flags for those flows are PARAM_ILLEGAL',
    ),
  },
  inquiryPayment: {
    ...COMMON,
    SUCCESS: yes('the payment was found: read paymentStatus'),
    ORDER_NOT_EXIST: yes('no such payment, or another merchant’s (the replies are identical)'),
    ACCESS_DENIED: yes(PARTNER_ID),
  },
  cancel: {
    ...COMMON,
    SUCCESS: yes('the order is CANCELLED (now, or by an earlier cancel: the same cancelTime again)'),
    ORDER_NOT_EXIST: yes('no such payment, or another merchant’s'),
    ORDER_STATUS_INVALID: yes(
      'the order is paid (refund it instead), failed, or expired (an order past its expiry time is failed and notified first)',
    ),
    ACCESS_DENIED: yes(PARTNER_ID),
    PARTNER_STATUS_ABNORMAL: NOT_VERIFIED,
    CANCEL_WINDOW_EXCEED: no(
      'only unpaid orders can be cancelled, until they expire; after that the answer is ORDER_STATUS_INVALID',
    ),
    MERCHANT_BALANCE_NOT_ENOUGH: no('a cancel never moves money (only unpaid orders are cancelled)'),
  },
  refund: {
    ...COMMON,
    SUCCESS: yes('the refund settled (or is replayed): refundId and refundTime are set'),
    REFUND_IN_PROCESS: no(
      'refunds settle synchronously; a duplicate that arrives while the first is in flight waits for it and gets its reply',
    ),
    REPEAT_REQ_INCONSISTENT: yes('the refundRequestId was used before with other fields'),
    ACCESS_DENIED: yes('v1: partnerId is not the caller’s'),
    PARTNER_STATUS_ABNORMAL: NOT_VERIFIED,
    ORDER_NOT_EXIST: yes('no such payment, or another merchant’s'),
    ORDER_STATUS_INVALID: yes('the payment is not SUCCESS (still PROCESSING, failed or cancelled)'),
    CURRENCY_NOT_SUPPORT: yes('refundAmount.currency is not the payment’s currency'),
    REFUND_WINDOW_EXCEED: yes('the payment was paid 365 days ago or more'),
    REFUND_AMOUNT_EXCEED: yes('this refund would take the refunded total above the paid amount'),
    PARTNER_BALANCE_NOT_ENOUGH: yes('the merchant’s balance in that currency does not cover the refund'),
  },
  inquiryRefund: {
    ...COMMON,
    SUCCESS: yes('the refund was found: read refundStatus'),
    ORDER_NOT_EXIST: yes('no such refund, or another merchant’s (the replies are identical)'),
    ACCESS_DENIED: yes(PARTNER_ID),
  },
  applyToken: {
    ...COMMON,
    SUCCESS: yes('tokens issued: accessToken (1 h), refreshToken (30 days, single use) and customerId'),
    PARAM_ILLEGAL: yes(
      'as for every API; also authCode missing for AUTHORIZATION_CODE or refreshToken missing for REFRESH_TOKEN',
    ),
    AUTH_CLIENT_UNSUPPORTED_GRANT_TYPE: yes('grantType is neither AUTHORIZATION_CODE nor REFRESH_TOKEN'),
    INVALID_AUTH_CLIENT_STATUS: AUTH_NOT_VERIFIED,
    INVALID_AUTH_CLIENT: no('applyToken has no authClientId: the caller is its Client-Id'),
    INVALID_CODE: yes(
      'no such authCode, another merchant’s (the replies are identical), or the user revoked the access',
    ),
    USED_CODE: yes(
      'the authCode was redeemed before; the tokens issued for it are revoked (a code seen twice may be stolen)',
    ),
    EXPIRED_CODE: yes('the authCode is more than 5 minutes old'),
    REFERENCE_CLIENT_ID_NOT_MATCH: yes(
      'referenceClientId is given and is not the mini program (appId) the code or token was issued in',
    ),
    INVALID_REFRESH_TOKEN: yes(
      'no such refresh token, another merchant’s, cancelled with cancelToken, or revoked by the user',
    ),
    USED_REFRESH_TOKEN: yes(
      'the refresh token was used before; every token of that authorization is revoked (reuse detection)',
    ),
    EXPIRED_REFRESH_TOKEN: yes('the refresh token is more than 30 days old'),
    ACCESS_DENIED: yes('the mini program the code was issued in no longer has the User information feature'),
  },
  cancelToken: {
    ...COMMON,
    SUCCESS: yes(
      'the access token and every token issued with it (its refresh token) are revoked; cancelling again, or cancelling an expired token, also answers S',
    ),
    INVALID_AUTH_CLIENT_STATUS: AUTH_NOT_VERIFIED,
    INVALID_ACCESS_TOKEN: yes('no such access token, or another merchant’s'),
    ACCESS_DENIED: no(
      'giving access up is always allowed, also after the mini program lost its User information feature',
    ),
    EXPIRED_ACCESS_TOKEN: no(
      'an expired access token is still cancelled (its refresh token stops working), which is what the caller wants',
    ),
  },
  inquiryUserInfo: {
    ...COMMON,
    SUCCESS: yes('userInfo holds userId (the customerId), status, and the fields the granted scopes release'),
    INVALID_AUTH_CLIENT: yes('authClientId is given and is not the Client-Id of the request'),
    INVALID_AUTH_CLIENT_STATUS: AUTH_NOT_VERIFIED,
    INVALID_ACCESS_TOKEN: yes(
      'no such access token, another merchant’s, cancelled, revoked by the user, or a refresh token',
    ),
    EXPIRED_ACCESS_TOKEN: yes('the access token is more than 1 hour old: renew it with applyToken'),
    ACCESS_DENIED: yes('the mini program the token was issued in no longer has the User information feature'),
  },
};
