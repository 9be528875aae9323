import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  BRIDGE_REQUEST_SOURCE,
  BRIDGE_RESPONSE_SOURCE,
  BRIDGE_VERSION,
  JSAPI_ERROR_INVALID_PARAMETERS,
  JSAPI_ERROR_NO_HOST,
  JSAPI_ERROR_NOT_AUTHORIZED,
  JSAPI_ERROR_UNKNOWN,
  JSAPI_ERROR_USER_CANCELLED,
  TRADE_PAY_RESULT_CODES,
  isBridgeRequest,
  type BridgeRequest,
} from './bridge-protocol.ts';
import {
  NON_INTERACTIVE_TIMEOUT_MS,
  createMy,
  type BridgeMessageEvent,
  type HostWindowLike,
  type SelfWindowLike,
} from './create-my.ts';
import { my as defaultMy } from './index.ts';
import type { JsapiError } from './types.ts';

/** The wallet's window: records what the mini program posts to it. */
class FakeHost {
  readonly requests: BridgeRequest[] = [];
  readonly origins: string[] = [];
  postMessage(message: unknown, targetOrigin: string): void {
    // A real postMessage clones: functions (callbacks) would throw DataCloneError here.
    this.requests.push(structuredClone(message) as BridgeRequest);
    this.origins.push(targetOrigin);
  }
  last(): BridgeRequest {
    const request = this.requests.at(-1);
    if (request === undefined) throw new Error('nothing was posted to the host');
    return request;
  }
}

/** The mini program's window: the test delivers message events to it by hand. */
class FakeSelf {
  private readonly listeners: ((event: BridgeMessageEvent) => void)[] = [];
  constructor(readonly parent: FakeHost) {}
  addEventListener(_type: 'message', listener: (event: BridgeMessageEvent) => void): void {
    this.listeners.push(listener);
  }
  deliver(data: unknown, source: unknown): void {
    for (const listener of this.listeners) listener({ data, source });
  }
}

function setup(timeoutMs?: number) {
  const host = new FakeHost();
  const self = new FakeSelf(host);
  const my = createMy(timeoutMs === undefined ? { self } : { self, timeoutMs });
  const answer = (request: BridgeRequest, result: object) =>
    self.deliver(
      { source: BRIDGE_RESPONSE_SOURCE, version: BRIDGE_VERSION, id: request.id, ok: true, result },
      host,
    );
  const refuse = (request: BridgeRequest, error: object) =>
    self.deliver(
      { source: BRIDGE_RESPONSE_SOURCE, version: BRIDGE_VERSION, id: request.id, ok: false, error },
      host,
    );
  return { host, self, my, answer, refuse };
}

