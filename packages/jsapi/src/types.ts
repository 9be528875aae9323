/**
 * What mini-program code sees: each `my.*` method takes Alipay-style options (params plus optional
 * success / fail / complete callbacks) and also returns a promise of the same result.
 */
import type {
  AlertParams,
  BridgeError,
  EmptyResult,
  GetAuthCodeResult,
  GetSiteInfoResult,
  NavigateToParams,
  ShowToastParams,
  TradePayParams,
  TradePayResult,
} from './bridge-protocol.ts';

/** The `fail` argument and the promise's rejection value: `{ error, errorMessage }` as in Alipay. */
export type JsapiError = BridgeError;

/**
 * Method syntax on purpose: like Alipay's own declarations it makes callback parameters bivariant, so a
 * callback typed for @mini-types/my (e.g. `authSuccessScopes: ('auth_base' | ...)[]`) is accepted.
 */
export interface Callbacks<R> {
  success?(result: R): void;
  fail?(error: JsapiError): void;
  /**
   * Called after success or fail, with the same argument (at run time always a full result or a full
   * JsapiError). The error half is typed loosely, as in Alipay's declarations, because otherwise an
   * options object typed with @mini-types/my for getAuthCode would not be accepted.
   */
  complete?(resultOrError: R | Partial<JsapiError>): void;
}

/** Exactly one of tradeNO, paymentUrl, orderStr (checked at run time, as Alipay's own typings allow all three). */
export type TradePayOptions = TradePayParams & Callbacks<TradePayResult>;
export type GetSiteInfoOptions = Callbacks<GetSiteInfoResult>;
export type AlertOptions = AlertParams & Callbacks<EmptyResult>;
export type ShowToastOptions = ShowToastParams & Callbacks<EmptyResult>;
export type NavigateToOptions = NavigateToParams & Callbacks<EmptyResult>;
/** As in Alipay, `authErrorScopes` is always there: `{}` when every scope was granted. */
export type GetAuthCodeSuccess = Required<GetAuthCodeResult>;
export type GetAuthCodeOptions = {
  /** One scope or a non-empty list; omitted means `['auth_base']` (Alipay's default). */
  scopes?: string[] | string;
} & Callbacks<GetAuthCodeSuccess>;

/** What each method resolves with (the host's result, checked and copied). */
export interface MyResults {
  tradePay: TradePayResult;
  getSiteInfo: GetSiteInfoResult;
  alert: EmptyResult;
  showToast: EmptyResult;
  navigateTo: EmptyResult;
  getAuthCode: GetAuthCodeSuccess;
}

/**
 * The `my` object. Methods do not use `this`, so `const { tradePay } = my` works. Interactive methods
 * (tradePay, alert, getAuthCode) wait for the user without a timeout; the others fail with error 3
 * when the host does not answer in time.
 */
export interface My {
  tradePay: (options?: TradePayOptions) => Promise<TradePayResult>;
  getSiteInfo: (options?: GetSiteInfoOptions) => Promise<GetSiteInfoResult>;
  alert: (options?: AlertOptions) => Promise<EmptyResult>;
  showToast: (options?: ShowToastOptions) => Promise<EmptyResult>;
  navigateTo: (options: NavigateToOptions) => Promise<EmptyResult>;
  getAuthCode: (options?: GetAuthCodeOptions) => Promise<GetAuthCodeSuccess>;
}
