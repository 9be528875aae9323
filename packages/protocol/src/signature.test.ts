import { describe, expect, it } from 'vitest';
import { PATHS } from './paths.ts';
import { contentToSign, formatSignatureHeader, headerValue, parseSignatureHeader } from './signature.ts';

/** 256 bytes 0..255: their standard base64 holds `+` and `/` (and `==` padding), like a real RSA-2048 value. */
const SIG = Uint8Array.from({ length: 256 }, (_, i) => i);
const STD = Buffer.from(SIG).toString('base64');
const URL_SAFE = Buffer.from(SIG).toString('base64url'); // `-_`, no padding

function parsedSignature(header: string): Uint8Array {
  const parsed = parseSignatureHeader(header);
  if (!parsed.ok) throw new Error(`expected ${header.slice(0, 60)}… to parse, got ${parsed.problem}`);
  return parsed.value.signature;
}

describe('contentToSign', () => {
  it('is `<METHOD> <path>\\n<Client-Id>.<time>.<body>` with the method upper-cased', () => {
    expect(
      contentToSign('post', PATHS.payV1, 'TEST_5X00000000000000', '2019-05-28T12:12:12+08:00', '{"a":1}'),
    ).toBe('POST /api/open/v1/payments/pay\nTEST_5X00000000000000.2019-05-28T12:12:12+08:00.{"a":1}');
  });
});

describe('formatSignatureHeader', () => {
  it('writes exactly `algorithm=RSA256,keyVersion=<n>,signature=<percent-encoded standard base64>`', () => {
    expect(formatSignatureHeader('ab+/cd==', 1)).toBe(
      'algorithm=RSA256,keyVersion=1,signature=ab%2B%2Fcd%3D%3D',
    );
    const header = formatSignatureHeader(STD, 3);
    expect(header).toBe(`algorithm=RSA256,keyVersion=3,signature=${encodeURIComponent(STD)}`);
    expect(header).not.toMatch(/[ +/]/); // no spaces, nothing left un-encoded
    expect(header.split(',')[2]).toMatch(/^signature=/); // one official SDK reads the third comma item
  });

  it('round-trips through parseSignatureHeader', () => {
    const parsed = parseSignatureHeader(formatSignatureHeader(STD, 7));
    expect(parsed).toEqual({ ok: true, value: { algorithm: 'RSA256', keyVersion: 7, signature: SIG } });
  });
});

