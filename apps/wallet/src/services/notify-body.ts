import { formatWireTime, type NotifyPayment, type NotifyRefund } from '@billetera/protocol';
import { enqueueNotification, type Payment, type Refund } from '@billetera/store';
import type { Kysely, Transaction } from 'kysely';
import type { Database, Merchant } from '@billetera/store';
import type { WalletContext } from '../context.ts';

/**
 * Billetera's extensions on every notification body (top-level, ignored by Alipay+ parsers): the
 * notification's id, stable across retries and redeliveries, and its number in the payment's sequence.
 */
export interface NotificationExtensions {
  notificationId: string;
  sequence: number;
}

/** The `notifyPayment` body for a payment in a final state (decisions.md, Notifications). */
export function notifyPaymentBody(
  payment: Payment,
  partnerId: string,
  extensions?: NotificationExtensions,
): NotifyPayment {
  if (payment.status !== 'SUCCESS' && payment.status !== 'FAIL')
    throw new Error('invariant: notify only final payments');
  return {
    partnerId,
    paymentId: payment.id,
    paymentRequestId: payment.paymentRequestId,
    paymentAmount: { currency: payment.currency, value: payment.amount.toString() },
    paymentStatus: payment.status,
    ...(payment.paidAt !== null ? { paymentTime: formatWireTime(payment.paidAt) } : {}),
    paymentCreateTime: formatWireTime(payment.createdAt),
    ...(payment.failReason !== null ? { paymentFailReason: payment.failReason } : {}),
    ...(payment.extendInfo !== null ? { extendInfo: payment.extendInfo } : {}),
    ...extensions,
  };
}

/** The `notifyRefund` body (reference §11 / ANTOM fields) for a settled refund. */
export function notifyRefundBody(refund: Refund, extensions?: NotificationExtensions): NotifyRefund {
  if (refund.status !== 'SUCCESS' && refund.status !== 'FAIL')
    throw new Error('invariant: notify only final refunds');
  return {
    refundId: refund.id,
    refundRequestId: refund.refundRequestId,
    paymentId: refund.paymentId,
    refundAmount: { currency: refund.currency, value: refund.amount.toString() },
    refundStatus: refund.status,
    ...(refund.refundedAt !== null ? { refundTime: formatWireTime(refund.refundedAt) } : {}),
    ...(refund.reason !== null ? { refundReason: refund.reason } : {}),
    ...(refund.failReason !== null ? { refundFailReason: refund.failReason } : {}),
    ...(refund.extendInfo !== null ? { extendInfo: refund.extendInfo } : {}),
    ...extensions,
  };
}

/**
 * Writes the outbox row for a settled refund, inside the caller's transaction, numbered in its payment's
 * sequence. Only when the refund request gave a refundNotifyUrl (decisions.md); false otherwise.
 */
export async function enqueueRefundNotification(
  ctx: WalletContext,
  tx: Transaction<Database> | Kysely<Database>,
  refund: Refund,
): Promise<boolean> {
  if (!refund.notifyUrl) return false;
  await enqueueNotification(
    tx,
    {
      merchantId: refund.merchantId,
      paymentId: refund.paymentId,
      url: refund.notifyUrl,
      kind: 'REFUND',
      refundId: refund.id,
      body: (sequence, notificationId) =>
        JSON.stringify(notifyRefundBody(refund, { notificationId, sequence })),
      now: ctx.clock.now(),
    },
    ctx.ids,
  );
  return true;
}

/**
 * Writes the outbox row for a payment that just reached a final state, inside the caller's transaction.
 * No row when neither the request nor the merchant gave a notify URL (nothing is owed then).
 */
export async function enqueuePaymentNotification(
  ctx: WalletContext,
  tx: Transaction<Database> | Kysely<Database>,
  payment: Payment,
  merchant: Pick<Merchant, 'partnerId' | 'notifyUrl'>,
): Promise<boolean> {
  const url = payment.notifyUrl ?? merchant.notifyUrl;
  if (!url) return false;
  await enqueueNotification(
    tx,
    {
      merchantId: payment.merchantId,
      paymentId: payment.id,
      url,
      body: (sequence, notificationId) =>
        JSON.stringify(notifyPaymentBody(payment, merchant.partnerId, { notificationId, sequence })),
      now: ctx.clock.now(),
    },
    ctx.ids,
  );
  return true;
}
