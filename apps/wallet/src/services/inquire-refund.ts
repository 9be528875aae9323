/**
 * `payments/inquiryRefund` (v1 and v2): by refundId (wins) or refundRequestId. Another merchant's refund
 * is ORDER_NOT_EXIST, exactly like an unknown one. Refunds settle synchronously and a refused refund
 * stores nothing, so every stored refund reads `refundStatus: SUCCESS`; FAIL and PROCESSING are in the
 * schema for merchants' code written against other Alipay+ wallets.
 */
import { formatWireTime, resultOf, type InquiryRefundReply } from '@billetera/protocol';
import { findRefundById, findRefundByRequestId, type Merchant, type Refund } from '@billetera/store';
import type { WalletContext } from '../context.ts';

/** inquiryRefund's version-neutral input. */
export interface InquiryRefundInput {
  /** v1 only, optional: when given, must be the caller's. */
  partnerId?: string | undefined;
  refundId?: string | undefined;
  refundRequestId?: string | undefined;
}

export async function inquireRefund(
  ctx: WalletContext,
  merchant: Merchant,
  input: InquiryRefundInput,
): Promise<InquiryRefundReply> {
  if (input.partnerId !== undefined && input.partnerId !== merchant.partnerId)
    return { result: resultOf('ACCESS_DENIED', 'partnerId does not belong to this Client-Id') };
  if (input.refundId === undefined && input.refundRequestId === undefined)
    return { result: resultOf('PARAM_ILLEGAL', 'refundId or refundRequestId is required') };
  const refund =
    input.refundId !== undefined
      ? await findRefundById(ctx.store.db, input.refundId)
      : await findRefundByRequestId(ctx.store.db, merchant.id, input.refundRequestId ?? '');
  if (!refund || refund.merchantId !== merchant.id)
    return { result: resultOf('ORDER_NOT_EXIST', 'no such refund for this merchant') };
  return { result: resultOf('SUCCESS'), ...describeRefund(refund) };
}

export function describeRefund(r: Refund): Omit<InquiryRefundReply, 'result'> {
  return {
    refundId: r.id,
    refundRequestId: r.refundRequestId,
    paymentId: r.paymentId,
    refundAmount: { currency: r.currency, value: r.amount.toString() },
    refundStatus: r.status,
    ...(r.reason !== null ? { refundReason: r.reason } : {}),
    ...(r.refundedAt !== null ? { refundTime: formatWireTime(r.refundedAt) } : {}),
    ...(r.failReason !== null ? { refundFailReason: r.failReason } : {}),
    ...(r.extendInfo !== null ? { extendInfo: r.extendInfo } : {}),
  };
}
