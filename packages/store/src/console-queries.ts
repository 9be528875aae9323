/**
 * What the merchant console reads: a merchant's payments (searched and paged), one payment with its
 * refunds, notifications and their attempts, and its notification deliveries. Every query takes the
 * merchant's id and filters on it: another merchant's rows are never returned, whatever id is asked for.
 *
 * Pages are keyset pages on (created_at, id), newest first: a page asks for rows strictly older than the
 * last row of the previous page, so rows created meanwhile never shift or repeat a page.
 */
import type { PaymentStatus } from '@billetera/protocol';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.ts';
import { toPayment, type Payment } from './payments.ts';
import type { AttemptOutcome, NotificationKind, NotificationStatus } from './notifications.ts';
import { toRefund, type Refund } from './refunds.ts';

type Tx = Transaction<Database> | Kysely<Database>;

/** The position after which a page starts: the last row of the previous page. */
export interface PageCursor {
  createdAt: number;
  id: string;
}

export interface PaymentSearch {
  merchantId: string;
  /** A paymentId or a paymentRequestId, matched exactly. */
  id?: string | undefined;
  status?: PaymentStatus | undefined;
  /** created_at >= createdFrom (epoch ms). */
  createdFrom?: number | undefined;
  /** created_at < createdBefore (epoch ms). */
  createdBefore?: number | undefined;
  after?: PageCursor | undefined;
  limit: number;
}

/** One page of a merchant's payments, newest first; `more` when older rows exist beyond it. */
export async function searchMerchantPayments(
  tx: Tx,
  s: PaymentSearch,
): Promise<{ rows: Payment[]; more: boolean }> {
  const rows = await tx
    .selectFrom('payments')
    .selectAll()
    .where('merchant_id', '=', s.merchantId)
    .$if(s.id !== undefined, (q) =>
      q.where((eb) => eb.or([eb('id', '=', s.id ?? ''), eb('payment_request_id', '=', s.id ?? '')])),
    )
    .$if(s.status !== undefined, (q) => q.where('status', '=', s.status ?? ''))
    .$if(s.createdFrom !== undefined, (q) => q.where('created_at', '>=', BigInt(s.createdFrom ?? 0)))
    .$if(s.createdBefore !== undefined, (q) => q.where('created_at', '<', BigInt(s.createdBefore ?? 0)))
    .$if(s.after !== undefined, (q) => {
      const at = BigInt(s.after?.createdAt ?? 0);
      const id = s.after?.id ?? '';
      return q.where((eb) =>
        eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]),
      );
    })
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(s.limit + 1)
    .execute();
  return { rows: rows.slice(0, s.limit).map(toPayment), more: rows.length > s.limit };
}

/** The merchant's payment with this id; undefined for an unknown id and for another merchant's. */
export async function findMerchantPayment(
  tx: Tx,
  merchantId: string,
  paymentId: string,
): Promise<Payment | undefined> {
  const row = await tx
    .selectFrom('payments')
    .selectAll()
    .where('id', '=', paymentId)
    .where('merchant_id', '=', merchantId)
    .executeTakeFirst();
  return row && toPayment(row);
}

/** A payment's refunds, oldest first (scoped to the merchant like everything here). */
export async function merchantPaymentRefunds(
  tx: Tx,
  merchantId: string,
  paymentId: string,
): Promise<Refund[]> {
  const rows = await tx
    .selectFrom('refunds')
    .selectAll()
    .where('payment_id', '=', paymentId)
    .where('merchant_id', '=', merchantId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toRefund);
}

/** A notification as the console lists it (without its body). */
export interface DeliverySummary {
  id: string;
  paymentId: string;
  refundId: string | null;
  seq: number;
  kind: NotificationKind;
  url: string;
  status: NotificationStatus;
  attempts: number;
  nextAttemptAt: number;
  createdAt: number;
  deliveredAt: number | null;
  lastError: string | null;
  redeliveries: number;
  /** When the last recorded attempt started; null before the first. */
  lastAttemptAt: number | null;
}

export interface DeliverySearch {
  merchantId: string;
  status?: NotificationStatus | undefined;
  paymentId?: string | undefined;
  after?: PageCursor | undefined;
  limit: number;
}