describe('parseSignatureHeader is tolerant', () => {
  const encoded = encodeURIComponent(STD);

  it('accepts spaces after commas (the docs’ own form)', () => {
    expect(parsedSignature(`algorithm=RSA256, keyVersion=1, signature=${encoded}`)).toEqual(SIG);
  });

  it('reads keys case-insensitively and the algorithm too (RSA256 or SHA256withRSA)', () => {
    const parsed = parseSignatureHeader(`ALGORITHM=rsa256,KeyVersion=2,Signature=${encoded}`);
    expect(parsed.ok && parsed.value.keyVersion).toBe(2);
    expect(parsedSignature(`algorithm=SHA256withRSA,keyversion=2,signature=${encoded}`)).toEqual(SIG);
  });

  it('leaves keyVersion undefined when absent or empty (the newest active key is meant), and reads 0', () => {
    for (const header of [
      `algorithm=RSA256,signature=${encoded}`,
      `algorithm=RSA256,keyVersion=,signature=${encoded}`,
    ]) {
      const parsed = parseSignatureHeader(header);
      expect(parsed.ok && parsed.value.keyVersion).toBeUndefined();
    }
    const zero = parseSignatureHeader(`algorithm=RSA256,keyVersion=0,signature=${encoded}`);
    expect(zero.ok && zero.value.keyVersion).toBe(0);
  });

  it('defaults the algorithm to RSA256 when absent', () => {
    const parsed = parseSignatureHeader(`keyVersion=1,signature=${encoded}`);
    expect(parsed.ok && parsed.value.algorithm).toBe('RSA256');
  });

  it('accepts URL-safe base64, padded or not', () => {
    expect(parsedSignature(`algorithm=RSA256,keyVersion=1,signature=${URL_SAFE}`)).toEqual(SIG);
    expect(parsedSignature(`algorithm=RSA256,keyVersion=1,signature=${URL_SAFE}==`)).toEqual(SIG);
  });

  it('accepts unpadded standard base64, percent-encoded or raw', () => {
    const unpadded = STD.replace(/=+$/, '');
    expect(parsedSignature(`algorithm=RSA256,keyVersion=1,signature=${unpadded}`)).toEqual(SIG);
    expect(
      parsedSignature(`algorithm=RSA256,keyVersion=1,signature=${encodeURIComponent(unpadded)}`),
    ).toEqual(SIG);
  });

  it('accepts a value whose `+`, `/` and `=` were never percent-encoded', () => {
    expect(STD).toMatch(/\+/);
    expect(STD).toMatch(/\//);
    expect(parsedSignature(`algorithm=RSA256,keyVersion=1,signature=${STD}`)).toEqual(SIG);
  });

  it('accepts a value whose raw `+` turned into a space on the way (form decoding)', () => {
    expect(parsedSignature(`algorithm=RSA256,keyVersion=1,signature=${STD.replace(/\+/g, ' ')}`)).toEqual(
      SIG,
    );
  });

  it('accepts a `+` turned into a space even as the first character of the value', () => {
    // 0xF8 = 111110.00 -> first base64 digit 62, i.e. `+`: possible whenever the key's modulus starts above it.
    const leadingPlus = Uint8Array.from(SIG, (b, i) => (i === 0 ? 0xf8 : b));
    const std = Buffer.from(leadingPlus).toString('base64');
    expect(std[0]).toBe('+');
    expect(parsedSignature(`algorithm=RSA256,keyVersion=1,signature=${std.replace(/\+/g, ' ')}`)).toEqual(
      leadingPlus,
    );
    expect(parsedSignature(`algorithm=RSA256, keyVersion=1, signature=${std.replace(/\+/g, ' ')}`)).toEqual(
      leadingPlus,
    );
  });

  it('accepts the fields in any order', () => {
    expect(parsedSignature(`signature=${encoded},keyVersion=1,algorithm=RSA256`)).toEqual(SIG);
  });
});

describe('parseSignatureHeader refuses garbage with a problem code', () => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, 'missing'],
    ['', 'missing'],
    ['   ', 'missing'],
    ['garbage', 'malformed'],
    ['=RSA256,signature=AAAA', 'malformed'],
    ['algorithm=RSA256,keyVersion=1', 'malformed'],
    ['algorithm=RSA256,keyVersion=1,signature=', 'malformed'],
    ['algorithm=ECC224,keyVersion=1,signature=AAAA', 'unsupported-algorithm'],
    ['algorithm=HS256,signature=AAAA', 'unsupported-algorithm'],
    ['algorithm=RSA256,keyVersion=v1,signature=AAAA', 'bad-key-version'],
    ['algorithm=RSA256,keyVersion=-1,signature=AAAA', 'bad-key-version'],
    ['algorithm=RSA256,keyVersion=1234567890,signature=AAAA', 'bad-key-version'],
    ['algorithm=RSA256,keyVersion=1,signature=!!!!', 'bad-signature-encoding'],
    ['algorithm=RSA256,keyVersion=1,signature=%E0%A4%A', 'bad-signature-encoding'],
    ['algorithm=RSA256,keyVersion=1,signature=AAAAA', 'bad-signature-encoding'],
    ['algorithm=RSA256,keyVersion=1,signature=AA=A', 'bad-signature-encoding'],
    ['algorithm=RSA256,keyVersion=1,signature===', 'bad-signature-encoding'],
  ];
  it.each(cases)('%j -> %s', (header, problem) => {
    expect(parseSignatureHeader(header)).toEqual({ ok: false, problem });
  });
});

describe('headerValue', () => {
  it('finds a header case-insensitively and takes the first of repeated values', () => {
    const headers = { 'client-id': 'abc', 'Request-Time': '1795635333060', 'content-type': ['a', 'b'] };
    expect(headerValue(headers, 'Client-Id')).toBe('abc');
    expect(headerValue(headers, 'request-time')).toBe('1795635333060');
    expect(headerValue(headers, 'Content-Type')).toBe('a');
    expect(headerValue(headers, 'Signature')).toBeUndefined();
  });
});
