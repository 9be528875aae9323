/**
 * When the client sends a request again, and how long it waits first. Every method of this client is
 * idempotent by construction (pay is keyed by paymentRequestId, inquiry is a read), so a request whose
 * outcome is unknown may be sent again without risk of a second payment. An `F` is final and never
 * retried; a bad reply signature is not noise and never retried either.
 */
import {
  BilleteraError,
  ConnectionError,
  UnexpectedResponseError,
  UnknownResultError,
} from './sdk-errors.ts';

export interface RetryPolicy {
  /** Retries after the first attempt. */
  maxRetries: number;
  /** The ceiling of the first wait; it doubles for each retry. */
  baseDelayMs: number;
  /** No wait exceeds this, however many retries came before. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxRetries: 2, baseDelayMs: 200, maxDelayMs: 5_000 };
/** More retries than this only delay the answer the merchant owes its user; inquiry is the fallback. */
export const MAX_RETRIES_LIMIT = 10;

/**
 * The wait before retry number `retryIndex` (0 for the first retry): exponential, capped, with "equal
 * jitter" (half fixed, half random) so many clients that failed together do not retry together.
 */
export function backoffDelayMs(retryIndex: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retryIndex);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** HTTP statuses a proxy or load balancer in front of the wallet answers while it is briefly away. */
const TRANSIENT_STATUSES = new Set([408, 429, 500, 502, 503, 504]);

export function isRetryable(error: unknown): boolean {
  if (!(error instanceof BilleteraError)) return false;
  if (error instanceof UnexpectedResponseError) return TRANSIENT_STATUSES.has(error.statusCode);
  return error instanceof ConnectionError || error instanceof UnknownResultError;
}
