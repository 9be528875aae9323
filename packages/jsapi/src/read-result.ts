/**
 * Turns a host response into what the caller receives, copying only the documented fields. A response
 * that breaks the protocol becomes error 3 rather than a value whose type would lie.
 */
import {
  JSAPI_ERROR_UNKNOWN,
  TRADE_PAY_RESULT_CODES,
  TRADE_PAY_RESULT_UNKNOWN,
  isBridgeError,
  isPlainRecord,
  isStringRecord,
  type BridgeError,
  type BridgeMethod,
  type GetSiteInfoResult,
  type TradePayResult,
} from './bridge-protocol.ts';
import type { GetAuthCodeSuccess, MyResults } from './types.ts';

export type Outcome<R> = { ok: true; result: R } | { ok: false; error: BridgeError };

type Result = Readonly<Record<string, unknown>>;
type Readers = { [M in BridgeMethod]: (result: Result) => Outcome<MyResults[M]> };

const success = <R>(result: R): Outcome<R> => ({ ok: true, result });

export function failure(error: number, errorMessage: string): { ok: false; error: BridgeError } {
  return { ok: false, error: { error, errorMessage } };
}

const malformed = (method: string, what: string) =>
  failure(JSAPI_ERROR_UNKNOWN, `the wallet answered ${method} with ${what}`);

/**
 * An unexpected code (or none) means nobody here knows how the payment ended: 6004, "result unknown",
 * tells the merchant to ask its server, which is what it must do anyway.
 */
function tradePay(result: Result): Outcome<TradePayResult> {
  const resultCode = TRADE_PAY_RESULT_CODES.find((code) => code === result['resultCode']);
  return success({ resultCode: resultCode ?? TRADE_PAY_RESULT_UNKNOWN });
}

function getSiteInfo(result: Result): Outcome<GetSiteInfoResult> {
  const { siteName, siteRegion } = result;
  if (typeof siteName !== 'string') return malformed('getSiteInfo', 'no siteName');
  if (siteRegion !== undefined && typeof siteRegion !== 'string') {
    return malformed('getSiteInfo', 'a siteRegion that is not a string');
  }
  return success(siteRegion === undefined ? { siteName } : { siteName, siteRegion });
}

function getAuthCode(result: Result): Outcome<GetAuthCodeSuccess> {
  const { authCode, authSuccessScopes, authErrorScopes } = result;
  if (typeof authCode !== 'string' || authCode === '') return malformed('getAuthCode', 'no authCode');
  if (!Array.isArray(authSuccessScopes) || !authSuccessScopes.every((s) => typeof s === 'string')) {
    return malformed('getAuthCode', 'no authSuccessScopes list');
  }
  return success({
    authCode,
    authSuccessScopes: [...(authSuccessScopes as string[])],
    // Alipay's success always carries it; a host that refused no scope may leave it out.
    authErrorScopes: isStringRecord(authErrorScopes) ? { ...authErrorScopes } : {},
  });
}

const empty = () => success({});

const readers: Readers = {
  tradePay,
  getSiteInfo,
  alert: empty,
  showToast: empty,
  navigateTo: empty,
  getAuthCode,
};

/** Reads the body of a response whose envelope (source, version, pending id) was already checked. */
export function readResponse<M extends BridgeMethod>(
  method: M,
  response: Readonly<Record<string, unknown>>,
): Outcome<MyResults[M]> {
  if (response['ok'] === true && isPlainRecord(response['result'])) {
    return readers[method](response['result']);
  }
  if (response['ok'] === false && isBridgeError(response['error'])) {
    const { error, errorMessage, authErrorScopes } = response['error'];
    const copy: BridgeError = { error, errorMessage };
    if (authErrorScopes !== undefined) copy.authErrorScopes = { ...authErrorScopes };
    return { ok: false, error: copy };
  }
  return malformed(method, 'a response that breaks the bridge protocol');
}
