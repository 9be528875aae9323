/**
 * The SDK's error classes (architecture.md, Errors). Every error the SDK throws on purpose is a
 * `BilleteraError`, so one `instanceof` separates them from bugs. The OpenAPI outcome classes mirror the
 * result-code catalogue: an `F` becomes a typed subclass of `BilleteraApiError` picked by its code, a `U`
 * that is still `U` after the retries becomes `UnknownResultError`.
 */
import { resultOf, type Result } from '@billetera/protocol';

/** A reply body: the wire `result` plus whatever fields the API adds. */
export type ReplyBody = { result: Result } & Record<string, unknown>;

export class BilleteraError extends Error {
  /** HTTP attempts made before this error was thrown; 0 when no call was made (notification checks). */
  readonly attempts: number;

  constructor(message: string, options: { attempts: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.attempts = options.attempts;
  }
}

/** The wallet could not be reached, or did not answer within `timeoutMs`. Retried. */
export class ConnectionError extends BilleteraError {
  readonly timedOut: boolean;

  constructor(message: string, options: { attempts: number; timedOut: boolean; cause?: unknown }) {
    super(message, options);
    this.timedOut = options.timedOut;
  }
}

/**
 * Something answered, but not as the wallet does: an HTTP status other than 200 (a proxy or load
 * balancer in the way, a wrong baseUrl) or a signed body that is not an OpenAPI reply.
 */
export class UnexpectedResponseError extends ConnectionError {
  readonly statusCode: number;
  /** The start of the body, for the log; never the whole of an unbounded reply. */
  readonly bodyExcerpt: string;

  constructor(message: string, options: { attempts: number; statusCode: number; bodyExcerpt: string }) {
    super(message, { attempts: options.attempts, timedOut: false });
    this.statusCode = options.statusCode;
    this.bodyExcerpt = options.bodyExcerpt;
  }
}

export type SignatureFailureReason =
  | 'missing-header'
  | 'malformed-header'
  | 'client-id-mismatch'
  | 'wrong-key'
  | 'content-changed'
  | 'bad-time'
  | 'time-outside-window';

/** A reply or notification whose signature is missing or does not hold. Never retried: it is not noise. */
export class SignatureVerificationError extends BilleteraError {
  readonly reason: SignatureFailureReason;

  constructor(message: string, options: { attempts: number; reason: SignatureFailureReason }) {
    super(message, options);
    this.reason = options.reason;
  }
}

export interface ApiErrorOptions {
  reply: ReplyBody;
  attempts: number;
  /** The wallet's `trace-id` reply header: quote it when asking the wallet operator about a call. */
  traceId?: string | undefined;
}

/** The wallet answered with a result that is not a success: `F`, or `U` after the retries. */
export class BilleteraApiError extends BilleteraError {
  readonly result: Result;
  readonly resultCode: string;
  readonly resultMessage: string;
  readonly reply: ReplyBody;
  readonly traceId: string | undefined;

  constructor(options: ApiErrorOptions) {
    const { result } = options.reply;
    super(`${result.resultStatus} / ${result.resultCode}: ${result.resultMessage}`, options);
    this.result = result;
    this.resultCode = result.resultCode;
    this.resultMessage = result.resultMessage;
    this.reply = options.reply;
    this.traceId = options.traceId;
  }
}

/** The wallet did not accept who is calling: unknown Client-Id, unregistered key version, bad signature. */
export class AuthenticationError extends BilleteraApiError {}
/** The request itself is wrong (a field, the currency, the path); sending it again will not help. */
export class InvalidRequestError extends BilleteraApiError {}
/** The paymentRequestId was used before with a different payload. */
export class IdempotencyError extends BilleteraApiError {}
/** The merchant (or its mini program) may not do this, or is not verified or is frozen. */
export class PermissionError extends BilleteraApiError {}
/** No such payment for this merchant. */
export class NotFoundError extends BilleteraApiError {}
/** The outcome is still unknown after the retries: query with inquiryPayment or wait for the notification. */
export class UnknownResultError extends BilleteraApiError {}
/** The wallet is throttling this merchant (REQUEST_TRAFFIC_EXCEED_LIMIT, a `U`), even after the retries. */
export class RateLimitError extends UnknownResultError {}

type ApiErrorClass = new (options: ApiErrorOptions) => BilleteraApiError;

const F_CLASSES: Readonly<Record<string, ApiErrorClass>> = {
  CLIENT_INVALID: AuthenticationError,
  KEY_NOT_FOUND: AuthenticationError,
  INVALID_SIGNATURE: AuthenticationError,
  INVALID_AGENT_TOKEN: AuthenticationError,
  EXPIRED_AGENT_TOKEN: AuthenticationError,
  PARAM_ILLEGAL: InvalidRequestError,
  CURRENCY_NOT_SUPPORT: InvalidRequestError,
  INVALID_API: InvalidRequestError,
  METHOD_NOT_SUPPORTED: InvalidRequestError,
  REPEAT_REQ_INCONSISTENT: IdempotencyError,
  ACCESS_DENIED: PermissionError,
  PARTNER_STATUS_ABNORMAL: PermissionError,
  ORDER_NOT_EXIST: NotFoundError,
};

/** The error for a reply whose result is `F` or `U`. */
export function apiErrorFor(options: ApiErrorOptions): BilleteraApiError {
  const { resultStatus, resultCode } = options.reply.result;
  if (resultStatus === 'U') {
    return resultCode === 'REQUEST_TRAFFIC_EXCEED_LIMIT'
      ? new RateLimitError(options)
      : new UnknownResultError(options);
  }
  const ErrorClass = Object.hasOwn(F_CLASSES, resultCode) ? F_CLASSES[resultCode] : undefined;
  return new (ErrorClass ?? BilleteraApiError)(options);
}

/** An InvalidRequestError for a local check (a notification body), shaped like a PARAM_ILLEGAL reply. */
export function invalidRequest(message: string): InvalidRequestError {
  return new InvalidRequestError({ reply: { result: resultOf('PARAM_ILLEGAL', message) }, attempts: 0 });
}
