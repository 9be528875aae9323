/**
 * The merchant console's read views and its one action on them: the merchant's payments (searched and
 * paged), a payment's timeline (created, expiry, paid / failed / cancelled, refunds, notifications with
 * every attempt), the notification deliveries, and redelivery of one of them.
 *
 * Everything is scoped to the signed-in merchant by the store queries themselves (WHERE merchant_id =
 * ...): another merchant's payment or notification id is "not found", never "forbidden", so ids leak
 * nothing. Nothing about the payer is shown beyond the fact that the order was paid: merchants know their
 * customers through the customerId of user authorization, not through the wallet's records.
 */
import type { PaymentStatus } from '@billetera/protocol';
import {
  findMerchantDelivery,
  findMerchantPayment,
  merchantAttempts,
  merchantPaymentRefunds,
  insertMerchantEvent,
  searchMerchantDeliveries,
  searchMerchantPayments,
  type AttemptRecord,
  type DeliverySummary,
  type Merchant,
  type NotificationStatus,
  type PageCursor,
  type Payment,
  type Refund,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { redeliver } from './notification-admin.ts';
import type { Actor } from './onboarding.ts';
import { merchantEventId } from './staff-accounts.ts';
import { UserInputError } from './users.ts';

/** Rows per console page. */
export const CONSOLE_PAGE_SIZE = 50;
const DAY_MS = 86_400_000;

export const PAYMENT_STATUSES: readonly PaymentStatus[] = ['PROCESSING', 'SUCCESS', 'FAIL', 'CANCELLED'];
export const NOTIFICATION_STATUSES: readonly NotificationStatus[] = ['PENDING', 'DELIVERED', 'FAILED'];

/** A page position as it travels in a link: `<createdAt>.<id>`. */
export function encodeCursor(c: PageCursor): string {
  return `${c.createdAt}.${c.id}`;
}

export function decodeCursor(text: string | undefined): PageCursor | undefined {
  const m = /^(\d{1,16})\.([A-Za-z0-9_-]{1,100})$/.exec(text ?? '');
  return m ? { createdAt: Number(m[1]), id: m[2] ?? '' } : undefined;
}

/** `YYYY-MM-DD` (a UTC day) to its first millisecond; undefined when it is not a real date. */
export function parseUtcDate(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  return back.getUTCFullYear() === y && back.getUTCMonth() === mo - 1 && back.getUTCDate() === d
    ? ms
    : undefined;
}

/** The payments filter as typed in the form (query string values, all optional). */
export interface PaymentQuery {
  q?: string | undefined;
  status?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  after?: string | undefined;
}

export interface PaymentFilter {
  /** The form's values, trimmed (to fill the form again and build page links). */
  q: string;
  status: PaymentStatus | '';
  from: string;
  to: string;
}

export interface PaymentPage {
  filter: PaymentFilter;
  /** Problems with the filter; when any, no search was made. */
  errors: string[];
  rows: Payment[];
  /** The `after` value of the next (older) page, when there is one. */
  next: string | undefined;
  /** True on a page after the first. */
  paged: boolean;
}

const text = (v: unknown, max: number): string => (typeof v === 'string' ? v.trim().slice(0, max) : '');

/** One page of the merchant's payments, newest first, with the filters of the payments page. */
export async function searchPayments(
  ctx: WalletContext,
  merchant: Merchant,
  query: PaymentQuery,
): Promise<PaymentPage> {
  const filter: PaymentFilter = {
    q: text(query.q, 128),
    status: '',
    from: text(query.from, 10),
    to: text(query.to, 10),
  };
  const errors: string[] = [];
  const status = text(query.status, 20);
  if (status) {
    if ((PAYMENT_STATUSES as readonly string[]).includes(status)) filter.status = status as PaymentStatus;
    else errors.push(`Status must be one of ${PAYMENT_STATUSES.join(', ')}.`);
  }
  const from = filter.from ? parseUtcDate(filter.from) : undefined;
  const to = filter.to ? parseUtcDate(filter.to) : undefined;
  if (filter.from && from === undefined) errors.push('"From" must be a date written YYYY-MM-DD.');
  if (filter.to && to === undefined) errors.push('"To" must be a date written YYYY-MM-DD.');
  if (from !== undefined && to !== undefined && from > to) errors.push('"From" is after "To".');
  const after = decodeCursor(query.after);
  if (errors.length > 0) return { filter, errors, rows: [], next: undefined, paged: false };
  const page = await searchMerchantPayments(ctx.store.db, {
    merchantId: merchant.id,
    id: filter.q || undefined,
    status: filter.status || undefined,
    createdFrom: from,
    // "To" is inclusive: the whole of that UTC day.
    createdBefore: to === undefined ? undefined : to + DAY_MS,
    after,
    limit: CONSOLE_PAGE_SIZE,
  });
  const last = page.rows[page.rows.length - 1];
  return {
    filter,
    errors,
    rows: page.rows,
    next: page.more && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : undefined,
    paged: after !== undefined,
  };
}

export interface NotificationView extends DeliverySummary {
  attemptsList: AttemptRecord[];
}

export type TimelineEvent =
  | { kind: 'CREATED'; at: number }
  | { kind: 'EXPIRES'; at: number }
  | { kind: 'PAID'; at: number }
  | { kind: 'FAILED'; at: number | null; reason: string | null }
  | { kind: 'CANCELLED'; at: number | null }
  | { kind: 'REFUNDED'; at: number; refund: Refund }
  | { kind: 'NOTIFICATION'; at: number; notification: NotificationView };

export interface PaymentTimeline {
  payment: Payment;
  /** In time order; an event without a known time comes after the timed ones. */
  events: TimelineEvent[];
}

const ORDER: Record<TimelineEvent['kind'], number> = {
  CREATED: 0,
  PAID: 1,
  FAILED: 1,
  CANCELLED: 1,
  EXPIRES: 2,
  REFUNDED: 3,
  NOTIFICATION: 4,
};

/** A payment of this merchant with everything that happened to it; undefined for another's. */
export async function paymentTimeline(
  ctx: WalletContext,
  merchant: Merchant,
  paymentId: string,
): Promise<PaymentTimeline | undefined> {
  const db = ctx.store.db;
  const payment = await findMerchantPayment(db, merchant.id, paymentId);
  if (!payment) return undefined;
  const [refunds, deliveries] = await Promise.all([
    merchantPaymentRefunds(db, merchant.id, payment.id),
    searchMerchantDeliveries(db, { merchantId: merchant.id, paymentId: payment.id, limit: 1_000 }),
  ]);
  const notifications = await withAttempts(ctx, merchant, deliveries.rows);
  const events: TimelineEvent[] = [{ kind: 'CREATED', at: payment.createdAt }];
  switch (payment.status) {
    case 'PROCESSING':
      events.push({ kind: 'EXPIRES', at: payment.expiresAt });
      break;
    case 'SUCCESS':
      if (payment.paidAt !== null) events.push({ kind: 'PAID', at: payment.paidAt });
      break;
    case 'FAIL': {
      // An expired order fails at its expiry time; otherwise the failure's notification says when.
      const firstNotice = notifications.find((n) => n.kind === 'PAYMENT');
      const at =
        payment.failReason === 'ORDER_EXPIRED' ? payment.expiresAt : (firstNotice?.createdAt ?? null);
      events.push({ kind: 'FAILED', at, reason: payment.failReason });
      break;
    }
    case 'CANCELLED':
      events.push({ kind: 'CANCELLED', at: payment.cancelledAt });
      break;
  }
  for (const refund of refunds)
    events.push({ kind: 'REFUNDED', at: refund.refundedAt ?? refund.createdAt, refund });
  for (const n of notifications) events.push({ kind: 'NOTIFICATION', at: n.createdAt, notification: n });
  events.sort(
    (a, b) =>
      (a.at ?? Number.MAX_SAFE_INTEGER) - (b.at ?? Number.MAX_SAFE_INTEGER) || ORDER[a.kind] - ORDER[b.kind],
  );
  return { payment, events };
}

async function withAttempts(
  ctx: WalletContext,
  merchant: Merchant,
  rows: DeliverySummary[],
): Promise<NotificationView[]> {
  const attempts = await merchantAttempts(
    ctx.store.db,
    merchant.id,
    rows.map((r) => r.id),
  );
  return rows.map((r) => ({ ...r, attemptsList: attempts.filter((a) => a.notificationId === r.id) }));
}

export interface NotificationQuery {
  status?: string | undefined;
  paymentId?: string | undefined;
  after?: string | undefined;
}

export interface NotificationPage {
  filter: { status: NotificationStatus | ''; paymentId: string };
  errors: string[];
  rows: DeliverySummary[];
  next: string | undefined;
  paged: boolean;
}

/** One page of the merchant's notification deliveries, newest first. */
export async function searchDeliveries(
  ctx: WalletContext,
  merchant: Merchant,
  query: NotificationQuery,
): Promise<NotificationPage> {
  const filter: NotificationPage['filter'] = { status: '', paymentId: text(query.paymentId, 128) };
  const errors: string[] = [];
  const status = text(query.status, 20);
  if (status) {
    if ((NOTIFICATION_STATUSES as readonly string[]).includes(status))
      filter.status = status as NotificationStatus;
    else errors.push(`Status must be one of ${NOTIFICATION_STATUSES.join(', ')}.`);
  }
  const after = decodeCursor(query.after);
  if (errors.length > 0) return { filter, errors, rows: [], next: undefined, paged: false };
  const page = await searchMerchantDeliveries(ctx.store.db, {
    merchantId: merchant.id,
    status: filter.status || undefined,
    paymentId: filter.paymentId || undefined,
    after,
    limit: CONSOLE_PAGE_SIZE,
  });
  const last = page.rows[page.rows.length - 1];
  return {
    filter,
    errors,
    rows: page.rows,
    next: page.more && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : undefined,
    paged: after !== undefined,
  };
}

/** Redelivery from the console is for verified merchants; a frozen merchant's console is read-only. */
export const canRedeliver = (merchant: Merchant): boolean => merchant.status === 'VERIFIED';

export type ConsoleRedeliverResult =
  | { ok: true; notificationId: string }
  | { ok: false; problem: 'NOT_FOUND' | 'NOT_ALLOWED' | 'NEEDS_FORCE' | 'IN_PROGRESS'; message: string };

/**
 * Puts one of the merchant's notifications back in the outbox (notification-admin's redelivery: same
 * body, a new round of the retry ladder). FAILED ones; DELIVERED ones only with `force`. Another
 * merchant's id is NOT_FOUND and changes nothing.
 */
export async function redeliverForMerchant(
  ctx: WalletContext,
  merchant: Merchant,
  input: { notificationId: string; force: boolean; actor: Actor },
): Promise<ConsoleRedeliverResult> {
  const n = await findMerchantDelivery(ctx.store.db, merchant.id, input.notificationId);
  if (!n) return { ok: false, problem: 'NOT_FOUND', message: 'There is no such notification.' };
  if (!canRedeliver(merchant)) {
    return {
      ok: false,
      problem: 'NOT_ALLOWED',
      message:
        merchant.status === 'FROZEN'
          ? 'This merchant is frozen: notifications cannot be redelivered until it is unfrozen.'
          : 'Notifications can be redelivered once the merchant is verified.',
    };
  }
  if (n.status === 'PENDING') return inProgress(n.id);
  if (n.status === 'DELIVERED' && !input.force) {
    return {
      ok: false,
      problem: 'NEEDS_FORCE',
      message: `Notification ${n.id} was delivered already. Tick "Send again although delivered" to send it once more.`,
    };
  }
  try {
    await redeliver(ctx, { notificationId: n.id, force: input.force });
  } catch (err) {
    // Another redelivery (or the notifier) moved it meanwhile.
    if (err instanceof UserInputError) return inProgress(n.id);
    throw err;
  }
  await insertMerchantEvent(ctx.store.db, {
    id: merchantEventId(ctx.clock.now()),
    merchantId: merchant.id,
    at: ctx.clock.now(),
    actor: input.actor,
    action: 'NOTIFICATION_REDELIVERED',
    detail: `${n.id}${n.status === 'DELIVERED' ? ' (forced, was delivered)' : ''}`,
  });
  return { ok: true, notificationId: n.id };
}

function inProgress(id: string): ConsoleRedeliverResult {
  return {
    ok: false,
    problem: 'IN_PROGRESS',
    message: `Notification ${id} is being delivered right now; its attempts appear below.`,
  };
}
