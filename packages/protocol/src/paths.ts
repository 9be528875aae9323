/** OpenAPI paths as the wallet serves them (decisions.md: canonical prefix `/api/open`). */
export const OPENAPI_PREFIX = '/api/open';
export const PATHS = {
  payV1: '/api/open/v1/payments/pay',
  inquiryPaymentV1: '/api/open/v1/payments/inquiryPayment',
  walletKeys: '/api/open/keys',
} as const;

/** The acknowledgement body a merchant returns for a notification it has handled. */
export const NOTIFY_ACK_BODY = JSON.stringify({
  result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
});
