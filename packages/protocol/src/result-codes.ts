/**
 * The closed catalogue of result codes. Every OpenAPI outcome, and every refusal of the wallet's own
 * use cases (cashier, CLI), is one of these. `status` is the Alipay+ resultStatus; `retryable` says
 * whether the same request may succeed later (U codes, throttling).
 *
 * Sources: alipay-plus-reference.md sections 6 (pay), 9 (inquiryPayment), 8 (notify ack), 10 (cancel),
 * 11 (refund), 12 (common), 14 (authorization); decisions.md for the signature layer and statuses.
 */
export type ResultStatus = 'S' | 'F' | 'U' | 'A';

export interface ResultCodeInfo {
  readonly status: ResultStatus;
  readonly message: string;
  readonly retryable: boolean;
  /** Where the code comes from: the Alipay+ reference, or Billetera's own cashier/CLI use cases. */
  readonly origin: 'reference' | 'billetera';
}

const ref = (status: ResultStatus, message: string, retryable = status === 'U'): ResultCodeInfo => ({
  status,
  message,
  retryable,
  origin: 'reference',
});
const own = (status: ResultStatus, message: string): ResultCodeInfo => ({
  status,
  message,
  retryable: false,
  origin: 'billetera',
});

export const RESULT_CODES = {
  // S and A
  SUCCESS: ref('S', 'Success'),
  ACCEPT: ref('A', 'accept'),

  // U: unknown outcome, query or retry with the same request
  UNKNOWN_EXCEPTION: ref('U', 'An unknown error occurred; query or retry with the same request'),
  // The common error-codes page says F, every API page says U; Billetera follows the API pages.
  REQUEST_TRAFFIC_EXCEED_LIMIT: ref('U', 'Too many requests; retry later'),
  PAYMENT_IN_PROCESS: ref('U', 'The payment is being processed; retry or query later'),
  REFUND_IN_PROCESS: ref('U', 'The refund is being processed; retry or query later'),

  // F: common
  PROCESS_FAIL: ref('F', 'A general business failure occurred'),
  PARAM_ILLEGAL: ref('F', 'Illegal parameters'),
  INVALID_API: ref('F', 'The API is unknown or not active'),
  ACCESS_DENIED: ref('F', 'Access denied'),
  REPEAT_REQ_INCONSISTENT: ref('F', 'The request id was used before with different parameters'),
  EXPIRED_AGENT_TOKEN: ref('F', 'The agent token has expired'),
  INVALID_AGENT_TOKEN: ref('F', 'The agent token is invalid'),

  // F: signature and gateway layer
  CLIENT_INVALID: ref('F', 'Unknown Client-Id'),
  KEY_NOT_FOUND: ref('F', 'No active key for this Client-Id and keyVersion'),
  INVALID_SIGNATURE: ref('F', 'The signature is invalid'),
  METHOD_NOT_SUPPORTED: ref('F', 'The HTTP method is not supported'),

  // F: payments
  PAYMENT_AMOUNT_EXCEED_LIMIT: ref('F', 'The payment amount exceeds the limit'),
  USER_NOT_EXIST: ref('F', 'The user does not exist'),
  USER_STATUS_ABNORMAL: ref('F', 'The user status is abnormal'),
  USER_BALANCE_NOT_ENOUGH: ref('F', 'The user balance is not enough'),
  USER_AMOUNT_EXCEED_LIMIT: ref('F', 'The amount exceeds the user limit'),
  PARTNER_NOT_EXIST: ref('F', 'The partner does not exist'),
  PARTNER_STATUS_ABNORMAL: ref('F', 'The partner status is abnormal'),
  RISK_REJECT: ref('F', 'Rejected by risk control'),
  CURRENCY_NOT_SUPPORT: ref('F', 'The currency is not supported'),
  ORDER_STATUS_INVALID: ref('F', 'The order status is invalid for this operation'),
  ORDER_NOT_EXIST: ref('F', 'The order does not exist'),
  AUTH_CODE_ALREADY_USED: ref('F', 'The auth code was already used'),
  CANCEL_WINDOW_EXCEED: ref('F', 'The cancel window has passed'),
  MERCHANT_BALANCE_NOT_ENOUGH: ref('F', 'The merchant balance is not enough'),

  // F: refunds
  REFUND_WINDOW_EXCEED: ref('F', 'The refund window has passed'),
  REFUND_AMOUNT_EXCEED: ref('F', 'The total refund amount exceeds the payment amount'),
  PARTNER_BALANCE_NOT_ENOUGH: ref('F', 'The partner balance is not enough for the refund'),

  // F: authorization (applyToken, cancelToken, inquiryUserInfo)
  AUTH_CLIENT_UNSUPPORTED_GRANT_TYPE: ref('F', 'The grant type is not supported'),
  INVALID_AUTH_CLIENT: ref('F', 'The auth client is invalid'),
  INVALID_AUTH_CLIENT_STATUS: ref('F', 'The auth client status is invalid'),
  INVALID_REFRESH_TOKEN: ref('F', 'The refresh token is invalid'),
  EXPIRED_REFRESH_TOKEN: ref('F', 'The refresh token has expired'),
  USED_REFRESH_TOKEN: ref('F', 'The refresh token was already used'),
  INVALID_CODE: ref('F', 'The auth code is invalid'),
  USED_CODE: ref('F', 'The auth code was already used'),
  EXPIRED_CODE: ref('F', 'The auth code has expired'),
  REFERENCE_CLIENT_ID_NOT_MATCH: ref('F', 'The referenceClientId does not match'),
  INVALID_ACCESS_TOKEN: ref('F', 'The access token is invalid'),
  EXPIRED_ACCESS_TOKEN: ref('F', 'The access token has expired'),

  // Billetera's own codes, used by the cashier and the CLI (never on the OpenAPI wire)
  INVALID_PIN: own('F', 'Wrong PIN'),
  PIN_LOCKED: own('F', 'Too many wrong PINs; payments are locked for a while'),
  ORDER_EXPIRED: own('F', 'The order has expired and can no longer be paid'),
} as const satisfies Record<string, ResultCodeInfo>;