/** Resolves with 'pending' when the promise has not settled after the queued callbacks ran. */
async function state(promise: Promise<unknown>): Promise<unknown> {
  const pending = Symbol('pending');
  const outcome = await Promise.race([
    promise.then(
      (value) => ({ resolved: value }),
      (error: unknown) => ({ rejected: error }),
    ),
    new Promise((resolve) => setTimeout(() => resolve(pending), 0)),
  ]);
  return outcome === pending ? 'pending' : outcome;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('requests', () => {
  it('posts the protocol envelope to the parent with target origin *, without callbacks', () => {
    const { host, my } = setup();
    void my.tradePay({ tradeNO: 'T2026', success: () => undefined, fail: () => undefined });
    expect(host.requests).toHaveLength(1);
    const request = host.last();
    expect(request).toEqual({
      source: BRIDGE_REQUEST_SOURCE,
      version: BRIDGE_VERSION,
      id: expect.any(String),
      method: 'tradePay',
      params: { tradeNO: 'T2026' },
    });
    expect(isBridgeRequest(request)).toBe(true);
    expect(host.origins).toEqual(['*']);
  });

  it('gives every call its own id', () => {
    const { host, my } = setup();
    void my.getSiteInfo().catch(() => undefined);
    void my.getSiteInfo().catch(() => undefined);
    void createMy({ self: new FakeSelf(host) })
      .getSiteInfo()
      .catch(() => undefined);
    const ids = host.requests.map((r) => r.id);
    expect(new Set(ids).size).toBe(3);
  });

  it('sends each method under its protocol name with only the protocol params', () => {
    const { host, my } = setup();
    const calls: [() => unknown, string, object][] = [
      [() => my.getSiteInfo(), 'getSiteInfo', {}],
      [
        () => my.alert({ title: 'T', content: 'C', buttonText: 'OK' }),
        'alert',
        { title: 'T', content: 'C', buttonText: 'OK' },
      ],
      [() => my.alert(), 'alert', {}],
      [
        () => my.showToast({ content: 'Paid', type: 'success', duration: 1500 }),
        'showToast',
        { content: 'Paid', type: 'success', duration: 1500 },
      ],
      [() => my.navigateTo({ url: '/pages/order?id=1' }), 'navigateTo', { url: '/pages/order?id=1' }],
      [
        () => my.getAuthCode({ scopes: ['USER_ID', 'USER_NICKNAME'] }),
        'getAuthCode',
        { scopes: ['USER_ID', 'USER_NICKNAME'] },
      ],
      [() => my.getAuthCode({ scopes: 'auth_user' }), 'getAuthCode', { scopes: ['auth_user'] }],
      [() => my.getAuthCode(), 'getAuthCode', { scopes: ['auth_base'] }],
      [
        () => my.tradePay({ paymentUrl: 'https://w.example/cashier/pay_1' }),
        'tradePay',
        { paymentUrl: 'https://w.example/cashier/pay_1' },
      ],
      [() => my.tradePay({ orderStr: 'app_id=1&sign=x' }), 'tradePay', { orderStr: 'app_id=1&sign=x' }],
    ];
    for (const [call, method, params] of calls) {
      void (call() as Promise<unknown>).catch(() => undefined);
      expect(host.last()).toMatchObject({ method, params });
      expect(Object.keys(host.last().params).sort()).toEqual(Object.keys(params).sort());
    }
  });
});

describe('responses', () => {
  it('routes each response to its call by id, whatever the order', async () => {
    const { host, my, answer } = setup();
    const first = my.tradePay({ tradeNO: 'A' });
    const second = my.tradePay({ tradeNO: 'B' });
    const [a, b] = host.requests;
    answer(b!, { resultCode: '6001' });
    answer(a!, { resultCode: '9000' });
    await expect(first).resolves.toEqual({ resultCode: '9000' });
    await expect(second).resolves.toEqual({ resultCode: '6001' });
  });

  it('ignores a wrong source field, a wrong version, a foreign window, an unknown id and non-objects', async () => {
    const { host, self, my, answer } = setup();
    const call = my.getSiteInfo();
    const { id } = host.last();
    const genuine = {
      source: BRIDGE_RESPONSE_SOURCE,
      version: BRIDGE_VERSION,
      id,
      ok: true,
      result: { siteName: 'X' },
    };
    const stranger = new FakeHost();
    self.deliver({ ...genuine, source: 'billetera-jsapi' }, host);
    self.deliver({ ...genuine, source: 'someone-else' }, host);
    self.deliver({ ...genuine, version: 2 }, host);
    self.deliver(genuine, stranger); // forged: right shape, posted by another window
    self.deliver(genuine, self); // the iframe posting to itself
    self.deliver(genuine, null);
    self.deliver({ ...genuine, id: 'jsapi_unknown_1' }, host);
    self.deliver('{"source":"billetera-host"}', host);
    self.deliver(null, host);
    expect(await state(call)).toBe('pending');

    answer(host.last(), { siteName: 'Billetera', siteRegion: 'ES' });
    await expect(call).resolves.toEqual({ siteName: 'Billetera', siteRegion: 'ES' });
  });

  it('settles a call once: a repeated response is ignored', async () => {
    const { host, my, answer } = setup();
    const success = vi.fn();
    const call = my.tradePay({ tradeNO: 'T', success });
    answer(host.last(), { resultCode: '9000' });
    answer(host.last(), { resultCode: '4000' });
    await expect(call).resolves.toEqual({ resultCode: '9000' });
    expect(success).toHaveBeenCalledTimes(1);
  });

  it('calls success then complete, and resolves the promise with the same result', async () => {
    const { host, my, answer } = setup();
    const order: string[] = [];
    const success = vi.fn(() => order.push('success'));
    const fail = vi.fn();
    const complete = vi.fn(() => order.push('complete'));
    const call = my.getSiteInfo({ success, fail, complete });
    answer(host.last(), { siteName: 'Billetera' });
    const result = await call;
    expect(result).toEqual({ siteName: 'Billetera' });
    expect(success).toHaveBeenCalledWith(result);
    expect(complete).toHaveBeenCalledWith(result);
    expect(fail).not.toHaveBeenCalled();
    expect(order).toEqual(['success', 'complete']);
  });

  it('calls fail then complete, and rejects the promise with the same error object', async () => {
    const { host, my, refuse } = setup();
    const success = vi.fn();
    const fail = vi.fn();
    const complete = vi.fn();
    const call = my.navigateTo({ url: '/x', success, fail, complete });
    refuse(host.last(), { error: JSAPI_ERROR_NOT_AUTHORIZED, errorMessage: 'no feature' });
    const error = { error: JSAPI_ERROR_NOT_AUTHORIZED, errorMessage: 'no feature' };
    await expect(call).rejects.toEqual(error);
    expect(fail).toHaveBeenCalledWith(error);
    expect(complete).toHaveBeenCalledWith(error);
    expect(success).not.toHaveBeenCalled();
  });

  it('passes every tradePay result code through as a success, and maps an unknown one to 6004', async () => {
    const { host, my, answer } = setup();
    for (const resultCode of TRADE_PAY_RESULT_CODES) {
      const success = vi.fn();
      const fail = vi.fn();
      const call = my.tradePay({ tradeNO: `T${resultCode}`, success, fail });
      answer(host.last(), { resultCode });
      await expect(call).resolves.toEqual({ resultCode });
      expect(success).toHaveBeenCalledWith({ resultCode });
      expect(fail).not.toHaveBeenCalled();
    }
    const odd = my.tradePay({ tradeNO: 'T4' });
    answer(host.last(), { resultCode: '4' });
    await expect(odd).resolves.toEqual({ resultCode: '6004' });
  });

  it('passes getAuthCode results and its authErrorScopes refusal through', async () => {
    const { host, my, answer, refuse } = setup();
    const granted = my.getAuthCode({ scopes: ['auth_base'] });
    answer(host.last(), { authCode: 'ac_1', authSuccessScopes: ['auth_base'], extra: 'dropped' });
    await expect(granted).resolves.toEqual({
      authCode: 'ac_1',
      authSuccessScopes: ['auth_base'],
      authErrorScopes: {},
    });

    const partly = my.getAuthCode({ scopes: ['USER_ID', 'USER_AVATAR'] });
    answer(host.last(), {
      authCode: 'ac_2',
      authSuccessScopes: ['USER_ID'],
      authErrorScopes: { USER_AVATAR: '40006' },
    });
    await expect(partly).resolves.toEqual({
      authCode: 'ac_2',
      authSuccessScopes: ['USER_ID'],
      authErrorScopes: { USER_AVATAR: '40006' },
    });

    const fail = vi.fn();
    const refused = my.getAuthCode({ scopes: ['auth_user'], fail });
    const error = {
      error: JSAPI_ERROR_USER_CANCELLED,
      errorMessage: 'the user refused',
      authErrorScopes: { auth_user: '40006' },
    };
    refuse(host.last(), error);
    await expect(refused).rejects.toEqual(error);
    expect(fail).toHaveBeenCalledWith(error);
  });

  it('turns a response that breaks the protocol into error 3', async () => {
    const { host, my, answer, refuse } = setup();
    const noName = my.getSiteInfo();
    answer(host.last(), { siteRegion: 'ES' });
    await expect(noName).rejects.toMatchObject({ error: JSAPI_ERROR_UNKNOWN });

    const badError = my.getSiteInfo();
    refuse(host.last(), { error: 'nope' });
    await expect(badError).rejects.toMatchObject({ error: JSAPI_ERROR_UNKNOWN });

    const noCode = my.getAuthCode({ scopes: 'USER_ID' });
    answer(host.last(), { authSuccessScopes: ['USER_ID'] });
    await expect(noCode).rejects.toMatchObject({ error: JSAPI_ERROR_UNKNOWN });
  });

  it('settles with error 3 when postMessage itself throws', async () => {
    const self = new FakeSelf(new FakeHost());
    const target = {
      postMessage() {
        throw new Error('DataCloneError');
      },
    };
    const my = createMy({ self, target });
    await expect(my.alert({ content: 'x' })).rejects.toMatchObject({ error: JSAPI_ERROR_UNKNOWN });
  });

  it('re-throws an exception from a callback on its own, and still settles the promise', async () => {
    const { host, my, answer } = setup();
    const thrown: unknown[] = [];
    const queue = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) => {
      try {
        task();
      } catch (err) {
        thrown.push(err);
      }
    });
    const complete = vi.fn();
    const call = my.getSiteInfo({
      success: () => {
        throw new Error('bug in the mini program');
      },
      complete,
    });
    answer(host.last(), { siteName: 'Billetera' });
    await expect(call).resolves.toEqual({ siteName: 'Billetera' });
    queue.mockRestore();
    expect(thrown).toEqual([new Error('bug in the mini program')]);
    expect(complete).toHaveBeenCalledTimes(1);
  });
});

