/**
 * `payments/refund` (v1 and v2: the bodies differ only by v1's partnerId). Partial and multiple refunds
 * of a SUCCESS payment, settled synchronously: in ONE transaction the refund row (the idempotency
 * record), the claim on the payment's refunded total, the ledger entry merchant -> the paying user (in
 * the payment's currency, reference = the refund id) and, when a refundNotifyUrl was given, the
 * notifyRefund outbox row. Any refusal inside rolls all of it back and stores nothing, so a refused
 * refundRequestId can be corrected and sent again (as for pay).
 *
 * Guards, in order: partnerId belongs to the caller (ACCESS_DENIED) -> merchant verified
 * (PARTNER_STATUS_ABNORMAL) -> paymentId or paymentRequestId given (PARAM_ILLEGAL) -> idempotent replay
 * or REPEAT_REQ_INCONSISTENT -> the payment is the caller's (ORDER_NOT_EXIST) -> refundNotifyUrl
 * (PARAM_ILLEGAL) -> payment SUCCESS (ORDER_STATUS_INVALID) -> same currency (CURRENCY_NOT_SUPPORT) ->
 * refund window, 365 days (REFUND_WINDOW_EXCEED) -> refunded total within the paid amount
 * (REFUND_AMOUNT_EXCEED) -> merchant balance (PARTNER_BALANCE_NOT_ENOUGH, from the ledger's conditional
 * debit).
 *
 * Concurrency: duplicates of one refundRequestId meet on the refunds table's unique key (PostgreSQL: the
 * second insert waits for the first transaction, then does nothing and replays it); refunds of one
 * payment meet on the payment row (claimRefundAmount), so their total never exceeds the paid amount.
 */
import { decideRefund, merchantAccount, transfer, userAccount, type RefundDecision } from '@billetera/domain';
import {
  formatAmount,
  formatWireTime,
  parseMinor,
  resultOf,
  type Amount,
  type ApiVersion,
  type RefundReply,
} from '@billetera/protocol';
import {
  InsufficientFundsError,
  claimRefundAmount,
  findPaymentById,
  findRefundByRequestId,
  insertRefundIfAbsent,
  postEntry,
  type Merchant,
  type Refund,
} from '@billetera/store';
import type { WalletContext } from '../context.ts';
import { checkMerchant, findMerchantPayment } from './cancel-payment.ts';
import { hashRequest } from './create-payment.ts';
import { isHttpUrl } from './merchants.ts';
import { enqueueRefundNotification } from './notify-body.ts';
import { Refusal } from './refusal.ts';

/** refund's version-neutral input. */
export interface RefundInput {
  apiVersion: ApiVersion;
  /** v1: must be the caller's. v2 has none. */
  partnerId?: string | undefined;
  refundRequestId: string;
  paymentId?: string | undefined;
  paymentRequestId?: string | undefined;
  refundAmount: Amount;
  refundReason?: string | undefined;
  refundNotifyUrl?: string | undefined;
  extendInfo?: string | undefined;
}

export interface RefundOutcome {
  reply: RefundReply;
  replayed: boolean;
}

export async function refundPayment(
  ctx: WalletContext,
  merchant: Merchant,
  input: RefundInput,
): Promise<RefundOutcome> {
  try {
    return await refundOrRefuse(ctx, merchant, input);
  } catch (err) {
    if (err instanceof Refusal) return { reply: { result: resultOf(err.code, err.detail) }, replayed: false };
    if (err instanceof InsufficientFundsError) {
      const { currency, value } = input.refundAmount;
      return {
        reply: {
          result: resultOf(
            'PARTNER_BALANCE_NOT_ENOUGH',
            `the merchant balance in ${currency} does not cover ${formatAmount(BigInt(value), currency)}`,
          ),
        },
        replayed: false,
      };
    }
    throw err;
  }
}

/**
 * What "the same refund request" means: its fields, without the version and the v1 partnerId (which
 * only say who asks), so a retry through either version replays the refund.
 */
function refundRequestHash(input: RefundInput): string {
  return hashRequest({
    refundRequestId: input.refundRequestId,
    paymentId: input.paymentId,
    paymentRequestId: input.paymentRequestId,
    refundAmount: input.refundAmount,
    refundReason: input.refundReason,
    refundNotifyUrl: input.refundNotifyUrl,
    extendInfo: input.extendInfo,
  });
}

