import { ORDER_EXPIRED_REASON } from '@billetera/domain';
import { findExpiredPayments, findMerchantById, findPaymentById, finishPayment } from '@billetera/store';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { enqueuePaymentNotification } from './notify-body.ts';

/**
 * Moves an expired PROCESSING payment to FAIL ("ORDER_EXPIRED") and owes the merchant a FAIL
 * notification, in the caller's transaction. False when the payment was no longer PROCESSING.
 */
export async function expirePaymentInTx(
  ctx: WalletContext,
  tx: Transaction<Database> | Kysely<Database>,
  paymentId: string,
): Promise<boolean> {
  const won = await finishPayment(tx, paymentId, { status: 'FAIL', failReason: ORDER_EXPIRED_REASON });
  if (!won) return false;
  const payment = await findPaymentById(tx, paymentId);
  const merchant = payment && (await findMerchantById(tx, payment.merchantId));
  if (!payment || !merchant) throw new Error('invariant: expired payment or its merchant vanished');
  await enqueuePaymentNotification(ctx, tx, payment, merchant);
  return true;
}

/** How many expired payments one sweep handles at most. */
const SWEEP_BATCH = 200;

/** Expires every PROCESSING payment whose time has come; returns how many it moved to FAIL. */
export async function expireDuePayments(ctx: WalletContext): Promise<number> {
  let total = 0;
  for (;;) {
    const due = await findExpiredPayments(ctx.store.db, ctx.clock.now(), SWEEP_BATCH);
    let moved = 0;
    for (const p of due) {
      if (await ctx.store.transaction((tx) => expirePaymentInTx(ctx, tx, p.id))) moved++;
    }
    total += moved;
    if (moved > 0) ctx.onOutbox();
    if (due.length < SWEEP_BATCH) return total;
  }
}
