/**
 * The bridge between a mini program (sandboxed iframe, no same-origin) and the wallet's host app.
 * Pure: types, constants and shape guards only, so the host shell and the jsapi bundle share one copy.
 *
 * - request, mini program -> host: `window.parent.postMessage(BridgeRequest, '*')`
 * - response, host -> mini program: `iframe.contentWindow.postMessage(BridgeResponse, '*')`
 *
 * `'*'` is deliberate on both sides: a sandboxed iframe has an opaque origin ("null") that cannot be
 * named as a target, so each side authenticates the other by `event.source` (the exact window object)
 * instead of by origin.
 */

export const BRIDGE_REQUEST_SOURCE = 'billetera-jsapi';
export const BRIDGE_RESPONSE_SOURCE = 'billetera-host';
export const BRIDGE_VERSION = 1;

/** Error codes a `fail` callback (or a rejected promise) carries in `error`. */
export const JSAPI_ERROR_INVALID_PARAMETERS = 2;
export const JSAPI_ERROR_UNKNOWN = 3;
/** The mini program lacks the feature (permission) for this JSAPI. */
export const JSAPI_ERROR_NOT_AUTHORIZED = 4;
/** The user refused (getAuthCode consent sheet closed or declined). */
export const JSAPI_ERROR_USER_CANCELLED = 11;
/** Not running inside the wallet: no parent window to talk to. */
export const JSAPI_ERROR_NO_HOST = 1001;

export const JSAPI_ERROR_CODES = {
  INVALID_PARAMETERS: JSAPI_ERROR_INVALID_PARAMETERS,
  UNKNOWN: JSAPI_ERROR_UNKNOWN,
  NOT_AUTHORIZED: JSAPI_ERROR_NOT_AUTHORIZED,
  USER_CANCELLED: JSAPI_ERROR_USER_CANCELLED,
  NO_HOST: JSAPI_ERROR_NO_HOST,
} as const;

/** Payment outcomes, as in Alipay: all of them arrive as `ok: true` results (the success callback). */
export const TRADE_PAY_RESULT_CODES = ['9000', '8000', '4000', '6001', '6002', '6004'] as const;
export type TradePayResultCode = (typeof TRADE_PAY_RESULT_CODES)[number];
/** 6004: the result is unknown (the payment may have succeeded); the merchant server must inquire. */
export const TRADE_PAY_RESULT_UNKNOWN: TradePayResultCode = '6004';

export const TOAST_TYPES = ['none', 'success', 'fail', 'exception'] as const;
export type ToastType = (typeof TOAST_TYPES)[number];

export interface TradePayParams {
  tradeNO?: string;
  paymentUrl?: string;
  orderStr?: string;
}
export interface TradePayResult {
  resultCode: TradePayResultCode;
}

export type GetSiteInfoParams = Record<string, never>;
export interface GetSiteInfoResult {
  siteName: string;
  siteRegion?: string;
}

export interface AlertParams {
  title?: string;
  content?: string;
  buttonText?: string;
}
/** An empty object: `{}`. */
export type EmptyResult = Record<string, never>;

export interface ShowToastParams {
  content?: string;
  type?: ToastType;
  duration?: number;
}

export interface NavigateToParams {
  url: string;
}

export interface GetAuthCodeParams {
  /** The jsapi always sends an array; a host should accept a single string too. */
  scopes: string[] | string;
}
export interface GetAuthCodeResult {
  authCode: string;
  authSuccessScopes: string[];
  /** Scopes refused while others were granted: scope -> error code (Alipay's shape). */
  authErrorScopes?: Record<string, string>;
}

/** Every bridge method: its params and its `ok: true` result. */
export interface BridgeMethods {
  tradePay: { params: TradePayParams; result: TradePayResult };
  getSiteInfo: { params: GetSiteInfoParams; result: GetSiteInfoResult };
  alert: { params: AlertParams; result: EmptyResult };
  showToast: { params: ShowToastParams; result: EmptyResult };
  navigateTo: { params: NavigateToParams; result: EmptyResult };
  getAuthCode: { params: GetAuthCodeParams; result: GetAuthCodeResult };
}
export type BridgeMethod = keyof BridgeMethods;

export const BRIDGE_METHODS = [
  'tradePay',
  'getSiteInfo',
  'alert',
  'showToast',
  'navigateTo',
  'getAuthCode',
] as const satisfies readonly BridgeMethod[];

/** Methods that wait for the user and so have no timeout in the jsapi. */
export const INTERACTIVE_METHODS = [
  'tradePay',
  'alert',
  'getAuthCode',
] as const satisfies readonly BridgeMethod[];

export interface BridgeRequest<M extends BridgeMethod = BridgeMethod> {
  source: typeof BRIDGE_REQUEST_SOURCE;
  version: typeof BRIDGE_VERSION;
  /** Unique per call within the iframe; the response carries it back. */
  id: string;
  method: M;
  params: BridgeMethods[M]['params'];
}

/** What a `fail` callback receives. `authErrorScopes` only from getAuthCode. */
export interface BridgeError {
  error: number;
  errorMessage: string;
  authErrorScopes?: Record<string, string>;
}

export interface BridgeSuccessResponse<R extends object = object> {
  source: typeof BRIDGE_RESPONSE_SOURCE;
  version: typeof BRIDGE_VERSION;
  id: string;
  ok: true;
  result: R;
}
export interface BridgeFailureResponse {
  source: typeof BRIDGE_RESPONSE_SOURCE;
  version: typeof BRIDGE_VERSION;
  id: string;
  ok: false;
  error: BridgeError;
}
export type BridgeResponse<R extends object = object> = BridgeSuccessResponse<R> | BridgeFailureResponse;

export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isBridgeMethod(value: unknown): value is BridgeMethod {
  return (BRIDGE_METHODS as readonly unknown[]).includes(value);
}

/**
 * True for a well-formed request envelope (for the host). It checks the envelope only: the host still
 * validates `params` for the method, and must check `event.source` is the iframe it created.
 */
export function isBridgeRequest(value: unknown): value is BridgeRequest {
  return (
    isPlainRecord(value) &&
    value['source'] === BRIDGE_REQUEST_SOURCE &&
    value['version'] === BRIDGE_VERSION &&
    typeof value['id'] === 'string' &&
    value['id'] !== '' &&
    typeof value['method'] === 'string' &&
    isPlainRecord(value['params'])
  );
}

/** True when `value` claims to be a host response (source and version); its body is checked apart. */
export function isBridgeResponseEnvelope(
  value: unknown,
): value is { source: string; version: number; id: string } {
  return (
    isPlainRecord(value) &&
    value['source'] === BRIDGE_RESPONSE_SOURCE &&
    value['version'] === BRIDGE_VERSION &&
    typeof value['id'] === 'string'
  );
}

export function isBridgeError(value: unknown): value is BridgeError {
  return (
    isPlainRecord(value) &&
    typeof value['error'] === 'number' &&
    Number.isInteger(value['error']) &&
    typeof value['errorMessage'] === 'string' &&
    (value['authErrorScopes'] === undefined || isStringRecord(value['authErrorScopes']))
  );
}

export function isStringRecord(value: unknown): value is Record<string, string> {
  return isPlainRecord(value) && Object.values(value).every((v) => typeof v === 'string');
}