async function refundOrRefuse(
  ctx: WalletContext,
  merchant: Merchant,
  input: RefundInput,
): Promise<RefundOutcome> {
  checkMerchant(merchant, input.partnerId);
  if (input.paymentId === undefined && input.paymentRequestId === undefined)
    throw new Refusal('PARAM_ILLEGAL', 'paymentId or paymentRequestId is required');
  const requestHash = refundRequestHash(input);
  const existing = await findRefundByRequestId(ctx.store.db, merchant.id, input.refundRequestId);
  if (existing) return replay(existing, requestHash);
  const payment = await findMerchantPayment(ctx, merchant, input);
  if (input.refundNotifyUrl !== undefined && !isHttpUrl(input.refundNotifyUrl))
    throw new Refusal('PARAM_ILLEGAL', 'refundNotifyUrl: must be an absolute http(s) URL');
  const amount = parseMinor(input.refundAmount.value);
  if (amount === undefined)
    throw new Refusal('PARAM_ILLEGAL', 'refundAmount.value: must be a positive integer in minor units');

  const refundId = ctx.ids.next('rfd');
  const settled = await ctx.store.transaction(async (tx) => {
    const now = ctx.clock.now();
    const refund: Refund = {
      id: refundId,
      merchantId: merchant.id,
      paymentId: payment.id,
      refundRequestId: input.refundRequestId,
      requestHash,
      apiVersion: input.apiVersion,
      status: 'SUCCESS',
      currency: input.refundAmount.currency,
      amount,
      reason: input.refundReason ?? null,
      notifyUrl: input.refundNotifyUrl ?? null,
      extendInfo: input.extendInfo ?? null,
      createdAt: now,
      refundedAt: now,
      failReason: null,
    };
    // A concurrent duplicate of this refundRequestId committed first: replay it (after this transaction).
    if (!(await insertRefundIfAbsent(tx, refund))) return undefined;
    const current = await findPaymentById(tx, payment.id);
    if (!current) throw new Error('invariant: payment vanished');
    const decision = decideRefund(current, { currency: refund.currency, amount }, now);
    if (!decision.ok) throw refusalFor(decision);
    if (!(await claimRefundAmount(tx, current.id, amount))) {
      throw new Refusal(
        'REFUND_AMOUNT_EXCEED',
        'refundAmount: the refunded total would exceed the paid amount',
      );
    }
    if (current.userId === null) throw new Error('invariant: a SUCCESS payment has no payer');
    const entry = transfer(
      'REFUND',
      refund.id,
      merchantAccount(current.merchantId, current.currency),
      userAccount(current.userId, current.currency),
      amount,
    );
    await postEntry(tx, entry, ctx.ids, now);
    const notified = await enqueueRefundNotification(ctx, tx, refund);
    return { refund, notified };
  });
  if (settled === undefined) {
    const winner = await findRefundByRequestId(ctx.store.db, merchant.id, input.refundRequestId);
    if (!winner) throw new Error('invariant: refund vanished after a conflicting insert');
    return replay(winner, requestHash);
  }
  if (settled.notified) ctx.onOutbox();
  return { reply: refundReply(settled.refund), replayed: false };
}

function replay(existing: Refund, requestHash: string): RefundOutcome {
  if (existing.requestHash !== requestHash) {
    throw new Refusal('REPEAT_REQ_INCONSISTENT', 'refundRequestId was used before with different parameters');
  }
  return { reply: refundReply(existing), replayed: true };
}

export function refundReply(r: Refund): RefundReply {
  return {
    result: resultOf('SUCCESS'),
    refundId: r.id,
    refundRequestId: r.refundRequestId,
    paymentId: r.paymentId,
    refundAmount: { currency: r.currency, value: r.amount.toString() },
    ...(r.refundedAt !== null ? { refundTime: formatWireTime(r.refundedAt) } : {}),
  };
}

function refusalFor(decision: Exclude<RefundDecision, { ok: true }>): Refusal {
  switch (decision.code) {
    case 'ORDER_STATUS_INVALID':
      return new Refusal(
        'ORDER_STATUS_INVALID',
        `the payment is ${decision.status}: only SUCCESS payments can be refunded`,
      );
    case 'CURRENCY_NOT_SUPPORT':
      return new Refusal(
        'CURRENCY_NOT_SUPPORT',
        `refundAmount.currency: must be the payment's currency ${decision.currency}`,
      );
    case 'REFUND_WINDOW_EXCEED':
      return new Refusal(
        'REFUND_WINDOW_EXCEED',
        `the refund window closed at ${formatWireTime(decision.closedAt)} (365 days after payment)`,
      );
    case 'REFUND_AMOUNT_EXCEED':
      return new Refusal(
        'REFUND_AMOUNT_EXCEED',
        `refundAmount.value: at most ${decision.refundable} minor units can still be refunded`,
      );
  }
}
