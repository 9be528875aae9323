/**
 * The notification outbox. A row is written in the same transaction as the state change it reports, so
 * a crash can delay a notification but never lose it. Workers claim due rows with a lease: a claim is a
 * conditional UPDATE, so two workers (or processes) never send the same attempt; a worker that dies
 * mid-send leaves a lease that runs out, and the row is sent again as if that attempt never happened.
 */
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { IdGenerator } from '@billetera/domain';
import type { Database, NotificationsTable } from './schema.ts';

type Tx = Transaction<Database> | Kysely<Database>;

export type NotificationStatus = 'PENDING' | 'DELIVERED' | 'FAILED';
/** PAYMENT: a notifyPayment; REFUND: a notifyRefund (numbered in its payment's sequence). */
export type NotificationKind = 'PAYMENT' | 'REFUND';

export interface Notification {
  id: string;
  merchantId: string;
  paymentId: string;
  seq: number;
  kind: NotificationKind;
  url: string;
  body: string;
  status: NotificationStatus;
  attempts: number;
  nextAttemptAt: number;
  leaseUntil: number | null;
  leaseOwner: string | null;
  createdAt: number;
  deliveredAt: number | null;
  lastError: string | null;
  /**
   * Attempts made before the current round of the retry ladder. 0 until an operator redelivers the
   * notification; a redelivery sets it to `attempts`, so the round starts again at the ladder's first
   * step while `attempts` (and the attempt numbers) keep counting the whole history.
   */
  ladderBase: number;
  redeliveries: number;
  /** The refund a REFUND notification is about. */
  refundId: string | null;
}

export type AttemptOutcome = 'ACKNOWLEDGED' | 'NOT_ACKNOWLEDGED' | 'HTTP_ERROR' | 'TIMEOUT' | 'NETWORK_ERROR';

export interface NotificationAttempt {
  id: string;
  notificationId: string;
  attemptNo: number;
  startedAt: number;
  latencyMs: number;
  httpStatus: number | null;
  outcome: AttemptOutcome;
  replyExcerpt: string | null;
  error: string | null;
}

const toNotification = (r: Selectable<NotificationsTable>): Notification => ({
  id: r.id,
  merchantId: r.merchant_id,
  paymentId: r.payment_id,
  seq: Number(r.seq),
  kind: r.kind as Notification['kind'],
  url: r.url,
  body: r.body,
  status: r.status as NotificationStatus,
  attempts: Number(r.attempts),
  nextAttemptAt: Number(r.next_attempt_at),
  leaseUntil: r.lease_until === null ? null : Number(r.lease_until),
  leaseOwner: r.lease_owner,
  createdAt: Number(r.created_at),
  deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
  lastError: r.last_error,
  ladderBase: Number(r.ladder_base),
  redeliveries: Number(r.redeliveries),
  refundId: r.refund_id,
});

/**
 * Adds a notification for a payment (or one of its refunds), numbered with the payment's next sequence
 * number. `body` gets that number and the notification's id, which the body carries (Billetera's
 * `sequence` and `notificationId` extensions). Must run in the transaction that made the change.
 */
export async function enqueueNotification(
  tx: Tx,
  args: {
    merchantId: string;
    paymentId: string;
    url: string;
    body: (seq: number, notificationId: string) => string;
    now: number;
    kind?: NotificationKind;
    refundId?: string;
  },
  ids: IdGenerator,
): Promise<Notification> {
  const bumped = await tx
    .updateTable('payments')
    .set({ notify_seq: sql<bigint>`notify_seq + 1` })
    .where('id', '=', args.paymentId)
    .returning('notify_seq')
    .executeTakeFirstOrThrow();
  const seq = Number(bumped.notify_seq);
  const id = ids.next('ntf');
  const row = {
    id,
    merchant_id: args.merchantId,
    payment_id: args.paymentId,
    seq: BigInt(seq),
    kind: args.kind ?? 'PAYMENT',
    url: args.url,
    body: args.body(seq, id),
    status: 'PENDING',
    attempts: 0n,
    next_attempt_at: BigInt(args.now),
    lease_until: null,
    lease_owner: null,
    created_at: BigInt(args.now),
    delivered_at: null,
    last_error: null,
    ladder_base: 0n,
    redeliveries: 0n,
    refund_id: args.refundId ?? null,
  };
  await tx.insertInto('notifications').values(row).execute();
  return toNotification(row);
}

