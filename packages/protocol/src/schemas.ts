/**
 * Wire schemas (TypeBox) for the OpenAPI bodies Billetera speaks. Field names and limits follow
 * alipay-plus-reference.md; decisions.md wins where it differs. Unknown fields are tolerated (merchant
 * code written for other Alipay+ wallets sends extras), known fields are checked strictly.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const Str = (maxLength: number, minLength = 0) => Type.String({ maxLength, minLength });

export const ResultSchema = Type.Object({
  resultStatus: Type.Union([Type.Literal('S'), Type.Literal('F'), Type.Literal('U'), Type.Literal('A')]),
  resultCode: Str(64, 1),
  resultMessage: Str(256),
});

export const AmountSchema = Type.Object({
  currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 alphabetic code' }),
  value: Type.String({
    pattern: '^[1-9][0-9]{0,15}$',
    description: 'a positive integer in the minor unit of the currency, as a string',
  }),
});

export const PaymentMethodSchema = Type.Object({
  paymentMethodType: Str(32, 1),
  paymentMethodId: Type.Optional(Str(128)),
  extendMetaData: Type.Optional(Str(2048)),
});

export const PaymentFactorSchema = Type.Object({
  isPaymentEvaluation: Type.Optional(Type.Boolean()),
  isOrderCode: Type.Optional(Type.Boolean()),
  isPaymentCode: Type.Optional(Type.Boolean()),
  isAgreementPay: Type.Optional(Type.Boolean()),
  isCashierPayment: Type.Optional(Type.Boolean()),
  isAuthorizationAndPay: Type.Optional(Type.Boolean()),
  isAuthorizationPayment: Type.Optional(Type.Boolean()),
  needSurcharge: Type.Optional(Type.Boolean()),
});

export const EnvInfoSchema = Type.Object({
  terminalType: Type.Optional(Str(32)),
  osType: Type.Optional(Str(32)),
  userAgent: Type.Optional(Str(1024)),
  deviceTokenId: Type.Optional(Str(128)),
  clientIp: Type.Optional(Str(64)),
  cookieId: Type.Optional(Str(128)),
  extendInfo: Type.Optional(Str(4096)),
});

const Url = Type.String({ maxLength: 1024, minLength: 1, description: 'absolute http(s) URL' });

export const PayV1RequestSchema = Type.Object({
  partnerId: Str(32, 1),
  appId: Type.Optional(Str(32, 1)),
  productCode: Type.Optional(Str(32)),
  paymentOrderTitle: Str(256, 1),
  paymentRequestId: Str(64, 1),
  paymentAmount: AmountSchema,
  paymentMethods: Type.Optional(PaymentMethodSchema),
  paymentAuthCode: Type.Optional(Str(128)),
  paymentFactor: Type.Optional(PaymentFactorSchema),
  paymentExpiryTime: Type.Optional(Str(64, 1)),
  paymentReturnUrl: Type.Optional(Url),
  paymentNotifyUrl: Type.Optional(Url),
  mcc: Type.Optional(Str(32)),
  extraParams: Type.Optional(Type.Record(Type.String(), Str(8192))),
  extendInfo: Type.Optional(Str(4096)),
  envInfo: Type.Optional(EnvInfoSchema),
});
export type PayV1Request = Static<typeof PayV1RequestSchema>;

export const ActionFormSchema = Type.Object({
  actionFormType: Type.Union([Type.Literal('REDIRECTION'), Type.Literal('ORDER_CODE')]),
  redirectionUrl: Type.Optional(Str(4096)),
  orderCode: Type.Optional(Str(2048)),
});

/** The pay reply's fields in both versions; only the action form differs (v1 actionForm, v2 redirectActionForm). */
export const PAY_REPLY_FIELDS = {
  result: ResultSchema,
  paymentId: Type.Optional(Str(64)),
  /** Same value as paymentId: the name the seed page uses. */
  acquirementId: Type.Optional(Str(64)),
  paymentRequestId: Type.Optional(Str(64)),
  paymentTime: Type.Optional(Type.String()),
  /** Same value as the action form's redirectionUrl. */
  checkoutUrl: Type.Optional(Str(4096)),
  /** Link into the host app that opens the mini program and resumes this cashier (when appId was given). */
  miniProgramUrl: Type.Optional(Str(4096)),
  paymentExpiryTime: Type.Optional(Type.String()),
  extendInfo: Type.Optional(Str(4096)),
};

