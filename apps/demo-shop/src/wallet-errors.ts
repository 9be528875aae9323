/**
 * How a failed call to the wallet reaches the shop's own clients: HTTP 502 (the shop is fine, the
 * upstream is not) with a code the mini program can show. Only the SDK's own errors are turned into
 * 502s; anything else is a bug and goes to the error handler.
 */
import {
  BilleteraApiError,
  BilleteraError,
  ConnectionError,
  SignatureVerificationError,
  UnexpectedResponseError,
} from '@billetera/sdk-node';

export interface WalletFailure {
  error: string;
  message: string;
}

export function walletFailure(err: unknown): WalletFailure | undefined {
  if (err instanceof BilleteraApiError) return { error: err.resultCode, message: err.resultMessage };
  if (err instanceof UnexpectedResponseError)
    return { error: 'WALLET_UNEXPECTED_REPLY', message: `the wallet answered HTTP ${err.statusCode}` };
  if (err instanceof ConnectionError)
    return {
      error: 'WALLET_UNREACHABLE',
      message: err.timedOut ? 'the wallet did not answer in time' : 'the wallet could not be reached',
    };
  if (err instanceof SignatureVerificationError)
    return {
      error: 'WALLET_SIGNATURE_INVALID',
      message: `the wallet's reply did not verify (${err.reason})`,
    };
  if (err instanceof BilleteraError) return { error: 'WALLET_ERROR', message: err.message };
  return undefined;
}

/** The wallet's refusals of a sign-in that come from the authCode itself: the user must sign in again. */
const CODE_REFUSALS: Readonly<Record<string, string>> = {
  INVALID_CODE: 'the sign-in code is not valid',
  USED_CODE: 'the sign-in code was already used',
  EXPIRED_CODE: 'the sign-in code expired',
  REFERENCE_CLIENT_ID_NOT_MATCH: 'the sign-in code was issued to another mini program',
  INVALID_ACCESS_TOKEN: 'the wallet no longer accepts this sign-in',
  EXPIRED_ACCESS_TOKEN: 'the wallet no longer accepts this sign-in',
  PARAM_ILLEGAL: 'the wallet did not accept the sign-in code',
};
/** Refusals that mean this shop may not read users (not verified, frozen, no user-information feature). */
const SHOP_REFUSALS = new Set([
  'ACCESS_DENIED',
  'INVALID_AUTH_CLIENT',
  'INVALID_AUTH_CLIENT_STATUS',
  'AUTH_CLIENT_UNSUPPORTED_GRANT_TYPE',
  'PARTNER_STATUS_ABNORMAL',
  'CLIENT_INVALID',
]);

export interface SignInFailure {
  statusCode: number;
  body: WalletFailure;
}

/**
 * A failed sign-in (applyToken, inquiryUserInfo), for the mini program: 401 with the wallet's code when
 * the authCode was bad, used or expired (ask the user again), 403 when the wallet will not let this shop
 * read users at all, and 502 like any other call when the wallet failed. Undefined for non-SDK errors.
 */
export function signInFailure(err: unknown): SignInFailure | undefined {
  if (err instanceof BilleteraApiError && err.result.resultStatus === 'F') {
    const why = CODE_REFUSALS[err.resultCode];
    if (why !== undefined)
      return { statusCode: 401, body: { error: err.resultCode, message: `${why}: sign in again` } };
    if (SHOP_REFUSALS.has(err.resultCode))
      return {
        statusCode: 403,
        body: {
          error: err.resultCode,
          message: `the wallet does not let this shop read users: ${err.resultMessage}`,
        },
      };
  }
  const failure = walletFailure(err);
  return failure === undefined ? undefined : { statusCode: 502, body: failure };
}
