import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseMinor } from './amount.ts';
import { AmountSchema, NotifyAckSchema, PayV1RequestSchema } from './schemas.ts';
import { compileValidator, parseJsonObject } from './validate.ts';

const validatePay = compileValidator(PayV1RequestSchema);

const PAY = {
  partnerId: 'P000000000000001',
  paymentOrderTitle: 'Coffee',
  paymentRequestId: 'req-2026-0001',
  paymentAmount: { currency: 'USD', value: '1999' },
  paymentNotifyUrl: 'https://shop.example/notify',
};

function failure(value: unknown): { field: string; message: string } {
  const result = validatePay(value);
  if (result.ok) throw new Error('expected the body to be refused');
  return { field: result.field, message: result.message };
}

describe('compileValidator', () => {
  it('accepts a valid pay request and returns it', () => {
    expect(validatePay(PAY)).toEqual({ ok: true, value: PAY });
  });

  it('tolerates unknown fields (merchants send extras meant for other wallets)', () => {
    expect(
      validatePay({ ...PAY, salesCode: '51051000101000000011', productCode: 'CASHIER_PAYMENT' }).ok,
    ).toBe(true);
  });

  it('names a nested field in dotted form: paymentAmount.value', () => {
    const { field, message } = failure({ ...PAY, paymentAmount: { currency: 'USD', value: '19.99' } });
    expect(field).toBe('paymentAmount.value');
    expect(message).toBe(
      'paymentAmount.value: must be a positive integer in the minor unit of the currency, as a string',
    );
  });

  it('names a missing field: paymentRequestId is required', () => {
    const { paymentRequestId: _omitted, ...rest } = PAY;
    expect(failure(rest)).toEqual({ field: 'paymentRequestId', message: 'paymentRequestId: is required' });
  });

  it('names a too-long string with its limit', () => {
    expect(failure({ ...PAY, paymentRequestId: 'x'.repeat(65) })).toEqual({
      field: 'paymentRequestId',
      message: 'paymentRequestId: must be at most 64 characters',
    });
    expect(validatePay({ ...PAY, paymentRequestId: 'x'.repeat(64) }).ok).toBe(true);
    expect(failure({ ...PAY, paymentOrderTitle: 't'.repeat(257) }).message).toBe(
      'paymentOrderTitle: must be at most 256 characters',
    );
  });

  it('says empty, wrong type, bad currency and bad boolean plainly', () => {
    expect(failure({ ...PAY, paymentOrderTitle: '' }).message).toBe('paymentOrderTitle: must not be empty');
    expect(failure({ ...PAY, partnerId: 123 }).message).toBe('partnerId: must be a string');
    expect(failure({ ...PAY, paymentAmount: { currency: 'usd', value: '1' } }).message).toBe(
      'paymentAmount.currency: must be ISO 4217 alphabetic code',
    );
    expect(failure({ ...PAY, paymentAmount: 5 }).message).toBe('paymentAmount: must be an object');
    expect(failure({ ...PAY, paymentFactor: { isCashierPayment: 'true' } })).toEqual({
      field: 'paymentFactor.isCashierPayment',
      message: 'paymentFactor.isCashierPayment: must be a boolean',
    });
  });

  it('refuses a non-object body as (body)', () => {
    expect(failure([]).field).toBe('(body)');
    expect(failure(null).field).toBe('(body)');
  });

  it('reports an unsupported union value', () => {
    const validateAck = compileValidator(NotifyAckSchema);
    const result = validateAck({ result: { resultStatus: 'R', resultCode: 'SUCCESS', resultMessage: 'ok' } });
    expect(result).toEqual({
      ok: false,
      field: 'result.resultStatus',
      message: 'result.resultStatus: has an unsupported value "R"',
    });
  });

  it('AmountSchema.value and parseMinor accept exactly the same strings', () => {
    const validateAmount = compileValidator(AmountSchema);
    fc.assert(
      fc.property(fc.oneof(fc.stringMatching(/^[0-9]{0,18}$/), fc.string({ maxLength: 20 })), (value) => {
        expect(validateAmount({ currency: 'USD', value }).ok).toBe(parseMinor(value) !== undefined);
      }),
    );
  });
});

describe('parseJsonObject', () => {
  it('returns a JSON object', () => {
    expect(parseJsonObject('{"a":1,"b":{"c":[1]}}')).toEqual({ ok: true, value: { a: 1, b: { c: [1] } } });
  });

  it.each([
    ['', 'the request body is empty'],
    ['  \n', 'the request body is empty'],
    ['{', 'the request body is not valid JSON'],
    ["{'a':1}", 'the request body is not valid JSON'],
    ['{"a":1}x', 'the request body is not valid JSON'],
    ['[]', 'the request body must be a JSON object'],
    ['[{"a":1}]', 'the request body must be a JSON object'],
    ['null', 'the request body must be a JSON object'],
    ['1', 'the request body must be a JSON object'],
    ['"text"', 'the request body must be a JSON object'],
  ])('%j -> %s', (text, message) => {
    expect(parseJsonObject(text)).toEqual({ ok: false, message });
  });
});
