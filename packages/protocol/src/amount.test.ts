import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  MAX_AMOUNT_MINOR,
  NON_MONETARY_CODES,
  currencyInfo,
  formatAmount,
  parseMajor,
  parseMinor,
  supportedCurrencies,
} from './amount.ts';

/** `<Ccy>` and `<CcyMnrUnts>` of every entry in the ISO 4217 list-one XML that currency-codes ships. */
function isoListOne(): Array<{ code: string; minorUnits: string }> {
  const pkg = createRequire(import.meta.url).resolve('currency-codes/package.json');
  const xml = readFileSync(join(dirname(pkg), 'iso-4217-list-one.xml'), 'utf8');
  const entries = [...xml.matchAll(/<CcyNtry>([\s\S]*?)<\/CcyNtry>/g)].map((m) => m[1] ?? '');
  expect(entries.length).toBeGreaterThan(200);
  return entries.flatMap((entry) => {
    const code = /<Ccy>([^<]*)<\/Ccy>/.exec(entry)?.[1]?.trim();
    const minorUnits = /<CcyMnrUnts>([^<]*)<\/CcyMnrUnts>/.exec(entry)?.[1]?.trim();
    return code && minorUnits ? [{ code, minorUnits }] : []; // e.g. ANTARCTICA has no currency
  });
}

describe('currency table', () => {
  it('holds every monetary ISO 4217 code once', () => {
    const all = supportedCurrencies();
    expect(all.length).toBeGreaterThanOrEqual(150);
    expect(new Set(all.map((c) => c.code)).size).toBe(all.length);
    for (const c of all) {
      expect(c.code).toMatch(/^[A-Z]{3}$/);
      expect(c.name).not.toBe('');
      expect(Number.isInteger(c.minorUnit) && c.minorUnit >= 0 && c.minorUnit <= 4, c.code).toBe(true);
    }
  });

  it('knows the ISO exponents: USD 2, EUR 2, JPY 0, KRW 0, BHD 3, KWD 3, CLF 4', () => {
    const units = Object.fromEntries(
      ['USD', 'EUR', 'JPY', 'KRW', 'BHD', 'KWD', 'CLF'].map((c) => [c, currencyInfo(c)?.minorUnit]),
    );
    expect(units).toEqual({ USD: 2, EUR: 2, JPY: 0, KRW: 0, BHD: 3, KWD: 3, CLF: 4 });
    expect(currencyInfo('USD')?.name).toBe('US Dollar');
  });

  it('refuses unknown codes and lower case', () => {
    expect(currencyInfo('ABC')).toBeUndefined();
    expect(currencyInfo('usd')).toBeUndefined();
    expect(currencyInfo('')).toBeUndefined();
  });

  it('NON_MONETARY_CODES is exactly the set of ISO list-one codes whose minor unit is "N.A."', () => {
    const na = new Set(
      isoListOne()
        .filter((e) => e.minorUnits === 'N.A.')
        .map((e) => e.code),
    );
    expect(na.size).toBeGreaterThan(0);
    expect([...NON_MONETARY_CODES].sort()).toEqual([...na].sort());
  });

  it('leaves the non-monetary codes out and agrees with the ISO list on every other exponent', () => {
    for (const code of NON_MONETARY_CODES) expect(currencyInfo(code), code).toBeUndefined();
    const iso = new Map(
      isoListOne()
        .filter((e) => e.minorUnits !== 'N.A.')
        .map((e) => [e.code, Number(e.minorUnits)]),
    );
    const ours = new Map(supportedCurrencies().map((c) => [c.code, c.minorUnit]));
    expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(iso));
  });
});

describe('formatAmount', () => {
  it.each([
    [1999n, 'USD', '19.99 USD'],
    [1200n, 'JPY', '1,200 JPY'],
    [1234n, 'BHD', '1.234 BHD'],
    [5n, 'USD', '0.05 USD'],
    [100n, 'USD', '1.00 USD'],
    [0n, 'JPY', '0 JPY'],
    [0n, 'USD', '0.00 USD'],
    [12345n, 'CLF', '1.2345 CLF'],
    [123456789n, 'USD', '1,234,567.89 USD'],
    [-150n, 'USD', '-1.50 USD'],
    [999_999_999_999_999n, 'JPY', '999,999,999,999,999 JPY'],
  ])('%s %s -> %s', (minor, currency, text) => {
    expect(formatAmount(minor, currency)).toBe(text);
  });
});

describe('parseMajor', () => {
  it.each([
    ['19.99', 'USD', 1999n],
    ['19.9', 'USD', 1990n],
    ['19', 'USD', 1900n],
    ['0.05', 'USD', 5n],
    [' 19.99 ', 'USD', 1999n],
    ['1200', 'JPY', 1200n],
    ['1,200', 'JPY', 1200n],
    ['1,234,567.89', 'USD', 123456789n],
    ['1234567.89', 'USD', 123456789n],
    ['1.234', 'BHD', 1234n],
    ['1.2345', 'CLF', 12345n],
  ])('%j %s -> %s', (text, currency, minor) => {
    expect(parseMajor(text, currency)).toBe(minor);
  });

  it.each([
    ['19.999', 'USD'], // more decimals than the currency has
    ['1.5', 'JPY'],
    ['1.2345', 'BHD'],
    ['', 'USD'],
    ['abc', 'USD'],
    ['-1', 'USD'],
    ['+1', 'USD'],
    ['1e3', 'USD'],
    ['1.', 'USD'],
    ['.5', 'USD'],
    ['19,99', 'EUR'], // a decimal comma: refused, never read as 1999 EUR
    ['1,2,3', 'USD'],
    ['1,20', 'JPY'],
    [',100', 'USD'],
    ['1,000,', 'USD'],
    ['12345678901234567', 'JPY'], // 17 digits
    ['12,345,678,901,234,567', 'JPY'],
  ])('%j %s -> undefined', (text, currency) => {
    expect(parseMajor(text, currency)).toBeUndefined();
  });

  it('refuses currencies it does not support', () => {
    expect(parseMajor('1', 'XAU')).toBeUndefined();
    expect(parseMajor('1', 'ABC')).toBeUndefined();
  });
});

describe('parseMinor', () => {
  it('reads positive integers of 1 to 16 digits', () => {
    expect(parseMinor('1')).toBe(1n);
    expect(parseMinor('1999')).toBe(1999n);
    expect(parseMinor('9999999999999999')).toBe(9_999_999_999_999_999n); // 16 digits: the wire limit
    expect(parseMinor(MAX_AMOUNT_MINOR.toString())).toBe(MAX_AMOUNT_MINOR);
  });

  it.each([
    '10000000000000000', // 17 digits
    '0',
    '01', // leading zero
    '00',
    '-1',
    '+1',
    '1.0',
    '1e3',
    ' 1',
    '1 ',
    '',
    '１２', // full-width digits
  ])('refuses %j', (value) => {
    expect(parseMinor(value)).toBeUndefined();
  });

  it('MAX_AMOUNT_MINOR is 15 nines (the business limit, below the 16-digit wire limit)', () => {
    expect(MAX_AMOUNT_MINOR).toBe(999_999_999_999_999n);
  });
});
