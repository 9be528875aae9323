/**
 * The merchant's client for the wallet's OpenAPI. Each call serialises the request ONCE (the signature
 * covers those exact bytes, and a retry must send the same payload or the wallet answers
 * REPEAT_REQ_INCONSISTENT), signs it, checks the wallet's signature on the reply, and turns the result
 * into a return value (S, A) or a typed error (F, and U once the retries are spent).
 */
import {
  PATHS,
  ResultSchema,
  compileValidator,
  formatWireTime,
  type ApplyTokenReply,
  type ApplyTokenRequest,
  type CancelReply,
  type CancelTokenReply,
  type CancelTokenRequest,
  type CancelV1Request,
  type CancelV2Request,
  type InquiryPaymentV1Reply,
  type InquiryPaymentV1Request,
  type InquiryPaymentV2Request,
  type InquiryRefundReply,
  type InquiryRefundV1Request,
  type InquiryRefundV2Request,
  type InquiryUserInfoReply,
  type InquiryUserInfoRequest,
  type NotifyPayment,
  type NotifyRefund,
  type PayV1Reply,
  type PayV1Request,
  type PayV2Reply,
  type PayV2Request,
  type RefundReply,
  type RefundV1Request,
  type RefundV2Request,
} from '@billetera/protocol';
import { loadPrivateKey, loadPublicKey, type KeyObject } from '@billetera/protocol/signing';
import { setTimeout as sleep } from 'node:timers/promises';
import { acknowledgement, type Acknowledgement } from './build-acknowledgement.ts';
import {
  DEFAULT_RETRY_POLICY,
  MAX_RETRIES_LIMIT,
  backoffDelayMs,
  isRetryable,
  type RetryPolicy,
} from './retry-policy.ts';
import { ConnectionError, UnexpectedResponseError, apiErrorFor, type ReplyBody } from './sdk-errors.ts';
import { merchantSignature, type MerchantSigner } from './sign-headers.ts';
import { verifySignedMessage, type HeaderInput } from './verify-message.ts';
import {
  verifyAnyNotification,
  verifyNotification,
  verifyRefundNotification,
  type AnyNotification,
  type NotificationCheck,
} from './verify-notification.ts';

export interface ClientOptions {
  /** The wallet's origin, e.g. `https://wallet.example.com`; a path prefix is kept and signed. */
  baseUrl: string;
  clientId: string;
  /** The merchant's private key (PEM or KeyObject); parsed once here. */
  privateKey: string | KeyObject;
  /** The wallet's public key (PEM or KeyObject), from `GET /api/open/keys` or `billetera keys`. */
  walletPublicKey: string | KeyObject;
  /** The merchant key's version; absent, the wallet uses the newest active key of this Client-Id. */
  keyVersion?: number;
  /** Per attempt, from sending the request to the last byte of the reply. Default 10 000. */
  timeoutMs?: number;
  /** Retries after the first attempt (connection errors, timeouts, U results). Default 2, at most 10. */
  maxRetries?: number;
  /** Backoff: the first wait is at most `baseMs` (default 200), doubling, never above `maxMs` (5 000). */
  retryDelay?: { baseMs?: number; maxMs?: number };
  fetch?: typeof fetch;
  /** Clock in epoch milliseconds (Request-Time, notification window); injectable for tests. */
  now?: () => number;
  /** The notification time window, ± seconds. Default 300. */
  toleranceSec?: number;
}

