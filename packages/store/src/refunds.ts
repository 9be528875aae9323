/**
 * Refund rows and the claim on the payment's refunded total. A refund is one row per (merchant,
 * refundRequestId), kept for ever (the idempotency record). The claim is a conditional UPDATE of the
 * payment row: on PostgreSQL a racing refund of the same payment waits for the row lock and then
 * re-checks the condition against the committed total, so refunds can never exceed the paid amount.
 */
import type { RefundStatus } from '@billetera/protocol';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, RefundsTable } from './schema.ts';

type Tx = Transaction<Database> | Kysely<Database>;

export interface Refund {
  id: string;
  merchantId: string;
  paymentId: string;
  refundRequestId: string;
  requestHash: string;
  apiVersion: 'v1' | 'v2';
  status: RefundStatus;
  currency: string;
  amount: bigint;
  reason: string | null;
  notifyUrl: string | null;
  extendInfo: string | null;
  createdAt: number;
  refundedAt: number | null;
  failReason: string | null;
}

export const toRefund = (r: Selectable<RefundsTable>): Refund => ({
  id: r.id,
  merchantId: r.merchant_id,
  paymentId: r.payment_id,
  refundRequestId: r.refund_request_id,
  requestHash: r.request_hash,
  apiVersion: r.api_version as Refund['apiVersion'],
  status: r.status as RefundStatus,
  currency: r.currency,
  amount: BigInt(r.amount),
  reason: r.reason,
  notifyUrl: r.notify_url,
  extendInfo: r.extend_info,
  createdAt: Number(r.created_at),
  refundedAt: r.refunded_at === null ? null : Number(r.refunded_at),
  failReason: r.fail_reason,
});

/**
 * Inserts a refund unless (merchant, refundRequestId) exists; true when this call created it. On
 * PostgreSQL a concurrent insert of the same key waits for the other transaction, then does nothing.
 */
export async function insertRefundIfAbsent(tx: Tx, r: Refund): Promise<boolean> {
  const result = await tx
    .insertInto('refunds')
    .values({
      id: r.id,
      merchant_id: r.merchantId,
      payment_id: r.paymentId,
      refund_request_id: r.refundRequestId,
      request_hash: r.requestHash,
      api_version: r.apiVersion,
      status: r.status,
      currency: r.currency,
      amount: r.amount,
      reason: r.reason,
      notify_url: r.notifyUrl,
      extend_info: r.extendInfo,
      created_at: BigInt(r.createdAt),
      refunded_at: r.refundedAt === null ? null : BigInt(r.refundedAt),
      fail_reason: r.failReason,
    })
    .onConflict((oc) => oc.columns(['merchant_id', 'refund_request_id']).doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

export async function findRefundById(tx: Tx, id: string): Promise<Refund | undefined> {
  const row = await tx.selectFrom('refunds').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toRefund(row);
}

export async function findRefundByRequestId(
  tx: Tx,
  merchantId: string,
  refundRequestId: string,
): Promise<Refund | undefined> {
  const row = await tx
    .selectFrom('refunds')
    .selectAll()
    .where('merchant_id', '=', merchantId)
    .where('refund_request_id', '=', refundRequestId)
    .executeTakeFirst();
  return row && toRefund(row);
}

/** A payment's refunds, oldest first. */
export async function refundsForPayment(tx: Tx, paymentId: string): Promise<Refund[]> {
  const rows = await tx
    .selectFrom('refunds')
    .selectAll()
    .where('payment_id', '=', paymentId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toRefund);
}

/**
 * Adds `amount` to a SUCCESS payment's refunded total, only if the total stays within the paid amount.
 * False when it would not (or the payment is not SUCCESS): the caller refuses and rolls back. This is
 * the refund's lock on the payment row: run it before posting the ledger entry.
 */
export async function claimRefundAmount(tx: Tx, paymentId: string, amount: bigint): Promise<boolean> {
  const result = await tx
    .updateTable('payments')
    .set({ refunded_amount: sql<bigint>`refunded_amount + ${amount}` })
    .where('id', '=', paymentId)
    .where('status', '=', 'SUCCESS')
    .where(sql<boolean>`refunded_amount + ${amount} <= amount`)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