function deliveryQuery(tx: Tx, merchantId: string) {
  return tx
    .selectFrom('notifications as n')
    .select([
      'n.id',
      'n.payment_id',
      'n.refund_id',
      'n.seq',
      'n.kind',
      'n.url',
      'n.status',
      'n.attempts',
      'n.next_attempt_at',
      'n.created_at',
      'n.delivered_at',
      'n.last_error',
      'n.redeliveries',
    ])
    .select((eb) =>
      eb
        .selectFrom('notification_attempts as a')
        .select((e) => e.fn.max('a.started_at').as('last'))
        .whereRef('a.notification_id', '=', 'n.id')
        .as('last_attempt_at'),
    )
    .where('n.merchant_id', '=', merchantId);
}

type DeliveryRow = Awaited<ReturnType<ReturnType<typeof deliveryQuery>['execute']>>[number];

const toDelivery = (r: DeliveryRow): DeliverySummary => ({
  id: r.id,
  paymentId: r.payment_id,
  refundId: r.refund_id,
  seq: Number(r.seq),
  kind: r.kind as NotificationKind,
  url: r.url,
  status: r.status as NotificationStatus,
  attempts: Number(r.attempts),
  nextAttemptAt: Number(r.next_attempt_at),
  createdAt: Number(r.created_at),
  deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
  lastError: r.last_error,
  redeliveries: Number(r.redeliveries),
  lastAttemptAt:
    r.last_attempt_at === null || r.last_attempt_at === undefined ? null : Number(r.last_attempt_at),
});

/** One page of a merchant's notifications, newest first, with when each was last attempted. */
export async function searchMerchantDeliveries(
  tx: Tx,
  s: DeliverySearch,
): Promise<{ rows: DeliverySummary[]; more: boolean }> {
  const rows = await deliveryQuery(tx, s.merchantId)
    .$if(s.status !== undefined, (q) => q.where('n.status', '=', s.status ?? ''))
    .$if(s.paymentId !== undefined, (q) => q.where('n.payment_id', '=', s.paymentId ?? ''))
    .$if(s.after !== undefined, (q) => {
      const at = BigInt(s.after?.createdAt ?? 0);
      const id = s.after?.id ?? '';
      return q.where((eb) =>
        eb.or([eb('n.created_at', '<', at), eb.and([eb('n.created_at', '=', at), eb('n.id', '<', id)])]),
      );
    })
    .orderBy('n.created_at', 'desc')
    .orderBy('n.id', 'desc')
    .limit(s.limit + 1)
    .execute();
  return { rows: rows.slice(0, s.limit).map(toDelivery), more: rows.length > s.limit };
}

/** The merchant's notification with this id (summary only); undefined for another merchant's. */
export async function findMerchantDelivery(
  tx: Tx,
  merchantId: string,
  notificationId: string,
): Promise<DeliverySummary | undefined> {
  const row = await deliveryQuery(tx, merchantId).where('n.id', '=', notificationId).executeTakeFirst();
  return row && toDelivery(row);
}

export interface AttemptRecord {
  notificationId: string;
  attemptNo: number;
  startedAt: number;
  latencyMs: number;
  httpStatus: number | null;
  outcome: AttemptOutcome;
  replyExcerpt: string | null;
  error: string | null;
}

/** Every recorded attempt of these notifications of the merchant, in attempt order. */
export async function merchantAttempts(
  tx: Tx,
  merchantId: string,
  notificationIds: readonly string[],
): Promise<AttemptRecord[]> {
  if (notificationIds.length === 0) return [];
  const rows = await tx
    .selectFrom('notification_attempts as a')
    .innerJoin('notifications as n', 'n.id', 'a.notification_id')
    .select([
      'a.notification_id',
      'a.attempt_no',
      'a.started_at',
      'a.latency_ms',
      'a.http_status',
      'a.outcome',
      'a.reply_excerpt',
      'a.error',
    ])
    .where('n.merchant_id', '=', merchantId)
    .where('a.notification_id', 'in', [...notificationIds])
    .orderBy('a.notification_id')
    .orderBy('a.attempt_no')
    .execute();
  return rows.map((r) => ({
    notificationId: r.notification_id,
    attemptNo: Number(r.attempt_no),
    startedAt: Number(r.started_at),
    latencyMs: Number(r.latency_ms),
    httpStatus: r.http_status === null ? null : Number(r.http_status),
    outcome: r.outcome as AttemptOutcome,
    replyExcerpt: r.reply_excerpt,
    error: r.error,
  }));
}
