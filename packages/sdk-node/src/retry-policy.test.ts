import { resultOf } from '@billetera/protocol';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_POLICY, backoffDelayMs, isRetryable } from './retry-policy.ts';
import {
  BilleteraError,
  ConnectionError,
  SignatureVerificationError,
  UnexpectedResponseError,
  apiErrorFor,
} from './sdk-errors.ts';

describe('backoffDelayMs', () => {
  const lowest = () => 0;
  const highest = () => 1;

  it('doubles from 200 ms, half fixed and half jitter', () => {
    expect([0, 1, 2].map((n) => backoffDelayMs(n, DEFAULT_RETRY_POLICY, highest))).toEqual([200, 400, 800]);
    expect([0, 1, 2].map((n) => backoffDelayMs(n, DEFAULT_RETRY_POLICY, lowest))).toEqual([100, 200, 400]);
    expect(backoffDelayMs(1, DEFAULT_RETRY_POLICY, () => 0.5)).toBe(300);
  });

  it('never exceeds maxDelayMs', () => {
    expect(backoffDelayMs(20, DEFAULT_RETRY_POLICY, highest)).toBe(DEFAULT_RETRY_POLICY.maxDelayMs);
  });
});

describe('isRetryable', () => {
  const api = (code: Parameters<typeof resultOf>[0]) =>
    apiErrorFor({ reply: { result: resultOf(code) }, attempts: 1 });
  const http = (statusCode: number) =>
    new UnexpectedResponseError('x', { attempts: 1, statusCode, bodyExcerpt: '' });

  it.each([
    ['a connection error', new ConnectionError('x', { attempts: 1, timedOut: false }), true],
    ['a timeout', new ConnectionError('x', { attempts: 1, timedOut: true }), true],
    ['U / UNKNOWN_EXCEPTION', api('UNKNOWN_EXCEPTION'), true],
    ['U / PAYMENT_IN_PROCESS', api('PAYMENT_IN_PROCESS'), true],
    ['U / REQUEST_TRAFFIC_EXCEED_LIMIT', api('REQUEST_TRAFFIC_EXCEED_LIMIT'), true],
    ['HTTP 503', http(503), true],
    ['HTTP 429', http(429), true],
    ['HTTP 404', http(404), false],
    ['a signed non-reply (HTTP 200)', http(200), false],
    ['F / PARAM_ILLEGAL', api('PARAM_ILLEGAL'), false],
    ['F / PROCESS_FAIL', api('PROCESS_FAIL'), false],
    [
      'a bad reply signature',
      new SignatureVerificationError('x', { attempts: 1, reason: 'wrong-key' }),
      false,
    ],
    ['any other SDK error', new BilleteraError('x', { attempts: 1 }), false],
    ['a bug', new TypeError('x'), false],
  ])('%s: %s', (_name, error, expected) => {
    expect(isRetryable(error)).toBe(expected);
  });
});