/**
 * Due rows: pending, their time has come, and no live lease on them; none of `skipMerchants` (the
 * merchants whose delivery slots are all in use in this worker).
 */
export async function findDueNotifications(
  tx: Tx,
  now: number,
  limit: number,
  skipMerchants: readonly string[] = [],
): Promise<Notification[]> {
  let query = tx
    .selectFrom('notifications')
    .selectAll()
    .where('status', '=', 'PENDING')
    .where('next_attempt_at', '<=', BigInt(now))
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', BigInt(now))]));
  if (skipMerchants.length > 0) query = query.where('merchant_id', 'not in', skipMerchants);
  const rows = await query.orderBy('next_attempt_at').limit(limit).execute();
  return rows.map(toNotification);
}

/** Takes the lease on one due row; false when another worker got there first. */
export async function claimNotification(
  tx: Tx,
  id: string,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<boolean> {
  const result = await tx
    .updateTable('notifications')
    .set({ lease_owner: owner, lease_until: BigInt(now + leaseMs) })
    .where('id', '=', id)
    .where('status', '=', 'PENDING')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', BigInt(now))]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Records one attempt and moves the row on: DELIVERED, back to PENDING at `nextAttemptAt`, or FAILED
 * when the ladder is done. Only the lease holder may do it (a worker whose lease ran out and was taken
 * over records nothing, so an attempt is never counted twice).
 */
export async function recordAttempt(
  tx: Tx,
  args: {
    notificationId: string;
    owner: string;
    attempt: Omit<NotificationAttempt, 'id' | 'notificationId' | 'attemptNo'>;
    next:
      | { status: 'DELIVERED'; at: number }
      | { status: 'PENDING'; nextAttemptAt: number }
      | { status: 'FAILED' };
  },
  ids: IdGenerator,
): Promise<boolean> {
  const current = await tx
    .selectFrom('notifications')
    .select(['attempts', 'lease_owner', 'status'])
    .where('id', '=', args.notificationId)
    .executeTakeFirst();
  if (!current || current.lease_owner !== args.owner || current.status !== 'PENDING') return false;
  const attemptNo = Number(current.attempts) + 1;
  const update = {
    attempts: BigInt(attemptNo),
    lease_owner: null,
    lease_until: null,
    last_error: args.attempt.outcome === 'ACKNOWLEDGED' ? null : (args.attempt.error ?? args.attempt.outcome),
    ...(args.next.status === 'DELIVERED'
      ? { status: 'DELIVERED', delivered_at: BigInt(args.next.at) }
      : args.next.status === 'PENDING'
        ? { status: 'PENDING', next_attempt_at: BigInt(args.next.nextAttemptAt) }
        : { status: 'FAILED' }),
  };
  const result = await tx
    .updateTable('notifications')
    .set(update)
    .where('id', '=', args.notificationId)
    .where('lease_owner', '=', args.owner)
    .where('attempts', '=', current.attempts)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) return false;
  const a = args.attempt;
  await tx
    .insertInto('notification_attempts')
    .values({
      id: ids.next('att'),
      notification_id: args.notificationId,
      attempt_no: BigInt(attemptNo),
      started_at: BigInt(a.startedAt),
      latency_ms: BigInt(Math.round(a.latencyMs)),
      http_status: a.httpStatus === null ? null : BigInt(a.httpStatus),
      outcome: a.outcome,
      reply_excerpt: a.replyExcerpt,
      error: a.error,
    })
    .execute();
  return true;
}

export async function findNotification(tx: Tx, id: string): Promise<Notification | undefined> {
  const row = await tx.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toNotification(row);
}

export async function notificationsForPayment(tx: Tx, paymentId: string): Promise<Notification[]> {
  const rows = await tx
    .selectFrom('notifications')
    .selectAll()
    .where('payment_id', '=', paymentId)
    .orderBy('seq')
    .execute();
  return rows.map(toNotification);
}

export async function attemptsOf(tx: Tx, notificationId: string): Promise<NotificationAttempt[]> {
  const rows = await tx
    .selectFrom('notification_attempts')
    .selectAll()
    .where('notification_id', '=', notificationId)
    .orderBy('attempt_no')
    .execute();
  return rows.map((r) => ({
    id: r.id,
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

/**
 * The earliest time any pending notification is due (for the worker's sleep), or null. With `now`, rows
 * under a live lease are left out (they are being sent: the worker that holds one wakes when it is done,
 * and a dead worker's lease is found by the next poll), and so are `skipMerchants`' rows.
 */
export async function nextDueAt(
  tx: Tx,
  opts: { now?: number; skipMerchants?: readonly string[] } = {},
): Promise<number | null> {
  let query = tx
    .selectFrom('notifications')
    .select((eb) => eb.fn.min('next_attempt_at').as('due'))
    .where('status', '=', 'PENDING');
  if (opts.now !== undefined) {
    const now = BigInt(opts.now);
    query = query.where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]));
  }
  if (opts.skipMerchants && opts.skipMerchants.length > 0)
    query = query.where('merchant_id', 'not in', opts.skipMerchants);
  const row = await query.executeTakeFirst();
  return row?.due === null || row?.due === undefined ? null : Number(row.due);
}

export interface NotificationFilter {
  merchantId?: string | undefined;
  paymentId?: string | undefined;
  status?: NotificationStatus | undefined;
  /** At most this many rows, newest first. */
  limit: number;
}

/** Notifications, newest first, for the operator's list. */
export async function listNotifications(tx: Tx, filter: NotificationFilter): Promise<Notification[]> {
  const rows = await tx
    .selectFrom('notifications')
    .selectAll()
    .$if(filter.merchantId !== undefined, (q) => q.where('merchant_id', '=', filter.merchantId ?? ''))
    .$if(filter.paymentId !== undefined, (q) => q.where('payment_id', '=', filter.paymentId ?? ''))
    .$if(filter.status !== undefined, (q) => q.where('status', '=', filter.status ?? 'PENDING'))
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit)
    .execute();
  return rows.map(toNotification);
}

/**
 * Puts a FAILED notification (or, with `force`, a DELIVERED one) back in the outbox, due `now`, as a
 * new round of the retry ladder: `attempts` and the recorded attempts are kept (the next attempt is
 * numbered `attempts + 1`), `ladder_base` becomes `attempts`, so the ladder starts again at its first
 * step and allows its full 8 attempts. The body (its notificationId and sequence) is unchanged. False
 * when the row is not in a redeliverable state (unknown, PENDING, or DELIVERED without force).
 */
export async function redeliverNotification(
  tx: Tx,
  id: string,
  opts: { now: number; force?: boolean },
): Promise<boolean> {
  const statuses = opts.force === true ? ['FAILED', 'DELIVERED'] : ['FAILED'];
  const result = await tx
    .updateTable('notifications')
    .set({
      status: 'PENDING',
      next_attempt_at: BigInt(opts.now),
      ladder_base: sql<bigint>`attempts`,
      redeliveries: sql<bigint>`redeliveries + 1`,
      lease_owner: null,
      lease_until: null,
      delivered_at: null,
    })
    .where('id', '=', id)
    .where('status', 'in', statuses)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Redelivers every FAILED notification of a merchant (see redeliverNotification); returns how many. */
export async function redeliverFailedNotifications(tx: Tx, merchantId: string, now: number): Promise<number> {
  const result = await tx
    .updateTable('notifications')
    .set({
      status: 'PENDING',
      next_attempt_at: BigInt(now),
      ladder_base: sql<bigint>`attempts`,
      redeliveries: sql<bigint>`redeliveries + 1`,
      lease_owner: null,
      lease_until: null,
    })
    .where('merchant_id', '=', merchantId)
    .where('status', '=', 'FAILED')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
