/**
 * `payments/inquiryPayment`: by paymentId (wins) or paymentRequestId. Another merchant's payment is
 * ORDER_NOT_EXIST, exactly like an unknown one, so ids leak nothing.
 */
import {
  formatWireTime,
  resultOf,
  type InquiryPaymentV1Reply,
  type InquiryPaymentV1Request,
} from '@billetera/protocol';
import { findPaymentById, findPaymentByRequestId, type Merchant, type Payment } from '@billetera/store';
import type { WalletContext } from '../context.ts';

export async function inquirePayment(
  ctx: WalletContext,
  merchant: Merchant,
  req: InquiryPaymentV1Request,
): Promise<InquiryPaymentV1Reply> {
  if (req.partnerId !== undefined && req.partnerId !== merchant.partnerId) {
    return { result: resultOf('ACCESS_DENIED', 'partnerId does not belong to this Client-Id') };
  }
  if (req.paymentId === undefined && req.paymentRequestId === undefined) {
    return { result: resultOf('PARAM_ILLEGAL', 'paymentId or paymentRequestId is required') };
  }
  const payment =
    req.paymentId !== undefined
      ? await findPaymentById(ctx.store.db, req.paymentId)
      : await findPaymentByRequestId(ctx.store.db, merchant.id, req.paymentRequestId ?? '');
  if (!payment || payment.merchantId !== merchant.id) return { result: resultOf('ORDER_NOT_EXIST') };
  return { result: resultOf('SUCCESS'), ...describePayment(payment) };
}

export function describePayment(p: Payment): Omit<InquiryPaymentV1Reply, 'result'> {
  return {
    paymentId: p.id,
    paymentRequestId: p.paymentRequestId,
    paymentAmount: { currency: p.currency, value: p.amount.toString() },
    paymentStatus: p.status,
    paymentCreateTime: formatWireTime(p.createdAt),
    paymentExpiryTime: formatWireTime(p.expiresAt),
    ...(p.paidAt !== null ? { paymentTime: formatWireTime(p.paidAt) } : {}),
    ...(p.failReason !== null ? { paymentFailReason: p.failReason } : {}),
    ...(p.extendInfo !== null ? { extendInfo: p.extendInfo } : {}),
  };
}
