/**
 * Checks a call's options before anything is posted to the host, and keeps only the protocol fields
 * (callbacks are functions, which postMessage cannot clone). A refusal becomes error 2 in the caller.
 */
import {
  TOAST_TYPES,
  type AlertParams,
  type BridgeMethod,
  type BridgeMethods,
  type ShowToastParams,
} from './bridge-protocol.ts';

/** Alipay+ documents tradeNO as String(64). */
export const TRADE_NO_MAX_LENGTH = 64;
export const AUTH_SCOPES_MAX_COUNT = 32;
/** What Alipay does when `scopes` is omitted. */
export const DEFAULT_AUTH_SCOPES: readonly string[] = ['auth_base'];

export type ParamsCheck<P> = { ok: true; params: P } | { ok: false; errorMessage: string };

type Options = Readonly<Record<string, unknown>>;
type Validators = { [M in BridgeMethod]: (options: Options) => ParamsCheck<BridgeMethods[M]['params']> };

const valid = <P>(params: P): ParamsCheck<P> => ({ ok: true, params });
const invalid = (errorMessage: string): { ok: false; errorMessage: string } => ({ ok: false, errorMessage });

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value !== '';

const TRADE_PAY_INPUTS = ['tradeNO', 'paymentUrl', 'orderStr'] as const;

function tradePay(options: Options): ParamsCheck<BridgeMethods['tradePay']['params']> {
  const given = TRADE_PAY_INPUTS.filter((key) => options[key] !== undefined);
  const key = given[0];
  if (given.length !== 1 || key === undefined) {
    return invalid(`tradePay needs exactly one of tradeNO, paymentUrl, orderStr (got ${given.length})`);
  }
  const value = options[key];
  if (!isNonEmptyString(value)) return invalid(`tradePay ${key} must be a non-empty string`);
  if (key === 'tradeNO' && value.length > TRADE_NO_MAX_LENGTH) {
    return invalid(`tradePay tradeNO is longer than ${TRADE_NO_MAX_LENGTH} characters`);
  }
  return valid({ [key]: value });
}

function optionalStrings<K extends string>(
  method: string,
  options: Options,
  keys: readonly K[],
): ParamsCheck<Partial<Record<K, string>>> {
  const params: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = options[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') return invalid(`${method} ${key} must be a string`);
    params[key] = value;
  }
  return valid(params);
}

function alert(options: Options): ParamsCheck<AlertParams> {
  return optionalStrings('alert', options, ['title', 'content', 'buttonText'] as const);
}

function showToast(options: Options): ParamsCheck<ShowToastParams> {
  const strings = optionalStrings('showToast', options, ['content'] as const);
  if (!strings.ok) return strings;
  const params: ShowToastParams = { ...strings.params };
  const { type, duration } = options;
  if (type !== undefined) {
    const toastType = TOAST_TYPES.find((t) => t === type);
    if (toastType === undefined) return invalid(`showToast type must be one of ${TOAST_TYPES.join(', ')}`);
    params.type = toastType;
  }
  if (duration !== undefined) {
    if (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0) {
      return invalid('showToast duration must be a non-negative number of milliseconds');
    }
    params.duration = duration;
  }
  return valid(params);
}

function navigateTo(options: Options): ParamsCheck<BridgeMethods['navigateTo']['params']> {
  const { url } = options;
  return isNonEmptyString(url) ? valid({ url }) : invalid('navigateTo needs url, a non-empty string');
}

function getAuthCode(options: Options): ParamsCheck<BridgeMethods['getAuthCode']['params']> {
  const { scopes } = options;
  if (scopes === undefined) return valid({ scopes: [...DEFAULT_AUTH_SCOPES] });
  const list: unknown[] = typeof scopes === 'string' ? [scopes] : Array.isArray(scopes) ? scopes : [];
  if (list.length === 0) return invalid('getAuthCode needs scopes: a non-empty string or array of strings');
  if (list.length > AUTH_SCOPES_MAX_COUNT) {
    return invalid(`getAuthCode accepts at most ${AUTH_SCOPES_MAX_COUNT} scopes`);
  }
  if (!list.every(isNonEmptyString)) return invalid('getAuthCode scopes must be non-empty strings');
  return valid({ scopes: list });
}

export const validateParams: Validators = {
  tradePay,
  getSiteInfo: () => valid({}),
  alert,
  showToast,
  navigateTo,
  getAuthCode,
};
