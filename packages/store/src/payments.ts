import type { PaymentStatus } from '@billetera/protocol';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, PaymentsTable } from './schema.ts';

type Tx = Transaction<Database> | Kysely<Database>;

export interface Payment {
  id: string;
  merchantId: string;
  paymentRequestId: string;
  requestHash: string;
  apiVersion: 'v1' | 'v2';
  status: PaymentStatus;
  currency: string;
  amount: bigint;
  orderTitle: string;
  appId: string | null;
  notifyUrl: string | null;
  returnUrl: string | null;
  extendInfo: string | null;
  orderJson: string | null;
  /** The reply the pay request got, replayed verbatim to an identical retry. */
  replyJson: string;
  expiresAt: number;
  createdAt: number;
  paidAt: number | null;
  userId: string | null;
  failReason: string | null;
  /** The total of the successful refunds so far (0 until a refund). */
  refundedAmount: bigint;
  /** When the merchant cancelled the unpaid order. */
  cancelledAt: number | null;
}

/** What a new payment row is made of: the refund total starts at zero and only refunds change it. */
export type NewPayment = Omit<Payment, 'refundedAmount' | 'cancelledAt'>;

export const toPayment = (r: Selectable<PaymentsTable>): Payment => ({
  id: r.id,
  merchantId: r.merchant_id,
  paymentRequestId: r.payment_request_id,
  requestHash: r.request_hash,
  apiVersion: r.api_version as Payment['apiVersion'],
  status: r.status as PaymentStatus,
  currency: r.currency,
  amount: BigInt(r.amount),
  orderTitle: r.order_title,
  appId: r.app_id,
  notifyUrl: r.notify_url,
  returnUrl: r.return_url,
  extendInfo: r.extend_info,
  orderJson: r.order_json,
  replyJson: r.reply_json,
  expiresAt: Number(r.expires_at),
  createdAt: Number(r.created_at),
  paidAt: r.paid_at === null ? null : Number(r.paid_at),
  userId: r.user_id,
  failReason: r.fail_reason,
  refundedAmount: BigInt(r.refunded_amount),
  cancelledAt: r.cancelled_at === null ? null : Number(r.cancelled_at),
});

/**
 * Inserts a new payment unless (merchant, paymentRequestId) exists. Returns true when this call created
 * it. On PostgreSQL a concurrent insert of the same key waits for the other transaction and then does
 * nothing, so exactly one order is ever created per key.
 */
export async function insertPaymentIfAbsent(tx: Tx, p: NewPayment): Promise<boolean> {
  const result = await tx
    .insertInto('payments')
    .values({
      id: p.id,
      merchant_id: p.merchantId,
      payment_request_id: p.paymentRequestId,
      request_hash: p.requestHash,
      api_version: p.apiVersion,
      status: p.status,
      currency: p.currency,
      amount: p.amount,
      order_title: p.orderTitle,
      app_id: p.appId,
      notify_url: p.notifyUrl,
      return_url: p.returnUrl,
      extend_info: p.extendInfo,
      order_json: p.orderJson,
      reply_json: p.replyJson,
      expires_at: BigInt(p.expiresAt),
      created_at: BigInt(p.createdAt),
      paid_at: p.paidAt === null ? null : BigInt(p.paidAt),
      user_id: p.userId,
      fail_reason: p.failReason,
    })
    .onConflict((oc) => oc.columns(['merchant_id', 'payment_request_id']).doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

export async function findPaymentById(tx: Tx, id: string): Promise<Payment | undefined> {
  const row = await tx.selectFrom('payments').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toPayment(row);
}

export async function findPaymentByRequestId(
  tx: Tx,
  merchantId: string,
  paymentRequestId: string,
): Promise<Payment | undefined> {
  const row = await tx
    .selectFrom('payments')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('payment_request_id', '=', paymentRequestId)
    .executeTakeFirst();
  return row && toPayment(row);
}

/**
 * Moves a PROCESSING payment to a final status. Conditional on the status still being PROCESSING (and,
 * for SUCCESS, on the order not having expired), so of two racing transitions exactly one wins; the
 * loser gets false and must roll back whatever it did.
 */
export async function finishPayment(
  tx: Tx,
  id: string,
  change:
    | { status: 'SUCCESS'; userId: string; paidAt: number }
    | { status: 'FAIL'; failReason: string }
    | { status: 'CANCELLED'; cancelledAt?: number },
): Promise<boolean> {
  const base = tx.updateTable('payments').where('id', '=', id).where('status', '=', 'PROCESSING');
  const query =
    change.status === 'SUCCESS'
      ? base
          .set({ status: 'SUCCESS', user_id: change.userId, paid_at: BigInt(change.paidAt) })
          .where('expires_at', '>', BigInt(change.paidAt))
      : change.status === 'FAIL'
        ? base.set({ status: 'FAIL', fail_reason: change.failReason })
        : base.set({
            status: 'CANCELLED',
            cancelled_at: change.cancelledAt === undefined ? null : BigInt(change.cancelledAt),
          });
  const result = await query.executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** PROCESSING payments whose expiry time has passed, oldest first (for the expiry sweeper). */
export async function findExpiredPayments(tx: Tx, now: number, limit: number): Promise<Payment[]> {
  const rows = await tx
    .selectFrom('payments')
    .selectAll()
    .where('status', '=', 'PROCESSING')
    .where('expires_at', '<=', BigInt(now))
    .orderBy('expires_at')
    .limit(limit)
    .execute();
  return rows.map(toPayment);
}
