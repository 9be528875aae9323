/**
 * Verifies an OpenAPI request (decisions.md): Client-Id known (CLIENT_INVALID), Request-Time parseable
 * (PARAM_ILLEGAL) and within ±300 s (INVALID_SIGNATURE), Signature header well formed and the key
 * version registered (KEY_NOT_FOUND), RSA256 over `POST <path>\n<Client-Id>.<Request-Time>.<raw body>`.
 */
import { headerValue, parseSignatureHeader, parseWireTime, type ResultCode } from '@billetera/protocol';
import { contentBytes, verifySignature } from '@billetera/protocol/signing';
import type { Merchant } from '@billetera/store';
import type { MerchantCache } from './merchant-cache.ts';

export const REQUEST_TIME_WINDOW_MS = 300_000;

export type Authentication =
  { ok: true; merchant: Merchant; keyVersion: number } | { ok: false; code: ResultCode; message: string };

type Headers = Record<string, string | string[] | undefined>;

export async function authenticate(
  cache: MerchantCache,
  args: { headers: Headers; path: string; body: Buffer; now: number },
): Promise<Authentication> {
  const clientId = headerValue(args.headers, 'client-id');
  if (!clientId) return fail('PARAM_ILLEGAL', 'the Client-Id header is required');
  const requestTime = headerValue(args.headers, 'request-time');
  if (!requestTime) return fail('PARAM_ILLEGAL', 'the Request-Time header is required');
  const at = parseWireTime(requestTime);
  if (at === undefined)
    return fail('PARAM_ILLEGAL', 'Request-Time must be ISO 8601 with an offset, or epoch milliseconds');
  const parsed = parseSignatureHeader(headerValue(args.headers, 'signature'));
  const cached = await cache.get(clientId, parsed.ok ? parsed.value.keyVersion : undefined);
  if (!cached) return fail('CLIENT_INVALID', `unknown Client-Id ${clientId.slice(0, 64)}`);
  if (Math.abs(args.now - at) > REQUEST_TIME_WINDOW_MS) {
    return fail(
      'INVALID_SIGNATURE',
      `Request-Time is outside the window of ±${REQUEST_TIME_WINDOW_MS / 1000} s around the wallet clock`,
    );
  }
  if (!parsed.ok)
    return fail(
      'INVALID_SIGNATURE',
      `the Signature header is ${parsed.problem === 'missing' ? 'missing' : `invalid (${parsed.problem})`}`,
    );
  const keyVersion = parsed.value.keyVersion ?? cached.newest;
  const key = keyVersion === undefined ? undefined : cached.keys.get(keyVersion);
  if (!key || keyVersion === undefined) {
    return fail(
      'KEY_NOT_FOUND',
      `no active key${parsed.value.keyVersion === undefined ? '' : ` with keyVersion ${parsed.value.keyVersion}`} for this Client-Id`,
    );
  }
  const content = contentBytes('POST', args.path, clientId, requestTime, args.body);
  if (!verifySignature(content, parsed.value.signature, key)) {
    return fail(
      'INVALID_SIGNATURE',
      'the signature does not match this request (path, Client-Id, Request-Time and exact body bytes)',
    );
  }
  return { ok: true, merchant: cached.merchant, keyVersion };
}

function fail(code: ResultCode, message: string): Authentication {
  return { ok: false, code, message };
}
