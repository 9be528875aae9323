/**
 * `payments/cancel` (v1 and v2: the bodies differ only by v1's optional partnerId): moves an unpaid
 * order to CANCELLED and answers S with its cancelTime. Idempotent: cancelling a cancelled order
 * answers S again with the first cancelTime. No notification (decisions.md: the reply is the answer).
 *
 * Guards, in order: partnerId belongs to the caller (ACCESS_DENIED) -> merchant verified
 * (PARTNER_STATUS_ABNORMAL) -> paymentId or paymentRequestId given (PARAM_ILLEGAL) -> the payment is
 * the caller's (ORDER_NOT_EXIST) -> unpaid and not expired (ORDER_STATUS_INVALID). An order whose expiry
 * time has passed is failed (and notified FAIL) in the same transaction, as the sweeper would have, so
 * the answer depends on the time only, never on when the sweeper last ran.
 *
 * Concurrency: the transition is finishPayment's conditional update (status = 'PROCESSING'), so of a
 * cancel racing a confirm, the expiry or another cancel exactly one wins; a losing cancel re-reads the
 * payment and answers from what won.
 */
import { decideCancel } from '@billetera/domain';
import { formatWireTime, resultOf, type CancelReply } from '@billetera/protocol';
import {
  findPaymentById,
  findPaymentByRequestId,
  finishPayment,
  type Merchant,
  type Payment,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { expirePaymentInTx } from './expire-payment.ts';
import { Refusal } from './refusal.ts';

/** cancel's version-neutral input. */
export interface CancelInput {
  /** v1 only, optional: when given, must be the caller's. */
  partnerId?: string | undefined;
  paymentId?: string | undefined;
  paymentRequestId?: string | undefined;
}

export interface CancelOutcome {
  reply: CancelReply;
  replayed: boolean;
}

export async function cancelPayment(
  ctx: WalletContext,
  merchant: Merchant,
  input: CancelInput,
): Promise<CancelOutcome> {
  try {
    return await cancelOrRefuse(ctx, merchant, input);
  } catch (err) {
    if (err instanceof Refusal) return { reply: { result: resultOf(err.code, err.detail) }, replayed: false };
    throw err;
  }
}

/** The payment a merchant names by paymentId (wins) or paymentRequestId; another merchant's is "not found". */
export async function findMerchantPayment(
  ctx: WalletContext,
  merchant: Merchant,
  ids: { paymentId?: string | undefined; paymentRequestId?: string | undefined },
): Promise<Payment> {
  if (ids.paymentId === undefined && ids.paymentRequestId === undefined)
    throw new Refusal('PARAM_ILLEGAL', 'paymentId or paymentRequestId is required');
  const payment =
    ids.paymentId !== undefined
      ? await findPaymentById(ctx.store.db, ids.paymentId)
      : await findPaymentByRequestId(ctx.store.db, merchant.id, ids.paymentRequestId ?? '');
  if (!payment || payment.merchantId !== merchant.id) throw new Refusal('ORDER_NOT_EXIST');
  return payment;
}

/** The caller may act on payments: its partnerId (v1, when given) and its verified status. */
export function checkMerchant(merchant: Merchant, partnerId: string | undefined): void {
  if (partnerId !== undefined && partnerId !== merchant.partnerId)
    throw new Refusal('ACCESS_DENIED', 'partnerId does not belong to this Client-Id');
  if (merchant.status !== 'VERIFIED') {
    throw new Refusal(
      'PARTNER_STATUS_ABNORMAL',
      `the merchant is not verified (status ${merchant.status}): payments need a verified business licence and website`,
    );
  }
}

type TxOutcome =
  | { kind: 'cancelled'; payment: Payment; replayed: boolean }
  | { kind: 'refused'; payment: Payment; expired: boolean };

async function cancelOrRefuse(
  ctx: WalletContext,
  merchant: Merchant,
  input: CancelInput,
): Promise<CancelOutcome> {
  checkMerchant(merchant, input.partnerId);
  const found = await findMerchantPayment(ctx, merchant, input);
  const outcome = await ctx.store.transaction(async (tx): Promise<TxOutcome> => {
    const now = ctx.clock.now();
    const current = await findPaymentById(tx, found.id);
    if (!current) throw new Error('invariant: payment vanished');
    const decision = decideCancel(current, now);
    if (!decision.ok) {
      const expired = decision.expireNow && (await expirePaymentInTx(ctx, tx, current.id));
      return { kind: 'refused', payment: (await findPaymentById(tx, current.id)) ?? current, expired };
    }
    if (decision.alreadyCancelled) return { kind: 'cancelled', payment: current, replayed: true };
    if (await finishPayment(tx, current.id, { status: 'CANCELLED', cancelledAt: now })) {
      return {
        kind: 'cancelled',
        payment: { ...current, status: 'CANCELLED', cancelledAt: now },
        replayed: false,
      };
    }
    // Lost a race (a confirm, the sweeper, another cancel): answer from what won.
    const after = (await findPaymentById(tx, current.id)) ?? current;
    return after.status === 'CANCELLED'
      ? { kind: 'cancelled', payment: after, replayed: true }
      : { kind: 'refused', payment: after, expired: false };
  });
  if (outcome.kind === 'refused') {
    if (outcome.expired) ctx.onOutbox();
    throw new Refusal('ORDER_STATUS_INVALID', whyNotCancellable(outcome.payment));
  }
  const p = outcome.payment;
  return {
    reply: {
      result: resultOf('SUCCESS'),
      paymentId: p.id,
      paymentRequestId: p.paymentRequestId,
      ...(p.cancelledAt !== null ? { cancelTime: formatWireTime(p.cancelledAt) } : {}),
    },
    replayed: outcome.replayed,
  };
}

function whyNotCancellable(p: Payment): string {
  switch (p.status) {
    case 'SUCCESS':
      return 'the order is paid and can no longer be cancelled; refund it instead';
    case 'FAIL':
      return p.failReason === 'ORDER_EXPIRED'
        ? `the order expired at ${formatWireTime(p.expiresAt)} (paymentStatus FAIL) and can no longer be cancelled`
        : 'the order has failed and can no longer be cancelled';
    case 'PROCESSING':
    case 'CANCELLED':
      return `the order is ${p.status} and cannot be cancelled now`;
  }
}
