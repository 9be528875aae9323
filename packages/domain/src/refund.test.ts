/** Table tests of the refund and cancel decisions: every status, and every refusal at its boundary. */
import type { PaymentStatus } from '@billetera/protocol';
import { describe, expect, it } from 'vitest';
import { REFUND_WINDOW_MS, decideCancel, decideRefund, type RefundablePayment } from './refund.ts';

const PAID_AT = Date.UTC(2026, 0, 1);
const paid: RefundablePayment = {
  status: 'SUCCESS',
  currency: 'USD',
  amount: 1_000n,
  refundedAmount: 400n,
  paidAt: PAID_AT,
};

describe('decideRefund', () => {
  it.each<[string, Partial<RefundablePayment>, { currency: string; amount: bigint }, number, string]>([
    ['a partial refund', {}, { currency: 'USD', amount: 100n }, PAID_AT + 1, 'ok'],
    ['the rest, exactly', {}, { currency: 'USD', amount: 600n }, PAID_AT + 1, 'ok'],
    ['one more than the rest', {}, { currency: 'USD', amount: 601n }, PAID_AT + 1, 'REFUND_AMOUNT_EXCEED'],
    [
      'a fully refunded payment',
      { refundedAmount: 1_000n },
      { currency: 'USD', amount: 1n },
      PAID_AT,
      'REFUND_AMOUNT_EXCEED',
    ],
    ['another currency', {}, { currency: 'EUR', amount: 1n }, PAID_AT + 1, 'CURRENCY_NOT_SUPPORT'],
    [
      'the last millisecond of the window',
      {},
      { currency: 'USD', amount: 1n },
      PAID_AT + REFUND_WINDOW_MS - 1,
      'ok',
    ],
    [
      'the window closed',
      {},
      { currency: 'USD', amount: 1n },
      PAID_AT + REFUND_WINDOW_MS,
      'REFUND_WINDOW_EXCEED',
    ],
    [
      'an unpaid payment',
      { status: 'PROCESSING', paidAt: null },
      { currency: 'USD', amount: 1n },
      PAID_AT,
      'ORDER_STATUS_INVALID',
    ],
    [
      'a failed payment',
      { status: 'FAIL', paidAt: null },
      { currency: 'USD', amount: 1n },
      PAID_AT,
      'ORDER_STATUS_INVALID',
    ],
    [
      'a cancelled payment',
      { status: 'CANCELLED', paidAt: null },
      { currency: 'USD', amount: 1n },
      PAID_AT,
      'ORDER_STATUS_INVALID',
    ],
    // Guards run in order: status, then currency, then window, then amount.
    [
      'status before currency',
      { status: 'FAIL', paidAt: null },
      { currency: 'EUR', amount: 1n },
      PAID_AT,
      'ORDER_STATUS_INVALID',
    ],
    [
      'currency before window',
      {},
      { currency: 'EUR', amount: 1n },
      PAID_AT + REFUND_WINDOW_MS,
      'CURRENCY_NOT_SUPPORT',
    ],
    [
      'window before amount',
      {},
      { currency: 'USD', amount: 10_000n },
      PAID_AT + REFUND_WINDOW_MS,
      'REFUND_WINDOW_EXCEED',
    ],
  ])('%s', (_name, over, refund, now, expected) => {
    const decision = decideRefund({ ...paid, ...over }, refund, now);
    expect(decision.ok ? 'ok' : decision.code).toBe(expected);
  });

  it('says how much can still be refunded, and when the window closed', () => {
    expect(decideRefund(paid, { currency: 'USD', amount: 700n }, PAID_AT)).toEqual({
      ok: false,
      code: 'REFUND_AMOUNT_EXCEED',
      refundable: 600n,
    });
    expect(decideRefund(paid, { currency: 'USD', amount: 1n }, PAID_AT + REFUND_WINDOW_MS)).toEqual({
      ok: false,
      code: 'REFUND_WINDOW_EXCEED',
      closedAt: PAID_AT + REFUND_WINDOW_MS,
    });
  });
});

describe('decideCancel', () => {
  const EXPIRES = Date.UTC(2026, 0, 1, 12);
  it.each<[PaymentStatus, number, string]>([
    ['PROCESSING', EXPIRES - 1, 'cancel'],
    ['PROCESSING', EXPIRES, 'ORDER_STATUS_INVALID+expire'],
    ['CANCELLED', EXPIRES + 1, 'already'],
    ['SUCCESS', EXPIRES - 1, 'ORDER_STATUS_INVALID'],
    ['FAIL', EXPIRES + 1, 'ORDER_STATUS_INVALID'],
  ])('%s at %i', (status, now, expected) => {
    const d = decideCancel({ status, expiresAt: EXPIRES }, now);
    const got = d.ok ? (d.alreadyCancelled ? 'already' : 'cancel') : d.code + (d.expireNow ? '+expire' : '');
    expect(got).toBe(expected);
  });
});
