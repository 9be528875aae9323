/**
 * Wire schemas (TypeBox) for the rest of the payment lifecycle: v2 pay and inquiry, cancel, refund,
 * inquiryRefund (v1 and v2) and notifyRefund. Field names and limits follow alipay-plus-reference.md
 * sections 5, 7, 10 and 11; decisions.md wins where it differs. As in schemas.ts, unknown fields are
 * tolerated and known fields are checked strictly. The OpenAPI document is generated from these.
 */
import { Type, type Static } from '@sinclair/typebox';
import {
  AmountSchema,
  EnvInfoSchema,
  InquiryPaymentV1ReplySchema,
  NotificationExtensionFields,
  PAY_REPLY_FIELDS,
  PaymentFactorSchema,
  PaymentMethodSchema,
  ResultSchema,
} from './schemas.ts';

const Str = (maxLength: number, minLength = 0, description?: string) =>
  Type.String(description === undefined ? { maxLength, minLength } : { maxLength, minLength, description });
const Url = (description: string) =>
  Type.String({ maxLength: 1024, minLength: 1, description: `absolute http(s) URL: ${description}` });
const WireTime = (description: string) =>
  Type.String({ description: `ISO 8601 with an offset, e.g. 2026-11-25T19:35:54+00:00: ${description}` });

// ---------------------------------------------------------------------------------------------- v2 pay

export const BuyerSchema = Type.Object({
  referenceBuyerId: Type.Optional(Str(64)),
  buyerName: Type.Optional(Type.Object({}, { description: 'UserName' })),
  buyerPhoneNo: Type.Optional(Str(24)),
});

/** The v2 `order` (display data: money always follows `paymentAmount`). */
export const OrderSchema = Type.Object({
  referenceOrderId: Type.Optional(Str(64, 1)),
  orderDescription: Str(256, 1, 'shown to the payer as the order title'),
  orderAmount: Type.Optional(AmountSchema),
  orderCreateTime: Type.Optional(Str(64)),
  merchant: Type.Optional(Type.Object({}, { description: 'Merchant' })),
  referenceMerchant: Type.Optional(Type.Object({}, { description: 'Merchant' })),
  goods: Type.Optional(Type.Array(Type.Object({}, { description: 'Goods' }), { maxItems: 100 })),
  shipping: Type.Optional(Type.Object({}, { description: 'Shipping' })),
  buyer: Type.Optional(BuyerSchema),
  env: Type.Optional(EnvInfoSchema),
  extendInfo: Type.Optional(Str(2048)),
});

export const PayV2RequestSchema = Type.Object({
  appId: Type.Optional(Str(32, 1, "one of the merchant's mini programs")),
  productCode: Type.Optional(
    Type.Union(
      [Type.Literal('CASHIER_PAYMENT'), Type.Literal('AGREEMENT_PAYMENT'), Type.Literal('IN_STORE_PAYMENT')],
      { description: 'only CASHIER_PAYMENT is offered (the default)' },
    ),
  ),
  salesCode: Type.Optional(Str(32)),
  paymentRequestId: Str(64, 1, "the merchant's id for this payment, and its idempotency key"),
  paymentAmount: AmountSchema,
  order: OrderSchema,
  paymentMethod: Type.Optional(PaymentMethodSchema),
  paymentFactor: Type.Optional(PaymentFactorSchema),
  paymentExpiryTime: Type.Optional(
    Str(64, 1, 'ISO 8601 with an offset; default 15 minutes after creation, at most 7 days ahead'),
  ),
  paymentRedirectUrl: Type.Optional(Url('where the cashier sends the payer afterwards')),
  paymentNotifyUrl: Type.Optional(Url("where notifyPayment is POSTed (default: the merchant's)")),
  extendInfo: Type.Optional(Str(4096)),
  envInfo: Type.Optional(EnvInfoSchema),
});
export type PayV2Request = Static<typeof PayV2RequestSchema>;

export const RedirectActionFormSchema = Type.Object({
  method: Type.Union([Type.Literal('GET'), Type.Literal('POST')]),
  redirectionUrl: Str(4096, 1),
});

export const PayV2ReplySchema = Type.Object({
  ...PAY_REPLY_FIELDS,
  redirectActionForm: Type.Optional(RedirectActionFormSchema),
});
export type PayV2Reply = Static<typeof PayV2ReplySchema>;

export const InquiryPaymentV2RequestSchema = Type.Object({
  paymentId: Type.Optional(Str(64, 1, 'wins over paymentRequestId when both are given')),
  paymentRequestId: Type.Optional(Str(64, 1)),
  extendInfo: Type.Optional(Str(4096)),
});
export type InquiryPaymentV2Request = Static<typeof InquiryPaymentV2RequestSchema>;
/** The inquiry reply is the same in both versions. */
export const InquiryPaymentV2ReplySchema = InquiryPaymentV1ReplySchema;