export type ResultCode = keyof typeof RESULT_CODES;

export interface Result {
  resultStatus: ResultStatus;
  resultCode: string;
  resultMessage: string;
}

const MAX_MESSAGE = 256;

/** The wire `result` object for a code, with an optional message naming what went wrong. */
export function resultOf(code: ResultCode, message?: string): Result {
  const info = RESULT_CODES[code];
  const text = message ?? info.message;
  return {
    resultStatus: info.status,
    resultCode: code,
    resultMessage: truncate(text, MAX_MESSAGE),
  };
}

/** At most `max` UTF-16 units, ending with `…` when cut; never splits a surrogate pair (an emoji). */
function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // a high surrogate whose low half would be cut off
  return text.slice(0, end) + '…';
}

export function isResultCode(value: string): value is ResultCode {
  return Object.prototype.hasOwnProperty.call(RESULT_CODES, value);
}

/** Codes each API may answer with, as the reference lists them (plus the signature layer). */
const SIGNATURE_LAYER = ['CLIENT_INVALID', 'KEY_NOT_FOUND', 'INVALID_SIGNATURE', 'INVALID_API'] as const;
export const API_RESULT_CODES = {
  'v1/payments/pay': [
    'SUCCESS',
    'ACCEPT',
    'UNKNOWN_EXCEPTION',
    'REQUEST_TRAFFIC_EXCEED_LIMIT',
    'PAYMENT_IN_PROCESS',
    'REPEAT_REQ_INCONSISTENT',
    'PROCESS_FAIL',
    'INVALID_API',
    'PARAM_ILLEGAL',
    'ACCESS_DENIED',
    'PAYMENT_AMOUNT_EXCEED_LIMIT',
    'USER_NOT_EXIST',
    'USER_STATUS_ABNORMAL',
    'USER_BALANCE_NOT_ENOUGH',
    'PARTNER_NOT_EXIST',
    'PARTNER_STATUS_ABNORMAL',
    'RISK_REJECT',
    'CURRENCY_NOT_SUPPORT',
    'ORDER_STATUS_INVALID',
    'INVALID_ACCESS_TOKEN',
    'USER_AMOUNT_EXCEED_LIMIT',
    'EXPIRED_ACCESS_TOKEN',
    'AUTH_CODE_ALREADY_USED',
    'INVALID_CODE',
    'EXPIRED_AGENT_TOKEN',
    'INVALID_AGENT_TOKEN',
    ...SIGNATURE_LAYER,
  ],
  'v1/payments/inquiryPayment': [
    'SUCCESS',
    'UNKNOWN_EXCEPTION',
    'REQUEST_TRAFFIC_EXCEED_LIMIT',
    'ORDER_NOT_EXIST',
    'INVALID_API',
    'PARAM_ILLEGAL',
    'PROCESS_FAIL',
    'ACCESS_DENIED',
    'EXPIRED_AGENT_TOKEN',
    'INVALID_AGENT_TOKEN',
    ...SIGNATURE_LAYER,
  ],
  'v1/payments/cancel': [
    'SUCCESS',
    'UNKNOWN_EXCEPTION',
    'CANCEL_WINDOW_EXCEED',
    'ORDER_NOT_EXIST',
    'KEY_NOT_FOUND',
    'CLIENT_INVALID',
    'INVALID_SIGNATURE',
    'METHOD_NOT_SUPPORTED',
    'MERCHANT_BALANCE_NOT_ENOUGH',
    ...SIGNATURE_LAYER,
  ],
  'v1/payments/refund': [
    'SUCCESS',
    'UNKNOWN_EXCEPTION',
    'REQUEST_TRAFFIC_EXCEED_LIMIT',
    'REFUND_IN_PROCESS',
    'REPEAT_REQ_INCONSISTENT',
    'PROCESS_FAIL',
    'PARAM_ILLEGAL',
    'INVALID_API',
    'ACCESS_DENIED',
    'PARTNER_STATUS_ABNORMAL',
    'ORDER_NOT_EXIST',
    'ORDER_STATUS_INVALID',
    'REFUND_WINDOW_EXCEED',
    'REFUND_AMOUNT_EXCEED',
    'PARTNER_BALANCE_NOT_ENOUGH',
    'CURRENCY_NOT_SUPPORT',
    'EXPIRED_AGENT_TOKEN',
    'INVALID_AGENT_TOKEN',
    ...SIGNATURE_LAYER,
  ],
  'v1/authorizations/applyToken': [
    'SUCCESS',
    'PROCESS_FAIL',
    'PARAM_ILLEGAL',
    'ACCESS_DENIED',
    'INVALID_API',
    'AUTH_CLIENT_UNSUPPORTED_GRANT_TYPE',
    'INVALID_AUTH_CLIENT',
    'INVALID_AUTH_CLIENT_STATUS',
    'INVALID_REFRESH_TOKEN',
    'EXPIRED_REFRESH_TOKEN',
    'USED_REFRESH_TOKEN',
    'INVALID_CODE',
    'USED_CODE',
    'EXPIRED_CODE',
    'REFERENCE_CLIENT_ID_NOT_MATCH',
    'EXPIRED_AGENT_TOKEN',
    'INVALID_AGENT_TOKEN',
    'UNKNOWN_EXCEPTION',
    'REQUEST_TRAFFIC_EXCEED_LIMIT',
    ...SIGNATURE_LAYER,
  ],
  // "the applyToken set plus INVALID_ACCESS_TOKEN and EXPIRED_ACCESS_TOKEN"; the grant-type and code
  // codes cannot arise without a grant type or a code, so only the ones that apply are listed.
  'v1/authorizations/cancelToken': [
    'SUCCESS',
    'PROCESS_FAIL',
    'PARAM_ILLEGAL',
    'ACCESS_DENIED',
    'INVALID_API',
    'INVALID_AUTH_CLIENT_STATUS',
    'INVALID_ACCESS_TOKEN',
    'EXPIRED_ACCESS_TOKEN',
    'EXPIRED_AGENT_TOKEN',
    'INVALID_AGENT_TOKEN',
    'UNKNOWN_EXCEPTION',
    'REQUEST_TRAFFIC_EXCEED_LIMIT',
    ...SIGNATURE_LAYER,
  ],
  'v1/users/inquiryUserInfo': [
    'SUCCESS',
    'PROCESS_FAIL',
    'PARAM_ILLEGAL',
    'ACCESS_DENIED',
    'INVALID_API',
    'INVALID_ACCESS_TOKEN',
    'INVALID_AUTH_CLIENT',
    'EXPIRED_ACCESS_TOKEN',
    'EXPIRED_AGENT_TOKEN',
    'INVALID_AGENT_TOKEN',
    'UNKNOWN_EXCEPTION',
    'REQUEST_TRAFFIC_EXCEED_LIMIT',
    ...SIGNATURE_LAYER,
  ],
  'v1/payments/notifyPayment (merchant acknowledgement)': [
    'SUCCESS',
    'UNKNOWN_EXCEPTION',
    'REQUEST_TRAFFIC_EXCEED_LIMIT',
    'REPEAT_REQ_INCONSISTENT',
  ],
} as const satisfies Record<string, readonly ResultCode[]>;