describe('refusals decided before anything is sent', () => {
  const invalid: [
    string,
    (my: ReturnType<typeof createMy>, cb: { fail: (e: JsapiError) => void }) => Promise<unknown>,
  ][] = [
    ['tradePay without input', (my, cb) => my.tradePay({ ...cb })],
    ['tradePay with no options at all', (my) => my.tradePay()],
    ['tradePay with two inputs', (my, cb) => my.tradePay({ tradeNO: 'T', paymentUrl: 'https://x', ...cb })],
    [
      'tradePay with all three inputs',
      (my, cb) => my.tradePay({ tradeNO: 'T', paymentUrl: 'u', orderStr: 'o', ...cb }),
    ],
    ['tradePay with a number', (my, cb) => my.tradePay({ tradeNO: 42 as unknown as string, ...cb })],
    ['tradePay with an empty tradeNO', (my, cb) => my.tradePay({ tradeNO: '', ...cb })],
    ['tradePay with a 65-character tradeNO', (my, cb) => my.tradePay({ tradeNO: 'T'.repeat(65), ...cb })],
    ['navigateTo without url', (my, cb) => my.navigateTo({ ...cb } as unknown as { url: string })],
    ['navigateTo with an empty url', (my, cb) => my.navigateTo({ url: '', ...cb })],
    ['getAuthCode with an empty list', (my, cb) => my.getAuthCode({ scopes: [], ...cb })],
    ['getAuthCode with an empty string', (my, cb) => my.getAuthCode({ scopes: '', ...cb })],
    [
      'getAuthCode with a non-string scope',
      (my, cb) => my.getAuthCode({ scopes: ['USER_ID', 7 as unknown as string], ...cb }),
    ],
    [
      'getAuthCode with 33 scopes',
      (my, cb) => my.getAuthCode({ scopes: Array.from({ length: 33 }, (_, i) => `S${i}`), ...cb }),
    ],
    ['showToast with an unknown type', (my, cb) => my.showToast({ type: 'warning' as 'none', ...cb })],
    ['showToast with a negative duration', (my, cb) => my.showToast({ duration: -1, ...cb })],
    ['alert with a numeric title', (my, cb) => my.alert({ title: 1 as unknown as string, ...cb })],
    ['a non-object argument', (my) => my.alert('hello' as unknown as object)],
  ];

  it.each(invalid)('%s fails with error 2 and posts nothing', async (_name, call) => {
    const { host, my } = setup();
    const fail = vi.fn();
    const promise = call(my, { fail });
    expect(fail).not.toHaveBeenCalled(); // callbacks are asynchronous even for an immediate refusal
    await expect(promise).rejects.toMatchObject({
      error: JSAPI_ERROR_INVALID_PARAMETERS,
      errorMessage: expect.any(String),
    });
    expect(host.requests).toEqual([]);
  });

  it('fails with 1001 when the page is not inside the wallet (window.parent is the window)', async () => {
    const topLevel: SelfWindowLike & HostWindowLike & { parent?: unknown } = {
      postMessage: vi.fn(),
      addEventListener: vi.fn(),
    };
    Object.assign(topLevel, { parent: topLevel });
    const my = createMy({ self: topLevel });
    const fail = vi.fn();
    const complete = vi.fn();
    await expect(my.getSiteInfo({ fail, complete })).rejects.toMatchObject({ error: JSAPI_ERROR_NO_HOST });
    expect(fail).toHaveBeenCalledWith(expect.objectContaining({ error: JSAPI_ERROR_NO_HOST }));
    expect(complete).toHaveBeenCalledTimes(1);
    expect(topLevel.postMessage).not.toHaveBeenCalled();
    expect(topLevel.addEventListener).not.toHaveBeenCalled();
  });

  it('fails with 1001 where there is no window at all (Node), for the exported my too', async () => {
    expect(typeof (globalThis as { window?: unknown }).window).toBe('undefined');
    await expect(createMy().tradePay({ tradeNO: 'T' })).rejects.toMatchObject({ error: JSAPI_ERROR_NO_HOST });
    await expect(defaultMy.getSiteInfo()).rejects.toMatchObject({ error: JSAPI_ERROR_NO_HOST });
  });

  it('checks the parameters before looking for the host', async () => {
    await expect(createMy().tradePay({})).rejects.toMatchObject({ error: JSAPI_ERROR_INVALID_PARAMETERS });
  });

  it('leaves a rejection with a fail or complete callback handled, so no unhandled rejection is reported', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const fail = vi.fn();
      void createMy().getSiteInfo({ fail }); // the promise is dropped on purpose, as callback-style code does
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(fail).toHaveBeenCalledTimes(1);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('refuses a timeout that is not a positive number', () => {
    expect(() => createMy({ timeoutMs: 0 })).toThrow(RangeError);
    expect(() => createMy({ timeoutMs: Number.NaN })).toThrow(RangeError);
  });
});

describe('timeouts', () => {
  it('fails getSiteInfo with error 3 after 10 s without an answer, and ignores a late answer', async () => {
    vi.useFakeTimers();
    const { host, my, answer } = setup();
    const fail = vi.fn();
    const call = my.getSiteInfo({ fail });
    vi.advanceTimersByTime(NON_INTERACTIVE_TIMEOUT_MS - 1);
    expect(fail).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    await expect(call).rejects.toMatchObject({
      error: JSAPI_ERROR_UNKNOWN,
      errorMessage: expect.stringMatching(/10000 ms/),
    });
    expect(fail).toHaveBeenCalledTimes(1);
    answer(host.last(), { siteName: 'late' });
    expect(fail).toHaveBeenCalledTimes(1);
  });

  it('applies the timeout to showToast and navigateTo, and honours timeoutMs', async () => {
    vi.useFakeTimers();
    const { my } = setup(500);
    const toast = my.showToast({ content: 'hi' });
    const navigate = my.navigateTo({ url: '/x' });
    vi.advanceTimersByTime(500);
    await expect(toast).rejects.toMatchObject({ error: JSAPI_ERROR_UNKNOWN });
    await expect(navigate).rejects.toMatchObject({ error: JSAPI_ERROR_UNKNOWN });
  });

  it('lets tradePay, alert and getAuthCode wait for the user without a timeout', async () => {
    vi.useFakeTimers();
    const { host, my, answer } = setup();
    const pay = my.tradePay({ tradeNO: 'T' });
    const alert = my.alert({ content: 'Read me' });
    const auth = my.getAuthCode({ scopes: ['USER_ID'] });
    const [payRequest, alertRequest, authRequest] = host.requests;
    vi.advanceTimersByTime(60 * 60 * 1000);
    vi.useRealTimers();
    expect(await state(pay)).toBe('pending');
    expect(await state(alert)).toBe('pending');
    expect(await state(auth)).toBe('pending');
    answer(payRequest!, { resultCode: '9000' });
    answer(alertRequest!, {});
    answer(authRequest!, { authCode: 'ac', authSuccessScopes: ['USER_ID'] });
    await expect(pay).resolves.toEqual({ resultCode: '9000' });
    await expect(alert).resolves.toEqual({});
    await expect(auth).resolves.toEqual({
      authCode: 'ac',
      authSuccessScopes: ['USER_ID'],
      authErrorScopes: {},
    });
  });
});
