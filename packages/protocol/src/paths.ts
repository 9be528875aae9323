/** OpenAPI paths as the wallet serves them (decisions.md: canonical prefix `/api/open`). */
export const OPENAPI_PREFIX = '/api/open';
export const PATHS = {
  payV1: '/api/open/v1/payments/pay',
  inquiryPaymentV1: '/api/open/v1/payments/inquiryPayment',
  cancelV1: '/api/open/v1/payments/cancel',
  refundV1: '/api/open/v1/payments/refund',
  inquiryRefundV1: '/api/open/v1/payments/inquiryRefund',
  payV2: '/api/open/v2/payments/pay',
  inquiryPaymentV2: '/api/open/v2/payments/inquiryPayment',
  cancelV2: '/api/open/v2/payments/cancel',
  refundV2: '/api/open/v2/payments/refund',
  inquiryRefundV2: '/api/open/v2/payments/inquiryRefund',
  applyTokenV1: '/api/open/v1/authorizations/applyToken',
  cancelTokenV1: '/api/open/v1/authorizations/cancelToken',
  inquiryUserInfoV1: '/api/open/v1/users/inquiryUserInfo',
  applyTokenV2: '/api/open/v2/authorizations/applyToken',
  cancelTokenV2: '/api/open/v2/authorizations/cancelToken',
  inquiryUserInfoV2: '/api/open/v2/users/inquiryUserInfo',
  /** Other wallets' names for inquiryUserInfo (reference §14): the same operation. */
  inquiryUserInfoByAccessTokenV1: '/api/open/v1/customers/user/inquiryUserInfoByAccessToken',
  inquiryUserInfoCustomersV2: '/api/open/v2/customers/user/inquiryUserInfo',
  walletKeys: '/api/open/keys',
  /** The OpenAPI 3.1 document of all of the above, generated from the schemas. */
  openApiDocument: '/api/open/openapi.json',
  /** The same document as a page for people. */
  apiDocsPage: '/docs/api',
} as const;

/** The acknowledgement body a merchant returns for a notification it has handled. */
export const NOTIFY_ACK_BODY = JSON.stringify({
  result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
});
