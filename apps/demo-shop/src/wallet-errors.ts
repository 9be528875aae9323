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
