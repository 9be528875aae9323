import currencyCodes from 'currency-codes';

/**
 * Amounts on the wire are `{currency, value}`: an ISO 4217 code and a string of a positive integer
 * in the currency's minor unit (its ISO 4217 exponent). In code they are bigint; never floats.
 */
export interface Amount {
  currency: string;
  value: string;
}

export interface CurrencyInfo {
  code: string;
  /** ISO 4217 minor-unit exponent: 2 for USD (cents), 0 for JPY, 3 for BHD. */
  minorUnit: number;
  name: string;
}

/**
 * ISO 4217 codes whose minor unit is "N.A." (precious metals, bond-market units, SDR, test and "no
 * currency" codes). The currency-codes package reports them with 0 digits; they are not money a wallet
 * holds, so Billetera refuses them with CURRENCY_NOT_SUPPORT. A test checks this list against the ISO
 * list-one XML the package ships.
 */
export const NON_MONETARY_CODES: ReadonlySet<string> = new Set([
  'XAG',
  'XAU',
  'XBA',
  'XBB',
  'XBC',
  'XBD',
  'XDR',
  'XPD',
  'XPT',
  'XSU',
  'XTS',
  'XUA',
  'XXX',
]);

const TABLE: ReadonlyMap<string, CurrencyInfo> = new Map(
  currencyCodes.data
    .filter((c) => !NON_MONETARY_CODES.has(c.code))
    .map((c) => [c.code, { code: c.code, minorUnit: c.digits, name: c.currency }]),
);

/** Every currency Billetera accepts: all monetary ISO 4217 codes. */
export function supportedCurrencies(): CurrencyInfo[] {
  return [...TABLE.values()];
}

export function currencyInfo(code: string): CurrencyInfo | undefined {
  return TABLE.get(code);
}

/** The largest amount one payment, refund or top-up may carry, in minor units (limit named here). */
export const MAX_AMOUNT_MINOR = 10n ** 15n - 1n;

const POSITIVE_INTEGER = /^[1-9][0-9]{0,15}$/;

/** Parses a wire value (string of a positive integer, at most 16 digits). Undefined when malformed. */
export function parseMinor(value: string): bigint | undefined {
  return POSITIVE_INTEGER.test(value) ? BigInt(value) : undefined;
}

/**
 * Formats minor units for people: `formatAmount(1999n, 'USD')` is "19.99 USD",
 * `formatAmount(1200n, 'JPY')` is "1,200 JPY". Grouping uses commas, the decimal mark a dot.
 */
export function formatAmount(minor: bigint, currency: string): string {
  const unit = currencyInfo(currency)?.minorUnit ?? 2;
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(unit + 1, '0');
  const whole = digits.slice(0, digits.length - unit).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = unit > 0 ? '.' + digits.slice(digits.length - unit) : '';
  return `${negative ? '-' : ''}${whole}${fraction} ${currency}`;
}

/**
 * Parses a decimal written by a person ("19.99", "1200", "1,200.50") into minor units of the currency.
 * Undefined when it has more decimals than the currency allows or is not a plain decimal. Commas are
 * accepted only as thousands separators (groups of three): "19,99" (a decimal comma) is refused rather
 * than read as 1999 major units.
 */
export function parseMajor(text: string, currency: string): bigint | undefined {
  const info = currencyInfo(currency);
  if (!info) return undefined;
  const match = /^([0-9]{1,3}(?:,[0-9]{3})+|[0-9]{1,16})(?:\.([0-9]+))?$/.exec(text.trim());
  if (!match) return undefined;
  const whole = (match[1] ?? '0').replace(/,/g, '');
  const fraction = match[2] ?? '';
  if (whole.length > 16 || fraction.length > info.minorUnit) return undefined;
  return BigInt(whole + fraction.padEnd(info.minorUnit, '0'));
}
