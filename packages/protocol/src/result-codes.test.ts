import { describe, expect, it } from 'vitest';
import { NOTIFY_ACK_BODY } from './paths.ts';
import {
  API_RESULT_CODES,
  RESULT_CODES,
  isResultCode,
  resultOf,
  type ResultCode,
  type ResultStatus,
} from './result-codes.ts';
import { NotifyAckSchema, ResultSchema } from './schemas.ts';
import { compileValidator } from './validate.ts';

/**
 * The result-code tables of alipay-plus-reference.md, by status, one entry per section. Where sources
 * disagree decisions.md decides (REQUEST_TRAFFIC_EXCEED_LIMIT: U, as on every API page).
 */
// prettier-ignore
const REFERENCE: Record<string, Partial<Record<ResultStatus, string[]>>> = {
  '§6 pay': {
    S: ['SUCCESS'],
    A: ['ACCEPT'],
    U: ['UNKNOWN_EXCEPTION', 'REQUEST_TRAFFIC_EXCEED_LIMIT', 'PAYMENT_IN_PROCESS'],
    F: [
      'REPEAT_REQ_INCONSISTENT', 'PROCESS_FAIL', 'INVALID_API', 'PARAM_ILLEGAL', 'ACCESS_DENIED',
      'PAYMENT_AMOUNT_EXCEED_LIMIT', 'USER_NOT_EXIST', 'USER_STATUS_ABNORMAL', 'USER_BALANCE_NOT_ENOUGH',
      'PARTNER_NOT_EXIST', 'PARTNER_STATUS_ABNORMAL', 'RISK_REJECT', 'CURRENCY_NOT_SUPPORT', 'ORDER_STATUS_INVALID',
      'INVALID_ACCESS_TOKEN', 'USER_AMOUNT_EXCEED_LIMIT', 'EXPIRED_ACCESS_TOKEN', 'AUTH_CODE_ALREADY_USED',
      'INVALID_CODE', 'EXPIRED_AGENT_TOKEN', 'INVALID_AGENT_TOKEN',
    ],
  },
  '§8 notify acknowledgement': {
    S: ['SUCCESS'],
    U: ['UNKNOWN_EXCEPTION', 'REQUEST_TRAFFIC_EXCEED_LIMIT'],
    F: ['REPEAT_REQ_INCONSISTENT'],
  },
  '§9 inquiryPayment': {
    S: ['SUCCESS'],
    U: ['UNKNOWN_EXCEPTION', 'REQUEST_TRAFFIC_EXCEED_LIMIT'],
    F: ['ORDER_NOT_EXIST', 'INVALID_API', 'PARAM_ILLEGAL', 'PROCESS_FAIL', 'ACCESS_DENIED', 'EXPIRED_AGENT_TOKEN', 'INVALID_AGENT_TOKEN'],
  },
  '§10 cancel': {
    S: ['SUCCESS'],
    U: ['UNKNOWN_EXCEPTION'],
    F: [
      'CANCEL_WINDOW_EXCEED', 'ORDER_NOT_EXIST', 'KEY_NOT_FOUND', 'CLIENT_INVALID', 'INVALID_SIGNATURE',
      'METHOD_NOT_SUPPORTED', 'MERCHANT_BALANCE_NOT_ENOUGH',
    ],
  },
  '§11 refund': {
    S: ['SUCCESS'],
    U: ['UNKNOWN_EXCEPTION', 'REQUEST_TRAFFIC_EXCEED_LIMIT', 'REFUND_IN_PROCESS'],
    F: [
      'REPEAT_REQ_INCONSISTENT', 'PROCESS_FAIL', 'PARAM_ILLEGAL', 'INVALID_API', 'ACCESS_DENIED',
      'PARTNER_STATUS_ABNORMAL', 'ORDER_NOT_EXIST', 'ORDER_STATUS_INVALID', 'REFUND_WINDOW_EXCEED',
      'REFUND_AMOUNT_EXCEED', 'PARTNER_BALANCE_NOT_ENOUGH', 'CURRENCY_NOT_SUPPORT', 'EXPIRED_AGENT_TOKEN',
      'INVALID_AGENT_TOKEN',
    ],
  },
  '§12 common (REQUEST_TRAFFIC_EXCEED_LIMIT left to the API pages)': {
    U: ['UNKNOWN_EXCEPTION'],
    F: [
      'PROCESS_FAIL', 'PARAM_ILLEGAL', 'INVALID_API', 'ACCESS_DENIED', 'EXPIRED_ACCESS_TOKEN', 'KEY_NOT_FOUND',
      'CLIENT_INVALID', 'INVALID_SIGNATURE', 'METHOD_NOT_SUPPORTED',
    ],
  },
  '§14 applyToken / cancelToken / inquiryUserInfo': {
    U: ['UNKNOWN_EXCEPTION', 'REQUEST_TRAFFIC_EXCEED_LIMIT'],
    F: [
      'PROCESS_FAIL', 'PARAM_ILLEGAL', 'ACCESS_DENIED', 'INVALID_API', 'AUTH_CLIENT_UNSUPPORTED_GRANT_TYPE',
      'INVALID_AUTH_CLIENT', 'INVALID_AUTH_CLIENT_STATUS', 'INVALID_REFRESH_TOKEN', 'EXPIRED_REFRESH_TOKEN',
      'USED_REFRESH_TOKEN', 'INVALID_CODE', 'USED_CODE', 'EXPIRED_CODE', 'REFERENCE_CLIENT_ID_NOT_MATCH',
      'EXPIRED_AGENT_TOKEN', 'INVALID_AGENT_TOKEN', 'INVALID_ACCESS_TOKEN', 'EXPIRED_ACCESS_TOKEN',
    ],
  },
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const ALL_CODES = Object.keys(RESULT_CODES) as ResultCode[];

describe('result catalogue', () => {
  it('has every code each API may answer with', () => {
    for (const [api, codes] of Object.entries(API_RESULT_CODES)) {
      for (const code of codes) expect(isResultCode(code), `${api}: ${code}`).toBe(true);
    }
  });

  it.each(Object.entries(REFERENCE))(
    'gives every code of the reference’s %s table its status',
    (_section, table) => {
      for (const [status, codes] of Object.entries(table)) {
        for (const code of codes ?? []) {
          expect(isResultCode(code), `${code} is missing`).toBe(true);
          expect(RESULT_CODES[code as ResultCode].status, code).toBe(status);
        }
      }
    },
  );

  it('names the statuses the brief calls out', () => {
    expect(RESULT_CODES.SUCCESS.status).toBe('S');
    expect(RESULT_CODES.ACCEPT.status).toBe('A');
    expect(RESULT_CODES.PAYMENT_IN_PROCESS.status).toBe('U');
    expect(RESULT_CODES.ORDER_NOT_EXIST.status).toBe('F');
    expect(RESULT_CODES.REQUEST_TRAFFIC_EXCEED_LIMIT.status).toBe('U');
  });

  it('lists in API_RESULT_CODES every code the reference table of that API has', () => {
    const pay = new Set<string>(API_RESULT_CODES['v1/payments/pay']);
    const inquiry = new Set<string>(API_RESULT_CODES['v1/payments/inquiryPayment']);
    for (const codes of Object.values(REFERENCE['§6 pay'] ?? {}))
      for (const c of codes) expect(pay.has(c), c).toBe(true);
    for (const codes of Object.values(REFERENCE['§9 inquiryPayment'] ?? {}))
      for (const c of codes) expect(inquiry.has(c), c).toBe(true);
    for (const c of ['CLIENT_INVALID', 'KEY_NOT_FOUND', 'INVALID_SIGNATURE', 'INVALID_API']) {
      expect(pay.has(c) && inquiry.has(c), c).toBe(true);
    }
  });

  it('marks exactly the U codes retryable, and keeps Billetera’s own codes F and off the API lists', () => {
    const onTheWire = new Set<string>(Object.values(API_RESULT_CODES).flat());
    for (const code of ALL_CODES) {
      const info = RESULT_CODES[code];
      expect(info.retryable, code).toBe(info.status === 'U');
      if (info.origin === 'billetera') {
        expect(info.status, code).toBe('F');
        expect(onTheWire.has(code), code).toBe(false);
      }
    }
  });

  it('fits every code and message into the wire Result schema', () => {
    const validate = compileValidator(ResultSchema);
    for (const code of ALL_CODES) {
      expect(code).toMatch(/^[A-Z][A-Z_]*$/);
      expect(validate(resultOf(code)).ok, code).toBe(true);
      expect(RESULT_CODES[code].message.length, code).toBeGreaterThan(0);
    }
  });

  it('isResultCode knows only catalogue codes (not Object.prototype names)', () => {
    expect(isResultCode('SUCCESS')).toBe(true);
    expect(isResultCode('success')).toBe(false);
    expect(isResultCode('toString')).toBe(false);
    expect(isResultCode('__proto__')).toBe(false);
  });
});

describe('resultOf', () => {
  it('builds the wire result with the catalogue message, or a given one', () => {
    expect(resultOf('ACCEPT')).toEqual({ resultStatus: 'A', resultCode: 'ACCEPT', resultMessage: 'accept' });
    expect(resultOf('PARAM_ILLEGAL', 'paymentAmount.value: is required')).toEqual({
      resultStatus: 'F',
      resultCode: 'PARAM_ILLEGAL',
      resultMessage: 'paymentAmount.value: is required',
    });
  });

  it('truncates messages to 256 characters, ending with an ellipsis', () => {
    expect(resultOf('PROCESS_FAIL', 'x'.repeat(256)).resultMessage).toBe('x'.repeat(256));
    const long = resultOf('PROCESS_FAIL', 'y'.repeat(1000)).resultMessage;
    expect(long).toHaveLength(256);
    expect(long).toBe('y'.repeat(255) + '…');
    expect(resultOf('PROCESS_FAIL', 'z'.repeat(257)).resultMessage).toHaveLength(256);
  });

  it('never cuts a surrogate pair in half when truncating', () => {
    for (let pad = 250; pad <= 256; pad++) {
      const message = resultOf('PROCESS_FAIL', 'a'.repeat(pad) + '🧾'.repeat(10)).resultMessage;
      expect(message.length, `pad ${pad}`).toBeLessThanOrEqual(256);
      expect(message, `pad ${pad}`).not.toMatch(LONE_SURROGATE);
    }
  });
});

describe('NOTIFY_ACK_BODY', () => {
  it('is the acknowledgement the reference shows, and passes NotifyAckSchema', () => {
    const body: unknown = JSON.parse(NOTIFY_ACK_BODY);
    expect(body).toEqual({ result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' } });
    expect(compileValidator(NotifyAckSchema)(body).ok).toBe(true);
  });
});
