/**
 * Builds the `my` object over the postMessage bridge (see bridge-protocol.ts). Runs in browsers; the
 * window pair is injectable so tests (and unusual embeddings) can supply their own.
 */
import {
  BRIDGE_REQUEST_SOURCE,
  BRIDGE_VERSION,
  INTERACTIVE_METHODS,
  JSAPI_ERROR_INVALID_PARAMETERS,
  JSAPI_ERROR_NO_HOST,
  JSAPI_ERROR_UNKNOWN,
  isBridgeResponseEnvelope,
  isPlainRecord,
  type BridgeMethod,
  type BridgeRequest,
} from './bridge-protocol.ts';
import { failure, readResponse, type Outcome } from './read-result.ts';
import type { Callbacks, My, MyResults } from './types.ts';
import { validateParams } from './validate-params.ts';

/** How long getSiteInfo, showToast and navigateTo wait for the host before failing with error 3. */
export const NON_INTERACTIVE_TIMEOUT_MS = 10_000;

/** The part of a MessageEvent the bridge reads. */
export interface BridgeMessageEvent {
  readonly data: unknown;
  readonly source: unknown;
}

/** The host side: the wallet's window (`window.parent` inside the mini program's iframe). */
export interface HostWindowLike {
  postMessage(message: unknown, targetOrigin: string): void;
}

/** The mini program's own window. */
export interface SelfWindowLike {
  readonly parent?: HostWindowLike | null | undefined;
  addEventListener(type: 'message', listener: (event: BridgeMessageEvent) => void): void;
}

export interface CreateMyOptions {
  /** Where requests go and the only window whose answers are accepted. Default: `self.parent`. */
  target?: HostWindowLike;
  /** Where answers arrive. Default: the global `window`, when there is one. */
  self?: SelfWindowLike;
  /** Timeout of the non-interactive methods. Default NON_INTERACTIVE_TIMEOUT_MS. */
  timeoutMs?: number;
}

// Module-scoped on purpose: the repo type-checks without the DOM library, and a global would leak.
declare const window: SelfWindowLike | undefined;

type Settle = (outcome: Outcome<object>) => void;

interface PendingCall {
  method: BridgeMethod;
  settle: Settle;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const isInteractive = (method: BridgeMethod) => (INTERACTIVE_METHODS as readonly string[]).includes(method);

/**
 * Runs a caller's callback. An exception in it is re-thrown on its own, so it still shows up (console,
 * error handlers) without changing how the call settled.
 */
function runCallback<A>(callback: ((arg: A) => void) | undefined, arg: A): void {
  if (callback === undefined) return;
  try {
    callback(arg);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}

function readCallbacks(options: Readonly<Record<string, unknown>>): Callbacks<object> {
  const pick = (name: 'success' | 'fail' | 'complete') => {
    const value = options[name];
    return typeof value === 'function' ? (value as (arg: unknown) => void) : undefined;
  };
  const callbacks: Callbacks<object> = {};
  const success = pick('success');
  const fail = pick('fail');
  const complete = pick('complete');
  if (success) callbacks.success = success;
  if (fail) callbacks.fail = fail;
  if (complete) callbacks.complete = complete;
  return callbacks;
}

export function createMy(options: CreateMyOptions = {}): My {
  const timeoutMs = options.timeoutMs ?? NON_INTERACTIVE_TIMEOUT_MS;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) {
    throw new RangeError(`createMy: timeoutMs must be a positive number, got ${timeoutMs}`);
  }
  const self = options.self ?? (typeof window !== 'undefined' ? window : undefined);
  const target = options.target ?? self?.parent ?? undefined;
  // At the top level window.parent is the window itself: nobody is there to answer.
  const host =
    self !== undefined && target !== undefined && (target as unknown) !== self ? target : undefined;

  const pending = new Map<string, PendingCall>();
  const instance = Math.random().toString(36).slice(2, 10);
  let counter = 0;
  let listening = false;

  const finish = (id: string, outcome: Outcome<object>) => {
    const call = pending.get(id);
    if (call === undefined) return;
    pending.delete(id);
    if (call.timer !== undefined) clearTimeout(call.timer);
    call.settle(outcome);
  };

  const onMessage = (event: BridgeMessageEvent) => {
    if (host === undefined || event.source !== host) return;
    const data = event.data;
    if (!isBridgeResponseEnvelope(data)) return;
    const call = pending.get(data.id);
    if (call === undefined) return;
    finish(data.id, readResponse(call.method, data));
  };

  /** Posts one request; the outcome arrives through `settle` (a response, the timeout or a send failure). */
  const send = (hostWindow: HostWindowLike, method: BridgeMethod, params: object, settle: Settle) => {
    if (!listening && self !== undefined) {
      self.addEventListener('message', onMessage);
      listening = true;
    }
    counter += 1;
    const id = `jsapi_${instance}_${counter}`;
    const timer = isInteractive(method)
      ? undefined
      : setTimeout(() => {
          finish(
            id,
            failure(JSAPI_ERROR_UNKNOWN, `the wallet did not answer ${method} within ${timeoutMs} ms`),
          );
        }, timeoutMs);
    pending.set(id, { method, settle, timer });
    const request = {
      source: BRIDGE_REQUEST_SOURCE,
      version: BRIDGE_VERSION,
      id,
      method,
      params,
    } as BridgeRequest;
    try {
      hostWindow.postMessage(request, '*');
    } catch (err) {
      finish(id, failure(JSAPI_ERROR_UNKNOWN, `could not reach the wallet: ${String(err)}`));
    }
  };

  function invoke<M extends BridgeMethod>(method: M, input: unknown): Promise<MyResults[M]> {
    const options = isPlainRecord(input) ? input : {};
    const callbacks = readCallbacks(options);
    const promise = new Promise<object>((resolve, reject) => {
      const settle: Settle = (outcome) => {
        if (outcome.ok) {
          runCallback(callbacks.success, outcome.result);
          runCallback(callbacks.complete, outcome.result);
          resolve(outcome.result);
        } else {
          runCallback(callbacks.fail, outcome.error);
          runCallback(callbacks.complete, outcome.error);
          reject(outcome.error);
        }
      };
      // Callbacks always run asynchronously, also for the refusals decided right here.
      const refuse = (error: number, errorMessage: string) => {
        queueMicrotask(() => settle(failure(error, errorMessage)));
      };

      if (input !== undefined && !isPlainRecord(input)) {
        refuse(JSAPI_ERROR_INVALID_PARAMETERS, `${method} takes an options object`);
        return;
      }
      const checked = validateParams[method](options);
      if (!checked.ok) {
        refuse(JSAPI_ERROR_INVALID_PARAMETERS, checked.errorMessage);
        return;
      }
      if (host === undefined) {
        refuse(JSAPI_ERROR_NO_HOST, `${method} needs the wallet: this page is not running inside it`);
        return;
      }
      send(host, method, checked.params, settle);
    });
    // Whoever passed fail or complete has handled the error; the promise still rejects for an awaiter.
    if (callbacks.fail !== undefined || callbacks.complete !== undefined) promise.catch(() => undefined);
    return promise as Promise<MyResults[M]>;
  }

  return {
    tradePay: (opts) => invoke('tradePay', opts),
    getSiteInfo: (opts) => invoke('getSiteInfo', opts),
    alert: (opts) => invoke('alert', opts),
    showToast: (opts) => invoke('showToast', opts),
    navigateTo: (opts) => invoke('navigateTo', opts),
    getAuthCode: (opts) => invoke('getAuthCode', opts),
  };
}