export interface BilleteraClient {
  readonly clientId: string;
  /** `/v1/payments/pay`. Resolves on S and on A (cashier flow: redirect to actionForm.redirectionUrl). */
  pay(request: PayV1Request): Promise<PayV1Reply>;
  /** `/v1/payments/inquiryPayment`. Resolves on S: read `paymentStatus`. */
  inquiryPayment(request: InquiryPaymentV1Request): Promise<InquiryPaymentV1Reply>;
  /** `/v1/payments/cancel`: an unpaid order becomes CANCELLED. Idempotent; resolves on S with cancelTime. */
  cancel(request: CancelV1Request): Promise<CancelReply>;
  /** `/v1/payments/refund`: resolves on S with refundId and refundTime. Idempotent by refundRequestId. */
  refund(request: RefundV1Request): Promise<RefundReply>;
  /** `/v1/payments/inquiryRefund`. Resolves on S: read `refundStatus`. */
  inquiryRefund(request: InquiryRefundV1Request): Promise<InquiryRefundReply>;
  /**
   * `/v1/authorizations/applyToken`: an `authCode` from `my.getAuthCode` (grantType AUTHORIZATION_CODE,
   * single use) or a refresh token (REFRESH_TOKEN, single use, rotated) for an access token and the
   * user's `customerId`. Resolves on S; an F (INVALID_CODE, USED_CODE, EXPIRED_CODE...) throws.
   */
  applyToken(request: ApplyTokenRequest): Promise<ApplyTokenReply>;
  /** `/v1/authorizations/cancelToken`: the access token and its refresh token stop working. */
  cancelToken(request: CancelTokenRequest): Promise<CancelTokenReply>;
  /** `/v1/users/inquiryUserInfo`: the user behind an access token, limited to the granted scopes. */
  inquiryUserInfo(request: InquiryUserInfoRequest): Promise<InquiryUserInfoReply>;
  /** The same operations with the v2 bodies (no partnerId; pay takes `order`, answers `redirectActionForm`). */
  readonly v2: {
    pay(request: PayV2Request): Promise<PayV2Reply>;
    inquiryPayment(request: InquiryPaymentV2Request): Promise<InquiryPaymentV1Reply>;
    cancel(request: CancelV2Request): Promise<CancelReply>;
    refund(request: RefundV2Request): Promise<RefundReply>;
    inquiryRefund(request: InquiryRefundV2Request): Promise<InquiryRefundReply>;
    applyToken(request: ApplyTokenRequest): Promise<ApplyTokenReply>;
    cancelToken(request: CancelTokenRequest): Promise<CancelTokenReply>;
    /** v2 user info names the date of birth `birthDate` (v1: `birthday`). */
    inquiryUserInfo(request: InquiryUserInfoRequest): Promise<InquiryUserInfoReply>;
  };
  /** Verifies a notifyPayment to this merchant with the wallet key; see verify-notification.ts. */
  verifyNotification(
    rawBody: string | Uint8Array,
    headers: HeaderInput,
    check: NotificationCheck,
  ): NotifyPayment;
  /** Verifies a notifyRefund (sent to the refund's refundNotifyUrl) the same way. */
  verifyRefundNotification(
    rawBody: string | Uint8Array,
    headers: HeaderInput,
    check: NotificationCheck,
  ): NotifyRefund;
  /** Verifies a notification of either kind, for one URL that receives both. */
  verifyAnyNotification(
    rawBody: string | Uint8Array,
    headers: HeaderInput,
    check: NotificationCheck,
  ): AnyNotification;
  /** The reply to a handled notification; signed with the merchant key when `path` is given. */
  acknowledgement(options?: { path?: string }): Promise<Acknowledgement>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Replies are a few hundred bytes; a megabyte is something else answering. */
const MAX_REPLY_BYTES = 1024 * 1024;
const EXCERPT_CHARS = 300;

interface ClientConfig {
  base: URL;
  signer: MerchantSigner;
  walletPublicKey: KeyObject;
  timeoutMs: number;
  retry: RetryPolicy;
  fetch: typeof fetch;
  now: () => number;
  toleranceSec: number | undefined;
}

export function createClient(options: ClientOptions): BilleteraClient {
  const config = configure(options);
  const { clientId, privateKey, keyVersion } = config.signer;
  /**
   * applyToken spends a single-use code or refresh token on the first attempt that reaches the wallet, and
   * the wallet revokes everything issued for a credential presented twice: a retry can only make it worse.
   */
  const once: ClientConfig = { ...config, retry: { ...config.retry, maxRetries: 0 } };
  const call =
    <Req extends object, Reply>(path: string, retries = true) =>
    async (request: Req): Promise<Reply> =>
      (await send(retries ? config : once, path, request)) as Reply;
  const verifying = (check: NotificationCheck) => ({
    walletPublicKey: config.walletPublicKey,
    clientId,
    now: config.now,
    ...(config.toleranceSec === undefined ? {} : { toleranceSec: config.toleranceSec }),
    ...check,
  });
  return {
    clientId,
    pay: call<PayV1Request, PayV1Reply>(PATHS.payV1),
    inquiryPayment: call<InquiryPaymentV1Request, InquiryPaymentV1Reply>(PATHS.inquiryPaymentV1),
    cancel: call<CancelV1Request, CancelReply>(PATHS.cancelV1),
    refund: call<RefundV1Request, RefundReply>(PATHS.refundV1),
    inquiryRefund: call<InquiryRefundV1Request, InquiryRefundReply>(PATHS.inquiryRefundV1),
    applyToken: call<ApplyTokenRequest, ApplyTokenReply>(PATHS.applyTokenV1, false),
    cancelToken: call<CancelTokenRequest, CancelTokenReply>(PATHS.cancelTokenV1),
    inquiryUserInfo: call<InquiryUserInfoRequest, InquiryUserInfoReply>(PATHS.inquiryUserInfoV1),
    v2: {
      pay: call<PayV2Request, PayV2Reply>(PATHS.payV2),
      inquiryPayment: call<InquiryPaymentV2Request, InquiryPaymentV1Reply>(PATHS.inquiryPaymentV2),
      cancel: call<CancelV2Request, CancelReply>(PATHS.cancelV2),
      refund: call<RefundV2Request, RefundReply>(PATHS.refundV2),
      inquiryRefund: call<InquiryRefundV2Request, InquiryRefundReply>(PATHS.inquiryRefundV2),
      applyToken: call<ApplyTokenRequest, ApplyTokenReply>(PATHS.applyTokenV2, false),
      cancelToken: call<CancelTokenRequest, CancelTokenReply>(PATHS.cancelTokenV2),
      inquiryUserInfo: call<InquiryUserInfoRequest, InquiryUserInfoReply>(PATHS.inquiryUserInfoV2),
    },
    verifyNotification: (rawBody, headers, check) => verifyNotification(rawBody, headers, verifying(check)),
    verifyRefundNotification: (rawBody, headers, check) =>
      verifyRefundNotification(rawBody, headers, verifying(check)),
    verifyAnyNotification: (rawBody, headers, check) =>
      verifyAnyNotification(rawBody, headers, verifying(check)),
    acknowledgement: async ({ path } = {}) =>
      path === undefined
        ? acknowledgement()
        : acknowledgement({ path, clientId, privateKey, keyVersion, now: config.now }),
  };
}

function configure(options: ClientOptions): ClientConfig {
  const base = new URL(options.baseUrl);
  if (base.protocol !== 'https:' && base.protocol !== 'http:')
    throw new TypeError(`baseUrl must be an http(s) URL, got ${options.baseUrl}`);
  if (options.clientId === '') throw new TypeError('clientId must not be empty');
  const maxRetries = options.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries;
  if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > MAX_RETRIES_LIMIT)
    throw new RangeError(`maxRetries must be an integer from 0 to ${MAX_RETRIES_LIMIT}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) throw new RangeError('timeoutMs must be positive');
  return {
    base,
    signer: {
      clientId: options.clientId,
      privateKey: loadPrivateKey(options.privateKey),
      keyVersion: options.keyVersion,
    },
    walletPublicKey: loadPublicKey(options.walletPublicKey),
    timeoutMs,
    retry: {
      maxRetries,
      baseDelayMs: options.retryDelay?.baseMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
      maxDelayMs: options.retryDelay?.maxMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
    },
    fetch: options.fetch ?? globalThis.fetch,
    now: options.now ?? Date.now,
    toleranceSec: options.toleranceSec,
  };
}

/** One call: the same body on every attempt, each attempt signed afresh with its own Request-Time. */
async function send(config: ClientConfig, apiPath: string, request: object): Promise<ReplyBody> {
  const body = JSON.stringify(request);
  const url = new URL(config.base.pathname.replace(/\/+$/, '') + apiPath, config.base);
  for (let attempt = 1; ; attempt++) {
    try {
      const { reply, traceId } = await exchange(config, url, body, attempt);
      const status = reply.result.resultStatus;
      if (status === 'S' || status === 'A') return reply;
      throw apiErrorFor({ reply, attempts: attempt, traceId });
    } catch (err) {
      if (attempt > config.retry.maxRetries || !isRetryable(err)) throw err;
      await sleep(backoffDelayMs(attempt - 1, config.retry, Math.random));
    }
  }
}

interface RawReply {
  status: number;
  headers: Headers;
  bytes: Buffer;
  truncated: boolean;
}

async function exchange(
  config: ClientConfig,
  url: URL,
  body: string,
  attempt: number,
): Promise<{ reply: ReplyBody; traceId: string | undefined }> {
  const path = url.pathname + url.search;
  const raw = await post(config, url, body, attempt);
  const excerpt = raw.bytes.subarray(0, EXCERPT_CHARS).toString('utf8');
  const unexpected = (why: string) =>
    new UnexpectedResponseError(`unexpected reply from the wallet on ${path}: ${why}`, {
      attempts: attempt,
      statusCode: raw.status,
      bodyExcerpt: excerpt,
    });
  // The wallet answers 200 for every OpenAPI outcome; anything else came from something in between.
  if (raw.status !== 200) throw unexpected(`HTTP ${raw.status}`);
  if (raw.truncated) throw unexpected(`the body is larger than ${MAX_REPLY_BYTES} bytes`);
  verifySignedMessage(
    { kind: 'reply', path, headers: raw.headers, timeHeader: 'response-time', body: raw.bytes },
    { publicKey: config.walletPublicKey, expectedClientId: config.signer.clientId, attempts: attempt },
  );
  const reply = parseReply(raw.bytes.toString('utf8'));
  if (reply === undefined) throw unexpected('the signed body is not an OpenAPI reply with a valid result');
  return { reply, traceId: raw.headers.get('trace-id') ?? undefined };
}

async function post(config: ClientConfig, url: URL, body: string, attempt: number): Promise<RawReply> {
  const path = url.pathname + url.search;
  const time = formatWireTime(config.now());
  const signature = await merchantSignature(config.signer, { path, time, body });
  try {
    const response = await config.fetch(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json; charset=UTF-8',
        'Client-Id': config.signer.clientId,
        'Request-Time': time,
        Signature: signature,
      },
      body,
      // A redirect would re-send a signed payment request somewhere else: treat it as unexpected.
      redirect: 'manual',
      signal: AbortSignal.timeout(config.timeoutMs),
    });
    const { bytes, truncated } = await readLimited(response, MAX_REPLY_BYTES);
    return { status: response.status, headers: response.headers, bytes, truncated };
  } catch (err) {
    throw connectionError(err, url, config.timeoutMs, attempt);
  }
}

async function readLimited(
  response: Response,
  limit: number,
): Promise<{ bytes: Buffer; truncated: boolean }> {
  if (!response.body) return { bytes: Buffer.alloc(0), truncated: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > limit) {
      await response.body.cancel();
      return { bytes: Buffer.concat(chunks), truncated: true };
    }
  }
  return { bytes: Buffer.concat(chunks), truncated: false };
}

function connectionError(err: unknown, url: URL, timeoutMs: number, attempt: number): ConnectionError {
  const timedOut = err instanceof Error && err.name === 'TimeoutError';
  const message = timedOut
    ? `no complete reply from the wallet at ${url.origin} within ${timeoutMs} ms`
    : `could not reach the wallet at ${url.origin}: ${describeNetworkError(err)}`;
  return new ConnectionError(message, { attempts: attempt, timedOut, cause: err });
}

function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici reports "fetch failed" and puts the socket error (ECONNREFUSED, ECONNRESET...) in `cause`.
  const cause: unknown = err.cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    return typeof code === 'string' ? `${code} (${cause.message})` : cause.message;
  }
  return err.message;
}

const validateResult = compileValidator(ResultSchema);

function parseReply(text: string): ReplyBody | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const record = value as Record<string, unknown>;
  // Only `result` is checked strictly: it decides the outcome. The rest is the wallet's authenticated
  // data, and a field the wallet adds later must not break merchants on an older SDK.
  return validateResult(record['result']).ok ? (record as ReplyBody) : undefined;
}
