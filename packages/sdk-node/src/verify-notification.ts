/**
 * Verifies a notification (`notifyPayment`, or `notifyRefund` with verifyRefundNotification) the wallet POSTed to the merchant's notify URL: signed by the wallet over
 * `POST <notify path>\n<Client-Id>.<Request-Time>.<raw body>`, addressed to this merchant's Client-Id,
 * sent within the last few minutes (replays of an old capture are refused), and a well-formed body.
 *
 * The signature is checked before the time, so "outside the window" is only ever said of a message the
 * wallet really signed: a genuine but late (or replayed) notification, or a clock that drifted.
 */
import {
  NotifyPaymentSchema,
  NotifyRefundSchema,
  compileValidator,
  parseWireTime,
  type NotifyPayment,
  type NotifyRefund,
} from '@billetera/protocol';
import { loadPublicKey, type KeyObject } from '@billetera/protocol/signing';
import { SignatureVerificationError, invalidRequest } from './sdk-errors.ts';
import { requestPath, verifySignedMessage, type HeaderInput } from './verify-message.ts';

/** decisions.md: ±300 s, the window the wallet applies to merchants' requests (WeChat Pay, Stripe). */
export const DEFAULT_TOLERANCE_SEC = 300;

export interface NotificationCheck {
  /**
   * The path of the notify URL as the request arrived, with its query: Fastify's `request.url`,
   * Express's `req.originalUrl`. A full URL is accepted too; only its path and query are signed.
   */
  path: string;
  toleranceSec?: number;
  /** The clock, in epoch milliseconds; injectable for tests. */
  now?: () => number;
}

export interface VerifyNotificationOptions extends NotificationCheck {
  /** The wallet's public key. Pass a KeyObject (`loadPublicKey`) on a hot path: a PEM is parsed per call. */
  walletPublicKey: string | KeyObject;
  /** This merchant's Client-Id: a notification for another merchant is refused. */
  clientId: string;
}

const validateNotifyPayment = compileValidator(NotifyPaymentSchema);
const validateNotifyRefund = compileValidator(NotifyRefundSchema);

/** A verified notification of either kind: a refund's body has `refundId`, a payment's does not. */
export type AnyNotification =
  { type: 'payment'; notification: NotifyPayment } | { type: 'refund'; notification: NotifyRefund };

/** Verifies a `notifyPayment` (see the top of this file); a notifyRefund body is refused as invalid. */
export function verifyNotification(
  rawBody: string | Uint8Array,
  headers: HeaderInput,
  options: VerifyNotificationOptions,
): NotifyPayment {
  return parseBody(verifiedText(rawBody, headers, options), validateNotifyPayment, 'notifyPayment');
}

/** Verifies a `notifyRefund` (sent to the refund's refundNotifyUrl) the same way. */
export function verifyRefundNotification(
  rawBody: string | Uint8Array,
  headers: HeaderInput,
  options: VerifyNotificationOptions,
): NotifyRefund {
  return parseBody(verifiedText(rawBody, headers, options), validateNotifyRefund, 'notifyRefund');
}

/** For one URL that receives both kinds: verifies, then tells which kind it is. */
export function verifyAnyNotification(
  rawBody: string | Uint8Array,
  headers: HeaderInput,
  options: VerifyNotificationOptions,
): AnyNotification {
  const text = verifiedText(rawBody, headers, options);
  let isRefund = false;
  try {
    const parsed: unknown = JSON.parse(text);
    isRefund = typeof parsed === 'object' && parsed !== null && 'refundId' in parsed;
  } catch {
    // parseBody below reports it
  }
  return isRefund
    ? { type: 'refund', notification: parseBody(text, validateNotifyRefund, 'notifyRefund') }
    : { type: 'payment', notification: parseBody(text, validateNotifyPayment, 'notifyPayment') };
}

/** Checks signature, Client-Id and freshness; returns the body text. */
function verifiedText(
  rawBody: string | Uint8Array,
  headers: HeaderInput,
  options: VerifyNotificationOptions,
): string {
  const body = rawBytes(rawBody);
  const time = verifySignedMessage(
    { kind: 'notification', path: requestPath(options.path), headers, timeHeader: 'request-time', body },
    { publicKey: loadPublicKey(options.walletPublicKey), expectedClientId: options.clientId, attempts: 0 },
  );
  checkFreshness(time, options);
  return Buffer.from(body).toString('utf8');
}

function rawBytes(rawBody: unknown): Uint8Array {
  if (typeof rawBody === 'string') return Buffer.from(rawBody, 'utf8');
  if (rawBody instanceof Uint8Array) return rawBody;
  // The usual mistake: a JSON body parser ran first. Re-serialising cannot give back the signed bytes.
  throw new TypeError(
    'verifyNotification needs the raw request body (string or Buffer) exactly as received, ' +
      `not a parsed ${rawBody === null ? 'null' : typeof rawBody}: keep the body parser away from the notify route`,
  );
}

function checkFreshness(time: string, options: NotificationCheck): void {
  const sentAt = parseWireTime(time);
  if (sentAt === undefined) {
    throw new SignatureVerificationError(
      `notification rejected: Request-Time ${JSON.stringify(time.slice(0, 40))} is not a wire time`,
      { attempts: 0, reason: 'bad-time' },
    );
  }
  const toleranceSec = options.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  const skewMs = (options.now ?? Date.now)() - sentAt;
  if (Math.abs(skewMs) <= toleranceSec * 1000) return;
  const skewSec = Math.round(Math.abs(skewMs) / 1000);
  const how = skewMs > 0 ? `${skewSec} s old` : `${skewSec} s in the future`;
  throw new SignatureVerificationError(
    `notification rejected: Request-Time ${time} is ${how}, outside the window of ±${toleranceSec} s ` +
      '(a replayed notification, or a clock that is off)',
    { attempts: 0, reason: 'time-outside-window' },
  );
}

function parseBody<T>(
  text: string,
  validate: (value: unknown) => { ok: true; value: T } | { ok: false; message: string },
  name: string,
): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidRequest('the notification body is not valid JSON');
  }
  const checked = validate(value);
  if (!checked.ok) throw invalidRequest(`the notification body is not a ${name}: ${checked.message}`);
  return checked.value;
}