export const PayV1ReplySchema = Type.Object({
  ...PAY_REPLY_FIELDS,
  actionForm: Type.Optional(ActionFormSchema),
});
export type PayV1Reply = Static<typeof PayV1ReplySchema>;

export const InquiryPaymentV1RequestSchema = Type.Object({
  partnerId: Type.Optional(Str(32, 1)),
  paymentId: Type.Optional(Str(64, 1)),
  paymentRequestId: Type.Optional(Str(64, 1)),
  extendInfo: Type.Optional(Str(4096)),
});
export type InquiryPaymentV1Request = Static<typeof InquiryPaymentV1RequestSchema>;

export const PaymentStatusSchema = Type.Union([
  Type.Literal('PROCESSING'),
  Type.Literal('SUCCESS'),
  Type.Literal('FAIL'),
  Type.Literal('CANCELLED'),
]);
export type PaymentStatus = Static<typeof PaymentStatusSchema>;

export const InquiryPaymentV1ReplySchema = Type.Object({
  result: ResultSchema,
  paymentId: Type.Optional(Str(64)),
  paymentRequestId: Type.Optional(Str(64)),
  paymentAmount: Type.Optional(AmountSchema),
  paymentStatus: Type.Optional(PaymentStatusSchema),
  paymentTime: Type.Optional(Type.String()),
  paymentCreateTime: Type.Optional(Type.String()),
  paymentExpiryTime: Type.Optional(Type.String()),
  paymentFailReason: Type.Optional(Str(256)),
  extendInfo: Type.Optional(Str(4096)),
});
export type InquiryPaymentV1Reply = Static<typeof InquiryPaymentV1ReplySchema>;

/**
 * Billetera's extensions to every notification body (notifyPayment and notifyRefund): top-level fields
 * that Alipay+ parsers ignore. `notificationId` is the same on every retry and redelivery of one
 * notification; `sequence` numbers a payment's notifications 1, 2, 3... in the order they were written.
 * Optional here so that bodies from other Alipay+ wallets (and merchants' fixtures) still validate.
 */
export const NotificationExtensionFields = {
  notificationId: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'Billetera extension: the notification id (ntf_...), the same on every retry',
    }),
  ),
  sequence: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: "Billetera extension: this notification's number among its payment's notifications",
    }),
  ),
};

export const NotifyPaymentSchema = Type.Object({
  partnerId: Str(32),
  paymentId: Str(64),
  paymentRequestId: Str(64),
  paymentAmount: AmountSchema,
  paymentStatus: Type.Union([Type.Literal('SUCCESS'), Type.Literal('FAIL')]),
  paymentTime: Type.Optional(Type.String()),
  paymentCreateTime: Type.Optional(Type.String()),
  paymentFailReason: Type.Optional(Str(256)),
  extendInfo: Type.Optional(Str(4096)),
  ...NotificationExtensionFields,
});
export type NotifyPayment = Static<typeof NotifyPaymentSchema>;

/** What a merchant answers to a notification. Only resultStatus "S" acknowledges it. */
export const NotifyAckSchema = Type.Object({ result: ResultSchema });
export type NotifyAck = Static<typeof NotifyAckSchema>;

export const ALL_SCHEMAS: Record<string, TSchema> = {
  Result: ResultSchema,
  Amount: AmountSchema,
  PayV1Request: PayV1RequestSchema,
  PayV1Reply: PayV1ReplySchema,
  InquiryPaymentV1Request: InquiryPaymentV1RequestSchema,
  InquiryPaymentV1Reply: InquiryPaymentV1ReplySchema,
  NotifyPayment: NotifyPaymentSchema,
  NotifyAck: NotifyAckSchema,
};
