/** `@billetera/sdk-node`: the merchant side of Billetera's Alipay+-compatible OpenAPI. */
export { createClient, type BilleteraClient, type ClientOptions } from './billetera-client.ts';
export {
  verifyNotification,
  verifyRefundNotification,
  verifyAnyNotification,
  DEFAULT_TOLERANCE_SEC,
  type AnyNotification,
  type NotificationCheck,
  type VerifyNotificationOptions,
} from './verify-notification.ts';
export {
  acknowledgement,
  type Acknowledgement,
  type AcknowledgementSigning,
} from './build-acknowledgement.ts';
export {
  createFixtureSigner,
  generateRsaKeyPair,
  type FixtureSigner,
  type FixtureSignerOptions,
  type SignedHttpMessage,
} from './fixture-signer.ts';
export { DEFAULT_RETRY_POLICY, MAX_RETRIES_LIMIT, type RetryPolicy } from './retry-policy.ts';
export type { HeaderInput } from './verify-message.ts';
export {
  BilleteraError,
  ConnectionError,
  UnexpectedResponseError,
  SignatureVerificationError,
  BilleteraApiError,
  AuthenticationError,
  InvalidRequestError,
  IdempotencyError,
  PermissionError,
  NotFoundError,
  UnknownResultError,
  RateLimitError,
  type ReplyBody,
  type SignatureFailureReason,
} from './sdk-errors.ts';
export type {
  ApplyTokenReply,
  ApplyTokenRequest,
  CancelTokenReply,
  CancelTokenRequest,
  GrantType,
  InquiryUserInfoReply,
  InquiryUserInfoRequest,
  OpenUserInfo,
  CancelReply,
  CancelV1Request,
  CancelV2Request,
  InquiryPaymentV1Reply,
  InquiryPaymentV1Request,
  InquiryPaymentV2Request,
  InquiryRefundReply,
  InquiryRefundV1Request,
  InquiryRefundV2Request,
  NotifyPayment,
  NotifyRefund,
  PayV1Reply,
  PayV1Request,
  PayV2Reply,
  PayV2Request,
  RefundReply,
  RefundV1Request,
  RefundV2Request,
  Result,
} from '@billetera/protocol';
export { loadPrivateKey, loadPublicKey, type KeyObject } from '@billetera/protocol/signing';