// ----------------------------------------------------------------------------------------------- cancel

const cancelFields = {
  paymentId: Type.Optional(Str(64, 1, 'wins over paymentRequestId when both are given')),
  paymentRequestId: Type.Optional(Str(64, 1)),
  extendInfo: Type.Optional(Str(4096)),
};
export const CancelV1RequestSchema = Type.Object({
  partnerId: Type.Optional(Str(32, 1, "when given, must be the caller's")),
  ...cancelFields,
});
export type CancelV1Request = Static<typeof CancelV1RequestSchema>;
export const CancelV2RequestSchema = Type.Object(cancelFields);
export type CancelV2Request = Static<typeof CancelV2RequestSchema>;

export const CancelReplySchema = Type.Object({
  result: ResultSchema,
  paymentId: Type.Optional(Str(64)),
  paymentRequestId: Type.Optional(Str(64)),
  cancelTime: Type.Optional(WireTime('when the order was cancelled (the first cancel)')),
  extendInfo: Type.Optional(Str(4096)),
});
export type CancelReply = Static<typeof CancelReplySchema>;

// ----------------------------------------------------------------------------------------------- refund

const refundFields = {
  refundRequestId: Str(64, 1, "the merchant's id for this refund, and its idempotency key"),
  paymentId: Type.Optional(Str(64, 1, 'the payment to refund (wins over paymentRequestId)')),
  paymentRequestId: Type.Optional(Str(64, 1)),
  refundAmount: AmountSchema,
  refundReason: Type.Optional(Str(256)),
  refundNotifyUrl: Type.Optional(Url('where notifyRefund is POSTed; no notification without it')),
  extendInfo: Type.Optional(Str(4096)),
};
export const RefundV1RequestSchema = Type.Object({
  partnerId: Str(32, 1, "must be the caller's"),
  ...refundFields,
});
export type RefundV1Request = Static<typeof RefundV1RequestSchema>;
export const RefundV2RequestSchema = Type.Object(refundFields);
export type RefundV2Request = Static<typeof RefundV2RequestSchema>;

export const RefundReplySchema = Type.Object({
  result: ResultSchema,
  refundId: Type.Optional(Str(64)),
  refundRequestId: Type.Optional(Str(64)),
  paymentId: Type.Optional(Str(64)),
  refundAmount: Type.Optional(AmountSchema),
  refundTime: Type.Optional(WireTime('when the money left the merchant')),
  extendInfo: Type.Optional(Str(4096)),
});
export type RefundReply = Static<typeof RefundReplySchema>;

const inquiryRefundFields = {
  refundId: Type.Optional(Str(64, 1, 'wins over refundRequestId when both are given')),
  refundRequestId: Type.Optional(Str(64, 1)),
  extendInfo: Type.Optional(Str(4096)),
};
export const InquiryRefundV1RequestSchema = Type.Object({
  partnerId: Type.Optional(Str(32, 1, "when given, must be the caller's")),
  ...inquiryRefundFields,
});
export type InquiryRefundV1Request = Static<typeof InquiryRefundV1RequestSchema>;
export const InquiryRefundV2RequestSchema = Type.Object(inquiryRefundFields);
export type InquiryRefundV2Request = Static<typeof InquiryRefundV2RequestSchema>;

export const RefundStatusSchema = Type.Union([
  Type.Literal('PROCESSING'),
  Type.Literal('SUCCESS'),
  Type.Literal('FAIL'),
]);
export type RefundStatus = Static<typeof RefundStatusSchema>;

export const InquiryRefundReplySchema = Type.Object({
  result: ResultSchema,
  refundId: Type.Optional(Str(64)),
  refundRequestId: Type.Optional(Str(64)),
  paymentId: Type.Optional(Str(64)),
  refundAmount: Type.Optional(AmountSchema),
  refundReason: Type.Optional(Str(256)),
  refundTime: Type.Optional(Type.String()),
  refundStatus: Type.Optional(RefundStatusSchema),
  refundFailReason: Type.Optional(Str(256)),
  extendInfo: Type.Optional(Str(4096)),
});
export type InquiryRefundReply = Static<typeof InquiryRefundReplySchema>;

/** `notifyRefund` (wallet -> refundNotifyUrl): the fields of reference §11 / ANTOM, plus the extensions. */
export const NotifyRefundSchema = Type.Object({
  refundId: Str(64),
  refundRequestId: Str(64),
  paymentId: Str(64),
  refundAmount: AmountSchema,
  refundStatus: Type.Union([Type.Literal('SUCCESS'), Type.Literal('FAIL')]),
  refundTime: Type.Optional(Type.String()),
  refundReason: Type.Optional(Str(256)),
  refundFailReason: Type.Optional(Str(256)),
  extendInfo: Type.Optional(Str(4096)),
  ...NotificationExtensionFields,
});
export type NotifyRefund = Static<typeof NotifyRefundSchema>;
