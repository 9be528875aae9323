/**
 * Compile-time checks (never run) that code written against `@mini-types/my`, the community typings
 * of Alipay's `my`, also type-checks against ours.
 *
 * @mini-types/my is not a module: it declares a global `namespace my`. Loading it (a triple-slash
 * reference, `types`, an import) anywhere in the repo-wide program would make that global visible in
 * every file, hiding a missing import of our `my` and clashing with any other global `my`. So this file
 * does not load it. It reads Alipay's namespace off `typeof globalThis`: in the repo-wide program that
 * finds nothing and falls back to `any`-typed stand-ins (the Alipay half of the checks is vacuous there;
 * the snippets against our `my` are real), and in the separate program that mini-types-compat.test.ts
 * builds over this file, with @mini-types/my and the DOM library loaded, it is the real namespace and
 * everything here must compile.
 */
import {
  createMy,
  my,
  type GetAuthCodeOptions,
  type HostWindowLike,
  type JsapiError,
  type My,
  type SelfWindowLike,
  type TradePayOptions,
  type TradePayResult,
} from './index.ts';

/* eslint-disable @typescript-eslint/no-explicit-any -- the stand-in must accept anything */
interface AlipayOptionsStandIn {
  [name: string]: any;
  success?(data: any): void;
  fail?(err: any): void;
  complete?(arg: any): void;
}
interface AlipayMyStandIn {
  tradePay: (options?: AlipayOptionsStandIn) => Promise<any>;
  getAuthCode: (options?: AlipayOptionsStandIn) => Promise<any>;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** Alipay's `my` namespace where @mini-types/my is loaded, the stand-in elsewhere. */
export type AlipayMy = typeof globalThis extends { my: infer M } ? M : AlipayMyStandIn;
/** Only the real namespace has SDKVersion: the separate program asserts this is `true`. */
export type MiniTypesLoaded = AlipayMy extends { SDKVersion: string } ? true : false;

type AnyFunction = (...args: never[]) => unknown;
export type AlipayTradePay = AlipayMy extends { tradePay: infer F extends AnyFunction } ? F : never;
export type AlipayGetAuthCode = AlipayMy extends { getAuthCode: infer F extends AnyFunction } ? F : never;
export type AlipayTradePayOptions = NonNullable<Parameters<AlipayTradePay>[0]>;
export type AlipayGetAuthCodeOptions = NonNullable<Parameters<AlipayGetAuthCode>[0]>;

// Options typed with Alipay's declarations are accepted by ours. For tradePay the other way round too;
// not for getAuthCode: Alipay's typings list only the legacy scope names in authSuccessScopes, while ours
// are any string ('USER_ID', ...), so our callbacks do not fit Alipay's declared signature.
export const alipayToOursTradePay = (options: AlipayTradePayOptions): TradePayOptions => options;
export const oursToAlipayTradePay = (options: TradePayOptions): AlipayTradePayOptions => options;
export const alipayToOursGetAuthCode = (options: AlipayGetAuthCodeOptions): GetAuthCodeOptions => options;

// Our tradePay can stand in wherever Alipay's is expected (its result codes are a subset of `string`).
export const tradePayAsAlipay: AlipayTradePay = my.tradePay;
export const ourMyAsAlipayTradePay = (ours: My): AlipayTradePay => ours.tradePay;

/** Callbacks written with Alipay's parameter types, handed to ours. */
export function payWithAlipayTypedCallbacks(tradeNO: string): void {
  const success: NonNullable<AlipayTradePayOptions['success']> = (res) => console.log(res.resultCode);
  const fail: NonNullable<AlipayTradePayOptions['fail']> = (err) => console.log(err.errorMessage);
  const complete: NonNullable<AlipayTradePayOptions['complete']> = (arg) => console.log(arg);
  void my.tradePay({ tradeNO, success, fail, complete });
}

// Typical Alipay mini-program code, compiled against our `my`. `void` only because this repo lints
// with no-floating-promises; Alipay code drops the promise in callback style.
export function typicalCallbackStyle(tradeNO: string): void {
  void my.tradePay({
    tradeNO,
    success: (res) => console.log(res.resultCode),
    fail: (e) => console.log(e.errorMessage),
  });
  void my.getAuthCode({
    scopes: ['auth_user'],
    success: (res) => console.log(res.authCode, res.authSuccessScopes.join(',')),
    fail: (res) => console.log(res.authErrorScopes?.['auth_user']),
  });
}

export async function typicalPromiseStyle(tradeNO: string): Promise<boolean> {
  try {
    const { resultCode } = await my.tradePay({ tradeNO });
    const { authCode } = await my.getAuthCode({ scopes: 'USER_ID' });
    console.log(authCode);
    return resultCode === '9000';
  } catch (e) {
    console.log((e as JsapiError).error, (e as JsapiError).errorMessage);
    return false;
  }
}

// Our types still bite where they are stricter than Alipay's.
export function refusedByOurTypes(): void {
  // @ts-expect-error resultCode is one of the documented codes
  const result: TradePayResult = { resultCode: '1234' };
  // @ts-expect-error navigateTo needs a url
  void my.navigateTo({});
  // @ts-expect-error tradeNO is a string
  void my.tradePay({ tradeNO: 42 });
  console.log(result);
}

/** The real window pair fits the injectable window types (checked with the DOM library loaded). */
export const createForWindows = (self: SelfWindowLike, target: HostWindowLike): My =>
  createMy({ self, target });
