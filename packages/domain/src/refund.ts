/**
 * Refund and cancel rules (decisions.md, Payments). Pure decisions over the payment as stored; the
 * refund service persists the outcome in one transaction, and the store re-checks the refunded total
 * with a conditional update, so racing refunds cannot exceed the paid amount whatever this read saw.
 */
import type { PaymentStatus } from '@billetera/protocol';

/** How long after payment a refund is accepted: 365 days (decisions.md). */
export const REFUND_WINDOW_MS = 365 * 24 * 3600_000;

export interface RefundablePayment {
  status: PaymentStatus;
  currency: string;
  amount: bigint;
  refundedAmount: bigint;
  paidAt: number | null;
}

export type RefundDecision =
  | { ok: true }
  | { ok: false; code: 'ORDER_STATUS_INVALID'; status: PaymentStatus }
  | { ok: false; code: 'CURRENCY_NOT_SUPPORT'; currency: string }
  | { ok: false; code: 'REFUND_WINDOW_EXCEED'; closedAt: number }
  | { ok: false; code: 'REFUND_AMOUNT_EXCEED'; refundable: bigint };

/**
 * May `amount` of `currency` be refunded now? Guards in this order: the payment is SUCCESS, the currency
 * is the payment's, the refund window is open, and the refunded total stays within the paid amount.
 */
export function decideRefund(
  payment: RefundablePayment,
  refund: { currency: string; amount: bigint },
  now: number,
): RefundDecision {
  if (payment.status !== 'SUCCESS' || payment.paidAt === null)
    return { ok: false, code: 'ORDER_STATUS_INVALID', status: payment.status };
  if (refund.currency !== payment.currency)
    return { ok: false, code: 'CURRENCY_NOT_SUPPORT', currency: payment.currency };
  const closedAt = payment.paidAt + REFUND_WINDOW_MS;
  if (now >= closedAt) return { ok: false, code: 'REFUND_WINDOW_EXCEED', closedAt };
  const refundable = payment.amount - payment.refundedAmount;
  if (refund.amount > refundable) return { ok: false, code: 'REFUND_AMOUNT_EXCEED', refundable };
  return { ok: true };
}

export type CancelDecision =
  | { ok: true; alreadyCancelled: boolean }
  | { ok: false; code: 'ORDER_STATUS_INVALID'; status: PaymentStatus; expireNow: boolean };

/**
 * May this payment be cancelled now? Only unpaid orders before their expiry time. A cancelled order is
 * cancelled again without change (idempotent). An order past its expiry time that is still PROCESSING
 * has in fact expired (the sweeper is just late): it should be failed now and the cancel refused, so the
 * outcome depends on the time, never on when the sweeper ran.
 */
export function decideCancel(
  payment: { status: PaymentStatus; expiresAt: number },
  now: number,
): CancelDecision {
  switch (payment.status) {
    case 'CANCELLED':
      return { ok: true, alreadyCancelled: true };
    case 'PROCESSING':
      if (now >= payment.expiresAt)
        return { ok: false, code: 'ORDER_STATUS_INVALID', status: payment.status, expireNow: true };
      return { ok: true, alreadyCancelled: false };
    case 'SUCCESS':
    case 'FAIL':
      return { ok: false, code: 'ORDER_STATUS_INVALID', status: payment.status, expireNow: false };
  }
}
