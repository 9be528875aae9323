/**
 * The notification retry ladder (decisions.md): attempts at 0 s, 2 min, 10 min, 10 min, 1 h, 2 h, 6 h,
 * 15 h after the previous one; after the 8th failure the delivery is marked failed (redeliverable by hand).
 */
export const RETRY_LADDER_MS: readonly number[] = [0, 2, 10, 10, 60, 120, 360, 900].map((m) => m * 60_000);
export const MAX_ATTEMPTS = RETRY_LADDER_MS.length;
export const DELIVERY_TIMEOUT_MS = 10_000;

/**
 * When the next attempt is due after `attemptsMade` failed attempts, or null when the ladder is done.
 */
export function nextAttemptAt(attemptsMade: number, lastAttemptAt: number): number | null {
  if (attemptsMade >= MAX_ATTEMPTS) return null;
  return lastAttemptAt + (RETRY_LADDER_MS[attemptsMade] ?? 0);
}

/** Only HTTP 200 with `result.resultStatus == "S"` acknowledges a notification. */
export function isAcknowledged(httpStatus: number, body: string): boolean {
  if (httpStatus !== 200) return false;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== 'object' || parsed === null) return false;
    const result = (parsed as { result?: unknown }).result;
    return (
      typeof result === 'object' &&
      result !== null &&
      (result as { resultStatus?: unknown }).resultStatus === 'S'
    );
  } catch {
    return false;
  }
}
