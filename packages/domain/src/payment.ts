/**
 * The payment state machine: PROCESSING -> SUCCESS | FAIL | CANCELLED (decisions.md). Decisions are
 * pure: they take the payment as stored, the command and the time, and return a refusal code or what
 * to change. Services persist the result in one transaction.
 */
import type { PaymentStatus } from '@billetera/protocol';

export const DEFAULT_EXPIRY_MS = 15 * 60_000;
export const MAX_EXPIRY_MS = 7 * 24 * 3600_000;

export interface PaymentState {
  status: PaymentStatus;
  expiresAt: number;
}

export type ConfirmDecision =
  | { ok: true }
  | { ok: false; code: 'ORDER_EXPIRED'; expireNow: boolean }
  | { ok: false; code: 'ORDER_STATUS_INVALID'; status: PaymentStatus };

/**
 * May this payment be paid now? An order is payable strictly before its expiry time; at or after it,
 * it is expired (and, if still PROCESSING, should move to FAIL right away).
 */
export function decideConfirm(payment: PaymentState, now: number): ConfirmDecision {
  if (payment.status !== 'PROCESSING') {
    if (payment.status === 'FAIL' && now >= payment.expiresAt)
      return { ok: false, code: 'ORDER_EXPIRED', expireNow: false };
    return { ok: false, code: 'ORDER_STATUS_INVALID', status: payment.status };
  }
  if (now >= payment.expiresAt) return { ok: false, code: 'ORDER_EXPIRED', expireNow: true };
  return { ok: true };
}

export type ExpiryDecision = { ok: true; expiresAt: number } | { ok: false; message: string };

/** `paymentExpiryTime` absent: 15 minutes after creation; present: in the future, at most 7 days ahead. */
export function decideExpiry(requested: number | undefined, now: number): ExpiryDecision {
  if (requested === undefined) return { ok: true, expiresAt: now + DEFAULT_EXPIRY_MS };
  if (requested <= now) return { ok: false, message: 'paymentExpiryTime: must be in the future' };
  if (requested - now > MAX_EXPIRY_MS)
    return { ok: false, message: 'paymentExpiryTime: must be at most 7 days ahead' };
  return { ok: true, expiresAt: requested };
}

export const ORDER_EXPIRED_REASON = 'ORDER_EXPIRED';
