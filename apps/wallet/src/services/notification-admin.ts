/**
 * Notification operations for the operator (CLI `billetera notifications list|redeliver`): the
 * deliveries with their recorded attempts, and redelivery of a failed one (or, forced, a delivered one)
 * or of all of a merchant's failed ones.
 *
 * Redelivery puts the row back in the outbox, due now, with the same body (same notificationId and
 * sequence, so the merchant can de-duplicate) and a new round of the retry ladder: the attempt counter
 * and every recorded attempt are kept (the next attempt is numbered attempts + 1), and the round gets
 * the full ladder again (0 s, 2 min, 10 min, ... 15 h: 8 attempts) before the row is FAILED again.
 */
import {
  attemptsOf,
  findMerchantByClientId,
  findMerchantById,
  findNotification,
  listNotifications,
  redeliverFailedNotifications,
  redeliverNotification,
  type Notification,
  type NotificationAttempt,
  type NotificationStatus,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { UserInputError } from './users.ts';

/** The most rows one list shows. */
export const MAX_LIST_LIMIT = 1_000;

export interface Delivery {
  notification: Notification;
  clientId: string;
  attempts: NotificationAttempt[];
}

export interface DeliveryFilter {
  clientId?: string | undefined;
  paymentId?: string | undefined;
  status?: NotificationStatus | undefined;
  limit?: number | undefined;
}

export async function listDeliveries(ctx: WalletContext, filter: DeliveryFilter): Promise<Delivery[]> {
  const merchantId = filter.clientId === undefined ? undefined : (await merchantOf(ctx, filter.clientId)).id;
  const rows = await listNotifications(ctx.store.db, {
    merchantId,
    paymentId: filter.paymentId,
    status: filter.status,
    limit: Math.min(filter.limit ?? 50, MAX_LIST_LIMIT),
  });
  const clientIds = new Map<string, string>();
  const out: Delivery[] = [];
  for (const n of rows) {
    if (!clientIds.has(n.merchantId))
      clientIds.set(n.merchantId, (await findMerchantById(ctx.store.db, n.merchantId))?.clientId ?? '?');
    out.push({
      notification: n,
      clientId: clientIds.get(n.merchantId) ?? '?',
      attempts: await attemptsOf(ctx.store.db, n.id),
    });
  }
  return out;
}

/** Redelivers one notification: FAILED ones, or DELIVERED ones with `force`. */
export async function redeliver(
  ctx: WalletContext,
  input: { notificationId: string; force?: boolean },
): Promise<Notification> {
  const now = ctx.clock.now();
  const moved = await ctx.store.transaction((tx) =>
    redeliverNotification(tx, input.notificationId, { now, force: input.force === true }),
  );
  const n = await findNotification(ctx.store.db, input.notificationId);
  if (!n) throw new UserInputError(`no notification ${input.notificationId}`);
  if (!moved) {
    throw new UserInputError(
      n.status === 'DELIVERED'
        ? `notification ${n.id} was delivered; use --force to send it again`
        : `notification ${n.id} is ${n.status}: it is still being delivered`,
    );
  }
  ctx.onOutbox();
  return n;
}

/** Redelivers every FAILED notification of a merchant; returns how many. */
export async function redeliverFailed(ctx: WalletContext, input: { clientId: string }): Promise<number> {
  const merchant = await merchantOf(ctx, input.clientId);
  const now = ctx.clock.now();
  const count = await ctx.store.transaction((tx) => redeliverFailedNotifications(tx, merchant.id, now));
  if (count > 0) ctx.onOutbox();
  return count;
}

async function merchantOf(ctx: WalletContext, clientId: string) {
  const merchant = await findMerchantByClientId(ctx.store.db, clientId);
  if (!merchant) throw new UserInputError(`no merchant with Client-Id ${clientId}`);
  return merchant;
}
