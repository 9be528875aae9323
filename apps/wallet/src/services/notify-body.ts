import { formatWireTime, type NotifyPayment } from '@billetera/protocol';
import { enqueueNotification, type Payment } from '@billetera/store';
import type { Kysely, Transaction } from 'kysely';
import type { Database, Merchant } from '@billetera/store';
import type { WalletContext } from '../context.ts';

/** The `notifyPayment` body for a payment in a final state (decisions.md, Notifications). */
export function notifyPaymentBody(payment: Payment, partnerId: string): NotifyPayment {
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
  };
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
      body: () => JSON.stringify(notifyPaymentBody(payment, merchant.partnerId)),
      now: ctx.clock.now(),
    },
    ctx.ids,
  );
  return true;
}
